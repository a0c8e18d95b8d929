//! The server's shared state: the catalogue of the results folder and the caches.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;

use crate::cache::{CacheStats, Lru};
use crate::catalog::{self, Area, AreaGeo, Catalog, FileTable};
use crate::layers::LayerId;
use crate::raster::{Cells, RasterFile, RasterInfo};
use crate::error::ApiError;
use crate::extent;
use crate::tilemap::{self, TileMap, TileSpec};
use crate::ServeOptions;

/// Counters of the server's work.
#[derive(Default)]
pub(crate) struct Counters {
    pub tiles_rendered: AtomicU64,
    pub tiles_empty: AtomicU64,
    pub tile_errors: AtomicU64,
    pub series: AtomicU64,
}

/// Key of a tile map: (grid, z, x, y).
type MapKey = (u64, u8, u32, u32);

/// What every request shares.
pub(crate) struct AppState {
    /// Real path of the results folder.
    pub root: PathBuf,
    pub opts: ServeOptions,
    catalog: RwLock<Arc<Catalog>>,
    files: Mutex<FileTable>,
    pub tiles: Mutex<Lru<(String, u64, TileSpec), Bytes>>,
    levels: Mutex<Lru<(u64, usize), Arc<Cells>>>,
    maps: Mutex<Lru<MapKey, Arc<TileMap>>>,
    /// A fully transparent tile.
    pub empty_png: Bytes,
    pub counters: Counters,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AppState {
    pub(crate) fn new(root: PathBuf, opts: ServeOptions) -> Result<AppState, ApiError> {
        let mut files = FileTable::default();
        let cat = catalog::scan(&root, &mut files, None);
        let empty_png = Bytes::from(tilemap::encode_png(&vec![0u8; crate::geo::TILE_SIZE * crate::geo::TILE_SIZE * 4])?);
        Ok(AppState {
            root,
            tiles: Mutex::new(Lru::new(opts.tile_cache_bytes)),
            levels: Mutex::new(Lru::new(opts.raster_cache_bytes)),
            maps: Mutex::new(Lru::new(opts.raster_cache_bytes / 4)),
            opts,
            catalog: RwLock::new(Arc::new(cat)),
            files: Mutex::new(files),
            empty_png,
            counters: Counters::default(),
        })
    }

    /// The catalogue as last scanned.
    pub(crate) fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Scans the results folder again (new, changed and removed results are picked up).
    pub(crate) fn rescan(&self) -> Arc<Catalog> {
        let old = self.catalog();
        let new = {
            let mut files = lock(&self.files);
            Arc::new(catalog::scan(&self.root, &mut files, Some(&old)))
        };
        *self.catalog.write().unwrap_or_else(std::sync::PoisonError::into_inner) = new.clone();
        new
    }

    /// The area of an id in the URL.
    pub(crate) fn area(&self, id: &str) -> Result<Arc<Area>, ApiError> {
        if id.is_empty() || id.contains(['/', '\\', '\0']) || id == "." || id == ".." {
            return Err(ApiError::BadRequest(format!("{id:?} is not an area name")));
        }
        let cat = self.catalog();
        if let Some(a) = cat.area(id) {
            return Ok(a.clone());
        }
        let known: Vec<String> = cat.areas.iter().map(|a| a.id.clone()).collect();
        if known.is_empty() {
            return Err(ApiError::NotFound(self.no_results_message()));
        }
        Err(ApiError::NotFound(format!("no study area {id:?} in the results (areas: {})", known.join(", "))))
    }

    pub(crate) fn no_results_message(&self) -> String {
        format!(
            "no RSEI results in {}: expected folders <area>/<year>/rsei.tif as `rsei run` or a study writes them",
            self.root.display()
        )
    }

    /// Where an area lies (blocking: opens its files on first use).
    pub(crate) fn geo<'a>(&self, area: &'a Area) -> Result<&'a AreaGeo, ApiError> {
        area.geo.get_or_init(|| extent::area_geo(area)).as_ref().map_err(|p| ApiError::BadFile(p.clone()))
    }

    /// Value range of a ranged layer (blocking on first use).
    pub(crate) fn range(&self, area: &Area, layer: LayerId) -> Option<(f32, f32)> {
        if !layer.ranged() {
            return None;
        }
        area.ranges.get_or_init(|| extent::area_ranges(area)).get(&layer).copied()
    }

    /// Value range of an extra raster (blocking on first use).
    pub(crate) fn extra_range(&self, area: &Area, index: usize) -> Option<(f32, f32)> {
        area.extra_ranges.get_or_init(|| extent::extra_ranges(area)).get(index).copied().flatten()
    }

    /// All ranges of an area.
    pub(crate) fn ranges(&self, area: &Area) -> HashMap<LayerId, (f32, f32)> {
        area.ranges.get_or_init(|| extent::area_ranges(area)).clone()
    }

    /// The (cached) map of a tile onto a grid.
    pub(crate) fn tile_map(&self, info: &RasterInfo, z: u8, x: u32, y: u32) -> Result<Arc<TileMap>, ApiError> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        info.grid_key().hash(&mut h);
        let key = (h.finish(), z, x, y);
        if let Some(m) = lock(&self.maps).get(&key) {
            return Ok(m);
        }
        let m = Arc::new(tilemap::tile_map(info, z, x, y).map_err(ApiError::Internal)?);
        lock(&self.maps).insert(key, m.clone(), m.coords.len() * 8 + 64);
        Ok(m)
    }

    /// A whole level of a raster (cached).
    pub(crate) fn level_cells(&self, file: &RasterFile, level: usize) -> Result<Arc<Cells>, ApiError> {
        let key = (file.uid, level);
        if let Some(c) = lock(&self.levels).get(&key) {
            return Ok(c);
        }
        let lv = file.info().map_err(ApiError::BadFile)?.levels[level];
        let c = Arc::new(file.cells(level, 0, 0, lv.width, lv.height).map_err(ApiError::BadFile)?);
        lock(&self.levels).insert(key, c.clone(), c.data.len() * 4 + 64);
        Ok(c)
    }

    /// Statistics of the caches.
    pub(crate) fn cache_stats(&self) -> [(&'static str, CacheStats); 3] {
        [("tiles", lock(&self.tiles).stats()), ("raster_levels", lock(&self.levels).stats()), ("tile_maps", lock(&self.maps).stats())]
    }

    pub(crate) fn count(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) use lock as lock_mutex;
