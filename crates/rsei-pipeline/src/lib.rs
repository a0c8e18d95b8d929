//! # rsei-pipeline — the pipelines of rsei as a library
//!
//! Every analysis the `rsei` command line offers is a function here that takes a typed request
//! and returns a typed result; the command line only parses arguments into requests and prints
//! the results. Nothing here parses arguments, exits the process or prints: progress and remarks
//! go through [`progress::Progress`] (and [`study::StudyObserver`] for study runs), failures are
//! one [`Error`] type whose variants name the file, layer, line or option at fault.
//!
//! | request | function | result | what |
//! |---|---|---|---|
//! | [`ComputeRequest`] | [`run::run`] | `Vec<`[`run::YearSummary`]`>` | RSEI per area and year from a MODIS archive |
//! | [`scenes::SceneRequest`] | [`scenes::run`] | `Vec<`[`run::YearSummary`]`>` | RSEI per area and year from Landsat C2 L2 / Sentinel-2 L2A scenes |
//! | [`IndicatorRequest`] | [`byo::run`] | [`run::YearSummary`] | RSEI from four indicator rasters made elsewhere |
//! | [`MiningRequest`] | [`mining::run`] | [`mining::MiningSummary`] | mines vs city, distance rings, size classes, latitude profile |
//! | [`DriversRequest`] | [`drivers::run`] | [`drivers::DriverRunSummary`] | driver stack, Pearson r, random forest, ranking |
//! | [`StudyRequest`] | [`study::run_study`] | [`study::StudyRun`] | a whole study file, resumable, with its report |
//! | [`ReportOptions`] | [`report_html::write_report`] | path of `report.html` | the self-contained HTML report of an output folder |
//! | [`DemoRequest`] | [`demo::run_demo`] | [`demo::DemoRun`] | synthetic archive + the demo study |
//! | [`stac_input::StacRequest`] | [`stac_input::archive_from_stac`] | [`stac_input::StacArchive`] | an [`archive::Archive`] from a STAC catalogue (search, fetch, cache) |
//! | [`analyses`] requests | `analyses::<name>::run` | summaries | pooled time series, trends, change, geographical detector, spatial autocorrelation |
//!
//! A compute and a mining analysis without the command line (see also `examples/library.rs`):
//!
//! ```no_run
//! use rsei_pipeline::area::{load_areas, AreaSource};
//! use rsei_pipeline::archive::Archive;
//! use rsei_pipeline::mining::{AreaInput, MineSource, MiningRequest, MiningRunOptions};
//! use rsei_pipeline::options::{RseiRunOptions, RunInputs};
//! use rsei_pipeline::progress::Silent;
//! use rsei_pipeline::ComputeRequest;
//!
//! let areas = load_areas(&AreaSource::file("city.geojson"))?;
//! let inputs = RunInputs { data: vec!["modis/".into()], landcover: None };
//! let archive = Archive::scan(&inputs.data)?;
//! let options = RseiRunOptions::default();
//! let req = ComputeRequest { archive: &archive, inputs: &inputs, areas: &areas, years: &[2019], options: &options, out_dir: "out".as_ref() };
//! let years = rsei_pipeline::run::run(&req, &Silent)?;
//! let mining = MiningRequest {
//!     rsei_dir: "out".into(),
//!     area: AreaInput::Loaded { area: areas[0].clone(), file: None },
//!     years: None,
//!     mines: MineSource::file("mines.geojson"),
//!     options: MiningRunOptions::default(),
//! };
//! let m = rsei_pipeline::mining::run(&mining, "out/mining".as_ref())?;
//! println!("{} year(s); RSEI peaks {:?} km from the mines", years.len(), m.peak_distance_km);
//! # Ok::<(), rsei_pipeline::Error>(())
//! ```
//!
//! Layers: `rsei-core` (numbers, no GDAL) ← `rsei-io` (GDAL) · `rsei-forest` · `rsei-report`
//! ← this crate ← the `rsei` command line (see ARCHITECTURE in the repository's docs).

#![deny(missing_docs)]

pub mod analyses;
pub(crate) mod apply;
pub mod archive;
pub mod area;
pub mod budget;
pub mod byo;
pub mod compute;
pub mod demo;
pub mod drivers;
pub mod error;
pub mod mining;
pub mod mining_charts;
pub mod onepass;
pub mod options;
pub mod outputs;
pub mod parse;
pub mod progress;
pub mod report_html;
pub mod run;
pub mod scenes;
pub mod stac_input;
pub mod stac_scenes;
pub mod study;

pub use byo::IndicatorRequest;
pub use demo::DemoRequest;
pub use drivers::DriversRequest;
pub use error::{Context, Error, Result};
pub use mining::MiningRequest;
pub use report_html::ReportOptions;
pub use run::RseiRequest as ComputeRequest;
pub use study::{StudyPlan, StudyRequest};
