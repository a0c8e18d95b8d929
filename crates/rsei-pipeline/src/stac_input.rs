//! MODIS granules from a STAC catalogue instead of a folder: search, fetch, inventory.
//!
//! ```text
//! areas (sinusoidal) ─ union of bounds + 2 km ─▶ lon/lat bbox ─┐
//! years × composite window ─▶ date intervals ──────────────────┼─▶ search (cached) ─▶ items
//! products the run reads ─▶ collections ───────────────────────┘        │ platform, window
//!                                     fetch windows (COG) / granules (HDF), cached ◀┘
//!                                     ─▶ Archive { inventory of local layer files }
//! ```
//!
//! The archive holds the same [`rsei_io::scan::Granule`]s a folder scan gives, so
//! [`crate::run::run`] and the study runner use it unchanged. Its `folders` hold the catalogue URL
//! (for messages).

use std::path::PathBuf;

use rsei_core::composite::CompositeOptions;
use rsei_core::{Bounds, Crs};
use rsei_io::products::{Platform, ProductKind};
use rsei_io::scan::Inventory;
use rsei_stac::catalogue::CMR_LPCLOUD_API;
use rsei_stac::fetch::{FetchProgress, FetchStats};
use rsei_stac::item::modis_date_days;
use rsei_stac::search::SearchParams;
use rsei_stac::time::days_from_civil;
use rsei_stac::{Catalogue, CatalogueOptions, Item, StacError};

use crate::archive::Archive;
use crate::area::StudyArea;
use crate::error::{Error, Result};
use crate::options::{NdviSource, Platforms, RseiRunOptions};
use crate::progress::Progress;

/// Margin around the study areas of the windows read (m): covers the 1 km lattice snapping of the
/// study grid and the one-row margin of the LST upsampling.
pub const WINDOW_MARGIN_M: f64 = 2000.0;

/// What to take from a catalogue.
pub struct StacRequest<'a> {
    /// The catalogue, collections, signing, cache and offline mode.
    pub catalogue: &'a CatalogueOptions,
    /// The study areas (their bounds, plus a margin, are the search box).
    pub areas: &'a [StudyArea],
    /// Target years (with the composite window and season, the search dates).
    pub years: &'a [i32],
    /// Options of the RSEI chain (platforms, season, window, NDVI source).
    pub options: &'a RseiRunOptions,
    /// Cache folder used when the catalogue options name none.
    pub default_cache: PathBuf,
}

/// The archive made from a catalogue, and what was done.
pub struct StacArchive {
    /// The granules, as a folder scan would give them (sources are cached windows).
    pub archive: Archive,
    /// The items used (after the platform and window filters).
    pub items: Vec<Item>,
    /// Warnings and notes (encoding checks, items left out).
    pub notes: Vec<String>,
    /// Requests, bytes and cache hits of the fetch.
    pub stats: FetchStats,
}

/// A pipeline error from a catalogue error: a wrong collection or option is an invalid option.
pub fn stac_error(e: StacError) -> Error {
    match &e {
        StacError::UnknownCollection { .. } | StacError::UnsupportedCollection { .. } => Error::option("--collection", e),
        StacError::InvalidOption { name, .. } => Error::option(name.clone(), e),
        _ => Error::msg(e),
    }
}

/// The products a run reads.
pub fn products_needed(options: &RseiRunOptions) -> Vec<ProductKind> {
    let mut v = vec![ProductKind::Mod09A1];
    if options.ndvi_source == NdviSource::Mod13a1 {
        v.push(ProductKind::Mod13A1);
    }
    v.push(ProductKind::Mod11A2);
    v
}

/// The default collections of a catalogue for the products a run reads: NASA CMR-STAC names
/// (`MOD09A1_061`, `MYD09A1_061` …, per platform) for CMR URLs, else the Planetary Computer's
/// (`modis-09A1-061` …, both platforms in one collection).
pub fn default_collections(url: &str, options: &RseiRunOptions) -> Vec<String> {
    let kinds = products_needed(options);
    if url.contains("cmr.earthdata.nasa.gov") || url.trim_end_matches('/') == CMR_LPCLOUD_API {
        let prefixes: &[&str] = match options.platforms {
            Platforms::Terra => &["MOD"],
            Platforms::Aqua => &["MYD"],
            Platforms::Both => &["MOD", "MYD"],
        };
        kinds.iter().flat_map(|k| prefixes.iter().map(move |p| format!("{p}{}_061", k.code()))).collect()
    } else {
        kinds.iter().map(|k| format!("modis-{}-061", k.code())).collect()
    }
}

/// The union of the areas' bounds (sinusoidal) grown by [`WINDOW_MARGIN_M`].
pub fn study_bounds(areas: &[StudyArea]) -> Result<Bounds> {
    let mut b: Option<Bounds> = None;
    for a in areas {
        let ab = rsei_core::zonal::PreparedPolygon::new(&a.polygon)?.bounds();
        b = Some(match b {
            None => ab,
            Some(u) => Bounds::new(u.xmin.min(ab.xmin), u.ymin.min(ab.ymin), u.xmax.max(ab.xmax), u.ymax.max(ab.ymax)),
        });
    }
    let b = b.ok_or_else(|| Error::msg("no study area"))?;
    let m = WINDOW_MARGIN_M;
    Ok(Bounds::new(b.xmin - m, b.ymin - m, b.xmax + m, b.ymax + m))
}

/// The lon/lat box of sinusoidal bounds (edges sampled, so the curved meridians are covered).
pub fn lonlat_bbox(b: &Bounds) -> Result<[f64; 4]> {
    let n = 16;
    let mut pts = Vec::with_capacity(4 * n + 4);
    for i in 0..=n {
        let f = i as f64 / n as f64;
        let x = b.xmin + f * (b.xmax - b.xmin);
        let y = b.ymin + f * (b.ymax - b.ymin);
        pts.extend([(x, b.ymin), (x, b.ymax), (b.xmin, y), (b.xmax, y)]);
    }
    let ll = rsei_io::crs::reproject_points(&pts, &Crs::modis_sinusoidal(), &Crs::new("EPSG:4326"))?;
    let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for (x, y) in ll {
        if x.is_finite() && y.is_finite() {
            bb = [bb[0].min(x), bb[1].min(y), bb[2].max(x), bb[3].max(y)];
        }
    }
    if !bb[0].is_finite() {
        return Err(Error::msg("the study areas cannot be expressed in longitude and latitude"));
    }
    Ok([bb[0].max(-180.0), bb[1].max(-90.0), bb[2].min(180.0), bb[3].min(90.0)])
}

/// The date intervals (day counts) of the composite windows of `years`, merged.
pub fn date_intervals(composite: &CompositeOptions, years: &[i32]) -> Vec<(i64, i64)> {
    let mut iv: Vec<(i64, i64)> = years
        .iter()
        .flat_map(|&y| composite.window_dates(y))
        .map(|(y, r)| {
            let jan1 = days_from_civil(i64::from(y), 1, 1);
            (jan1 + i64::from(*r.start()) - 1, jan1 + i64::from(*r.end()) - 1)
        })
        .collect();
    iv.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (a, b) in iv {
        match out.last_mut() {
            Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// The search of a run: collections, bbox, date intervals.
pub fn search_params(req: &StacRequest<'_>) -> Result<(SearchParams, Bounds)> {
    let bounds = study_bounds(req.areas)?;
    let collections = if req.catalogue.collections.is_empty() { default_collections(&req.catalogue.url, req.options) } else { req.catalogue.collections.clone() };
    let p = SearchParams {
        collections,
        bbox: Some(lonlat_bbox(&bounds)?),
        intersects: None,
        intervals: date_intervals(&req.options.composite, req.years),
        limit: req.catalogue.page_limit,
        max_pages: 10_000,
        query: None,
    };
    Ok((p, bounds))
}

/// Whether an item is used by the run: a product it reads, an accepted platform, a date in the
/// window of one of the years.
pub fn item_wanted(item: &Item, options: &RseiRunOptions, years: &[i32]) -> bool {
    products_needed(options).contains(&item.product.kind)
        && options.platforms.accepts(item.product.platform)
        && years.iter().any(|&y| options.composite.in_window(y, i32::from(item.date.year), item.date.doy))
}

/// Searches the catalogue and keeps the items the run uses. No item left is an error naming the
/// search and what filtered the items out.
pub fn search(cat: &Catalogue, req: &StacRequest<'_>, progress: &dyn Progress) -> Result<(Vec<Item>, SearchParams, Bounds)> {
    let (params, bounds) = search_params(req)?;
    progress.message(&format!("searching {} for {}", req.catalogue.url, params.collections.join(", ")));
    let found = cat.search(&params, &|n| progress.message(&format!("searching: {n} item(s)"))).map_err(stac_error)?;
    let n_found = found.len();
    let items: Vec<Item> = found.into_iter().filter(|it| item_wanted(it, req.options, req.years)).collect();
    if items.is_empty() {
        return Err(stac_error(none_wanted(n_found, req, &params)));
    }
    Ok((items, params, bounds))
}

/// The error of a search whose `n_found` items are all left out by [`item_wanted`].
pub fn none_wanted(n_found: usize, req: &StacRequest<'_>, params: &SearchParams) -> StacError {
    let plat = match req.options.platforms {
        Platforms::Terra => Platform::Terra,
        Platforms::Aqua => Platform::Aqua,
        Platforms::Both => Platform::Terra,
    };
    StacError::EmptySearch {
        what: format!(
            "{} item(s) matched {} but none is a {:?} granule of the products read ({}) dated in the composite windows",
            n_found,
            rsei_stac::catalogue::describe_search(&req.catalogue.url, params),
            plat,
            products_needed(req.options).iter().map(|k| k.code()).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub(crate) struct FetchBar<'a>(pub(crate) &'a dyn Progress);

impl FetchProgress for FetchBar<'_> {
    fn total(&self, n: u64) {
        self.0.add_total(n);
    }
    fn done(&self, _asset: &str, _cached: bool) {
        self.0.inc(1);
    }
    fn note(&self, line: &str) {
        self.0.println(line);
    }
}

/// Searches, fetches the windows of the layers the run reads (or reads them from the cache) and
/// returns the archive.
pub fn archive_from_stac(req: &StacRequest<'_>, progress: &dyn Progress) -> Result<StacArchive> {
    let cat = Catalogue::new(req.catalogue.clone(), req.default_cache.clone()).map_err(stac_error)?;
    let (items, _params, bounds) = search(&cat, req, progress)?;
    progress.message(&format!("fetching {} item(s) from {}", items.len(), req.catalogue.url));
    let fetcher = cat.fetcher();
    let (granules, notes, stats) = fetcher
        .granules(&items, &|it: &Item| it.product.kind.required_layers().to_vec(), &bounds, &FetchBar(progress))
        .map_err(stac_error)?;
    let mut archive = Archive { folders: vec![PathBuf::from(req.catalogue.url.clone())], inventory: Inventory { granules, rejected: Vec::new() } };
    archive.inventory.granules.sort_by_key(|g| (g.product, g.tile, g.date));
    Ok(StacArchive { archive, items, notes, stats })
}

/// Day count of an item's date (for tables).
pub fn item_day(item: &Item) -> i64 {
    modis_date_days(item.date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_merge_the_windows() {
        let c = CompositeOptions::default();
        // 2019 and 2020: seasons 2018..2021, June 1 – Sept 30 each
        let iv = date_intervals(&c, &[2019, 2020]);
        assert_eq!(iv.len(), 4);
        assert_eq!(rsei_stac::time::format_date(iv[0].0), "2018-06-01");
        assert_eq!(rsei_stac::time::format_date(iv[3].1), "2021-09-30");
        let mut whole = c.clone();
        whole.season = rsei_core::composite::Season { start: (1, 1), end: (12, 31) };
        assert_eq!(date_intervals(&whole, &[2019]).len(), 1, "consecutive whole years merge");
    }

    #[test]
    fn collections_by_catalogue() {
        let o = RseiRunOptions::default();
        assert_eq!(default_collections("https://planetarycomputer.microsoft.com/api/stac/v1", &o), ["modis-09A1-061", "modis-13A1-061", "modis-11A2-061"]);
        let mut o2 = o.clone();
        o2.platforms = Platforms::Both;
        o2.ndvi_source = NdviSource::Mod09a1;
        assert_eq!(default_collections(CMR_LPCLOUD_API, &o2), ["MOD09A1_061", "MYD09A1_061", "MOD11A2_061", "MYD11A2_061"]);
    }
}
