//! # rsei-io — the only rsei crate that links GDAL
//!
//! Everything that touches files goes through here; the numeric core (`rsei-core`) only ever sees
//! [`rsei_core::Grid`]s and slices of cells.
//!
//! | module | what |
//! |---|---|
//! | [`write`] | GeoTIFF / Cloud-Optimized GeoTIFF writers (atomic, nodata, overviews, tags) |
//! | [`crs`] | CRS definitions ↔ GDAL `SpatialRef`, normalisation, equivalence |
//! | [`vector`] | OGR vector reading |
//! | [`error`] | the [`IoError`] enum |
//!
//! Conventions: axis order (rows, cols) everywhere in our API (GDAL's (x, y) stays inside this
//! crate); float nodata is `NaN` in memory and a real nodata value on disk; every `SpatialRef`
//! uses the traditional GIS axis order (x = easting/longitude).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod crs;
pub mod error;
mod gdalutil;
pub mod write;

pub mod vector;

pub use error::{IoError, Result};
pub use write::{write_bands, write_raster, Compression, OverviewResampling, Overviews, RasterFormat, WriteOptions};
