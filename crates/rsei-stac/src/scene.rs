//! Landsat Collection 2 Level-2 (`landsat-c2-l2`) and Sentinel-2 L2A (`sentinel-2-l2a`) items as
//! scenes: the item's properties (date, platform, cloud cover, `landsat:correction`,
//! `s2:processing_baseline`, `proj:epsg` / `proj:code`), its metadata asset and its band assets.
//!
//! ```text
//! item ─▶ Level-2? (landsat:correction L2SP | L2SR; else left out with a note)
//!      ─▶ metadata asset (mtl.txt | mtl.xml; product-metadata = MTD_MSIL2A.xml), whole, cached
//!      ─▶ profile from that file (never from the item), cross-checked with the item's properties
//!      ─▶ windows of the bands the profile reads + QA (qa_pixel, qa_radsat | SCL) over the study
//!         bounds, transformed into the CRS of each asset's own header, cached
//!      ─▶ CACHE/scenes/<item>/: mtl.txt + red.tif, nir08.tif … | MTD_MSIL2A.xml + B02.tif … SCL.tif
//! ```
//!
//! The staged folder is the "STAC-named per-band files" layout that [`rsei_io::scenes`] reads, so
//! a scene from a catalogue is read by the same code as a scene in a folder.
//!
//! Asset keys (Planetary Computer): `landsat-c2-l2` — `blue`, `green`, `red`, `nir08`, `swir16`,
//! `swir22`, `lwir11` (Landsat 8/9) or `lwir` (4–7), `qa_pixel`, `qa_radsat`, `mtl.txt`, `mtl.xml`,
//! `mtl.json`; `sentinel-2-l2a` — `B02`, `B03`, `B04`, `B08`, `B8A`, `B11`, `B12`, `SCL`,
//! `product-metadata` (MTD_MSIL2A.xml), `granule-metadata`. Lower-case band names (`blue`,
//! `nir08`, `scl`, as other catalogues name them) are accepted too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use rsei_core::sensor::SensorProfile;
use rsei_core::{Bounds, Crs};
use rsei_io::naming::ModisDate;
use serde::Serialize;

use crate::cache::safe_name;
use crate::error::{Result, StacError};
use crate::fetch::{AssetVersion, FetchProgress, FetchStats, Fetcher, Got};
use crate::item::{num, parse_assets, Asset};
use crate::time::{civil_from_days, days_from_civil, parse_rfc3339};

/// Planetary Computer collection of Landsat Collection 2 Level-2 scenes.
pub const LANDSAT_C2_L2: &str = "landsat-c2-l2";
/// Planetary Computer collection of Sentinel-2 Level-2A scenes.
pub const SENTINEL2_L2A: &str = "sentinel-2-l2a";
/// The scene collections rsei reads.
pub const SCENE_COLLECTIONS: [&str; 2] = [LANDSAT_C2_L2, SENTINEL2_L2A];

/// The family of a scene collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SceneFamily {
    /// Landsat Collection 2 Level-2.
    Landsat,
    /// Sentinel-2 L2A.
    Sentinel2,
}

impl SceneFamily {
    /// The family of a collection id, `None` for any other collection.
    pub fn of_collection(collection: &str) -> Option<SceneFamily> {
        match collection.trim().to_ascii_lowercase().as_str() {
            LANDSAT_C2_L2 => Some(SceneFamily::Landsat),
            SENTINEL2_L2A => Some(SceneFamily::Sentinel2),
            _ => None,
        }
    }

    /// Keys of the metadata asset in order of preference, each with the file name it is staged as.
    pub fn metadata_assets(self) -> &'static [(&'static str, &'static str)] {
        match self {
            SceneFamily::Landsat => &[("mtl.txt", "mtl.txt"), ("mtl.xml", "mtl.xml")],
            SceneFamily::Sentinel2 => &[("product-metadata", "MTD_MSIL2A.xml")],
        }
    }
}

/// A STAC item that is a Landsat C2 L2 or Sentinel-2 L2A scene.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SceneItem {
    pub id: String,
    pub collection: String,
    pub family: SceneFamily,
    /// Acquisition time (seconds since 1970-01-01, UTC).
    pub datetime: i64,
    /// `platform`: `landsat-8`, `Sentinel-2B` …
    pub platform: Option<String>,
    /// `eo:cloud_cover` (%).
    pub cloud_cover: Option<f64>,
    /// `landsat:correction`: `L2SP`, `L2SR` (Level-1 items say `L1TP` …).
    pub correction: Option<String>,
    /// `s2:processing_baseline`: `04.00`.
    pub processing_baseline: Option<String>,
    /// `proj:epsg` (or the code of `proj:code`).
    pub epsg: Option<u32>,
    /// `[west, south, east, north]` in degrees.
    pub bbox: Option<[f64; 4]>,
    /// Assets by key, hrefs resolved.
    pub assets: BTreeMap<String, Asset>,
}

impl SceneItem {
    /// Reads an item of a scene collection (GeoJSON Feature); `base` resolves relative hrefs.
    pub fn from_json(v: &serde_json::Value, base: &str, collection_hint: Option<&str>) -> Result<SceneItem> {
        let id = v.get("id").and_then(|x| x.as_str()).unwrap_or("").to_string();
        let collection = v.get("collection").and_then(|x| x.as_str()).or(collection_hint).unwrap_or("").to_string();
        let bad = |reason: String| StacError::BadItem { item: if id.is_empty() { "(no id)".into() } else { id.clone() }, collection: collection.clone(), reason };
        if id.is_empty() {
            return Err(bad(format!("a feature without \"id\" in {base}")));
        }
        let family = SceneFamily::of_collection(&collection)
            .ok_or_else(|| bad(format!("not an item of a scene collection ({}): a catalogue's MODIS and scene collections cannot be mixed in one search", SCENE_COLLECTIONS.join(", "))))?;
        let props = v.get("properties").cloned().unwrap_or(serde_json::Value::Null);
        let s = |k: &str| props.get(k).and_then(|x| x.as_str()).map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        let datetime = ["datetime", "start_datetime"]
            .iter()
            .find_map(|k| props.get(*k).and_then(|x| x.as_str()).and_then(parse_rfc3339))
            .ok_or_else(|| bad("no date: neither datetime nor start_datetime".into()))?;
        let epsg = props
            .get("proj:epsg")
            .and_then(num)
            .map(|e| e as u32)
            .or_else(|| s("proj:code").and_then(|c| c.to_ascii_uppercase().strip_prefix("EPSG:").and_then(|n| n.parse().ok())));
        let bbox = v.get("bbox").and_then(|b| b.as_array()).and_then(|a| {
            let n: Vec<f64> = a.iter().filter_map(num).collect();
            match n.len() {
                4 => Some([n[0], n[1], n[2], n[3]]),
                6 => Some([n[0], n[1], n[3], n[4]]),
                _ => None,
            }
        });
        Ok(SceneItem {
            platform: s("platform"),
            cloud_cover: props.get("eo:cloud_cover").and_then(num),
            correction: s("landsat:correction"),
            processing_baseline: s("s2:processing_baseline"),
            epsg,
            bbox,
            assets: parse_assets(v, base),
            family,
            datetime,
            id,
            collection,
        })
    }

    /// Day count (days since 1970-01-01) of the acquisition.
    pub fn day(&self) -> i64 {
        self.datetime.div_euclid(86_400)
    }

    /// The acquisition date as (year, day of year).
    pub fn date(&self) -> Option<ModisDate> {
        let (y, _, _) = civil_from_days(self.day());
        let doy = self.day() - days_from_civil(y, 1, 1) + 1;
        ModisDate::new(u16::try_from(y).ok()?, u16::try_from(doy).ok()?)
    }

    /// `YYYY-MM-DD` of the acquisition.
    pub fn date_text(&self) -> String {
        crate::time::format_date(self.day())
    }

    /// The processing level the item states: `L2SP` / `L2SR` / `L1TP` (Landsat), `baseline 04.00`
    /// (Sentinel-2), `?` when it says nothing.
    pub fn level(&self) -> String {
        match self.family {
            SceneFamily::Landsat => self.correction.clone().unwrap_or_else(|| "?".into()),
            SceneFamily::Sentinel2 => self.processing_baseline.as_ref().map(|b| format!("baseline {b}")).unwrap_or_else(|| "?".into()),
        }
    }

    /// Why the item is not a Level-2 product, when its properties say so (Landsat
    /// `landsat:correction` other than `L2SP` / `L2SR`).
    pub fn not_level2(&self) -> Option<String> {
        match (self.family, &self.correction) {
            (SceneFamily::Landsat, Some(c)) if !matches!(c.to_ascii_uppercase().as_str(), "L2SP" | "L2SR") => {
                Some(format!("landsat:correction is {c}, not a Level-2 product (only L2SP and L2SR surface reflectance are used)"))
            }
            _ => None,
        }
    }

    /// The metadata asset (key, staged file name, asset).
    pub fn metadata_asset(&self) -> Option<(&'static str, &'static str, &Asset)> {
        self.family.metadata_assets().iter().find_map(|(k, f)| self.assets.get(*k).map(|a| (*k, *f, a)))
    }

    /// The first asset among `keys` (exact key, then case-insensitive).
    pub fn asset_of(&self, keys: &[&str]) -> Option<&Asset> {
        keys.iter().find_map(|k| self.assets.get(*k)).or_else(|| keys.iter().find_map(|k| self.assets.values().find(|a| a.key.eq_ignore_ascii_case(k))))
    }

    /// Whether the item reaches a lon/lat box (an item without bbox is kept).
    pub fn overlaps(&self, b: [f64; 4]) -> bool {
        self.bbox.map_or(true, |a| a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3])
    }
}

/// The profile of a scene from its metadata file (`mtl.txt`, `mtl.xml`, `MTD_MSIL2A.xml`), checked
/// against what the item states; `key` names the asset in messages.
pub fn profile_of(item: &SceneItem, key: &str, path: &Path) -> Result<SensorProfile> {
    let bad = |reason: String| StacError::BadItem { item: item.id.clone(), collection: item.collection.clone(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("metadata asset {key:?} cannot be read ({}): {e}", path.display())))?;
    match item.family {
        SceneFamily::Landsat => {
            let m = if key.ends_with(".xml") { rsei_io::scenes::parse_mtl_xml(&text) } else { rsei_io::scenes::parse_mtl_txt(&text) }
                .map_err(|r| bad(format!("metadata asset {key:?}: {r}")))?;
            if let Some(c) = &item.correction {
                if !m.processing_level.trim().eq_ignore_ascii_case(c) {
                    return Err(bad(format!(
                        "the item and its metadata disagree: the item says landsat:correction {c}, its metadata asset {key:?} says PROCESSING_LEVEL {:?}",
                        m.processing_level
                    )));
                }
            }
            SensorProfile::from_landsat(&m).map_err(|e| bad(format!("metadata asset {key:?}: {e}")))
        }
        SceneFamily::Sentinel2 => {
            let m = rsei_io::scenes::parse_s2_metadata(&text).map_err(|r| bad(format!("metadata asset {key:?}: {r}")))?;
            if let Some(b) = &item.processing_baseline {
                let same = match (b.trim().parse::<f64>(), m.processing_baseline.trim().parse::<f64>()) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => b.trim() == m.processing_baseline.trim(),
                };
                if !same {
                    return Err(bad(format!(
                        "the item and its metadata disagree: the item says s2:processing_baseline {b}, its metadata asset {key:?} (MTD_MSIL2A.xml) says PROCESSING_BASELINE {:?}",
                        m.processing_baseline
                    )));
                }
            }
            SensorProfile::from_sentinel2(&m).map_err(|e| bad(format!("metadata asset {key:?}: {e}")))
        }
    }
}

/// A scene laid out as a folder: what [`rsei_io::scenes::read_scene`] reads.
#[derive(Clone, Debug)]
pub struct StagedScene {
    /// Item id.
    pub item: String,
    /// The scene folder (`CACHE/scenes/<item>`).
    pub folder: PathBuf,
    /// The metadata file in it.
    pub metadata: PathBuf,
    /// The profile its metadata selects.
    pub profile: SensorProfile,
}

/// What [`fetch_scenes`] gives.
#[derive(Clone, Debug, Default)]
pub struct SceneFetch {
    /// The scenes (in item order), laid out as folders.
    pub scenes: Vec<StagedScene>,
    /// Notes (items that do not reach the study areas).
    pub notes: Vec<String>,
    /// Counts of the fetch.
    pub stats: FetchStats,
    /// The asset version held by each staged file.
    pub versions: BTreeMap<PathBuf, AssetVersion>,
}

/// Runs `f` over `tasks` on up to `workers` threads; results in task order, the first error (in
/// task order) wins. Offline, every missing cache entry is named in one error.
fn par_map<T: Sync, R: Send>(workers: usize, offline: bool, tasks: &[T], f: impl Fn(&T) -> Result<R> + Sync) -> Result<Vec<R>> {
    let results: Vec<Mutex<Option<Result<R>>>> = tasks.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..workers.clamp(1, 16).min(tasks.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= tasks.len() || failed.load(Ordering::Relaxed) {
                    break;
                }
                let r = f(&tasks[i]);
                if let Err(e) = &r {
                    if !(offline && matches!(e, StacError::NotCached { .. })) {
                        failed.store(true, Ordering::Relaxed);
                    }
                }
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    let mut out = Vec::with_capacity(tasks.len());
    let mut missing: Vec<String> = Vec::new();
    let mut cache_dir = PathBuf::new();
    for slot in results {
        match slot.into_inner().ok().flatten() {
            Some(Ok(r)) => out.push(r),
            Some(Err(StacError::NotCached { what, cache })) if offline => {
                missing.push(what);
                cache_dir = cache;
            }
            Some(Err(e)) => return Err(e),
            None => return Err(StacError::Cache { path: PathBuf::new(), reason: "a fetch task did not run".into() }),
        }
    }
    if !missing.is_empty() {
        return Err(StacError::NotCached { what: missing.join("; "), cache: cache_dir });
    }
    Ok(out)
}

/// Puts `from` (a cached file) at `to`: a hard link, or a copy where links cannot be made.
fn place(from: &Path, to: &Path) -> Result<()> {
    let _ = std::fs::remove_file(to);
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).map(|_| ()).map_err(|e| crate::error::cache_write_error(to, &e))
}

/// The band and QA assets a scene of `profile` reads: (asset keys to try, required).
fn wanted_keys(item: &SceneItem, profile: &SensorProfile) -> Vec<(Vec<String>, String, bool)> {
    let mut v: Vec<(Vec<String>, String, bool)> = profile
        .bands
        .iter()
        .map(|b| {
            let keys = match item.family {
                SceneFamily::Landsat => vec![b.stac_key.to_string()],
                SceneFamily::Sentinel2 => vec![b.name.to_string(), b.stac_key.to_string()],
            };
            (keys, format!("{} ({:?})", b.name, b.role), true)
        })
        .collect();
    match item.family {
        SceneFamily::Landsat => {
            v.push((vec!["qa_pixel".into()], "QA_PIXEL".into(), true));
            v.push((vec!["qa_radsat".into()], "QA_RADSAT".into(), false));
        }
        SceneFamily::Sentinel2 => v.push((vec!["SCL".into(), "scl".into()], "SCL".into(), true)),
    }
    v
}

/// Fetches the scenes of `items` over `bounds` (given in `bounds_crs`) and lays each out as a
/// folder under `stage` (see the module docs). An item without its metadata asset or a band asset
/// its profile reads is an error naming the item and the key; an item whose metadata disagree
/// with its properties is an error naming both; an item that does not reach the bounds is left
/// out with a note.
pub fn fetch_scenes(fetcher: &Fetcher<'_>, items: &[SceneItem], bounds: &Bounds, bounds_crs: &Crs, stage: &Path, progress: &dyn FetchProgress) -> Result<SceneFetch> {
    // 1. the metadata asset of every item, whole
    let mut meta_tasks = Vec::with_capacity(items.len());
    for it in items {
        let Some((key, fname, asset)) = it.metadata_asset() else {
            let keys: Vec<String> = it.family.metadata_assets().iter().map(|(k, _)| format!("{k:?}")).collect();
            let have: Vec<&str> = it.assets.keys().map(String::as_str).collect();
            return Err(StacError::BadItem {
                item: it.id.clone(),
                collection: it.collection.clone(),
                reason: format!("no metadata asset {} (the scene's profile is read from it; its assets: {})", keys.join(" or "), have.join(", ")),
            });
        };
        meta_tasks.push((it, key, fname, asset.href.clone()));
    }
    progress.total(meta_tasks.len() as u64);
    let stats = Mutex::new(FetchStats::default());
    let metas: Vec<Got> = par_map(fetcher.workers, fetcher.offline, &meta_tasks, |(it, key, fname, href)| {
        let g = fetcher.fetch_file("the metadata asset", &it.id, key, href, &format!("{}_{fname}", safe_name(&it.id)), &stats)?;
        progress.done(&format!("{} {key}", it.id), g.cached);
        Ok(g)
    })?;
    fetcher.cache.save()?;
    // 2. the profile of each from its metadata, checked against the item
    let mut profiles = Vec::with_capacity(items.len());
    for ((it, key, _, _), g) in meta_tasks.iter().zip(&metas) {
        profiles.push(profile_of(it, key, &g.path)?);
    }
    // 3. the windows of the bands and QA layers the profile reads
    let mut tasks: Vec<(usize, String, String)> = Vec::new();
    for (i, (it, p)) in items.iter().zip(&profiles).enumerate() {
        for (keys, what, required) in wanted_keys(it, p) {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            match it.asset_of(&refs) {
                Some(a) => tasks.push((i, a.key.clone(), a.href.clone())),
                None if required => {
                    return Err(StacError::MissingAsset {
                        item: it.id.clone(),
                        collection: it.collection.clone(),
                        layer: what,
                        key: keys[0].clone(),
                        available: it.assets.keys().cloned().collect(),
                    })
                }
                None => {}
            }
        }
    }
    progress.total(tasks.len() as u64);
    let windows = par_map(fetcher.workers, fetcher.offline, &tasks, |(i, key, href)| {
        let it = &items[*i];
        let r = fetcher.fetch_window(&it.id, key, href, bounds, Some(bounds_crs), &stats)?;
        if let Some((_, Some(epsg))) = &r {
            if it.epsg.is_some_and(|e| e != *epsg) {
                return Err(StacError::BadItem {
                    item: it.id.clone(),
                    collection: it.collection.clone(),
                    reason: format!("the item says proj:epsg {}, but the header of asset {key:?} says EPSG:{epsg}", it.epsg.unwrap_or_default()),
                });
            }
        }
        progress.done(&format!("{} {key}", it.id), r.as_ref().is_some_and(|(g, _)| g.cached));
        Ok(r.map(|(g, _)| g))
    })?;
    fetcher.cache.save()?;
    // 4. one folder per item
    let mut out = SceneFetch { stats: stats.into_inner().unwrap_or_default(), ..SceneFetch::default() };
    out.stats.assets = metas.len() + windows.len();
    let mut per_item: Vec<Vec<(&str, &Got)>> = vec![Vec::new(); items.len()];
    let mut outside: Vec<bool> = vec![false; items.len()];
    for ((i, key, _), w) in tasks.iter().zip(&windows) {
        match w {
            Some(g) => per_item[*i].push((key.as_str(), g)),
            None => outside[*i] = true,
        }
    }
    for g in metas.iter().chain(windows.iter().flatten()) {
        if g.cached {
            out.stats.from_cache += 1;
        } else {
            out.stats.fetched += 1;
        }
    }
    let mut left_out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if outside[i] {
            left_out.push(it.id.clone());
            continue;
        }
        let folder = stage.join(safe_name(&it.id));
        if folder.exists() {
            std::fs::remove_dir_all(&folder).map_err(|e| crate::error::cache_write_error(&folder, &e))?;
        }
        std::fs::create_dir_all(&folder).map_err(|e| crate::error::cache_write_error(&folder, &e))?;
        let (_, _, fname, _) = &meta_tasks[i];
        let metadata = folder.join(fname);
        place(&metas[i].path, &metadata)?;
        out.versions.insert(metadata.clone(), metas[i].version.clone());
        for (key, g) in &per_item[i] {
            let p = folder.join(format!("{}.tif", safe_name(key)));
            place(&g.path, &p)?;
            out.versions.insert(p, g.version.clone());
        }
        out.scenes.push(StagedScene { item: it.id.clone(), folder, metadata, profile: profiles[i].clone() });
    }
    if !left_out.is_empty() {
        out.notes.push(format!("note: {} item(s) do not reach the study areas and are left out: {}", left_out.len(), left_out.join(", ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: serde_json::Value) -> Result<SceneItem> {
        SceneItem::from_json(&json, "http://h/api/search", None)
    }

    #[test]
    fn planetary_computer_landsat_and_sentinel2_items() {
        let l = item(serde_json::json!({
            "id": "LC08_L2SP_123032_20190712_20200827_02_T1", "collection": "landsat-c2-l2", "bbox": [115.0, 39.0, 118.0, 41.0],
            "properties": {"datetime": "2019-07-12T02:58:00.5Z", "platform": "landsat-8", "eo:cloud_cover": 12.5,
                           "landsat:correction": "L2SP", "proj:epsg": 32650},
            "assets": {"red": {"href": "https://a/red.TIF"}, "mtl.xml": {"href": "https://a/MTL.xml"}, "mtl.txt": {"href": "https://a/MTL.txt"}}
        }))
        .unwrap();
        assert_eq!((l.family, l.epsg, l.cloud_cover), (SceneFamily::Landsat, Some(32650), Some(12.5)));
        assert_eq!((l.date_text(), l.date().map(|d| (d.year, d.doy))), ("2019-07-12".to_string(), Some((2019, 193))));
        assert_eq!(l.metadata_asset().map(|(k, f, _)| (k, f)), Some(("mtl.txt", "mtl.txt")));
        assert!(l.not_level2().is_none());
        assert!(l.overlaps([117.0, 40.0, 117.5, 40.5]) && !l.overlaps([0.0, 0.0, 1.0, 1.0]));
        let l1 = item(serde_json::json!({"id": "x", "collection": "landsat-c2-l2", "properties": {"datetime": "2019-07-12T00:00:00Z", "landsat:correction": "L1TP"}})).unwrap();
        assert!(l1.not_level2().unwrap().contains("L1TP"));
        let s = item(serde_json::json!({"id": "S2B_MSIL2A_x", "collection": "sentinel-2-l2a",
            "properties": {"datetime": "2019-07-20T03:00:00Z", "s2:processing_baseline": "04.00", "proj:code": "EPSG:32650"},
            "assets": {"B02": {"href": "b.tif"}, "product-metadata": {"href": "m.xml"}}})).unwrap();
        assert_eq!((s.family, s.epsg, s.level()), (SceneFamily::Sentinel2, Some(32650), "baseline 04.00".to_string()));
        assert_eq!(s.metadata_asset().map(|(k, f, _)| (k, f)), Some(("product-metadata", "MTD_MSIL2A.xml")));
        assert_eq!(s.asset_of(&["b02"]).map(|a| a.href.as_str()), Some("http://h/api/b.tif"));
        let e = item(serde_json::json!({"id": "MOD09A1.A2019193.h26v05.061.1", "collection": "modis-09A1-061", "properties": {"datetime": "2019-07-12T00:00:00Z"}})).unwrap_err();
        assert!(e.to_string().contains("scene collection"), "{e}");
    }
}
