//! Errors of the numeric core.

use thiserror::Error;

/// Everything that can go wrong in the numeric core. Variants carry enough context for the caller
/// (who knows the file names) to produce a message that names the input at fault.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// Two grids that must be identical (same shape, transform and CRS) are not.
    #[error("grids do not match: {0}")]
    GridMismatch(String),
    /// A window does not lie inside its grid.
    #[error("window {window} is outside a grid of {rows}×{cols} cells")]
    WindowOutOfBounds { window: String, rows: usize, cols: usize },
    /// A buffer has the wrong number of cells for its grid.
    #[error("buffer of {got} values does not fit a {rows}×{cols} grid ({expected} cells)")]
    BufferSize { got: usize, expected: usize, rows: usize, cols: usize },
    /// No valid pixel was left to compute a statistic or a model from.
    #[error("no valid pixels: {0}")]
    NoValidPixels(String),
    /// An indicator has the same value on every valid pixel, so it cannot be normalised.
    #[error("indicator {name} is constant ({value}) over all {n} valid pixels; it cannot be normalised")]
    ConstantIndicator { name: String, value: f64, n: u64 },
    /// An option has a value outside its allowed range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption { name: String, reason: String },
    /// A geometry cannot be used (e.g. a ring with fewer than 3 distinct points, non-finite coordinates).
    #[error("invalid geometry: {0}")]
    InvalidGeometry(String),
}

/// Result type of the numeric core.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
