//! # Analyses beyond the source study: comparable time series, trends, change, geographical detector, spatial autocorrelation
//!
//! Each analysis reads the files that `rsei compute` / `rsei run` (and, for the geographical
//! detector, `rsei drivers`) wrote for one study area, calls the numeric core and writes its own
//! folder beside the area's years, with a `manifest.json` last:
//!
//! | request | function | folder | what |
//! |---|---|---|---|
//! | [`timeseries::TimeSeriesRequest`] | [`timeseries::run`] | `<area>/timeseries/` | one PCA over all years (pooled), drift of each year's own loadings, sign check, pooled RSEI |
//!
//! The methods, their constants and their references are in `docs/METHOD-EXTENSIONS.md`.

pub mod common;
pub mod timeseries;
pub mod trend;
pub mod change;
pub mod geodetector;
pub mod autocorrelation;
