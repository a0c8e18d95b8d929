//! # rsei-io — the only rsei crate that links GDAL
//!
//! Everything that touches files goes through here; the numeric core (`rsei-core`) only ever sees
//! [`rsei_core::Grid`]s and slices of cells.
//!
//! | module | what |
//! |---|---|
//! | [`write`](mod@write) | GeoTIFF / Cloud-Optimized GeoTIFF writers (atomic, nodata, overviews, tags) |
//! | [`products`] | the MODIS product registry: layers, DN encodings, distributor names |
//! | [`naming`] | file names (NASA, Planetary Computer, MODIStsp, AppEEARS) and metadata fallbacks |
//! | [`read`] | identifying files, [`LayerReader`]: decoded / raw windows, mosaicking onto a grid |
//! | [`scan`] | inventory of a folder: granules by (product, tile, date), rejected files with reasons |
//! | [`scenes`] | Landsat C2 L2 (folders, tarballs, STAC COGs) and Sentinel-2 L2A (SAFE) scenes: profile from metadata, band readers |
//! | [`warp`] | GDAL warper onto a target grid (files and in-memory rasters), SHA-256 of files |
//! | [`crs`] | CRS definitions ↔ GDAL `SpatialRef`, normalisation, equivalence, point reprojection |
//! | [`vector`] | OGR vector reading |
//! | [`stack`] | driver rasters warped onto one grid (monthly sums), barrier lines |
//! | [`remote`] | windows of remote COGs read through `/vsicurl/` and copied losslessly |
//! | [`error`] | the [`IoError`] enum |
//!
//! Conventions: axis order (rows, cols) everywhere in our API (GDAL's (x, y) stays inside this
//! crate); float nodata is `NaN` in memory and a real nodata value on disk; every `SpatialRef`
//! uses the traditional GIS axis order (x = easting/longitude).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod crs;
pub mod error;
mod gdalutil;
pub mod naming;
pub mod plain;
pub mod products;
pub mod read;
pub mod remote;
pub mod scan;
pub mod scenes;
pub mod stack;
pub mod warp;
pub mod write;

pub mod vector;

pub use error::{IoError, Result};
pub use gdalutil::cap_block_cache;
pub use naming::{ModisDate, Tile};
pub use products::{Layer, LayerSpec, Product, ProductKind};
pub use read::{identify, Identity, LayerReader, LayerSource};
pub use scan::{scan_dir, Granule, Inventory, Rejected, ScanOptions};
pub use warp::{sha256_file, warp_raster, warp_to_grid, Resampling};
pub use write::{write_bands, write_bands_streamed, write_raster, Compression, OverviewResampling, Overviews, RasterFormat, WriteOptions};
