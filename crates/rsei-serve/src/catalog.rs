//! What a results folder holds: study areas, their years and the layers of each year.
//!
//! The layout is the one `rsei run` and study runs write (see `rsei_pipeline::outputs`):
//! `ROOT/<area>/<year>/{rsei,grade,ndvi,wet,ndbsi,lst_celsius,mndwi}.tif`, with `ROOT/manifest.json`
//! naming the areas, `<area>/pca_table.json`, `<area>/rsei_summary.json`, and for a mining
//! analysis `<area>/mining/manifest.json`. A folder holding year folders itself (one area's
//! results) is served as that one area.
//!
//! Only regular files whose real path (symbolic links resolved) lies inside the results folder are
//! ever listed, so nothing outside it can be read through the server.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::layers::{LayerId, ALL_LAYERS};
use crate::raster::{FileProblem, RasterFile, RasterInfo, SharedRaster};

/// One study area of the results.
pub(crate) struct Area {
    /// Folder name (the id in URLs).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Real path of the area folder.
    pub dir: PathBuf,
    /// Layers of each year.
    pub years: BTreeMap<i32, BTreeMap<LayerId, SharedRaster>>,
    /// Rasters of the area's `trend/`, `change/` and `difference/` folders (one for all years).
    pub extras: Vec<Extra>,
    /// Changes whenever one of the files does (size or modification time).
    pub stamp: u64,
    /// `provenance.area_source` of the first year's manifest (the vector the area came from).
    pub area_source: Option<String>,
    /// `mines` of `mining/manifest.json` (the mine layer of a mining analysis).
    pub mines_source: Option<Value>,
    /// Geometry, computed on first use.
    pub geo: OnceLock<Result<AreaGeo, FileProblem>>,
    /// Value ranges of the ranged layers, computed on first use.
    pub ranges: OnceLock<HashMap<LayerId, (f32, f32)>>,
    /// Value ranges of the extras (2nd–98th percentile), computed on first use.
    pub extra_ranges: OnceLock<Vec<Option<(f32, f32)>>>,
    /// GeoJSON outline and mines, computed on first use.
    pub outline: OnceLock<Result<Value, String>>,
    pub mines: OnceLock<Result<Option<Value>, String>>,
}

/// A raster of a trend or change analysis, shown for all years.
pub(crate) struct Extra {
    /// Name in URLs: the path below the area folder, `/` as `.`, without `.tif`
    /// (`trend/sen_slope.tif` → `trend.sen_slope`).
    pub id: String,
    /// Path below the area folder.
    pub file_name: String,
    pub file: SharedRaster,
}

/// Folders of an area whose rasters are offered as extra layers.
pub(crate) const EXTRA_DIRS: [&str; 4] = ["trend", "change", "difference", "differences"];

/// Where an area lies.
#[derive(Clone, Debug)]
pub(crate) struct AreaGeo {
    /// Grid of the RSEI rasters (of the first year that opens).
    pub info: RasterInfo,
    /// `[west, south, east, north]`, degrees.
    pub bounds: [f64; 4],
    /// Web-mercator bounds `(xmin, ymin, xmax, ymax)`.
    pub merc: (f64, f64, f64, f64),
    /// Files that cannot be read, with the reason.
    pub problems: Vec<FileProblem>,
}

impl Area {
    /// The years with a file of `layer` (every year with RSEI for computed layers).
    pub(crate) fn years_of(&self, layer: LayerId) -> Vec<i32> {
        let l = if layer.computed() { LayerId::Rsei } else { layer };
        self.years.iter().filter(|(_, m)| m.contains_key(&l)).map(|(y, _)| *y).collect()
    }

    /// The layers offered: every file layer present in some year, and the computed layers when
    /// there are RSEI rasters of at least two (change) or three (trend) years.
    pub(crate) fn layers(&self) -> Vec<LayerId> {
        let n_rsei = self.years_of(LayerId::Rsei).len();
        ALL_LAYERS
            .into_iter()
            .filter(|&l| match l {
                LayerId::Change => n_rsei >= 2,
                LayerId::Trend => n_rsei >= 3,
                _ => self.years.values().any(|m| m.contains_key(&l)),
            })
            .collect()
    }

    /// The extra raster of an URL name, and its index.
    pub(crate) fn extra(&self, id: &str) -> Option<(usize, &Extra)> {
        self.extras.iter().enumerate().find(|(_, e)| e.id == id)
    }

    /// The raster of a layer and year.
    pub(crate) fn file(&self, layer: LayerId, year: i32) -> Option<&SharedRaster> {
        self.years.get(&year)?.get(&layer)
    }
}

/// Everything found in the results folder.
pub(crate) struct Catalog {
    pub areas: Vec<Arc<Area>>,
    /// Remarks of the scan (files left out and why).
    pub notes: Vec<String>,
}

impl Catalog {
    pub(crate) fn area(&self, id: &str) -> Option<&Arc<Area>> {
        self.areas.iter().find(|a| a.id == id)
    }
}

fn read_json(p: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

fn year_of(name: &str) -> Option<i32> {
    (name.len() == 4 && name.bytes().all(|b| b.is_ascii_digit())).then(|| name.parse().ok()).flatten()
}

/// The real path of `p` when it is a regular file inside `root` (itself a real path).
fn inside(root: &Path, p: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(p).ok()?;
    (real.starts_with(root) && real.is_file()).then_some(real)
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

fn collect_tifs(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() && depth > 1 {
            collect_tifs(&p, depth - 1, out);
        } else if p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("tif") || x.eq_ignore_ascii_case("tiff")) {
            out.push(p);
        }
    }
}

type Stamp = (u64, Option<std::time::SystemTime>);

fn stamp_of(p: &Path) -> Option<Stamp> {
    let md = std::fs::metadata(p).ok()?;
    Some((md.len(), md.modified().ok()))
}

/// Files met in earlier scans, reused (kept open) while unchanged.
#[derive(Default)]
pub(crate) struct FileTable {
    files: HashMap<PathBuf, SharedRaster>,
}

impl FileTable {
    fn get(&mut self, root: &Path, real: PathBuf, stamp: Stamp) -> SharedRaster {
        if let Some(f) = self.files.get(&real) {
            if f.stamp == stamp {
                return f.clone();
            }
        }
        let f = Arc::new(RasterFile::new(rel(root, &real), real.clone(), stamp));
        self.files.insert(real, f.clone());
        f
    }
}

/// Scans the results folder `root` (a real path). Areas whose files did not change are taken
/// from `previous` (with what was computed for them).
pub(crate) fn scan(root: &Path, files: &mut FileTable, previous: Option<&Catalog>) -> Catalog {
    let mut notes = Vec::new();
    // display names from the run-level manifest: folder → name
    let mut names: HashMap<String, String> = HashMap::new();
    if let Some(m) = read_json(&root.join("manifest.json")) {
        for a in m.get("areas").and_then(Value::as_array).into_iter().flatten() {
            if let (Some(f), Some(n)) = (a.get("folder").and_then(Value::as_str), a.get("area").and_then(Value::as_str)) {
                names.insert(f.to_string(), n.to_string());
            }
        }
    }
    let mut dirs: Vec<PathBuf> = vec![root.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(root) {
        let mut sub: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
            .collect();
        sub.sort();
        dirs.extend(sub);
    }
    let mut areas = Vec::new();
    for dir in dirs {
        let Ok(real_dir) = std::fs::canonicalize(&dir) else { continue };
        if !real_dir.starts_with(root) {
            notes.push(format!("{}: links outside the results folder, left out", rel(root, &dir)));
            continue;
        }
        let mut years: BTreeMap<i32, BTreeMap<LayerId, SharedRaster>> = BTreeMap::new();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let Ok(rd) = std::fs::read_dir(&real_dir) else { continue };
        let mut year_dirs: Vec<(i32, PathBuf)> =
            rd.flatten().filter_map(|e| Some((year_of(&e.file_name().to_string_lossy())?, e.path()))).filter(|(_, p)| p.is_dir()).collect();
        year_dirs.sort();
        for (year, ydir) in year_dirs {
            let mut layers = BTreeMap::new();
            for l in ALL_LAYERS {
                let Some(file) = l.meta().file else { continue };
                let p = ydir.join(file);
                if !p.exists() {
                    continue;
                }
                match (inside(root, &p), stamp_of(&p)) {
                    (Some(real), Some(stamp)) => {
                        (rel(root, &real), stamp.0, stamp.1).hash(&mut hasher);
                        layers.insert(l, files.get(root, real, stamp));
                    }
                    _ => notes.push(format!("{}: not a file inside the results folder, left out", rel(root, &p))),
                }
            }
            if layers.contains_key(&LayerId::Rsei) {
                years.insert(year, layers);
            }
        }
        if years.is_empty() {
            continue;
        }
        let mut extras = Vec::new();
        for d in EXTRA_DIRS {
            let mut found = Vec::new();
            collect_tifs(&real_dir.join(d), 2, &mut found);
            found.sort();
            for p in found {
                let (Some(real), Some(stamp)) = (inside(root, &p), stamp_of(&p)) else {
                    notes.push(format!("{}: not a file inside the results folder, left out", rel(root, &p)));
                    continue;
                };
                let below = rel(&real_dir, &p);
                let id = below.rsplit_once('.').map_or(below.as_str(), |(stem, _)| stem).replace('/', ".");
                (rel(root, &real), stamp.0, stamp.1).hash(&mut hasher);
                extras.push(Extra { id, file_name: below, file: files.get(root, real, stamp) });
            }
        }
        let folder = real_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "results".into());
        let first_year_dir = years.keys().next().map(|y| real_dir.join(y.to_string()));
        let summary_name = first_year_dir
            .as_ref()
            .and_then(|d| read_json(&d.join("summary.json")))
            .and_then(|s| s.get("area").and_then(Value::as_str).map(str::to_string));
        let name = names.get(&folder).cloned().or(summary_name).unwrap_or_else(|| folder.replace('_', " "));
        let area_source = first_year_dir
            .as_ref()
            .and_then(|d| read_json(&d.join("manifest.json")))
            .and_then(|m| m.pointer("/provenance/area_source").and_then(Value::as_str).map(str::to_string));
        let mines_source = read_json(&real_dir.join("mining").join("manifest.json")).and_then(|m| m.get("mines").cloned()).filter(|v| v.is_object());
        let stamp = hasher.finish();
        if let Some(old) = previous.and_then(|c| c.area(&folder)).filter(|a| a.stamp == stamp && a.name == name) {
            areas.push(old.clone());
            continue;
        }
        areas.push(Arc::new(Area {
            id: folder,
            name,
            dir: real_dir,
            years,
            extras,
            stamp,
            area_source,
            mines_source,
            geo: OnceLock::new(),
            ranges: OnceLock::new(),
            extra_ranges: OnceLock::new(),
            outline: OnceLock::new(),
            mines: OnceLock::new(),
        }));
    }
    // the root as an area and an area folder of the same name would clash: keep the first
    let mut seen = std::collections::HashSet::new();
    areas.retain(|a| seen.insert(a.id.clone()));
    Catalog { areas, notes }
}
