//! From items to granules: the assets of the layers a run needs are fetched (a window of each
//! COG, or the whole HDF granule), cached, and turned into [`Granule`]s whose layers are local
//! files — the same inventory a folder scan gives, so the RSEI chain does not change.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rsei_core::Bounds;
use rsei_io::products::Layer;
use rsei_io::remote::{clear_vsicurl_cache, copy_window, copy_window_in, vsicurl, VsiCurlOptions};
use rsei_io::scan::Granule;
use rsei_io::LayerSource;

use serde::{Deserialize, Serialize};

use crate::cache::{safe_name, Cache};
use crate::error::{Result, StacError};
use crate::http::{redact, Http};
use crate::item::{check_encoding, Item};
use crate::sign::Signer;

/// Told about the fetch: total, each asset done, remarks.
pub trait FetchProgress: Sync {
    /// `n` assets to fetch.
    fn total(&self, n: u64);
    /// One asset done (cached or fetched).
    fn done(&self, asset: &str, from_cache: bool);
    /// A remark (warning or note) to show.
    fn note(&self, line: &str);
}

/// No progress report.
pub struct NoProgress;

impl FetchProgress for NoProgress {
    fn total(&self, _: u64) {}
    fn done(&self, _: &str, _: bool) {}
    fn note(&self, _: &str) {}
}

/// Everything fetching needs.
pub struct Fetcher<'a> {
    pub http: &'a Http,
    pub signer: &'a Signer,
    pub cache: &'a Cache,
    /// Run from the cache only.
    pub offline: bool,
    pub vsicurl: VsiCurlOptions,
    /// Assets fetched at once.
    pub workers: usize,
}

/// What a fetch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchStats {
    pub assets: usize,
    pub from_cache: usize,
    pub fetched: usize,
    pub bytes_fetched: u64,
}

impl FetchStats {
    /// `N <what>, N from the cache, N fetched (X MiB)`, for the log of a fetch.
    pub fn describe(&self, what: &str) -> String {
        format!("{} {what}, {} from the cache, {} fetched ({:.1} MiB)", self.assets, self.from_cache, self.fetched, self.bytes_fetched as f64 / (1 << 20) as f64)
    }
}

/// The version of a remote asset a fetched file holds: what identifies the input of a result
/// (the cached file's own bytes also depend on the window asked for).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AssetVersion {
    /// Item id.
    pub item: String,
    /// Asset key in the item.
    pub asset: String,
    /// Asset URL without signature.
    pub href: String,
    /// ETag of the remote file when it was read (online: answered by a HEAD request; offline:
    /// recorded by the cache).
    pub etag: Option<String>,
    /// Size of the remote file in bytes, likewise.
    pub size: Option<u64>,
}

/// A fetched file, whether it came from the cache, and the asset version it holds.
pub(crate) struct Got {
    pub(crate) path: PathBuf,
    pub(crate) cached: bool,
    pub(crate) version: AssetVersion,
}

/// A fetched file; `None` when the asset misses the bounds.
type TaskResult = Result<Option<Got>>;

/// What [`Fetcher::fetch`] gives.
#[derive(Clone, Debug, Default)]
pub struct Fetched {
    /// The granules (sorted by product, tile, date), their layers in local files.
    pub granules: Vec<Granule>,
    /// Warnings and notes (encoding checks, items left out).
    pub notes: Vec<String>,
    /// Counts of the fetch.
    pub stats: FetchStats,
    /// The asset version held by each file of the granules.
    pub versions: BTreeMap<PathBuf, AssetVersion>,
}

/// One asset to fetch for one item.
enum Task<'i> {
    /// A window of the COG of `layer`.
    Cog { item: &'i Item, layer: Layer, key: String, href: String },
    /// The whole HDF granule (all layers).
    Hdf { item: &'i Item, key: String, href: String },
}

fn bounds_arr(b: &Bounds) -> [f64; 4] {
    [b.xmin, b.ymin, b.xmax, b.ymax]
}

impl Fetcher<'_> {
    pub(crate) fn head_signed(&self, what: &str, href: &str) -> Result<(String, Option<String>, Option<u64>)> {
        let mut refreshed = false;
        loop {
            let signed = self.signer.sign(self.http, href)?;
            if !signed.contains("://") {
                // a local path: its size and modification time stand for the ETag
                let md = std::fs::metadata(&signed).map_err(|e| StacError::Http { what: what.into(), method: "GET", url: signed.clone(), reason: e.to_string() })?;
                let mtime = md.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_nanos().to_string());
                return Ok((signed, mtime, Some(md.len())));
            }
            match self.http.head(what, &signed) {
                Ok(r) => return Ok((signed, r.etag, r.content_length)),
                Err(StacError::Http { reason, .. }) if reason.starts_with("HTTP 403") && self.signer.is_signing() && !refreshed => {
                    // storage refused the token (expired or revoked): a new one, once
                    self.signer.invalidate(href);
                    refreshed = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn fetch_cog(&self, item: &Item, key: &str, href: &str, bounds: &Bounds, stats: &Mutex<FetchStats>) -> TaskResult {
        self.fetch_window(&item.id, key, href, bounds, None, stats).map(|g| g.map(|(g, _)| g))
    }

    /// A window of the COG `href` (asset `key` of item `item_id`) over `bounds`, from the cache or
    /// fetched. `bounds_crs`: the CRS of `bounds` when it is not the raster's own (they are then
    /// transformed into the CRS of the raster's header, whose EPSG code is returned for fetched
    /// windows). `None` when the raster does not reach `bounds`.
    pub(crate) fn fetch_window(&self, item_id: &str, key: &str, href: &str, bounds: &Bounds, bounds_crs: Option<&rsei_core::Crs>, stats: &Mutex<FetchStats>) -> Result<Option<(Got, Option<u32>)>> {
        let b = Some(bounds_arr(bounds));
        let aerr = |reason: String| StacError::Asset { item: item_id.into(), key: key.into(), url: redact(href), reason };
        let version = |etag: Option<String>, size: Option<u64>| AssetVersion { item: item_id.into(), asset: key.into(), href: redact(href), etag, size };
        if self.offline {
            return match self.cache.lookup_offline_entry(href, b) {
                Some((path, e)) => Ok(Some((Got { path, cached: true, version: version(e.etag, e.size) }, None))),
                None => Err(StacError::NotCached {
                    what: format!("the window of asset {key:?} of item {item_id} ({})", redact(href)),
                    cache: self.cache.dir().to_path_buf(),
                }),
            };
        }
        let mut attempt = 0;
        loop {
            let (signed, etag, size) = self.head_signed(&format!("asset {key:?} of item {item_id}"), href).map_err(|e| aerr(e.to_string()))?;
            if let Some(path) = self.cache.lookup(href, etag.as_deref(), size, b) {
                return Ok(Some((Got { path, cached: true, version: version(etag, size) }, None)));
            }
            let name = if signed.contains("://") { vsicurl(&signed) } else { signed.clone() };
            let copied = match bounds_crs {
                Some(c) => copy_window_in(&name, &redact(href), bounds, c, &self.vsicurl),
                None => copy_window(&name, &redact(href), bounds, &self.vsicurl).map(|w| (w, None)),
            };
            match copied {
                Ok((None, _)) => return Ok(None),
                Ok((Some(w), epsg)) => {
                    let fname = format!("{item_id}_{key}.tif");
                    let path = self.cache.insert(href, etag.as_deref(), size, b, &fname, &w.bytes)?;
                    if let Ok(mut s) = stats.lock() {
                        s.bytes_fetched += w.bytes.len() as u64;
                    }
                    return Ok(Some((Got { path, cached: false, version: version(etag, size) }, epsg)));
                }
                Err(e) if attempt < self.http.retry.max_retries => {
                    clear_vsicurl_cache();
                    self.signer.invalidate(href);
                    std::thread::sleep(self.http.retry.delay(attempt));
                    attempt += 1;
                    let _ = e;
                }
                Err(e) => return Err(aerr(format!("{e} (after {} attempts)", attempt + 1))),
            }
        }
    }

    fn fetch_hdf(&self, item: &Item, key: &str, href: &str, stats: &Mutex<FetchStats>) -> Result<Got> {
        let fname = href.split('?').next().unwrap_or(href).rsplit('/').next().unwrap_or("granule.hdf").to_string();
        let fname = if fname.to_ascii_lowercase().ends_with(".hdf") { fname } else { format!("{}.hdf", item.id) };
        self.fetch_file("the HDF granule", &item.id, key, href, &fname, stats)
    }

    /// The whole file of asset `key` of item `item_id` (`what` names it in messages: "the HDF
    /// granule"), from the cache or downloaded and cached as `fname`.
    pub(crate) fn fetch_file(&self, what: &str, item_id: &str, key: &str, href: &str, fname: &str, stats: &Mutex<FetchStats>) -> Result<Got> {
        let aerr = |reason: String| StacError::Asset { item: item_id.into(), key: key.into(), url: redact(href), reason };
        let version = |etag: Option<String>, size: Option<u64>| AssetVersion { item: item_id.into(), asset: key.into(), href: redact(href), etag, size };
        if self.offline {
            return self.cache.lookup_offline_entry(href, None).map(|(path, e)| Got { path, cached: true, version: version(e.etag, e.size) }).ok_or_else(|| StacError::NotCached {
                what: format!("{what} {key:?} of item {item_id} ({})", redact(href)),
                cache: self.cache.dir().to_path_buf(),
            });
        }
        let (signed, etag, size) = self.head_signed(&format!("asset {key:?} of item {item_id}"), href).map_err(|e| aerr(e.to_string()))?;
        if let Some(path) = self.cache.lookup(href, etag.as_deref(), size, None) {
            return Ok(Got { path, cached: true, version: version(etag, size) });
        }
        let bytes = if signed.contains("://") {
            self.http.download(&format!("asset {key:?} of item {item_id}"), &signed).map_err(|e| aerr(e.to_string()))?
        } else {
            std::fs::read(&signed).map_err(|e| aerr(e.to_string()))?
        };
        let path = self.cache.insert(href, etag.as_deref(), size, None, &safe_name(fname), &bytes)?;
        if let Ok(mut s) = stats.lock() {
            s.bytes_fetched += bytes.len() as u64;
        }
        Ok(Got { path, cached: false, version: version(etag, size) })
    }

    /// Fetches the `layers` of every item over `bounds` (sinusoidal metres) and returns the
    /// granules (sorted by product, tile, date), remarks, and counts. Items whose tile does not
    /// reach `bounds` are left out.
    pub fn granules(&self, items: &[Item], layers: &dyn Fn(&Item) -> Vec<Layer>, bounds: &Bounds, progress: &dyn FetchProgress) -> Result<(Vec<Granule>, Vec<String>, FetchStats)> {
        let f = self.fetch(items, layers, bounds, progress)?;
        Ok((f.granules, f.notes, f.stats))
    }

    /// The fetch tasks of the items: a window per COG layer, or the whole HDF granule; remarks of
    /// the encoding checks.
    fn tasks<'i>(&self, items: &'i [Item], layers: &dyn Fn(&Item) -> Vec<Layer>) -> Result<(Vec<Task<'i>>, Vec<String>)> {
        let mut tasks: Vec<Task<'i>> = Vec::new();
        let mut notes = Vec::new();
        for it in items {
            let want = layers(it);
            let cogs: Vec<_> = want.iter().map(|l| (*l, it.cog_asset(*l))).collect();
            if cogs.iter().all(|(_, a)| a.is_some()) {
                for (l, a) in cogs {
                    let Some(a) = a else { continue };
                    if let Some(spec) = it.product.spec(l) {
                        notes.extend(check_encoding(it, a, spec)?);
                    }
                    tasks.push(Task::Cog { item: it, layer: l, key: a.key.clone(), href: a.href.clone() });
                }
            } else if let Some(h) = it.hdf_asset() {
                tasks.push(Task::Hdf { item: it, key: h.key.clone(), href: h.href.clone() });
            } else {
                let (l, _) = cogs.iter().find(|(_, a)| a.is_none()).copied().unwrap_or((want[0], None));
                return Err(StacError::MissingAsset {
                    item: it.id.clone(),
                    collection: it.collection.clone(),
                    layer: l.id().into(),
                    key: it.expected_key(l),
                    available: it.assets.keys().cloned().collect(),
                });
            }
        }
        Ok((tasks, notes))
    }

    /// The number of assets a fetch of `items` reads (a window per COG layer, or one HDF granule):
    /// what [`FetchProgress::total`] is told.
    pub fn task_count(&self, items: &[Item], layers: &dyn Fn(&Item) -> Vec<Layer>) -> Result<usize> {
        Ok(self.tasks(items, layers)?.0.len())
    }

    /// The assets of `items` (their `layers` over `bounds`) that an offline run would not find
    /// in the cache, described for messages (nothing is fetched or marked as used).
    pub fn missing_offline(&self, items: &[Item], layers: &dyn Fn(&Item) -> Vec<Layer>, bounds: &Bounds) -> Result<Vec<String>> {
        let (tasks, _) = self.tasks(items, layers)?;
        let b = Some(bounds_arr(bounds));
        Ok(tasks
            .iter()
            .filter_map(|t| match t {
                Task::Cog { item, key, href, .. } => (!self.cache.has_offline(href, b)).then(|| format!("the window of asset {key:?} of item {} ({})", item.id, redact(href))),
                Task::Hdf { item, key, href } => (!self.cache.has_offline(href, None)).then(|| format!("the HDF granule {key:?} of item {} ({})", item.id, redact(href))),
            })
            .collect())
    }

    /// As [`Fetcher::granules`], with the version of the remote asset each local file holds.
    pub fn fetch(&self, items: &[Item], layers: &dyn Fn(&Item) -> Vec<Layer>, bounds: &Bounds, progress: &dyn FetchProgress) -> Result<Fetched> {
        let (tasks, mut notes) = self.tasks(items, layers)?;
        progress.total(tasks.len() as u64);
        let stats = Mutex::new(FetchStats { assets: tasks.len(), ..FetchStats::default() });
        let results: Vec<Mutex<Option<TaskResult>>> = tasks.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let failed = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..self.workers.clamp(1, 16).min(tasks.len().max(1)) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= tasks.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let (r, label) = match &tasks[i] {
                        Task::Cog { item, key, href, .. } => (self.fetch_cog(item, key, href, bounds, &stats), format!("{} {key}", item.id)),
                        Task::Hdf { item, key, href } => (self.fetch_hdf(item, key, href, &stats).map(Some), format!("{} {key}", item.id)),
                    };
                    match &r {
                        Ok(x) => progress.done(&label, x.as_ref().is_some_and(|g| g.cached)),
                        Err(_) => failed.store(true, Ordering::Relaxed),
                    }
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(r);
                    }
                });
            }
        });
        self.cache.save()?;
        // the first error in task order
        let mut paths: Vec<Option<Got>> = Vec::with_capacity(tasks.len());
        for slot in results {
            match slot.into_inner().ok().flatten() {
                Some(Ok(p)) => paths.push(p),
                Some(Err(e)) => return Err(e),
                None => paths.push(None),
            }
        }
        let mut st = stats.into_inner().unwrap_or_default();
        let mut by_item: BTreeMap<(rsei_io::Product, rsei_io::Tile, rsei_io::ModisDate, String), Granule> = BTreeMap::new();
        let mut skipped = Vec::new();
        let mut versions = BTreeMap::new();
        for (t, p) in tasks.iter().zip(paths) {
            let Some(Got { path, cached, version }) = p else {
                if let Task::Cog { item, .. } = t {
                    skipped.push(item.id.clone());
                }
                continue;
            };
            if cached {
                st.from_cache += 1;
            } else {
                st.fetched += 1;
            }
            let item = match t {
                Task::Cog { item, .. } | Task::Hdf { item, .. } => *item,
            };
            let g = by_item.entry((item.product, item.tile, item.date, item.id.clone())).or_insert_with(|| Granule {
                product: item.product,
                tile: item.tile,
                date: item.date,
                collection: item.version.clone(),
                layers: BTreeMap::new(),
                files: Vec::new(),
                notes: vec![format!("from STAC item {} of {}", item.id, item.collection)],
            });
            match t {
                Task::Cog { layer, .. } => {
                    let gdal_name = path.to_string_lossy().into_owned();
                    g.layers.insert(*layer, LayerSource { path: path.clone(), gdal_name, product: item.product, layer: *layer });
                }
                Task::Hdf { .. } => {
                    let id = rsei_io::identify(&path).map_err(|e| StacError::Asset {
                        item: item.id.clone(),
                        key: "hdf".into(),
                        url: path.display().to_string(),
                        reason: format!("the downloaded granule cannot be read: {e}"),
                    })?;
                    for src in id.layers {
                        g.layers.insert(src.layer, src);
                    }
                }
            }
            versions.insert(path.clone(), version);
            g.files.push(path);
        }
        skipped.sort();
        skipped.dedup();
        if !skipped.is_empty() {
            notes.push(format!("note: {} item(s) do not reach the study areas and are left out: {}", skipped.len(), skipped.join(", ")));
        }
        // one granule per (product, tile, date): the item with the latest id (production stamp) wins
        let mut granules: Vec<Granule> = Vec::new();
        for ((_, _, _, id), mut g) in by_item.into_iter().rev() {
            g.files.sort();
            if let Some(prev) = granules.iter().find(|p| (p.product, p.tile, p.date) == (g.product, g.tile, g.date)) {
                notes.push(format!("note: item {id} left out: {} is already provided by a later item ({})", g.label(), prev.notes.first().cloned().unwrap_or_default()));
                continue;
            }
            let missing: Vec<&str> = layers_needed(&g).into_iter().filter(|l| !g.layers.contains_key(l)).map(|l| l.id()).collect();
            if !missing.is_empty() {
                notes.push(format!("warning: item {id} left out: no layer(s) {} over the study areas", missing.join(", ")));
                continue;
            }
            granules.push(g);
        }
        granules.sort_by_key(|g| (g.product, g.tile, g.date));
        let kept: std::collections::BTreeSet<&PathBuf> = granules.iter().flat_map(|g| g.files.iter()).collect();
        versions.retain(|p, _| kept.contains(p));
        Ok(Fetched { granules, notes, stats: st, versions })
    }
}

fn layers_needed(g: &Granule) -> Vec<Layer> {
    g.product.kind.required_layers().to_vec()
}
