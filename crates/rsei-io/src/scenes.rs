//! Landsat Collection 2 Level-2 and Sentinel-2 L2A scenes: finding them, choosing their
//! [`SensorProfile`] from their own metadata, and reading their bands onto a study grid.
//!
//! Layouts understood by [`scan_scenes`] (recursively, in name order):
//!
//! | layout | metadata | bands |
//! |---|---|---|
//! | USGS folder | `*_MTL.txt` (ODL) or `*_MTL.xml` | `<product>_SR_B4.TIF`, `_ST_B10.TIF`, `_QA_PIXEL.TIF`, `_QA_RADSAT.TIF` |
//! | USGS tarball (`.tar`, `.tar.gz`) | the same, read through GDAL's `/vsitar/` | the same, opened in the archive |
//! | STAC per-band COGs (`landsat-c2-l2` asset keys) | `mtl.txt` / `mtl.xml` asset or `*_MTL.*` | `red.tif`, `nir08.tif`, `swir16.tif`, `lwir11.tif`, `qa_pixel.tif`, `qa_radsat.tif`, … or USGS names |
//! | Sentinel-2 SAFE folder | `MTD_MSIL2A.xml` | `GRANULE/*/IMG_DATA/R10m/*_B02_10m.jp2` …, B8A, B11, B12 and `SCL` from `R20m` |
//! | STAC per-band COGs (`sentinel-2-l2a` asset keys) | `MTD_MSIL2A.xml` (the `product-metadata` asset) | `B02.tif`, `B03.tif`, `B04.tif`, `B8A.tif`, `B11.tif`, `B12.tif`, `SCL.tif` |
//!
//! The STAC layouts are what `rsei compute --stac … --collection landsat-c2-l2 | sentinel-2-l2a`
//! lays out in its cache, one folder per item.
//!
//! The profile comes from the metadata (MTL `SPACECRAFT_ID`, `SENSOR_ID`, `COLLECTION_NUMBER`,
//! `PROCESSING_LEVEL`; S2 `PROCESSING_BASELINE`, `BOA_ADD_OFFSET`, `PRODUCT_TYPE`), never from a
//! user's flag. A scene of an unsupported level, or missing a band its profile needs, is listed in
//! [`SceneInventory::rejected`] with the reason and the file.
//!
//! [`SceneBand::read_raw_into`] reads raw DN onto a window of any grid: a scene in another CRS
//! or at another cell size is warped by nearest neighbour ([`crate::warp::nearest_map`]; S2's
//! 20 m SWIR onto a 10 or 30 m grid too). DN are decoded by the profile in the pipeline.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};

use rsei_core::sensor::{LandsatMetadata, Role, Sentinel2Metadata, SensorProfile};
use rsei_core::{Grid, Window};
use serde::Serialize;

use crate::error::{IoError, Result};
use crate::gdalutil::{open_raster, QuietErrors};
use crate::naming::ModisDate;
use crate::scan::Rejected;

/// A QA layer of a scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QaLayer {
    /// Landsat `QA_PIXEL`.
    QaPixel,
    /// Landsat `QA_RADSAT`.
    QaRadsat,
    /// Sentinel-2 scene classification.
    Scl,
}

/// One scene: its profile, date and where each band is.
#[derive(Clone, Debug, Serialize)]
pub struct Scene {
    /// Product id (`LC08_L2SP_…`, the SAFE name).
    pub id: String,
    /// Acquisition date.
    pub date: ModisDate,
    pub profile: SensorProfile,
    /// GDAL names of the bands by role.
    pub bands: BTreeMap<Role, String>,
    /// GDAL names of the QA layers.
    pub qa: BTreeMap<QaLayer, String>,
    /// The metadata file, the folder, SAFE or tarball the scene came from.
    pub source: PathBuf,
    /// Files on disk that make the scene (for checksums in manifests).
    pub files: Vec<PathBuf>,
}

/// What [`scan_scenes`] found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SceneInventory {
    /// Usable scenes, by (date, id).
    pub scenes: Vec<Scene>,
    /// Scenes that cannot be used, with the reason.
    pub rejected: Vec<Rejected>,
}

/// Whether `dir` holds any Landsat or Sentinel-2 scene metadata (a quick look, no parsing).
pub fn looks_like_scenes(dir: &Path) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let n = e.file_name().to_string_lossy().to_ascii_lowercase();
            if p.is_dir() {
                stack.push(p);
            } else if is_mtl(&n) || n == "mtd_msil2a.xml" || n == "mtd_msil1c.xml" || is_landsat_tar(&n) {
                return true;
            }
        }
    }
    false
}

fn is_mtl(lower: &str) -> bool {
    lower.ends_with("_mtl.txt") || lower.ends_with("_mtl.xml") || lower == "mtl.txt" || lower == "mtl.xml"
}

/// Whether the `…MTL.txt` of an `…MTL.xml` is beside it.
fn mtl_txt_beside(xml: &Path) -> bool {
    let Some(name) = xml.file_name().map(|n| n.to_string_lossy().into_owned()) else { return false };
    let stem = &name[..name.len() - 4];
    ["txt", "TXT"].iter().any(|e| xml.with_file_name(format!("{stem}.{e}")).exists())
}

fn is_landsat_tar(lower: &str) -> bool {
    (lower.ends_with(".tar") || lower.ends_with(".tar.gz") || lower.ends_with(".tgz")) && (lower.starts_with("l") && lower.contains("_l"))
}

/// Scans `dir` for scenes. See the module docs.
pub fn scan_scenes(dir: &Path) -> Result<SceneInventory> {
    if !dir.is_dir() {
        return Err(IoError::File { path: dir.to_path_buf(), source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder") });
    }
    let mut inv = SceneInventory::default();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut metas: Vec<PathBuf> = Vec::new();
    while let Some(d) = stack.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
            .map_err(|source| IoError::File { path: d.clone(), source })?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries.into_iter().rev() {
            let n = p.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
            if n.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if is_mtl(&n) && n.ends_with(".xml") && mtl_txt_beside(&p) {
                // an MTL.txt and an MTL.xml of one product: the text one is used
            } else if is_mtl(&n) || n == "mtd_msil2a.xml" || n == "mtd_msil1c.xml" || is_landsat_tar(&n) {
                metas.push(p);
            }
        }
    }
    metas.sort();
    for m in metas {
        match read_scene(&m) {
            Ok(s) => {
                if let Some(first) = seen.get(&s.id) {
                    inv.rejected.push(Rejected { path: m.clone(), reason: format!("duplicate of scene {} in {}", s.id, first.display()) });
                } else {
                    seen.insert(s.id.clone(), m.clone());
                    inv.scenes.push(s);
                }
            }
            Err(e) => inv.rejected.push(Rejected { path: m.clone(), reason: e.to_string() }),
        }
    }
    inv.scenes.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    Ok(inv)
}

fn scene_err(path: &Path, reason: impl Into<String>) -> IoError {
    IoError::Scene { path: path.to_path_buf(), reason: reason.into() }
}

/// Reads one scene from its metadata file (MTL, MTD_MSIL2A.xml) or tarball.
pub fn read_scene(meta: &Path) -> Result<Scene> {
    let n = meta.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if is_landsat_tar(&n) {
        return read_landsat_tar(meta);
    }
    if n == "mtd_msil1c.xml" {
        return Err(scene_err(meta, "Sentinel-2 Level-1C (top-of-atmosphere) product: only Level-2A surface reflectance is supported"));
    }
    let text = std::fs::read_to_string(meta).map_err(|source| IoError::File { path: meta.to_path_buf(), source })?;
    let folder = meta.parent().unwrap_or(Path::new(".")).to_path_buf();
    if n == "mtd_msil2a.xml" {
        let m = parse_s2_metadata(&text).map_err(|r| scene_err(meta, r))?;
        let profile = SensorProfile::from_sentinel2(&m).map_err(|e| scene_err(meta, e.to_string()))?;
        let date = s2_date(&text).ok_or_else(|| scene_err(meta, "no PRODUCT_START_TIME"))?;
        let files = list_files(&folder);
        let id = if m.product.is_empty() { folder.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default() } else { m.product.trim_end_matches(".SAFE").to_string() };
        return assemble(meta, id, date, profile, &files, |p| p.to_string_lossy().into_owned());
    }
    let m = if n.ends_with(".xml") { parse_mtl_xml(&text) } else { parse_mtl_txt(&text) }.map_err(|r| scene_err(meta, r))?;
    let profile = SensorProfile::from_landsat(&m).map_err(|e| scene_err(meta, e.to_string()))?;
    let date = landsat_date(&m.date_acquired).ok_or_else(|| scene_err(meta, format!("DATE_ACQUIRED {:?} is not a date", m.date_acquired)))?;
    let files: Vec<PathBuf> = list_files(&folder);
    // a folder may hold several scenes: keep this product's files (or key-named assets)
    let files: Vec<PathBuf> = files
        .into_iter()
        .filter(|p| {
            let f = p.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            m.product_id.is_empty() || f.starts_with(&m.product_id) || !f.starts_with('L')
        })
        .collect();
    let mut s = assemble(meta, m.product_id.clone(), date, profile, &files, |p| p.to_string_lossy().into_owned())?;
    s.files.push(meta.to_path_buf());
    s.files.sort();
    s.files.dedup();
    Ok(s)
}

fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The band of `name` (`SR_B4`, `B8A`, `QA_PIXEL`, `SCL`) or STAC key (`red`, `qa_pixel`) among
/// `files`: a raster whose stem ends with `_NAME`, `_NAME_<res>m`, or equals the key.
fn find_band<'a>(files: &'a [PathBuf], name: &str, key: &str, prefer_res: Option<&str>) -> Option<&'a PathBuf> {
    let name_l = name.to_ascii_lowercase();
    let key_l = key.to_ascii_lowercase();
    let mut hits: Vec<&PathBuf> = files
        .iter()
        .filter(|p| {
            let f = p.file_name().map(|s| s.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
            let Some((stem, ext)) = f.rsplit_once('.') else { return false };
            if !matches!(ext, "tif" | "tiff" | "jp2") {
                return false;
            }
            let stem = strip_res(stem);
            stem.ends_with(&format!("_{name_l}")) || stem == name_l || stem == key_l
        })
        .collect();
    if let Some(r) = prefer_res {
        hits.sort_by_key(|p| !p.to_string_lossy().contains(r));
    }
    hits.into_iter().next()
}

/// `t33xwj_20220413t150759_b8a_20m` → `t33xwj_20220413t150759_b8a`.
fn strip_res(stem: &str) -> &str {
    for r in ["_10m", "_20m", "_60m"] {
        if let Some(s) = stem.strip_suffix(r) {
            return s;
        }
    }
    stem
}

fn assemble(meta: &Path, id: String, date: ModisDate, profile: SensorProfile, files: &[PathBuf], gdal_name: impl Fn(&Path) -> String) -> Result<Scene> {
    let s2 = profile.id.starts_with("sentinel2");
    let mut bands = BTreeMap::new();
    let mut missing = Vec::new();
    for b in &profile.bands {
        let res = if s2 { Some(if b.native_res_m == 10.0 { "R10m" } else { "R20m" }) } else { None };
        match find_band(files, b.name, b.stac_key, res) {
            Some(p) => {
                bands.insert(b.role, gdal_name(p));
            }
            None => missing.push(format!("{} ({:?}, STAC key {})", b.name, b.role, b.stac_key)),
        }
    }
    let mut qa = BTreeMap::new();
    let qa_layers: &[(QaLayer, &str, &str, bool)] =
        if s2 { &[(QaLayer::Scl, "SCL", "scl", true)] } else { &[(QaLayer::QaPixel, "QA_PIXEL", "qa_pixel", true), (QaLayer::QaRadsat, "QA_RADSAT", "qa_radsat", false)] };
    for &(l, name, key, required) in qa_layers {
        match find_band(files, name, key, s2.then_some("R20m")) {
            Some(p) => {
                qa.insert(l, gdal_name(p));
            }
            None if required => missing.push(format!("{name} (STAC key {key})")),
            None => {}
        }
    }
    if !missing.is_empty() {
        return Err(scene_err(meta, format!("{} ({}): missing band(s) {}", id, profile.id, missing.join(", "))));
    }
    let mut used: Vec<PathBuf> = bands.values().chain(qa.values()).map(PathBuf::from).filter(|p| p.exists()).collect();
    used.sort();
    Ok(Scene { id, date, profile, bands, qa, source: meta.to_path_buf(), files: used })
}

fn read_landsat_tar(tar: &Path) -> Result<Scene> {
    let vsi = format!("/vsitar/{}", tar.display());
    let entries = {
        let _q = QuietErrors::new();
        gdal::vsi::read_dir(&vsi, true).map_err(|e| scene_err(tar, format!("cannot list the archive: {e}")))?
    };
    let mut members: Vec<String> = entries.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    members.sort();
    let mtl = members
        .iter()
        .find(|m| m.to_ascii_lowercase().ends_with("_mtl.txt"))
        .or_else(|| members.iter().find(|m| m.to_ascii_lowercase().ends_with("_mtl.xml")))
        .ok_or_else(|| scene_err(tar, "no *_MTL.txt or *_MTL.xml in the archive"))?
        .clone();
    let bytes = vsi_read(&format!("{vsi}/{mtl}")).map_err(|r| scene_err(tar, r))?;
    let text = String::from_utf8_lossy(&bytes);
    let m = if mtl.to_ascii_lowercase().ends_with(".xml") { parse_mtl_xml(&text) } else { parse_mtl_txt(&text) }.map_err(|r| scene_err(tar, r))?;
    let profile = SensorProfile::from_landsat(&m).map_err(|e| scene_err(tar, e.to_string()))?;
    let date = landsat_date(&m.date_acquired).ok_or_else(|| scene_err(tar, format!("DATE_ACQUIRED {:?} is not a date", m.date_acquired)))?;
    let files: Vec<PathBuf> = members.iter().map(PathBuf::from).collect();
    let mut s = assemble(tar, m.product_id.clone(), date, profile, &files, |p| format!("{vsi}/{}", p.display()))?;
    s.files = vec![tar.to_path_buf()];
    Ok(s)
}

/// Reads a whole file through GDAL's virtual file system (`/vsitar/…`).
fn vsi_read(path: &str) -> std::result::Result<Vec<u8>, String> {
    let c = CString::new(path).map_err(|_| format!("{path:?} contains NUL"))?;
    let mode = CString::new("rb").map_err(|e| e.to_string())?;
    let _q = QuietErrors::new();
    // SAFETY: both strings are valid NUL-terminated C strings for the duration of the call; a NULL
    // handle is checked; the handle is closed once below.
    let f = unsafe { gdal_sys::VSIFOpenL(c.as_ptr(), mode.as_ptr()) };
    if f.is_null() {
        return Err(format!("cannot open {path}"));
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: `buf` has `buf.len()` writable bytes; `f` is an open VSI handle.
        let n = unsafe { gdal_sys::VSIFReadL(buf.as_mut_ptr().cast(), 1, buf.len(), f) };
        out.extend_from_slice(&buf[..n]);
        if n < buf.len() || out.len() > 16 << 20 {
            break;
        }
    }
    // SAFETY: `f` is open and closed exactly once.
    unsafe { gdal_sys::VSIFCloseL(f) };
    Ok(out)
}

fn landsat_date(s: &str) -> Option<ModisDate> {
    let s = s.trim().trim_matches('"');
    let (y, rest) = s.split_once('-')?;
    let (m, d) = rest.split_once('-')?;
    date_of(y.parse().ok()?, m.parse().ok()?, d.get(..2)?.parse().ok()?)
}

fn s2_date(xml: &str) -> Option<ModisDate> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let t = doc.descendants().find(|n| n.has_tag_name("PRODUCT_START_TIME"))?.text()?;
    landsat_date(t.get(..10)?)
}

/// (year, month, day) → [`ModisDate`] (year, day of year).
fn date_of(y: i32, m: u32, d: u32) -> Option<ModisDate> {
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if d > days[(m - 1) as usize] {
        return None;
    }
    let doy: u32 = days[..(m - 1) as usize].iter().sum::<u32>() + d;
    ModisDate::new(u16::try_from(y).ok()?, u16::try_from(doy).ok()?)
}

/// Key/value pairs of an MTL file, in file order and by first occurrence.
#[derive(Default)]
struct MtlPairs<'a> {
    ordered: Vec<(&'a str, String)>,
    map: BTreeMap<&'a str, String>,
}

impl MtlPairs<'_> {
    fn get(&self, k: &str) -> Option<&String> {
        self.map.get(k)
    }
    fn contains_key(&self, k: &str) -> bool {
        self.map.contains_key(k)
    }
}

/// The profile-deciding fields of an MTL text file (ODL `KEY = VALUE` lines; the first
/// occurrence of a key wins, which is the product's own group in Collection 2 files).
pub fn parse_mtl_txt(text: &str) -> std::result::Result<LandsatMetadata, String> {
    let mut kv = MtlPairs::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else { continue };
        let k = k.trim();
        if k == "GROUP" || k == "END_GROUP" {
            continue;
        }
        let v = v.trim().trim_matches('"').to_string();
        kv.ordered.push((k, v.clone()));
        kv.map.entry(k).or_insert(v);
    }
    if !kv.contains_key("SPACECRAFT_ID") {
        return Err("not a Landsat MTL file (no SPACECRAFT_ID)".into());
    }
    Ok(LandsatMetadata {
        product_id: kv.get("LANDSAT_PRODUCT_ID").cloned().unwrap_or_default(),
        spacecraft_id: kv.get("SPACECRAFT_ID").cloned().unwrap_or_default(),
        sensor_id: kv.get("SENSOR_ID").cloned().unwrap_or_default(),
        collection_number: kv.get("COLLECTION_NUMBER").cloned().unwrap_or_default(),
        // Collection 1 Level-1 MTL files call it DATA_TYPE
        processing_level: kv.get("PROCESSING_LEVEL").or_else(|| kv.get("DATA_TYPE")).cloned().unwrap_or_default(),
        date_acquired: kv.get("DATE_ACQUIRED").cloned().unwrap_or_default(),
        reflectance_mult: first_number(&kv, "REFLECTANCE_MULT_BAND_")?,
        reflectance_add: first_number(&kv, "REFLECTANCE_ADD_BAND_")?,
        temperature_mult: first_number(&kv, "TEMPERATURE_MULT_BAND_ST")?,
        temperature_add: first_number(&kv, "TEMPERATURE_ADD_BAND_ST")?,
    })
}

/// The value of the first key (in file order) starting with `prefix`, as a number.
fn first_number_in<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, prefix: &str) -> std::result::Result<Option<f64>, String> {
    for (k, v) in pairs {
        if k.starts_with(prefix) {
            return v.trim().trim_matches('"').parse::<f64>().map(Some).map_err(|_| format!("{k} = {v:?} is not a number"));
        }
    }
    Ok(None)
}

fn first_number(kv: &MtlPairs<'_>, prefix: &str) -> std::result::Result<Option<f64>, String> {
    first_number_in(kv.ordered.iter().map(|(k, v)| (*k, v.as_str())), prefix)
}

/// The same fields from an MTL XML file (elements of those names, first occurrence).
pub fn parse_mtl_xml(text: &str) -> std::result::Result<LandsatMetadata, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("not readable XML: {e}"))?;
    let get = |tag: &str| doc.descendants().find(|n| n.has_tag_name(tag)).and_then(|n| n.text()).map(|t| t.trim().to_string()).unwrap_or_default();
    if get("SPACECRAFT_ID").is_empty() {
        return Err("not a Landsat MTL file (no SPACECRAFT_ID)".into());
    }
    Ok(LandsatMetadata {
        product_id: get("LANDSAT_PRODUCT_ID"),
        spacecraft_id: get("SPACECRAFT_ID"),
        sensor_id: get("SENSOR_ID"),
        collection_number: get("COLLECTION_NUMBER"),
        processing_level: get("PROCESSING_LEVEL"),
        date_acquired: get("DATE_ACQUIRED"),
        reflectance_mult: xml_number(&doc, "REFLECTANCE_MULT_BAND_")?,
        reflectance_add: xml_number(&doc, "REFLECTANCE_ADD_BAND_")?,
        temperature_mult: xml_number(&doc, "TEMPERATURE_MULT_BAND_ST")?,
        temperature_add: xml_number(&doc, "TEMPERATURE_ADD_BAND_ST")?,
    })
}

fn xml_number(doc: &roxmltree::Document<'_>, prefix: &str) -> std::result::Result<Option<f64>, String> {
    first_number_in(doc.descendants().filter(|n| n.is_element()).map(|n| (n.tag_name().name(), n.text().unwrap_or(""))), prefix)
}

/// The profile-deciding fields of `MTD_MSIL2A.xml`.
pub fn parse_s2_metadata(text: &str) -> std::result::Result<Sentinel2Metadata, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("not readable XML: {e}"))?;
    let get = |tag: &str| doc.descendants().find(|n| n.has_tag_name(tag)).and_then(|n| n.text()).map(|t| t.trim().to_string()).unwrap_or_default();
    let mut offsets = Vec::new();
    for n in doc.descendants().filter(|n| n.has_tag_name("BOA_ADD_OFFSET")) {
        let t = n.text().unwrap_or("").trim();
        offsets.push(t.parse::<f64>().map_err(|_| format!("BOA_ADD_OFFSET {t:?} is not a number"))?);
    }
    let q = get("BOA_QUANTIFICATION_VALUE");
    Ok(Sentinel2Metadata {
        product: get("PRODUCT_URI"),
        spacecraft: get("SPACECRAFT_NAME"),
        product_type: get("PRODUCT_TYPE"),
        processing_baseline: get("PROCESSING_BASELINE"),
        quantification: if q.is_empty() { None } else { Some(q.parse().map_err(|_| format!("BOA_QUANTIFICATION_VALUE {q:?} is not a number"))?) },
        boa_add_offsets: offsets,
    })
}

/// One band (or QA layer) of a scene opened for reading.
pub struct SceneBand {
    name: String,
    ds: gdal::Dataset,
    grid: Grid,
}

impl std::fmt::Debug for SceneBand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SceneBand").field("name", &self.name).field("grid", &self.grid).finish_non_exhaustive()
    }
}

impl SceneBand {
    /// Opens a band by its GDAL name (a path, or `/vsitar/…`).
    pub fn open(gdal_name: &str) -> Result<SceneBand> {
        let path = Path::new(gdal_name);
        let ds = open_raster(gdal_name, path)?;
        if ds.raster_count() == 0 {
            return Err(scene_err(path, "no raster band"));
        }
        let grid = crate::read::grid_of_cached(&ds, gdal_name, path)?;
        Ok(SceneBand { name: gdal_name.to_string(), ds, grid })
    }

    /// The band's own grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Raw DN of a window of the band's own grid.
    pub fn read_raw(&self, w: Window) -> Result<Vec<u32>> {
        self.grid.check_window(w).map_err(|e| scene_err(Path::new(&self.name), e.to_string()))?;
        let mut buf = vec![0u32; w.len()];
        if w.is_empty() {
            return Ok(buf);
        }
        let band = self.ds.rasterband(1).map_err(|e| IoError::gdal(format!("{}: band 1", self.name), e))?;
        let _q = QuietErrors::new();
        band.read_into_slice::<u32>((w.col as isize, w.row as isize), (w.cols, w.rows), (w.cols, w.rows), &mut buf, None).map_err(|e| IoError::Read {
            path: PathBuf::from(&self.name),
            layer: "band 1".into(),
            window: w.to_string(),
            source: Box::new(e),
        })?;
        Ok(buf)
    }

    /// Writes the raw DN of the cells of `tw` (a window of `target`) that this band covers into
    /// `out` (row-major over `tw`), by nearest neighbour ([`crate::warp::nearest_map`]); other cells
    /// are left as they are. Returns the number of cells written.
    pub fn read_raw_into(&self, target: &Grid, tw: Window, out: &mut [u32]) -> Result<usize> {
        if out.len() != tw.len() {
            return Err(rsei_core::CoreError::BufferSize { got: out.len(), expected: tw.len(), rows: tw.rows, cols: tw.cols }.into());
        }
        let Some(map) = crate::warp::nearest_map(&self.grid, target, tw)
            .map_err(|e| scene_err(Path::new(&self.name), format!("warping onto the study grid: {e}")))?
        else {
            return Ok(0);
        };
        let vals = self.read_raw(map.source_window)?;
        let mut n = 0;
        for (o, &i) in out.iter_mut().zip(&map.index) {
            if i != crate::warp::NearestMap::OUTSIDE {
                *o = vals[i as usize];
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(landsat_date("2020-12-04"), ModisDate::new(2020, 339));
        assert_eq!(landsat_date("2019-03-01"), ModisDate::new(2019, 60));
        assert_eq!(landsat_date("2020-03-01"), ModisDate::new(2020, 61));
        assert_eq!(landsat_date("2020-02-30"), None);
    }

    #[test]
    fn band_names_and_keys() {
        let files: Vec<PathBuf> = ["a/LC08_X_SR_B4.TIF", "a/red.tif", "GRANULE/x/IMG_DATA/R20m/T33_B04_20m.jp2", "GRANULE/x/IMG_DATA/R10m/T33_B04_10m.jp2", "a/T33_SCL_20m.jp2"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(find_band(&files[..1], "SR_B4", "red", None), Some(&files[0]));
        assert_eq!(find_band(&files[1..2], "SR_B4", "red", None), Some(&files[1]));
        assert_eq!(find_band(&files[2..4], "B04", "red", Some("R10m")), Some(&files[3]));
        assert_eq!(find_band(&files, "SCL", "scl", Some("R20m")), Some(&files[4]));
        assert_eq!(find_band(&files, "SR_B6", "swir16", None), None);
    }
}
