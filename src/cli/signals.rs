//! SIGINT and SIGTERM: a command stopped by Ctrl-C or `kill` removes the
//! output it was staging and exits 130 or 143 (128 + the signal), leaving the
//! previous report as it was. A sweep's finished points stay in `points/`.
//!
//! The signal is taken on a thread of ours (signal-hook's iterator), not in a
//! signal handler, so removing folders is safe. Staging folders register here
//! while they exist; the swap of a report holds the same lock, so a signal
//! lands either before the swap (the old report stays) or after it (the new
//! one is whole).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The folders to remove if a signal comes: this process's staging folders.
static DOOMED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The registry, locked: hold it across a step that must not be cut.
pub fn lock() -> MutexGuard<'static, Vec<PathBuf>> {
    DOOMED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Forgets `dir` (it was swapped in or removed).
pub fn forget(doomed: &mut Vec<PathBuf>, dir: &Path) {
    doomed.retain(|d| d != dir);
}

/// Starts the thread that waits for SIGINT and SIGTERM; once, at start.
#[cfg(unix)]
pub fn install() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let doomed = lock();
            for dir in doomed.iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            eprintln!("\nmeshsim: stopped by {name}; the output folder is left as it was");
            std::process::exit(128 + signal);
        }
    });
}

/// Without Unix signals, the platform's default (the process ends).
#[cfg(not(unix))]
pub fn install() {}
