//! Report folders written whole or not at all. A command checks its `--out`
//! before simulating by making a staging folder beside it
//! (`<parent>/.<name>.staging-<pid>`) and writing a probe there; it builds
//! its whole output in that folder and swaps it in at the end.
//!
//! The swap is one `renameat2(RENAME_EXCHANGE)` on Linux, so the target is
//! always the old folder or the new one. Where the file system cannot
//! exchange, the old folder is renamed aside (`.<name>.old-<pid>`), the
//! staging folder renamed in, and the old removed: between the two renames
//! (microseconds) the target is missing, and if the process dies there the
//! next write restores the old folder. Leftovers of processes that are no
//! longer alive are removed by the next write beside them.
//!
//! A target is replaced whole, so it must be new, empty, or made by meshsim
//! (it holds [`MARKER`], or only names meshsim writes): a folder of other
//! files is refused, never deleted.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::signals;

/// In every folder meshsim writes: it may be replaced whole.
pub const MARKER: &str = ".meshsim-output";
const MARKER_TEXT: &str =
    "Written by meshsim. The next meshsim command writing here replaces this folder whole.\n";

/// What earlier versions wrote before the marker existed.
const KNOWN: [&str; 19] = [
    "summary.json",
    "run.json",
    "report.html",
    "timeseries.csv",
    "metrics.om",
    "traces.json",
    "compare.json",
    "plan.json",
    "sweep.csv",
    "sweep.json",
    "sweep.html",
    "slo.png",
    "latency_cdf.png",
    "latency_over_time.png",
    "throughput.png",
    "utilization.png",
    "event_latency_over_time.png",
    "consumer_lag.png",
    "breakers.png",
];

/// An output being built; removed unless [`Staging::commit`] swaps it in.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    dir: PathBuf,
    committed: bool,
}

/// "error: cannot write to PATH: WHY".
fn cannot(path: &Path, why: impl std::fmt::Display) -> String {
    format!("error: cannot write to {}: {why}\n", path.display())
}

impl Staging {
    /// Checks that `target` can take an output and makes its staging folder:
    /// called right after the input is loaded, before anything is simulated.
    pub fn begin(target: &Path) -> Result<Staging, String> {
        let shown = target;
        let target = resolve(target).map_err(|e| cannot(shown, e))?;
        let (parent, name) = split(&target).ok_or_else(|| cannot(shown, "not a folder name"))?;
        check_kind(&target).map_err(|e| cannot(shown, e))?;
        fs::create_dir_all(&parent).map_err(|e| cannot(shown, explain(e)))?;
        recover(&parent, &name, &target);
        check_owned(&target).map_err(|e| cannot(shown, e))?;
        let dir = parent.join(format!(".{name}.staging-{}", std::process::id()));
        {
            let mut doomed = signals::lock();
            fs::create_dir(&dir).map_err(|e| cannot(shown, explain(e)))?;
            doomed.push(dir.clone());
        }
        let staging = Staging {
            target,
            dir,
            committed: false,
        };
        probe(&staging.dir).map_err(|e| cannot(shown, explain(e)))?;
        writable(&staging.target).map_err(|e| cannot(shown, explain(e)))?;
        Ok(staging)
    }

    /// The folder the output goes to (what `--out` named, links resolved).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes each (file name, bytes) into the staging folder.
    pub fn write<N: AsRef<str>>(&self, files: &[(N, Vec<u8>)]) -> Result<(), String> {
        for (name, bytes) in files {
            write_synced(&self.dir.join(name.as_ref()), bytes)
                .map_err(|e| cannot(&self.target, e))?;
        }
        Ok(())
    }

    /// Writes file `name` into the staging folder through `fill`, buffered and
    /// synced: for a file too big to hold in memory first.
    pub fn write_with<T>(
        &self,
        name: &str,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<T>,
    ) -> Result<T, String> {
        let go = || -> std::io::Result<T> {
            let mut w = std::io::BufWriter::new(fs::File::create(self.dir.join(name))?);
            let t = fill(&mut w)?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            Ok(t)
        };
        go().map_err(|e| cannot(&self.target, e))
    }

    /// Brings the target's subfolder `sub` (a sweep's `points/`) into the new
    /// output: hard links where the file system allows, copies elsewhere.
    pub fn carry_over(&self, sub: &str) -> Result<(), String> {
        let Ok(entries) = fs::read_dir(self.target.join(sub)) else {
            return Ok(());
        };
        let to = self.dir.join(sub);
        fs::create_dir_all(&to).map_err(|e| cannot(&self.target, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if !is_file || name.to_string_lossy().starts_with('.') {
                continue;
            }
            let (from, dest) = (entry.path(), to.join(&name));
            if fs::hard_link(&from, &dest).is_err() {
                fs::copy(&from, &dest).map_err(|e| cannot(&self.target, e))?;
            }
        }
        Ok(())
    }

    /// Swaps the staged output in place of the target, then removes the old one.
    pub fn commit(mut self) -> Result<(), String> {
        write_synced(&self.dir.join(MARKER), MARKER_TEXT.as_bytes())
            .map_err(|e| cannot(&self.target, e))?;
        sync_dir(&self.dir);
        let old = {
            let mut doomed = signals::lock();
            let old = swap(&self.dir, &self.target).map_err(|e| cannot(&self.target, e))?;
            signals::forget(&mut doomed, &self.dir);
            doomed.extend(old.clone());
            old
        };
        self.committed = true;
        if let Some(old) = old {
            if let Err(e) = fs::remove_dir_all(&old) {
                eprintln!("meshsim: could not remove {}: {e}", old.display());
            }
            signals::forget(&mut signals::lock(), &old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    /// An output never committed (an error, a panic) is removed.
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let mut doomed = signals::lock();
        let _ = fs::remove_dir_all(&self.dir);
        signals::forget(&mut doomed, &self.dir);
    }
}

/// The folder meant: a link is followed, and `.` or `..` made absolute.
fn resolve(target: &Path) -> std::io::Result<PathBuf> {
    let is_link = fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink());
    if is_link || target.file_name().is_none() {
        fs::canonicalize(target)
    } else {
        Ok(target.to_path_buf())
    }
}

/// (parent folder, last name) of a target.
fn split(target: &Path) -> Option<(PathBuf, String)> {
    let name = target.file_name()?.to_str()?.to_string();
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((parent, name))
}

/// An existing target must be a folder.
fn check_kind(target: &Path) -> Result<(), String> {
    match fs::symlink_metadata(target) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) if m.is_file() => Err("it is a file, not a folder".into()),
        Ok(_) => Err("it exists and is not a folder".into()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(explain(e)),
    }
}

/// An error, with what it means for a path.
fn explain(e: std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotADirectory => "a part of the path is a file, not a folder".into(),
        ErrorKind::AlreadyExists => format!("{e} (a part of the path is a file?)"),
        _ => e.to_string(),
    }
}

/// An existing target must be empty or meshsim's, as it will be replaced whole.
fn check_owned(target: &Path) -> Result<(), String> {
    let Ok(entries) = fs::read_dir(target) else {
        return Ok(());
    };
    let names: Vec<(String, bool)> = entries
        .flatten()
        .map(|e| {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (e.file_name().to_string_lossy().into_owned(), is_dir)
        })
        .collect();
    if names.iter().any(|(n, _)| n == MARKER) {
        return Ok(());
    }
    let mut foreign: Vec<&str> = names
        .iter()
        .filter(|(n, is_dir)| !written_by_meshsim(n, *is_dir))
        .map(|(n, _)| n.as_str())
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort_unstable();
    let more = foreign.len().saturating_sub(3);
    Err(format!(
        "it holds files meshsim did not write ({}{}); meshsim replaces its output folder whole, so name a new or empty folder",
        foreign[..foreign.len().min(3)].join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// A name an earlier meshsim wrote in an output folder.
fn written_by_meshsim(name: &str, is_dir: bool) -> bool {
    if is_dir {
        return name == "points";
    }
    let compare_summary = name.strip_suffix(".summary.json").is_some_and(|s| {
        s.split_once('-')
            .is_some_and(|(i, _)| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
    });
    let temporary = name.starts_with('.') && pid_after(name, ".tmp-").is_some();
    KNOWN.contains(&name) || compare_summary || temporary
}

/// The process id at the end of `name`, after `tag`.
fn pid_after(name: &str, tag: &str) -> Option<u32> {
    let (_, pid) = name.rsplit_once(tag)?;
    pid.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| pid.parse().ok())
        .flatten()
}

/// Restores a target lost in a killed swap and removes the staging and old
/// folders of processes that are no longer alive.
fn recover(parent: &Path, name: &str, target: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let (staging, old) = (format!(".{name}.staging-"), format!(".{name}.old-"));
    let mut leftovers: Vec<(PathBuf, bool)> = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let found = [(&staging, false), (&old, true)]
            .into_iter()
            .find_map(|(tag, is_old)| Some((file.strip_prefix(tag.as_str())?, is_old)));
        if let Some((pid, is_old)) = found
            && let Ok(pid) = pid.parse::<u32>()
            && !alive(pid)
        {
            leftovers.push((entry.path(), is_old));
        }
    }
    if fs::symlink_metadata(target).is_err()
        && let Some((old, _)) = leftovers.iter().find(|(_, is_old)| *is_old)
        && fs::rename(old, target).is_ok()
    {
        eprintln!(
            "meshsim: restored {} from a write that was interrupted",
            target.display()
        );
    }
    for (path, _) in leftovers {
        let _ = fs::remove_dir_all(path);
    }
}

/// Removes the temporary files (`.<name>.tmp-<pid>`) that dead processes
/// left in `dir` (a sweep's `points/`, written file by file).
pub fn remove_dead_temporaries(dir: &Path) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && pid_after(&name, ".tmp-").is_some_and(|pid| !alive(pid)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether a process other than this one is running under `pid`.
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(id) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid == std::process::id() || id <= 0 {
        return false; // ours were made by a dead process of the same id
    }
    // SAFETY: signal 0 sends nothing; it only asks whether the process exists.
    let r = unsafe { libc::kill(id, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Without a way to ask, every other process is taken as alive.
#[cfg(not(unix))]
fn alive(pid: u32) -> bool {
    pid != std::process::id()
}

/// Writes and removes a small file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(format!(".meshsim-probe-{}", std::process::id()));
    write_synced(&path, b"probe\n")?;
    fs::remove_file(path)
}

/// An existing target must be writable (its old files are removed after
/// the swap); asked without writing in it, so a kill leaves it untouched.
#[cfg(unix)]
fn writable(target: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    if !target.is_dir() {
        return Ok(());
    }
    let path =
        std::ffi::CString::new(target.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: a NUL-terminated path that lives across the call.
    if unsafe { libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere a read-only folder shows when its old files cannot be removed.
#[cfg(not(unix))]
fn writable(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Writes a file and waits until it is on disk.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Flushes a folder's entries (best effort: not every system allows it).
fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Puts `staging` in place of `target`; returns where the old output now is.
fn swap(staging: &Path, target: &Path) -> std::io::Result<Option<PathBuf>> {
    let parent = target.parent().unwrap_or(Path::new("."));
    if fs::symlink_metadata(target).is_err() {
        fs::rename(staging, target)?;
        sync_dir(parent);
        return Ok(None);
    }
    if exchange(staging, target).is_ok() {
        sync_dir(parent);
        return Ok(Some(staging.to_path_buf()));
    }
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    fs::rename(target, &old)?;
    if let Err(e) = fs::rename(staging, target) {
        let _ = fs::rename(&old, target);
        return Err(e);
    }
    sync_dir(parent);
    Ok(Some(old))
}

/// Swaps two paths atomically (Linux 3.15+, on most file systems).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere the two renames of [`swap`] are used.
#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id of a process that has ended.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        child.id()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_replaces_the_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("report.html"), "old").unwrap();
        fs::write(out.join("summary.json"), "old").unwrap();
        let stage = Staging::begin(&out).unwrap();
        stage.write(&[("summary.json", b"new".to_vec())]).unwrap();
        assert_eq!(fs::read(out.join("summary.json")).unwrap(), b"old");
        stage.commit().unwrap();
        assert_eq!(names(&out), [MARKER, "summary.json"]);
        assert_eq!(fs::read(out.join("summary.json")).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["out"]);
        drop(Staging::begin(&out).unwrap());
        assert_eq!(names(dir.path()), ["out"], "an abandoned stage is removed");
    }

    #[test]
    fn a_lost_target_is_restored_and_leftovers_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (d, pid) = (dir.path(), dead_pid());
        for kind in ["old", "staging"] {
            let left = d.join(format!(".out.{kind}-{pid}"));
            fs::create_dir(&left).unwrap();
            fs::write(left.join("summary.json"), kind).unwrap();
        }
        fs::create_dir(d.join(format!(".other.old-{pid}"))).unwrap();
        let stage = Staging::begin(&d.join("out")).unwrap();
        assert_eq!(fs::read(d.join("out/summary.json")).unwrap(), b"old");
        drop(stage);
        assert_eq!(names(d), [format!(".other.old-{pid}"), "out".into()]);
    }

    #[test]
    fn a_folder_of_other_files_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("summary.json"), "").unwrap();
        fs::write(out.join("thesis.tex"), "").unwrap();
        let err = Staging::begin(&out).unwrap_err();
        assert!(err.contains("meshsim did not write (thesis.tex)"), "{err}");
        assert_eq!(names(dir.path()), ["out"]);
        fs::write(out.join(MARKER), "").unwrap();
        assert!(Staging::begin(&out).is_ok(), "meshsim's, by its marker");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn exchange_swaps_two_folders() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for (p, text) in [(&a, "a"), (&b, "b")] {
            fs::create_dir(p).unwrap();
            fs::write(p.join("f"), text).unwrap();
        }
        exchange(&a, &b).unwrap();
        assert_eq!(fs::read(a.join("f")).unwrap(), b"b");
        assert_eq!(fs::read(b.join("f")).unwrap(), b"a");
    }
}
