//! Output files of an RSEI run, all written atomically.
//!
//! ```text
//! OUT/
//!   pca_table.csv|json        one row per area and year: PC1 loadings, eigenvalues, contribution (Table A1)
//!   rsei_summary.csv|json     one row per area and year: mean, std, grade areas and shares
//!   <area>/
//!     pca_table.csv|json, rsei_summary.csv|json   (that area only)
//!     <year>/
//!       rsei.tif  ndvi.tif  wet.tif  ndbsi.tif  lst_celsius.tif  mndwi.tif   Float32 COG, nodata −9999
//!       grade.tif (1 poor … 5 excellent, 0 nodata)   water.tif (1 water, 0 land, 255 outside)
//!       obs_count.tif (valid observations: MOD09A1, MOD13A1, MOD11A2)
//!       rsei_map.png              map of the five grades with legend, scale bar and north arrow
//!       summary.json              statistics, model, QA, warnings
//!       manifest.json             inputs with SHA-256, options, software version, outputs with SHA-256
//! ```
//! `manifest.json` is written last: a year folder without it is incomplete.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::{Context, Result};
use rayon::prelude::*;
use rsei_core::model::GradeTable;
use rsei_core::Raster;
use rsei_io::write::WriteValue;
use rsei_io::{write_bands, write_raster, OverviewResampling, Overviews, RasterFormat, WriteOptions};
use rsei_report::table::{Cell, Column, Table};
use serde::{Deserialize, Serialize};

use crate::area::StudyArea;
use crate::compute::{RseiRequest, YearIndicators, YearSummary};
use crate::options::RseiRunOptions;

/// Name and version of this software, recorded in every output.
pub const SOFTWARE: &str = concat!("rsei ", env!("CARGO_PKG_VERSION"));

/// One input file and its checksum.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct InputFile {
    /// Path as given.
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content (hex).
    pub sha256: String,
}

/// What made an output: software, inputs (with checksums), options, area and year.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    /// Software and version.
    pub software: String,
    /// Name of the study area.
    pub area: String,
    /// Where the area came from (file, layer, filter).
    pub area_source: String,
    /// Target year.
    pub year: i32,
    /// Composite description.
    pub composite: String,
    /// Every option of the run.
    pub options: RseiRunOptions,
    /// Every granule read, with its checksum.
    pub inputs: Vec<InputFile>,
    /// The land-cover raster, when used.
    pub landcover: Option<InputFile>,
}

type HashKey = (PathBuf, u64, Option<std::time::SystemTime>);

fn hash_cache() -> &'static Mutex<HashMap<HashKey, String>> {
    static CACHE: OnceLock<Mutex<HashMap<HashKey, String>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// SHA-256 of a file, cached by (path, size, modification time) for the life of the process.
pub fn checksum(path: &Path) -> Result<InputFile> {
    let md = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let key = (path.to_path_buf(), md.len(), md.modified().ok());
    if let Some(h) = hash_cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(InputFile { path: path.to_path_buf(), bytes: md.len(), sha256: h });
    }
    let h = rsei_io::warp::sha256_file(path)?;
    if let Ok(mut c) = hash_cache().lock() {
        c.insert(key, h.clone());
    }
    Ok(InputFile { path: path.to_path_buf(), bytes: md.len(), sha256: h })
}

/// Records a checksum known from elsewhere (e.g. a study's checksum cache) for [`checksum`], keyed
/// by the file's current size and modification time.
pub fn remember_checksum(path: &Path, sha256: &str) {
    if let Ok(md) = std::fs::metadata(path) {
        if let Ok(mut c) = hash_cache().lock() {
            c.insert((path.to_path_buf(), md.len(), md.modified().ok()), sha256.to_string());
        }
    }
}

impl Provenance {
    /// The provenance of one area and year of a run.
    pub fn new(req: &RseiRequest<'_>, area: &StudyArea, ind: &YearIndicators) -> Result<Provenance> {
        let inputs: Vec<InputFile> = ind.files.par_iter().map(|p| checksum(p)).collect::<Result<_>>()?;
        let landcover = req.inputs.landcover.as_deref().map(checksum).transpose()?;
        Ok(Provenance {
            software: SOFTWARE.into(),
            area: area.name.clone(),
            area_source: area.source.clone(),
            year: ind.year,
            composite: req.options.composite.describe(ind.year),
            options: req.options.clone(),
            inputs,
            landcover,
        })
    }
    /// A short record for raster tags (the full list of inputs is in `manifest.json`).
    fn tag(&self) -> serde_json::Value {
        serde_json::json!({
            "software": self.software,
            "area": self.area,
            "year": self.year,
            "composite": self.composite,
            "inputs": self.inputs.len(),
            "manifest": "manifest.json",
        })
    }
}

fn raster_opts(opts: &RseiRunOptions, prov: &Provenance, classes: bool) -> WriteOptions {
    let mut o = if classes { WriteOptions::classes() } else { WriteOptions::continuous() };
    o = o.with_format(RasterFormat::Cog).with_compression(opts.output.compression.to_io(), None);
    if !opts.output.overviews {
        o.overviews = Overviews::None;
    } else if classes {
        o.overviews = Overviews::Auto(OverviewResampling::Nearest);
    }
    o.provenance = Some(prov.tag());
    o.with_tag("SOFTWARE", SOFTWARE)
}

fn write_layer<T: WriteValue>(dir: &Path, name: &str, grid: &rsei_core::Grid, data: Vec<T>, o: &WriteOptions, unit: Option<&str>, desc: &str) -> Result<PathBuf> {
    let p = dir.join(name);
    let mut o = o.clone();
    o.band.description = Some(desc.into());
    o.band.unit = unit.map(str::to_string);
    write_raster(&p, &Raster::new(grid.clone(), data)?, &o).with_context(|| format!("writing {}", p.display()))?;
    Ok(p)
}

/// Prepares a year folder: creates it and removes an older manifest (it must not vouch for files
/// being replaced).
fn prepare_year_dir(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let manifest = dir.join("manifest.json");
    if manifest.exists() {
        std::fs::remove_file(&manifest).with_context(|| format!("removing {}", manifest.display()))?;
    }
    Ok(manifest)
}

/// The raster options of a year's continuous layers and of its classes and counts.
fn year_raster_opts(summary: &YearSummary, prov: &Provenance, opts: &RseiRunOptions) -> (WriteOptions, WriteOptions) {
    let mut cont = raster_opts(opts, prov, false);
    let mut cls = raster_opts(opts, prov, true);
    if let Some(sensor) = &summary.sensor {
        // scene runs: every raster names the sensor profiles and levels it was made from
        let tag = format!("{} ({})", sensor.profiles.join(", "), sensor.levels.join(", "));
        cont = cont.with_tag("SENSOR", tag.clone());
        cls = cls.with_tag("SENSOR", tag);
    }
    (cont, cls)
}

/// Band names of `obs_count.tif`.
fn count_names(summary: &YearSummary) -> [&'static str; 3] {
    if summary.sensor.is_some() {
        ["valid reflectance observations (scenes)", "unused", "valid LST observations"]
    } else {
        ["valid MOD09A1 observations", "valid MOD13A1 observations", "valid MOD11A2 observations (per 1 km cell)"]
    }
}

/// The continuous layers of a year: file, unit, description.
const CONTINUOUS: [(&str, &str, &str); 6] = [
    ("rsei.tif", "1", "RSEI (0 worst .. 1 best)"),
    ("ndvi.tif", "1", "NDVI (greenness)"),
    ("wet.tif", "1", "WET (tasseled-cap wetness)"),
    ("ndbsi.tif", "1", "NDBSI (dryness)"),
    ("lst_celsius.tif", "degC", "LST (heat), degrees Celsius"),
    ("mndwi.tif", "1", "MNDWI"),
];
const GRADE_DESC: &str = "RSEI grade: 1 poor, 2 fair, 3 moderate, 4 good, 5 excellent";
const WATER_DESC: &str = "water mask: 1 water, 0 land";

/// Writes the outputs of one area and year into `dir`.
pub fn write_year(
    dir: &Path,
    ind: &YearIndicators,
    rsei: &[f32],
    summary: &YearSummary,
    prov: &Provenance,
    opts: &RseiRunOptions,
) -> Result<()> {
    let manifest = prepare_year_dir(dir)?;
    let g = &ind.grid;
    let (cont, cls) = year_raster_opts(summary, prov, opts);
    let inside = |v: &[f32]| -> Vec<f32> { v.iter().zip(&ind.inside).map(|(&x, &i)| if i { x } else { f32::NAN }).collect() };
    let layer = |k: usize| -> &[f32] {
        match k {
            0 => rsei,
            1 => &ind.ndvi,
            2 => &ind.wet,
            3 => &ind.ndbsi,
            4 => &ind.lst_celsius,
            _ => &ind.mndwi,
        }
    };
    // The rasters are written in parallel (GDAL's encoders are single-threaded); each job builds
    // its values only when it runs, so at most one copy per thread is in memory. Files are listed
    // in this order whatever the thread count.
    type Job<'a> = Box<dyn FnOnce() -> Result<PathBuf> + Send + Sync + 'a>;
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for (k, (name, unit, desc)) in CONTINUOUS.iter().enumerate() {
        let (cont, inside) = (&cont, &inside);
        jobs.push(Box::new(move || write_layer(dir, name, g, if k == 0 { rsei.to_vec() } else { inside(layer(k)) }, cont, Some(unit), desc)));
    }
    jobs.push(Box::new(|| {
        let mut o = cls.clone();
        o.nodata = Some(0.0);
        let grade: Vec<u8> = rsei.iter().map(|&v| GradeTable::grade_of(v).map_or(0, |k| k as u8 + 1)).collect();
        write_layer(dir, "grade.tif", g, grade, &o, None, GRADE_DESC)
    }));
    jobs.push(Box::new(|| {
        let mut o = cls.clone();
        o.nodata = Some(255.0);
        let water: Vec<u8> = ind.water.iter().zip(&ind.inside).map(|(&w, &i)| if !i { 255 } else { u8::from(w) }).collect();
        write_layer(dir, "water.tif", g, water, &o, None, WATER_DESC)
    }));
    jobs.push(Box::new(|| {
        let p = dir.join("obs_count.tif");
        let mut o = cls.clone();
        o.band.unit = Some("count".into());
        let names = count_names(summary);
        write_bands(&p, g, &[(names[0], &ind.count_mod09[..]), (names[1], &ind.count_mod13[..]), (names[2], &ind.count_mod11[..])], &o)
            .with_context(|| format!("writing {}", p.display()))?;
        Ok(p)
    }));
    let files: Vec<PathBuf> = jobs.into_par_iter().map(|job| job()).collect::<Result<_>>()?;
    let png = if opts.output.map_png {
        Some(render_rsei_map(g, rsei, &ind.water, &ind.inside, &format!("RSEI {} {}", summary.area, summary.year))?)
    } else {
        None
    };
    finish_year_outputs(dir, &manifest, files, png, summary, prov)
}

/// The layers of a year read in strips of rows, for [`write_year_streamed`] (pass 2 of an area
/// larger than the memory budget). Rows are full-width, row-major; `NaN` = nodata.
pub trait YearRows: Sync {
    /// RSEI of rows `rows` (0..1, NaN outside the pixels of the model).
    fn rsei(&self, rows: std::ops::Range<usize>) -> Result<Vec<f32>>;
    /// Indicator `k` (1 NDVI, 2 WET, 3 NDBSI, 4 LST °C, 5 MNDWI) of rows `rows`.
    fn indicator(&self, k: usize, rows: std::ops::Range<usize>) -> Result<Vec<f32>>;
    /// Water cells of rows `rows`.
    fn water(&self, rows: std::ops::Range<usize>) -> Result<Vec<bool>>;
    /// Cells inside the area in rows `rows`.
    fn inside(&self, rows: std::ops::Range<usize>) -> Result<Vec<bool>>;
    /// Valid observations (0 MOD09A1, 1 MOD13A1, 2 MOD11A2) of rows `rows`.
    fn count(&self, k: usize, rows: std::ops::Range<usize>) -> Result<Vec<u16>>;
}

/// [`write_year`] for a year whose layers are read in strips (`rows_per_strip` rows) from
/// `src`: the same files, byte for byte, with memory bounded by a strip. The map is drawn from
/// every cell when the grid has at most `map_cells` cells, else from a regular sample of cells
/// (nearest, at most `map_cells`).
#[allow(clippy::too_many_arguments)]
pub fn write_year_streamed(
    dir: &Path,
    grid: &rsei_core::Grid,
    src: &dyn YearRows,
    rows_per_strip: usize,
    map_cells: usize,
    summary: &YearSummary,
    prov: &Provenance,
    opts: &RseiRunOptions,
) -> Result<()> {
    use rsei_io::write_bands_streamed;
    let manifest = prepare_year_dir(dir)?;
    let g = grid;
    let cols = g.cols();
    let (cont, cls) = year_raster_opts(summary, prov, opts);
    let msg = |e: crate::Error| e.chain_text();
    let masked = |k: usize, rows: std::ops::Range<usize>| -> Result<Vec<f32>> {
        if k == 0 {
            return src.rsei(rows);
        }
        let v = src.indicator(k, rows.clone())?;
        let i = src.inside(rows)?;
        Ok(v.iter().zip(&i).map(|(&x, &i)| if i { x } else { f32::NAN }).collect())
    };
    type Job<'a> = Box<dyn FnOnce() -> Result<PathBuf> + Send + Sync + 'a>;
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for (k, (name, unit, desc)) in CONTINUOUS.iter().enumerate() {
        let (cont, masked) = (&cont, &masked);
        jobs.push(Box::new(move || {
            let p = dir.join(name);
            let mut o = cont.clone();
            o.band.description = Some((*desc).into());
            o.band.unit = Some((*unit).into());
            write_bands_streamed(&p, g, &[desc], &o, rows_per_strip, &mut |_, w, out: &mut [f32]| {
                out.copy_from_slice(&masked(k, w.row..w.row_end()).map_err(msg)?);
                Ok(())
            })
            .with_context(|| format!("writing {}", p.display()))?;
            Ok(p)
        }));
    }
    jobs.push(Box::new(|| {
        let p = dir.join("grade.tif");
        let mut o = cls.clone();
        o.nodata = Some(0.0);
        o.band.description = Some(GRADE_DESC.into());
        write_bands_streamed(&p, g, &[GRADE_DESC], &o, rows_per_strip, &mut |_, w, out: &mut [u8]| {
            for (o, &v) in out.iter_mut().zip(&src.rsei(w.row..w.row_end()).map_err(msg)?) {
                *o = GradeTable::grade_of(v).map_or(0, |k| k as u8 + 1);
            }
            Ok(())
        })
        .with_context(|| format!("writing {}", p.display()))?;
        Ok(p)
    }));
    jobs.push(Box::new(|| {
        let p = dir.join("water.tif");
        let mut o = cls.clone();
        o.nodata = Some(255.0);
        o.band.description = Some(WATER_DESC.into());
        write_bands_streamed(&p, g, &[WATER_DESC], &o, rows_per_strip, &mut |_, w, out: &mut [u8]| {
            let rows = w.row..w.row_end();
            let (water, inside) = (src.water(rows.clone()).map_err(msg)?, src.inside(rows).map_err(msg)?);
            for ((o, &w), &i) in out.iter_mut().zip(&water).zip(&inside) {
                *o = if !i { 255 } else { u8::from(w) };
            }
            Ok(())
        })
        .with_context(|| format!("writing {}", p.display()))?;
        Ok(p)
    }));
    jobs.push(Box::new(|| {
        let p = dir.join("obs_count.tif");
        let mut o = cls.clone();
        o.band.unit = Some("count".into());
        write_bands_streamed(&p, g, &count_names(summary), &o, rows_per_strip, &mut |band, w, out: &mut [u16]| {
            out.copy_from_slice(&src.count(band, w.row..w.row_end()).map_err(msg)?);
            Ok(())
        })
        .with_context(|| format!("writing {}", p.display()))?;
        Ok(p)
    }));
    let files: Vec<PathBuf> = jobs.into_par_iter().map(|job| job()).collect::<Result<_>>()?;
    let png = if opts.output.map_png {
        let title = format!("RSEI {} {}", summary.area, summary.year);
        let all = 0..g.rows();
        if g.len() <= map_cells {
            Some(render_rsei_map(g, &src.rsei(all.clone())?, &src.water(all.clone())?, &src.inside(all)?, &title)?)
        } else {
            // a regular sample: the centre cell of every k × k block
            let k = ((g.len() as f64 / map_cells.max(1) as f64).sqrt().ceil() as usize).max(2);
            let (rows, scols) = (g.rows() / k, cols / k);
            let t = g.transform();
            let sg = rsei_core::Grid::new(rows.max(1), scols.max(1), rsei_core::GeoTransform::new(t.x0, t.dx * k as f64, t.y0, t.dy * k as f64), g.crs().clone());
            let (mut r, mut w, mut i) = (Vec::with_capacity(sg.len()), Vec::with_capacity(sg.len()), Vec::with_capacity(sg.len()));
            for sr in 0..sg.rows() {
                let row = sr * k + k / 2;
                let (rr, ww, ii) = (src.rsei(row..row + 1)?, src.water(row..row + 1)?, src.inside(row..row + 1)?);
                for sc in 0..sg.cols() {
                    let c = sc * k + k / 2;
                    r.push(rr[c]);
                    w.push(ww[c]);
                    i.push(ii[c]);
                }
            }
            Some(render_rsei_map(&sg, &r, &w, &i, &title)?)
        }
    } else {
        None
    };
    finish_year_outputs(dir, &manifest, files, png, summary, prov)
}

/// The map, `summary.json` and, last, `manifest.json` of a year whose rasters are written.
fn finish_year_outputs(dir: &Path, manifest: &Path, mut files: Vec<PathBuf>, png: Option<Vec<u8>>, summary: &YearSummary, prov: &Provenance) -> Result<()> {
    if let Some(png) = png {
        let p = dir.join("rsei_map.png");
        rsei_report::write_png(&p, &png)?;
        files.push(p);
    }
    let p = dir.join("summary.json");
    rsei_core::fsutil::write_atomic(&p, &serde_json::to_vec_pretty(summary)?).with_context(|| format!("writing {}", p.display()))?;
    files.push(p);
    // manifest last, with checksums of the outputs
    let outputs: Vec<InputFile> = files.par_iter().map(|p| checksum(p)).collect::<Result<_>>()?;
    let outputs: Vec<serde_json::Value> = outputs
        .into_iter()
        .map(|f| serde_json::json!({"file": f.path.file_name().map(|n| n.to_string_lossy().into_owned()), "bytes": f.bytes, "sha256": f.sha256}))
        .collect();
    let m = match &summary.sensor {
        Some(sensor) => serde_json::json!({ "provenance": prov, "sensor": sensor, "outputs": outputs }),
        None => serde_json::json!({ "provenance": prov, "outputs": outputs }),
    };
    rsei_core::fsutil::write_atomic(manifest, &serde_json::to_vec_pretty(&m)?).with_context(|| format!("writing {}", manifest.display()))?;
    Ok(())
}

/// The grid a map of `g` is drawn on: grids on the MODIS sinusoidal projection are sheared away
/// from its central meridian (at 117° E by about 45°), so they are shown in a Lambert azimuthal
/// equal-area projection centred on the area, at the same cell size (nearest neighbour: every
/// displayed cell is a computed cell, areas are kept). Other grids are shown as they are.
pub fn display_grid(g: &rsei_core::Grid, inside: &[bool]) -> Result<Option<rsei_core::Grid>> {
    if g.crs() != &rsei_core::Crs::modis_sinusoidal() {
        return Ok(None);
    }
    // the outline of the area: first and last inside cell of every row (corners of those cells)
    let t = g.transform();
    let mut pts = Vec::new();
    for r in 0..g.rows() {
        let row = &inside[r * g.cols()..(r + 1) * g.cols()];
        if let (Some(a), Some(b)) = (row.iter().position(|&x| x), row.iter().rposition(|&x| x)) {
            for (rr, cc) in [(r, a), (r + 1, a), (r, b + 1), (r + 1, b + 1)] {
                pts.push(t.xy(rr as f64, cc as f64));
            }
        }
    }
    if pts.is_empty() {
        return Ok(None);
    }
    let ll = rsei_io::crs::reproject_points(&pts, g.crs(), &rsei_core::Crs::new("EPSG:4326"))?;
    let n = ll.len() as f64;
    let (lon, lat) = (ll.iter().map(|p| p.0).sum::<f64>() / n, ll.iter().map(|p| p.1).sum::<f64>() / n);
    let laea = rsei_core::Crs::new(format!("+proj=laea +lat_0={lat:.6} +lon_0={lon:.6} +datum=WGS84 +units=m +no_defs"));
    let proj = rsei_io::crs::reproject_points(&pts, g.crs(), &laea)?;
    let cs = g.cell_size().0;
    let pad = 2.0 * cs;
    let db = rsei_core::Bounds::new(
        proj.iter().map(|p| p.0).fold(f64::INFINITY, f64::min) - pad,
        proj.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) - pad,
        proj.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max) + pad,
        proj.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max) + pad,
    );
    let cols = ((db.xmax - db.xmin) / cs).ceil().max(1.0) as usize;
    let rows = ((db.ymax - db.ymin) / cs).ceil().max(1.0) as usize;
    let laea = rsei_io::crs::normalize_crs(&laea)?;
    Ok(Some(rsei_core::Grid::new(rows, cols, rsei_core::GeoTransform::new(db.xmin, cs, db.ymax, -cs), laea)))
}

/// PNG map of the RSEI grades (water in blue, outside grey), reprojected for display when the
/// grid is sinusoidal (see [`display_grid`]).
pub fn render_rsei_map(g: &rsei_core::Grid, rsei: &[f32], water: &[bool], inside: &[bool], title: &str) -> Result<Vec<u8>> {
    use rsei_io::warp::{warp_raster, Resampling};
    let water_in: Vec<f32> = water.iter().zip(inside).map(|(&w, &i)| if w && i { 1.0 } else { 0.0 }).collect();
    let (grid, values, water_mask) = match display_grid(g, inside)? {
        Some(d) => {
            let v = warp_raster(&Raster::new(g.clone(), rsei.to_vec())?, &d, Resampling::Nearest)?.into_data();
            let w = warp_raster(&Raster::new(g.clone(), water_in)?, &d, Resampling::Nearest)?.into_data();
            (d, v, w.iter().map(|&x| x == 1.0).collect::<Vec<bool>>())
        }
        None => (g.clone(), rsei.to_vec(), water_in.iter().map(|&x| x == 1.0).collect()),
    };
    let metres = grid.crs().as_str().contains("+units=m") || grid.crs().as_str().contains("metre");
    let style = rsei_report::MapStyle {
        title: title.to_string(),
        water_mask: Some(&water_mask),
        cell_size_m: metres.then(|| grid.cell_size().0),
        ..rsei_report::MapStyle::default()
    };
    Ok(rsei_report::render_map(&values, grid.rows(), grid.cols(), &style)?)
}

fn f(v: f64, d: u8) -> Cell {
    Cell::float(v, d)
}

/// The PCA table (paper Table A1 layout): one row per area and year.
pub fn pca_table(rows: &[YearSummary]) -> Table {
    let mut cols = vec![Column::new("area"), Column::new("year"), Column::new("n_pixels")];
    for n in ["NDVI", "WET", "NDBSI", "LST"] {
        cols.push(Column::new(format!("pc1_{n}")));
    }
    for k in 1..=4 {
        cols.push(Column::new(format!("eigenvalue_{k}")));
    }
    cols.push(Column::with_unit("pc1_contribution", "%"));
    cols.push(Column::new("pc1_flipped"));
    cols.push(Column::new("normalisation"));
    cols.push(Column::new("pooled"));
    cols.push(Column::new("warnings"));
    let mut t = Table::new(cols);
    for r in rows {
        let m = &r.model;
        let mut cells = vec![Cell::Text(r.area.clone()), Cell::Int(i64::from(r.year)), Cell::Int(r.n_pixels as i64)];
        cells.extend(m.pc1.iter().map(|&v| f(v, 3)));
        cells.extend(m.eigenvalues.iter().map(|&v| f(v, 6)));
        cells.push(f(100.0 * m.pc1_contribution, 2));
        cells.push(Cell::Text(m.flipped.to_string()));
        cells.push(Cell::Text(match m.normalisation {
            rsei_core::model::Normalisation::MinMax => "min-max".into(),
            rsei_core::model::Normalisation::Percentile { lo, hi } => format!("percentile {lo}-{hi}"),
            rsei_core::model::Normalisation::Fixed { .. } => "fixed".into(),
        }));
        cells.push(Cell::Text(m.pooled.to_string()));
        cells.push(Cell::Text(m.warnings.join("; ")));
        // push_row only fails on a length mismatch, which the construction above rules out
        let _ = t.push_row(cells);
    }
    t
}

/// Summary statistics: mean, std and grade areas/shares per area and year.
pub fn summary_table(rows: &[YearSummary]) -> Table {
    let mut cols = vec![
        Column::new("area"),
        Column::new("year"),
        Column::new("n_pixels"),
        Column::with_unit("assessed_area", "km2"),
        Column::new("rsei_mean"),
        Column::new("rsei_std"),
        Column::new("ndvi_mean"),
        Column::new("wet_mean"),
        Column::new("ndbsi_mean"),
        Column::with_unit("lst_mean", "degC"),
    ];
    for g in rsei_core::model::GRADE_NAMES {
        cols.push(Column::with_unit(format!("{g}_area"), "km2"));
        cols.push(Column::with_unit(format!("{g}_share"), "%"));
    }
    let mut t = Table::new(cols);
    for r in rows {
        let mut cells = vec![
            Cell::Text(r.area.clone()),
            Cell::Int(i64::from(r.year)),
            Cell::Int(r.n_pixels as i64),
            f(r.grades.area_km2, 2),
            Cell::opt_float(r.rsei_mean, 4),
            Cell::opt_float(r.rsei_std, 4),
        ];
        for (k, m) in r.indicator_means.iter().enumerate() {
            cells.push(Cell::opt_float(*m, if k == 3 { 2 } else { 4 }));
        }
        for g in &r.grades.grades {
            cells.push(f(g.area_km2, 2));
            cells.push(f(100.0 * g.share, 2));
        }
        let _ = t.push_row(cells);
    }
    t
}

fn write_tables(dir: &Path, rows: &[YearSummary]) -> Result<()> {
    let pca = pca_table(rows);
    let sum = summary_table(rows);
    rsei_report::write_csv(&dir.join("pca_table.csv"), &pca)?;
    rsei_report::write_json(&dir.join("pca_table.json"), &pca)?;
    rsei_report::write_csv(&dir.join("rsei_summary.csv"), &sum)?;
    rsei_report::write_json(&dir.join("rsei_summary.json"), &sum)?;
    Ok(())
}

/// Tables of one area.
pub fn write_area_tables(dir: &Path, rows: &[YearSummary]) -> Result<()> {
    write_tables(dir, rows)
}

/// Tables across all areas of a run.
pub fn write_run_tables(dir: &Path, rows: &[YearSummary]) -> Result<()> {
    write_tables(dir, rows)
}
