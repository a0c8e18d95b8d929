//! # rsei-stac — STAC catalogues as rsei inputs
//!
//! Users start from a catalogue, not a folder. This crate searches a STAC API (or a static
//! catalogue) for MODIS granules, signs Planetary Computer asset URLs, reads the part of each
//! Cloud-Optimized GeoTIFF that covers the study areas by HTTP range requests (GDAL `/vsicurl/`,
//! in [`rsei_io::remote`]), keeps those windows in an on-disk cache with a size limit, and hands
//! back [`rsei_io::scan::Granule`]s whose layers are local files: the RSEI chain reads them as it
//! reads a scanned folder, and gets the same values.
//!
//! | module | what |
//! |---|---|
//! | [`search`] | item search: STAC API (POST `/search`, `next` links in POST-body or GET-href style), static catalogues |
//! | [`item`] | items as MODIS granules: product, date, tile, assets by layer, `raster:bands` vs the product table |
//! | [`sign`] | Planetary Computer SAS tokens, cached until `msft:expiry`, refreshed on expiry or refusal |
//! | [`http`] | JSON/HEAD requests with retries and exponential backoff |
//! | [`cache`] | the on-disk cache of windows, whole HDF granules and search answers (LRU size limit) |
//! | [`fetch`] | items → fetched windows → granules |
//! | [`testing`] | a loopback HTTP server (std only: HEAD, Range, faults) for tests without internet |
//! | [`scene`] | Landsat C2 L2 / Sentinel-2 L2A items as scenes: level checks, metadata asset, band windows laid out as a scene folder |
//! | [`catalogue`] | the whole flow for one request: [`catalogue::Catalogue`] |
//!
//! Known catalogues: the Planetary Computer (`https://planetarycomputer.microsoft.com/api/stac/v1`,
//! collections `modis-09A1-061`, `modis-13A1-061`, `modis-11A2-061`, COG assets named after the
//! product's fields, Terra and Aqua in one collection told apart by `platform`) and NASA
//! CMR-STAC (`https://cmr.earthdata.nasa.gov/stac/LPCLOUD`, collections `MOD09A1_061` …, one HDF
//! asset of role `data` per item, read whole).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod cache;
pub mod catalogue;
pub mod error;
pub mod fetch;
pub mod http;
pub mod item;
pub mod scene;
pub mod search;
pub mod sign;
pub mod testing;
pub mod time;

pub use catalogue::{Catalogue, CatalogueOptions, SignMode};
pub use error::{Result, StacError};
pub use item::Item;
