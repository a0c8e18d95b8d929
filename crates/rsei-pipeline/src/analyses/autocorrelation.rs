//! # Spatial autocorrelation of RSEI: global Moran's I and LISA clusters (`rsei autocorrelation`)
//!
//! RSEI of every year is put on the **1 km driver grid** of the area — the grid of `rsei drivers`:
//! the area in the driver CRS (default Asia North Albers), cells of `resolution_m` with the origin
//! on multiples of the cell size, the area's cells by the clip rule, RSEI resampled bilinearly
//! from `<year>/rsei.tif` (or the pooled `timeseries/rsei_<year>.tif`) — exactly as the driver
//! analysis does for its year. Then, with the numeric core (`rsei_core::spatial`; Moran 1950,
//! Anselin 1995, as PySAL `esda`):
//!
//! - global Moran's I per year with **queen contiguity** and with **distance-band** weights
//!   (centres within `distance_band_m`), both row-standardised: I, E[I], z and p under normality
//!   and randomisation, and the permutation pseudo p (`permutations`, default 999, seeded);
//! - LISA (local Moran's I) per year with the chosen weights: conditional-permutation pseudo p,
//!   significance at α with Benjamini–Hochberg FDR control (esda's `fdr`) by default, clusters
//!   HH (high among high), LL, HL and LH.
//!
//! ```text
//! OUT/ (default <rsei>/<area>/autocorrelation/)
//!   rsei_1km_<year>.tif     RSEI on the driver grid (NaN outside the area)
//!   lisa_<year>.tif         LISA cluster: 0 not significant, 1 HH, 2 LH, 3 LL, 4 HL (255 no data)
//!   local_i_<year>.tif      local Moran's I
//!   moran.csv|json          per year and weights: n, islands, I, E[I], z and p (normality, randomisation, permutations)
//!   lisa.csv|json           per year: cells per cluster, the p cut-off used
//!   fig_moran.svg|png       Moran's I per year and weights
//!   map_lisa.svg|png        LISA clusters of the last year
//!   summary.json  manifest.json
//! ```
//!
//! Errors name the area, year and file: no RSEI, an RSEI that is constant on the grid, fewer
//! valid cells than the statistics need, every cell an island.

use std::path::PathBuf;

use geo_types::MultiPolygon;
use rsei_core::grid::ASIA_NORTH_ALBERS_PROJ;
use rsei_core::spatial::{lisa, moran, valid_cells, GridWeights, LisaOptions, LisaResult, MoranOptions, MoranResult};
use rsei_core::zonal::PixelRule;
use rsei_core::{Bounds, CoreError, Crs, Grid};
use rsei_io::warp::Resampling;
use rsei_report::color::Rgba;
use rsei_report::table::{Cell, Column, Table};
use rsei_report::{Axis, Chart, MapClass, MapPalette, MapStyle, Series};
use serde::{Deserialize, Serialize};

use super::common::{self, OutputSet, RasterData, RseiSource};
use crate::area::StudyArea;
use crate::error::{Error, Result};
use crate::outputs::SOFTWARE;
use crate::progress::Progress;

/// Folder of the outputs inside an area's results folder.
pub const FOLDER: &str = "autocorrelation";

/// Weights of the LISA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LisaWeights {
    /// Queen contiguity (8 neighbours; default).
    #[default]
    Queen,
    /// Centres within `distance_band_m`.
    DistanceBand,
}

/// Options of the spatial autocorrelation (`[autocorrelation]` of a study file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutocorrelationOptions {
    /// Which RSEI: `per_year` (default) or `pooled`.
    pub source: RseiSource,
    /// Years (default: every year with RSEI).
    pub years: Option<Vec<i32>>,
    /// CRS of the grid (default: that of the driver analysis, Asia North Albers).
    pub crs: Option<String>,
    /// Cell size in CRS units (default: that of the driver analysis, 1000 m).
    pub resolution_m: Option<f64>,
    /// Cells of the area: centre (default) or coverage.
    pub clip_rule: PixelRule,
    /// Resampling of RSEI onto the grid (default bilinear, as the driver analysis).
    pub rsei_resampling: Resampling,
    /// Distance of the distance-band weights, in CRS units (default 2000 m: the 12 cells within
    /// two cells' distance on a 1 km grid).
    pub distance_band_m: f64,
    /// Weights of the LISA: `queen` (default) or `distance_band`.
    pub lisa_weights: LisaWeights,
    /// Random permutations (default 999).
    pub permutations: usize,
    /// Seed of the permutations (default 12345).
    pub seed: u64,
    /// Significance level of the LISA (default 0.05).
    pub alpha: f64,
    /// Benjamini–Hochberg FDR control of the LISA p-values (default true).
    pub fdr: bool,
}

impl Default for AutocorrelationOptions {
    fn default() -> Self {
        AutocorrelationOptions {
            source: RseiSource::PerYear,
            years: None,
            crs: None,
            resolution_m: None,
            clip_rule: PixelRule::Centre,
            rsei_resampling: Resampling::Bilinear,
            distance_band_m: 2000.0,
            lisa_weights: LisaWeights::Queen,
            permutations: 999,
            seed: 12345,
            alpha: 0.05,
            fdr: true,
        }
    }
}

impl AutocorrelationOptions {
    /// Checks every option, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, reason: String| Err(Error::option(format!("autocorrelation.{name}"), format!("invalid autocorrelation option {name}: {reason}")));
        if let Some(r) = self.resolution_m {
            if !(r.is_finite() && r > 0.0) {
                return bad("resolution_m", format!("must be > 0, got {r}"));
            }
        }
        if !(self.distance_band_m.is_finite() && self.distance_band_m > 0.0) {
            return bad("distance_band_m", format!("must be > 0, got {}", self.distance_band_m));
        }
        if self.distance_band_m < self.resolution() {
            return bad("distance_band_m", format!("{} is below the cell size {}: no cell would have a neighbour", self.distance_band_m, self.resolution()));
        }
        if self.distance_band_m / self.resolution() > 50.0 {
            return bad("distance_band_m", format!("{} spans more than 50 cells of {}", self.distance_band_m, self.resolution()));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return bad("alpha", format!("must lie in (0, 1), got {}", self.alpha));
        }
        if self.permutations > 99_999 {
            return bad("permutations", format!("at most 99 999, got {}", self.permutations));
        }
        if self.crs.as_ref().is_some_and(|c| c.trim().is_empty()) {
            return bad("crs", "is empty".into());
        }
        Ok(())
    }

    /// The grid CRS (the option, else the driver default).
    pub fn crs(&self) -> String {
        self.crs.clone().unwrap_or_else(|| ASIA_NORTH_ALBERS_PROJ.to_string())
    }

    /// The cell size (the option, else the driver default of 1000).
    pub fn resolution(&self) -> f64 {
        self.resolution_m.unwrap_or(1000.0)
    }
}

/// What to analyse: global Moran's I and LISA clusters of RSEI on the 1 km driver grid (run it
/// with [`run`]).
///
/// ```no_run
/// use rsei_pipeline::analyses::autocorrelation::{run, AutocorrelationOptions, AutocorrelationRequest};
/// use rsei_pipeline::area::{load_areas, AreaSource};
/// use rsei_pipeline::progress::Silent;
///
/// let area = load_areas(&AreaSource::file("city.geojson"))?.remove(0);
/// let options = AutocorrelationOptions { permutations: 999, ..AutocorrelationOptions::default() };
/// let s = run(&AutocorrelationRequest { rsei_dir: "results".into(), area, area_file: None, options, out_dir: None }, &Silent)?;
/// for m in &s.moran {
///     println!("{} {}: I = {:.3}", m.year, m.weights, m.result.i);
/// }
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct AutocorrelationRequest {
    /// Output folder of a compute run (holds `<area>/<year>/rsei.tif`).
    pub rsei_dir: PathBuf,
    /// The study area.
    pub area: StudyArea,
    /// The polygon file of the area (recorded in the manifest).
    pub area_file: Option<PathBuf>,
    /// Options of the analysis.
    pub options: AutocorrelationOptions,
    /// Output folder; `None` = `<rsei>/<area>/autocorrelation`.
    pub out_dir: Option<PathBuf>,
}

/// Moran's I of one year and weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MoranRow {
    /// The year.
    pub year: i32,
    /// `queen` or `distance_band`.
    pub weights: String,
    /// Moran's I, its expectation, z and permutation p.
    pub result: MoranResult,
}

/// LISA counts of one year.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LisaRow {
    /// The year.
    pub year: i32,
    /// Cells tested.
    pub n: usize,
    /// Not significant, HH, LH, LL, HL.
    pub counts: [usize; 5],
    /// The p-value cut-off used (α, or the FDR cut-off).
    pub threshold: f64,
}

/// Headline results (also `summary.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AutocorrelationSummary {
    /// Software and version that made the results.
    pub software: String,
    /// The study area.
    pub area: String,
    /// Which RSEI was analysed (per-year models or the pooled one).
    pub source: RseiSource,
    /// Years analysed.
    pub years: Vec<i32>,
    /// Grid: CRS, cell size, rows, columns, cells of the area.
    pub crs: String,
    /// Cell size (m).
    pub resolution_m: f64,
    /// Rows of the grid.
    pub rows: usize,
    /// Columns of the grid.
    pub cols: usize,
    /// Cells inside the area.
    pub cells_inside: usize,
    /// Neighbours per cell of the distance band.
    pub distance_band_neighbours: usize,
    /// Global Moran's I per year and weights.
    pub moran: Vec<MoranRow>,
    /// LISA cluster counts per year.
    pub lisa: Vec<LisaRow>,
    /// Remarks of the analysis.
    pub notes: Vec<String>,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// Output folder.
    #[serde(skip)]
    pub out_dir: PathBuf,
}

fn bounds_of(mp: &MultiPolygon<f64>) -> Option<Bounds> {
    let mut b: Option<Bounds> = None;
    for p in &mp.0 {
        for c in &p.exterior().0 {
            let cb = Bounds { xmin: c.x, ymin: c.y, xmax: c.x, ymax: c.y };
            b = Some(b.map_or(cb, |a| a.union(&cb)));
        }
    }
    b
}

/// The driver grid of an area and its cells (as `rsei drivers` builds them), and the area in the
/// grid's CRS.
pub fn driver_grid(area: &StudyArea, crs: &str, resolution: f64, clip: PixelRule) -> Result<(Grid, Vec<bool>, MultiPolygon<f64>, Crs)> {
    let crs = rsei_io::crs::normalize_crs(&Crs::new(crs)).map_err(|e| Error::option("autocorrelation.crs", format!("invalid autocorrelation option crs: {e}")))?;
    let poly = rsei_io::vector::reproject(&area.polygon, &Crs::modis_sinusoidal(), &crs)?;
    let b = bounds_of(&poly).ok_or_else(|| Error::input("", format!("study area {:?} has no polygon", area.name)))?;
    let grid = rsei_core::drivers::aligned_grid(&b, &crs, resolution)?;
    let inside = crate::run::inside_mask(&grid, &poly, clip)?;
    if !inside.iter().any(|&i| i) {
        return Err(Error::input("", format!("study area {:?}: no cell centre of the {resolution} m grid lies inside the area (use a finer resolution or the coverage clip rule)", area.name)));
    }
    Ok((grid, inside, poly, crs))
}

fn fl(v: f64, d: u8) -> Cell {
    Cell::float(v, d)
}

fn opt(v: Option<f64>, d: u8, why: &str) -> Cell {
    v.map_or(Cell::Text(why.into()), |x| fl(x, d))
}

fn moran_table(area: &str, rows: &[MoranRow]) -> Table {
    let mut t = Table::new(vec![
        Column::new("area"),
        Column::new("year"),
        Column::new("weights"),
        Column::with_unit("n", "cells"),
        Column::new("islands"),
        Column::new("moran_i"),
        Column::new("expected_i"),
        Column::new("z_norm"),
        Column::new("p_norm"),
        Column::new("z_rand"),
        Column::new("p_rand"),
        Column::new("permutations"),
        Column::new("p_sim"),
        Column::new("z_sim"),
    ]);
    for r in rows {
        let m = &r.result;
        let _ = t.push_row(vec![
            Cell::Text(area.into()),
            Cell::Int(i64::from(r.year)),
            Cell::Text(r.weights.clone()),
            Cell::Int(m.n as i64),
            Cell::Int(m.islands as i64),
            fl(m.i, 6),
            fl(m.expected, 6),
            fl(m.z_norm, 4),
            fl(m.p_norm, 10),
            fl(m.z_rand, 4),
            fl(m.p_rand, 10),
            Cell::Int(m.permutations as i64),
            opt(m.p_sim, 6, "no permutations"),
            opt(m.z_sim, 4, "no permutations"),
        ]);
    }
    t
}

fn lisa_table(area: &str, rows: &[LisaRow], weights: &str) -> Table {
    let mut t = Table::new(vec![
        Column::new("area"),
        Column::new("year"),
        Column::new("weights"),
        Column::with_unit("n", "cells"),
        Column::new("hh"),
        Column::new("lh"),
        Column::new("ll"),
        Column::new("hl"),
        Column::new("not_significant"),
        Column::new("p_threshold"),
    ]);
    for r in rows {
        let c = r.counts;
        let _ = t.push_row(vec![
            Cell::Text(area.into()),
            Cell::Int(i64::from(r.year)),
            Cell::Text(weights.into()),
            Cell::Int(r.n as i64),
            Cell::Int(c[1] as i64),
            Cell::Int(c[2] as i64),
            Cell::Int(c[3] as i64),
            Cell::Int(c[4] as i64),
            Cell::Int(c[0] as i64),
            fl(r.threshold, 8),
        ]);
    }
    t
}

fn moran_chart(area: &str, label: &str, rows: &[MoranRow]) -> Chart {
    let mut c = Chart::new(format!("Global Moran's I of RSEI, {area} ({label})"), Axis::linear("Year", None).with_grid(), Axis::linear("Moran's I", None).with_grid().with_zero());
    for (w, name, marker) in [("queen", "queen contiguity", rsei_report::MarkerShape::Circle), ("distance_band", "distance band", rsei_report::MarkerShape::Square)] {
        let pts: Vec<(f64, f64)> = rows.iter().filter(|r| r.weights == w).map(|r| (f64::from(r.year), r.result.i)).collect();
        if !pts.is_empty() {
            c = c.with_series(Series::line(name, pts).with_marker(marker));
        }
    }
    c
}

/// Cluster colours (esda / GeoDa convention): HH red, LH light blue, LL blue, HL pink.
const CLUSTERS: [(u8, &str, u32); 5] = [(0, "Not significant", 0xeeeeee), (1, "High-High", 0xd7191c), (2, "Low-High", 0xabd9e9), (3, "Low-Low", 0x2c7bb6), (4, "High-Low", 0xfdae61)];

fn analysis_err(area: &str, year: i32, what: &str, e: CoreError) -> Error {
    let msg = format!("study area {area:?}, RSEI {year} on the driver grid: {what}: {e}");
    match e {
        CoreError::NoValidPixels(_) | CoreError::InvalidOption { .. } => Error::input("", msg),
        _ => Error::msg(msg),
    }
}

/// Runs the spatial autocorrelation of one area (see the module documentation) and writes its
/// outputs.
pub fn run(req: &AutocorrelationRequest, progress: &dyn Progress) -> Result<AutocorrelationSummary> {
    let o = &req.options;
    o.validate()?;
    let name = req.area.name.as_str();
    let area_dir = common::area_dir(&req.rsei_dir, &req.area)?;
    let years = o.source.years(&area_dir, name, o.years.as_deref())?;
    let (grid, inside, poly, crs) = driver_grid(&req.area, &o.crs(), o.resolution(), o.clip_rule)?;
    let cells_inside = inside.iter().filter(|&&i| i).count();
    let (rows, cols) = (grid.rows(), grid.cols());
    let res = o.resolution();
    let mut notes = Vec::new();
    let mut moran_rows = Vec::new();
    let mut lisa_rows = Vec::new();
    let mut per_year: Vec<(i32, Vec<f32>, LisaResult, GridWeights)> = Vec::new();
    let mut inputs = Vec::new();
    let mut band_neighbours = 0;
    for &y in &years {
        progress.message(&format!("{name} {y}: Moran's I and LISA"));
        let path = o.source.rsei_path(&area_dir, y);
        let r = rsei_io::warp::warp_to_grid(&path.to_string_lossy(), 1, &grid, o.rsei_resampling, None).map_err(|e| Error::input(&path, format!("study area {name:?}: RSEI {y} ({}) onto the driver grid: {e}", path.display())))?;
        inputs.push(path.clone());
        let v: Vec<f32> = r.into_data().iter().zip(&inside).map(|(&x, &i)| if i { x } else { f32::NAN }).collect();
        let valid = valid_cells(&v);
        let n = valid.iter().filter(|&&b| b).count();
        if n < 4 {
            return Err(Error::input(&path, format!("study area {name:?}: RSEI {y} has {n} valid cell(s) of {cells_inside} on the {res} m grid; Moran's I needs at least 4 (is {} all nodata?)", path.display())));
        }
        let queen = GridWeights::queen(rows, cols, &valid)?;
        let band = GridWeights::distance_band(rows, cols, &valid, o.distance_band_m, res, res)?;
        band_neighbours = band.offsets().len();
        for (wname, w) in [("queen", &queen), ("distance_band", &band)] {
            let m = moran(&v, w, &MoranOptions { permutations: o.permutations, seed: o.seed }).map_err(|e| analysis_err(name, y, &format!("Moran's I ({wname})"), e))?;
            if m.islands > 0 {
                notes.push(format!("{y}, {wname} weights: {} of {} cells have no valid neighbour (islands: weight 0, never significant)", m.islands, m.n));
            }
            moran_rows.push(MoranRow { year: y, weights: wname.into(), result: m });
        }
        let w = match o.lisa_weights {
            LisaWeights::Queen => queen,
            LisaWeights::DistanceBand => band,
        };
        let l = lisa(&v, &w, &LisaOptions { permutations: o.permutations, seed: o.seed, alpha: o.alpha, fdr: o.fdr }).map_err(|e| analysis_err(name, y, "LISA", e))?;
        lisa_rows.push(LisaRow { year: y, n: w.n(), counts: l.cluster_counts(), threshold: l.threshold });
        per_year.push((y, v, l, w));
    }
    if o.permutations == 0 {
        notes.push("no permutations: pseudo p-values are not computed and no LISA cell is significant".into());
    }
    let wname = match o.lisa_weights {
        LisaWeights::Queen => "queen",
        LisaWeights::DistanceBand => "distance_band",
    };

    let out_dir = req.out_dir.clone().unwrap_or_else(|| area_dir.join(FOLDER));
    let mut set = OutputSet::new(&out_dir, "spatial autocorrelation of RSEI (Moran's I, LISA)");
    for (y, v, l, w) in &per_year {
        set.raster(&format!("rsei_1km_{y}.tif"), &grid, RasterData::F32(v.clone()), &format!("RSEI {y} on the {res} m driver grid ({})", o.source.label()), Some("1"));
        let clusters: Vec<u8> = {
            let mut c = vec![255u8; grid.len()];
            for (&cell, k) in w.cells().iter().zip(l.clusters()) {
                c[cell as usize] = k;
            }
            c
        };
        set.raster(&format!("lisa_{y}.tif"), &grid, RasterData::U8(clusters, 255), &format!("LISA cluster of RSEI {y}: 0 not significant, 1 HH, 2 LH, 3 LL, 4 HL"), None);
        set.raster(&format!("local_i_{y}.tif"), &grid, RasterData::F32(w.to_raster(&l.is)), &format!("local Moran's I of RSEI {y}"), None);
    }
    set.table("moran", &moran_table(name, &moran_rows))?;
    set.table("lisa", &lisa_table(name, &lisa_rows, wname))?;
    set.chart("fig_moran", &moran_chart(name, o.source.label(), &moran_rows), 720.0, 400.0)?;
    if let Some((y, _, l, w)) = per_year.last() {
        let cl: Vec<f64> = l.clusters().iter().map(|&k| f64::from(k)).collect();
        let raster = w.to_raster(&cl);
        let palette = MapPalette::Classes(
            CLUSTERS.iter().map(|&(k, label, c)| MapClass { min: f64::from(k), max: f64::from(k) + 1.0, color: Rgba::hex(c), label: label.into() }).collect(),
        );
        let sig = if o.fdr { format!("FDR {}", o.alpha) } else { format!("p < {}", o.alpha) };
        let (png, svg) = common::render_map(&grid, &raster, &inside, Some((&poly, &crs)), MapStyle { title: format!("LISA clusters of RSEI {name} {y} ({sig})"), palette, legend_title: "Cluster".into(), ..MapStyle::default() })?;
        set.file("map_lisa.svg", svg.into_bytes());
        set.file("map_lisa.png", png);
    }
    let mut summary = AutocorrelationSummary {
        software: SOFTWARE.into(),
        area: name.into(),
        source: o.source,
        years: years.clone(),
        crs: crs.as_str().to_string(),
        resolution_m: res,
        rows,
        cols,
        cells_inside,
        distance_band_neighbours: band_neighbours,
        moran: moran_rows,
        lisa: lisa_rows,
        notes,
        files: Vec::new(),
        out_dir: out_dir.clone(),
    };
    let mut names = set.names();
    names.insert(names.len() - 1, "summary.json".into());
    summary.files = names;
    set.json("summary.json", &summary)?;
    inputs.extend(req.area_file.iter().cloned());
    let inputs = common::input_checksums(&inputs)?;
    let mut manifest = common::manifest_head("spatial autocorrelation of RSEI on the driver grid: global Moran's I, LISA", &req.area, o, &inputs)?;
    manifest["years"] = serde_json::json!(years);
    manifest["grid"] = serde_json::json!({"crs": crs.as_str(), "resolution": res, "rows": rows, "cols": cols, "x0": grid.transform().x0, "y0": grid.transform().y0});
    set.write(manifest)?;
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        assert!(AutocorrelationOptions::default().validate().is_ok());
        for bad in [
            AutocorrelationOptions { distance_band_m: 500.0, ..Default::default() },
            AutocorrelationOptions { resolution_m: Some(-1.0), ..Default::default() },
            AutocorrelationOptions { alpha: 2.0, ..Default::default() },
            AutocorrelationOptions { crs: Some(" ".into()), ..Default::default() },
        ] {
            assert!(bad.validate().unwrap_err().to_string().starts_with("invalid autocorrelation option"));
        }
        let o: AutocorrelationOptions = toml::from_str("lisa_weights = \"distance_band\"\nsource = \"pooled\"").unwrap();
        assert_eq!((o.lisa_weights, o.source), (LisaWeights::DistanceBand, RseiSource::Pooled));
    }
}
