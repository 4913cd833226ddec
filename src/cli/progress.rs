//! A progress bar on stderr, shown only when stderr is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::Time;
use crate::engine::time::MILLISECOND;

pub struct Bar {
    bar: Option<ProgressBar>,
    started: std::time::Instant,
}

impl Bar {
    /// A bar over `end` of simulated time; hidden unless `visible`.
    pub fn new(visible: bool, end: Time) -> Bar {
        let bar = visible.then(|| {
            let b = ProgressBar::with_draw_target(
                Some(end / MILLISECOND),
                ProgressDrawTarget::stderr(),
            );
            b.set_style(
                ProgressStyle::with_template("{bar:40} {msg} simulated, ETA {eta}")
                    .expect("valid template"),
            );
            b
        });
        Bar {
            bar,
            started: std::time::Instant::now(),
        }
    }

    pub fn update(&mut self, t: Time, events: u64) {
        if let Some(b) = &self.bar {
            b.set_position(t / MILLISECOND);
            let rate = events as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            b.set_message(format!(
                "{:.1}s, {:.1}M events/s,",
                t as f64 / 1e9,
                rate / 1e6
            ));
        }
    }

    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// A count of finished items (sweep points) on stderr, when it is a terminal.
pub struct Counter {
    bar: Option<ProgressBar>,
}

impl Counter {
    pub fn new(total: u64) -> Counter {
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} points, ETA {eta}")
                    .expect("valid template"),
            );
            b
        });
        Counter { bar }
    }

    pub fn inc(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
