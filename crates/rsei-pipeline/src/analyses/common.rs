//! What the analyses beyond the source study share: finding an area's results, reading a layer
//! of several years on one grid, and writing an output folder (rasters as COGs, tables as CSV and
//! JSON, figures as SVG and PNG, `summary.json`, then `manifest.json` last).

use std::path::{Path, PathBuf};

use geo_types::MultiPolygon;
use rayon::prelude::*;
use rsei_core::{Crs, Grid, Raster};
use rsei_io::{write_raster, OverviewResampling, Overviews, RasterFormat, WriteOptions};
use rsei_report::table::Table;
use rsei_report::{Chart, MapStyle};
use serde::Serialize;

use crate::area::StudyArea;
use crate::error::{Context, Error, Result};
use crate::outputs::{checksum, InputFile, SOFTWARE};

/// Folder of an area's results (`<rsei_dir>/<slug>`); an error names the folders that exist.
pub fn area_dir(rsei_dir: &Path, area: &StudyArea) -> Result<PathBuf> {
    let dir = rsei_dir.join(area.slug());
    if dir.is_dir() {
        return Ok(dir);
    }
    let mut found: Vec<String> = std::fs::read_dir(rsei_dir)
        .map(|rd| rd.flatten().filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().to_str().map(str::to_string)).filter(|n| !n.starts_with('.')).collect())
        .unwrap_or_default();
    found.sort();
    Err(Error::input(
        rsei_dir,
        format!(
            "{}: no results of study area {:?} (folder {:?} missing; folders found: {}); run `rsei compute` (or `rsei run`) first",
            rsei_dir.display(),
            area.name,
            area.slug(),
            if found.is_empty() { "none".to_string() } else { found.join(", ") }
        ),
    ))
}

/// The years whose folder holds `file` (`<area_dir>/<year>/<file>`), ascending.
pub fn years_with(area_dir: &Path, file: &str) -> Vec<i32> {
    let mut years: Vec<i32> = std::fs::read_dir(area_dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let y: i32 = e.file_name().to_str()?.parse().ok()?;
                    e.path().join(file).is_file().then_some(y)
                })
                .collect()
        })
        .unwrap_or_default();
    years.sort_unstable();
    years
}

/// `requested` (sorted, unique) when every year has `file`, else every year that has it. Errors
/// name the area, the missing file and the years available.
pub fn select_years(area_dir: &Path, area: &str, file: &str, requested: Option<&[i32]>) -> Result<Vec<i32>> {
    let available = years_with(area_dir, file);
    let list = |v: &[i32]| if v.is_empty() { "none".to_string() } else { v.iter().map(i32::to_string).collect::<Vec<_>>().join(", ") };
    match requested {
        Some(ys) => {
            let mut ys = ys.to_vec();
            ys.sort_unstable();
            ys.dedup();
            if let Some(y) = ys.iter().find(|y| !available.contains(y)) {
                let p = area_dir.join(y.to_string()).join(file);
                return Err(Error::input(&p, format!("study area {area:?}: {} not found (years with {file}: {})", p.display(), list(&available))));
            }
            Ok(ys)
        }
        None if available.is_empty() => Err(Error::input(area_dir, format!("study area {area:?}: no year folder with {file} in {}", area_dir.display()))),
        None => Ok(available),
    }
}

/// One year of a layer.
#[derive(Clone, Debug)]
pub struct YearLayer {
    /// The year.
    pub year: i32,
    /// The file.
    pub path: PathBuf,
    /// Values, `NaN` = nodata.
    pub values: Vec<f32>,
}

/// Reads a raster file (band 1) as `f32`, `NaN` for nodata; the error names the file.
pub fn read_band(path: &Path, band: usize) -> Result<Raster<f32>> {
    rsei_io::plain::read_plain(path, band).map_err(|e| Error::input(path, format!("reading {}: {e}", path.display())))
}

/// Reads `path_of(year)` for every year (in parallel), checking that all share the grid of the
/// first. Errors name the file at fault.
pub fn read_layers(years: &[i32], path_of: impl Fn(i32) -> PathBuf + Sync) -> Result<(Grid, Vec<YearLayer>)> {
    let loaded: Vec<Result<(Grid, YearLayer)>> = years
        .par_iter()
        .map(|&year| {
            let path = path_of(year);
            let r = read_band(&path, 1)?;
            Ok((r.grid().clone(), YearLayer { year, path, values: r.into_data() }))
        })
        .collect();
    let mut out = Vec::with_capacity(loaded.len());
    let mut grid: Option<(Grid, PathBuf)> = None;
    for l in loaded {
        let (g, y) = l?;
        match &grid {
            None => grid = Some((g, y.path.clone())),
            Some((g0, p0)) => {
                g0.check_same(&g).map_err(|e| {
                    Error::input(&y.path, format!("{} and {} are not on the same grid ({e}); all years must come from one compute run with the same output grid", p0.display(), y.path.display()))
                })?;
            }
        }
        out.push(y);
    }
    let (g, _) = grid.ok_or_else(|| Error::msg("no year to read"))?;
    Ok((g, out))
}

/// Inside mask of an area's rasters: cells that are not outside the area (`water.tif` holds 255
/// outside the area, 0 land, 1 water); `None` when the year has no `water.tif`.
pub fn water_of(year_dir: &Path) -> Result<Option<(Vec<bool>, Vec<bool>)>> {
    let p = year_dir.join("water.tif");
    if !p.is_file() {
        return Ok(None);
    }
    let r = read_band(&p, 1)?;
    let inside = r.data().iter().map(|&v| v.is_finite()).collect();
    let water = r.data().iter().map(|&v| v == 1.0).collect();
    Ok(Some((inside, water)))
}

/// Checksums of input files, in the order given (duplicates removed).
pub fn input_checksums(paths: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut seen = std::collections::BTreeSet::new();
    let unique: Vec<&PathBuf> = paths.iter().filter(|p| seen.insert((*p).clone())).collect();
    unique.par_iter().map(|p| checksum(p)).collect()
}

/// A raster to write.
pub enum RasterData {
    /// `f32`, `NaN` = nodata (written as −9999).
    F32(Vec<f32>),
    /// `u8` with a declared nodata value.
    U8(Vec<u8>, u8),
    /// `i16` with a declared nodata value.
    I16(Vec<i16>, i16),
}

struct RasterOut {
    name: String,
    grid: Grid,
    data: RasterData,
    description: String,
    unit: Option<String>,
}

/// The files of one output folder, built in memory and written together by [`OutputSet::write`].
pub struct OutputSet {
    dir: PathBuf,
    analysis: String,
    files: Vec<(String, Vec<u8>)>,
    rasters: Vec<RasterOut>,
}

impl OutputSet {
    /// An empty set for `dir`; `analysis` tags the rasters (`RSEI_ANALYSIS`).
    pub fn new(dir: &Path, analysis: &str) -> OutputSet {
        OutputSet { dir: dir.to_path_buf(), analysis: analysis.into(), files: Vec::new(), rasters: Vec::new() }
    }

    /// A table as `<name>.csv` and `<name>.json`.
    pub fn table(&mut self, name: &str, t: &Table) -> Result<()> {
        t.validate().with_context(|| format!("table {name}"))?;
        self.files.push((format!("{name}.csv"), t.to_csv().into_bytes()));
        self.files.push((format!("{name}.json"), t.to_json().into_bytes()));
        Ok(())
    }

    /// A chart as `<name>.svg` and `<name>.png`.
    pub fn chart(&mut self, name: &str, chart: &Chart, w: f64, h: f64) -> Result<()> {
        let svg = rsei_report::to_svg(chart, w, h).with_context(|| format!("figure {name}"))?;
        let png = rsei_report::to_png(chart, w, h, 2.0).with_context(|| format!("figure {name}"))?;
        self.files.push((format!("{name}.svg"), svg.into_bytes()));
        self.files.push((format!("{name}.png"), png));
        Ok(())
    }

    /// Any file.
    pub fn file(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.push((name.into(), bytes));
    }

    /// A value as pretty JSON.
    pub fn json<T: Serialize>(&mut self, name: &str, v: &T) -> Result<()> {
        self.files.push((name.into(), serde_json::to_vec_pretty(v)?));
        Ok(())
    }

    /// A raster (COG) on `grid`.
    pub fn raster(&mut self, name: &str, grid: &Grid, data: RasterData, description: &str, unit: Option<&str>) {
        self.rasters.push(RasterOut { name: name.into(), grid: grid.clone(), data, description: description.into(), unit: unit.map(str::to_string) });
    }

    /// Names of every file of the set (rasters first), then `manifest.json`.
    pub fn names(&self) -> Vec<String> {
        self.rasters.iter().map(|r| r.name.clone()).chain(self.files.iter().map(|f| f.0.clone())).chain(["manifest.json".to_string()]).collect()
    }

    /// Writes the folder: the outputs an earlier run listed in its manifest and the manifest
    /// itself are removed first, then the rasters and files are written atomically, then
    /// `manifest.json` (`manifest` plus `outputs` with sizes and SHA-256) last.
    pub fn write(self, manifest: serde_json::Value) -> Result<()> {
        let dir = &self.dir;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mp = dir.join("manifest.json");
        if let Some(old) = std::fs::read(&mp).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok()) {
            for o in old.get("outputs").and_then(|o| o.as_array()).into_iter().flatten() {
                if let Some(f) = o.get("file").and_then(|f| f.as_str()) {
                    let p = dir.join(f);
                    if !f.contains("..") && p.is_file() {
                        std::fs::remove_file(&p).with_context(|| format!("removing the old {}", p.display()))?;
                    }
                }
            }
        }
        if mp.exists() {
            std::fs::remove_file(&mp).with_context(|| format!("removing the old {}", mp.display()))?;
        }
        self.rasters.par_iter().map(|r| write_one(dir, &self.analysis, r)).collect::<Result<Vec<()>>>()?;
        for (name, bytes) in &self.files {
            let p = dir.join(name);
            rsei_core::fsutil::write_atomic(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
        }
        let names: Vec<String> = self.rasters.iter().map(|r| r.name.clone()).chain(self.files.iter().map(|f| f.0.clone())).collect();
        let outputs: Vec<serde_json::Value> = names
            .iter()
            .map(|n| {
                let f = checksum(&dir.join(n))?;
                Ok(serde_json::json!({"file": n, "bytes": f.bytes, "sha256": f.sha256}))
            })
            .collect::<Result<_>>()?;
        let mut m = manifest;
        m["outputs"] = serde_json::Value::Array(outputs);
        rsei_core::fsutil::write_atomic(&mp, &serde_json::to_vec_pretty(&m)?).with_context(|| format!("writing {}", mp.display()))
    }
}

fn write_one(dir: &Path, analysis: &str, r: &RasterOut) -> Result<()> {
    let p = dir.join(&r.name);
    let base = |o: WriteOptions| {
        let mut o = o.with_format(RasterFormat::Cog).with_tag("SOFTWARE", SOFTWARE).with_tag("RSEI_ANALYSIS", analysis);
        o.band.description = Some(r.description.clone());
        o.band.unit = r.unit.clone();
        o
    };
    let res = match &r.data {
        RasterData::F32(v) => {
            let mut o = base(WriteOptions::continuous());
            o.overviews = Overviews::Auto(OverviewResampling::Average);
            write_raster(&p, &Raster::new(r.grid.clone(), v.clone())?, &o)
        }
        RasterData::U8(v, nodata) => {
            let mut o = base(WriteOptions::classes());
            o.nodata = Some(f64::from(*nodata));
            write_raster(&p, &Raster::new(r.grid.clone(), v.clone())?, &o)
        }
        RasterData::I16(v, nodata) => {
            let mut o = base(WriteOptions::classes());
            o.nodata = Some(f64::from(*nodata));
            write_raster(&p, &Raster::new(r.grid.clone(), v.clone())?, &o)
        }
    };
    res.with_context(|| format!("writing {}", p.display()))
}

/// The common part of an analysis manifest.
pub fn manifest_head<O: Serialize>(analysis: &str, area: &StudyArea, options: &O, inputs: &[InputFile]) -> Result<serde_json::Value> {
    Ok(serde_json::json!({
        "software": SOFTWARE,
        "analysis": analysis,
        "area": area.name,
        "area_source": area.source,
        "options": serde_json::to_value(options)?,
        "inputs": serde_json::to_value(inputs)?,
    }))
}

/// Rings of a multipolygon as coordinate lists (exteriors and holes).
pub fn rings_of(mp: &MultiPolygon<f64>) -> Vec<Vec<(f64, f64)>> {
    mp.0.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors().iter())).map(|r| r.0.iter().map(|c| (c.x, c.y)).collect()).collect()
}

/// A map of `values` on `grid` as (PNG, SVG): put on the display grid first when `grid` is the
/// MODIS sinusoidal one ([`crate::outputs::display_grid`]; nearest neighbour), with the area's
/// outline (`outline` in `outline_crs`). `style` gives everything but the outline and scale bar.
pub fn render_map(grid: &Grid, values: &[f32], inside: &[bool], outline: Option<(&MultiPolygon<f64>, &Crs)>, mut style: MapStyle<'_>) -> Result<(Vec<u8>, String)> {
    use rsei_io::warp::{warp_raster, Resampling};
    use rsei_report::color::Rgba;
    use rsei_report::Outline;
    let (dgrid, shown) = match crate::outputs::display_grid(grid, inside)? {
        Some(d) => {
            let v = warp_raster(&Raster::new(grid.clone(), values.to_vec())?, &d, Resampling::Nearest)?.into_data();
            (d, v)
        }
        None => (grid.clone(), values.to_vec()),
    };
    if let Some((poly, crs)) = outline {
        let shown_poly = rsei_io::vector::reproject(poly, crs, dgrid.crs())?;
        style.outlines.push(Outline::from_map_coords(&rings_of(&shown_poly), dgrid.transform(), Rgba::hex(0x252525), 1.4, Some("Study area".into())));
    }
    let crs = dgrid.crs().as_str();
    if crs.contains("+units=m") || crs.contains("metre") {
        style.cell_size_m = Some(dgrid.cell_size().0);
    }
    let png = rsei_report::render_map(&shown, dgrid.rows(), dgrid.cols(), &style)?;
    let svg = rsei_report::render_map_svg(&shown, dgrid.rows(), dgrid.cols(), &style)?;
    Ok((png, svg))
}

/// `"2018–2022"`, `"2019"`, `"2005, 2010–2012"`: sorted years as compact ranges.
pub fn year_text(years: &[i32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < years.len() {
        let mut j = i;
        while j + 1 < years.len() && years[j + 1] == years[j] + 1 {
            j += 1;
        }
        parts.push(if j > i { format!("{}\u{2013}{}", years[i], years[j]) } else { years[i].to_string() });
        i = j + 1;
    }
    parts.join(", ")
}

/// Which RSEI an analysis reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RseiSource {
    /// RSEI of the per-year models: `<area>/<year>/rsei.tif` and `grade.tif` (the source study's;
    /// every year spans [0, 1] on its own scale).
    #[default]
    PerYear,
    /// RSEI of the pooled model of the comparable time series: `<area>/timeseries/rsei_<year>.tif`
    /// and `grade_<year>.tif` (one scale for all years; run `rsei timeseries` first).
    Pooled,
}

impl RseiSource {
    /// `per_year` or `pooled`.
    pub fn name(self) -> &'static str {
        match self {
            RseiSource::PerYear => "per_year",
            RseiSource::Pooled => "pooled",
        }
    }
    /// The RSEI raster of a year.
    pub fn rsei_path(self, area_dir: &Path, year: i32) -> PathBuf {
        match self {
            RseiSource::PerYear => area_dir.join(year.to_string()).join("rsei.tif"),
            RseiSource::Pooled => area_dir.join("timeseries").join(format!("rsei_{year}.tif")),
        }
    }
    /// The grade raster of a year.
    pub fn grade_path(self, area_dir: &Path, year: i32) -> PathBuf {
        match self {
            RseiSource::PerYear => area_dir.join(year.to_string()).join("grade.tif"),
            RseiSource::Pooled => area_dir.join("timeseries").join(format!("grade_{year}.tif")),
        }
    }
    /// The years with an RSEI raster of this source (`requested`, checked, or all), ascending.
    pub fn years(self, area_dir: &Path, area: &str, requested: Option<&[i32]>) -> Result<Vec<i32>> {
        match self {
            RseiSource::PerYear => select_years(area_dir, area, "rsei.tif", requested),
            RseiSource::Pooled => {
                let dir = area_dir.join("timeseries");
                let mut available: Vec<i32> = std::fs::read_dir(&dir)
                    .map(|rd| rd.flatten().filter_map(|e| e.file_name().to_str()?.strip_prefix("rsei_")?.strip_suffix(".tif")?.parse().ok()).collect())
                    .unwrap_or_default();
                available.sort_unstable();
                if available.is_empty() {
                    return Err(Error::input(&dir, format!("study area {area:?}: no pooled RSEI in {} (rsei_<year>.tif); run `rsei timeseries` first, or use the per-year RSEI", dir.display())));
                }
                match requested {
                    Some(ys) => {
                        let mut ys = ys.to_vec();
                        ys.sort_unstable();
                        ys.dedup();
                        if let Some(y) = ys.iter().find(|y| !available.contains(y)) {
                            let p = self.rsei_path(area_dir, *y);
                            return Err(Error::input(&p, format!("study area {area:?}: {} not found (pooled years: {})", p.display(), year_text(&available))));
                        }
                        Ok(ys)
                    }
                    None => Ok(available),
                }
            }
        }
    }
    /// Words for captions: "per-year PCA" or "pooled PCA".
    pub fn label(self) -> &'static str {
        match self {
            RseiSource::PerYear => "per-year PCA",
            RseiSource::Pooled => "pooled PCA",
        }
    }
}

/// The area's cells (`water.tif` of `year` is 255 outside the area) and water cells; without a
/// water mask, the cells where any of `layers` has a value.
pub fn inside_of(area_dir: &Path, year: i32, layers: &[&[f32]]) -> Result<(Vec<bool>, Option<Vec<bool>>)> {
    match water_of(&area_dir.join(year.to_string()))? {
        Some((inside, water)) if layers.first().map_or(true, |l| l.len() == inside.len()) => Ok((inside, Some(water))),
        _ => {
            let n = layers.first().map_or(0, |l| l.len());
            Ok(((0..n).map(|i| layers.iter().any(|l| l[i].is_finite())).collect(), None))
        }
    }
}
