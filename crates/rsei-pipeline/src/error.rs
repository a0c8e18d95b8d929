//! The one error type of the pipelines.
//!
//! Every failure a pipeline can report is an [`Error`]. Its variants say what is at fault — an
//! option ([`Error::InvalidOption`]), an input file or layer ([`Error::InvalidInput`]), a line of a
//! study file ([`Error::Study`]), a step of an analysis ([`Error::Mining`], [`Error::Drivers`],
//! [`Error::Report`]) — and [`Error::Context`] adds what was being done when a lower error
//! happened (`reading /data/x.hdf: …`). Callers walk the chain with [`std::error::Error::source`]
//! or print it whole with [`Error::chain_text`]; [`Error::is_usage`] tells a command line which
//! errors are about what the user gave (exit code 2) rather than a failing operation.

use std::fmt::Display;
use std::path::PathBuf;

use thiserror::Error;

use rsei_core::CoreError;
use rsei_forest::ForestError;
use rsei_io::stack::StackError;
use rsei_io::vector::VectorError;

/// Everything that can go wrong in a pipeline.
#[derive(Debug, Error)]
pub enum Error {
    /// An option (command-line flag, study-file key or request field) has a value that cannot be used.
    #[error("{message}")]
    InvalidOption {
        /// The option, as the user wrote it (`--years`, `mining.ring_width_m`, …).
        option: String,
        /// What is wrong with it (the whole message, naming the option).
        message: String,
    },
    /// An input (file, layer, feature, folder) cannot be used as given.
    #[error("{message}")]
    InvalidInput {
        /// The file or folder at fault (empty when the input is not a file).
        path: PathBuf,
        /// What is wrong with it (the whole message, naming the input).
        message: String,
    },
    /// A study file has errors (each reported with its line and column by validation).
    #[error("{}: {errors} error(s); {action}", .path.display())]
    Study {
        /// The study file.
        path: PathBuf,
        /// How many errors validation found.
        errors: usize,
        /// What was not done because of them.
        action: String,
    },
    /// The mining analysis failed; the variant names the input at fault.
    #[error(transparent)]
    Mining(#[from] MiningError),
    /// The driver analysis failed; the variant names the input at fault.
    #[error(transparent)]
    Drivers(#[from] DriversError),
    /// The HTML report could not be built from an output folder.
    #[error(transparent)]
    Report(#[from] StudyReportError),
    /// A raster, vector or GDAL operation failed.
    #[error(transparent)]
    Io(#[from] rsei_io::IoError),
    /// A vector layer could not be read or used.
    #[error(transparent)]
    Vector(#[from] rsei_io::vector::VectorError),
    /// A driver stack could not be built.
    #[error(transparent)]
    Stack(#[from] rsei_io::stack::StackError),
    /// A numeric step refused its input.
    #[error(transparent)]
    Core(#[from] rsei_core::CoreError),
    /// The random forest refused its input.
    #[error(transparent)]
    Forest(#[from] rsei_forest::ForestError),
    /// A chart, map or document could not be rendered.
    #[error(transparent)]
    Render(#[from] rsei_report::ReportError),
    /// A file-system operation failed (the context names the file).
    #[error(transparent)]
    File(#[from] std::io::Error),
    /// A JSON document could not be written or read.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A failure described by its message only (e.g. several units of a study failed).
    #[error("{0}")]
    Message(String),
    /// What was being done when `source` happened.
    #[error("{context}")]
    Context {
        /// What was being done (`reading /data/x.hdf`).
        context: String,
        /// The error that happened.
        #[source]
        source: Box<Error>,
    },
}

/// Result type of the pipelines.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error described by its message.
    pub fn msg(message: impl Display) -> Error {
        Error::Message(message.to_string())
    }

    /// An option that cannot be used; `message` names it.
    pub fn option(option: impl Into<String>, message: impl Display) -> Error {
        Error::InvalidOption { option: option.into(), message: message.to_string() }
    }

    /// An input that cannot be used; `message` names it.
    pub fn input(path: impl Into<PathBuf>, message: impl Display) -> Error {
        Error::InvalidInput { path: path.into(), message: message.to_string() }
    }

    /// Wraps the error with what was being done.
    pub fn context(self, context: impl Display) -> Error {
        Error::Context { context: context.to_string(), source: Box::new(self) }
    }

    /// The errors of the chain, outermost first (this error, then its causes).
    pub fn chain(&self) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
        let first: &(dyn std::error::Error + 'static) = self;
        std::iter::successors(Some(first), |e| e.source())
    }

    /// The innermost error of this crate's type: what is left after removing every [`Error::Context`].
    pub fn root(&self) -> &Error {
        let mut e = self;
        while let Error::Context { source, .. } = e {
            e = source;
        }
        e
    }

    /// The whole chain on one line, `outer: inner: innermost`.
    pub fn chain_text(&self) -> String {
        self.chain().map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
    }

    /// Whether the error is about the options or inputs given (a command line exits with code 2)
    /// rather than an operation that failed on valid inputs.
    pub fn is_usage(&self) -> bool {
        match self.root() {
            Error::InvalidOption { .. } | Error::InvalidInput { .. } | Error::Study { .. } => true,
            Error::Mining(m) => m.is_input(),
            Error::Drivers(d) => d.is_input(),
            Error::Report(r) => matches!(r, StudyReportError::NotAFolder(_) | StudyReportError::NoResults(_)),
            _ => false,
        }
    }
}

/// Adds what was being done to an error, as `anyhow::Context` does, keeping the typed cause.
pub trait Context<T> {
    /// Wraps the error with `context`.
    fn context<C: Display>(self, context: C) -> Result<T>;
    /// Wraps the error with the context `f` makes (only called on error).
    fn with_context<C: Display, F: FnOnce() -> C>(self, f: F) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context<C: Display>(self, context: C) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }
    fn with_context<C: Display, F: FnOnce() -> C>(self, f: F) -> Result<T> {
        self.map_err(|e| e.into().context(f()))
    }
}

impl<T> Context<T> for Option<T> {
    fn context<C: Display>(self, context: C) -> Result<T> {
        self.ok_or_else(|| Error::msg(context))
    }
    fn with_context<C: Display, F: FnOnce() -> C>(self, f: F) -> Result<T> {
        self.ok_or_else(|| Error::msg(f()))
    }
}

/// Returns early with an [`Error::Message`] formatted like `format!`.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return ::std::result::Result::Err($crate::Error::msg(format!($($arg)*)))
    };
}

/// Returns early with an [`Error::Message`] when the condition does not hold.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::bail!($($arg)*);
        }
    };
}

// The error enums of the analyses live here, beside `Error`, so that this module depends on no
// pipeline module (each pipeline module re-exports its own enum and keeps its `impl` blocks).

/// Errors of the driver analysis that name the input at fault; [`DriversError::is_input`] tells
/// the command line which are about the user's inputs (exit code 2).
#[derive(Debug, Error)]
pub enum DriversError {
    /// An option out of range.
    #[error("invalid driver option {name}: {reason}")]
    InvalidOption {
        /// The option.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// No RSEI raster for the area and year.
    #[error("study area {area:?}: {} not found (years with RSEI for this area: {}); run `rsei compute` for {year} first", .path.display(), if .available.is_empty() { "none".to_string() } else { .available.iter().map(i32::to_string).collect::<Vec<_>>().join(", ") })]
    NoRsei {
        /// The study area.
        area: String,
        /// The year.
        year: i32,
        /// The file or folder at fault.
        path: PathBuf,
        /// What is available instead.
        available: Vec<i32>,
    },
    /// RSEI could not be resampled onto the driver grid.
    #[error("study area {area:?}: RSEI {}: {error}", .path.display())]
    Rsei {
        /// The study area.
        area: String,
        /// The file or folder at fault.
        path: PathBuf,
        /// The underlying error.
        error: Box<rsei_io::IoError>,
    },
    /// A driver raster could not be used.
    #[error("study area {area:?}: {error}")]
    Stack {
        /// The study area.
        area: String,
        /// The underlying error.
        error: StackError,
    },
    /// The mine layer could not be used.
    #[error("mine layer {}: {reason}", .path.display())]
    Mines {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A vector operation failed (reading, reprojecting, union).
    #[error("{what}: {error}")]
    Vector {
        /// What was being done.
        what: String,
        /// The underlying error.
        error: Box<VectorError>,
    },
    /// No pixel, or too few, to analyse.
    #[error("study area {area:?}: {detail}")]
    Pixels {
        /// The study area.
        area: String,
        /// What is wrong.
        detail: String,
    },
    /// A numeric step refused its input.
    #[error("study area {area:?}: {what}: {error}")]
    Core {
        /// The study area.
        area: String,
        /// What was being done.
        what: String,
        /// The underlying error.
        error: CoreError,
    },
    /// The random forest refused its input.
    #[error("study area {area:?}: random forest: {error}")]
    Forest {
        /// The study area.
        area: String,
        /// The underlying error.
        error: ForestError,
    },
}

/// Errors of the mining pipeline that name the input at fault. [`MiningError::is_input`] tells
/// the command line which ones are the user's inputs (exit code 2).
#[derive(Debug, Error)]
pub enum MiningError {
    /// An option is out of range.
    #[error("invalid mining option {name}: {reason}")]
    InvalidOption {
        /// The option.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The RSEI folder has no results for the area.
    #[error("{}: no RSEI results for study area {area:?} (folder {slug:?} missing; area folders found: {})", .dir.display(), if .available.is_empty() { "none".to_string() } else { .available.join(", ") })]
    NoAreaFolder {
        /// The folder.
        dir: PathBuf,
        /// The study area.
        area: String,
        /// The area's folder name.
        slug: String,
        /// What is available instead.
        available: Vec<String>,
    },
    /// The area folder has no year folder with `rsei.tif`.
    #[error("{}: no year folder with rsei.tif (run `rsei compute` first)", .dir.display())]
    NoYears {
        /// The folder.
        dir: PathBuf,
    },
    /// A requested year has no `rsei.tif`.
    #[error("year {year}: {} not found (years available: {})", .path.display(), .available.iter().map(i32::to_string).collect::<Vec<_>>().join(", "))]
    MissingYear {
        /// The year.
        year: i32,
        /// The file or folder at fault.
        path: PathBuf,
        /// What is available instead.
        available: Vec<i32>,
    },
    /// A raster could not be read.
    #[error("reading {}: {error}", .path.display())]
    Raster {
        /// The file or folder at fault.
        path: PathBuf,
        /// The underlying error.
        error: Box<rsei_io::IoError>,
    },
    /// Two rasters that must share one grid do not.
    #[error("{} and {} are not on the same grid ({detail}); all years must come from one compute run with the same output grid", .first.display(), .other.display())]
    GridMismatch {
        /// The first raster.
        first: PathBuf,
        /// The raster that differs.
        other: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The study-area source gives no or several areas.
    #[error("{}: {found} study areas ({names}); choose one with a filter (--where) or dissolve them", .path.display())]
    AreaCount {
        /// The file or folder at fault.
        path: PathBuf,
        /// How many areas the source gives.
        found: usize,
        /// Their names.
        names: String,
    },
    /// The study area could not be read.
    #[error("study area: {}", .0.chain_text())]
    Area(Box<crate::Error>),
    /// The mine layer could not be used.
    #[error("mine layer: {error}")]
    Mines {
        /// The underlying error.
        error: Box<VectorError>,
    },
    /// Building the mining geometry failed.
    #[error("geometry of {area:?}: {error}")]
    Geometry {
        /// The study area.
        area: String,
        /// The underlying error.
        error: Box<VectorError>,
    },
    /// The analysis refused its inputs.
    #[error("analysis of {area:?}: {error}")]
    Analysis {
        /// The study area.
        area: String,
        /// The underlying error.
        error: Box<CoreError>,
    },
}

/// Errors that name the output folder or file at fault.
#[derive(Debug, Error)]
pub enum StudyReportError {
    /// The output folder does not exist.
    #[error("{}: not a folder", .0.display())]
    NotAFolder(PathBuf),
    /// No `<area>/<year>/summary.json` in the folder.
    #[error("{}: no RSEI results (no <area>/<year>/summary.json); run `rsei compute --out {}` first", .0.display(), .0.display())]
    NoResults(PathBuf),
    /// A JSON output cannot be read or does not have the expected content.
    #[error("{}: {reason}", .path.display())]
    BadFile {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The map option is out of range.
    #[error("map_max_px = {0} is too small (at least 64)")]
    MapSize(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_the_typed_cause_and_usage_class() {
        let e: Result<()> = Err(Error::option("--years", "--years \"20x\": not a year"));
        let e = e.context("parsing arguments").unwrap_err();
        assert_eq!(e.to_string(), "parsing arguments");
        assert_eq!(e.chain_text(), "parsing arguments: --years \"20x\": not a year");
        assert!(e.is_usage());
        assert!(matches!(e.root(), Error::InvalidOption { option, .. } if option == "--years"));
    }

    #[test]
    fn io_errors_are_not_usage_errors() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = Err::<(), _>(io).with_context(|| "writing /out/a.tif").unwrap_err();
        assert!(!e.is_usage());
        assert_eq!(e.chain().count(), 2);
        assert_eq!(e.chain_text(), "writing /out/a.tif: denied");
    }

    #[test]
    fn bail_and_ensure_make_messages() {
        fn f(x: i32) -> Result<i32> {
            ensure!(x > 0, "x = {x} must be positive");
            if x > 10 {
                bail!("x = {x} is too large");
            }
            Ok(x)
        }
        assert_eq!(f(3).ok(), Some(3));
        assert_eq!(f(-1).unwrap_err().to_string(), "x = -1 must be positive");
        assert_eq!(f(11).unwrap_err().to_string(), "x = 11 is too large");
        assert_eq!(None::<u8>.context("no value").unwrap_err().to_string(), "no value");
    }
}
