//! `[data.stac]`: the MODIS granules of a study from a STAC catalogue — or, with the scene
//! collections `landsat-c2-l2` / `sentinel-2-l2a` in `collections`, its Landsat / Sentinel-2
//! scenes.
//!
//! ```text
//! rsei validate   options (paths resolved, rules) ─▶ search (the cached answer when there is one)
//!                 ─▶ items the run reads ─▶ coverage of every area and year (as for folders)
//!                 offline: every asset window the run reads must be in the cache
//! rsei run        the same check, searching afresh (unless offline) ─▶ fetch: per tile, the
//!                 window over the areas on that tile (HEAD: ETag and size; cached or read)
//!                 ─▶ archive of local files ─▶ units keyed by the asset versions they read
//! ```
//!
//! **Scenes.** With scene collections ([`CollectionPlan::Scenes`]), the check searches them (the
//! cached answer first for `rsei validate`), keeps the Level-2 items of the composite windows that
//! pass `max_cloud` and `platforms` ([`SceneCatalogue`]), and the caller names every area and year
//! without one ([`scene_items_of_year`]). `rsei run` fetches each item's metadata asset and the
//! windows of its bands over the areas into `CACHE/scenes/<item>/`
//! ([`crate::stac_scenes::fetch_items`]) and runs the scene units on them; their keys hold the
//! asset versions of the scene files, as below. `scenes` folders and `[data.stac]` are not
//! combined in one study.
//!
//! **Folders and a catalogue together.** A study may have both `modis` folders and `[data.stac]`:
//! the granules of the folders are used as they are, and the catalogue provides the others. An
//! item whose granule (product, platform, tile, date) is already in the folders is not fetched.
//!
//! **Unit keys.** The key of a unit reading a local granule holds the SHA-256 of its files. A
//! window fetched from a catalogue holds only part of a remote file, and its bytes depend on the
//! window asked for (the areas on its tile), so its key part is instead the SHA-256 of the
//! *asset version*: item id, asset key, URL without signature, and the ETag and size the server
//! gave when it was read (offline: those the cache recorded when it fetched the window). A unit is
//! therefore reused exactly while the same assets, in the same versions, feed it: an asset that
//! changes on the server (new ETag or size) gives a new key to the units that read it, and to
//! those only. Adding an area on another tile does not change the key of the others. (A server
//! that sends no ETag is identified by URL and size alone.)

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use rsei_core::grid::modis::{self, Resolution};
use rsei_core::Bounds;
use rsei_io::scan::{Granule, Inventory};
use rsei_stac::fetch::{AssetVersion, FetchProgress, FetchStats};
use rsei_stac::{Catalogue, CatalogueOptions, Item, StacError};
use toml_edit::TableLike;

use super::diag::Diagnostic;
use super::units::{sha256_hex, HashCache};
use super::walk::value_span;
use crate::archive::Archive;
use crate::area::StudyArea;
use crate::error::{Context, Error, Result};
use crate::options::RseiRunOptions;
use crate::progress::Progress;
use crate::scenes::S2Heat;
use crate::stac_input::{item_wanted, none_wanted, search_params, stac_error, StacRequest, WINDOW_MARGIN_M};
use crate::stac_scenes::{CollectionPlan, SceneFilter};
use rsei_stac::scene::SceneItem;

/// The default cache folder of a study, beside the study file (shared by the studies of that
/// folder and by their `--out` folders).
pub const DEFAULT_CACHE: &str = ".rsei-cache";

/// How a check searches the catalogue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchMode {
    /// The cached answer of the same search when there is one (no request), else a search:
    /// `rsei validate`, which should not need the network when the cache can answer.
    #[default]
    PreferCache,
    /// A search (unless offline): `rsei run`, which must see the catalogue as it is now.
    Fresh,
}

/// The catalogue of a checked study.
#[derive(Clone, Debug)]
pub struct StacPlan {
    /// The options of `[data.stac]`, with a local catalogue path and the cache folder resolved
    /// against the study file's folder.
    pub options: CatalogueOptions,
    /// The items the run reads (product, platform and date filters applied; granules already in
    /// the `modis` folders left out).
    pub items: Vec<Item>,
    /// The search was answered by the cache.
    pub search_from_cache: bool,
    /// Remarks of the check (items left out).
    pub notes: Vec<String>,
    /// After the fetch (`rsei run`): the asset version held by each local file of the archive
    /// (or of the scene folders).
    pub assets: BTreeMap<PathBuf, AssetVersion>,
    /// With scene collections (`landsat-c2-l2`, `sentinel-2-l2a`): the scene items the run
    /// fetches (`items` is then empty).
    pub scenes: Option<SceneCatalogue>,
}

/// The Landsat / Sentinel-2 scenes a study takes from its catalogue.
#[derive(Clone, Debug)]
pub struct SceneCatalogue {
    /// Scene collections, and the MOD11A2 collections giving Sentinel-2 its heat.
    pub plan: CollectionPlan,
    /// `max_cloud` and `platforms` of `[data.stac]`.
    pub filter: SceneFilter,
    /// The items the run fetches (Level-2, in a composite window, filters applied).
    pub items: Vec<SceneItem>,
    /// The items of the search left out, each with the reason (`note: item … is not used: …`).
    pub left_out: Vec<(SceneItem, String)>,
    /// QA rules and the heat of Sentinel-2 (`[data] s2_heat`).
    pub options: crate::scenes::SceneOptions,
}

/// What [`check`] needs.
pub struct CheckInput<'a> {
    /// The options as written (`[data.stac]`).
    pub options: &'a CatalogueOptions,
    /// The `[data.stac]` table, for the places of its keys.
    pub table: Option<&'a dyn TableLike>,
    /// The place of its header.
    pub span: Option<Range<usize>>,
    /// Resolves a path of the study file (relative to its folder).
    pub resolve: &'a dyn Fn(&Path) -> PathBuf,
    /// The study areas (their bounds make the search box and the windows).
    pub areas: &'a [StudyArea],
    /// Every target year of the study.
    pub years: &'a [i32],
    /// The RSEI options (`None` when invalid: the search is not made).
    pub rsei: Option<&'a RseiRunOptions>,
    /// The granules of the `modis` folders (empty without them).
    pub local: &'a Inventory,
    /// How to search.
    pub mode: SearchMode,
    /// Told about the search.
    pub progress: &'a dyn Progress,
    /// Where Sentinel-2's heat comes from (`[data] s2_heat`).
    pub s2_heat: S2Heat,
    /// The study has `modis` folders (they may give Sentinel-2 its heat).
    pub modis_folders: bool,
}

/// The key of `[data.stac]` an option name of [`CatalogueOptions::validate`] stands for.
fn key_of_option(name: &str) -> &str {
    match name {
        "stac url" => "url",
        "cache_limit" => "cache_limit_bytes",
        other => other,
    }
}

/// Checks `[data.stac]`: its values, then the search (and, offline, the cache). Problems go to
/// `diags`, each at the key it concerns.
pub fn check(c: &CheckInput<'_>, diags: &mut Vec<Diagnostic>) -> Option<StacPlan> {
    let at = |key: &str| c.table.and_then(|t| value_span(t, key)).or(c.span.clone());
    let mut o = c.options.clone();
    if o.url.trim().is_empty() {
        diags.push(Diagnostic::error(c.span.clone(), "[data.stac] needs `url`: the STAC API root (e.g. https://planetarycomputer.microsoft.com/api/stac/v1) or a static catalogue (URL or path of a .json)"));
        return None;
    }
    if let Err(StacError::InvalidOption { name, reason }) = o.validate() {
        let key = key_of_option(&name);
        diags.push(Diagnostic::error(at(key), format!("invalid value of `{key}` in [data.stac]: {reason}")));
        return None;
    }
    if let Some(i) = o.collections.iter().position(|c| c.trim().is_empty()) {
        diags.push(Diagnostic::error(at("collections"), format!("collection {} of [data.stac] `collections` is empty", i + 1)));
        return None;
    }
    let collection_plan = match CollectionPlan::of(&o.collections) {
        Ok(p) => p,
        Err(e) => {
            diags.push(Diagnostic::error(at("collections"), format!("[data.stac] `collections`: {}", study_words(&e.to_string()))));
            return None;
        }
    };
    match &collection_plan {
        CollectionPlan::Modis => {
            for key in ["max_cloud", "platforms"] {
                if c.table.is_some_and(|t| t.contains_key(key)) {
                    diags.push(Diagnostic::warning(
                        at(key),
                        format!("`{key}` of [data.stac] is not used: it filters the items of scene collections (landsat-c2-l2, sentinel-2-l2a); MODIS platforms are chosen by `platforms` in [rsei]"),
                    ));
                }
            }
        }
        CollectionPlan::Scenes { heat, .. } => {
            if c.modis_folders && !heat.is_empty() {
                diags.push(Diagnostic::error(
                    at("collections"),
                    format!("[data.stac] `collections`: {} and the `modis` folders of [data] would both give Sentinel-2 its heat: keep one of them", heat.join(", ")),
                ));
                return None;
            }
            // MOD11A2 of the `modis` folders may give the heat instead of a collection
            let heat_from_folders = c.modis_folders && c.s2_heat == S2Heat::Mod11a2;
            if !heat_from_folders {
                if let Err(e) = collection_plan.check_heat(c.s2_heat) {
                    diags.push(Diagnostic::error(at("collections"), format!("[data.stac] `collections`: {}", study_words(&e.to_string()))));
                    return None;
                }
            }
        }
    }
    if !o.url.contains("://") {
        let p = (c.resolve)(Path::new(o.url.trim()));
        if !p.is_file() {
            let what = if p.is_dir() { "is a folder, not a catalogue file" } else { "does not exist" };
            diags.push(Diagnostic::error(at("url"), format!("STAC catalogue {} {what} (a local catalogue is the path of a .json file; an API is an http(s) URL)", p.display())));
            return None;
        }
        o.url = p.to_string_lossy().into_owned();
    }
    let cache_dir = (c.resolve)(o.cache_dir.as_deref().unwrap_or(Path::new(DEFAULT_CACHE)));
    o.cache_dir = Some(cache_dir.clone());
    let (Some(rsei), false) = (c.rsei, c.areas.is_empty()) else { return None };
    let cat = match Catalogue::new(o.clone(), cache_dir.clone()) {
        Ok(cat) => cat,
        Err(StacError::InvalidOption { name, reason }) => {
            let key = key_of_option(&name);
            diags.push(Diagnostic::error(at(key), format!("invalid value of `{key}` in [data.stac]: {reason}")));
            return None;
        }
        Err(e) => {
            diags.push(Diagnostic::error(at("cache_dir"), format!("[data.stac] cache: {e}")));
            return None;
        }
    };
    let req = StacRequest { catalogue: &o, areas: c.areas, years: c.years, options: rsei, default_cache: cache_dir };
    if let CollectionPlan::Scenes { scenes, .. } = &collection_plan {
        let filter = SceneFilter::of_catalogue(&o);
        let (params, _) = match crate::stac_scenes::search_params(&req, scenes, &filter) {
            Ok(p) => p,
            Err(e) => {
                diags.push(Diagnostic::error(c.span.clone(), format!("[data.stac]: cannot make the search of the study areas: {}", e.chain_text())));
                return None;
            }
        };
        let mut so = o.clone();
        so.collections = scenes.clone();
        let cat = match Catalogue::new(so, req.default_cache.clone()) {
            Ok(cat) => cat,
            Err(e) => {
                diags.push(Diagnostic::error(at("cache_dir"), format!("[data.stac] cache: {e}")));
                return None;
            }
        };
        c.progress.message(&format!("searching {} for {}", o.url, params.collections.join(", ")));
        let on_page = |n: usize| c.progress.message(&format!("searching: {n} item(s)"));
        let found = match c.mode {
            SearchMode::PreferCache => cat.search_scenes_prefer_cache(&params, &on_page),
            SearchMode::Fresh => match cat.search_scenes(&params, &on_page) {
                Ok(v) => Ok((v, o.offline)),
                Err(StacError::EmptySearch { .. }) => Ok((Vec::new(), o.offline)),
                Err(e) => Err(e),
            },
        };
        let (found, from_cache) = match found {
            Ok(f) => f,
            Err(e) => {
                diags.push(search_problem(&e, &o, &at));
                return None;
            }
        };
        let bbox = params.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
        let mut items = Vec::new();
        let mut left_out = Vec::new();
        let mut notes = Vec::new();
        for it in found.into_iter().filter(|it| it.overlaps(bbox)) {
            match crate::stac_scenes::left_out(&it, rsei, c.years, &filter) {
                Some(why) => {
                    notes.push(format!("note: item {} ({}) is not used: {why}", it.id, it.collection));
                    left_out.push((it, why));
                }
                None => items.push(it),
            }
        }
        // the years without a scene are told by the caller, area by area
        return Some(StacPlan {
            options: o,
            items: Vec::new(),
            search_from_cache: from_cache,
            notes,
            assets: BTreeMap::new(),
            scenes: Some(SceneCatalogue { plan: collection_plan, filter, items, left_out, options: crate::scenes::SceneOptions { s2_heat: c.s2_heat, ..crate::scenes::SceneOptions::default() } }),
        });
    }
    let params = match search_params(&req) {
        Ok((p, _)) => p,
        Err(e) => {
            diags.push(Diagnostic::error(c.span.clone(), format!("[data.stac]: cannot make the search of the study areas: {}", e.chain_text())));
            return None;
        }
    };
    c.progress.message(&format!("searching {} for {}", o.url, params.collections.join(", ")));
    let on_page = |n: usize| c.progress.message(&format!("searching: {n} item(s)"));
    let found = match c.mode {
        SearchMode::PreferCache => cat.search_prefer_cache(&params, &on_page),
        SearchMode::Fresh => cat.search(&params, &on_page).map(|v| (v, o.offline)),
    };
    let (found, from_cache) = match found {
        Ok(f) => f,
        Err(e) => {
            diags.push(search_problem(&e, &o, &at));
            return None;
        }
    };
    let n_found = found.len();
    let wanted: Vec<Item> = found.into_iter().filter(|it| item_wanted(it, rsei, c.years)).collect();
    if wanted.is_empty() {
        diags.push(Diagnostic::error(c.span.clone(), format!("[data.stac]: {}", none_wanted(n_found, &req, &params))));
        return None;
    }
    // granules the folders already have are read from there
    let local: BTreeSet<_> = c.local.granules.iter().map(|g| (g.product, g.tile, g.date)).collect();
    let (items, in_folders): (Vec<Item>, Vec<Item>) = wanted.into_iter().partition(|it| !local.contains(&(it.product, it.tile, it.date)));
    let mut notes = Vec::new();
    if !in_folders.is_empty() {
        notes.push(format!("note: {} item(s) of the catalogue are granules of the `modis` folders, read from there", in_folders.len()));
    }
    if o.offline {
        match missing_offline(&cat, &items, c.areas) {
            Ok(missing) if missing.is_empty() => {}
            Ok(missing) => {
                let first: Vec<&str> = missing.iter().take(3).map(String::as_str).collect();
                diags.push(Diagnostic::error(
                    at("offline"),
                    format!(
                        "offline: {} asset(s) the run reads are not in the cache {} ({}{}); run once without `offline = true` to fetch them",
                        missing.len(),
                        cat.cache.dir().display(),
                        first.join("; "),
                        if missing.len() > first.len() { "; …" } else { "" }
                    ),
                ));
                return None;
            }
            Err(e) => {
                diags.push(Diagnostic::error(c.span.clone(), format!("[data.stac]: {}", e.chain_text())));
                return None;
            }
        }
    }
    Some(StacPlan { options: o, items, search_from_cache: from_cache, notes, assets: BTreeMap::new(), scenes: None })
}

/// A message of the command line's collection checks in the words of a study file.
fn study_words(msg: &str) -> String {
    msg.replace("--collection: ", "")
        .replace("to --collection", "to `collections`")
        .replace("--collection", "`collections`")
        .replace("`--s2-heat landsat`", "`s2_heat = \"landsat\"` in [data]")
        .replace("`--s2-heat mod11a2`", "`s2_heat = \"mod11a2\"`")
        .replace("in one run", "in one study")
        .replace("run them separately", "make one study of each")
}

/// Scene items of a year: those the run uses, and those left out with the reason.
pub type YearItems<'a> = (Vec<&'a SceneItem>, Vec<(&'a SceneItem, &'a str)>);

/// The scene items of a catalogue over an area (its lon/lat box and margin) whose date is in the
/// composite window of `year`: those the run uses, and those left out with the reason.
pub fn scene_items_of_year<'a>(sc: &'a SceneCatalogue, area: &StudyArea, rsei: &RseiRunOptions, year: i32) -> Result<YearItems<'a>> {
    let b = crate::stac_scenes::scene_bounds(std::slice::from_ref(area))?;
    let bbox = [b.xmin, b.ymin, b.xmax, b.ymax];
    let in_year = |it: &SceneItem| it.overlaps(bbox) && it.date().is_some_and(|d| rsei.composite.in_window(year, i32::from(d.year), d.doy));
    let used = sc.items.iter().filter(|it| in_year(it)).collect();
    let out = sc.left_out.iter().filter(|(it, _)| in_year(it)).map(|(it, why)| (it, why.as_str())).collect();
    Ok((used, out))
}

/// A failed search as a problem of the study file, at the key it concerns.
fn search_problem(e: &StacError, o: &CatalogueOptions, at: &dyn Fn(&str) -> Option<Range<usize>>) -> Diagnostic {
    let collections_or_url = if o.collections.is_empty() { "url" } else { "collections" };
    match e {
        StacError::UnknownCollection { .. } | StacError::UnsupportedCollection { .. } => Diagnostic::error(at(collections_or_url), format!("[data.stac]: {e}")),
        StacError::NotCached { .. } => Diagnostic::error(at("offline"), e.to_string()),
        StacError::Http { reason, .. } if !reason.starts_with("HTTP ") => Diagnostic::error(
            at("url"),
            format!("cannot reach the catalogue {}: {e}; check the address and the network, or set `offline = true` to run from the cache", o.url),
        ),
        StacError::Http { .. } => Diagnostic::error(at("url"), format!("the catalogue {} refused the search: {e}", o.url)),
        StacError::Cache { .. } => Diagnostic::error(at("cache_dir"), format!("[data.stac] cache: {e}")),
        _ => Diagnostic::error(at("url"), format!("[data.stac]: {e}")),
    }
}

/// Rewrites the "unknown key" errors of `[data]` keys written below the `[data.stac]` header (in
/// TOML a table's keys run to the next header) to say where they belong.
pub fn explain_misplaced_keys(diags: &mut [Diagnostic]) {
    for d in diags.iter_mut() {
        for k in ["modis", "landcover"] {
            if d.message.starts_with(&format!("unknown key `{k}` in [data.stac]")) {
                d.message = format!("unknown key `{k}` in [data.stac]: `{k}` belongs in [data]; write it above the [data.stac] header (a table's keys run to the next header)");
            }
        }
    }
}

/// The granules of items as an inventory sees them (product, tile, date; no layer yet): the
/// coverage of the data before anything is fetched.
pub fn item_granules(items: &[Item]) -> Vec<Granule> {
    items
        .iter()
        .map(|it| Granule {
            product: it.product,
            tile: it.tile,
            date: it.date,
            collection: it.version.clone(),
            layers: BTreeMap::new(),
            files: Vec::new(),
            notes: vec![format!("from STAC item {} of {}", it.id, it.collection)],
        })
        .collect()
}

/// The items grouped by tile, each group with the bounds its windows cover: the union of the
/// bounds (plus [`WINDOW_MARGIN_M`]) of the areas that reach the tile. Items whose tile no area
/// reaches are left out (no composite of the study would select them).
pub fn tile_groups(items: &[Item], areas: &[StudyArea]) -> Result<Vec<(Bounds, Vec<Item>)>> {
    let m = WINDOW_MARGIN_M;
    let area_bounds: Vec<Bounds> = areas
        .iter()
        .map(|a| rsei_core::zonal::PreparedPolygon::new(&a.polygon).map(|p| p.bounds()).map(|b| Bounds::new(b.xmin - m, b.ymin - m, b.xmax + m, b.ymax + m)))
        .collect::<std::result::Result<_, _>>()?;
    let mut groups: BTreeMap<(u8, u8), (Option<Bounds>, Vec<Item>)> = BTreeMap::new();
    for it in items {
        let g = groups.entry((it.tile.h, it.tile.v)).or_insert_with(|| {
            let tile = modis::tile_grid(it.tile.h, it.tile.v, Resolution::M500).bounds();
            let b = area_bounds.iter().filter(|b| b.intersects(&tile)).fold(None, |u: Option<Bounds>, b| {
                Some(match u {
                    None => *b,
                    Some(u) => Bounds::new(u.xmin.min(b.xmin), u.ymin.min(b.ymin), u.xmax.max(b.xmax), u.ymax.max(b.ymax)),
                })
            });
            (b, Vec::new())
        });
        g.1.push(it.clone());
    }
    Ok(groups.into_values().filter_map(|(b, items)| Some((b?, items))).collect())
}

fn layers_of(it: &Item) -> Vec<rsei_io::products::Layer> {
    it.product.kind.required_layers().to_vec()
}

/// The assets an offline run would not find in the cache.
fn missing_offline(cat: &Catalogue, items: &[Item], areas: &[StudyArea]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (bounds, group) in tile_groups(items, areas)? {
        out.extend(cat.fetcher().missing_offline(&group, &layers_of, &bounds).map_err(stac_error)?);
    }
    Ok(out)
}

/// The granules of a catalogue, fetched for a run.
pub struct FetchedData {
    /// The archive: the granules of the folders and those of the catalogue (local files).
    pub archive: Archive,
    /// The asset version held by each file fetched from the catalogue.
    pub assets: BTreeMap<PathBuf, AssetVersion>,
    /// Warnings and notes (encoding checks, items left out).
    pub notes: Vec<String>,
    /// Assets, cache hits, bytes fetched.
    pub stats: FetchStats,
}

/// The fetch of several tile groups as one bar (whose total is set before the first group).
struct Bar<'a>(&'a dyn Progress);

impl FetchProgress for Bar<'_> {
    fn total(&self, _: u64) {}
    fn done(&self, _asset: &str, _cached: bool) {
        self.0.inc(1);
    }
    fn note(&self, line: &str) {
        self.0.println(line);
    }
}

/// Fetches the windows of the items of `stac` over the areas on their tiles (from the cache when
/// it holds the same asset version) and returns the archive of `local` and the fetched granules.
pub fn fetch(stac: &StacPlan, areas: &[StudyArea], local: &Archive, progress: &dyn Progress) -> Result<FetchedData> {
    let url = &stac.options.url;
    let default_cache = stac.options.cache_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE));
    let cat = Catalogue::new(stac.options.clone(), default_cache).map_err(stac_error)?;
    progress.message(&format!("fetching {} item(s) from {url}", stac.items.len()));
    let fetcher = cat.fetcher();
    let mut out = FetchedData { archive: local.clone(), assets: BTreeMap::new(), notes: Vec::new(), stats: FetchStats::default() };
    let groups = tile_groups(&stac.items, areas)?;
    let mut total = 0;
    for (_, group) in &groups {
        total += fetcher.task_count(group, &layers_of).map_err(stac_error)?;
    }
    progress.add_total(total as u64);
    for (bounds, group) in groups {
        let f = fetcher.fetch(&group, &layers_of, &bounds, &Bar(progress)).map_err(stac_error).with_context(|| format!("fetching from the catalogue {url}"))?;
        out.archive.inventory.granules.extend(f.granules);
        out.assets.extend(f.versions);
        out.notes.extend(f.notes);
        out.stats.assets += f.stats.assets;
        out.stats.from_cache += f.stats.from_cache;
        out.stats.fetched += f.stats.fetched;
        out.stats.bytes_fetched += f.stats.bytes_fetched;
    }
    out.archive.folders.push(PathBuf::from(url));
    out.archive.inventory.granules.sort_by_key(|g| (g.product, g.tile, g.date));
    out.notes = condense_notes(out.notes);
    Ok(out)
}

/// The remarks of a fetch, with the notes that every asset of a catalogue without `raster:bands`
/// gives (one per asset, the same but for the names) told once, with their count.
pub fn condense_notes(notes: Vec<String>) -> Vec<String> {
    let (same, mut out): (Vec<String>, Vec<String>) = notes.into_iter().partition(|n| n.starts_with("note: asset ") && n.contains(" declares no raster:bands;"));
    if let Some(first) = same.first() {
        out.push(if same.len() == 1 {
            first.clone()
        } else {
            format!("note: {} assets declare no raster:bands: scale, offset and fill come from the product table (the first: {})", same.len(), first.trim_start_matches("note: "))
        });
    }
    out
}

/// The key part of an asset version (see the module documentation).
pub fn version_hash(v: &AssetVersion) -> String {
    let size = v.size.map(|s| s.to_string()).unwrap_or_default();
    sha256_hex(format!("stac asset\n{}\n{}\n{size}\n{}\n{}", v.href, v.etag.as_deref().unwrap_or(""), v.item, v.asset).as_bytes())
}

/// The hashes of input files, in the order given: the asset version of a file fetched from a
/// catalogue, the content SHA-256 (through the cache) of any other.
pub fn input_hashes(all: &[PathBuf], assets: Option<&BTreeMap<PathBuf, AssetVersion>>, cache: &HashCache) -> Result<Vec<String>> {
    let Some(assets) = assets.filter(|a| !a.is_empty()) else { return cache.hash_all(all) };
    let local: Vec<PathBuf> = all.iter().filter(|p| !assets.contains_key(*p)).cloned().collect();
    let hashed: BTreeMap<&PathBuf, String> = local.iter().zip(cache.hash_all(&local)?).collect();
    all.iter()
        .map(|p| match assets.get(p) {
            Some(v) => Ok(version_hash(v)),
            None => hashed.get(p).cloned().ok_or_else(|| Error::msg(format!("no checksum of {}", p.display()))),
        })
        .collect()
}

/// Adds to each input of an RSEI manifest (`provenance.inputs`) fetched from a catalogue the
/// asset version it holds (`"stac": {item, asset, href, etag, size}`). Written atomically.
pub fn annotate_manifest(path: &Path, assets: &BTreeMap<PathBuf, AssetVersion>) -> Result<()> {
    if assets.is_empty() {
        return Ok(());
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut m: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let mut changed = false;
    if let Some(inputs) = m.pointer_mut("/provenance/inputs").and_then(|v| v.as_array_mut()) {
        for i in inputs {
            let Some(v) = i.get("path").and_then(|p| p.as_str()).and_then(|p| assets.get(Path::new(p))) else { continue };
            if let Some(obj) = i.as_object_mut() {
                obj.insert("stac".into(), serde_json::to_value(v)?);
                changed = true;
            }
        }
    }
    if changed {
        rsei_core::fsutil::write_atomic(path, &serde_json::to_vec_pretty(&m)?).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn version(etag: &str) -> AssetVersion {
        AssetVersion { item: "MOD11A2.A2019169.h26v05.061.1".into(), asset: "LST_Day_1km".into(), href: "https://h/a.tif".into(), etag: Some(etag.into()), size: Some(10) }
    }

    #[test]
    fn a_new_etag_or_size_is_a_new_input() {
        let a = version("\"1\"");
        assert_eq!(version_hash(&a), version_hash(&a.clone()));
        assert_ne!(version_hash(&a), version_hash(&version("\"2\"")));
        let mut b = a.clone();
        b.size = Some(11);
        assert_ne!(version_hash(&a), version_hash(&b));
        let mut c = a.clone();
        c.href = "https://h/b.tif".into();
        assert_ne!(version_hash(&a), version_hash(&c));
    }

    #[test]
    fn remote_files_are_keyed_by_version_local_files_by_content() {
        let d = tempfile::tempdir().unwrap();
        let local = d.path().join("local.tif");
        std::fs::write(&local, b"abc").unwrap();
        let window = d.path().join("window.tif");
        std::fs::write(&window, b"window bytes").unwrap();
        let cache = HashCache::load(&d.path().join("hashes.json"));
        let assets: BTreeMap<PathBuf, AssetVersion> = [(window.clone(), version("\"1\""))].into();
        let h = input_hashes(&[window.clone(), local.clone()], Some(&assets), &cache).unwrap();
        assert_eq!(h[0], version_hash(&version("\"1\"")));
        // SHA-256("abc") (FIPS 180-2)
        assert_eq!(h[1], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // the window's bytes do not matter, only the version it holds
        std::fs::write(&window, b"another window of the same asset").unwrap();
        assert_eq!(input_hashes(&[window], Some(&assets), &cache).unwrap()[0], h[0]);
    }

    #[test]
    fn notes_repeated_for_every_asset_are_told_once() {
        let n = |a: &str| format!("note: asset {a} of MOD09A1.A2019185.h26v05.061.1 declares no raster:bands; scale 0.0001, offset 0, fill Some(-28672.0) from the product table");
        let out = condense_notes(vec![n("sur_refl_b01"), "warning: item X left out".into(), n("sur_refl_b02")]);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0], "warning: item X left out");
        assert!(out[1].starts_with("note: 2 assets declare no raster:bands") && out[1].contains("sur_refl_b01"), "{out:?}");
        assert_eq!(condense_notes(vec![n("a")]), vec![n("a")]);
    }

    #[test]
    fn manifests_name_the_asset_of_each_fetched_input() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("manifest.json");
        let w = PathBuf::from("/cache/windows/x/a.tif");
        let doc = serde_json::json!({"provenance": {"inputs": [{"path": w, "bytes": 3, "sha256": "x"}, {"path": "/data/b.tif", "bytes": 1, "sha256": "y"}]}, "outputs": []});
        std::fs::write(&m, serde_json::to_vec(&doc).unwrap()).unwrap();
        annotate_manifest(&m, &[(w, version("\"1\""))].into()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
        assert_eq!(v["provenance"]["inputs"][0]["stac"]["etag"], "\"1\"");
        assert_eq!(v["provenance"]["inputs"][0]["stac"]["asset"], "LST_Day_1km");
        assert!(v["provenance"]["inputs"][1].get("stac").is_none());
    }
}
