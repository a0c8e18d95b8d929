//! # Comparable time series: one PCA over all years of an area (`rsei timeseries`)
//!
//! The source study normalises the indicators and fits the PCA per area **and per year**, so RSEI
//! values of different years are on different scales (each year spans [0, 1] by construction;
//! Zheng et al. 2022, Sun et al. 2022). This analysis fits **one** model over every year of an
//! area — the "pooled" model of `rsei compute --pooled`, from the indicator rasters a compute run
//! wrote — and measures how far each year's own model is from it:
//!
//! 1. per year, the usable pixels: the four indicators (`ndvi.tif`, `wet.tif`, `ndbsi.tif`,
//!    `lst_celsius.tif`) finite and `water.tif` = 0 (land inside the area), as the compute run used;
//! 2. the pooled statistics (the years' statistics merged in year order) and the normalisation
//!    bounds over all years: min–max, percentiles of the pooled histogram, or fixed bounds
//!    ([`Normalisation`]); PCA, PC1 orientation (loading(NDVI) + loading(WET) > 0);
//! 3. pooled RSEI of every year: `RSEI0 = PC1 · (NI − mean)`, rescaled with the min and max of
//!    RSEI0 over **all** years, graded (the same numbers `rsei compute --pooled` writes);
//! 4. per year, the **drift** of the year's own model (fitted on that year alone with the same
//!    normalisation method, i.e. the source study's per-year model) from the pooled one: both
//!    loading vectors, the angle between them `acos(own · pooled)` (both are unit vectors oriented
//!    by the same rule), and the largest absolute difference of a loading;
//! 5. per year, the **sign check** of the pooled PC1: with `Σ_y` the covariance of the indicators
//!    (normalised with the pooled bounds) in year y, `c_y = Σ_y · PC1` holds the covariance of each
//!    indicator with the pooled RSEI0 within that year. The pooled axis keeps its ecological reading
//!    in year y when `c_y[NDVI] + c_y[WET] > 0` (the orientation rule, applied within the year);
//!    a year where it fails, or where NDBSI or LST rises with the pooled RSEI (`c_y > 0`), is
//!    flagged. Also reported: the share of the year's variance along the pooled PC1,
//!    `PC1ᵀ Σ_y PC1 / tr Σ_y`.
//!
//! ```text
//! OUT/ (default <rsei>/<area>/timeseries/)
//!   rsei_<year>.tif  grade_<year>.tif      pooled RSEI (0..1) and grades (1 poor … 5 excellent, 0 nodata)
//!   pooled_model.csv|json                  pooled loadings, eigenvalues, PC1 share, pixels, normalisation
//!   pooled_bounds.csv|json                 normalisation bounds per indicator (over all years)
//!   drift.csv|json                         per year: own and pooled loadings, angle, max |difference|, sign check
//!   series.csv|json                        per year: pixels, mean and std of pooled and per-year RSEI, grade shares
//!   fig_loadings.svg|png                   own PC1 loadings per year, pooled loadings dashed
//!   fig_series.svg|png                     mean RSEI per year: per-year PCA against pooled PCA
//!   summary.json  manifest.json
//! ```
//!
//! Errors name the area, year and file: fewer than two years, grids that differ between years,
//! no usable pixel, a constant indicator over all years.

// NaN-aware tests (`!(x > 0.0)` is true for NaN) are intended.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use std::path::{Path, PathBuf};

use rsei_core::accum::{Accumulator, MinMax};
use rsei_core::model::{self, GradeTable, IndicatorHistograms, Normalisation, NormalisedStats, RseiModel, RseiOptions, RseiStats, INDICATOR_NAMES};
use rsei_core::Grid;
use rsei_report::table::{Cell, Column, Table};
use rsei_report::{Axis, Chart, Series};
use serde::{Deserialize, Serialize};

use super::common::{self, OutputSet, RasterData};
use crate::area::StudyArea;
use crate::error::{Context, Error, Result};
use crate::outputs::SOFTWARE;
use crate::progress::Progress;

/// Folder of the outputs inside an area's results folder.
pub const FOLDER: &str = "timeseries";

/// The indicator files of a year folder, in model order (NDVI, WET, NDBSI, LST).
pub const INDICATOR_FILES: [&str; 4] = ["ndvi.tif", "wet.tif", "ndbsi.tif", "lst_celsius.tif"];

/// Options of the comparable time series (`[timeseries]` of a study file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeSeriesOptions {
    /// Normalisation over all years: min–max (default), percentiles of the pooled histogram, or
    /// fixed bounds per indicator.
    pub normalisation: Normalisation,
    /// Bins per indicator of the percentile histogram (default 65536).
    pub histogram_bins: usize,
    /// Write the pooled RSEI and grade rasters of every year (default true).
    pub rasters: bool,
}

impl Default for TimeSeriesOptions {
    fn default() -> Self {
        TimeSeriesOptions { normalisation: Normalisation::MinMax, histogram_bins: 1 << 16, rasters: true }
    }
}

impl TimeSeriesOptions {
    /// Checks every option, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        self.normalisation.validate().map_err(|e| Error::option("timeseries.normalisation", format!("invalid timeseries option normalisation: {e}")))?;
        if !(2..=1 << 24).contains(&self.histogram_bins) {
            return Err(Error::option("timeseries.histogram_bins", format!("invalid timeseries option histogram_bins: {} is outside 2..=16777216", self.histogram_bins)));
        }
        Ok(())
    }

    fn rsei(&self, pooled: bool) -> RseiOptions {
        RseiOptions { normalisation: self.normalisation, pooled, histogram_bins: self.histogram_bins }
    }
}

/// What to analyse: one normalisation and PCA over all years of an area (run it with [`run`]).
///
/// ```no_run
/// use rsei_pipeline::analyses::timeseries::{run, TimeSeriesOptions, TimeSeriesRequest};
/// use rsei_pipeline::area::{load_areas, AreaSource};
/// use rsei_pipeline::progress::Silent;
///
/// let area = load_areas(&AreaSource::file("city.geojson"))?.remove(0);
/// let req = TimeSeriesRequest {
///     rsei_dir: "results".into(),
///     area,
///     area_file: Some("city.geojson".into()),
///     years: None, // every year with indicators
///     options: TimeSeriesOptions::default(),
///     out_dir: None, // results/<area>/timeseries
/// };
/// let s = run(&req, &Silent)?;
/// println!("largest drift of a year's PC1 from the pooled one: {:.1}°", s.max_angle_deg);
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TimeSeriesRequest {
    /// Output folder of a compute run (holds `<area>/<year>/ndvi.tif` …).
    pub rsei_dir: PathBuf,
    /// The study area.
    pub area: StudyArea,
    /// The polygon file of the area (recorded in the manifest).
    pub area_file: Option<PathBuf>,
    /// Years; `None` = every year folder with the indicators.
    pub years: Option<Vec<i32>>,
    /// Options of the analysis.
    pub options: TimeSeriesOptions,
    /// Output folder; `None` = `<rsei>/<area>/timeseries`.
    pub out_dir: Option<PathBuf>,
}

/// One year of the drift table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftRow {
    /// The year.
    pub year: i32,
    /// Usable pixels of the year.
    pub n_pixels: u64,
    /// PC1 loadings of the year's own model (NDVI, WET, NDBSI, LST).
    pub own: [f64; 4],
    /// PC1 loadings of the pooled model.
    pub pooled: [f64; 4],
    /// Angle between the two loading vectors, degrees (0 = the same axis; above 90 = opposite orientation).
    pub angle_deg: f64,
    /// Largest |own − pooled| over the four loadings.
    pub max_abs_diff: f64,
    /// λ1/Σλ of the year's own model, %.
    pub own_pc1_pct: f64,
    /// Share of the year's variance (pooled normalisation) along the pooled PC1, %.
    pub pooled_pc1_pct: f64,
    /// `Σ_y · PC1`: covariance of each normalised indicator with the pooled RSEI0 in the year.
    pub axis_cov: [f64; 4],
    /// `axis_cov[NDVI] + axis_cov[WET]` (> 0: the pooled axis keeps its orientation in the year).
    pub orientation_score: f64,
    /// The sign check passed: orientation kept, NDBSI and LST not rising with the pooled RSEI.
    pub sign_ok: bool,
    /// What the sign check found (empty when it passed).
    pub sign_notes: Vec<String>,
    /// Warnings of the year's own model.
    pub own_warnings: Vec<String>,
    /// Mean of the pooled RSEI of the year.
    pub rsei_mean: f64,
    /// Sample standard deviation of the pooled RSEI of the year.
    pub rsei_std: f64,
    /// Pooled RSEI pixels per grade (poor … excellent).
    pub grades: [u64; 5],
}

/// Headline results (also `summary.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimeSeriesSummary {
    /// Software and version that made the results.
    pub software: String,
    /// The study area.
    pub area: String,
    /// Years analysed.
    pub years: Vec<i32>,
    /// Area of one cell (km²).
    pub pixel_area_km2: f64,
    /// The pooled model (loadings, eigenvalues, bounds over all years).
    pub model: RseiModel,
    /// (min, max) of RSEI0 over all years, used for the rescaling.
    pub rsei0_range: (f64, f64),
    /// Per-year drift of the loadings from the pooled ones.
    pub drift: Vec<DriftRow>,
    /// Largest angle between a year's own PC1 and the pooled one, degrees.
    pub max_angle_deg: f64,
    /// Years whose sign check failed.
    pub flagged_years: Vec<i32>,
    /// Mean RSEI of the per-year models (`<year>/summary.json`), where present.
    pub per_year_means: Vec<(i32, Option<f64>)>,
    /// Remarks of the analysis.
    pub notes: Vec<String>,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// Output folder.
    #[serde(skip)]
    pub out_dir: PathBuf,
}

/// One year's indicators and usable mask.
struct YearData {
    year: i32,
    ind: [Vec<f32>; 4],
    usable: Vec<bool>,
    files: Vec<PathBuf>,
}

impl YearData {
    fn four(&self) -> [&[f32]; 4] {
        [&self.ind[0], &self.ind[1], &self.ind[2], &self.ind[3]]
    }
}

fn read_years(area_dir: &Path, area: &str, years: &[i32], notes: &mut Vec<String>) -> Result<(Grid, Vec<YearData>)> {
    let mut grid: Option<(Grid, PathBuf)> = None;
    let mut out = Vec::new();
    for &y in years {
        let dir = area_dir.join(y.to_string());
        let (g, layers) = common::read_layers(&[0, 1, 2, 3], |k| dir.join(INDICATOR_FILES[k as usize]))?;
        let mut files: Vec<PathBuf> = layers.iter().map(|l| l.path.clone()).collect();
        match &grid {
            None => grid = Some((g.clone(), files[0].clone())),
            Some((g0, p0)) => g0.check_same(&g).map_err(|e| {
                Error::input(&files[0], format!("study area {area:?}: {} and {} are not on the same grid ({e}); all years must come from one compute run with the same output grid", p0.display(), files[0].display()))
            })?,
        }
        let water = match common::water_of(&dir)? {
            Some((_, w)) => {
                files.push(dir.join("water.tif"));
                Some(w)
            }
            None => {
                notes.push(format!("{y}: no water.tif beside the indicators; only cells without an indicator value are left out"));
                None
            }
        };
        let mut it = layers.into_iter().map(|l| l.values);
        let ind: [Vec<f32>; 4] = std::array::from_fn(|_| it.next().unwrap_or_default());
        let usable: Vec<bool> = (0..g.len()).map(|i| ind.iter().all(|v| v[i].is_finite()) && !water.as_ref().is_some_and(|w| w[i])).collect();
        if !usable.iter().any(|&u| u) {
            return Err(Error::input(&dir, format!("study area {area:?}, year {y}: no pixel has all four indicators valid outside water in {}", dir.display())));
        }
        out.push(YearData { year: y, ind, usable, files });
    }
    let (g, _) = grid.ok_or_else(|| Error::msg("no year to read"))?;
    Ok((g, out))
}

fn stats_of(y: &YearData, cols: usize) -> Result<RseiStats> {
    let mut s = RseiStats::default();
    s.update_rows(y.four(), Some(&y.usable), cols)?;
    Ok(s)
}

/// The normalised statistics a fit with `opts` needs over `years` (`None` for min–max).
fn normalised_pass(years: &[&YearData], stats: &RseiStats, opts: &RseiOptions, cols: usize) -> Result<Option<NormalisedStats>> {
    let bounds = match opts.normalisation {
        Normalisation::MinMax => return Ok(None),
        Normalisation::Percentile { lo, hi } => {
            let mut h = IndicatorHistograms::new(stats, opts.histogram_bins)?;
            for y in years {
                h.update(y.four(), Some(&y.usable))?;
            }
            h.percentile_bounds(lo, hi)?
        }
        Normalisation::Fixed { .. } => opts.normalisation.fixed_bounds()?.ok_or_else(|| Error::msg("fixed bounds missing"))?,
    };
    let mut ns = NormalisedStats::new(bounds);
    for y in years {
        ns.update_rows(y.four(), Some(&y.usable), cols)?;
    }
    Ok(Some(ns))
}

/// Angle (degrees) between two unit vectors.
pub fn angle_deg(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    dot.clamp(-1.0, 1.0).acos().to_degrees()
}

/// The pooled model of the years and the drift of each year's own model from it (nothing read or
/// written: the indicators are given). Returns the model, the RSEI of every year (pooled, in
/// year order), the RSEI0 range and the drift rows.
/// The pooled model, the pooled RSEI of every year, the RSEI0 range and the drift rows.
type Analysed = (RseiModel, Vec<Vec<f32>>, (f64, f64), Vec<DriftRow>);

fn analyse(years: &[YearData], cols: usize, opts: &TimeSeriesOptions) -> Result<Analysed> {
    let year_stats: Vec<RseiStats> = years.iter().map(|y| stats_of(y, cols)).collect::<Result<_>>()?;
    let mut pooled = RseiStats::default();
    for s in &year_stats {
        pooled.merge(s);
    }
    let all: Vec<&YearData> = years.iter().collect();
    let popts = opts.rsei(true);
    let pct = normalised_pass(&all, &pooled, &popts, cols)?;
    let m = model::fit(&pooled, pct.as_ref(), &popts).context("pooled PCA over all years")?;
    // pooled RSEI
    let mut range = MinMax::default();
    let mut rsei = Vec::with_capacity(years.len());
    for y in years {
        let mut r0 = vec![f32::NAN; y.usable.len()];
        range.merge(&m.rsei0_par(y.four(), Some(&y.usable), &mut r0)?);
        rsei.push(r0);
    }
    let (lo, hi) = range.range().ok_or_else(|| Error::msg("RSEI0 has no finite value in any year"))?;
    let mut grades = Vec::with_capacity(years.len());
    for r in rsei.iter_mut() {
        grades.push(model::rescale_and_grade(r, lo, hi)?);
    }
    // drift and sign check per year
    let oopts = opts.rsei(false);
    let mut rows = Vec::with_capacity(years.len());
    for ((y, s), (r, g)) in years.iter().zip(&year_stats).zip(rsei.iter().zip(&grades)) {
        let own_pct = normalised_pass(&[y], s, &oopts, cols)?;
        let own = model::fit(s, own_pct.as_ref(), &oopts).with_context(|| format!("PCA of year {} alone", y.year))?;
        // covariance of the year in the pooled normalisation
        let mut ns = NormalisedStats::new(m.bounds);
        ns.update_rows(y.four(), Some(&y.usable), cols)?;
        let cov = ns.moments.covariance_sample().ok_or_else(|| Error::msg(format!("year {}: fewer than two usable pixels", y.year)))?;
        let axis_cov: [f64; 4] = std::array::from_fn(|i| (0..4).map(|j| cov[i][j] * m.pc1[j]).sum());
        let along: f64 = (0..4).map(|i| m.pc1[i] * axis_cov[i]).sum();
        let trace: f64 = (0..4).map(|i| cov[i][i]).sum();
        let score = axis_cov[0] + axis_cov[1];
        let mut sign_notes = Vec::new();
        if !(score > 0.0) {
            sign_notes.push(format!("the pooled PC1 is reversed in {}: NDVI and WET fall as the pooled RSEI rises (cov sum {score:+.3e})", y.year));
        }
        for k in [2usize, 3] {
            if axis_cov[k] > 0.0 {
                sign_notes.push(format!("{} rises with the pooled RSEI in {} (cov {:+.3e})", INDICATOR_NAMES[k], y.year, axis_cov[k]));
            }
        }
        let mut mm = rsei_core::accum::Moments::default();
        mm.update_slice(r);
        let n = s.count();
        rows.push(DriftRow {
            year: y.year,
            n_pixels: n,
            own: own.pc1,
            pooled: m.pc1,
            angle_deg: angle_deg(&own.pc1, &m.pc1),
            max_abs_diff: (0..4).map(|k| (own.pc1[k] - m.pc1[k]).abs()).fold(0.0, f64::max),
            own_pc1_pct: 100.0 * own.pc1_contribution,
            pooled_pc1_pct: if trace > 0.0 { 100.0 * along / trace } else { 0.0 },
            axis_cov,
            orientation_score: score,
            sign_ok: sign_notes.is_empty(),
            sign_notes,
            own_warnings: own.warnings.clone(),
            rsei_mean: mm.mean().unwrap_or(0.0),
            rsei_std: mm.std_sample().unwrap_or(0.0),
            grades: g.grades(),
        });
    }
    Ok((m, rsei, (lo, hi), rows))
}

fn fl(v: f64, d: u8) -> Cell {
    Cell::float(v, d)
}

fn model_table(area: &str, years: &[i32], m: &RseiModel) -> Table {
    let mut t = Table::new(vec![
        Column::new("area"),
        Column::new("years"),
        Column::with_unit("n_pixels", "pixel-years"),
        Column::new("normalisation"),
        Column::new("pc1_ndvi"),
        Column::new("pc1_wet"),
        Column::new("pc1_ndbsi"),
        Column::new("pc1_lst"),
        Column::new("eigenvalue_1"),
        Column::new("eigenvalue_2"),
        Column::new("eigenvalue_3"),
        Column::new("eigenvalue_4"),
        Column::with_unit("pc1_contribution", "%"),
        Column::new("flipped"),
        Column::new("warnings"),
    ]);
    let mut row = vec![Cell::Text(area.into()), Cell::Text(common::year_text(years)), Cell::Int(m.n_pixels as i64), Cell::Text(normalisation_name(&m.normalisation))];
    row.extend(m.pc1.iter().map(|&v| fl(v, 6)));
    row.extend(m.eigenvalues.iter().map(|&v| fl(v, 8)));
    row.push(fl(100.0 * m.pc1_contribution, 3));
    row.push(Cell::Text(m.flipped.to_string()));
    row.push(Cell::Text(if m.warnings.is_empty() { "none".into() } else { m.warnings.join("; ") }));
    let _ = t.push_row(row);
    t
}

/// `min-max`, `percentile 1-99`, `fixed`.
pub fn normalisation_name(n: &Normalisation) -> String {
    match n {
        Normalisation::MinMax => "min-max".into(),
        Normalisation::Percentile { lo, hi } => format!("percentile {lo}-{hi}"),
        Normalisation::Fixed { .. } => "fixed".into(),
    }
}

fn bounds_table(m: &RseiModel) -> Table {
    let mut t = Table::new(vec![Column::new("indicator"), Column::new("lo"), Column::new("hi"), Column::new("clipped"), Column::new("resolution")]);
    for (k, b) in m.bounds.iter().enumerate() {
        let _ = t.push_row(vec![Cell::Text(INDICATOR_NAMES[k].into()), fl(b.lo, 8), fl(b.hi, 8), Cell::Text(b.clipped.to_string()), fl(b.resolution, 8)]);
    }
    t
}

fn drift_table(area: &str, rows: &[DriftRow]) -> Table {
    let mut cols = vec![Column::new("area"), Column::new("year"), Column::with_unit("n_pixels", "pixels")];
    for p in ["own", "pooled"] {
        for n in ["ndvi", "wet", "ndbsi", "lst"] {
            cols.push(Column::new(format!("{p}_{n}")));
        }
    }
    cols.extend([
        Column::with_unit("angle", "deg"),
        Column::new("max_abs_diff"),
        Column::with_unit("own_pc1_share", "%"),
        Column::with_unit("pooled_pc1_share", "%"),
        Column::new("cov_ndvi"),
        Column::new("cov_wet"),
        Column::new("cov_ndbsi"),
        Column::new("cov_lst"),
        Column::new("orientation_score"),
        Column::new("sign_check"),
        Column::new("own_warnings"),
    ]);
    let mut t = Table::new(cols);
    for r in rows {
        let mut c = vec![Cell::Text(area.into()), Cell::Int(i64::from(r.year)), Cell::Int(r.n_pixels as i64)];
        c.extend(r.own.iter().map(|&v| fl(v, 6)));
        c.extend(r.pooled.iter().map(|&v| fl(v, 6)));
        c.extend([fl(r.angle_deg, 4), fl(r.max_abs_diff, 6), fl(r.own_pc1_pct, 3), fl(r.pooled_pc1_pct, 3)]);
        c.extend(r.axis_cov.iter().map(|&v| fl(v, 8)));
        c.push(fl(r.orientation_score, 8));
        c.push(Cell::Text(if r.sign_ok { "ok".into() } else { r.sign_notes.join("; ") }));
        c.push(Cell::Text(if r.own_warnings.is_empty() { "none".into() } else { r.own_warnings.join("; ") }));
        let _ = t.push_row(c);
    }
    t
}

fn series_table(area: &str, rows: &[DriftRow], per_year: &[(i32, Option<f64>)], cell_km2: f64) -> Table {
    let mut cols = vec![
        Column::new("area"),
        Column::new("year"),
        Column::with_unit("n_pixels", "pixels"),
        Column::new("rsei_pooled_mean"),
        Column::new("rsei_pooled_std"),
        Column::new("rsei_per_year_mean"),
    ];
    for g in model::GRADE_NAMES {
        cols.push(Column::with_unit(format!("{g}_km2"), "km²"));
    }
    let mut t = Table::new(cols);
    for r in rows {
        let py = per_year.iter().find(|(y, _)| *y == r.year).and_then(|(_, m)| *m);
        let mut c = vec![
            Cell::Text(area.into()),
            Cell::Int(i64::from(r.year)),
            Cell::Int(r.n_pixels as i64),
            fl(r.rsei_mean, 6),
            fl(r.rsei_std, 6),
            py.map_or(Cell::Text("no summary.json".into()), |v| fl(v, 6)),
        ];
        c.extend(r.grades.iter().map(|&n| fl(n as f64 * cell_km2, 4)));
        let _ = t.push_row(c);
    }
    t
}

const INDICATOR_COLORS: [u32; 4] = [0x009e73, 0x0072b2, 0xd55e00, 0xcc79a7];

fn loadings_chart(area: &str, rows: &[DriftRow]) -> Chart {
    let years: Vec<f64> = rows.iter().map(|r| f64::from(r.year)).collect();
    let mut c = Chart::new(format!("PC1 loadings, {area}: each year's own PCA (solid) and the pooled PCA (dashed)"), Axis::linear("Year", None).with_grid(), Axis::linear("PC1 loading", None).with_grid().with_zero());
    for k in 0..4 {
        let col = rsei_report::color::Rgba::hex(INDICATOR_COLORS[k]);
        let own: Vec<(f64, f64)> = years.iter().zip(rows).map(|(&y, r)| (y, r.own[k])).collect();
        let pooled: Vec<(f64, f64)> = years.iter().zip(rows).map(|(&y, r)| (y, r.pooled[k])).collect();
        c = c.with_series(Series::line(INDICATOR_NAMES[k], own).with_color(col).with_marker(rsei_report::MarkerShape::Circle));
        c = c.with_series(Series::line("", pooled).with_color(col).dashed());
    }
    c
}

fn series_chart(area: &str, rows: &[DriftRow], per_year: &[(i32, Option<f64>)]) -> Chart {
    let pooled: Vec<(f64, f64)> = rows.iter().map(|r| (f64::from(r.year), r.rsei_mean)).collect();
    let own: Vec<(f64, f64)> = per_year.iter().filter_map(|(y, m)| m.map(|m| (f64::from(*y), m))).collect();
    let mut c = Chart::new(format!("Mean RSEI, {area}"), Axis::linear("Year", None).with_grid(), Axis::linear("Mean RSEI", None).with_grid());
    c = c.with_series(Series::line("pooled PCA (one scale)", pooled).with_marker(rsei_report::MarkerShape::Circle));
    if !own.is_empty() {
        c = c.with_series(Series::line("per-year PCA (source study)", own).with_marker(rsei_report::MarkerShape::Square).dashed());
    }
    c
}

fn per_year_means(area_dir: &Path, years: &[i32]) -> Vec<(i32, Option<f64>)> {
    years
        .iter()
        .map(|&y| {
            let p = area_dir.join(y.to_string()).join("summary.json");
            let v = std::fs::read(&p).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
            (y, v.and_then(|v| v.get("rsei_mean").and_then(serde_json::Value::as_f64)))
        })
        .collect()
}

/// Runs the comparable time series of one area (see the module documentation) and writes its
/// outputs.
pub fn run(req: &TimeSeriesRequest, progress: &dyn Progress) -> Result<TimeSeriesSummary> {
    req.options.validate()?;
    let name = req.area.name.as_str();
    let area_dir = common::area_dir(&req.rsei_dir, &req.area)?;
    let years = common::select_years(&area_dir, name, INDICATOR_FILES[0], req.years.as_deref())?;
    if years.len() < 2 {
        return Err(Error::input(
            &area_dir,
            format!("study area {name:?}: a pooled time series needs at least 2 years with indicators, found {} ({})", years.len(), common::year_text(&years)),
        ));
    }
    let mut notes = Vec::new();
    progress.message(&format!("{name}: reading the indicators of {} years", years.len()));
    let (grid, data) = read_years(&area_dir, name, &years, &mut notes)?;
    progress.message(&format!("{name}: pooled PCA"));
    let (m, rsei, range, drift) = analyse(&data, grid.cols(), &req.options).with_context(|| format!("study area {name:?}"))?;
    for w in &m.warnings {
        notes.push(format!("pooled model: {w}"));
    }
    let flagged: Vec<i32> = drift.iter().filter(|r| !r.sign_ok).map(|r| r.year).collect();
    for r in drift.iter().filter(|r| !r.sign_ok) {
        notes.push(format!("sign check {}: {}", r.year, r.sign_notes.join("; ")));
    }
    let per_year = per_year_means(&area_dir, &years);
    let cell_km2 = grid.cell_area() / 1e6;

    let out_dir = req.out_dir.clone().unwrap_or_else(|| area_dir.join(FOLDER));
    let mut set = OutputSet::new(&out_dir, "pooled RSEI time series");
    if req.options.rasters {
        for (y, r) in years.iter().zip(&rsei) {
            let grade: Vec<u8> = r.iter().map(|&v| GradeTable::grade_of(v).map_or(0, |k| k as u8 + 1)).collect();
            set.raster(&format!("rsei_{y}.tif"), &grid, RasterData::F32(r.clone()), &format!("RSEI {y}, pooled PCA over {} (0 worst .. 1 best)", common::year_text(&years)), Some("1"));
            set.raster(&format!("grade_{y}.tif"), &grid, RasterData::U8(grade, 0), &format!("RSEI grade {y}, pooled PCA: 1 poor, 2 fair, 3 moderate, 4 good, 5 excellent"), None);
        }
    }
    set.table("pooled_model", &model_table(name, &years, &m))?;
    set.table("pooled_bounds", &bounds_table(&m))?;
    set.table("drift", &drift_table(name, &drift))?;
    set.table("series", &series_table(name, &drift, &per_year, cell_km2))?;
    set.chart("fig_loadings", &loadings_chart(name, &drift), 720.0, 420.0)?;
    set.chart("fig_series", &series_chart(name, &drift, &per_year), 720.0, 400.0)?;
    let max_angle = drift.iter().map(|r| r.angle_deg).fold(0.0, f64::max);
    let mut summary = TimeSeriesSummary {
        software: SOFTWARE.into(),
        area: name.into(),
        years: years.clone(),
        pixel_area_km2: cell_km2,
        model: m,
        rsei0_range: range,
        drift,
        max_angle_deg: max_angle,
        flagged_years: flagged,
        per_year_means: per_year,
        notes,
        files: Vec::new(),
        out_dir: out_dir.clone(),
    };
    let mut names = set.names();
    names.insert(names.len() - 1, "summary.json".into());
    summary.files = names;
    set.json("summary.json", &summary)?;
    let mut inputs: Vec<PathBuf> = data.iter().flat_map(|d| d.files.iter().cloned()).collect();
    inputs.extend(req.area_file.iter().cloned());
    let inputs = common::input_checksums(&inputs)?;
    let mut manifest = common::manifest_head("comparable RSEI time series: pooled PCA over all years, drift of the per-year models", &req.area, &req.options, &inputs)?;
    manifest["years"] = serde_json::json!(years);
    set.write(manifest)?;
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Two "years" of a 2×3 raster whose indicators rise together (NDVI, WET) and fall (NDBSI,
    /// LST) with a greenness g; the second year is shifted up in NDVI only.
    fn years() -> Vec<YearData> {
        let g1 = [0.1f32, 0.3, 0.5, 0.7, 0.9, 0.2];
        let g2 = [0.2f32, 0.1, 0.6, 0.4, 0.8, 0.9];
        let mk = |g: &[f32; 6], y: i32, shift: f32| YearData {
            year: y,
            ind: [
                g.iter().map(|v| v + shift).collect(),
                g.iter().map(|v| 0.5 * v - 0.2).collect(),
                g.iter().enumerate().map(|(i, v)| 0.3 - 0.4 * v + 0.01 * i as f32).collect(),
                g.iter().enumerate().map(|(i, v)| 30.0 - 10.0 * v + 0.5 * (i % 2) as f32).collect(),
            ],
            usable: vec![true; 6],
            files: Vec::new(),
        };
        vec![mk(&g1, 2001, 0.0), mk(&g2, 2002, 0.1)]
    }

    #[test]
    fn pooled_equals_one_fit_on_the_stacked_years() {
        // the pooled model is the model of the two years' pixels stacked as one raster
        let ys = years();
        let (m, rsei, _, drift) = analyse(&ys, 3, &TimeSeriesOptions::default()).unwrap();
        let stacked: [Vec<f32>; 4] = std::array::from_fn(|k| ys.iter().flat_map(|y| y.ind[k].clone()).collect());
        let one = model::compute_rsei([&stacked[0], &stacked[1], &stacked[2], &stacked[3]], None, 4, 3, &RseiOptions::default()).unwrap();
        for k in 0..4 {
            assert!((m.pc1[k] - one.model.pc1[k]).abs() < 1e-12, "{:?} vs {:?}", m.pc1, one.model.pc1);
        }
        let ours: Vec<f32> = rsei.iter().flatten().copied().collect();
        for (a, b) in ours.iter().zip(&one.rsei) {
            assert!((a - b).abs() < 1e-6);
        }
        // each year's own loadings are those of a fit of that year alone
        for (y, r) in ys.iter().zip(&drift) {
            let own = model::compute_rsei(y.four(), None, 2, 3, &RseiOptions::default()).unwrap().model;
            assert_eq!(r.own, own.pc1);
            let dot: f64 = (0..4).map(|k| own.pc1[k] * m.pc1[k]).sum();
            assert!((r.angle_deg - dot.clamp(-1.0, 1.0).acos().to_degrees()).abs() < 1e-12);
            assert!(r.sign_ok, "{:?}", r.sign_notes);
            assert!(r.pooled_pc1_pct > 50.0 && r.pooled_pc1_pct <= 100.0 + 1e-9);
        }
    }

    #[test]
    fn a_reversed_year_is_flagged() {
        // year 2002, around the means of 2001: NDVI and WET barely vary while NDBSI and LST vary
        // strongly *with* them, so within 2002 the pooled RSEI (which rises with NDVI and falls
        // with NDBSI and LST) falls where NDVI and WET rise
        let mut ys = years();
        let g = [0.2f32, 0.1, 0.6, 0.4, 0.8, 0.9];
        let c = |a: f32, b: f32| -> Vec<f32> { g.iter().map(|v| a + b * (v - 0.5)).collect() };
        ys[1].ind = [c(0.45, 0.01), c(0.025, 0.005), c(0.12, 0.05), c(25.5, 1.0)];
        let (_, _, _, drift) = analyse(&ys, 3, &TimeSeriesOptions::default()).unwrap();
        assert!(drift[0].sign_ok, "{:?}", drift[0]);
        let r = &drift[1];
        assert!(!r.sign_ok && r.orientation_score < 0.0, "{r:?}");
        assert!(r.sign_notes[0].contains("reversed in 2002"), "{:?}", r.sign_notes);
        // the year's own PCA still orients itself: its own PC1 is far from the pooled one
        assert!(r.angle_deg > 30.0, "{r:?}");
    }

    #[test]
    fn angles() {
        let a = [1.0, 0.0, 0.0, 0.0];
        assert_eq!(angle_deg(&a, &a), 0.0);
        assert!((angle_deg(&a, &[0.0, 1.0, 0.0, 0.0]) - 90.0).abs() < 1e-12);
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!((angle_deg(&a, &[s, s, 0.0, 0.0]) - 45.0).abs() < 1e-12);
    }
}
