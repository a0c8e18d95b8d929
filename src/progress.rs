//! Progress of long work: a bar with ETA in a terminal, plain log lines otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Something that can be told about progress; shared across threads.
pub trait Progress: Sync {
    /// `n` more units done.
    fn inc(&self, n: u64);
    /// Adds `n` units to the expected total.
    fn add_total(&self, n: u64);
    /// A short status text.
    fn message(&self, msg: &str);
    /// A line that must be seen (warnings), printed without disturbing a bar.
    fn println(&self, line: &str);
}

/// No output at all (tests, library use).
pub struct Silent;

impl Progress for Silent {
    fn inc(&self, _: u64) {}
    fn add_total(&self, _: u64) {}
    fn message(&self, _: &str) {}
    fn println(&self, _: &str) {}
}

/// A terminal progress bar, or log lines to stderr every 10 % when stderr is not a terminal.
pub struct Reporter {
    bar: Option<ProgressBar>,
    done: AtomicU64,
    total: AtomicU64,
    last_logged: Mutex<(u64, Instant)>,
    quiet: bool,
}

impl Reporter {
    /// A reporter; `quiet` hides the bar and the log lines (warnings are still printed).
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(8));
            b.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} ETA {eta} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Reporter { bar, done: AtomicU64::new(0), total: AtomicU64::new(0), last_logged: Mutex::new((0, Instant::now())), quiet }
    }
    /// Ends the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Reporter {
    fn inc(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &self.bar {
            b.inc(n);
        } else if !self.quiet {
            let total = self.total.load(Ordering::Relaxed).max(1);
            let pct = done * 100 / total;
            if let Ok(mut last) = self.last_logged.lock() {
                if pct >= last.0 + 10 || (done == total && last.0 < 100) {
                    last.0 = pct - pct % 10;
                    eprintln!("progress: {pct}% ({done}/{total}) after {:.1} s", last.1.elapsed().as_secs_f64());
                }
            }
        }
    }
    fn add_total(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.inc_length(n);
        }
    }
    fn message(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
        } else if !self.quiet {
            eprintln!("{msg}");
        }
    }
    fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}
