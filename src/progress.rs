//! Progress on the terminal: bars with ETA when stderr is a terminal, plain log lines otherwise.
//! [`Reporter`] is the pipelines' [`Progress`]; [`StudyBars`] the study runner's [`StudyObserver`].

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rsei_pipeline::progress::Progress;
use rsei_pipeline::study::{StudyObserver, UnitObserver};

/// A terminal progress bar, or log lines to stderr every 10 % when stderr is not a terminal.
pub struct Reporter {
    bar: Option<ProgressBar>,
    done: AtomicU64,
    total: AtomicU64,
    last_logged: Mutex<(u64, Instant)>,
    quiet: bool,
}

/// The look of a [`Reporter`]'s bar.
fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} ETA {eta} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Reporter {
    /// A reporter; `quiet` hides the bar and the log lines (warnings are still printed).
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(8));
            b.set_style(bar_style());
            b
        });
        Reporter::with_bar(bar, quiet)
    }
    /// A reporter drawing into `bar` (`None`: log lines, as without a terminal).
    fn with_bar(bar: Option<ProgressBar>, quiet: bool) -> Self {
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

/// The progress of a whole study run.
pub struct StudyBars {
    mp: Option<MultiProgress>,
    overall: OnceLock<ProgressBar>,
    quiet: bool,
    total: AtomicUsize,
    done: AtomicUsize,
}

impl StudyBars {
    /// Bars when stderr is a terminal (and not `quiet`), log lines otherwise.
    pub fn new(quiet: bool) -> StudyBars {
        let mp = (!quiet && std::io::stderr().is_terminal()).then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)));
        StudyBars { mp, overall: OnceLock::new(), quiet, total: AtomicUsize::new(0), done: AtomicUsize::new(0) }
    }
}

/// A step of a study run shown as `rsei compute` shows it (a bar with ETA, or log lines); its bar
/// is removed when it ends.
struct TaskBar<'a> {
    reporter: Reporter,
    mp: Option<&'a MultiProgress>,
}

impl Drop for TaskBar<'_> {
    fn drop(&mut self) {
        if let Some(b) = &self.reporter.bar {
            b.finish_and_clear();
            if let Some(mp) = self.mp {
                mp.remove(b);
            }
        }
    }
}

impl Progress for TaskBar<'_> {
    fn inc(&self, n: u64) {
        self.reporter.inc(n);
    }
    fn add_total(&self, n: u64) {
        self.reporter.add_total(n);
    }
    fn message(&self, msg: &str) {
        self.reporter.message(msg);
    }
    fn println(&self, line: &str) {
        match self.mp {
            Some(mp) if mp.println(line).is_ok() => {}
            _ => eprintln!("{line}"),
        }
    }
}

impl StudyObserver for StudyBars {
    /// A step that is not a unit (the search and fetch of a catalogue): a bar with ETA.
    fn task<'a>(&'a self, _label: &str) -> Box<dyn Progress + 'a> {
        let bar = self.mp.as_ref().map(|mp| {
            let b = mp.add(ProgressBar::new(0));
            b.set_style(bar_style());
            b.enable_steady_tick(std::time::Duration::from_millis(250));
            b
        });
        Box::new(TaskBar { reporter: Reporter::with_bar(bar, self.quiet), mp: self.mp.as_ref() })
    }

    /// Starts the overall bar for `n` units to compute.
    fn start(&self, n: usize) {
        self.total.store(n, Ordering::Relaxed);
        if let Some(mp) = &self.mp {
            let b = mp.add(ProgressBar::new(n as u64));
            b.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] units {bar:30} {pos}/{len} ETA {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(std::time::Duration::from_millis(250));
            let _ = self.overall.set(b);
        }
    }

    /// A line of the run's log (decisions, finished units); hidden by `quiet`.
    fn log(&self, line: &str) {
        if self.quiet {
            return;
        }
        self.println(line);
    }

    /// A line that must be seen (warnings, failures), even when `quiet`.
    fn println(&self, line: &str) {
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
    fn unit<'a>(&'a self, label: &str) -> Box<dyn UnitObserver + 'a> {
        let bar = self.mp.as_ref().map(|mp| {
            let b = mp.add(ProgressBar::new(0));
            b.set_style(ProgressStyle::with_template("  {spinner} {prefix:32} {bar:20} {pos}/{len} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()));
            b.set_prefix(label.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(250));
            b
        });
        Box::new(UnitProgress { parent: self, bar, label: label.to_string(), start: Instant::now() })
    }

    /// Clears the bars.
    fn finish(&self) {
        if let Some(b) = self.overall.get() {
            b.finish_and_clear();
        }
        if let Some(mp) = &self.mp {
            let _ = mp.clear();
        }
    }
}

/// The progress of one unit (a [`Progress`] for the pipelines).
struct UnitProgress<'a> {
    parent: &'a StudyBars,
    bar: Option<ProgressBar>,
    label: String,
    start: Instant,
}

impl UnitObserver for UnitProgress<'_> {
    /// A remark of the unit (notes of the readers and analyses); hidden by `quiet`.
    fn note(&self, line: &str) {
        self.parent.log(line);
    }

    /// Ends the unit: removes its bar, advances the overall bar and logs the outcome.
    fn done(self: Box<Self>, outcome: &str) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
            if let Some(mp) = &self.parent.mp {
                mp.remove(b);
            }
        }
        let k = self.parent.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(o) = self.parent.overall.get() {
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
