//! Errors of the reporting crate.
//!
//! Every variant names the chart, map, table or file at fault and what is wrong with it, so the
//! caller can show it to a user unchanged.

use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong while formatting or writing results.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The requested image size cannot hold a figure.
    #[error("{what}: image size {width}×{height} is not usable ({reason})")]
    InvalidSize {
        what: String,
        width: f64,
        height: f64,
        reason: String,
    },
    /// A chart description is inconsistent (e.g. a heat map whose matrix does not match its axes).
    #[error("chart \"{chart}\": {reason}")]
    InvalidChart { chart: String, reason: String },
    /// A chart has no finite value to draw.
    #[error("chart \"{chart}\": no finite data to draw on the {axis} axis")]
    NoData { chart: String, axis: String },
    /// A map's inputs or style are inconsistent.
    #[error("map \"{map}\": {reason}")]
    InvalidMap { map: String, reason: String },
    /// A buffer has the wrong number of cells for the stated shape.
    #[error("{what}: {got} values do not fit {rows}×{cols} cells ({expected} expected)")]
    BufferSize {
        what: String,
        got: usize,
        expected: usize,
        rows: usize,
        cols: usize,
    },
    /// A table row does not have one cell per column.
    #[error("table: row {row} has {got} cells but the table has {expected} columns")]
    RowLength {
        row: usize,
        got: usize,
        expected: usize,
    },
    /// Two table columns have the same name (JSON objects need distinct keys).
    #[error("table: column name \"{name}\" appears more than once")]
    DuplicateColumn { name: String },
    /// PNG encoding failed.
    #[error("PNG encoding of {what} failed: {reason}")]
    Png { what: String, reason: String },
    /// Writing an output file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Result type of the reporting crate.
pub type Result<T, E = ReportError> = std::result::Result<T, E>;
