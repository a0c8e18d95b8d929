//! # rsei — Remote Sensing Ecological Index engine
//!
//! Library pipelines behind the `rsei` command line: they join the numeric core (`rsei-core`), the GDAL
//! I/O layer (`rsei-io`), the random forest (`rsei-forest`) and the report writer (`rsei-report`).

pub mod archive;
pub mod area;
pub mod byo;
pub mod cli;
pub mod compute;
pub mod demo;
pub mod drivers;
pub mod mining;
pub mod mining_charts;
pub mod options;
pub mod outputs;
pub mod progress;
pub mod report_html;
pub mod run;
pub mod study;
