//! # Driver analysis: derived drivers, samples, correlation and ranking (METHOD §6–8)
//!
//! GDAL-free pieces of the driver analysis. The I/O layer (`rsei_io::stack`) warps the driver
//! rasters onto one grid; everything computed from cells on that grid lives here, one algorithm
//! per file:
//!
//! | module | what |
//! |---|---|
//! | [`grid`] | the driver grid: origin on multiples of the cell size, covering a study area; padding and cropping |
//! | [`slope`] | slope in degrees by Horn's method, cell for cell as `gdaldem slope` (default edges) |
//! | [`distance`] | exact Euclidean distance transform (Felzenszwalb–Huttenlocher) with the nearest source of each cell |
//! | [`barrier`] | distances that go around barriers: rasterised barrier lines, any-angle (Theta*) shortest paths |
//! | [`share`] | share of mine area (%) in a moving window, from exact coverage fractions with a summed-area table |
//! | [`sample`] | complete cases (RSEI and every driver valid), constant drivers, Pearson r per driver |
//! | [`ranking`] | ranks of the drivers by %IncMSE within each city and their mean over cities (paper Fig. 8) |
//!
//! Conventions: rasters are row-major `f32` with `NaN` as nodata; distances are in the units of the
//! grid's CRS (metres for the default equal-area CRS), named `_m` where it matters.

pub mod barrier;
pub mod distance;
pub mod grid;
pub mod ranking;
pub mod sample;
pub mod share;
pub mod slope;

pub use barrier::{distance_with_barrier, rasterize_barrier, BarrierDistance};
pub use distance::{distance_to_sources, distance_transform, DistanceTransform};
pub use grid::{aligned_grid, pad_grid};
pub use ranking::{mean_ranks, rank_descending, DriverRank};
pub use sample::{complete_cases, constant_value, pearson_by_driver, LayerSummary};
pub use share::{moving_window_share, SquareWindow};
pub use slope::slope_degrees;
