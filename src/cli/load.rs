//! Reading scenario files: bounded in size, UTF-8, validated, with warnings printed.

use std::path::Path;

use crate::scenario::{self, Override, Scenario};

/// Reads a scenario file, refusing one past the size limit of a scenario
/// without reading more than the limit (`meshsim check /dev/zero`).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let limit = crate::scenario::node::MAX_FILE_BYTES;
    let cannot = |e: std::io::Error| format!("error: cannot read {}: {e}\n", path.display());
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > limit {
        return Err(format!(
            "error: {}: the file is larger than {limit} bytes, the limit of a scenario file\n",
            path.display()
        ));
    }
    Ok(bytes)
}

/// Reads a scenario file as text; the error is the message to print.
pub fn read_text(path: &Path) -> Result<(String, String), String> {
    let source = path.display().to_string();
    let bytes = read_bytes(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("error: {source}: the file is not UTF-8 text\n"))?;
    Ok((text, source))
}

/// Reads and validates a scenario; the error is the message to print.
pub fn load(path: &Path, set: &[String]) -> Result<Scenario, String> {
    let overrides = set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("error: {e}\n"))?;
    let source = path.display().to_string();
    let bytes = read_bytes(path)?;
    let s = scenario::load_bytes(&bytes, &source, &overrides).map_err(|e| e.render())?;
    eprint!(
        "{}",
        scenario::render_warnings(&s, &String::from_utf8_lossy(&bytes))
    );
    Ok(s)
}
