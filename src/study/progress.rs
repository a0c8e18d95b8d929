//! Progress of a study run: in a terminal, an overall bar of units with ETA and one bar per unit
//! being computed; otherwise plain log lines (one per decision and per finished unit).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::Progress;

/// The progress of a whole study run.
pub struct StudyProgress {
    mp: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    quiet: bool,
    total: AtomicUsize,
    done: AtomicUsize,
    start: Instant,
}

impl StudyProgress {
    /// Bars when stderr is a terminal (and not `quiet`), log lines otherwise.
    pub fn new(quiet: bool) -> StudyProgress {
        let mp = (!quiet && std::io::stderr().is_terminal()).then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)));
        StudyProgress { mp, overall: None, quiet, total: AtomicUsize::new(0), done: AtomicUsize::new(0), start: Instant::now() }
    }

    /// Starts the overall bar for `n` units to compute.
    pub fn start(&mut self, n: usize) {
        self.total.store(n, Ordering::Relaxed);
        if let Some(mp) = &self.mp {
            let b = mp.add(ProgressBar::new(n as u64));
            b.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] units {bar:30} {pos}/{len} ETA {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(std::time::Duration::from_millis(250));
            self.overall = Some(b);
        }
    }

    /// A line of the run's log (decisions, finished units); hidden by `quiet`.
    pub fn log(&self, line: &str) {
        if self.quiet {
            return;
        }
        self.println(line);
    }

    /// A line that must be seen (warnings, failures), even when `quiet`.
    pub fn println(&self, line: &str) {
        match &self.mp {
            Some(mp) => {
                if mp.println(line).is_err() {
                    eprintln!("{line}");
                }
            }
            None => eprintln!("{line}"),
        }
    }

    /// The progress of one unit being computed.
    pub fn unit(&self, label: &str) -> UnitProgress<'_> {
        let bar = self.mp.as_ref().map(|mp| {
            let b = mp.add(ProgressBar::new(0));
            b.set_style(ProgressStyle::with_template("  {spinner} {prefix:32} {bar:20} {pos}/{len} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()));
            b.set_prefix(label.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(250));
            b
        });
        UnitProgress { parent: self, bar, label: label.to_string(), start: Instant::now() }
    }

    /// Seconds since the start.
    pub fn elapsed_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Clears the bars.
    pub fn finish(&self) {
        if let Some(b) = &self.overall {
            b.finish_and_clear();
        }
        if let Some(mp) = &self.mp {
            let _ = mp.clear();
        }
    }
}

/// The progress of one unit (a [`Progress`] for the pipelines).
pub struct UnitProgress<'a> {
    parent: &'a StudyProgress,
    bar: Option<ProgressBar>,
    label: String,
    start: Instant,
}

impl UnitProgress<'_> {
    /// A remark of the unit (notes of the readers and analyses); hidden by `quiet`.
    pub fn note(&self, line: &str) {
        self.parent.log(line);
    }

    /// Ends the unit: removes its bar, advances the overall bar and logs the outcome.
    pub fn done(self, outcome: &str) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
            if let Some(mp) = &self.parent.mp {
                mp.remove(b);
            }
        }
        let k = self.parent.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(o) = &self.parent.overall {
            o.inc(1);
        }
        let n = self.parent.total.load(Ordering::Relaxed);
        let w = n.to_string().len();
        self.parent.log(&format!("[{k:>w$}/{n}] {outcome} {} in {:.1} s", self.label, self.start.elapsed().as_secs_f64()));
    }
}

impl Progress for UnitProgress<'_> {
    fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
    fn add_total(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc_length(n);
        }
    }
    fn message(&self, msg: &str) {
        if let Some(b) = &self.bar {
            // the pipelines prefix their messages with the area (and year), shown already
            let short = msg.rsplit(": ").next().unwrap_or(msg);
            b.set_message(short.to_string());
        }
    }
    fn println(&self, line: &str) {
        self.parent.println(line);
    }
}
