//! Trace files opened for `import`: each checked against the budget's size
//! limit, then streamed through an [`crate::import::Reader`] (which reads any
//! `io::Read` and touches no disk itself).

use std::fs::File;
use std::path::Path;

use crate::import::{Budget, Format, ImportError, Reader, Spans};

/// Reads the files in order into one set of spans, within the default budget.
pub fn read_files<P: AsRef<Path>>(paths: &[P], format: Format) -> Result<Spans, ImportError> {
    read_files_with(paths, format, Budget::default())
}

/// [`read_files`] with a budget of one's own.
pub fn read_files_with<P: AsRef<Path>>(
    paths: &[P],
    format: Format,
    budget: Budget,
) -> Result<Spans, ImportError> {
    let mut reader = Reader::new(budget);
    for p in paths {
        read_file(&mut reader, p.as_ref(), format)?;
    }
    Ok(reader.finish())
}

/// Reads one file (checking its size on disk against the budget first).
fn read_file(reader: &mut Reader, path: &Path, format: Format) -> Result<(), ImportError> {
    let name = path.display().to_string();
    let file =
        File::open(path).map_err(|e| ImportError::new(&name, format!("cannot open: {e}")))?;
    let len = file
        .metadata()
        .map_err(|e| ImportError::new(&name, format!("cannot read: {e}")))?
        .len();
    let max = reader.budget().max_file_bytes;
    if len > max {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let message = format!(
            "{:.2} GiB is over the {:.2} GiB limit for one file; split it (JSON Lines split at any line)",
            gib(len),
            gib(max)
        );
        return Err(ImportError::new(&name, message));
    }
    reader.read(&name, file, format)
}
