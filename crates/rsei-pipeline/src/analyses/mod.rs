//! # Analyses beyond the source study: comparable time series, trends, change, geographical detector, spatial autocorrelation
//!
//! Each analysis reads the files that `rsei compute` / `rsei run` (and, for the geographical
//! detector, `rsei drivers`) wrote for one study area, calls the numeric core and writes its own
//! folder beside the area's years, with a `manifest.json` last:
//!
//! | request | function | folder | what |
//! |---|---|---|---|
//! | [`timeseries::TimeSeriesRequest`] | [`timeseries::run`] | `<area>/timeseries/` | one PCA over all years (pooled), drift of each year's own loadings, sign check, pooled RSEI |
//! | [`trend::TrendRequest`] | [`trend::run`] | `<area>/trend/` | per-pixel Theil–Sen slope and Mann–Kendall test, FDR classes; trend of the area's mean |
//! | [`change::ChangeRequest`] | [`change::run`] | `<area>/change/` | grade transfer matrix (cells, km², flow diagram), difference and grade-change maps |
//! | [`geodetector::GeodetectorRequest`] | [`geodetector::run`] | `<area>/geodetector/` | factor, interaction, risk and ecological detectors on the driver stack, optimal discretisation |
//! | [`autocorrelation::AutocorrelationRequest`] | [`autocorrelation::run`] | `<area>/autocorrelation/` | global Moran's I and LISA clusters of RSEI on the 1 km driver grid |
//!
//! Trend, change and spatial autocorrelation read the per-year RSEI or, with
//! [`common::RseiSource::Pooled`], the pooled RSEI of the time series (one scale for all years).
//! Every output folder is written like those of `rsei mining` and `rsei drivers`: rasters as COGs,
//! tables as CSV and JSON, figures as SVG and PNG, `summary.json`, and `manifest.json` (inputs
//! with SHA-256, options, software version, outputs with SHA-256) last; a rerun first removes the
//! outputs its old manifest lists. Nothing is written before the analysis has succeeded, and the
//! same inputs give the same bytes at any thread count.
//!
//! The methods, their constants and their references are in `docs/METHOD-EXTENSIONS.md`.

pub mod common;
pub mod timeseries;
pub mod trend;
pub mod change;
pub mod geodetector;
pub mod autocorrelation;
pub mod report;
