//! # Mining impact on RSEI: the pipeline behind `rsei mining` (METHOD §5; paper §3.2–3.4)
//!
//! Reads the RSEI rasters a compute run wrote (`<rsei>/<area>/<year>/rsei.tif`, and `water.tif`:
//! water cells are left out of every statistic), the study area and a mine polygon layer (any OGR
//! format and CRS, optionally filtered), builds the geometry once in an equal-area CRS
//! (`rsei_io::vector::mining_geometry`: mines inside the area, their areas and centroid
//! latitudes, the union, 1 km distance rings clipped to the area), measures every year with the
//! numeric core (`rsei_core::mining::analyse_mining`, whose cell coverages are computed once and
//! reused for every year), and writes tables, figures and a manifest.
//!
//! ```text
//! OUT/ (default <rsei>/<area>/mining/)
//!   mines_vs_city.csv|json         per year: n, mean, std inside the mines and over the city, |difference|
//!   distributions.csv|json         per year and zone: 50-bin histogram and Gaussian KDE of RSEI
//!   rings.csv|json                 per ring and year: n, mean, std (ring 0 = inside the mines)
//!   rings_profile.csv|json         per ring: multi-year mean, spread between years and inside rings, fitted trend
//!   trend.csv|json                 model, coefficients, R², peak distance, turning points
//!   mines.csv|json                 per mine: id, name, area km², size class, centroid latitude, mean RSEI per year
//!   size_class_boxplots.csv|json   per size class and year: box-plot statistics of the mines' means
//!   latitude_profile.csv|json      per latitude band and year: n, mean, std, number of mines (by centroid)
//!   fig_density.svg|png            (a) RSEI density inside the mines vs the city, first and last year (Fig. 4c)
//!   fig_means.svg|png              (b) mean RSEI of mines and city per year with |difference| (Fig. 4b)
//!   fig_distance.svg|png           (c) multi-year mean per ring ± std, fitted trend, peak and turning point (Fig. 5)
//!   fig_size_classes.svg|png       (d) box plots of mine means per size class and year (Fig. 6)
//!   fig_latitude.svg|png           (e) mean ± std per latitude band with mine counts (Fig. 3c–d)
//!   map_rsei_mines.svg|png         (f) RSEI of the last year in ten classes with mines and boundary (Fig. 4a)
//!   summary.json                   headline figures, notes and warnings
//!   manifest.json                  inputs with SHA-256, options, software version, outputs with SHA-256
//! ```
//!
//! Every file is written atomically (temporary file, then rename); `manifest.json` is removed
//! first and written last, so a folder without it is incomplete. Nothing is written before every
//! input has been read and checked and every table and figure has been built. Same inputs ⇒
//! byte-identical outputs, whatever the number of threads.
//!
//! Conventions of the tables and figures beyond those of `rsei_core::mining`:
//! - `between_year_std`: population standard deviation of a ring's (or band's) yearly means;
//!   `mean_pixel_std`: mean over the years of the within-ring (within-band) pixel standard
//!   deviation — the ± band of figures (c) and (e).
//! - The latitude figure shows the mean over the years of each band's yearly mean.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Context, Result};
use geo_types::MultiPolygon;
use rayon::prelude::*;
use rsei_core::grid::ASIA_NORTH_ALBERS_PROJ;
use rsei_core::mining::{analyse_mining, Latitudes, MiningInputs, MiningOptions, MiningReport, YearRaster};
use rsei_core::zonal::PixelRule;
use rsei_core::{CoreError, Crs, Grid, Raster};
use rsei_io::vector::{self, FeatureFilter, MiningGeometry, RingOptions, VectorError, VectorOptions};
use rsei_report::table::{Cell, Column, Table};
use serde::{Deserialize, Serialize};

use crate::mining_charts::{band_key, ring_spreads};
use crate::area::{load_areas, AreaSource, StudyArea};
use crate::outputs::{checksum, InputFile, SOFTWARE};
use crate::progress::Progress;

pub use crate::error::MiningError;

impl MiningError {
    /// Whether the error is about the inputs given (as opposed to a failing operation).
    pub fn is_input(&self) -> bool {
        match self {
            MiningError::Geometry { error, .. } => !matches!(**error, VectorError::Geometry { .. }),
            MiningError::Analysis { error, .. } => {
                matches!(**error, CoreError::NoValidPixels(_) | CoreError::InvalidGeometry(_) | CoreError::InvalidOption { .. } | CoreError::GridMismatch(_))
            }
            _ => true,
        }
    }
}

/// Options of a mining analysis (defaults: METHOD §5). Every field may be left out of a TOML or
/// JSON file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MiningRunOptions {
    /// Cell-in-polygon rule: centre (default, the ArcGIS rule) or exact coverage fractions.
    pub rule: PixelRule,
    /// CRS in which areas and distances are measured (default: Asia North Albers Equal Area Conic).
    pub equal_area_crs: String,
    /// Width of the distance rings, km (default 1).
    pub ring_step_km: f64,
    /// Outer distance of the last ring, km (default 30).
    pub ring_max_km: f64,
    /// Chords per quarter circle of the buffers (default 32).
    pub quadrant_segments: u32,
    /// Mine-size class breaks, km², strictly increasing (default 0.25, 0.5, 0.75, 1).
    pub size_breaks_km2: Vec<f64>,
    /// Latitude band width, degrees (default 0.05).
    pub lat_band_deg: f64,
    /// Degree of the distance trend polynomial (default 3).
    pub trend_degree: usize,
    /// Histogram bins on [0, 1] (default 50).
    pub hist_bins: usize,
    /// KDE evaluation points on [0, 1] (default 101).
    pub kde_points: usize,
}

impl Default for MiningRunOptions {
    fn default() -> Self {
        let core = MiningOptions::default();
        Self {
            rule: core.rule,
            equal_area_crs: ASIA_NORTH_ALBERS_PROJ.to_string(),
            ring_step_km: 1.0,
            ring_max_km: 30.0,
            quadrant_segments: 32,
            size_breaks_km2: core.size_breaks_km2,
            lat_band_deg: core.lat_band_deg,
            trend_degree: core.trend_degree,
            hist_bins: core.hist_bins,
            kde_points: core.kde_points,
        }
    }
}

impl MiningRunOptions {
    /// The options of the numeric core.
    pub fn core(&self) -> MiningOptions {
        MiningOptions {
            rule: self.rule,
            hist_bins: self.hist_bins,
            kde_points: self.kde_points,
            size_breaks_km2: self.size_breaks_km2.clone(),
            lat_band_deg: self.lat_band_deg,
            trend_degree: self.trend_degree,
        }
    }

    /// The ring options (metres).
    pub fn rings(&self) -> RingOptions {
        RingOptions { step_m: self.ring_step_km * 1000.0, max_m: self.ring_max_km * 1000.0, quadrant_segments: self.quadrant_segments }
    }

    /// Checks every option, naming the one at fault.
    pub fn validate(&self) -> Result<(), MiningError> {
        let bad = |name: &str, reason: String| Err(MiningError::InvalidOption { name: name.into(), reason });
        if !(self.ring_step_km.is_finite() && self.ring_step_km > 0.0) {
            return bad("ring_step_km", format!("must be > 0, got {}", self.ring_step_km));
        }
        if !(self.ring_max_km.is_finite() && self.ring_max_km >= self.ring_step_km) {
            return bad("ring_max_km", format!("must be at least the ring step ({} km), got {}", self.ring_step_km, self.ring_max_km));
        }
        if self.ring_max_km / self.ring_step_km > 1000.0 {
            return bad("ring_max_km", format!("{} km in steps of {} km gives more than 1000 rings", self.ring_max_km, self.ring_step_km));
        }
        if self.quadrant_segments == 0 {
            return bad("quadrant_segments", "must be at least 1".into());
        }
        if self.equal_area_crs.trim().is_empty() {
            return bad("equal_area_crs", "is empty".into());
        }
        self.core().validate().map_err(|e| match e {
            CoreError::InvalidOption { name, reason } => MiningError::InvalidOption { name, reason },
            other => MiningError::InvalidOption { name: "mining".into(), reason: other.to_string() },
        })
    }
}

/// Where the mine polygons come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MineSource {
    /// Any OGR vector file (GeoJSON, GeoPackage, Shapefile …) in any CRS.
    pub path: PathBuf,
    /// Layer (default: the first).
    pub layer: Option<String>,
    /// OGR SQL condition, e.g. `"Mine Type" = 'mine boundary'`.
    pub filter: Option<String>,
    /// Field holding the mine id (default: the OGR feature id).
    pub id_field: Option<String>,
    /// Field holding the mine name (default: none).
    pub name_field: Option<String>,
    /// CRS to assume when the layer has none (never overrides a layer's own CRS).
    pub assume_crs: Option<String>,
}

impl MineSource {
    /// Every feature of the first layer of `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        MineSource { path: path.into(), layer: None, filter: None, id_field: None, name_field: None, assume_crs: None }
    }
}

/// The study area of a mining analysis.
#[derive(Clone, Debug)]
pub enum AreaInput {
    /// An area already loaded (e.g. by a study runner), with the file it came from when known.
    Loaded {
        /// The study area.
        area: StudyArea,
        /// The vector file the area was read from, if any.
        file: Option<PathBuf>,
    },
    /// A polygon source that must yield exactly one area.
    Source(AreaSource),
}

/// What to analyse: the mining impact on RSEI in one study area over the years of a compute run
/// (run it with [`run`]).
///
/// ```no_run
/// use rsei_pipeline::area::AreaSource;
/// use rsei_pipeline::mining::{run, AreaInput, MineSource, MiningRequest, MiningRunOptions};
///
/// let mut options = MiningRunOptions::default();
/// options.ring_max_km = 20.0; // distance rings up to 20 km
/// let req = MiningRequest {
///     rsei_dir: "results".into(),
///     area: AreaInput::Source(AreaSource::file("city.geojson")),
///     years: Some(vec![2019, 2020]),
///     mines: MineSource::file("mines.gpkg"),
///     options,
/// };
/// let s = run(&req, "results/city/mining".as_ref())?;
/// for y in &s.per_year {
///     println!("{}: mines {:?}, city {:?}", y.year, y.mines_mean, y.city_mean);
/// }
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MiningRequest {
    /// Output folder of a compute run (holds `<area>/<year>/rsei.tif`).
    pub rsei_dir: PathBuf,
    /// The study area.
    pub area: AreaInput,
    /// Years to analyse; `None` = every year folder present.
    pub years: Option<Vec<i32>>,
    /// The mine polygons.
    pub mines: MineSource,
    /// Options of the analysis.
    pub options: MiningRunOptions,
}

/// Mines vs city in one year (headline figures).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct YearDifference {
    /// Year.
    pub year: i32,
    /// Mean RSEI over the mine pixels.
    pub mines_mean: Option<f64>,
    /// Mean RSEI over the whole area.
    pub city_mean: Option<f64>,
    /// |mines − city|.
    pub abs_diff: Option<f64>,
}

/// Headline results of a mining analysis (also written as `summary.json`).
#[derive(Clone, Debug, Serialize)]
pub struct MiningSummary {
    /// Software and version that made the results.
    pub software: String,
    /// Name of the study area.
    pub area: String,
    /// Area of the study area (km², equal-area).
    pub area_km2: f64,
    /// Years analysed.
    pub years: Vec<i32>,
    /// Pixel-in-polygon rule.
    pub rule: PixelRule,
    /// Equal-area CRS of areas and distances.
    pub equal_area_crs: String,
    /// Polygons read from the mine layer (after the filter).
    pub mines_read: usize,
    /// Mines intersecting the study area (those analysed).
    pub mines_in_area: usize,
    /// Area of the union of the mines inside the study area (equal-area CRS), km².
    pub mines_area_km2: f64,
    /// Mines vs city per year.
    pub per_year: Vec<YearDifference>,
    /// Mean over the years of |mines − city|.
    pub mean_abs_diff: Option<f64>,
    /// Distance (km) of the highest multi-year ring mean.
    pub peak_distance_km: Option<f64>,
    /// Multi-year mean RSEI of the peak ring.
    pub peak_mean: Option<f64>,
    /// First turning point of the fitted trend (km) and its kind.
    pub first_turning_point_km: Option<f64>,
    /// Kind of the first turning point (maximum or minimum).
    pub first_turning_kind: Option<String>,
    /// R² of the fitted distance trend.
    pub trend_r2: Option<f64>,
    /// Remarks and warnings of every step (also printed by the command line).
    pub notes: Vec<String>,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// The output folder (not serialised: outputs can be moved as a whole).
    #[serde(skip)]
    pub out_dir: PathBuf,
}

/// One year's rasters.
struct YearData {
    year: i32,
    rsei_path: PathBuf,
    water_path: Option<PathBuf>,
    values: Vec<f32>,
    water: Option<Vec<bool>>,
}

/// A year's RSEI grid, its water mask's grid (when there is one) and its data.
type LoadedYear = (Grid, Option<Grid>, YearData);

/// The year folders (`<dir>/<year>/rsei.tif`) present, ascending.
pub fn available_years(area_dir: &Path) -> Vec<i32> {
    let mut years: Vec<i32> = std::fs::read_dir(area_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let y: i32 = e.file_name().to_str()?.parse().ok()?;
                    e.path().join("rsei.tif").is_file().then_some(y)
                })
                .collect()
        })
        .unwrap_or_default();
    years.sort_unstable();
    years
}

fn area_folders(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir() && !available_years(&e.path()).is_empty())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn read_raster(path: &Path) -> Result<Raster<f32>, MiningError> {
    rsei_io::plain::read_plain(path, 1).map_err(|error| MiningError::Raster { path: path.to_path_buf(), error: Box::new(error) })
}

/// Reads every year's RSEI (and water mask), checking that they share one grid.
fn read_years(area_dir: &Path, years: &[i32], notes: &mut Vec<String>) -> Result<(Grid, Vec<YearData>), MiningError> {
    let loaded: Vec<Result<LoadedYear, MiningError>> = years
        .par_iter()
        .map(|&year| {
            let dir = area_dir.join(year.to_string());
            let rsei_path = dir.join("rsei.tif");
            let r = read_raster(&rsei_path)?;
            let water_file = dir.join("water.tif");
            let (water_path, water_grid, water) = if water_file.is_file() {
                let w = read_raster(&water_file)?;
                let wg = w.grid().clone();
                (Some(water_file), Some(wg), Some(w.data().iter().map(|&v| v == 1.0).collect::<Vec<bool>>()))
            } else {
                (None, None, None)
            };
            let grid = r.grid().clone();
            Ok((grid, water_grid, YearData { year, rsei_path, water_path, values: r.into_data(), water }))
        })
        .collect();
    let mut out: Vec<LoadedYear> = Vec::with_capacity(loaded.len());
    for l in loaded {
        out.push(l?);
    }
    let Some((grid, first)) = out.first().map(|(g, _, y)| (g.clone(), y.rsei_path.clone())) else {
        return Err(MiningError::NoYears { dir: area_dir.to_path_buf() });
    };
    // years against the first year, then each water mask against its year
    for (g, _, y) in &out[1..] {
        grid.check_same(g).map_err(|e| MiningError::GridMismatch { first: first.clone(), other: y.rsei_path.clone(), detail: e.to_string() })?;
    }
    for (g, wg, y) in &out {
        if let (Some(wg), Some(wp)) = (wg, &y.water_path) {
            g.check_same(wg).map_err(|e| MiningError::GridMismatch { first: y.rsei_path.clone(), other: wp.clone(), detail: e.to_string() })?;
        }
    }
    let mut data = Vec::with_capacity(out.len());
    for (_, _, mut y) in out {
        match &y.water {
            Some(w) => {
                // water is nodata in a compute run's RSEI already; anything else is left out here
                let mut masked = 0usize;
                for (v, &is_water) in y.values.iter_mut().zip(w) {
                    if is_water && !v.is_nan() {
                        *v = f32::NAN;
                        masked += 1;
                    }
                }
                if masked > 0 {
                    notes.push(format!("{}: {masked} water cell(s) with an RSEI value left out", y.year));
                }
            }
            None => notes.push(format!("{}: no water.tif beside rsei.tif; only RSEI nodata is left out", y.year)),
        }
        if !y.rsei_path.with_file_name("manifest.json").is_file() {
            notes.push(format!("{}: no manifest.json in {} (incomplete, or not made by `rsei compute`)", y.year, y.rsei_path.parent().map_or_else(String::new, |p| p.display().to_string())));
        }
        data.push(y);
    }
    Ok((grid, data))
}

fn resolve_area(input: &AreaInput) -> Result<(StudyArea, Option<PathBuf>), MiningError> {
    match input {
        AreaInput::Loaded { area, file } => Ok((area.clone(), file.clone())),
        AreaInput::Source(src) => {
            let mut areas = load_areas(src).map_err(|e| MiningError::Area(Box::new(e)))?;
            if areas.len() != 1 {
                let names: Vec<String> = areas.iter().take(10).map(|a| format!("{:?}", a.name)).collect();
                return Err(MiningError::AreaCount { path: src.path.clone(), found: areas.len(), names: names.join(", ") });
            }
            Ok((areas.remove(0), Some(src.path.clone())))
        }
    }
}

fn read_mines(src: &MineSource, equal_area: &Crs, notes: &mut Vec<String>) -> Result<Vec<vector::Feature>, MiningError> {
    let mines_err = |error: VectorError| MiningError::Mines { error: Box::new(error) };
    let mut o = VectorOptions::new(equal_area.clone());
    o.layer = src.layer.clone();
    o.filter = src.filter.clone().map(FeatureFilter::Where);
    o.id_field = src.id_field.clone();
    o.name_field = src.name_field.clone();
    o.assume_crs = src.assume_crs.as_ref().map(Crs::new);
    let layer = vector::read_polygons(&src.path, &o).map_err(mines_err)?;
    let file = src.path.file_name().map_or_else(|| src.path.display().to_string(), |n| n.to_string_lossy().into_owned());
    if let Some(f) = &o.filter {
        let all = vector::geometry_counts(&src.path, src.layer.as_deref(), None).map_err(mines_err)?;
        let kept = vector::geometry_counts(&src.path, src.layer.as_deref(), Some(f)).map_err(mines_err)?;
        let total: usize = all.values().sum();
        let left: Vec<String> = all
            .iter()
            .filter_map(|(k, &n)| {
                let d = n.saturating_sub(kept.get(k).copied().unwrap_or(0));
                (d > 0).then(|| format!("{d} {k}"))
            })
            .collect();
        let n_left = total.saturating_sub(kept.values().sum());
        if n_left > 0 {
            notes.push(format!(
                "{file}: {n_left} of {total} feature(s) skipped by the filter {} ({})",
                src.filter.as_deref().unwrap_or_default(),
                left.join(", ")
            ));
        }
    }
    notes.extend(layer.notes.iter().map(|n| format!("{file}: {n}")));
    Ok(layer.features)
}

/// Runs the mining analysis of one study area and writes its outputs to `out_dir`
/// (see the module documentation for the files).
pub fn run(req: &MiningRequest, out_dir: &Path) -> Result<MiningSummary> {
    let opts = &req.options;
    opts.validate()?;
    let mut notes = Vec::new();
    let (area, area_file) = resolve_area(&req.area)?;
    notes.extend(area.notes.iter().map(|n| format!("study area: {n}")));

    // ---- rasters
    let area_dir = req.rsei_dir.join(area.slug());
    if !area_dir.is_dir() {
        return Err(MiningError::NoAreaFolder { dir: req.rsei_dir.clone(), area: area.name.clone(), slug: area.slug(), available: area_folders(&req.rsei_dir) }.into());
    }
    let available = available_years(&area_dir);
    let years = match &req.years {
        Some(ys) => {
            for &y in ys {
                if !available.contains(&y) {
                    return Err(MiningError::MissingYear { year: y, path: area_dir.join(y.to_string()).join("rsei.tif"), available }.into());
                }
            }
            let mut ys = ys.clone();
            ys.sort_unstable();
            ys.dedup();
            ys
        }
        None => available,
    };
    if years.is_empty() {
        return Err(MiningError::NoYears { dir: area_dir }.into());
    }
    let (grid, data) = read_years(&area_dir, &years, &mut notes)?;

    // ---- geometry, once
    let equal_area = rsei_io::crs::normalize_crs(&Crs::new(&opts.equal_area_crs))
        .map_err(|e| MiningError::InvalidOption { name: "equal_area_crs".into(), reason: e.to_string() })?;
    let mines = read_mines(&req.mines, &equal_area, &mut notes)?;
    let city_ea = vector::reproject(&area.polygon, &Crs::modis_sinusoidal(), &equal_area)
        .map_err(|error| MiningError::Geometry { area: area.name.clone(), error: Box::new(error) })?;
    let geom = vector::mining_geometry(&area.name, &city_ea, &mines, &equal_area, grid.crs(), &opts.rings())
        .map_err(|error| MiningError::Geometry { area: area.name.clone(), error: Box::new(error) })?;
    notes.extend(geom.notes.iter().cloned());
    let lats = vector::pixel_latitudes(&grid).map_err(|error| MiningError::Geometry { area: area.name.clone(), error: Box::new(error) })?;

    // ---- analysis
    let year_rasters: Vec<YearRaster<'_>> = data.iter().map(|y| YearRaster { year: y.year, values: &y.values }).collect();
    let inputs = MiningInputs {
        grid: &grid,
        years: &year_rasters,
        exclude: None,
        city: &geom.city,
        mines_union: &geom.mines_union,
        mines: &geom.mines,
        rings: &geom.rings,
        latitudes: Some(Latitudes::PerPixel(&lats)),
    };
    let report = analyse_mining(&inputs, &opts.core()).map_err(|error| MiningError::Analysis { area: area.name.clone(), error: Box::new(error) })?;
    notes.extend(report.notes.iter().cloned());
    let empty: Vec<String> = geom
        .mines
        .iter()
        .enumerate()
        .filter(|(k, _)| mine_rows(&report, geom.mines.len(), *k).iter().all(|r| r.mean.is_none()))
        .map(|(_, m)| format!("{} ({:.3} km²)", m.id, m.area_km2))
        .collect();
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &geom.mines {
        *ids.entry(m.id.as_str()).or_default() += 1;
    }
    let dup: Vec<String> = ids.iter().filter(|(_, &c)| c > 1).map(|(id, c)| format!("{id:?} ×{c}")).collect();
    if !dup.is_empty() {
        notes.push(format!("mine ids are not unique ({}); rows of the mines table follow the layer's order (choose --mine-id-field)", dup.join(", ")));
    }
    if !empty.is_empty() {
        let hint = match opts.rule {
            PixelRule::Centre => "no cell centre inside; the coverage rule weighs partial cells",
            PixelRule::Coverage => "no valid cell",
        };
        notes.push(format!("{} mine(s) without any RSEI value in any year ({hint}): {}", empty.len(), empty.join(", ")));
    }

    // ---- tables, figures, map: everything in memory before the first write
    let tables = build_tables(&report, &geom, &years);
    let charts = crate::mining_charts::figures(&report, &area.name, &mut notes);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, t) in &tables {
        t.validate().with_context(|| format!("table {name}"))?;
        files.push((format!("{name}.csv"), t.to_csv().into_bytes()));
        files.push((format!("{name}.json"), t.to_json().into_bytes()));
    }
    for f in &charts {
        let svg = rsei_report::to_svg(&f.chart, f.width, f.height).with_context(|| format!("figure {}", f.name))?;
        let png = rsei_report::to_png(&f.chart, f.width, f.height, 2.0).with_context(|| format!("figure {}", f.name))?;
        files.push((format!("{}.svg", f.name), svg.into_bytes()));
        files.push((format!("{}.png", f.name), png));
    }
    let last = data.last().ok_or_else(|| MiningError::NoYears { dir: area_dir.clone() })?;
    let (map_png, map_svg) = render_mine_map(&grid, last, &geom, &area.name)?;
    files.push(("map_rsei_mines.svg".into(), map_svg.into_bytes()));
    files.push(("map_rsei_mines.png".into(), map_png));

    let per_year: Vec<YearDifference> = report
        .mine_vs_city
        .iter()
        .map(|r| YearDifference { year: r.year, mines_mean: r.mines_mean, city_mean: r.city_mean, abs_diff: r.abs_diff })
        .collect();
    let diffs: Vec<f64> = per_year.iter().filter_map(|r| r.abs_diff).collect();
    let trend = report.ring_summary.trend.as_ref();
    let mut summary = MiningSummary {
        software: SOFTWARE.into(),
        area: area.name.clone(),
        area_km2: geom.city_area_km2,
        years: years.clone(),
        rule: opts.rule,
        equal_area_crs: equal_area.as_str().to_string(),
        mines_read: mines.len(),
        mines_in_area: geom.mines.len(),
        mines_area_km2: geom.ring_areas_km2.first().copied().unwrap_or(0.0),
        per_year,
        mean_abs_diff: (!diffs.is_empty()).then(|| diffs.iter().sum::<f64>() / diffs.len() as f64),
        peak_distance_km: report.ring_summary.peak_distance_km,
        peak_mean: report.ring_summary.peak_mean,
        first_turning_point_km: trend.and_then(|t| t.first_turning_point_km),
        first_turning_kind: trend.and_then(|t| t.first_turning_kind.clone()),
        trend_r2: trend.map(|t| t.r2),
        notes,
        files: Vec::new(),
        out_dir: out_dir.to_path_buf(),
    };
    summary.files = files.iter().map(|(n, _)| n.clone()).chain(["summary.json".to_string(), "manifest.json".to_string()]).collect();
    let summary_json = serde_json::to_vec_pretty(&summary)?;
    files.push(("summary.json".into(), summary_json));

    // inputs with checksums (before writing: a missing input must not leave a half-written folder)
    let mut input_files: Vec<PathBuf> = Vec::new();
    for y in &data {
        input_files.push(y.rsei_path.clone());
        input_files.extend(y.water_path.clone());
    }
    input_files.push(req.mines.path.clone());
    input_files.extend(area_file.clone());
    let inputs: Vec<InputFile> = input_files.par_iter().map(|p| checksum(p)).collect::<Result<_>>()?;

    // ---- write: manifest out first, files, manifest last
    let manifest_path = out_dir.join("manifest.json");
    if manifest_path.exists() {
        std::fs::remove_file(&manifest_path).with_context(|| format!("removing the old {}", manifest_path.display()))?;
    }
    // outputs of an earlier run that this run does not make (e.g. a figure without data now)
    for name in known_outputs() {
        let p = out_dir.join(&name);
        if !files.iter().any(|(n, _)| *n == name) && p.is_file() {
            std::fs::remove_file(&p).with_context(|| format!("removing the old {}", p.display()))?;
        }
    }
    for (name, bytes) in &files {
        let p = out_dir.join(name);
        rsei_core::fsutil::write_atomic(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
    }
    let outputs: Vec<serde_json::Value> = files
        .iter()
        .map(|(name, _)| {
            let f = checksum(&out_dir.join(name))?;
            Ok(serde_json::json!({"file": name, "bytes": f.bytes, "sha256": f.sha256}))
        })
        .collect::<Result<_>>()?;
    let manifest = serde_json::json!({
        "software": SOFTWARE,
        "analysis": "mining impact (METHOD §5)",
        "area": area.name,
        "area_source": area.source,
        "years": years,
        "mines": req.mines,
        "options": opts,
        "inputs": inputs,
        "outputs": outputs,
    });
    rsei_core::fsutil::write_atomic(&manifest_path, &serde_json::to_vec_pretty(&manifest)?).with_context(|| format!("writing {}", manifest_path.display()))?;
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------
// Map (f)
// ---------------------------------------------------------------------------------------------

fn rings_of(mp: &MultiPolygon<f64>) -> Vec<Vec<(f64, f64)>> {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors().iter()))
        .map(|r| r.0.iter().map(|c| (c.x, c.y)).collect())
        .collect()
}

/// The RSEI of the last year in ten classes (paper Fig. 4a) with the mine outlines and the study
/// boundary, drawn on the display grid of [`crate::outputs::display_grid`]: PNG and SVG.
fn render_mine_map(grid: &Grid, last: &YearData, geom: &MiningGeometry, area: &str) -> Result<(Vec<u8>, String)> {
    use rsei_io::warp::{warp_raster, Resampling};
    use rsei_report::color::Rgba;
    use rsei_report::{MapPalette, MapStyle, Outline};
    let inside = crate::run::inside_mask(grid, &geom.city, PixelRule::Centre)?;
    let water_in: Vec<f32> = match &last.water {
        Some(w) => w.iter().map(|&x| if x { 1.0 } else { 0.0 }).collect(),
        None => vec![0.0; grid.len()],
    };
    let (dgrid, values, water) = match crate::outputs::display_grid(grid, &inside)? {
        Some(d) => {
            let v = warp_raster(&Raster::new(grid.clone(), last.values.clone())?, &d, Resampling::Nearest)?.into_data();
            let w = warp_raster(&Raster::new(grid.clone(), water_in)?, &d, Resampling::Nearest)?.into_data();
            (d, v, w.iter().map(|&x| x == 1.0).collect::<Vec<bool>>())
        }
        None => (grid.clone(), last.values.clone(), water_in.iter().map(|&x| x == 1.0).collect()),
    };
    let to_display = |mp: &MultiPolygon<f64>| -> Result<MultiPolygon<f64>> { Ok(vector::reproject(mp, grid.crs(), dgrid.crs())?) };
    let city = to_display(&geom.city)?;
    let mine_rings: Vec<Vec<(f64, f64)>> = geom.mines.iter().map(|m| to_display(&m.geometry)).collect::<Result<Vec<_>>>()?.iter().flat_map(rings_of).collect();
    let t = dgrid.transform();
    let metres = dgrid.crs().as_str().contains("+units=m") || dgrid.crs().as_str().contains("metre");
    let style = MapStyle {
        title: format!("RSEI {} {} with mines", area, last.year),
        palette: MapPalette::rsei_ten_classes(),
        legend_title: "RSEI".into(),
        water_mask: Some(&water),
        cell_size_m: metres.then(|| dgrid.cell_size().0),
        outlines: vec![
            Outline::from_map_coords(&rings_of(&city), t, Rgba::hex(0x252525), 1.4, Some("Study area".into())),
            Outline::from_map_coords(&mine_rings, t, Rgba::hex(0x5e3c99), 1.3, Some("Mines".into())),
        ],
        ..MapStyle::default()
    };
    let png = rsei_report::render_map(&values, dgrid.rows(), dgrid.cols(), &style)?;
    let svg = rsei_report::render_map_svg(&values, dgrid.rows(), dgrid.cols(), &style)?;
    Ok((png, svg))
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

fn fl(v: f64, d: u8) -> Cell {
    Cell::float(v, d)
}
fn of(v: Option<f64>, d: u8) -> Cell {
    Cell::opt_float(v, d)
}
fn txt(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}
fn int(v: impl TryInto<i64>) -> Cell {
    v.try_into().map_or(Cell::Missing, Cell::Int)
}

/// File stems of the tables, in output order.
pub const TABLE_NAMES: [&str; 8] =
    ["mines_vs_city", "distributions", "rings", "rings_profile", "trend", "mines", "size_class_boxplots", "latitude_profile"];

/// Every file name a run can write besides `manifest.json`; files of this list that a run does not
/// make (a figure without data) are removed from the output folder, so no stale result remains.
pub fn known_outputs() -> Vec<String> {
    let mut v = Vec::new();
    for t in TABLE_NAMES {
        v.extend([format!("{t}.csv"), format!("{t}.json")]);
    }
    for f in crate::mining_charts::FIGURE_NAMES.iter().chain(&["map_rsei_mines"]) {
        v.extend([format!("{f}.svg"), format!("{f}.png")]);
    }
    v.push("summary.json".into());
    v
}

/// The yearly rows of mine `k` of `n` (the report lists the mines in input order, year after
/// year; ids need not be unique).
fn mine_rows(report: &MiningReport, n: usize, k: usize) -> Vec<&rsei_core::mining::MineYearRow> {
    if n == 0 {
        return Vec::new();
    }
    report.per_mine.chunks(n).filter_map(|c| c.get(k)).collect()
}

/// All tables, in output order, named by file stem ([`TABLE_NAMES`]).
fn build_tables(report: &MiningReport, geom: &MiningGeometry, years: &[i32]) -> Vec<(&'static str, Table)> {
    let mut out = Vec::new();

    // mines vs city
    let mut t = Table::new(vec![
        Column::new("year"),
        Column::with_unit("mines_n", "cells"),
        Column::with_unit("mines_weighted_n", "cells"),
        Column::new("mines_mean"),
        Column::new("mines_std"),
        Column::with_unit("city_n", "cells"),
        Column::with_unit("city_weighted_n", "cells"),
        Column::new("city_mean"),
        Column::new("city_std"),
        Column::new("abs_diff"),
    ]);
    for r in &report.mine_vs_city {
        let _ = t.push_row(vec![
            int(r.year),
            int(r.mines_n),
            fl(r.mines_weighted_n, 4),
            of(r.mines_mean, 6),
            of(r.mines_std, 6),
            int(r.city_n),
            fl(r.city_weighted_n, 4),
            of(r.city_mean, 6),
            of(r.city_std, 6),
            of(r.abs_diff, 6),
        ]);
    }
    out.push(("mines_vs_city", t));

    // distributions: histogram bins and KDE points in one long table
    let mut t = Table::new(vec![
        Column::new("year"),
        Column::new("zone"),
        Column::new("kind"),
        Column::new("x"),
        Column::new("lower"),
        Column::new("upper"),
        Column::new("weight"),
        Column::new("density"),
        Column::new("bandwidth"),
    ]);
    for &y in years {
        for zone in ["mines", "city"] {
            for h in report.histograms.iter().filter(|h| h.year == y && h.zone == zone) {
                let _ = t.push_row(vec![
                    int(y),
                    txt(zone),
                    txt("histogram"),
                    fl(0.5 * (h.lower + h.upper), 4),
                    fl(h.lower, 4),
                    fl(h.upper, 4),
                    fl(h.weight, 4),
                    fl(h.density, 6),
                    Cell::Missing,
                ]);
            }
            for d in report.densities.iter().filter(|d| d.year == y && d.zone == zone) {
                let _ = t.push_row(vec![
                    int(y),
                    txt(zone),
                    txt("kde"),
                    fl(d.x, 4),
                    Cell::Missing,
                    Cell::Missing,
                    Cell::Missing,
                    fl(d.density, 6),
                    fl(d.bandwidth, 6),
                ]);
            }
        }
    }
    out.push(("distributions", t));

    // rings per year
    let ring_area = |k: usize| geom.ring_areas_km2.get(k).copied();
    let mut t = Table::new(vec![
        Column::new("ring"),
        Column::with_unit("inner", "km"),
        Column::with_unit("outer", "km"),
        Column::with_unit("distance", "km"),
        Column::with_unit("ring_area", "km2"),
        Column::new("year"),
        Column::with_unit("n", "cells"),
        Column::with_unit("weighted_n", "cells"),
        Column::new("mean"),
        Column::new("std"),
    ]);
    for r in &report.rings {
        let _ = t.push_row(vec![
            int(r.ring as i64),
            fl(r.inner_km, 3),
            fl(r.outer_km, 3),
            fl(r.distance_km, 3),
            of(ring_area(r.ring), 4),
            int(r.year),
            int(r.n),
            fl(r.weighted_n, 4),
            of(r.mean, 6),
            of(r.std, 6),
        ]);
    }
    out.push(("rings", t));

    // multi-year ring profile
    let spreads = ring_spreads(report);
    let mut t = Table::new(vec![
        Column::new("ring"),
        Column::with_unit("inner", "km"),
        Column::with_unit("outer", "km"),
        Column::with_unit("distance", "km"),
        Column::with_unit("ring_area", "km2"),
        Column::new("years_with_data"),
        Column::new("multi_year_mean"),
        Column::new("between_year_std"),
        Column::new("mean_pixel_std"),
        Column::new("fitted"),
    ]);
    for r in &report.ring_profile {
        let (b, p) = spreads.get(&r.ring).copied().unwrap_or((None, None));
        let _ = t.push_row(vec![
            int(r.ring as i64),
            fl(r.inner_km, 3),
            fl(r.outer_km, 3),
            fl(r.distance_km, 3),
            of(ring_area(r.ring), 4),
            int(r.years_with_data as i64),
            of(r.multi_year_mean, 6),
            of(b, 6),
            of(p, 6),
            of(r.fitted, 6),
        ]);
    }
    out.push(("rings_profile", t));

    // trend
    let s = &report.ring_summary;
    let degree = s.trend.as_ref().map_or(0, |f| f.degree);
    let mut cols = vec![Column::new("model"), Column::new("degree")];
    for k in 0..=degree {
        cols.push(Column::new(format!("c{k}")));
    }
    cols.extend([
        Column::new("r2"),
        Column::new("n_points"),
        Column::with_unit("peak_distance", "km"),
        Column::new("peak_mean"),
        Column::with_unit("first_turning_point", "km"),
        Column::new("first_turning_kind"),
        Column::with_unit("first_local_max", "km"),
        Column::new("turning_points"),
    ]);
    let mut t = Table::new(cols);
    let mut row = Vec::new();
    match &s.trend {
        Some(f) => {
            row.push(txt(format!("{}; RSEI = c0 + c1·d + … with d in km", f.model)));
            row.push(int(f.degree as i64));
            row.extend(f.coefficients.iter().map(|&c| fl(c, 12)));
            row.push(fl(f.r2, 6));
            row.push(int(f.n_points as i64));
        }
        None => {
            row.push(txt("not fitted (see notes)"));
            row.push(Cell::Missing);
            row.push(Cell::Missing);
            row.push(Cell::Missing);
            row.push(Cell::Missing);
        }
    }
    row.push(of(s.peak_distance_km, 3));
    row.push(of(s.peak_mean, 6));
    row.push(of(s.trend.as_ref().and_then(|f| f.first_turning_point_km), 3));
    row.push(s.trend.as_ref().and_then(|f| f.first_turning_kind.clone()).map_or(Cell::Missing, txt));
    row.push(of(s.trend.as_ref().and_then(|f| f.first_local_max_km), 3));
    row.push(txt(s.trend.as_ref().map_or_else(String::new, |f| {
        f.turning_points.iter().map(|(d, k)| format!("{d:.3} km {k}")).collect::<Vec<_>>().join("; ")
    })));
    let _ = t.push_row(row);
    out.push(("trend", t));

    // mines, one row each, mean per year as columns
    let mut cols = vec![
        Column::new("id"),
        Column::new("name"),
        Column::with_unit("area", "km2"),
        Column::new("size_class"),
        Column::with_unit("centroid_lat", "deg N"),
    ];
    for y in years {
        cols.push(Column::new(format!("mean_{y}")));
    }
    let mut t = Table::new(cols);
    for (k, m) in geom.mines.iter().enumerate() {
        let rows = mine_rows(report, geom.mines.len(), k);
        let class = rows.first().map_or_else(String::new, |r| r.size_class.clone());
        let mut row = vec![txt(m.id.clone()), txt(m.name.clone()), fl(m.area_km2, 4), txt(class), fl(m.centroid_lat, 5)];
        for &y in years {
            row.push(of(rows.iter().find(|r| r.year == y).and_then(|r| r.mean), 6));
        }
        let _ = t.push_row(row);
    }
    out.push(("mines", t));

    // size-class box plots
    let mut t = Table::new(vec![
        Column::new("size_class"),
        Column::with_unit("lower", "km2"),
        Column::with_unit("upper", "km2"),
        Column::new("year"),
        Column::new("n_mines"),
        Column::new("min"),
        Column::new("q1"),
        Column::new("median"),
        Column::new("q3"),
        Column::new("max"),
        Column::new("whisker_low"),
        Column::new("whisker_high"),
        Column::new("outliers"),
    ]);
    for c in &report.size_classes {
        let b = c.boxplot.as_ref();
        let _ = t.push_row(vec![
            txt(c.size_class.clone()),
            of(c.lower_km2, 4),
            of(c.upper_km2, 4),
            int(c.year),
            int(c.n_mines as i64),
            of(b.map(|b| b.min), 6),
            of(b.map(|b| b.q1), 6),
            of(b.map(|b| b.median), 6),
            of(b.map(|b| b.q3), 6),
            of(b.map(|b| b.max), 6),
            of(b.map(|b| b.whisker_low), 6),
            of(b.map(|b| b.whisker_high), 6),
            txt(b.map_or_else(String::new, |b| b.outliers.iter().map(|o| format!("{o:.6}")).collect::<Vec<_>>().join(";"))),
        ]);
    }
    out.push(("size_class_boxplots", t));

    // latitude profile with mine counts
    let mines_per: BTreeMap<i64, usize> = report.mines_per_band.iter().map(|m| (band_key(m.lat_south), m.mines)).collect();
    let mut t = Table::new(vec![
        Column::with_unit("lat_south", "deg N"),
        Column::with_unit("lat_north", "deg N"),
        Column::new("year"),
        Column::with_unit("n", "cells"),
        Column::with_unit("weighted_n", "cells"),
        Column::new("mean"),
        Column::new("std"),
        Column::new("mines"),
    ]);
    for l in &report.latitude {
        let _ = t.push_row(vec![
            fl(l.lat_south, 4),
            fl(l.lat_north, 4),
            int(l.year),
            int(l.n),
            fl(l.weighted_n, 4),
            of(l.mean, 6),
            of(l.std, 6),
            int(mines_per.get(&band_key(l.lat_south)).copied().unwrap_or(0) as i64),
        ]);
    }
    out.push(("latitude_profile", t));
    out
}

/// The mining step of the demo: every city of `data/vectors/city.geojson` against the synthetic
/// mines (`data/vectors/mines.geojson`, mine boundaries only: the shaft points are left out with a
/// note), with the RSEI in `results`; outputs in `results/<city>/mining`. The notes of each
/// analysis go to `progress`.
pub fn demo(data: &Path, results: &Path, progress: &dyn Progress) -> Result<Vec<MiningSummary>> {
    let mut area = AreaSource::file(data.join("vectors").join("city.geojson"));
    area.name_field = Some("name_en".into());
    let mines = MineSource {
        filter: Some("\"Mine Type\" = 'mine boundary'".into()),
        id_field: Some("id".into()),
        name_field: Some("Mine Name".into()),
        ..MineSource::file(data.join("vectors").join("mines.geojson"))
    };
    let areas = load_areas(&area).with_context(|| format!("reading {}", area.path.display()))?;
    let mut out = Vec::with_capacity(areas.len());
    for a in areas {
        let dir = results.join(a.slug()).join("mining");
        let name = a.name.clone();
        let req = MiningRequest {
            rsei_dir: results.to_path_buf(),
            area: AreaInput::Loaded { area: a, file: Some(area.path.clone()) },
            years: None,
            mines: mines.clone(),
            options: MiningRunOptions::default(),
        };
        progress.message(&format!("{name}: mining analysis"));
        let s = run(&req, &dir).with_context(|| format!("mining analysis of {name:?}"))?;
        for n in &s.notes {
            progress.println(&format!("note: {name}: {n}"));
        }
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn options_defaults_follow_the_method_and_validate() {
        let o = MiningRunOptions::default();
        assert_eq!(o.rule, PixelRule::Centre);
        assert_eq!((o.ring_step_km, o.ring_max_km), (1.0, 30.0));
        assert_eq!(o.size_breaks_km2, vec![0.25, 0.5, 0.75, 1.0]);
        assert_eq!(o.lat_band_deg, 0.05);
        assert_eq!(o.equal_area_crs, ASIA_NORTH_ALBERS_PROJ);
        assert!(o.validate().is_ok());
        // partial TOML keeps the other defaults; unknown keys are refused
        let p: MiningRunOptions = toml::from_str("rule = \"coverage\"\nring_max_km = 10.0\n").unwrap();
        assert_eq!((p.rule, p.ring_max_km, p.ring_step_km), (PixelRule::Coverage, 10.0, 1.0));
        assert!(toml::from_str::<MiningRunOptions>("ring_max = 10.0\n").is_err());
        let bad = MiningRunOptions { ring_max_km: 0.5, ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("ring_max_km"));
        let bad = MiningRunOptions { size_breaks_km2: vec![1.0, 0.5], ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("size_breaks_km2"));
        let bad = MiningRunOptions { lat_band_deg: 0.0, ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("lat_band_deg"));
        // rings: 1 km → 1000 m
        assert_eq!(o.rings().step_m, 1000.0);
        assert_eq!(o.rings().max_m, 30_000.0);
    }

    /// A hand-made report (see [`crate::mining_charts::tests::hand_report`]) with its geometry:
    /// one mine and two rings on a unit square.
    pub(crate) fn hand_report() -> (MiningReport, MiningGeometry) {
        use rsei_core::mining::*;
        let report = crate::mining_charts::tests::hand_report();
        let sq = MultiPolygon(vec![geo_types::Polygon::new(geo_types::LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]), vec![])]);
        let geom = MiningGeometry {
            city: sq.clone(),
            city_area_km2: 10.0,
            mines_union: sq.clone(),
            mines: vec![MineInput { id: "a".into(), name: "Pit A".into(), area_km2: 0.3, centroid_lat: 39.97, geometry: sq.clone() }],
            rings: vec![RingInput { index: 0, inner_km: 0.0, outer_km: 0.0, geometry: sq.clone() }, RingInput { index: 1, inner_km: 0.0, outer_km: 1.0, geometry: sq }],
            ring_areas_km2: vec![0.3, 2.5],
            notes: vec![],
        };
        (report, geom)
    }

    fn table(t: &[(&'static str, Table)], name: &str) -> serde_json::Value {
        let t = &t.iter().find(|(n, _)| *n == name).unwrap().1;
        serde_json::from_str(&t.to_json()).unwrap()
    }

    #[test]
    fn tables_of_a_hand_made_report() {
        let (rep, geom) = hand_report();
        let tables = build_tables(&rep, &geom, &[2001, 2002]);
        let names: Vec<&str> = tables.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, TABLE_NAMES);
        // rings_profile, ring 0: yearly means 0.2, 0.3 → population std √(((0.2−0.25)² + (0.3−0.25)²)/2) = 0.05;
        // pixel stds 0.05, 0.15 → mean 0.1. Ring 1: one year with data → between-year std 0, pixel std 0.1
        let prof = table(&tables, "rings_profile");
        assert_eq!(prof[0]["between_year_std"], 0.05);
        assert_eq!(prof[0]["mean_pixel_std"], 0.1);
        assert_eq!((prof[1]["between_year_std"].as_f64(), prof[1]["mean_pixel_std"].as_f64()), (Some(0.0), Some(0.1)));
        assert_eq!((prof[0]["ring_area"].as_f64(), prof[1]["ring_area"].as_f64()), (Some(0.3), Some(2.5)));
        // rings: the empty ring-year keeps its row with missing mean
        let rings = table(&tables, "rings");
        assert_eq!(rings.as_array().unwrap().len(), 4);
        assert!(rings[3]["mean"].is_null() && rings[3]["n"] == 0);
        // trend without a fit: one row saying so, the peak still given
        let trend = table(&tables, "trend");
        assert_eq!(trend[0]["model"], "not fitted (see notes)");
        assert_eq!(trend[0]["peak_distance"], 1.0);
        // mines: one row, mean per year as columns
        let mines = table(&tables, "mines");
        assert_eq!(mines[0]["name"], "Pit A");
        assert_eq!((mines[0]["mean_2001"].as_f64(), mines[0]["mean_2002"].as_f64()), (Some(0.2), Some(0.2)));
        assert_eq!(mines[0]["size_class"], "0.25-0.5");
        // latitude: the mine count of the band joins every year's row of that band
        let lat = table(&tables, "latitude_profile");
        let counts: Vec<(f64, i64, i64)> =
            lat.as_array().unwrap().iter().map(|r| (r["lat_south"].as_f64().unwrap(), r["year"].as_i64().unwrap(), r["mines"].as_i64().unwrap())).collect();
        assert_eq!(counts, vec![(39.95, 2001, 1), (40.0, 2001, 0), (39.95, 2002, 1)]);
        // distributions: the 6 KDE rows, no histogram rows
        let d = table(&tables, "distributions");
        assert_eq!(d.as_array().unwrap().len(), 6);
        assert!(d.as_array().unwrap().iter().all(|r| r["kind"] == "kde" && r["weight"].is_null()));
        // mines vs city
        let m = table(&tables, "mines_vs_city");
        assert_eq!(m[1]["abs_diff"], 0.2);
    }

    #[test]
    fn mine_rows_follow_the_layer_order_whatever_the_ids() {
        let (mut rep, _) = hand_report();
        // two mines with the same id "a": rows per year in mine order, means 0.1/0.2 (2001), 0.3/0.4 (2002)
        let base = rep.per_mine[0].clone();
        rep.per_mine = [(2001, 0.1), (2001, 0.2), (2002, 0.3), (2002, 0.4)]
            .map(|(year, m)| rsei_core::mining::MineYearRow { year, mean: Some(m), ..base.clone() })
            .to_vec();
        let second: Vec<(i32, Option<f64>)> = mine_rows(&rep, 2, 1).iter().map(|r| (r.year, r.mean)).collect();
        assert_eq!(second, vec![(2001, Some(0.2)), (2002, Some(0.4))]);
        assert!(mine_rows(&rep, 0, 0).is_empty());
    }

}
