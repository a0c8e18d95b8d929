//! What a study run tells its caller while it works: decisions, finished units, warnings.
//!
//! The runner reports through a [`StudyObserver`]; the command line implements it with terminal
//! bars (an overall bar of units with ETA and one bar per unit being computed) or log lines, a
//! test with a [`StudyRecorder`], a library caller with [`SilentStudy`] or its own.

use std::sync::Mutex;

use crate::progress::Progress;

/// Receives the progress of a whole study run; shared across the threads of the run.
pub trait StudyObserver: Sync {
    /// `n` units are about to be computed (the others are reused).
    fn start(&self, n: usize);
    /// A line of the run's log (decisions, finished units); a terminal may hide it when quiet.
    fn log(&self, line: &str);
    /// A line that must be seen (warnings, failures).
    fn println(&self, line: &str);
    /// The progress of one unit being computed, labelled as in the log.
    fn unit<'a>(&'a self, label: &str) -> Box<dyn UnitObserver + 'a>;
    /// The run is over (bars can be cleared).
    fn finish(&self);
    /// The progress of a step of the run that is not a unit (the search and the fetch of a
    /// catalogue), labelled; it ends when dropped. By default its messages go to the log and its
    /// counts are not shown.
    fn task<'a>(&'a self, label: &str) -> Box<dyn Progress + 'a> {
        Box::new(LogTask { parent: self, label: label.to_string() })
    }
}

/// A step told through [`StudyObserver::log`] (the default of [`StudyObserver::task`]).
struct LogTask<'a, O: StudyObserver + ?Sized> {
    parent: &'a O,
    label: String,
}

impl<O: StudyObserver + ?Sized> Progress for LogTask<'_, O> {
    fn inc(&self, _: u64) {}
    fn add_total(&self, _: u64) {}
    fn message(&self, msg: &str) {
        self.parent.log(&format!("{}: {msg}", self.label));
    }
    fn println(&self, line: &str) {
        self.parent.println(line);
    }
}

/// The progress of one unit of a study run.
pub trait UnitObserver: Progress {
    /// A remark of the unit (notes of the readers and analyses).
    fn note(&self, line: &str);
    /// The unit is over; `outcome` is `computed` or `FAILED`.
    fn done(self: Box<Self>, outcome: &str);
}

/// Tells nothing.
pub struct SilentStudy;

struct SilentUnit;

impl Progress for SilentUnit {
    fn inc(&self, _: u64) {}
    fn add_total(&self, _: u64) {}
    fn message(&self, _: &str) {}
    fn println(&self, _: &str) {}
}

impl UnitObserver for SilentUnit {
    fn note(&self, _: &str) {}
    fn done(self: Box<Self>, _: &str) {}
}

impl StudyObserver for SilentStudy {
    fn start(&self, _: usize) {}
    fn log(&self, _: &str) {}
    fn println(&self, _: &str) {}
    fn unit<'a>(&'a self, _: &str) -> Box<dyn UnitObserver + 'a> {
        Box::new(SilentUnit)
    }
    fn finish(&self) {}
}

/// One event of a run, as a [`StudyRecorder`] keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StudyEvent {
    /// [`StudyObserver::start`].
    Start(usize),
    /// [`StudyObserver::log`].
    Log(String),
    /// [`StudyObserver::println`] (also the units' own `println`).
    Print(String),
    /// [`UnitObserver::note`] of the unit labelled first.
    Note(String, String),
    /// [`UnitObserver::done`] of the unit labelled first, with its outcome.
    Done(String, String),
}

/// Keeps every event of a run (for tests and for callers that show the log afterwards).
#[derive(Default)]
pub struct StudyRecorder {
    events: Mutex<Vec<StudyEvent>>,
}

impl StudyRecorder {
    /// An empty recorder.
    pub fn new() -> StudyRecorder {
        StudyRecorder::default()
    }
    /// The events so far, in the order they arrived.
    pub fn events(&self) -> Vec<StudyEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
    fn push(&self, e: StudyEvent) {
        if let Ok(mut v) = self.events.lock() {
            v.push(e);
        }
    }
}

struct RecordedUnit<'a> {
    parent: &'a StudyRecorder,
    label: String,
}

impl Progress for RecordedUnit<'_> {
    fn inc(&self, _: u64) {}
    fn add_total(&self, _: u64) {}
    fn message(&self, _: &str) {}
    fn println(&self, line: &str) {
        self.parent.push(StudyEvent::Print(line.to_string()));
    }
}

impl UnitObserver for RecordedUnit<'_> {
    fn note(&self, line: &str) {
        self.parent.push(StudyEvent::Note(self.label.clone(), line.to_string()));
    }
    fn done(self: Box<Self>, outcome: &str) {
        self.parent.push(StudyEvent::Done(self.label.clone(), outcome.trim().to_string()));
    }
}

impl StudyObserver for StudyRecorder {
    fn start(&self, n: usize) {
        self.push(StudyEvent::Start(n));
    }
    fn log(&self, line: &str) {
        self.push(StudyEvent::Log(line.to_string()));
    }
    fn println(&self, line: &str) {
        self.push(StudyEvent::Print(line.to_string()));
    }
    fn unit<'a>(&'a self, label: &str) -> Box<dyn UnitObserver + 'a> {
        Box::new(RecordedUnit { parent: self, label: label.to_string() })
    }
    fn finish(&self) {}
}
