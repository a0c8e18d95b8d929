//! Errors of the random forest crate: one enum, structured variants that name the input at fault.

use thiserror::Error;

/// Everything that can go wrong when building a dataset, checking parameters, fitting or predicting.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ForestError {
    /// The forest has more splits than the batch predictor's 32-bit indices address.
    #[error("the forest has {splits} splits, more than the batch predictor handles (2^32 - 2); use Forest::predict")]
    TooLargeToCompile {
        /// Splits in the forest.
        splits: usize,
    },
    /// The dataset has no predictor column.
    #[error("dataset has no predictor columns")]
    NoColumns,
    /// A predictor column does not have one value per response value.
    #[error("predictor `{name}` (column {col}) has {len} values but the response has {n}")]
    ColumnLength {
        /// Column name.
        name: String,
        /// 0-based column index.
        col: usize,
        /// Values in that column.
        len: usize,
        /// Values in the response.
        n: usize,
    },
    /// A column-major buffer whose length is not `n_rows × n_cols`.
    #[error("column-major predictor buffer has {len} values, expected {n_rows} rows × {n_cols} columns")]
    BufferLength {
        /// Length of the buffer.
        len: usize,
        /// Rows expected (length of the response).
        n_rows: usize,
        /// Columns expected (number of names).
        n_cols: usize,
    },
    /// The number of names differs from the number of columns.
    #[error("{names} column names given for {cols} predictor columns")]
    NameCount {
        /// Names given.
        names: usize,
        /// Columns given.
        cols: usize,
    },
    /// Too few rows to fit anything.
    #[error("dataset has {n} rows; at least 2 are needed")]
    TooFewRows {
        /// Rows in the dataset.
        n: usize,
    },
    /// A row index outside the dataset.
    #[error("row index {index} is outside the dataset of {n} rows")]
    RowIndex {
        /// The index given.
        index: usize,
        /// Rows in the dataset.
        n: usize,
    },
    /// NaN or ±inf in a predictor.
    #[error("predictor `{name}` (column {col}) has the non-finite value {value} at row {row} (0-based)")]
    NonFiniteX {
        /// Column name.
        name: String,
        /// 0-based column index.
        col: usize,
        /// 0-based row index.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// NaN or ±inf in the response.
    #[error("response has the non-finite value {value} at row {row} (0-based)")]
    NonFiniteY {
        /// 0-based row index.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// All response values are equal: nothing to explain, `% Var explained` is undefined.
    #[error("response is constant ({value}) over all {n} rows: a regression forest cannot explain it")]
    ConstantResponse {
        /// The constant value.
        value: f64,
        /// Rows.
        n: usize,
    },
    /// `ntree` is 0.
    #[error("ntree must be at least 1")]
    InvalidNtree,
    /// `mtry` outside `1..=p`.
    #[error("mtry = {mtry} is outside 1..={p} (the number of predictors)")]
    InvalidMtry {
        /// Requested mtry.
        mtry: usize,
        /// Number of predictors.
        p: usize,
    },
    /// `nodesize` is 0.
    #[error("nodesize must be at least 1")]
    InvalidNodesize,
    /// `sample_size` is 0.
    #[error("sample_size must be at least 1")]
    InvalidSampleSize,
    /// More cases per tree than rows (R refuses this too, with or without replacement).
    #[error("sample_size {sample_size} exceeds the {n} rows available")]
    SampleSizeTooLarge {
        /// Requested sample size.
        sample_size: usize,
        /// Rows available.
        n: usize,
    },
    /// A tree whose root holds `nodesize` cases or fewer cannot split at all.
    #[error(
        "sample size {sample_size} is not larger than nodesize {nodesize}: no node could ever be split \
         (use more rows or a smaller nodesize)"
    )]
    SampleNotLargerThanNodesize {
        /// Cases drawn per tree.
        sample_size: usize,
        /// Requested nodesize.
        nodesize: usize,
    },
    /// `threads` is `Some(0)`.
    #[error("threads must be at least 1")]
    InvalidThreads,
    /// The rayon thread pool could not be created.
    #[error("cannot create a pool of {threads} threads: {message}")]
    ThreadPool {
        /// Threads requested.
        threads: usize,
        /// Message of the underlying error.
        message: String,
    },
    /// A row-major prediction buffer whose length is not a multiple of the number of predictors.
    #[error("prediction input has {len} values, not a multiple of the {p} predictors the forest was fitted on")]
    RowLength {
        /// Values given.
        len: usize,
        /// Predictors expected per row.
        p: usize,
    },
    /// Column-wise prediction input with the wrong number of columns.
    #[error("prediction input has {got} columns, the forest was fitted on {expected}")]
    ColumnCount {
        /// Columns given.
        got: usize,
        /// Columns expected.
        expected: usize,
    },
    /// Column-wise prediction input whose columns differ in length.
    #[error("prediction column {col} has {len} values, column 0 has {expected}")]
    RaggedColumns {
        /// 0-based column index.
        col: usize,
        /// Its length.
        len: usize,
        /// Length of column 0.
        expected: usize,
    },
    /// `train_validation_split` with a fraction outside (0, 1).
    #[error("training fraction {fraction} must lie strictly between 0 and 1")]
    InvalidFraction {
        /// The fraction given.
        fraction: f64,
    },
    /// A split that would leave the training or the validation part empty.
    #[error("splitting {n} rows with fraction {fraction} leaves an empty training or validation part")]
    EmptySplitPart {
        /// Rows.
        n: usize,
        /// The fraction given.
        fraction: f64,
    },
    /// Observed and predicted vectors of different lengths.
    #[error("metrics: {observed} observed values but {predicted} predicted values")]
    MetricsLength {
        /// Observed values.
        observed: usize,
        /// Predicted values.
        predicted: usize,
    },
    /// Metrics on empty input.
    #[error("metrics need at least one observed/predicted pair")]
    MetricsEmpty,
    /// NaN or ±inf in metrics input.
    #[error("metrics: non-finite {which} value {value} at index {index}")]
    MetricsNonFinite {
        /// "observed" or "predicted".
        which: &'static str,
        /// 0-based index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// R² is undefined when the observed values are all equal.
    #[error("metrics: the {n} observed values are all equal, R² is undefined")]
    MetricsConstantObserved {
        /// Pairs.
        n: usize,
    },
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, ForestError>;
