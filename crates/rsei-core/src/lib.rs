//! # rsei-core — the GDAL-free numeric core of rsei
//!
//! Everything here works on in-memory slices and [`grid::Grid`]s, tile by tile, and is unit-testable
//! without files. The I/O crate (`rsei-io`) owns GDAL and feeds this crate windows of cells.
//!
//! | module | what |
//! |---|---|
//! | [`grid`] | `Grid` (shape + affine + CRS), `Window`, row strips and tiles, the MODIS tile system |
//! | [`raster`] | `Raster<T>`: a grid plus row-major values (`NaN` = nodata for floats) |
//! | [`accum`] | the accumulator contract (update, merge, finish) and basic mergeable statistics |
//! | [`qa`] | MODIS QA bit decoding and configurable validity rules (METHOD §1) |
//! | [`composite`] | growing-season compositing: mean/median of valid observations, observation counts (METHOD §2) |
//! | [`indicators`] | NDVI, wetness, NDBSI, LST, MNDWI and the water mask (METHOD §3) |
//! | [`sensor`] | sensor profiles (Landsat C2 L2, Sentinel-2 L2A): bands by role, DN encodings, QA bits, LST, wetness set per level |
//! | [`mining`] | mines vs city, distance rings, mine-size classes, latitude profiles (METHOD §5) |
//! | [`model`] | normalisation, covariance PCA, PC1 orientation, RSEI, grades (METHOD §4) |
//! | [`stats`] | histograms, densities, box plots, Pearson correlation |
//! | [`trend`] | Mann–Kendall test, Sen slope, Hamed–Rao correction, Benjamini–Hochberg FDR, per-pixel trend maps |
//! | [`change`] | grade transfer matrix between two years (cells, km²), difference maps |
//! | [`fsutil`] | atomic file output (temp file, then rename) |
//! | [`drivers`] | derived drivers (slope, distance to mines with barriers, mine share), complete cases, Pearson, ranking (METHOD §6–8) |
//! | [`zonal`] | polygons, exact cell coverage fractions, pixel-centre rasterisation, zonal statistics (METHOD §5) |
//! | [`geodetector`] | geographical detector: factor (q, noncentral F), interaction, risk, ecological detectors; optimal discretisation |
//! | [`spatial`] | raster spatial weights (queen, distance band), global Moran's I, LISA clusters with permutation p and FDR |
//!
//! Conventions: axis order (rows, cols); float nodata is `NaN` in memory; units in names where they
//! could be doubted (`lst_celsius`, `area_km2`, `distance_m`).

pub mod accum;
pub mod change;
pub mod composite;
pub mod drivers;
pub mod error;
pub mod fsutil;
pub mod geodetector;
pub mod grid;
pub mod indicators;
pub mod mining;
pub mod model;
pub mod qa;
pub mod raster;
pub mod sensor;
pub mod spatial;
pub mod stats;
pub mod trend;
pub mod zonal;

pub use error::{CoreError, Result};
pub use grid::{Bounds, Crs, GeoTransform, Grid, Window};
pub use raster::Raster;
