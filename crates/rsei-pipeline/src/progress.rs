//! Progress of long work, told to whoever called the pipeline.
//!
//! The pipelines never print: they count work done through a [`Progress`] and pass remarks
//! (notes, warnings) to it. The command line implements it with a terminal bar with ETA; tests use
//! a [`Recorder`]; library callers that want nothing use [`Silent`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Something that can be told about progress; shared across threads.
pub trait Progress: Sync {
    /// `n` more units done.
    fn inc(&self, n: u64);
    /// Adds `n` units to the expected total.
    fn add_total(&self, n: u64);
    /// A short status text.
    fn message(&self, msg: &str);
    /// A line that must be seen (notes, warnings), shown without disturbing a bar.
    fn println(&self, line: &str);
}

/// No output at all.
pub struct Silent;

impl Progress for Silent {
    fn inc(&self, _: u64) {}
    fn add_total(&self, _: u64) {}
    fn message(&self, _: &str) {}
    fn println(&self, _: &str) {}
}

/// Keeps what it is told: units done and expected, messages and lines (for tests, and for callers
/// that show them afterwards).
#[derive(Default)]
pub struct Recorder {
    done: AtomicU64,
    total: AtomicU64,
    messages: Mutex<Vec<String>>,
    lines: Mutex<Vec<String>>,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Recorder {
        Recorder::default()
    }
    /// Units done so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
    /// Units expected so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
    /// The status messages, in order.
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }
    /// The lines that must be seen, in order.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Progress for Recorder {
    fn inc(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    fn add_total(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
    }
    fn message(&self, msg: &str) {
        if let Ok(mut m) = self.messages.lock() {
            m.push(msg.to_string());
        }
    }
    fn println(&self, line: &str) {
        if let Ok(mut m) = self.lines.lock() {
            m.push(line.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_keeps_counts_and_lines_across_threads() {
        let r = Recorder::new();
        r.add_total(10);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..5 {
                        r.inc(1);
                    }
                });
            }
        });
        r.message("reading");
        r.println("note: x");
        assert_eq!((r.done(), r.total()), (10, 10));
        assert_eq!(r.messages(), ["reading"]);
        assert_eq!(r.lines(), ["note: x"]);
    }
}
