//! The on-disk cache: search answers and the windows of assets a run reads, with a size limit.
//!
//! ```text
//! CACHE/index.json                    entries: asset URL (unsigned), ETag, size, bounds → file
//! CACHE/windows/<key>/<item>_<asset>.tif   a window of a COG (values as stored, GeoTIFF, DEFLATE)
//! CACHE/files/<key>/<name>.hdf        a whole HDF granule (HDF4 cannot be read by ranges)
//! CACHE/search/<key>.json             the items a search found
//! CACHE/scenes/<item>/                a Landsat / Sentinel-2 scene laid out for the scene reader:
//!                                     links to its metadata file and windows (`crate::scene`)
//! ```
//!
//! An entry's key is SHA-256 of (URL, ETag, size, bounds): a changed remote file (new ETag or
//! size, checked by a HEAD request when online) gets a new entry. Offline, the newest entry of
//! the URL whose bounds contain the asked bounds is used. When the files exceed the limit, the
//! least recently used entries are removed, never one used by the current run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{cache_write_error, Result, StacError};

/// One cached file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Asset URL without signature.
    pub href: String,
    pub etag: Option<String>,
    pub size: Option<u64>,
    /// Sinusoidal bounds `[xmin, ymin, xmax, ymax]` asked for (`None`: the whole file).
    pub bounds: Option<[f64; 4]>,
    /// Path relative to the cache folder.
    pub file: String,
    pub bytes: u64,
    /// Sequence number of the last use (larger = more recent).
    pub last_used: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Index {
    entries: BTreeMap<String, Entry>,
    clock: u64,
}

/// The cache folder (see the module docs).
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    limit_bytes: u64,
    index: Mutex<Index>,
    pinned: Mutex<BTreeSet<String>>,
}

/// Default size limit: 10 GiB.
pub const DEFAULT_LIMIT_BYTES: u64 = 10 << 30;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (hex) of the parts, separated.
pub fn key_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex(&h.finalize())
}

fn contains(outer: [f64; 4], inner: [f64; 4]) -> bool {
    let e = 1e-6;
    outer[0] <= inner[0] + e && outer[1] <= inner[1] + e && outer[2] >= inner[2] - e && outer[3] >= inner[3] - e
}

/// A file name safe on every file system.
pub fn safe_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect()
}

impl Cache {
    /// Opens (creating) the cache folder with a size limit in bytes.
    pub fn open(dir: &Path, limit_bytes: u64) -> Result<Cache> {
        std::fs::create_dir_all(dir).map_err(|e| cache_write_error(&dir.join("index.json"), &e))?;
        let index = match std::fs::read(dir.join("index.json")) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| StacError::Cache { path: dir.to_path_buf(), reason: format!("index.json is damaged ({e}); remove the folder to start afresh") })?,
            Err(_) => Index::default(),
        };
        Ok(Cache { dir: dir.to_path_buf(), limit_bytes, index: Mutex::new(index), pinned: Mutex::new(BTreeSet::new()) })
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn touch(&self, key: &str) -> Option<PathBuf> {
        let mut idx = self.index.lock().ok()?;
        idx.clock += 1;
        let clock = idx.clock;
        let e = idx.entries.get_mut(key)?;
        let p = self.dir.join(&e.file);
        if !p.is_file() {
            idx.entries.remove(key);
            return None;
        }
        e.last_used = clock;
        if let Ok(mut pin) = self.pinned.lock() {
            pin.insert(key.to_string());
        }
        Some(p)
    }

    /// The entry of exactly this remote file version and bounds.
    pub fn lookup(&self, href: &str, etag: Option<&str>, size: Option<u64>, bounds: Option<[f64; 4]>) -> Option<PathBuf> {
        let key = entry_key(href, etag, size, bounds);
        self.touch(&key)
    }

    /// Offline: the most recently used entry of `href` whose bounds contain `bounds`.
    pub fn lookup_offline(&self, href: &str, bounds: Option<[f64; 4]>) -> Option<PathBuf> {
        self.lookup_offline_entry(href, bounds).map(|(p, _)| p)
    }

    /// The key of the entry [`Cache::lookup_offline`] would use, without using it.
    fn offline_key(&self, href: &str, bounds: Option<[f64; 4]>) -> Option<String> {
        let idx = self.index.lock().ok()?;
        idx.entries
            .iter()
            .filter(|(_, e)| e.href == href && match (e.bounds, bounds) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(o), Some(i)) => contains(o, i),
            })
            .filter(|(_, e)| self.dir.join(&e.file).is_file())
            .max_by_key(|(_, e)| e.last_used)
            .map(|(k, _)| k.clone())
    }

    /// Offline: as [`Cache::lookup_offline`], with the entry (the ETag and size the remote file
    /// had when it was fetched: the version of the asset the cached file holds).
    pub fn lookup_offline_entry(&self, href: &str, bounds: Option<[f64; 4]>) -> Option<(PathBuf, Entry)> {
        let key = self.offline_key(href, bounds)?;
        let p = self.touch(&key)?;
        let e = self.index.lock().ok()?.entries.get(&key).cloned()?;
        Some((p, e))
    }

    /// Whether an offline lookup of `href` over `bounds` would find a file (nothing is marked as
    /// used: for checks before a run).
    pub fn has_offline(&self, href: &str, bounds: Option<[f64; 4]>) -> bool {
        self.offline_key(href, bounds).is_some()
    }

    /// Stores `bytes` as the file `name` of an entry and returns its path; then trims the cache to
    /// its limit. A full disk is reported as such.
    pub fn insert(&self, href: &str, etag: Option<&str>, size: Option<u64>, bounds: Option<[f64; 4]>, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let key = entry_key(href, etag, size, bounds);
        let sub = if bounds.is_some() { "windows" } else { "files" };
        let rel = format!("{sub}/{}/{}", &key[..16], safe_name(name));
        let path = self.dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| cache_write_error(&path, &e))?;
        }
        rsei_core::fsutil::write_atomic(&path, bytes).map_err(|e| cache_write_error(&path, &e))?;
        {
            let mut idx = self.index.lock().map_err(|_| StacError::Cache { path: self.dir.clone(), reason: "index lock poisoned".into() })?;
            idx.clock += 1;
            let clock = idx.clock;
            idx.entries.insert(
                key.clone(),
                Entry { href: href.into(), etag: etag.map(str::to_string), size, bounds, file: rel, bytes: bytes.len() as u64, last_used: clock },
            );
        }
        if let Ok(mut pin) = self.pinned.lock() {
            pin.insert(key);
        }
        self.trim()?;
        Ok(path)
    }

    /// Total bytes of the cached files.
    pub fn total_bytes(&self) -> u64 {
        self.index.lock().map(|i| i.entries.values().map(|e| e.bytes).sum()).unwrap_or(0)
    }

    /// Removes least recently used entries not used by this run until the total fits the limit;
    /// returns the bytes that could not be freed (entries in use).
    pub fn trim(&self) -> Result<u64> {
        let mut idx = self.index.lock().map_err(|_| StacError::Cache { path: self.dir.clone(), reason: "index lock poisoned".into() })?;
        let pinned = self.pinned.lock().map(|p| p.clone()).unwrap_or_default();
        let mut total: u64 = idx.entries.values().map(|e| e.bytes).sum();
        if total <= self.limit_bytes {
            return Ok(0);
        }
        let mut order: Vec<(u64, String)> = idx.entries.iter().filter(|(k, _)| !pinned.contains(*k)).map(|(k, e)| (e.last_used, k.clone())).collect();
        order.sort();
        for (_, k) in order {
            if total <= self.limit_bytes {
                break;
            }
            if let Some(e) = idx.entries.remove(&k) {
                let p = self.dir.join(&e.file);
                let _ = std::fs::remove_file(&p);
                if let Some(parent) = p.parent() {
                    let _ = std::fs::remove_dir(parent);
                }
                total = total.saturating_sub(e.bytes);
            }
        }
        Ok(total.saturating_sub(self.limit_bytes))
    }

    /// Writes `index.json` (atomically).
    pub fn save(&self) -> Result<()> {
        let json = {
            let idx = self.index.lock().map_err(|_| StacError::Cache { path: self.dir.clone(), reason: "index lock poisoned".into() })?;
            serde_json::to_vec_pretty(&*idx).map_err(|e| StacError::Cache { path: self.dir.clone(), reason: e.to_string() })?
        };
        let p = self.dir.join("index.json");
        rsei_core::fsutil::write_atomic(&p, &json).map_err(|e| cache_write_error(&p, &e))
    }

    /// The path of a cached search answer.
    pub fn search_path(&self, key: &str) -> PathBuf {
        self.dir.join("search").join(format!("{key}.json"))
    }

    /// Stores a search answer.
    pub fn put_search(&self, key: &str, json: &[u8]) -> Result<()> {
        let p = self.search_path(key);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| cache_write_error(&p, &e))?;
        }
        rsei_core::fsutil::write_atomic(&p, json).map_err(|e| cache_write_error(&p, &e))
    }
}

fn entry_key(href: &str, etag: Option<&str>, size: Option<u64>, bounds: Option<[f64; 4]>) -> String {
    let b = bounds.map(|b| format!("{:?}", b)).unwrap_or_else(|| "whole".into());
    key_of(&[href, etag.unwrap_or(""), &size.map(|s| s.to_string()).unwrap_or_default(), &b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_trim_keeps_what_the_run_uses() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::open(d.path(), 25).unwrap();
        let b = Some([0.0, 0.0, 10.0, 10.0]);
        let a = c.insert("http://h/a.tif", Some("e1"), Some(100), b, "a.tif", &[1u8; 10]).unwrap();
        c.insert("http://h/b.tif", Some("e1"), Some(100), b, "b.tif", &[2u8; 10]).unwrap();
        // both in use by this run: nothing can go
        c.insert("http://h/c.tif", Some("e1"), Some(100), b, "c.tif", &[3u8; 10]).unwrap();
        assert_eq!(c.total_bytes(), 30);
        assert!(a.is_file());
        c.save().unwrap();
        // a new run: nothing pinned, the oldest goes first
        let c2 = Cache::open(d.path(), 25).unwrap();
        assert!(c2.lookup("http://h/c.tif", Some("e1"), Some(100), b).is_some());
        assert_eq!(c2.trim().unwrap(), 0);
        assert_eq!(c2.total_bytes(), 20);
        assert!(!a.exists());
        assert!(c2.lookup("http://h/a.tif", Some("e1"), Some(100), b).is_none());
        // another version of b is another entry; offline finds the cached one for smaller bounds
        assert!(c2.lookup("http://h/b.tif", Some("e2"), Some(100), b).is_none());
        assert!(c2.lookup_offline("http://h/b.tif", Some([1.0, 1.0, 9.0, 9.0])).is_some());
        assert!(c2.lookup_offline("http://h/b.tif", Some([-1.0, 1.0, 9.0, 9.0])).is_none());
        // the entry tells the version of the file it holds
        let (_, e) = c2.lookup_offline_entry("http://h/b.tif", Some([1.0, 1.0, 9.0, 9.0])).unwrap();
        assert_eq!((e.etag.as_deref(), e.size), (Some("e1"), Some(100)));
        assert!(c2.has_offline("http://h/c.tif", b) && !c2.has_offline("http://h/a.tif", b));
    }

    #[test]
    fn full_disk_is_named() {
        let e = std::fs::write("/dev/full", [0u8; 8]).unwrap_err();
        let msg = cache_write_error(Path::new("/c/windows/x.tif"), &e).to_string();
        assert!(msg.contains("disk is full") && msg.contains("/c/windows/x.tif"), "{msg}");
    }
}
