//! Landsat Collection 2 Level-2 and Sentinel-2 L2A scenes from a STAC catalogue
//! (`--stac URL --collection landsat-c2-l2` / `sentinel-2-l2a`): search, Level-2 filter, fetch of
//! the metadata asset and of the band windows, laid out as scene folders, and the
//! [`SceneInventory`] that [`crate::scenes::run`] takes — the same run as for a folder of scenes.
//!
//! ```text
//! areas ─▶ lon/lat box + 2 km ───────────────┐
//! years × composite window ─▶ dates ─────────┼─▶ search (cached; eo:cloud_cover) ─▶ items
//! scene collections ─────────────────────────┘   Level-2 (landsat:correction), platform, dates ─┘ │ notes
//!   per item: metadata asset ─▶ profile (from the file) ─▶ band + QA windows ─▶ CACHE/scenes/<item>/
//!   read_scene(each folder) ─▶ SceneInventory ─▶ scenes::run
//! Sentinel-2 heat: modis-11A2-061 in the collections (MOD11A2 windows, `--s2-heat mod11a2`) or
//!   landsat-c2-l2 (`--s2-heat landsat`)
//! ```
//!
//! MODIS reflectance collections (MOD09A1, MOD13A1) and scene collections cannot be mixed in one
//! run; MOD11A2 may be added to `sentinel-2-l2a` only, for the heat.

use std::path::PathBuf;

use rsei_core::Crs;
use rsei_io::scenes::SceneInventory;
use rsei_stac::fetch::{AssetVersion, FetchStats};
use rsei_stac::scene::{fetch_scenes, SceneFamily, SceneItem, LANDSAT_C2_L2, SCENE_COLLECTIONS, SENTINEL2_L2A};
use rsei_stac::search::SearchParams;
use rsei_stac::{Catalogue, CatalogueOptions, StacError};

use crate::archive::Archive;
use crate::error::{Error, Result};
use crate::options::RseiRunOptions;
use crate::progress::Progress;
use crate::scenes::S2Heat;
use crate::area::StudyArea;
use crate::stac_input::{date_intervals, stac_error, FetchBar, StacRequest, WINDOW_MARGIN_M};

/// Filters of a scene search besides area and dates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SceneFilter {
    /// Largest `eo:cloud_cover` (%) of an item used; `None`: no limit.
    pub max_cloud: Option<f64>,
    /// `platform` values accepted (`landsat-8`, `sentinel-2b`; case-insensitive); empty: all.
    pub platforms: Vec<String>,
}

/// What the `--collection` list of a catalogue run asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CollectionPlan {
    /// MODIS granules (the default).
    Modis,
    /// Landsat / Sentinel-2 scenes, and MODIS collections giving Sentinel-2 its heat (MOD11A2).
    Scenes {
        /// Scene collections (`landsat-c2-l2`, `sentinel-2-l2a`).
        scenes: Vec<String>,
        /// MOD11A2 collections for the heat of Sentinel-2.
        heat: Vec<String>,
    },
}

impl CollectionPlan {
    /// Classifies collection ids; MODIS reflectance or NDVI collections beside scene collections
    /// are an error, and so is MOD11A2 without `sentinel-2-l2a`.
    pub fn of(collections: &[String]) -> Result<CollectionPlan> {
        let (scenes, other): (Vec<String>, Vec<String>) = collections.iter().cloned().partition(|c| SceneFamily::of_collection(c).is_some());
        if scenes.is_empty() {
            return Ok(CollectionPlan::Modis);
        }
        let (heat, rest): (Vec<String>, Vec<String>) = other.into_iter().partition(|c| c.to_ascii_uppercase().contains("11A2"));
        if !rest.is_empty() {
            return Err(Error::option(
                "--collection",
                format!(
                    "--collection: {} and {} cannot be mixed in one run: scene collections ({}) give RSEI from Landsat / Sentinel-2 scenes, MODIS collections from MODIS granules; run them separately (only a MOD11A2 collection may be added, to give Sentinel-2 its heat)",
                    rest.join(", "),
                    scenes.join(", "),
                    SCENE_COLLECTIONS.join(", ")
                ),
            ));
        }
        if !heat.is_empty() && !scenes.iter().any(|c| SceneFamily::of_collection(c) == Some(SceneFamily::Sentinel2)) {
            return Err(Error::option(
                "--collection",
                format!("--collection: {} gives heat to {SENTINEL2_L2A} only (Landsat Level-2 has its own thermal band); leave it out or add {SENTINEL2_L2A}", heat.join(", ")),
            ));
        }
        Ok(CollectionPlan::Scenes { scenes, heat })
    }

    /// Checks that Sentinel-2 can get its heat as `s2_heat` asks: from a MOD11A2 collection or
    /// from `landsat-c2-l2`.
    pub fn check_heat(&self, s2_heat: S2Heat) -> Result<()> {
        let CollectionPlan::Scenes { scenes, heat } = self else { return Ok(()) };
        let has = |f: SceneFamily| scenes.iter().any(|c| SceneFamily::of_collection(c) == Some(f));
        if !has(SceneFamily::Sentinel2) {
            return Ok(());
        }
        match s2_heat {
            S2Heat::Mod11a2 if heat.is_empty() => Err(Error::option(
                "--collection",
                format!("--collection: {SENTINEL2_L2A} has no thermal band: add modis-11A2-061 to --collection for MOD11A2 heat (`--s2-heat mod11a2`, the default), or add {LANDSAT_C2_L2} and choose `--s2-heat landsat`"),
            )),
            S2Heat::Landsat if !has(SceneFamily::Landsat) => Err(Error::option(
                "--collection",
                format!("--collection: `--s2-heat landsat` takes the heat of {SENTINEL2_L2A} from Landsat C2 L2SP scenes: add {LANDSAT_C2_L2} to --collection"),
            )),
            _ => Ok(()),
        }
    }
}

/// The scenes of a catalogue run.
pub struct StacScenes {
    /// The scenes, as a folder scan gives them (their files are in `CACHE/scenes/<item>/`).
    pub inventory: SceneInventory,
    /// MOD11A2 granules from the catalogue (heat of Sentinel-2), when asked for.
    pub heat: Option<Archive>,
    /// The items used.
    pub items: Vec<SceneItem>,
    /// Notes (items left out and why).
    pub notes: Vec<String>,
    /// Counts of the fetch (scenes and heat granules).
    pub stats: FetchStats,
    /// The asset version held by each staged scene file.
    pub versions: std::collections::BTreeMap<PathBuf, AssetVersion>,
}

/// The lon/lat box of the areas grown by [`WINDOW_MARGIN_M`] (in degrees at the box's latitude):
/// the search box, and the bounds whose windows are read, transformed into each scene's own CRS
/// (a UTM zone). Longitude and latitude keep that box close to the area, where the sinusoidal
/// plane of MODIS, sheared far from its central meridian, would not.
pub fn scene_bounds(areas: &[StudyArea]) -> Result<rsei_core::Bounds> {
    let ll = Crs::new("EPSG:4326");
    let mut b: Option<rsei_core::Bounds> = None;
    for a in areas {
        let poly = rsei_io::vector::reproject(&a.polygon, &Crs::modis_sinusoidal(), &ll)?;
        let ab = rsei_core::zonal::PreparedPolygon::new(&poly)?.bounds();
        b = Some(match b {
            None => ab,
            Some(u) => rsei_core::Bounds::new(u.xmin.min(ab.xmin), u.ymin.min(ab.ymin), u.xmax.max(ab.xmax), u.ymax.max(ab.ymax)),
        });
    }
    let b = b.ok_or_else(|| Error::msg("no study area"))?;
    let dlat = WINDOW_MARGIN_M / 111_000.0;
    let coslat = b.ymin.abs().max(b.ymax.abs()).to_radians().cos().max(0.01);
    let dlon = dlat / coslat;
    Ok(rsei_core::Bounds::new((b.xmin - dlon).max(-180.0), (b.ymin - dlat).max(-90.0), (b.xmax + dlon).min(180.0), (b.ymax + dlat).min(90.0)))
}

/// The search of a scene run: the scene collections, the lon/lat box of the areas (+ margin,
/// [`scene_bounds`]), the composite windows of the years, and a `query` for cloud cover (the
/// platform is filtered here, case-insensitively: catalogues spell it `landsat-8`, `Sentinel-2B`).
pub fn search_params(req: &StacRequest<'_>, collections: &[String], filter: &SceneFilter) -> Result<(SearchParams, rsei_core::Bounds)> {
    let bounds = scene_bounds(req.areas)?;
    let mut query = serde_json::Map::new();
    if let Some(c) = filter.max_cloud {
        query.insert("eo:cloud_cover".into(), serde_json::json!({"lte": c}));
    }
    let p = SearchParams {
        collections: collections.to_vec(),
        bbox: Some([bounds.xmin, bounds.ymin, bounds.xmax, bounds.ymax]),
        intersects: None,
        intervals: date_intervals(&req.options.composite, req.years),
        limit: req.catalogue.page_limit,
        max_pages: 10_000,
        query: (!query.is_empty()).then_some(serde_json::Value::Object(query)),
    };
    Ok((p, bounds))
}

/// Why an item is not used (dates, cloud cover, platform, level), `None` when it is.
pub fn left_out(item: &SceneItem, options: &RseiRunOptions, years: &[i32], filter: &SceneFilter) -> Option<String> {
    if let Some(why) = item.not_level2() {
        return Some(why);
    }
    let in_window = item.date().is_some_and(|d| years.iter().any(|&y| options.composite.in_window(y, i32::from(d.year), d.doy)));
    if !in_window {
        return Some(format!("its date {} is outside the composite windows", item.date_text()));
    }
    if let (Some(max), Some(c)) = (filter.max_cloud, item.cloud_cover) {
        if c > max {
            return Some(format!("eo:cloud_cover {c} is above --max-cloud {max}"));
        }
    }
    if !filter.platforms.is_empty() {
        let p = item.platform.clone().unwrap_or_default();
        if !filter.platforms.iter().any(|f| f.eq_ignore_ascii_case(&p)) {
            return Some(format!("platform {p:?} is not among {}", filter.platforms.join(", ")));
        }
    }
    None
}

impl SceneFilter {
    /// The filter of a study's `[data.stac]` (`max_cloud`, `platforms`).
    pub fn of_catalogue(o: &CatalogueOptions) -> SceneFilter {
        SceneFilter { max_cloud: o.max_cloud, platforms: o.platforms.clone() }
    }
}

/// The items of a search a run uses (those reaching `bbox`, not left out by [`left_out`]), and a
/// note for each item left out.
pub fn select(found: Vec<SceneItem>, bbox: [f64; 4], options: &RseiRunOptions, years: &[i32], filter: &SceneFilter) -> (Vec<SceneItem>, Vec<String>) {
    let mut items = Vec::new();
    let mut notes = Vec::new();
    for it in found {
        if !it.overlaps(bbox) {
            continue;
        }
        match left_out(&it, options, years, filter) {
            Some(why) => notes.push(format!("note: item {} ({}) is not used: {why}", it.id, it.collection)),
            None => items.push(it),
        }
    }
    (items, notes)
}

/// Searches the scene collections and keeps the items the run uses; the others are named in
/// notes. None left is an error that says why each item was left out.
pub fn search(cat: &Catalogue, req: &StacRequest<'_>, collections: &[String], filter: &SceneFilter, progress: &dyn Progress) -> Result<(Vec<SceneItem>, Vec<String>, SearchParams, rsei_core::Bounds)> {
    let (params, bounds) = search_params(req, collections, filter)?;
    progress.message(&format!("searching {} for {}", req.catalogue.url, params.collections.join(", ")));
    let found = cat.search_scenes(&params, &|n| progress.message(&format!("searching: {n} item(s)"))).map_err(stac_error)?;
    let bbox = params.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    let (items, notes) = select(found, bbox, req.options, req.years, filter);
    if items.is_empty() {
        return Err(stac_error(StacError::EmptySearch {
            what: format!("no usable item for {}{}", rsei_stac::catalogue::describe_search(&req.catalogue.url, &params), if notes.is_empty() { String::new() } else { format!(":\n  {}", notes.join("\n  ")) }),
        }));
    }
    Ok((items, notes, params, bounds))
}

/// Searches, fetches (or reads from the cache) the scenes and, for Sentinel-2 with MOD11A2 heat,
/// the MOD11A2 granules; returns the inventory a scene run takes.
pub fn scenes_from_stac(req: &StacRequest<'_>, plan: &CollectionPlan, filter: &SceneFilter, progress: &dyn Progress) -> Result<StacScenes> {
    let CollectionPlan::Scenes { scenes, .. } = plan else { return Err(Error::msg("not a scene run: no scene collection")) };
    let cat = scene_catalogue(req, scenes)?;
    let (items, notes, _params, _bounds) = search(&cat, req, scenes, filter, progress)?;
    fetch_items(req, plan, items, notes, progress)
}

/// The catalogue of the scene collections.
fn scene_catalogue(req: &StacRequest<'_>, scenes: &[String]) -> Result<Catalogue> {
    let mut opts: CatalogueOptions = req.catalogue.clone();
    opts.collections = scenes.to_vec();
    Catalogue::new(opts, req.default_cache.clone()).map_err(stac_error)
}

/// Fetches (or reads from the cache) the scenes of `items`, found by a search of the scene
/// collections of `plan`, over the areas of `req` and, for Sentinel-2 with MOD11A2 heat, searches
/// and fetches the MOD11A2 granules; returns the inventory a scene run takes (`notes` first
/// among its notes).
pub fn fetch_items(req: &StacRequest<'_>, plan: &CollectionPlan, items: Vec<SceneItem>, mut notes: Vec<String>, progress: &dyn Progress) -> Result<StacScenes> {
    let CollectionPlan::Scenes { scenes, heat } = plan else { return Err(Error::msg("not a scene run: no scene collection")) };
    let cat = scene_catalogue(req, scenes)?;
    let bounds = scene_bounds(req.areas)?;
    progress.message(&format!("fetching {} scene(s) from {}", items.len(), req.catalogue.url));
    let stage = cat.cache.dir().join("scenes");
    let fetched = fetch_scenes(&cat.fetcher(), &items, &bounds, &Crs::new("EPSG:4326"), &stage, &FetchBar(progress)).map_err(stac_error)?;
    notes.extend(fetched.notes.iter().cloned());
    let mut inventory = SceneInventory::default();
    for s in &fetched.scenes {
        let scene = rsei_io::scenes::read_scene(&s.metadata).map_err(|e| Error::msg(format!("item {} of {}: {e}", s.item, req.catalogue.url)))?;
        inventory.scenes.push(scene);
    }
    inventory.scenes.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let mut stats = fetched.stats.clone();
    let heat = if heat.is_empty() {
        None
    } else {
        let mut o = req.catalogue.clone();
        o.collections = heat.clone();
        let hreq = StacRequest { catalogue: &o, areas: req.areas, years: req.years, options: req.options, default_cache: req.default_cache.clone() };
        let a = crate::stac_input::archive_from_stac(&hreq, progress)?;
        notes.extend(a.notes);
        stats.assets += a.stats.assets;
        stats.from_cache += a.stats.from_cache;
        stats.fetched += a.stats.fetched;
        stats.bytes_fetched += a.stats.bytes_fetched;
        Some(a.archive)
    };
    Ok(StacScenes { inventory, heat, items, notes, stats, versions: fetched.versions })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn collection_plans() {
        assert_eq!(CollectionPlan::of(&[]).unwrap(), CollectionPlan::Modis);
        assert_eq!(CollectionPlan::of(&v(&["modis-09A1-061"])).unwrap(), CollectionPlan::Modis);
        let p = CollectionPlan::of(&v(&["sentinel-2-l2a", "modis-11A2-061"])).unwrap();
        assert_eq!(p, CollectionPlan::Scenes { scenes: v(&["sentinel-2-l2a"]), heat: v(&["modis-11A2-061"]) });
        assert!(p.check_heat(S2Heat::Mod11a2).is_ok());
        assert!(p.check_heat(S2Heat::Landsat).unwrap_err().to_string().contains("add landsat-c2-l2"));
        let e = CollectionPlan::of(&v(&["landsat-c2-l2", "modis-09A1-061"])).unwrap_err().to_string();
        assert!(e.contains("cannot be mixed") && e.contains("modis-09A1-061"), "{e}");
        assert!(CollectionPlan::of(&v(&["landsat-c2-l2", "modis-11A2-061"])).unwrap_err().to_string().contains("sentinel-2-l2a only"));
        let s2 = CollectionPlan::of(&v(&["sentinel-2-l2a"])).unwrap();
        assert!(s2.check_heat(S2Heat::Mod11a2).unwrap_err().to_string().contains("add modis-11A2-061"));
        assert!(CollectionPlan::of(&v(&["sentinel-2-l2a", "landsat-c2-l2"])).unwrap().check_heat(S2Heat::Landsat).is_ok());
    }
}
