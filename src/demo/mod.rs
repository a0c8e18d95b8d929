//! `rsei demo`: a synthetic MODIS archive of two small mining cities, and the demo study run on it.

pub mod scene;
pub mod archive;
pub mod drivers;

/// Target years of the demo (the archive holds one more season on each side for the ±1-year window).
pub const DEMO_YEARS: (i32, i32) = (scene::FIRST_YEAR + 1, scene::LAST_YEAR - 1);
