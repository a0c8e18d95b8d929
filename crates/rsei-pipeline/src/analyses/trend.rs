//! # Trends of RSEI: per-pixel Theil–Sen slope and Mann–Kendall test, FDR classes (`rsei trend`)
//!
//! Reads the RSEI of every year of an area — the per-year rasters (`<year>/rsei.tif`) or the
//! pooled ones of the comparable time series (`timeseries/rsei_<year>.tif`, one scale for all
//! years; [`RseiSource`]) — and, with the numeric core (`rsei_core::trend`):
//!
//! - **per pixel** (the area's cells): Mann–Kendall S, Z (tie-corrected variance, continuity
//!   correction; optionally the Hamed–Rao correction for autocorrelation), two-sided p, Kendall's τ
//!   and the Theil–Sen slope in RSEI per year; then significance after Benjamini–Hochberg FDR
//!   control across the tested pixels (or per pixel at α), giving the classes **improvement**
//!   (significant rise), **not significant**, **degradation** (significant fall) and *not tested*
//!   (fewer than `min_years` valid years, or a constant series);
//! - **per area**: the same test and slope on the series of yearly mean RSEI.
//!
//! The time axis is the calendar year: a year missing between the first and the last is a gap
//! (a layer of no data), so slopes are per year whatever the spacing.
//!
//! ```text
//! OUT/ (default <rsei>/<area>/trend/)
//!   sen_slope.tif            Theil–Sen slope, RSEI per year (tested and constant-free pixels)
//!   mk_z.tif  p_value.tif  q_value.tif  kendall_tau.tif    per-pixel test (NaN where not tested)
//!   n_years.tif              valid years per pixel (255 outside the area)
//!   class.tif                0 not tested, 1 degradation, 2 not significant, 3 improvement (255 outside)
//!   classes.csv|json         pixels and km² per class and per reason of not testing
//!   series.csv|json          per year: pixels and mean RSEI of the area
//!   series_trend.csv|json    Mann–Kendall and Sen slope of the area's mean series
//!   fig_series.svg|png       mean RSEI per year with the Sen line
//!   map_class.svg|png  map_slope.svg|png
//!   summary.json  manifest.json
//! ```
//!
//! Errors name the area and the files: fewer than `min_years` years (at least 4), grids that
//! differ, no pixel that can be tested (every series too short or constant, or all no data).

use std::path::PathBuf;

use rsei_core::trend::{mann_kendall, trend_stack, HamedRaoLag, MkOptions, MkResult, Significance, StackOptions, TrendError, TrendSummary, MIN_YEARS};
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
pub const FOLDER: &str = "trend";

/// Class codes of `class.tif` (those of `rsei_core::trend`), and 255 outside the area.
pub const CLASS_OUTSIDE: u8 = 255;

/// How per-pixel significance is decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignificanceRule {
    /// Benjamini–Hochberg FDR control across the tested pixels at level `fdr_q` (default).
    #[default]
    Fdr,
    /// Each pixel at α on its own (no multiple-testing control).
    Raw,
}

/// Options of the trend analysis (`[trend]` of a study file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrendOptions {
    /// Which RSEI: `per_year` (default) or `pooled` (the comparable time series).
    pub source: RseiSource,
    /// Significance level α of the Mann–Kendall test (default 0.05).
    pub alpha: f64,
    /// Hamed–Rao (1998) variance correction for serial correlation (default false).
    pub hamed_rao: bool,
    /// Lags of the Hamed–Rao correction (default: all; Hamed and Rao suggest 3).
    pub hamed_rao_lags: Option<usize>,
    /// `fdr` (default) or `raw`.
    pub significance: SignificanceRule,
    /// False discovery rate level of the Benjamini–Hochberg control (default 0.05).
    pub fdr_q: f64,
    /// Fewest valid years for a pixel (or the area) to be tested (default and minimum 4).
    pub min_years: usize,
}

impl Default for TrendOptions {
    fn default() -> Self {
        TrendOptions { source: RseiSource::PerYear, alpha: 0.05, hamed_rao: false, hamed_rao_lags: None, significance: SignificanceRule::Fdr, fdr_q: 0.05, min_years: MIN_YEARS }
    }
}

impl TrendOptions {
    /// Checks every option, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, reason: String| Err(Error::option(format!("trend.{name}"), format!("invalid trend option {name}: {reason}")));
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return bad("alpha", format!("must lie in (0, 1), got {}", self.alpha));
        }
        if !(self.fdr_q > 0.0 && self.fdr_q < 1.0) {
            return bad("fdr_q", format!("must lie in (0, 1), got {}", self.fdr_q));
        }
        if self.min_years < MIN_YEARS {
            return bad("min_years", format!("must be at least {MIN_YEARS} (the Mann–Kendall test needs 4 values), got {}", self.min_years));
        }
        if self.hamed_rao_lags == Some(0) {
            return bad("hamed_rao_lags", "must be at least 1".into());
        }
        if self.hamed_rao_lags.is_some() && !self.hamed_rao {
            return bad("hamed_rao_lags", "is set but hamed_rao = false".into());
        }
        Ok(())
    }

    /// The options of the core's test.
    pub fn mk(&self) -> MkOptions {
        let hamed_rao = self.hamed_rao.then(|| self.hamed_rao_lags.map_or(HamedRaoLag::All, HamedRaoLag::First));
        MkOptions { alpha: self.alpha, hamed_rao, min_valid: self.min_years }
    }

    /// The options of the core's per-pixel stack.
    pub fn stack(&self) -> StackOptions {
        let significance = match self.significance {
            SignificanceRule::Fdr => Significance::Fdr { q: self.fdr_q },
            SignificanceRule::Raw => Significance::Raw,
        };
        StackOptions { mk: self.mk(), significance }
    }
}

/// What to analyse: per-pixel and per-area trends of RSEI over the years (run it with [`run`]).
///
/// ```no_run
/// use rsei_pipeline::analyses::common::RseiSource;
/// use rsei_pipeline::analyses::trend::{run, TrendOptions, TrendRequest};
/// use rsei_pipeline::area::{load_areas, AreaSource};
/// use rsei_pipeline::progress::Silent;
///
/// let area = load_areas(&AreaSource::file("city.geojson"))?.remove(0);
/// let options = TrendOptions { source: RseiSource::Pooled, hamed_rao: true, ..TrendOptions::default() };
/// let req = TrendRequest { rsei_dir: "results".into(), area, area_file: None, years: None, options, out_dir: None };
/// let s = run(&req, &Silent)?;
/// println!("median Sen slope {:?} RSEI/year over {} cells", s.median_slope, s.cells);
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TrendRequest {
    /// Output folder of a compute run.
    pub rsei_dir: PathBuf,
    /// The study area.
    pub area: StudyArea,
    /// The polygon file of the area (recorded in the manifest).
    pub area_file: Option<PathBuf>,
    /// Years; `None` = every year with RSEI of the source.
    pub years: Option<Vec<i32>>,
    /// Options of the analysis.
    pub options: TrendOptions,
    /// Output folder; `None` = `<rsei>/<area>/trend`.
    pub out_dir: Option<PathBuf>,
}

/// The trend of the area's mean series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesTrend {
    /// `tested`, or why not (`constant`, `too few years`).
    pub status: String,
    /// The test (None when not tested).
    pub test: Option<MkResult>,
    /// Explanation when not tested.
    pub reason: Option<String>,
}

/// Headline results (also `summary.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrendRunSummary {
    /// Software and version that made the results.
    pub software: String,
    /// The study area.
    pub area: String,
    /// Which RSEI was analysed (per-year models or the pooled one).
    pub source: RseiSource,
    /// Years read (ascending).
    pub years: Vec<i32>,
    /// Years between the first and the last without RSEI (gaps of the time axis).
    pub gap_years: Vec<i32>,
    /// Area of one cell (km²).
    pub pixel_area_km2: f64,
    /// Cells of the area.
    pub cells: u64,
    /// Per-pixel counts over the area's cells.
    pub pixels: TrendSummary,
    /// Mean RSEI per year (pixels, mean).
    pub series: Vec<(i32, u64, f64)>,
    /// Trend of the area's yearly mean RSEI.
    pub series_trend: SeriesTrend,
    /// Median Sen slope of the tested pixels (RSEI per year).
    pub median_slope: Option<f64>,
    /// Remarks of the analysis.
    pub notes: Vec<String>,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// Output folder.
    #[serde(skip)]
    pub out_dir: PathBuf,
}

fn fl(v: f64, d: u8) -> Cell {
    Cell::float(v, d)
}

const CLASS_NAMES: [(u8, &str); 4] = [(3, "improvement"), (2, "not significant"), (1, "degradation"), (0, "not tested")];

fn classes_table(s: &TrendSummary, km2: f64) -> Table {
    let mut t = Table::new(vec![Column::new("class"), Column::new("code"), Column::new("what"), Column::with_unit("pixels", "pixels"), Column::with_unit("area_km2", "km²"), Column::with_unit("share_of_tested", "%")]);
    let share = |n: u64| if s.tested > 0 { Cell::float(100.0 * n as f64 / s.tested as f64, 3) } else { Cell::Text("no pixel tested".into()) };
    let rows: [(&str, i64, &str, u64, bool); 7] = [
        ("improvement", 3, "significant rise of RSEI", s.improvement, true),
        ("not significant", 2, "tested, no significant trend", s.not_significant, true),
        ("degradation", 1, "significant fall of RSEI", s.degradation, true),
        ("not tested", 0, "no RSEI in any year (water, nodata)", s.no_data, false),
        ("not tested", 0, "fewer valid years than min_years", s.insufficient, false),
        ("not tested", 0, "constant series", s.constant, false),
        ("not tested", 0, "Hamed-Rao corrected variance not positive", s.degenerate, false),
    ];
    for (class, code, what, n, tested) in rows {
        let _ = t.push_row(vec![Cell::Text(class.into()), Cell::Int(code), Cell::Text(what.into()), Cell::Int(n as i64), fl(n as f64 * km2, 4), if tested { share(n) } else { Cell::Text("not tested".into()) }]);
    }
    t
}

fn series_table(area: &str, series: &[(i32, u64, f64)], gaps: &[i32]) -> Table {
    let mut t = Table::new(vec![Column::new("area"), Column::new("year"), Column::with_unit("pixels", "pixels"), Column::new("mean_rsei"), Column::new("status")]);
    let mut all: Vec<(i32, Option<(u64, f64)>)> = series.iter().map(|&(y, n, m)| (y, Some((n, m)))).collect();
    all.extend(gaps.iter().map(|&y| (y, None)));
    all.sort_by_key(|r| r.0);
    for (y, v) in all {
        let row = match v {
            Some((n, m)) => vec![Cell::Text(area.into()), Cell::Int(i64::from(y)), Cell::Int(n as i64), fl(m, 6), Cell::Text("ok".into())],
            None => vec![Cell::Text(area.into()), Cell::Int(i64::from(y)), Cell::Int(0), Cell::Missing, Cell::Text("no RSEI for this year (gap)".into())],
        };
        let _ = t.push_row(row);
    }
    t
}

fn series_trend_table(area: &str, years: &[i32], st: &SeriesTrend, opts: &TrendOptions) -> Table {
    let mut t = Table::new(vec![
        Column::new("area"),
        Column::new("years"),
        Column::new("status"),
        Column::new("n"),
        Column::new("s"),
        Column::new("var_s"),
        Column::new("z"),
        Column::new("p_value"),
        Column::new("kendall_tau"),
        Column::with_unit("sen_slope", "RSEI/yr"),
        Column::new("intercept"),
        Column::new("trend"),
        Column::new("hamed_rao_factor"),
        Column::new("alpha"),
    ]);
    let mut row = vec![Cell::Text(area.into()), Cell::Text(common::year_text(years)), Cell::Text(st.status.clone())];
    match &st.test {
        Some(r) => row.extend([
            Cell::Int(r.n as i64),
            Cell::Int(r.s),
            fl(r.var_s, 6),
            fl(r.z, 6),
            fl(r.p, 10),
            fl(r.tau, 6),
            fl(r.slope, 8),
            fl(r.intercept, 6),
            Cell::Text(r.trend.as_str().into()),
            r.hamed_rao_factor.map_or(Cell::Text("not used".into()), |f| fl(f, 6)),
        ]),
        None => {
            let why = st.reason.clone().unwrap_or_default();
            row.extend((0..10).map(|k| if k == 8 { Cell::Text(why.clone()) } else { Cell::Missing }));
        }
    }
    row.push(fl(opts.alpha, 4));
    let _ = t.push_row(row);
    t
}

fn series_chart(area: &str, label: &str, series: &[(i32, u64, f64)], st: &SeriesTrend, first: i32) -> Chart {
    let pts: Vec<(f64, f64)> = series.iter().map(|&(y, _, m)| (f64::from(y), m)).collect();
    let mut c = Chart::new(format!("Mean RSEI of {area} ({label})"), Axis::linear("Year", None).with_grid(), Axis::linear("Mean RSEI", None).with_grid());
    c = c.with_series(Series::line("yearly mean", pts).with_marker(rsei_report::MarkerShape::Circle));
    if let Some(r) = &st.test {
        let (y0, y1) = (series.first().map_or(first, |s| s.0), series.last().map_or(first, |s| s.0));
        let line = |y: i32| (f64::from(y), r.intercept + r.slope * f64::from(y - first));
        let name = format!("Sen slope {:+.4}/yr, Mann–Kendall p = {}", r.slope, if r.p < 0.001 { "< 0.001".to_string() } else { format!("{:.3}", r.p) });
        c = c.with_series(Series::line(name, vec![line(y0), line(y1)]).with_color(Rgba::hex(0xd55e00)).dashed());
    }
    c
}

/// Runs the trend analysis of one area (see the module documentation) and writes its outputs.
pub fn run(req: &TrendRequest, progress: &dyn Progress) -> Result<TrendRunSummary> {
    let o = &req.options;
    o.validate()?;
    let name = req.area.name.as_str();
    let area_dir = common::area_dir(&req.rsei_dir, &req.area)?;
    let years = o.source.years(&area_dir, name, req.years.as_deref())?;
    if years.len() < o.min_years {
        return Err(Error::input(
            &area_dir,
            format!(
                "study area {name:?}: a trend needs at least {} years of RSEI ({} RSEI), found {} ({}); compute more years or lower min_years (not below {MIN_YEARS})",
                o.min_years,
                o.source.label(),
                years.len(),
                if years.is_empty() { "none".to_string() } else { common::year_text(&years) }
            ),
        ));
    }
    progress.message(&format!("{name}: reading RSEI of {} years", years.len()));
    let (grid, layers) = common::read_layers(&years, |y| o.source.rsei_path(&area_dir, y))?;
    let (first, last) = (years[0], years[years.len() - 1]);
    let gap_years: Vec<i32> = (first..=last).filter(|y| !years.contains(y)).collect();
    let mut notes = Vec::new();
    if !gap_years.is_empty() {
        notes.push(format!("no RSEI for {} between {first} and {last}: gaps of the time axis (slopes stay per calendar year)", common::year_text(&gap_years)));
    }
    if o.source == RseiSource::PerYear {
        notes.push("per-year RSEI: every year is normalised and fitted on its own, so the values of different years are not on one scale; the pooled source (rsei timeseries) puts them on one".into());
    }
    let refs: Vec<&[f32]> = layers.iter().map(|l| l.values.as_slice()).collect();
    let (inside, _) = common::inside_of(&area_dir, first, &refs)?;
    let cells: Vec<usize> = (0..grid.len()).filter(|&i| inside[i]).collect();
    // compact layers over the area's cells, calendar years from first to last (gaps = NaN)
    let compact: Vec<Vec<f32>> = (first..=last)
        .map(|y| match layers.iter().find(|l| l.year == y) {
            Some(l) => cells.iter().map(|&i| l.values[i]).collect(),
            None => vec![f32::NAN; cells.len()],
        })
        .collect();
    let crefs: Vec<&[f32]> = compact.iter().map(Vec::as_slice).collect();
    progress.message(&format!("{name}: Mann–Kendall and Sen slope per pixel"));
    let pt = trend_stack(&crefs, &o.stack()).map_err(|e| match e {
        TrendError::NoTestablePixels { .. } | TrendError::TooFewLayers { .. } => {
            Error::input(&area_dir, format!("study area {name:?}, {} RSEI {}: {e}", o.source.label(), common::year_text(&years)))
        }
        other => Error::option("trend", format!("study area {name:?}: {other}")),
    })?;
    // area series
    let series: Vec<(i32, u64, f64)> = layers
        .iter()
        .filter_map(|l| {
            let (n, s) = cells.iter().map(|&i| l.values[i]).filter(|v| v.is_finite()).fold((0u64, 0f64), |(n, s), v| (n + 1, s + f64::from(v)));
            (n > 0).then(|| (l.year, n, s / n as f64))
        })
        .collect();
    for l in &layers {
        if !series.iter().any(|s| s.0 == l.year) {
            notes.push(format!("{}: {} holds no RSEI value inside the area", l.year, l.path.display()));
        }
    }
    let values: Vec<f64> = (first..=last).map(|y| series.iter().find(|s| s.0 == y).map_or(f64::NAN, |s| s.2)).collect();
    let series_trend = match mann_kendall(&values, &o.mk()) {
        Ok(r) => SeriesTrend { status: "tested".into(), test: Some(r), reason: None },
        Err(e @ TrendError::Constant { .. }) => {
            notes.push(format!("the mean RSEI of the area: {e}"));
            SeriesTrend { status: "constant".into(), test: None, reason: Some(e.to_string()) }
        }
        Err(e @ TrendError::TooFewValues { .. }) => {
            notes.push(format!("the mean RSEI of the area: {e}"));
            SeriesTrend { status: "too few years".into(), test: None, reason: Some(e.to_string()) }
        }
        Err(e) => {
            notes.push(format!("the mean RSEI of the area: {e}"));
            SeriesTrend { status: "not tested".into(), test: None, reason: Some(e.to_string()) }
        }
    };
    // back onto the grid
    let n = grid.len();
    let expand = |v: &[f64]| -> Vec<f32> {
        let mut out = vec![f32::NAN; n];
        for (&i, &x) in cells.iter().zip(v) {
            out[i] = x as f32;
        }
        out
    };
    let mut class = vec![CLASS_OUTSIDE; n];
    let mut n_years = vec![CLASS_OUTSIDE; n];
    for (k, &i) in cells.iter().enumerate() {
        class[i] = pt.class[k];
        n_years[i] = pt.n_valid[k].min(254) as u8;
    }
    let mut tested_slopes: Vec<f64> = pt.slope.iter().zip(&pt.p).filter(|(_, p)| p.is_finite()).map(|(s, _)| *s).collect();
    tested_slopes.sort_unstable_by(f64::total_cmp);
    let median_slope = (!tested_slopes.is_empty()).then(|| {
        let m = tested_slopes.len();
        if m % 2 == 1 {
            tested_slopes[m / 2]
        } else {
            0.5 * (tested_slopes[m / 2 - 1] + tested_slopes[m / 2])
        }
    });
    let km2 = grid.cell_area() / 1e6;
    let slope_r = expand(&pt.slope);
    let class_f: Vec<f32> = class.iter().map(|&c| if c == CLASS_OUTSIDE { f32::NAN } else { f32::from(c) }).collect();

    // outputs
    let out_dir = req.out_dir.clone().unwrap_or_else(|| area_dir.join(FOLDER));
    let mut set = OutputSet::new(&out_dir, "RSEI trend (Mann-Kendall, Theil-Sen, Benjamini-Hochberg)");
    let span = format!("{first}\u{2013}{last}");
    set.raster("sen_slope.tif", &grid, RasterData::F32(slope_r.clone()), &format!("Theil-Sen slope of RSEI {span}, per year ({})", o.source.label()), Some("1/yr"));
    set.raster("mk_z.tif", &grid, RasterData::F32(expand(&pt.z)), &format!("Mann-Kendall Z, RSEI {span}"), None);
    set.raster("p_value.tif", &grid, RasterData::F32(expand(&pt.p)), &format!("Mann-Kendall two-sided p, RSEI {span}"), None);
    set.raster("q_value.tif", &grid, RasterData::F32(expand(&pt.q)), &format!("Benjamini-Hochberg q over the tested pixels, RSEI {span}"), None);
    set.raster("kendall_tau.tif", &grid, RasterData::F32(expand(&pt.tau)), &format!("Kendall tau, RSEI {span}"), None);
    set.raster("n_years.tif", &grid, RasterData::U8(n_years, CLASS_OUTSIDE), &format!("valid years of RSEI {span} per pixel"), Some("years"));
    set.raster("class.tif", &grid, RasterData::U8(class, CLASS_OUTSIDE), &format!("RSEI trend {span}: 0 not tested, 1 degradation, 2 not significant, 3 improvement"), None);
    set.table("classes", &classes_table(&pt.summary, km2))?;
    set.table("series", &series_table(name, &series, &gap_years))?;
    set.table("series_trend", &series_trend_table(name, &years, &series_trend, o))?;
    set.chart("fig_series", &series_chart(name, o.source.label(), &series, &series_trend, first), 720.0, 400.0)?;
    let sig = match o.significance {
        SignificanceRule::Fdr => format!("FDR q \u{2264} {}", o.fdr_q),
        SignificanceRule::Raw => format!("p < {}", o.alpha),
    };
    let class_palette = MapPalette::Classes(
        CLASS_NAMES
            .iter()
            .rev()
            .map(|&(code, label)| MapClass {
                min: f64::from(code),
                max: f64::from(code) + 1.0,
                color: Rgba::hex(match code {
                    0 => 0xbdbdbd,
                    1 => 0xd7301f,
                    2 => 0xfee8c8,
                    _ => 0x1a9850,
                }),
                label: match code {
                    1 | 3 => format!("{} ({sig})", capitalise(label)),
                    _ => capitalise(label),
                },
            })
            .collect(),
    );
    let outline = Some((&req.area.polygon, &rsei_core::Crs::modis_sinusoidal()));
    let (png, svg) = common::render_map(&grid, &class_f, &inside, outline, MapStyle { title: format!("RSEI trend {name} {span}"), palette: class_palette, legend_title: "Trend".into(), ..MapStyle::default() })?;
    set.file("map_class.svg", svg.into_bytes());
    set.file("map_class.png", png);
    let lim = tested_slopes.iter().map(|s| s.abs()).fold(0.0, f64::max).max(1e-6);
    let (png, svg) = common::render_map(
        &grid,
        &slope_r,
        &inside,
        outline,
        MapStyle { title: format!("Sen slope of RSEI {name} {span}"), palette: MapPalette::Continuous { ramp: rsei_report::color::Ramp::red_blue(), min: -lim, max: lim }, legend_title: "RSEI/yr".into(), ..MapStyle::default() },
    )?;
    set.file("map_slope.svg", svg.into_bytes());
    set.file("map_slope.png", png);
    let mut summary = TrendRunSummary {
        software: SOFTWARE.into(),
        area: name.into(),
        source: o.source,
        years: years.clone(),
        gap_years,
        pixel_area_km2: km2,
        cells: cells.len() as u64,
        pixels: pt.summary,
        series,
        series_trend,
        median_slope,
        notes,
        files: Vec::new(),
        out_dir: out_dir.clone(),
    };
    let mut names = set.names();
    names.insert(names.len() - 1, "summary.json".into());
    summary.files = names;
    set.json("summary.json", &summary)?;
    let mut inputs: Vec<PathBuf> = layers.iter().map(|l| l.path.clone()).collect();
    let water = area_dir.join(first.to_string()).join("water.tif");
    if water.is_file() {
        inputs.push(water);
    }
    inputs.extend(req.area_file.iter().cloned());
    let inputs = common::input_checksums(&inputs)?;
    let mut manifest = common::manifest_head("RSEI trend: Mann-Kendall test, Theil-Sen slope, Benjamini-Hochberg FDR", &req.area, o, &inputs)?;
    manifest["years"] = serde_json::json!(years);
    set.write(manifest)?;
    Ok(summary)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn options_map_to_the_core() {
        let o = TrendOptions::default();
        assert_eq!(o.stack(), StackOptions::default());
        let o = TrendOptions { hamed_rao: true, hamed_rao_lags: Some(3), significance: SignificanceRule::Raw, ..Default::default() };
        assert_eq!(o.mk().hamed_rao, Some(HamedRaoLag::First(3)));
        assert_eq!(o.stack().significance, Significance::Raw);
        assert_eq!(TrendOptions { hamed_rao: true, ..Default::default() }.mk().hamed_rao, Some(HamedRaoLag::All));
        for bad in [
            TrendOptions { alpha: 1.0, ..Default::default() },
            TrendOptions { fdr_q: 0.0, ..Default::default() },
            TrendOptions { min_years: 3, ..Default::default() },
            TrendOptions { hamed_rao_lags: Some(2), ..Default::default() },
        ] {
            let e = bad.validate().unwrap_err().to_string();
            assert!(e.starts_with("invalid trend option"), "{e}");
        }
    }

    #[test]
    fn tables_never_hold_a_silent_gap() {
        let st = SeriesTrend { status: "constant".into(), test: None, reason: Some("the series is constant".into()) };
        let t = series_trend_table("A", &[2001, 2002, 2003, 2004], &st, &TrendOptions::default());
        let csv = t.to_csv();
        assert!(csv.contains("constant") && csv.contains("the series is constant"), "{csv}");
        assert!(!csv.contains("NaN"));
        let t = series_table("A", &[(2001, 3, 0.5), (2003, 3, 0.6)], &[2002]);
        assert!(t.to_csv().contains("no RSEI for this year (gap)"));
    }
}
