//! Units of work of a study and their keys: what makes a result reusable.
//!
//! A unit is one piece of a study that writes its own outputs: the RSEI of an area and year (of an
//! area and all its years with the pooled PCA), the mining analysis of an area, the driver analysis
//! (all areas: its ranking compares them) and the run-level tables. Its **key** is the SHA-256 of
//!
//! ```text
//! kind | software version | options it depends on | content hashes of its input files
//!      | geometry of its area(s) | keys of the units whose outputs it reads
//! ```
//!
//! stored with those parts in the unit's `manifest.json` (written last). A rerun reuses a unit whose
//! manifest holds the same key and whose listed outputs are all there; any other unit is computed
//! again after its old outputs are removed. Because upstream *keys* (not output bytes) enter a key,
//! changing a mining option recomputes the mining units only, while a season change (an RSEI option)
//! changes every RSEI key and so every unit downstream.
//!
//! File hashes are cached in `OUT/.rsei/hashes.json` by (path, size, modification time), so a rerun
//! does not read gigabytes of granules again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use crate::error::{Context, Result};
use rayon::prelude::*;
use rsei_report::table::Cell;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hash of a study area: its name and every coordinate (as bit patterns) of its polygon.
pub fn area_hash(name: &str, polygon: &geo_types::MultiPolygon<f64>) -> String {
    let mut h = Sha256::new();
    h.update((name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    for p in &polygon.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            h.update((ring.0.len() as u64).to_le_bytes());
            for c in &ring.0 {
                h.update(c.x.to_bits().to_le_bytes());
                h.update(c.y.to_bits().to_le_bytes());
            }
        }
        h.update(b"|");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Hash of any serialisable value (its JSON).
pub fn value_hash<T: Serialize>(v: &T) -> Result<String> {
    Ok(sha256_hex(&serde_json::to_vec(v)?))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CacheEntry {
    bytes: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    mtime_ns: u128,
    sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    files: BTreeMap<PathBuf, CacheEntry>,
}

/// SHA-256 of input files, cached in a file by (path, size, modification time).
pub struct HashCache {
    path: PathBuf,
    entries: Mutex<BTreeMap<PathBuf, CacheEntry>>,
    hashed: Mutex<u64>,
}

impl HashCache {
    /// Loads the cache file (a missing or unreadable file is an empty cache).
    pub fn load(path: &Path) -> HashCache {
        let files = std::fs::read(path).ok().and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok()).filter(|c| c.version == 1).map(|c| c.files).unwrap_or_default();
        HashCache { path: path.to_path_buf(), entries: Mutex::new(files), hashed: Mutex::new(0) }
    }

    /// Writes the cache file (atomically).
    pub fn save(&self) -> Result<()> {
        let files = self.entries.lock().map_err(|_| crate::Error::msg(format!("checksum cache lock poisoned")))?.clone();
        let bytes = serde_json::to_vec(&CacheFile { version: 1, files })?;
        rsei_core::fsutil::write_atomic(&self.path, &bytes).with_context(|| format!("writing {}", self.path.display()))
    }

    /// Bytes hashed (not found in the cache) so far.
    pub fn bytes_hashed(&self) -> u64 {
        self.hashed.lock().map(|h| *h).unwrap_or(0)
    }

    /// SHA-256 of a file, from the cache when its size and modification time are unchanged.
    pub fn hash(&self, path: &Path) -> Result<String> {
        let md = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
        let mtime_ns = md.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        if mtime_ns > 0 {
            if let Some(e) = self.entries.lock().ok().and_then(|m| m.get(path).cloned()) {
                if e.bytes == md.len() && e.mtime_ns == mtime_ns {
                    crate::outputs::remember_checksum(path, &e.sha256);
                    return Ok(e.sha256);
                }
            }
        }
        // the pipelines' own checksum (and its in-process cache, used again for their manifests)
        let f = crate::outputs::checksum(path)?;
        if let Ok(mut h) = self.hashed.lock() {
            *h += md.len();
        }
        if mtime_ns > 0 {
            if let Ok(mut m) = self.entries.lock() {
                m.insert(path.to_path_buf(), CacheEntry { bytes: md.len(), mtime_ns, sha256: f.sha256.clone() });
            }
        }
        Ok(f.sha256)
    }

    /// Hashes of many files (in parallel), in the order given.
    pub fn hash_all(&self, paths: &[PathBuf]) -> Result<Vec<String>> {
        paths.par_iter().map(|p| self.hash(p)).collect()
    }
}

/// Files that belong to a vector data set: a Shapefile's `.shx`, `.dbf`, `.prj`, `.cpg` beside
/// its `.shp`; any other format is the file itself.
pub fn dataset_files(path: &Path) -> Vec<PathBuf> {
    let mut out = vec![path.to_path_buf()];
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("shp")) {
        for ext in ["shx", "dbf", "prj", "cpg"] {
            let p = path.with_extension(ext);
            if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

/// The parts a key is made of; kept in the manifest to say what changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyParts {
    /// Kind of unit (`rsei`, `mining`, `drivers`, …).
    pub kind: String,
    /// Software and version.
    pub software: String,
    /// Hash of the options the unit depends on.
    pub options: String,
    /// Hash of the content hashes of its input files.
    pub inputs: String,
    /// Hash of its area(s).
    pub areas: String,
    /// Hash of the keys of the units it reads from.
    pub upstream: String,
}

impl KeyParts {
    /// The key: SHA-256 of the parts.
    pub fn key(&self) -> String {
        let text = format!("{}\n{}\n{}\n{}\n{}\n{}", self.kind, self.software, self.options, self.inputs, self.areas, self.upstream);
        sha256_hex(text.as_bytes())
    }

    /// What differs from an older key's parts, in words ("options", "input files" …).
    pub fn changes_from(&self, old: &KeyParts) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.software != old.software {
            v.push("software version");
        }
        if self.options != old.options {
            v.push("options");
        }
        if self.inputs != old.inputs {
            v.push("input files");
        }
        if self.areas != old.areas {
            v.push("area polygons");
        }
        if self.upstream != old.upstream {
            v.push("results it reads");
        }
        if v.is_empty() {
            v.push("kind");
        }
        v
    }
}

/// The record a unit adds to its manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// Unit key (see the module documentation).
    pub key: String,
    /// What the key was made of.
    pub parts: KeyParts,
    /// Table rows of an RSEI unit (exact values, for the run-level tables).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rows: BTreeMap<String, Vec<Vec<serde_json::Value>>>,
}

/// A table cell as JSON, exactly (floats by their bit pattern).
pub fn encode_cell(c: &Cell) -> serde_json::Value {
    use serde_json::json;
    match c {
        Cell::Text(s) => json!(["t", s]),
        Cell::Int(i) => json!(["i", i]),
        Cell::Float { value, decimals } => json!(["f", value.to_bits(), decimals]),
        Cell::Missing => json!(["m"]),
    }
}

/// The cell of [`encode_cell`].
pub fn decode_cell(v: &serde_json::Value) -> Option<Cell> {
    let a = v.as_array()?;
    match a.first()?.as_str()? {
        "t" => Some(Cell::Text(a.get(1)?.as_str()?.to_string())),
        "i" => Some(Cell::Int(a.get(1)?.as_i64()?)),
        "f" => Some(Cell::Float { value: f64::from_bits(a.get(1)?.as_u64()?), decimals: u8::try_from(a.get(2)?.as_u64()?).ok()? }),
        "m" => Some(Cell::Missing),
        _ => None,
    }
}

/// Replaces, in every string of `v`, a leading `prefix` (the output folder) by a relative path
/// (`.` for the folder itself), so that outputs can be moved and compared as a whole.
pub fn relativise(v: &mut serde_json::Value, prefix: &Path) {
    let p = prefix.to_string_lossy().into_owned();
    let p_slash = format!("{p}/");
    fn walk(v: &mut serde_json::Value, p: &str, p_slash: &str) {
        match v {
            serde_json::Value::String(s) => {
                if s == p {
                    *s = ".".into();
                } else if let Some(rest) = s.strip_prefix(p_slash) {
                    *s = rest.to_string();
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, p, p_slash)),
            serde_json::Value::Object(m) => m.values_mut().for_each(|x| walk(x, p, p_slash)),
            _ => {}
        }
    }
    walk(v, &p, &p_slash);
}

/// Reads a manifest (`None` when missing or unreadable).
pub fn read_manifest(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The unit record of a manifest.
pub fn record_of(manifest: &serde_json::Value) -> Option<UnitRecord> {
    serde_json::from_value(manifest.get("unit")?.clone()).ok()
}

/// Whether every output a manifest lists (`outputs: [{file, bytes}]`, relative to its folder) is
/// there with its size.
pub fn outputs_present(manifest: &serde_json::Value, dir: &Path) -> bool {
    let Some(outs) = manifest.get("outputs").and_then(|o| o.as_array()) else { return true };
    outs.iter().all(|o| {
        let (Some(f), Some(n)) = (o.get("file").and_then(|f| f.as_str()), o.get("bytes").and_then(|b| b.as_u64())) else { return true };
        std::fs::metadata(dir.join(f)).is_ok_and(|m| m.len() == n)
    })
}

/// Rewrites a manifest written by a pipeline: paths made relative to `out_dir`, and (when given)
/// the unit record added. Written atomically.
pub fn finish_manifest(path: &Path, out_dir: &Path, record: Option<&UnitRecord>) -> Result<()> {
    let mut m = read_manifest(path).with_context(|| format!("reading {}", path.display()))?;
    relativise(&mut m, out_dir);
    if let (Some(r), Some(obj)) = (record, m.as_object_mut()) {
        obj.insert("unit".into(), serde_json::to_value(r)?);
    }
    rsei_core::fsutil::write_atomic(path, &serde_json::to_vec_pretty(&m)?).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip_exactly() {
        for c in [Cell::Text("Ma'anshan, \"x\"".into()), Cell::Int(-3), Cell::float(0.1 + 0.2, 4), Cell::float(f64::NAN, 2), Cell::float(-0.0, 1), Cell::Missing] {
            let back = decode_cell(&encode_cell(&c)).unwrap();
            match (&c, &back) {
                (Cell::Float { value: a, decimals: da }, Cell::Float { value: b, decimals: db }) => {
                    assert_eq!((a.to_bits(), da), (b.to_bits(), db));
                }
                _ => assert_eq!(c, back),
            }
        }
        assert!(decode_cell(&serde_json::json!(["x"])).is_none());
    }

    #[test]
    fn keys_change_with_each_part_and_say_what_changed() {
        let a = KeyParts { kind: "mining".into(), software: "rsei 1".into(), options: "o".into(), inputs: "i".into(), areas: "a".into(), upstream: "u".into() };
        let mut b = a.clone();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key().len(), 64);
        b.options = "o2".into();
        assert_ne!(a.key(), b.key());
        assert_eq!(b.changes_from(&a), ["options"]);
        b.upstream = "u2".into();
        assert_eq!(b.changes_from(&a), ["options", "results it reads"]);
    }

    #[test]
    fn paths_under_the_output_become_relative() {
        let mut v = serde_json::json!({"a": "/o/out/Demo/2019/rsei.tif", "b": ["/o/out", "/o/outer/x", "/data/m.hdf"], "c": {"d": "/o/out/x"}});
        relativise(&mut v, Path::new("/o/out"));
        assert_eq!(v, serde_json::json!({"a": "Demo/2019/rsei.tif", "b": [".", "/o/outer/x", "/data/m.hdf"], "c": {"d": "x"}}));
    }

    #[test]
    fn area_hashes_see_names_and_coordinates() {
        use geo_types::{polygon, MultiPolygon};
        let p = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)]]);
        let q = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0 + 1e-12), (x: 0.0, y: 0.0)]]);
        assert_eq!(area_hash("A", &p), area_hash("A", &p));
        assert_ne!(area_hash("A", &p), area_hash("B", &p));
        assert_ne!(area_hash("A", &p), area_hash("A", &q));
    }

    #[test]
    fn cache_hits_skip_hashing_and_changes_rehash() {
        let dir = std::env::temp_dir().join(format!("rsei-hashcache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a.bin");
        std::fs::write(&f, b"abc").unwrap();
        let cache_file = dir.join("hashes.json");
        let c = HashCache::load(&cache_file);
        // SHA-256("abc"), the FIPS 180-2 example
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(c.hash(&f).unwrap(), abc);
        assert_eq!(c.bytes_hashed(), 3);
        c.save().unwrap();
        let c2 = HashCache::load(&cache_file);
        assert_eq!(c2.hash(&f).unwrap(), abc);
        assert_eq!(c2.bytes_hashed(), 0, "served from the cache file");
        // a new size: hashed again
        std::fs::write(&f, b"abcd").unwrap();
        assert_ne!(c2.hash(&f).unwrap(), abc);
        assert_eq!(c2.bytes_hashed(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
