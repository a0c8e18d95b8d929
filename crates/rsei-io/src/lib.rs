//! # rsei-io — the only rsei crate that links GDAL
//!
//! (to be written)

pub mod vector;
