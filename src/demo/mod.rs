//! `rsei demo`: a synthetic MODIS archive of a small mining city, and the whole chain run on it.

pub mod scene;
pub mod archive;
