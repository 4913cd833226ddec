//! Where outputs go by default, and the files written one by one: a sweep's
//! journal (`points/`) is written as each point finishes, each file to a
//! temporary name and renamed, so an interrupted sweep never leaves half a
//! file. Report folders are built whole and swapped in (`staging.rs`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `reports/<name>/`, with the name reduced to characters safe in a path.
pub fn default_dir(name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    Path::new("reports").join(if safe.is_empty() { "scenario" } else { safe })
}

/// Writes each (file name, bytes) into `dir`, creating it, atomically per file.
pub fn write_all<N: AsRef<str>>(dir: &Path, files: &[(N, Vec<u8>)]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    for (name, bytes) in files {
        let name = name.as_ref();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, dir.join(name))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary name beside it, renamed: the
/// old file or the new one, never half of one (`run --metrics`, `import --out`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let cannot = |e: std::io::Error| format!("error: cannot write to {}: {e}\n", path.display());
    fs::write(&tmp, bytes).map_err(cannot)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        cannot(e)
    })
}
