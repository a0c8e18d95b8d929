//! # The study report: one self-contained HTML page from an output folder (`rsei report OUT`)
//!
//! Reads what the pipelines wrote — never recomputes an analysis — and lays it out as a paper
//! with [`rsei_report::html`]:
//!
//! | reads | from |
//! |---|---|
//! | per area and year: statistics, model (loadings, eigenvalues, contribution), grades, QA, warnings | `OUT/<area>/<year>/summary.json` |
//! | options, inputs, software | `OUT/<area>/<year>/manifest.json` |
//! | RSEI and water rasters of the first and last year (maps) | `OUT/<area>/<year>/rsei.tif`, `water.tif` (through `rsei_io::plain::read_plain`) |
//! | mining impact: headline figures, options, tables, figures | `OUT/<area>/mining/` (`rsei mining`) |
//! | drivers: ranking, options, cross-area figures; per-area summaries and figures | `OUT/drivers/` and `OUT/<area>/drivers/` (`rsei drivers`, `rsei run`), or [`ReportOptions::drivers_dir`] |
//!
//! and writes `OUT/report.html` atomically: title block, a data-provenance banner (synthetic data
//! are named as such), key results, contents, **1 Data and methods** written from the options
//! recorded in the manifests (products, QA rules, composite, indicator formulas with the wetness
//! coefficients, water mask, normalisation, PCA and its orientation rule, grades, mining and
//! driver definitions, forest parameters and seed, software), then **one section per area** (maps
//! of the first and last year, mean RSEI over time ± std, pixel distributions per year, grade
//! areas, QA, PCA in the layout of the paper's Table A1 with warnings highlighted, mines vs city,
//! distance gradient, size classes, Pearson r, random-forest accuracy and importance, notes),
//! then **results across areas** (mean RSEI per area and year with a linear trend, the correlation
//! heat map, the cross-area driver ranking) and references.
//!
//! Sections whose outputs are absent are left out and listed under "Contents of this report";
//! a figure the pipeline did not draw is left out, and the pipeline's note saying why is listed
//! under the area's "Notes and warnings". The page has no date: the same
//! folder gives the same bytes.
//!
//! Computation here is limited to arranging numbers and two summaries of the yearly means that
//! the tables need: the multi-year mean and the least-squares linear trend (slope per decade, its
//! R² from [`rsei_core::mining::fit_trend`] and the two-sided p-value of Pearson's r between year
//! and mean, [`rsei_core::stats::Pearson`], which equals the p-value of the slope's t test).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Context, Result};
use rsei_core::accum::Accumulator;
use rsei_core::indicators::WetnessCoefficients;
use rsei_core::model::{GradeReport, Normalisation, RseiModel};
use rsei_core::qa::QaRule;
use rsei_core::zonal::PixelRule;
use rsei_core::Raster;
use rsei_report::color::{sequential, series_color};
use rsei_report::html::{escape_markup as esc, Block, Callout, CalloutKind, Document, Figure, Panel, Section, TCell, TableBlock};
use rsei_report::{Axis, Chart, Legend, LegendPosition, MarkerShape, Series};
use serde::Deserialize;

use crate::options::{NdviSource, Platforms, RseiRunOptions};

/// File name of the report inside the output folder.
pub const REPORT_FILE: &str = "report.html";

/// Options of the report (the request of [`write_report`]).
///
/// ```no_run
/// use rsei_pipeline::report_html::{write_report, ReportOptions};
///
/// let opts = ReportOptions { title: Some("Ecological quality of the demo cities".into()), ..ReportOptions::default() };
/// let page = write_report("results".as_ref(), &opts)?;
/// println!("report: {}", page.display());
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReportOptions {
    /// Title of the page (default: "Ecological quality of …" with the area names).
    pub title: Option<String>,
    /// Run folder of a driver analysis (default: `OUT/drivers` when it holds the manifest of
    /// one).
    pub drivers_dir: Option<PathBuf>,
    /// Where to write the page (default `OUT/report.html`).
    pub output: Option<PathBuf>,
    /// Longest side of a map in display pixels (larger rasters are reduced by the rule of
    /// [`rsei_report::map`]: mode of the grades in each block).
    pub map_max_px: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { title: None, drivers_dir: None, output: None, map_max_px: 400 }
    }
}

pub use crate::error::StudyReportError;

// ---------------------------------------------------------------------------------------------
// What the pipelines wrote
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
struct QaCounts {
    total: u64,
    valid: u64,
    #[serde(default)]
    rejected: Vec<u64>,
}

#[derive(Debug, Clone, Deserialize)]
struct QaFile {
    product: String,
    report: QaCounts,
}

/// `OUT/<area>/<year>/summary.json` (the fields the report shows).
#[derive(Debug, Clone, Deserialize)]
struct YearFile {
    area: String,
    year: i32,
    n_pixels: u64,
    #[serde(default)]
    n_water: u64,
    rsei_mean: Option<f64>,
    rsei_std: Option<f64>,
    model: RseiModel,
    grades: GradeReport,
    #[serde(default)]
    qa: Vec<QaFile>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct InputFileJson {
    path: PathBuf,
    /// The catalogue asset a fetched input holds (studies with `[data.stac]`).
    #[serde(default)]
    stac: Option<StacAssetJson>,
}

#[derive(Debug, Clone, Deserialize)]
struct StacAssetJson {
    href: String,
}

impl InputFileJson {
    /// Where the input comes from: the asset URL of a file fetched from a catalogue, else its path.
    fn source(&self) -> PathBuf {
        self.stac.as_ref().map_or_else(|| self.path.clone(), |s| PathBuf::from(&s.href))
    }
}

#[derive(Debug, Clone, Deserialize)]
struct ProvenanceFile {
    #[serde(default)]
    software: String,
    #[serde(default)]
    area_source: String,
    options: serde_json::Value,
    #[serde(default)]
    inputs: Vec<InputFileJson>,
    landcover: Option<InputFileJson>,
}

#[derive(Debug, Clone, Deserialize)]
struct YearManifestFile {
    provenance: ProvenanceFile,
}

/// One year of one area.
#[derive(Debug, Clone)]
struct YearRun {
    dir: PathBuf,
    s: YearFile,
    /// Provenance and its options, when the manifest is there.
    manifest: Option<(ProvenanceFile, RseiRunOptions)>,
}

/// `OUT/<area>/mining/summary.json`.
#[derive(Debug, Clone, Deserialize)]
struct MiningSummaryFile {
    #[serde(default)]
    software: String,
    #[serde(default)]
    area_km2: f64,
    #[serde(default)]
    years: Vec<i32>,
    #[serde(default)]
    mines_read: usize,
    #[serde(default)]
    mines_in_area: usize,
    #[serde(default)]
    mines_area_km2: f64,
    mean_abs_diff: Option<f64>,
    peak_distance_km: Option<f64>,
    peak_mean: Option<f64>,
    first_turning_point_km: Option<f64>,
    first_turning_kind: Option<String>,
    trend_r2: Option<f64>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct MiningManifestFile {
    #[serde(default)]
    mines: Option<crate::mining::MineSource>,
    options: crate::mining::MiningRunOptions,
}

/// The mining outputs of one area.
#[derive(Debug, Clone)]
struct MiningRun {
    dir: PathBuf,
    s: MiningSummaryFile,
    manifest: Option<MiningManifestFile>,
    /// Rows of `mines_vs_city.json`.
    per_year: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Rows of `distributions.json`.
    distributions: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Rows of `rings_profile.json`.
    rings: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct DriverInfoFile {
    name: String,
    source: String,
    files: Vec<PathBuf>,
    resampling: Option<String>,
    cells_inside: usize,
    valid_inside: usize,
    constant: bool,
    in_forest: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct PearsonFile {
    driver: String,
    r: Option<f64>,
    n: u64,
    p_value: Option<f64>,
    note: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ImportanceFile {
    driver: String,
    inc_mse: Option<f64>,
    inc_node_purity: Option<f64>,
    rank: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ForestFile {
    ntree: usize,
    mtry: usize,
    nodesize: usize,
    seed: u64,
    train_fraction: f64,
    n_train: usize,
    n_valid: usize,
    oob_mse: f64,
    var_explained_pct: f64,
    r2: f64,
    rmse: f64,
    mae: f64,
    importance: Vec<ImportanceFile>,
}

/// `OUT/drivers/<area>/drivers/summary.json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct DriverAreaFile {
    area: String,
    year: i32,
    crs: String,
    resolution_m: f64,
    cells_inside: usize,
    window_cells: Option<usize>,
    window_km_effective: Option<f64>,
    drivers: Vec<DriverInfoFile>,
    rsei_valid: usize,
    n_pixels: usize,
    pearson: Vec<PearsonFile>,
    forest: ForestFile,
    notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct RankFile {
    name: String,
    mean_rank: Option<f64>,
    cities: usize,
    ranks: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct DriverAreaRef {
    area: String,
    folder: PathBuf,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct DriverOptionsFile {
    crs: String,
    resolution_m: f64,
    window_km: f64,
    rsei_resampling: String,
    dem_resampling: String,
    clip_rule: String,
    mine_cells: String,
    search_margin_km: f64,
    ntree: usize,
    mtry: usize,
    nodesize: usize,
    seed: u64,
    train_fraction: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct DriverRequestFile {
    dem: Option<PathBuf>,
    barrier: Option<PathBuf>,
    mines: Option<crate::mining::MineSource>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct DriverManifestFile {
    software: String,
    analysis: String,
    year: i32,
    areas: Vec<DriverAreaRef>,
    options: DriverOptionsFile,
    request: DriverRequestFile,
    inputs: Vec<InputFileJson>,
    ranking: Vec<RankFile>,
}

/// One area of a driver analysis.
#[derive(Debug, Clone)]
struct DriverArea {
    dir: PathBuf,
    s: DriverAreaFile,
}

/// A driver analysis.
#[derive(Debug, Clone)]
struct DriverRun {
    dir: PathBuf,
    m: DriverManifestFile,
    areas: Vec<DriverArea>,
}

/// One study area with everything found for it.
#[derive(Debug, Clone)]
struct Area {
    name: String,
    /// HTML id stem (from the folder name).
    id: String,
    years: Vec<YearRun>,
    mining: Option<MiningRun>,
}

/// Everything found in the output folder.
#[derive(Debug, Clone)]
struct Study {
    out_dir: PathBuf,
    /// Name of the study (`rsei run`), from `OUT/manifest.json`.
    name: Option<String>,
    areas: Vec<Area>,
    drivers: Option<DriverRun>,
    /// Problems met while reading (incomplete folders and the like).
    notes: Vec<String>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, StudyReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| StudyReportError::BadFile { path: path.to_path_buf(), reason: format!("cannot read: {e}") })?;
    serde_json::from_str(&text).map_err(|e| StudyReportError::BadFile { path: path.to_path_buf(), reason: format!("unexpected content: {e}") })
}

/// Rows of a table written as JSON (an array of objects); `None` when the file is absent.
fn read_rows(path: &Path) -> Result<Option<Vec<serde_json::Map<String, serde_json::Value>>>, StudyReportError> {
    if !path.is_file() {
        return Ok(None);
    }
    read_json(path).map(Some)
}

fn read_svg(path: &Path) -> Result<Option<String>, StudyReportError> {
    if !path.is_file() {
        return Ok(None);
    }
    let s = std::fs::read_to_string(path).map_err(|e| StudyReportError::BadFile { path: path.to_path_buf(), reason: format!("cannot read: {e}") })?;
    if !s.contains("<svg") {
        return Err(StudyReportError::BadFile { path: path.to_path_buf(), reason: "not an SVG document".into() });
    }
    Ok(Some(s))
}

/// A lower-case ASCII id stem: letters and digits, other runs as one `-`.
fn id_stem(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "area".into()
    } else {
        out
    }
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect()).unwrap_or_default();
    v.sort();
    v
}

fn read_year(dir: &Path, notes: &mut Vec<String>) -> Result<YearRun, StudyReportError> {
    let s: YearFile = read_json(&dir.join("summary.json"))?;
    let mpath = dir.join("manifest.json");
    let manifest = if mpath.is_file() {
        let m: YearManifestFile = read_json(&mpath)?;
        let opts: RseiRunOptions = serde_json::from_value(m.provenance.options.clone())
            .map_err(|e| StudyReportError::BadFile { path: mpath.clone(), reason: format!("options: {e}") })?;
        Some((m.provenance, opts))
    } else {
        notes.push(format!("{} {}: no manifest.json in {} (an interrupted run: the outputs may be incomplete)", s.area, s.year, dir.display()));
        None
    };
    Ok(YearRun { dir: dir.to_path_buf(), s, manifest })
}

fn read_mining(dir: &Path) -> Result<Option<MiningRun>, StudyReportError> {
    let sp = dir.join("summary.json");
    if !sp.is_file() {
        return Ok(None);
    }
    let s: MiningSummaryFile = read_json(&sp)?;
    let mp = dir.join("manifest.json");
    let manifest = if mp.is_file() { Some(read_json::<MiningManifestFile>(&mp)?) } else { None };
    Ok(Some(MiningRun {
        dir: dir.to_path_buf(),
        s,
        manifest,
        per_year: read_rows(&dir.join("mines_vs_city.json"))?.unwrap_or_default(),
        distributions: read_rows(&dir.join("distributions.json"))?.unwrap_or_default(),
        rings: read_rows(&dir.join("rings_profile.json"))?.unwrap_or_default(),
    }))
}

/// The run folder of a driver analysis (the option, else `OUT/drivers`) when it holds a driver
/// manifest. The per-area folders named in it are relative to the RSEI folder (its parent), or,
/// as older runs wrote them, to the run folder itself.
fn find_drivers(out_dir: &Path, opts: &ReportOptions) -> Result<Option<DriverRun>, StudyReportError> {
    let candidates: Vec<PathBuf> = match &opts.drivers_dir {
        Some(d) => vec![d.clone()],
        None => vec![out_dir.join(crate::drivers::RUN_FOLDER)],
    };
    for dir in candidates {
        let mp = dir.join("manifest.json");
        if !mp.is_file() {
            continue;
        }
        let v: serde_json::Value = read_json(&mp)?;
        let is_drivers = v.get("analysis").and_then(|a| a.as_str()).is_some_and(|a| a.starts_with("drivers"));
        if !is_drivers {
            if opts.drivers_dir.is_some() {
                return Err(StudyReportError::BadFile { path: mp, reason: "not the manifest of a driver analysis (`rsei drivers`)".into() });
            }
            continue;
        }
        let m: DriverManifestFile = serde_json::from_value(v).map_err(|e| StudyReportError::BadFile { path: mp.clone(), reason: format!("unexpected content: {e}") })?;
        let mut areas = Vec::new();
        for a in &m.areas {
            let parent = dir.parent().map_or_else(|| dir.clone(), Path::to_path_buf);
            for adir in [parent.join(&a.folder), dir.join(&a.folder)] {
                let sp = adir.join("summary.json");
                if sp.is_file() {
                    areas.push(DriverArea { dir: adir, s: read_json(&sp)? });
                    break;
                }
            }
        }
        return Ok(Some(DriverRun { dir, m, areas }));
    }
    if let Some(d) = &opts.drivers_dir {
        return Err(StudyReportError::BadFile { path: d.join("manifest.json"), reason: "not found: no driver analysis in this folder".into() });
    }
    Ok(None)
}

fn load(out_dir: &Path, opts: &ReportOptions) -> Result<Study> {
    if !out_dir.is_dir() {
        return Err(StudyReportError::NotAFolder(out_dir.to_path_buf()).into());
    }
    let mut notes = Vec::new();
    let mut areas: Vec<Area> = Vec::new();
    for adir in sorted_dirs(out_dir) {
        let mut years = Vec::new();
        for ydir in sorted_dirs(&adir) {
            let is_year = ydir.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.parse::<i32>().is_ok());
            if is_year && ydir.join("summary.json").is_file() {
                years.push(read_year(&ydir, &mut notes)?);
            }
        }
        if years.is_empty() {
            continue;
        }
        years.sort_by_key(|y| y.s.year);
        let name = years[0].s.area.clone();
        if let Some(y) = years.iter().find(|y| y.s.area != name) {
            return Err(StudyReportError::BadFile { path: y.dir.join("summary.json"), reason: format!("area {:?} in a folder of area {name:?}", y.s.area) }.into());
        }
        let folder = adir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mining = read_mining(&adir.join("mining"))?;
        areas.push(Area { id: id_stem(&folder), name, years, mining });
    }
    if areas.is_empty() {
        return Err(StudyReportError::NoResults(out_dir.to_path_buf()).into());
    }
    // a study's manifest (`rsei run`) gives its name and the order of its areas; else the order of
    // the run table (the order of the area file); else by folder name
    let mut name = None;
    let mut order: Vec<String> = Vec::new();
    let mp = out_dir.join("manifest.json");
    if mp.is_file() {
        let v: serde_json::Value = read_json(&mp)?;
        name = v.get("study").and_then(|s| s.as_str()).map(str::to_string);
        if let Some(list) = v.get("areas").and_then(|a| a.as_array()) {
            order = list.iter().filter_map(|a| a.get("area").and_then(|n| n.as_str()).map(str::to_string)).collect();
        }
    }
    if order.is_empty() {
        if let Some(rows) = read_rows(&out_dir.join("rsei_summary.json"))? {
            order = rows.iter().filter_map(|r| r.get("area").and_then(|a| a.as_str()).map(str::to_string)).collect();
        }
    }
    areas.sort_by_key(|a| order.iter().position(|o| o == &a.name).unwrap_or(usize::MAX));
    // unique ids
    let mut seen = BTreeSet::new();
    for a in &mut areas {
        let mut id = a.id.clone();
        let mut k = 2;
        while !seen.insert(id.clone()) {
            id = format!("{}-{k}", a.id);
            k += 1;
        }
        a.id = id;
    }
    let drivers = find_drivers(out_dir, opts)?;
    Ok(Study { out_dir: out_dir.to_path_buf(), name, areas, drivers, notes })
}

// ---------------------------------------------------------------------------------------------
// Numbers and words
// ---------------------------------------------------------------------------------------------

/// `v` with `d` decimals and the typographic minus sign; "–" when missing.
fn fx(v: Option<f64>, d: usize) -> String {
    match v {
        Some(x) if x.is_finite() => rsei_report::ticks::format_fixed(x, d).replacen('-', "\u{2212}", 1),
        _ => "\u{2013}".into(),
    }
}

/// "p < 0.001" or "p = 0.012".
fn p_phrase(p: f64) -> String {
    if p.is_finite() && p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {}", p_text(Some(p)))
    }
}

/// A p-value as journals print it: "< 0.001" below one in a thousand, else three decimals.
fn p_text(p: Option<f64>) -> String {
    match p {
        Some(p) if p.is_finite() && p < 0.001 => "< 0.001".into(),
        Some(p) if p.is_finite() => rsei_report::ticks::format_fixed(p, 3),
        _ => "\u{2013}".into(),
    }
}

fn month_name(m: u8) -> &'static str {
    const M: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    M.get(usize::from(m).wrapping_sub(1)).copied().unwrap_or("?")
}

/// "1, 2 and 3".
fn and_list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// "`city.geojson` (layer cities, feature 0)" from "/data/city.geojson (layer cities, feature 0)".
fn short_source(s: &str) -> String {
    let (path, rest) = match s.find(" (") {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    format!("`{}`{}", esc(&file_name(Path::new(path))), esc(rest))
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// "2018–2022" or "2019".
fn year_span(years: &[i32]) -> String {
    match (years.first(), years.last()) {
        (Some(a), Some(b)) if a != b => format!("{a}\u{2013}{b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    }
}

/// Linear trend of yearly means: slope per decade, R², two-sided p, number of years.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Trend {
    per_decade: f64,
    r2: f64,
    p_value: f64,
    n: usize,
}

/// Least-squares line through `(year, mean)`; `None` below three years or for a constant series.
fn linear_trend(pts: &[(i32, f64)]) -> Option<Trend> {
    let y0 = pts.first()?.0;
    let xy: Vec<(f64, f64)> = pts.iter().filter(|p| p.1.is_finite()).map(|&(y, m)| (f64::from(y - y0), m)).collect();
    if xy.len() < 3 {
        return None;
    }
    let fit = rsei_core::mining::fit_trend(&xy, 1)?;
    let mut p = rsei_core::stats::Pearson::default();
    for &(x, y) in &xy {
        p.update(x, y);
    }
    let pr = p.finish().ok()?;
    Some(Trend { per_decade: 10.0 * fit.coefficients.get(1).copied()?, r2: fit.r2, p_value: pr.p_value, n: xy.len() })
}

/// A rank: whole ranks without decimals, tied (averaged) ranks with one.
fn rank_cell(r: Option<f64>) -> TCell {
    match r {
        Some(v) if v.is_finite() && v.fract() == 0.0 => TCell::num(Some(v), 0),
        other => TCell::num(other, 1),
    }
}

fn mean_of(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn num(row: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<f64> {
    row.get(key).and_then(serde_json::Value::as_f64)
}

fn text_of<'a>(row: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> Option<&'a str> {
    row.get(key).and_then(serde_json::Value::as_str)
}

// ---------------------------------------------------------------------------------------------
// Data provenance
// ---------------------------------------------------------------------------------------------

/// What the report says about where the data come from.
#[derive(Debug, Clone, Default)]
struct Provenance {
    /// First line of each README marking synthetic data, by folder.
    synthetic: BTreeMap<PathBuf, String>,
    /// Input files whose name says "synthetic".
    synthetic_files: usize,
    /// Folders holding the inputs (two levels above each file at most, deduplicated).
    roots: BTreeSet<PathBuf>,
    inputs: usize,
}

fn all_inputs(st: &Study) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    for a in &st.areas {
        for y in &a.years {
            if let Some((p, _)) = &y.manifest {
                v.extend(p.inputs.iter().map(InputFileJson::source));
                v.extend(p.landcover.iter().map(|i| i.path.clone()));
            }
        }
        if let Some(m) = a.mining.as_ref().and_then(|m| m.manifest.as_ref()) {
            v.extend(m.mines.iter().map(|s| s.path.clone()));
        }
    }
    if let Some(d) = &st.drivers {
        v.extend(d.m.inputs.iter().map(|i| i.path.clone()));
    }
    // paths inside a study's manifests are relative to its output folder
    let mut v: Vec<PathBuf> = v.into_iter().map(|p| if p.is_relative() && !is_url(&p) { st.out_dir.join(p) } else { p }).collect();
    v.sort();
    v.dedup();
    v
}

/// Whether an input is the URL of a catalogue asset.
fn is_url(p: &Path) -> bool {
    p.to_string_lossy().contains("://")
}

fn provenance(st: &Study) -> Provenance {
    let inputs = all_inputs(st);
    let mut p = Provenance { inputs: inputs.len(), ..Provenance::default() };
    let mut checked: BTreeSet<PathBuf> = BTreeSet::new();
    for f in &inputs {
        if file_name(f).to_ascii_lowercase().contains("synthetic") {
            p.synthetic_files += 1;
        }
        // a README.txt in one of the three folders above the file
        for dir in f.ancestors().skip(1).take(if is_url(f) { 0 } else { 3 }) {
            if !checked.insert(dir.to_path_buf()) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(dir.join("README.txt")) {
                if text.to_ascii_uppercase().contains("SYNTHETIC") {
                    p.synthetic.insert(dir.to_path_buf(), text.lines().next().unwrap_or_default().trim().to_string());
                }
            }
        }
        if let Some(root) = f.parent().and_then(Path::parent) {
            p.roots.insert(root.to_path_buf());
        }
    }
    p
}

// ---------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------

const CHART_W: f64 = 720.0;
const CHART_H: f64 = 400.0;

fn svg(chart: &Chart, w: f64, h: f64) -> Result<String> {
    rsei_report::to_svg(chart, w, h).with_context(|| format!("figure \"{}\"", chart.title))
}

/// Mean RSEI ± std of the pixels per year.
fn series_chart(a: &Area) -> Option<Chart> {
    let ys: Vec<&YearRun> = a.years.iter().filter(|y| y.s.rsei_mean.is_some()).collect();
    if ys.is_empty() {
        return None;
    }
    let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, y)| (i as f64, y.s.rsei_mean.unwrap_or(f64::NAN))).collect();
    let band: Vec<(f64, f64)> = ys
        .iter()
        .map(|y| {
            let (m, s) = (y.s.rsei_mean.unwrap_or(f64::NAN), y.s.rsei_std.unwrap_or(0.0));
            ((m - s).max(0.0), (m + s).min(1.0))
        })
        .collect();
    let years: Vec<String> = ys.iter().map(|y| y.s.year.to_string()).collect();
    let span = year_span(&ys.iter().map(|y| y.s.year).collect::<Vec<_>>());
    Some(
        Chart::new(format!("Mean RSEI of {}, {span}", a.name), Axis::categories("Year", years), Axis::linear("RSEI", None).with_grid())
            .with_series(Series::line_with_band("Mean \u{b1} std of the pixels", pts, band).with_color(series_color(0)).with_marker(MarkerShape::Circle))
            .with_legend(Legend { position: LegendPosition::Bottom, title: None }),
    )
}

/// Densities of RSEI per year: the mining analysis's kernel densities over the whole area when
/// every year has one, else the ten 0.1-classes as a density (share / 0.1).
fn distribution_chart(a: &Area) -> Option<(Chart, bool)> {
    let years: Vec<i32> = a.years.iter().map(|y| y.s.year).collect();
    let colors = sequential(years.len());
    let kde = |year: i32| -> Vec<(f64, f64)> {
        a.mining
            .as_ref()
            .map(|m| {
                m.distributions
                    .iter()
                    .filter(|r| num(r, "year") == Some(f64::from(year)) && text_of(r, "zone") == Some("city") && text_of(r, "kind") == Some("kde"))
                    .filter_map(|r| Some((num(r, "x")?, num(r, "density")?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let use_kde = years.iter().all(|&y| kde(y).len() >= 2);
    let mut chart = Chart::new(
        format!("Distribution of RSEI per year, {}", a.name),
        Axis::linear("RSEI", None).with_range(0.0, 1.0),
        Axis::linear("Density", None).with_zero().with_grid(),
    )
    .with_legend(Legend { position: LegendPosition::Right, title: Some("Year".into()) });
    let mut any = false;
    for (k, y) in a.years.iter().enumerate() {
        let pts: Vec<(f64, f64)> = if use_kde {
            kde(y.s.year)
        } else {
            y.s.grades.classes.iter().map(|c| (0.5 * (c.lo + c.hi), c.share / (c.hi - c.lo))).collect()
        };
        if pts.iter().any(|p| p.1 > 0.0) {
            chart = chart.with_series(Series::line(y.s.year.to_string(), pts).with_color(colors[k]));
            any = true;
        }
    }
    any.then_some((chart, use_kde))
}

/// Mean RSEI per year of every area (cross-area figure).
fn all_series_chart(areas: &[Area]) -> Option<Chart> {
    let years: BTreeSet<i32> = areas.iter().flat_map(|a| a.years.iter().map(|y| y.s.year)).collect();
    let years: Vec<i32> = years.into_iter().collect();
    if years.is_empty() {
        return None;
    }
    let mut chart = Chart::new(
        format!("Mean RSEI of every study area, {}", year_span(&years)),
        Axis::categories("Year", years.iter().map(i32::to_string)),
        Axis::linear("Mean RSEI", None).with_grid(),
    )
    .with_legend(Legend { position: LegendPosition::Bottom, title: None });
    const MARKERS: [MarkerShape; 4] = [MarkerShape::Circle, MarkerShape::Square, MarkerShape::Diamond, MarkerShape::Triangle];
    for (k, a) in areas.iter().enumerate() {
        let pts: Vec<(f64, f64)> = years
            .iter()
            .enumerate()
            .map(|(i, &yr)| (i as f64, a.years.iter().find(|y| y.s.year == yr).and_then(|y| y.s.rsei_mean).unwrap_or(f64::NAN)))
            .collect();
        chart = chart.with_series(Series::line(a.name.clone(), pts).with_color(series_color(k)).with_marker(MARKERS[k % MARKERS.len()]));
    }
    Some(chart)
}

// ---------------------------------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------------------------------

/// The RSEI grade map of one year as SVG, on the display grid of
/// [`crate::outputs::display_grid`] (sinusoidal grids shown in a local equal-area projection).
fn map_svg(y: &YearRun, max_px: usize) -> Result<String> {
    use rsei_io::warp::{warp_raster, Resampling};
    let rp = y.dir.join("rsei.tif");
    let r = rsei_io::plain::read_plain(&rp, 1).with_context(|| format!("reading {}", rp.display()))?;
    let g = r.grid().clone();
    let wp = y.dir.join("water.tif");
    // water.tif: 1 water, 0 land, nodata outside the area
    let (water, inside): (Vec<bool>, Vec<bool>) = if wp.is_file() {
        let w = rsei_io::plain::read_plain(&wp, 1).with_context(|| format!("reading {}", wp.display()))?;
        g.check_same(w.grid()).with_context(|| format!("{} and {} are not on one grid", rp.display(), wp.display()))?;
        (w.data().iter().map(|&v| v == 1.0).collect(), w.data().iter().map(|v| !v.is_nan()).collect())
    } else {
        (vec![false; g.len()], r.data().iter().map(|v| !v.is_nan()).collect())
    };
    let water_f: Vec<f32> = water.iter().zip(&inside).map(|(&w, &i)| if w && i { 1.0 } else { 0.0 }).collect();
    let (grid, values, water) = match crate::outputs::display_grid(&g, &inside)? {
        Some(d) => {
            let v = warp_raster(&r, &d, Resampling::Nearest)?.into_data();
            let w = warp_raster(&Raster::new(g.clone(), water_f)?, &d, Resampling::Nearest)?.into_data();
            (d, v, w.iter().map(|&x| x == 1.0).collect::<Vec<bool>>())
        }
        None => (g.clone(), r.data().to_vec(), water_f.iter().map(|&x| x == 1.0).collect()),
    };
    let metres = grid.crs().as_str().contains("+units=m") || grid.crs().as_str().contains("metre");
    let style = rsei_report::MapStyle {
        title: String::new(),
        water_mask: Some(&water),
        cell_size_m: metres.then(|| grid.cell_size().0),
        max_display_px: max_px,
        min_display_px: max_px * 4 / 5,
        ..rsei_report::MapStyle::default()
    };
    rsei_report::render_map_svg(&values, grid.rows(), grid.cols(), &style).with_context(|| format!("map of {}", rp.display()))
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

const INDICATORS: [&str; 4] = ["NDVI", "WET", "NDBSI", "LST"];

/// The first year's options, and whether every year of every area used the same.
fn run_options(st: &Study) -> (Option<&RseiRunOptions>, Vec<String>) {
    let mut first: Option<(&RseiRunOptions, String)> = None;
    let mut differ = Vec::new();
    for a in &st.areas {
        for y in &a.years {
            if let Some((_, o)) = &y.manifest {
                match &first {
                    None => first = Some((o, format!("{} {}", a.name, y.s.year))),
                    Some((f, _)) if *f != o => differ.push(format!("{} {}", a.name, y.s.year)),
                    _ => {}
                }
            }
        }
    }
    let note = match (&first, differ.is_empty()) {
        (Some((_, who)), false) => vec![format!(
            "The outputs were not all made with the same options: {} differ from {who}, whose options are described here (every manifest.json records its own).",
            and_list(&differ)
        )],
        _ => Vec::new(),
    };
    (first.map(|f| f.0), note)
}

fn software_versions(st: &Study) -> Vec<String> {
    let mut v: BTreeSet<String> = BTreeSet::new();
    for a in &st.areas {
        for y in &a.years {
            if let Some((p, _)) = &y.manifest {
                if !p.software.is_empty() {
                    v.insert(p.software.clone());
                }
            }
        }
        if let Some(m) = &a.mining {
            if !m.s.software.is_empty() {
                v.insert(m.s.software.clone());
            }
        }
    }
    if let Some(d) = &st.drivers {
        if !d.m.software.is_empty() {
            v.insert(d.m.software.clone());
        }
    }
    v.into_iter().collect()
}

fn set_text(values: &[u8], names: &[&str]) -> String {
    let items: Vec<String> = values.iter().map(|&v| match names.get(usize::from(v)) {
        Some(n) => format!("{v} ({n})"),
        None => v.to_string(),
    }).collect();
    format!("{{{}}}", items.join(", "))
}

fn qa_items(o: &RseiRunOptions) -> Vec<String> {
    let m9 = &o.qa.mod09;
    let mut r9 = vec![format!("cloud state \u{2208} {}", set_text(&m9.cloud_states, &["clear", "cloudy", "mixed", "not set, assumed clear"]))];
    if m9.reject_cloud_shadow {
        r9.push("no cloud shadow".into());
    }
    if m9.reject_internal_cloud {
        r9.push("no internal cloud flag".into());
    }
    if m9.reject_adjacent_cloud {
        r9.push("not adjacent to cloud".into());
    }
    const CIRRUS: [&str; 4] = ["none", "small", "average", "high"];
    r9.push(format!("cirrus \u{2264} {} ({})", m9.max_cirrus, CIRRUS.get(usize::from(m9.max_cirrus)).unwrap_or(&"?")));
    if m9.reject_internal_snow {
        r9.push("no internal snow mask".into());
    }
    if m9.reject_mod35_snow {
        r9.push("no MOD35 snow/ice flag".into());
    }
    if m9.reject_fire {
        r9.push("no fire flag".into());
    }
    if let Some(c) = &m9.land_water_classes {
        r9.push(format!("land/water class \u{2208} {}", set_text(c, &["shallow ocean", "land", "coastline/lake shore", "shallow inland water", "ephemeral water", "deep inland water", "moderate ocean", "deep ocean"])));
    }
    if let Some(a) = m9.max_aerosol {
        r9.push(format!("aerosol quantity \u{2264} {a}"));
    }
    r9.push(format!("MODLAND QA \u{2208} {}", set_text(&m9.modland, &["ideal", "less than ideal", "not produced: cloud", "not produced: other"])));
    if let Some(b) = m9.max_band_quality {
        r9.push(format!("4-bit quality of all seven bands \u{2264} {b}"));
    }
    if m9.require_atmospheric_correction {
        r9.push("atmospheric correction performed".into());
    }
    if m9.require_adjacency_correction {
        r9.push("adjacency correction performed".into());
    }
    r9.push("all seven reflectances inside the valid range (DN \u{2212}100 to 16000)".into());
    let m11 = &o.qa.mod11;
    const LST_ERR: [&str; 4] = ["\u{2264} 1 K", "\u{2264} 2 K", "\u{2264} 3 K", "> 3 K"];
    let mut r11 = vec![
        format!("mandatory QA \u{2208} {}", set_text(&m11.mandatory_qa, &["good", "other quality", "not produced: cloud", "not produced: other"])),
        format!("LST error class \u{2264} {} ({})", m11.max_lst_error, LST_ERR.get(usize::from(m11.max_lst_error)).unwrap_or(&"?")),
    ];
    if let Some(e) = m11.max_emissivity_error {
        r11.push(format!("emissivity error class \u{2264} {e}"));
    }
    r11.push(format!("DN \u{2265} {} ({} K)", m11.min_dn, fx(Some(f64::from(m11.min_dn) * 0.02), 0)));
    let r13 = format!("pixel reliability \u{2208} {}", set_text(&o.qa.mod13.reliability.iter().map(|&v| v as u8).collect::<Vec<u8>>(), &["good", "marginal", "snow/ice", "cloudy"]));
    let (p9, p13, p11) = match o.platforms {
        Platforms::Aqua => ("MYD09A1", "MYD13A1", "MYD11A2"),
        _ => ("MOD09A1", "MOD13A1", "MOD11A2"),
    };
    let mut items = vec![format!("*{p9}* (state and QC bits): {}.", r9.join("; ")), format!("*{p11}* (`QC_Day`): {}.", r11.join("; "))];
    if o.ndvi_source == NdviSource::Mod13a1 {
        items.insert(1, format!("*{p13}*: {r13}."));
    }
    items
}

fn wet_equation() -> String {
    let c = WetnessCoefficients::MODIS.coefficients;
    let mut s = String::from("WET = ");
    for (k, v) in c.iter().enumerate() {
        let v = f64::from(*v);
        let mag = rsei_report::ticks::format_fixed(v.abs(), 4);
        if k == 0 {
            s.push_str(&format!("{}{mag}\u{2009}\u{3c1}_{{{}}}", if v < 0.0 { "\u{2212}" } else { "" }, k + 1));
        } else {
            s.push_str(&format!(" {} {mag}\u{2009}\u{3c1}_{{{}}}", if v < 0.0 { "\u{2212}" } else { "+" }, k + 1));
        }
    }
    s
}

fn methods(st: &Study, prov: &Provenance) -> Section {
    let mut sec = Section::new("methods", "Data and methods");
    let (opts, differ) = run_options(st);
    let all_years: BTreeSet<i32> = st.areas.iter().flat_map(|a| a.years.iter().map(|y| y.s.year)).collect();
    let all_years: Vec<i32> = all_years.into_iter().collect();

    // --- data
    let mut data = Section::new("methods-data", "Data and study areas");
    let names: Vec<String> = st.areas.iter().map(|a| esc(&a.name)).collect();
    data.para(format!(
        "This report covers {} study area{} ({}) and the target year{} {}. Every number, table and figure below was read from the output folder `{}` as the pipelines of rsei wrote it; the report itself computes nothing beyond the multi-year means and linear trends of the yearly means.",
        st.areas.len(),
        if st.areas.len() == 1 { "" } else { "s" },
        and_list(&names),
        if all_years.len() == 1 { "" } else { "s" },
        year_span(&all_years),
        esc(&file_name(&st.out_dir)),
    ));
    if let Some(o) = opts {
        let (p9, p13, p11, plat) = match o.platforms {
            Platforms::Terra => ("MOD09A1", "MOD13A1", "MOD11A2", "Terra"),
            Platforms::Aqua => ("MYD09A1", "MYD13A1", "MYD11A2", "Aqua"),
            Platforms::Both => ("MOD09A1/MYD09A1", "MOD13A1/MYD13A1", "MOD11A2/MYD11A2", "Terra and Aqua"),
        };
        let ndvi = match o.ndvi_source {
            NdviSource::Mod13a1 => format!(" and the 16-day vegetation index {p13} (NDVI and pixel reliability, 500 m)"),
            NdviSource::Mod09a1 => String::new(),
        };
        data.para(format!(
            "The inputs are MODIS Collection 6.1 products of {plat}: the 8-day surface reflectance {p9} (bands 1\u{2013}7 and the state and QC layers, 500 m){ndvi} and the 8-day land surface temperature {p11} (`LST_Day_1km` and `QC_Day`, 1 km). {}",
            match &o.output.crs {
                None => "Results are on the native MODIS sinusoidal 500 m grid; maps are drawn in a Lambert azimuthal equal-area projection centred on each area (nearest neighbour, at the same cell size, so every drawn cell is a computed cell).".to_string(),
                Some(c) => format!("Results were warped to `{}` at {} (continuous layers {}, masks nearest).", esc(c), o.output.resolution.map_or_else(|| "500 CRS units".into(), |r| format!("{} CRS units", fx(Some(r), 0))), o.output.resampling.gdal_name()),
            }
        ));
        let lc = st.areas.iter().flat_map(|a| a.years.iter()).find_map(|y| y.manifest.as_ref().and_then(|(p, _)| p.landcover.as_ref())).map(|l| file_name(&l.path));
        let area_sources: BTreeSet<String> = st.areas.iter().filter_map(|a| a.years.iter().find_map(|y| y.manifest.as_ref().map(|(p, _)| p.area_source.clone()))).collect();
        let clip = match o.clip_rule {
            PixelRule::Centre => "cells whose centre lies inside its polygon",
            PixelRule::Coverage => "cells its polygon covers, even in part",
        };
        data.para(format!(
            "Study areas: {}; an area's cells are the {clip}.{}",
            and_list(&area_sources.iter().map(|s| short_source(s)).collect::<Vec<_>>()),
            lc.map_or_else(String::new, |l| format!(" Land cover: `{}`.", esc(&l)))
        ));
    }
    if prov.synthetic.is_empty() && prov.synthetic_files == 0 {
        let roots: Vec<String> = prov.roots.iter().take(6).map(|r| format!("`{}`", esc(&r.display().to_string()))).collect();
        data.para(format!(
            "*Data provenance.* {} input files{}; each output folder's `manifest.json` lists them with their size and SHA-256 checksum.",
            prov.inputs,
            if roots.is_empty() { String::new() } else { format!(" under {}", and_list(&roots)) }
        ));
    } else {
        let readmes: Vec<String> = prov.synthetic.iter().map(|(d, l)| format!("`{}` (\u{201c}{}\u{201d})", esc(&d.join("README.txt").display().to_string()), esc(l))).collect();
        data.blocks.push(Block::Callout(Callout::new(
            CalloutKind::Data,
            Some("Data provenance: synthetic data"),
            vec![format!(
                "The inputs are **synthetic**: {}. They were generated to exercise the method and describe a simulated scene; no statement in this report applies to a real place. {} input files are listed with their SHA-256 checksums in the manifests.",
                if readmes.is_empty() { format!("{} input files are named synthetic", prov.synthetic_files) } else { format!("the input folders are marked by {}", and_list(&readmes)) },
                prov.inputs
            )],
        )));
    }
    for d in differ {
        data.blocks.push(Block::Callout(Callout::new(CalloutKind::Warning, Some("Options differ"), vec![esc(&d)])));
    }
    sec.subsections.push(data);

    if let Some(o) = opts {
        // --- QA and composite
        let mut qa = Section::new("methods-qa", "Quality screening and growing-season composite");
        qa.para("An observation enters a composite only when it passes every quality rule of its product:".to_string());
        qa.blocks.push(Block::List(qa_items(o)));
        let c = &o.composite;
        let window = match (c.years_before, c.years_after) {
            (0, 0) => "of the target year Y only".to_string(),
            (b, a) => {
                let mut ys: Vec<String> = (1..=b).rev().map(|k| format!("Y\u{2212}{k}")).collect();
                ys.push("Y".into());
                ys.extend((1..=a).map(|k| format!("Y+{k}")));
                format!("of the years {}", and_list(&ys))
            }
        };
        let reducer = match c.reducer {
            rsei_core::composite::Reducer::Mean => "mean",
            rsei_core::composite::Reducer::Median => "median",
        };
        let order = match c.order {
            rsei_core::composite::IndexOrder::CompositeThenIndex => "each layer is composited first and the indicators are computed from the composites",
            rsei_core::composite::IndexOrder::IndexThenComposite => "the indicators are computed for every observation and then composited",
        };
        qa.para(format!(
            "The composite of target year Y is the per-pixel **{reducer}** of the valid observations dated {} {} to {} {} {window}; a pixel with {} is left empty, and {order}. The number of valid observations per pixel is kept (`obs_count.tif`).",
            c.season.start.1,
            month_name(c.season.start.0),
            c.season.end.1,
            month_name(c.season.end.0),
            if c.min_obs <= 1 { "no valid observation".to_string() } else { format!("fewer than {} valid observations", c.min_obs) }
        ));
        sec.subsections.push(qa);

        // --- indicators
        let mut ind = Section::new("methods-indicators", "Indicators");
        ind.para("With the reflectance \u{3c1}_{k} = 0.0001 \u{d7} DN of MODIS band k (1 red, 2 near infrared, 3 blue, 4 green, 5 1230\u{2013}1250 nm, 6 SWIR1, 7 SWIR2), the four indicators of RSEI are greenness, wetness, dryness and heat:".to_string());
        match o.ndvi_source {
            NdviSource::Mod13a1 => ind.para("*Greenness* is the NDVI of the 16-day vegetation index product (\u{d7} 0.0001), composited like the reflectances.".to_string()),
            NdviSource::Mod09a1 => ind.blocks.push(Block::Equation { id: Some("eq-ndvi".into()), markup: "NDVI = (\u{3c1}_{2} \u{2212} \u{3c1}_{1}) / (\u{3c1}_{2} + \u{3c1}_{1})".into() }),
        }
        ind.para("*Wetness* is the tasseled-cap wetness for MODIS of Lobser and Cohen (2007):".to_string());
        ind.blocks.push(Block::Equation { id: Some("eq-wet".into()), markup: wet_equation() });
        ind.para("*Dryness* is the mean of the soil index SI and the index-based built-up index IBI:".to_string());
        ind.blocks.push(Block::Equation { id: Some("eq-si".into()), markup: "SI = [(\u{3c1}_{6} + \u{3c1}_{1}) \u{2212} (\u{3c1}_{2} + \u{3c1}_{3})] / [(\u{3c1}_{6} + \u{3c1}_{1}) + (\u{3c1}_{2} + \u{3c1}_{3})]".into() });
        ind.blocks.push(Block::Equation {
            id: Some("eq-ibi".into()),
            markup: "IBI = [2\u{3c1}_{6}/(\u{3c1}_{6} + \u{3c1}_{2}) \u{2212} (\u{3c1}_{2}/(\u{3c1}_{2} + \u{3c1}_{1}) + \u{3c1}_{4}/(\u{3c1}_{4} + \u{3c1}_{6}))] / [2\u{3c1}_{6}/(\u{3c1}_{6} + \u{3c1}_{2}) + (\u{3c1}_{2}/(\u{3c1}_{2} + \u{3c1}_{1}) + \u{3c1}_{4}/(\u{3c1}_{4} + \u{3c1}_{6}))]".into(),
        });
        ind.blocks.push(Block::Equation { id: Some("eq-ndbsi".into()), markup: "NDBSI = (SI + IBI) / 2".into() });
        let lst = match o.lst_resample {
            rsei_core::indicators::Resample::Nearest => "each 1 km cell giving its value to the 2 \u{d7} 2 cells of 500 m it covers (nearest neighbour)",
            rsei_core::indicators::Resample::Bilinear => "bilinear interpolation between the centres of the 1 km cells",
        };
        ind.para(format!("*Heat* is the land surface temperature in \u{b0}C, LST = 0.02 \u{d7} DN \u{2212} 273.15, brought from 1 km to 500 m by {lst}."));
        let lc_classes: Vec<String> = o.water.landcover_water_classes.iter().map(u8::to_string).collect();
        let has_lc = st.areas.iter().flat_map(|a| a.years.iter()).any(|y| y.manifest.as_ref().is_some_and(|(p, _)| p.landcover.is_some()));
        ind.para(format!(
            "*Water* is masked where MNDWI = (\u{3c1}_{{4}} \u{2212} \u{3c1}_{{6}}) / (\u{3c1}_{{4}} + \u{3c1}_{{6}}) > {} (Xu 2006){}. Water pixels are excluded from the normalisation, the PCA and every statistic; a zero denominator gives an empty pixel.",
            fx(Some(f64::from(o.water.mndwi_threshold)), 2),
            if has_lc { format!(", united with the land-cover classes {} (water and wetlands)", and_list(&lc_classes)) } else { String::new() }
        ));
        sec.subsections.push(ind);

        // --- RSEI
        let mut model = Section::new("methods-rsei", "Normalisation, principal components and RSEI");
        let norm = match o.rsei.normalisation {
            Normalisation::MinMax => "over the valid pixels of the area and year (min\u{2013}max, Eq. 1 of the source study)".to_string(),
            Normalisation::Percentile { lo, hi } => format!("after clipping each indicator to its {}th and {}th percentiles over the valid pixels (the bounds used are recorded in each summary.json)", fx(Some(lo), 0), fx(Some(hi), 0)),
            Normalisation::Fixed { ndvi, wet, ndbsi, lst } => format!(
                "between fixed bounds, the same for every area and year (NDVI [{}, {}], WET [{}, {}], NDBSI [{}, {}], LST [{}, {}] \u{b0}C), values outside clipped to [0, 1]",
                fx(Some(ndvi[0]), 2),
                fx(Some(ndvi[1]), 2),
                fx(Some(wet[0]), 2),
                fx(Some(wet[1]), 2),
                fx(Some(ndbsi[0]), 2),
                fx(Some(ndbsi[1]), 2),
                fx(Some(lst[0]), 1),
                fx(Some(lst[1]), 1)
            ),
        };
        model.para(format!("Each indicator I is scaled to [0, 1] {norm}:"));
        model.blocks.push(Block::Equation { id: Some("eq-norm".into()), markup: "NI = (I \u{2212} I_{min}) / (I_{max} \u{2212} I_{min})".into() });
        model.para(format!(
            "A principal component analysis of the **covariance** matrix of the four normalised indicators (mean-centred) is fitted {}. Its first component PC1 has an arbitrary sign; the **whole** eigenvector is flipped when needed so that loading(NDVI) + loading(WET) > 0 (single loadings are never flipped). A year in which NDBSI or LST then loads positively is flagged: PC1 does not read as ecological quality there ({{ref:{}}}, shaded cells). The contribution of PC1 is \u{3bb}_{{1}} / \u{3a3}\u{3bb}. The RSEI of a pixel is",
            if o.rsei.pooled { "once on the pooled statistics of all years of an area, so that loadings and RSEI are comparable across years" } else { "separately for every area and year, as in the source study" },
            st.areas.first().map_or_else(|| "methods".to_string(), |a| format!("tab-{}-pca", a.id))
        ));
        model.blocks.push(Block::Equation { id: Some("eq-rsei0".into()), markup: "RSEI_{0} = PC1 \u{b7} (NI \u{2212} mean(NI))".into() });
        model.blocks.push(Block::Equation { id: Some("eq-rsei".into()), markup: "RSEI = (RSEI_{0} \u{2212} min RSEI_{0}) / (max RSEI_{0} \u{2212} min RSEI_{0})".into() });
        model.para("so that RSEI \u{2208} [0, 1] and higher is better. It is graded in five levels of 0.2 \u{2014} poor [0, 0.2), fair [0.2, 0.4), moderate [0.4, 0.6), good [0.6, 0.8) and excellent [0.8, 1] \u{2014} and in ten classes of 0.1; areas are pixel counts times the pixel area.".to_string());
        sec.subsections.push(model);
    }

    // --- mining
    let minings: Vec<(&Area, &MiningRun)> = st.areas.iter().filter_map(|a| a.mining.as_ref().map(|m| (a, m))).collect();
    if let Some((_, m)) = minings.iter().find(|(_, m)| m.manifest.is_some()) {
        if let Some(man) = &m.manifest {
            let mo = &man.options;
            let mut ms = Section::new("methods-mining", "Mining impact");
            let mines = man.mines.as_ref().map_or_else(String::new, |s| {
                format!(
                    "Mine polygons come from `{}`{}; ",
                    esc(&file_name(&s.path)),
                    s.filter.as_ref().map_or_else(String::new, |f| format!(" (features where `{}`)", esc(f)))
                )
            });
            let rule = match mo.rule {
                PixelRule::Centre => "a pixel belongs to a mine or ring when its centre lies inside (the ArcGIS rule)",
                PixelRule::Coverage => "pixels are weighted by the exact fraction of their area inside each mine or ring",
            };
            let breaks: Vec<String> = mo.size_breaks_km2.iter().map(|b| fx(Some(*b), 2)).collect();
            ms.para(format!(
                "{mines}areas and distances are measured in the equal-area projection `{}`, and {rule}. *Mines vs city*: per year, the mean and distribution of RSEI over the pixels inside any mine against the whole area, and their absolute difference. *Distance gradient*: rings around the union of the mines in steps of {} km up to {} km (ring 0 = inside the mines), clipped to the area, water excluded; the multi-year mean per ring is fitted by a least-squares polynomial of degree {} in distance, and the distance of the highest ring mean (peak) and the first turning point of the fitted curve are reported. *Mine size*: mean RSEI per mine and year in the size classes with breaks {} km\u{b2} (box plots: quartiles by linear interpolation, whiskers at 1.5 \u{d7} IQR). *Latitude profile*: bands of {}\u{b0}. Densities are Gaussian kernel estimates on {} points of [0, 1].",
                esc(&mo.equal_area_crs),
                fx(Some(mo.ring_step_km), 1),
                fx(Some(mo.ring_max_km), 0),
                mo.trend_degree,
                and_list(&breaks),
                fx(Some(mo.lat_band_deg), 2),
                mo.kde_points
            ));
            sec.subsections.push(ms);
        }
    }

    // --- drivers
    if let Some(d) = &st.drivers {
        let o = &d.m.options;
        let mut ds = Section::new("methods-drivers", "Drivers, correlation and random forest");
        ds.para(format!(
            "For the year {}, RSEI and the drivers are brought onto one grid of {} m cells in `{}`, aligned on multiples of the cell size (cells of an area: {} rule). RSEI is resampled by {} interpolation; each driver raster by its own resampling (monthly rasters are summed to annual totals). A pixel enters the analysis only where RSEI and every driver are valid.",
            d.m.year,
            fx(Some(o.resolution_m), 0),
            esc(&o.crs),
            esc(&o.clip_rule),
            esc(&o.rsei_resampling.to_lowercase())
        ));
        if let Some(first) = d.areas.first() {
            let mut t = TableBlock::new("tab-drivers", format!("The drivers and where they come from ({}).", esc(&first.s.area)), vec![TCell::head("Driver"), TCell::head("Source"), TCell::head("Files"), TCell::head("Resampling")]);
            for di in &first.s.drivers {
                let files = match di.files.len() {
                    0 => "\u{2013}".to_string(),
                    1 => file_name(&di.files[0]),
                    n if di.source == "raster" => format!("{} files summed ({} \u{2026} {})", n, file_name(&di.files[0]), file_name(&di.files[n - 1])),
                    _ => di.files.iter().map(|f| file_name(f)).collect::<Vec<_>>().join(", "),
                };
                t.push(vec![TCell::head(di.name.clone()), TCell::text(di.source.clone()), TCell::text(files), TCell::text(di.resampling.clone().unwrap_or_else(|| "\u{2013}".into()).to_lowercase())]);
            }
            if let Some(w) = first.s.window_cells {
                t.notes.push(format!(
                    "DisM: Euclidean distance (m) from each cell centre to the nearest mine cell{} (mines up to {} km beyond the area count; mine cells by the {} rule). MineA: percentage of mine area in a moving {} km \u{d7} {} km window centred on each cell ({w} \u{d7} {w} cells, the cells of its edge weighted by the part of them inside, so the window covers exactly its area). Slope: degrees, Horn's method on the projected DEM.",
                    if d.m.request.barrier.is_some() { ", going round the barrier lines" } else { "" },
                    fx(Some(o.search_margin_km), 0),
                    esc(&o.mine_cells),
                    fx(first.s.window_km_effective, 0),
                    fx(first.s.window_km_effective, 0)
                ));
            }
            ds.blocks.push(Block::Table(t));
        }
        ds.para(format!(
            "Pearson's r between RSEI and each driver is computed over the complete pixels, with a two-sided p-value (Student's t, n \u{2212} 2 degrees of freedom). A random forest regression of RSEI on the drivers (R randomForest semantics; Breiman 2001, Liaw and Wiener 2002) is fitted per area on a random {} % of the pixels (seed {}) with ntree = {}, mtry = {} and nodesize = {}; bootstrap samples of size n with replacement. *% Var explained* = 100 (1 \u{2212} MSE_{{OOB}} / var(y)) from the out-of-bag predictions; on the remaining {} %, R\u{b2} = 1 \u{2212} SS_{{res}}/SS_{{tot}}, RMSE and MAE. *%IncMSE* is the permutation importance as R scales it: the mean over the trees of the increase of the out-of-bag MSE when the driver is permuted, divided by its standard error. Drivers are ranked by %IncMSE within each area (1 = most important) and the ranks are averaged over the areas.",
            fx(Some(100.0 * o.train_fraction), 0),
            o.seed,
            o.ntree,
            o.mtry,
            o.nodesize,
            fx(Some(100.0 * (1.0 - o.train_fraction)), 0)
        ));
        if o.ntree != 1000 {
            ds.blocks.push(Block::Callout(Callout::new(CalloutKind::Note, None, vec![format!("The forests have {} trees; the method's default (and the source study's) is 1000.", o.ntree)])));
        }
        sec.subsections.push(ds);
    }

    // --- contents and software
    let mut sw = Section::new("methods-software", "Software, provenance and contents of this report");
    let versions = software_versions(st);
    sw.para(format!(
        "Computed with {}. Every output folder holds a `manifest.json` with the options used, the inputs (with SHA-256 checksums) and the outputs; a folder without it is incomplete. The same inputs and options give byte-identical outputs whatever the number of threads, and this page carries no date, so the same folder gives the same page.",
        and_list(&versions.iter().map(|v| format!("`{}`", esc(v))).collect::<Vec<_>>())
    ));
    let mut contents = Vec::new();
    for a in &st.areas {
        let years: Vec<i32> = a.years.iter().map(|y| y.s.year).collect();
        let mut parts = vec![format!("RSEI {}", year_span(&years))];
        parts.push(if a.mining.is_some() { "mining impact".into() } else { "no mining analysis (`rsei mining` writes it)".into() });
        let drv = st.drivers.as_ref().and_then(|d| d.areas.iter().find(|x| x.s.area == a.name)).map(|x| x.s.year);
        parts.push(match drv {
            Some(y) => format!("drivers {y}"),
            None => "no driver analysis (`rsei drivers` writes it)".into(),
        });
        contents.push(format!("**{}**: {}.", esc(&a.name), parts.join("; ")));
    }
    sw.blocks.push(Block::List(contents));
    for n in &st.notes {
        sw.blocks.push(Block::Callout(Callout::new(CalloutKind::Warning, None, vec![esc(n)])));
    }
    sec.subsections.push(sw);
    sec
}

fn caption_years(a: &Area) -> Vec<i32> {
    a.years.iter().map(|y| y.s.year).collect()
}

fn qa_table(a: &Area) -> TableBlock {
    let products = ["MOD09A1", "MOD13A1", "MOD11A2"];
    let mut head = vec![TCell::head("Year"), TCell::head("Pixels"), TCell::head("Water"), TCell::head("Area (km²)")];
    head.extend(products.iter().map(|p| TCell::head(*p)));
    head.push(TCell::head("Main MOD09A1 rejections"));
    let mut t = TableBlock::new(
        format!("tab-{}-qa", a.id),
        format!("Pixels entering RSEI, water pixels, assessed area, the share of valid observations per product (%) and the rules rejecting most MOD09A1 observations (% of them), {}.", esc(&a.name)),
        head,
    );
    for y in &a.years {
        let mut row = vec![TCell::head(y.s.year.to_string()), TCell::int(y.s.n_pixels as i64), TCell::int(y.s.n_water as i64), TCell::num(Some(y.s.grades.area_km2), 1)];
        for p in products {
            let q = y.s.qa.iter().find(|q| q.product.ends_with(&p[1..]));
            row.push(TCell::num(q.and_then(|q| (q.report.total > 0).then(|| 100.0 * q.report.valid as f64 / q.report.total as f64)), 1));
        }
        let main = y.s.qa.iter().find(|q| q.product.ends_with("D09A1")).map(|q| {
            let mut r: Vec<(u64, &str)> = q.report.rejected.iter().zip(QaRule::ALL.iter()).filter(|(&n, _)| n > 0).map(|(&n, r)| (n, r.name())).collect();
            r.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(y.1)));
            r.iter().take(3).map(|(n, name)| format!("{} {}", rule_label(name), fx(Some(100.0 * *n as f64 / q.report.total.max(1) as f64), 1))).collect::<Vec<_>>().join(", ")
        });
        row.push(TCell::text(main.filter(|s| !s.is_empty()).unwrap_or_else(|| "\u{2013}".into())));
        t.push(row);
    }
    t.notes.push("Valid: observations of the composite window passing every rule of the product ({ref:methods-qa}); an observation failing several rules counts under each.".into());
    t
}

/// A QA rule's name for a table: words, with the acronyms in capitals.
fn rule_label(name: &str) -> String {
    name.split('_')
        .map(|w| match w {
            "modland" | "qa" | "lst" | "mod35" => w.to_ascii_uppercase(),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn grades_table(a: &Area) -> TableBlock {
    let mut head = vec![TCell::head("Year"), TCell::head("Mean"), TCell::head("Std")];
    head.extend(rsei_report::color::RSEI_GRADE_NAMES.iter().map(|g| TCell::head(*g)));
    let mut t = TableBlock::new(format!("tab-{}-grades", a.id), format!("Mean and standard deviation of RSEI and the area of each grade in km\u{b2} (share of the assessed area in %), {}.", esc(&a.name)), head);
    for y in &a.years {
        let mut row = vec![TCell::head(y.s.year.to_string()), TCell::num(y.s.rsei_mean, 3), TCell::num(y.s.rsei_std, 3)];
        for g in &y.s.grades.grades {
            row.push(TCell::num_text(format!("{} ({})", fx(Some(g.area_km2), 1), fx(Some(100.0 * g.share), 1))));
        }
        t.push(row);
    }
    t.notes.push("Grades: poor [0, 0.2), fair [0.2, 0.4), moderate [0.4, 0.6), good [0.6, 0.8), excellent [0.8, 1]. Std: standard deviation of the pixels.".into());
    t
}

/// Whether the oriented PC1 gives indicator `k` the "wrong" sign (NDBSI or LST positive).
fn wrong_sign(k: usize, v: f64) -> bool {
    k >= 2 && v > 0.0
}

/// The PCA of one area in the layout of the paper's Table A1 (indicators × years), transposed
/// (years × indicators) beyond 12 years.
fn pca_table(a: &Area) -> TableBlock {
    let id = format!("tab-{}-pca", a.id);
    let caption = format!(
        "The first principal component of {}: PC1 loadings, eigenvalues \u{3bb}_{{1}}\u{2026}\u{3bb}_{{4}} (\u{d7} 10^{{\u{2212}3}}) and the contribution of PC1 (%) per year (layout of Table A1 of Zeng et al. 2024).",
        esc(&a.name)
    );
    let warned_year = |y: &YearRun| !y.s.model.warnings.is_empty();
    let mut t;
    if a.years.len() <= 12 {
        let mut head = vec![TCell::head("Index")];
        head.extend(a.years.iter().map(|y| TCell::head(if warned_year(y) { format!("{}\u{2020}", y.s.year) } else { y.s.year.to_string() })));
        t = TableBlock::new(id, caption, head);
        for (k, name) in INDICATORS.iter().enumerate() {
            let mut row = vec![TCell::head(*name)];
            row.extend(a.years.iter().map(|y| TCell::num(Some(y.s.model.pc1[k]), 3).warned(wrong_sign(k, y.s.model.pc1[k]))));
            t.push(row);
        }
        t.rule();
        for k in 0..4 {
            let mut row = vec![TCell::head(format!("\u{3bb}{}", ['\u{2081}', '\u{2082}', '\u{2083}', '\u{2084}'][k]))];
            row.extend(a.years.iter().map(|y| TCell::num(Some(1e3 * y.s.model.eigenvalues[k]), 2)));
            t.push(row);
        }
        t.rule();
        let mut row = vec![TCell::head("Contribution (%)")];
        row.extend(a.years.iter().map(|y| TCell::num(Some(100.0 * y.s.model.pc1_contribution), 2)));
        t.push(row);
    } else {
        let mut head = vec![TCell::head("Year")];
        head.extend(INDICATORS.iter().map(|n| TCell::head(*n)));
        head.extend(["\u{3bb}\u{2081}", "\u{3bb}\u{2082}", "\u{3bb}\u{2083}", "\u{3bb}\u{2084}"].map(TCell::head));
        head.push(TCell::head("Contribution (%)"));
        t = TableBlock::new(id, caption, head);
        for y in &a.years {
            let mut row = vec![TCell::head(if warned_year(y) { format!("{}\u{2020}", y.s.year) } else { y.s.year.to_string() })];
            row.extend((0..4).map(|k| TCell::num(Some(y.s.model.pc1[k]), 3).warned(wrong_sign(k, y.s.model.pc1[k]))));
            row.extend((0..4).map(|k| TCell::num(Some(1e3 * y.s.model.eigenvalues[k]), 2)));
            row.push(TCell::num(Some(100.0 * y.s.model.pc1_contribution), 2));
            t.push(row);
        }
    }
    let flipped: Vec<String> = a.years.iter().filter(|y| y.s.model.flipped).map(|y| y.s.year.to_string()).collect();
    let pooled = a.years.iter().any(|y| y.s.model.pooled);
    t.notes.push(format!(
        "Shaded: NDBSI or LST loading positively after orientation. {}{}",
        if flipped.is_empty() { "PC1 was used with the sign the eigen-decomposition gave in every year.".to_string() } else { format!("PC1 was flipped as a whole in {}.", and_list(&flipped)) },
        if pooled { " One PCA pooled over all years." } else { "" }
    ));
    for y in a.years.iter().filter(|y| warned_year(y)) {
        for w in &y.s.model.warnings {
            t.notes.push(format!("\u{2020} {}: {}", y.s.year, esc(w)));
        }
    }
    t
}

fn panel_label(k: usize, text: &str) -> String {
    format!("({}) {}", char::from(b'a' + (k % 26) as u8), esc(text))
}

fn mining_subsection(a: &Area, m: &MiningRun) -> Result<Section> {
    let mut s = Section::new(format!("{}-mining", a.id), "Mining impact");
    let name = esc(&a.name);
    let fig = |stem: &str| -> Result<Option<String>> { Ok(read_svg(&m.dir.join(format!("{stem}.svg")))?) };
    let years = &m.s.years;
    let first_last = |key: &str| -> (Option<f64>, Option<f64>) {
        (m.per_year.first().and_then(|r| num(r, key)), m.per_year.last().and_then(|r| num(r, key)))
    };
    let (mines0, mines1) = first_last("mines_mean");
    let (city0, city1) = first_last("city_mean");
    s.para(format!(
        "{} of the {} mine polygons read lie in {name} ({} km\u{b2}, {} % of its {} km\u{b2}). Mean RSEI inside the mines was {} in {} and {} in {}, against {} and {} over the whole area; the absolute difference averaged {} over {} year{}.",
        m.s.mines_in_area,
        m.s.mines_read,
        fx(Some(m.s.mines_area_km2), 2),
        fx((m.s.area_km2 > 0.0).then(|| 100.0 * m.s.mines_area_km2 / m.s.area_km2), 2),
        fx(Some(m.s.area_km2), 0),
        fx(mines0, 3),
        years.first().map_or_else(String::new, i32::to_string),
        fx(mines1, 3),
        years.last().map_or_else(String::new, i32::to_string),
        fx(city0, 3),
        fx(city1, 3),
        fx(m.s.mean_abs_diff, 3),
        years.len(),
        if years.len() == 1 { "" } else { "s" }
    ));
    let mut panels = Vec::new();
    for (k, (stem, label)) in [("fig_means", "means per year"), ("fig_density", "distributions")].iter().enumerate() {
        if let Some(svg) = fig(stem)? {
            panels.push(Panel { svg, label: Some(panel_label(k, label)) });
        }
    }
    if !panels.is_empty() {
        let n = panels.len();
        let mut f = Figure::panels(
            format!("fig-{}-mines", a.id),
            panels,
            format!(
                "Mines against the whole area, {name}: {}the RSEI density inside the mines and over the area in the first (dashed) and last (filled) year (cf. Fig. 4b\u{2013}c of Zeng et al. 2024).",
                if n == 2 { "(a) mean RSEI per year and their absolute difference; (b) " } else { "" }
            ),
        );
        f.columns = Some(1);
        s.blocks.push(Block::Figure(f));
    }
    if !m.per_year.is_empty() {
        let mut t = TableBlock::new(
            format!("tab-{}-mines", a.id),
            format!("Mean RSEI (\u{b1} std of the pixels) inside the mines and over the whole area, {name}."),
            vec![TCell::head("Year"), TCell::head("Mine pixels"), TCell::head("Mines"), TCell::head("Area pixels"), TCell::head("Whole area"), TCell::head("|Difference|")],
        );
        for r in &m.per_year {
            let pm = |k1: &str, k2: &str| TCell::num_text(format!("{} \u{b1} {}", fx(num(r, k1), 3), fx(num(r, k2), 3)));
            t.push(vec![
                TCell::head(num(r, "year").map_or_else(String::new, |y| format!("{y:.0}"))),
                TCell::num(num(r, "mines_n"), 0),
                pm("mines_mean", "mines_std"),
                TCell::num(num(r, "city_n"), 0),
                pm("city_mean", "city_std"),
                TCell::num(num(r, "abs_diff"), 3),
            ]);
        }
        s.blocks.push(Block::Table(t));
    }
    if let Some(svg) = fig("fig_distance")? {
        let turning = match (m.s.first_turning_point_km, &m.s.first_turning_kind) {
            (Some(d), Some(k)) => format!("; the fitted curve has its first turning point ({}) at {} km", esc(k), fx(Some(d), 1)),
            _ => String::new(),
        };
        let ring0 = m.rings.iter().find(|r| num(r, "ring") == Some(0.0)).and_then(|r| num(r, "multi_year_mean"));
        s.para(format!(
            "The multi-year mean RSEI is {} inside the mines and highest, {}, at {} km from them ({{ref:fig-{}-distance}}){turning}; the polynomial trend explains R\u{b2} = {} of the variation of the ring means.",
            fx(ring0, 3),
            fx(m.s.peak_mean, 3),
            fx(m.s.peak_distance_km, 0),
            a.id,
            fx(m.s.trend_r2, 3)
        ));
        s.blocks.push(Block::Figure(Figure::single(
            format!("fig-{}-distance", a.id),
            svg,
            format!("Mean RSEI by distance to the mines, {name}, {}: multi-year mean per 1 km ring (0 = inside the mines) \u{b1} the mean pixel standard deviation, the fitted trend, the peak and the first turning point (cf. Fig. 5 of Zeng et al. 2024).", year_span(years)),
        )));
    }
    if let Some(svg) = fig("fig_size_classes")? {
        s.blocks.push(Block::Figure(Figure::single(
            format!("fig-{}-sizes", a.id),
            svg,
            format!("Mean RSEI of the mines by size class (km\u{b2}, n = number of mines) and year, {name}: box plots of the mines' yearly means (cf. Fig. 6 of Zeng et al. 2024)."),
        )));
    }
    if let Some(svg) = fig("fig_latitude")? {
        s.blocks.push(Block::Figure(Figure::single(
            format!("fig-{}-latitude", a.id),
            svg,
            format!("Mean RSEI by latitude band (multi-year mean \u{b1} mean pixel standard deviation) and the number of mines per band (by centroid), {name} (cf. Fig. 3c\u{2013}d of Zeng et al. 2024)."),
        )));
    }
    if let Some(svg) = fig("map_rsei_mines")? {
        let mut f = Figure::single(
            format!("fig-{}-mine-map", a.id),
            svg,
            format!("RSEI of {name} in {} in ten classes of 0.1 with the mine outlines and the boundary of the area (cf. Fig. 4a of Zeng et al. 2024).", years.last().map_or_else(String::new, i32::to_string)),
        );
        f.wide = false;
        s.blocks.push(Block::Figure(f));
    }
    Ok(s)
}

fn drivers_subsection(a: &Area, da: &DriverArea) -> Result<Section> {
    let mut s = Section::new(format!("{}-drivers", a.id), format!("Drivers, {}", da.s.year));
    let name = esc(&a.name);
    let f = &da.s.forest;
    let mut imp: Vec<&ImportanceFile> = f.importance.iter().filter(|i| i.inc_mse.is_some()).collect();
    imp.sort_by(|x, y| y.inc_mse.unwrap_or(f64::NAN).total_cmp(&x.inc_mse.unwrap_or(f64::NAN)));
    let top: Vec<String> = imp.iter().take(3).map(|i| format!("{} ({} %)", esc(&i.driver), fx(i.inc_mse, 1))).collect();
    let mut strongest: Vec<&PearsonFile> = da.s.pearson.iter().filter(|p| p.r.is_some()).collect();
    strongest.sort_by(|x, y| y.r.unwrap_or(0.0).abs().total_cmp(&x.r.unwrap_or(0.0).abs()));
    let corr: Vec<String> = strongest.iter().take(3).map(|p| format!("{} (r = {})", esc(&p.driver), fx(p.r, 2))).collect();
    s.para(format!(
        "{} of the {} cells of {name} on the {} m driver grid have RSEI and every driver. RSEI correlates most strongly with {} ({{ref:tab-{}-drivers}}). The random forest explains {} % of the variance out of bag; on the {} validation pixels R\u{b2} = {}, RMSE = {} and MAE = {}{}. The most important drivers by %IncMSE are {}.",
        da.s.n_pixels,
        da.s.cells_inside,
        fx(Some(da.s.resolution_m), 0),
        and_list(&corr),
        a.id,
        fx(Some(f.var_explained_pct), 1),
        f.n_valid,
        fx(Some(f.r2), 3),
        fx(Some(f.rmse), 3),
        fx(Some(f.mae), 3),
        if da.dir.join("fig_validation.svg").is_file() { format!(" ({{ref:fig-{}-forest}})", a.id) } else { String::new() },
        and_list(&top)
    ));
    let mut t = TableBlock::new(
        format!("tab-{}-drivers", a.id),
        format!("Pearson correlation of RSEI with each driver (n = {} pixels) and the random-forest importance, {name}, {}.", da.s.n_pixels, da.s.year),
        vec![TCell::head("Driver"), TCell::head("r"), TCell::head("p"), TCell::head("%IncMSE"), TCell::head("IncNodePurity"), TCell::head("Rank")],
    );
    for p in &da.s.pearson {
        let i = f.importance.iter().find(|i| i.driver == p.driver);
        let info = da.s.drivers.iter().find(|x| x.name == p.driver);
        let mut head = TCell::head(p.driver.clone());
        if let Some(n) = &p.note {
            head = head.with_title(n.clone());
        }
        t.push(vec![
            head,
            TCell::num(p.r, 3),
            TCell::num_text(p_text(p.p_value)),
            TCell::num(i.and_then(|i| i.inc_mse), 1).warned(info.is_some_and(|x| x.constant || !x.in_forest)),
            TCell::num(i.and_then(|i| i.inc_node_purity), 3),
            rank_cell(i.and_then(|i| i.rank)),
        ]);
    }
    let out_of_forest: Vec<String> = da.s.drivers.iter().filter(|x| !x.in_forest || x.constant).map(|x| esc(&x.name)).collect();
    if !out_of_forest.is_empty() {
        t.notes.push(format!("Kept out of the forest (constant over the complete pixels): {}.", and_list(&out_of_forest)));
    }
    let undefined: Vec<String> = da.s.pearson.iter().filter_map(|p| p.note.as_ref().map(|n| format!("{}: {}", esc(&p.driver), esc(n)))).collect();
    t.notes.extend(undefined);
    let partial: Vec<String> = da.s.drivers.iter().filter(|x| x.valid_inside < x.cells_inside).map(|x| format!("{} ({} of {})", esc(&x.name), x.valid_inside, x.cells_inside)).collect();
    if !partial.is_empty() {
        t.notes.push(format!("Drivers without a value in some cells of the area: {}.", partial.join(", ")));
    }
    t.notes.push(format!("Random forest: ntree = {}, mtry = {}, nodesize = {}, seed {}, {} training and {} validation pixels; out-of-bag MSE {}.", f.ntree, f.mtry, f.nodesize, f.seed, f.n_train, f.n_valid, fx(Some(f.oob_mse), 5)));
    s.blocks.push(Block::Table(t));
    let mut panels = Vec::new();
    for (k, (stem, label)) in [("fig_importance", "importance"), ("fig_validation", "validation")].iter().enumerate() {
        if let Some(svg) = read_svg(&da.dir.join(format!("{stem}.svg")))? {
            panels.push(Panel { svg, label: Some(panel_label(k, label)) });
        }
    }
    // maps of the prediction and the residual (PNG at twice the CSS size, as the driver analysis draws them)
    let mut maps = Vec::new();
    for (k, (file, label)) in [("map_predicted.png", "predicted RSEI"), ("map_residual.png", "residual")].iter().enumerate() {
        let p = da.dir.join(file);
        if let Ok(bytes) = std::fs::read(&p) {
            match rsei_report::html::png_as_svg(&bytes, 2.0, &format!("{label}, {} {}", a.name, da.s.year)) {
                Some(svg) => maps.push(Panel { svg, label: Some(panel_label(k, label)) }),
                None => return Err(StudyReportError::BadFile { path: p, reason: "not a PNG image".into() }.into()),
            }
        }
    }
    match panels.len() {
        0 => s.blocks.push(Block::Callout(Callout::new(CalloutKind::Note, None, vec![format!("The driver analysis wrote no figures for {name} (run without `--no-charts` to have them).")]))),
        n => {
            let mut fig = Figure::panels(
                format!("fig-{}-forest", a.id),
                panels,
                format!(
                    "Random forest of {name}, {}: {}predicted against observed RSEI on the validation pixels with the 1:1 line (cf. Fig. 7c, 7g of Zeng et al. 2024).",
                    da.s.year,
                    if n == 2 { "(a) %IncMSE of each driver; (b) " } else { "" }
                ),
            );
            fig.columns = Some(1);
            s.blocks.push(Block::Figure(fig));
        }
    }
    if !maps.is_empty() {
        let n = maps.len();
        let mut fig = Figure::panels(
            format!("fig-{}-prediction", a.id),
            maps,
            format!(
                "Random forest of {name}, {}: {} (cf. Fig. 7d, 7f of Zeng et al. 2024).",
                da.s.year,
                if n == 2 { "(a) RSEI predicted wherever the drivers are valid; (b) the residual, observed \u{2212} predicted, where RSEI is valid" } else { "map of the prediction or of the residual" }
            ),
        );
        fig.wide = n == 2;
        s.blocks.push(Block::Figure(fig));
    }
    Ok(s)
}

fn area_section(a: &Area, st: &Study, opts: &ReportOptions) -> Result<Section> {
    let mut s = Section::new(a.id.clone(), a.name.clone());
    s.class = Some("area".into());
    s.page_break = true;
    let name = esc(&a.name);
    let years = caption_years(a);
    let first = a.years.first();
    let last = a.years.last();
    let means: Vec<(i32, f64)> = a.years.iter().filter_map(|y| y.s.rsei_mean.map(|m| (y.s.year, m))).collect();
    let trend = linear_trend(&means);
    s.para(format!(
        "{} pixels of 500 m enter the RSEI of {name} ({} km\u{b2} assessed, water excluded). Mean RSEI was {} in {} and {} in {}{}.",
        first.map_or(0, |y| y.s.n_pixels),
        fx(first.map(|y| y.s.grades.area_km2), 0),
        fx(first.and_then(|y| y.s.rsei_mean), 3),
        first.map_or_else(String::new, |y| y.s.year.to_string()),
        fx(last.and_then(|y| y.s.rsei_mean), 3),
        last.map_or_else(String::new, |y| y.s.year.to_string()),
        match trend {
            Some(t) => format!("; the linear trend of the yearly means is {} per decade (R\u{b2} = {}, {}, {} years)", fx(Some(t.per_decade), 3), fx(Some(t.r2), 2), p_phrase(t.p_value), t.n),
            None => String::new(),
        }
    ));

    // --- maps
    let mut maps = Section::new(format!("{}-maps", a.id), "Spatial pattern");
    let map_years: Vec<&YearRun> = match (first, last) {
        (Some(f), Some(l)) if f.s.year != l.s.year => vec![f, l],
        (Some(f), _) => vec![f],
        _ => Vec::new(),
    };
    let mut panels = Vec::new();
    let mut failed = Vec::new();
    for (k, y) in map_years.iter().enumerate() {
        match map_svg(y, opts.map_max_px) {
            Ok(svg) => panels.push(Panel { svg, label: Some(panel_label(k, &y.s.year.to_string())) }),
            Err(e) => failed.push(format!("{}: {}", y.s.year, esc(&format!("{e:#}")))),
        }
    }
    if !panels.is_empty() {
        let n = panels.len();
        let mut f = Figure::panels(
            format!("fig-{}-maps", a.id),
            panels,
            format!(
                "RSEI grades of {name}{}: poor (red) to excellent (dark green); water in blue, outside the area or without data in grey (cf. Fig. 3a\u{2013}b of Zeng et al. 2024).",
                if n == 2 { format!(" in (a) {} and (b) {}", map_years[0].s.year, map_years[1].s.year) } else { format!(" in {}", map_years[0].s.year) }
            ),
        );
        f.wide = n == 2;
        maps.blocks.push(Block::Figure(f));
    }
    if !failed.is_empty() {
        maps.blocks.push(Block::Callout(Callout::new(CalloutKind::Warning, Some("Maps not drawn"), failed)));
    }
    s.subsections.push(maps);

    // --- change over time
    let mut time = Section::new(format!("{}-time", a.id), "Change over time");
    if let Some(c) = series_chart(a) {
        time.blocks.push(Block::Figure(Figure::single(
            format!("fig-{}-series", a.id),
            svg(&c, CHART_W, CHART_H)?,
            format!("Mean RSEI of {name} per year, {}; the band spans \u{b1} one standard deviation of the pixels (clipped to [0, 1]).", year_span(&years)),
        )));
    }
    if let Some((c, kde)) = distribution_chart(a) {
        time.blocks.push(Block::Figure(Figure::single(
            format!("fig-{}-distribution", a.id),
            svg(&c, CHART_W, CHART_H)?,
            format!(
                "Pixel distribution of RSEI per year, {name}: {} (cf. Fig. 3e of Zeng et al. 2024).",
                if kde { "Gaussian kernel densities over the whole area, from the mining analysis" } else { "share of the pixels in each class of 0.1 divided by the class width" }
            ),
        )));
    }
    time.blocks.push(Block::Table(grades_table(a)));
    s.subsections.push(time);

    // --- PCA and QA
    let mut model = Section::new(format!("{}-pca", a.id), "Principal components and data quality");
    let contr: Vec<f64> = a.years.iter().map(|y| 100.0 * y.s.model.pc1_contribution).collect();
    let cmin = contr.iter().copied().fold(f64::INFINITY, f64::min);
    let cmax = contr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let warned: Vec<String> = a.years.iter().filter(|y| !y.s.model.warnings.is_empty()).map(|y| y.s.year.to_string()).collect();
    model.para(format!(
        "PC1 carries {} % of the variance of the four normalised indicators ({{ref:tab-{}-pca}}). {}",
        if contr.len() > 1 { format!("{}\u{2013}{}", fx(Some(cmin), 1), fx(Some(cmax), 1)) } else { fx(contr.first().copied(), 1) },
        a.id,
        if warned.is_empty() { "In every year NDVI and WET load positively and NDBSI and LST negatively, so RSEI reads as ecological quality.".to_string() } else { format!("**In {} the orientation of PC1 is questionable** (see the notes of the table); RSEI of those years should be read with care.", and_list(&warned)) }
    ));
    model.blocks.push(Block::Table(pca_table(a)));
    model.blocks.push(Block::Table(qa_table(a)));
    s.subsections.push(model);

    if let Some(m) = &a.mining {
        s.subsections.push(mining_subsection(a, m)?);
    }
    if let Some(d) = &st.drivers {
        if let Some(da) = d.areas.iter().find(|x| x.s.area == a.name) {
            s.subsections.push(drivers_subsection(a, da)?);
        }
    }
    if let Some(b) = area_dir(a).map(|d| crate::analyses::report::area_subsection(d, &a.id, &a.name)).transpose()?.flatten() {
        s.subsections.push(b);
    }

    // --- notes
    let mut notes: Vec<String> = Vec::new();
    for y in &a.years {
        notes.extend(y.s.warnings.iter().map(|w| format!("RSEI {}: {}", y.s.year, esc(w))));
    }
    if let Some(m) = &a.mining {
        notes.extend(m.s.notes.iter().map(|n| format!("Mining: {}", esc(n))));
    }
    if let Some(da) = st.drivers.as_ref().and_then(|d| d.areas.iter().find(|x| x.s.area == a.name)) {
        notes.extend(da.s.notes.iter().map(|n| format!("Drivers: {}", esc(n))));
    }
    if !notes.is_empty() {
        let mut ns = Section::new(format!("{}-notes", a.id), "Notes and warnings");
        ns.blocks.push(Block::List(notes));
        s.subsections.push(ns);
    }
    Ok(s)
}

fn across_section(st: &Study) -> Result<Option<Section>> {
    let mut s = Section::new("across", "Results across study areas");
    s.page_break = true;
    let years: BTreeSet<i32> = st.areas.iter().flat_map(|a| a.years.iter().map(|y| y.s.year)).collect();
    let years: Vec<i32> = years.into_iter().collect();
    // summary table: years as rows, areas as columns, then mean and trend
    let mut head = vec![TCell::head("Year")];
    head.extend(st.areas.iter().map(|a| TCell::head(a.name.clone())));
    let mut t = TableBlock::new("tab-summary", "Mean RSEI per study area and year, the multi-year mean and the linear trend of the yearly means.", head);
    for &y in &years {
        let mut row = vec![TCell::head(y.to_string())];
        row.extend(st.areas.iter().map(|a| TCell::num(a.years.iter().find(|r| r.s.year == y).and_then(|r| r.s.rsei_mean), 3)));
        t.push(row);
    }
    let trends: Vec<Option<Trend>> = st.areas.iter().map(|a| linear_trend(&a.years.iter().filter_map(|y| y.s.rsei_mean.map(|m| (y.s.year, m))).collect::<Vec<_>>())).collect();
    t.rule();
    let mut row = vec![TCell::head("Multi-year mean")];
    row.extend(st.areas.iter().map(|a| TCell::num(mean_of(&a.years.iter().filter_map(|y| y.s.rsei_mean).collect::<Vec<_>>()), 3)));
    t.push(row);
    let mut row = vec![TCell::head("Trend (per decade)")];
    row.extend(trends.iter().map(|t| TCell::num(t.map(|t| t.per_decade), 3)));
    t.push(row);
    let mut row = vec![TCell::head("R² of the trend")];
    row.extend(trends.iter().map(|t| TCell::num(t.map(|t| t.r2), 2)));
    t.push(row);
    let mut row = vec![TCell::head("p of the trend")];
    row.extend(trends.iter().map(|t| t.map_or_else(TCell::missing, |t| TCell::num_text(p_text(Some(t.p_value))))));
    t.push(row);
    t.notes.push("Trend: least-squares slope of the yearly means against the year, times ten; p: two-sided test of the slope (Pearson's r of year and mean, n \u{2212} 2 degrees of freedom). At least three years are needed.".into());
    s.blocks.push(Block::Table(t));
    if st.areas.len() > 1 {
        if let Some(c) = all_series_chart(&st.areas) {
            s.blocks.push(Block::Figure(Figure::single("fig-all-series", svg(&c, CHART_W, CHART_H)?, format!("Mean RSEI per year of every study area, {}.", year_span(&years)))));
        }
    }
    // random forests of all areas
    if let Some(d) = &st.drivers {
        let mut t = TableBlock::new(
            "tab-rf",
            format!("Random forests per study area, {}: pixels, out-of-bag variance explained and accuracy on the validation pixels.", d.m.year),
            ["Study area", "Pixels", "Training", "Validation", "% Var explained", "R²", "RMSE", "MAE"].map(TCell::head).to_vec(),
        );
        for da in &d.areas {
            let f = &da.s.forest;
            t.push(vec![
                TCell::head(da.s.area.clone()),
                TCell::int(da.s.n_pixels as i64),
                TCell::int(f.n_train as i64),
                TCell::int(f.n_valid as i64),
                TCell::num(Some(f.var_explained_pct), 1),
                TCell::num(Some(f.r2), 3),
                TCell::num(Some(f.rmse), 3),
                TCell::num(Some(f.mae), 3),
            ]);
        }
        s.blocks.push(Block::Table(t));
        if let Some(svg) = read_svg(&d.dir.join("fig_correlation.svg"))? {
            let mut f = Figure::single("fig-correlation", svg, format!("Pearson correlation of RSEI with each driver, study areas \u{d7} drivers, {} (blue positive, red negative; cf. Fig. 7a of Zeng et al. 2024).", d.m.year));
            f.wide = true;
            s.blocks.push(Block::Figure(f));
        }
        let ranked: Vec<&RankFile> = d.m.ranking.iter().filter(|r| r.mean_rank.is_some_and(f64::is_finite)).collect();
        if !ranked.is_empty() {
            let order: Vec<String> = ranked.iter().map(|r| esc(&r.name)).collect();
            s.para(format!(
                "Averaged over the {} study area{}, the drivers rank {} ({{ref:tab-ranking}}{}).",
                d.areas.len(),
                if d.areas.len() == 1 { "" } else { "s" },
                order.join(" > "),
                if d.dir.join("fig_ranking.svg").is_file() { ", {ref:fig-ranking}" } else { "" }
            ));
        }
        if let Some(svg) = read_svg(&d.dir.join("fig_ranking.svg"))? {
            s.blocks.push(Block::Figure(Figure::single("fig-ranking", svg, "Importance ranking of the drivers: the mean over the study areas of each driver's rank by %IncMSE; the shorter the bar, the more important the driver (cf. Fig. 8 of Zeng et al. 2024).")));
        }
        let mut head = vec![TCell::head("Driver"), TCell::head("Mean rank")];
        let names: Vec<String> = d.m.areas.iter().map(|a| a.area.clone()).collect();
        head.extend(names.iter().map(|n| TCell::head(format!("Rank in {n}"))));
        let mut t = TableBlock::new("tab-ranking", format!("Rank of each driver by %IncMSE within each study area (1 = most important) and the mean rank, {}.", d.m.year), head);
        for r in &d.m.ranking {
            let mut row = vec![TCell::head(r.name.clone()), TCell::num(r.mean_rank, 2)];
            row.extend((0..names.len()).map(|k| rank_cell(r.ranks.get(k).copied().flatten())));
            t.push(row);
        }
        s.blocks.push(Block::Table(t));
    }
    Ok(Some(s))
}

/// The folder of an area (the parent of its year folders).
fn area_dir(a: &Area) -> Option<&Path> {
    a.years.first().and_then(|y| y.dir.parent())
}

/// The analyses beyond the source study found in the areas' folders.
fn analyses_found(st: &Study) -> Vec<&'static str> {
    crate::analyses::report::present(&st.areas.iter().filter_map(area_dir).collect::<Vec<_>>())
}

fn references(st: &Study) -> Section {
    let mut refs = vec![
        "Breiman, L. (2001). Random forests. *Machine Learning* 45, 5\u{2013}32.".to_string(),
        "Liaw, A.; Wiener, M. (2002). Classification and regression by randomForest. *R News* 2(3), 18\u{2013}22.".to_string(),
        "Lobser, S.E.; Cohen, W.B. (2007). MODIS tasselled cap: land cover characteristics expressed through transformed MODIS data. *International Journal of Remote Sensing* 28, 5079\u{2013}5101.".to_string(),
        "Xu, H. (2006). Modification of normalised difference water index (NDWI) to enhance open water features in remotely sensed imagery. *International Journal of Remote Sensing* 27, 3025\u{2013}3033.".to_string(),
        "Xu, H. (2013). A remote sensing index for assessment of regional ecological changes. *China Environmental Science* 33, 889\u{2013}897.".to_string(),
        "Zeng, J.; Dai, X.; Li, W.; Xu, J.; Li, W.; Liu, D. (2024). Quantifying the impact and importance of natural, economic, and mining activities on environmental quality using the PIE-Engine cloud platform: a case study of seven typical mining cities in China. *Sustainability* 16, 1447. doi:10.3390/su16041447.".to_string(),
    ];
    if st.drivers.is_none() {
        refs.retain(|r| !r.starts_with("Breiman") && !r.starts_with("Liaw"));
    }
    refs.extend(crate::analyses::report::references(&analyses_found(st)));
    refs.sort();
    let mut s = Section::new("references", "References");
    s.numbered = false;
    s.class = Some("references".into());
    s.blocks.push(Block::List(refs));
    s
}

fn key_results(st: &Study) -> Vec<Block> {
    let mut items = Vec::new();
    for a in &st.areas {
        let means: Vec<(i32, f64)> = a.years.iter().filter_map(|y| y.s.rsei_mean.map(|m| (y.s.year, m))).collect();
        let mut parts = Vec::new();
        if let (Some(f), Some(l)) = (means.first(), means.last()) {
            parts.push(if f.0 == l.0 { format!("mean RSEI {} in {}", fx(Some(f.1), 3), f.0) } else { format!("mean RSEI {} in {} and {} in {}", fx(Some(f.1), 3), f.0, fx(Some(l.1), 3), l.0) });
        }
        if let Some(t) = linear_trend(&means) {
            parts.push(format!("trend {} per decade ({})", fx(Some(t.per_decade), 3), p_phrase(t.p_value)));
        }
        if let Some(m) = &a.mining {
            let signs: Vec<f64> = m.per_year.iter().filter_map(|r| Some(num(r, "mines_mean")? - num(r, "city_mean")?)).collect();
            let side = if !signs.is_empty() && signs.iter().all(|d| *d < 0.0) {
                "below"
            } else if !signs.is_empty() && signs.iter().all(|d| *d > 0.0) {
                "above"
            } else {
                "away from"
            };
            parts.push(format!("mean RSEI of the mines {} {side} that of the whole area on average", fx(m.s.mean_abs_diff, 3)));
            if let Some(d) = m.s.peak_distance_km {
                parts.push(format!("RSEI peaks {} km from the mines", fx(Some(d), 0)));
            }
        }
        if let Some(da) = st.drivers.as_ref().and_then(|d| d.areas.iter().find(|x| x.s.area == a.name)) {
            let top = da.s.forest.importance.iter().filter(|i| i.rank == Some(1.0)).map(|i| esc(&i.driver)).collect::<Vec<_>>();
            parts.push(format!("random forest R\u{b2} {}{}", fx(Some(da.s.forest.r2), 2), if top.is_empty() { String::new() } else { format!(", most important driver {}", and_list(&top)) }));
        }
        if let Some(d) = area_dir(a) {
            parts.extend(crate::analyses::report::key_phrases(d).unwrap_or_default());
        }
        items.push(format!("**{}** ({{ref:{}}}): {}.", esc(&a.name), a.id, parts.join("; ")));
    }
    if let Some(d) = &st.drivers {
        let order: Vec<String> = d.m.ranking.iter().filter(|r| r.mean_rank.is_some_and(f64::is_finite)).take(5).map(|r| esc(&r.name)).collect();
        if !order.is_empty() && d.areas.len() > 1 {
            items.push(format!("**Across the areas** ({{ref:across}}), the most important drivers are {} (mean rank by %IncMSE).", order.join(" > ")));
        }
    }
    vec![Block::List(items)]
}

/// The report as a document (nothing written). See the module documentation for what is read.
pub fn build_document(out_dir: &Path, opts: &ReportOptions) -> Result<Document> {
    if opts.map_max_px < 64 {
        return Err(StudyReportError::MapSize(opts.map_max_px).into());
    }
    let st = load(out_dir, opts)?;
    let prov = provenance(&st);
    let synthetic = !prov.synthetic.is_empty() || prov.synthetic_files > 0;
    let names: Vec<String> = st.areas.iter().map(|a| a.name.clone()).collect();
    let years: BTreeSet<i32> = st.areas.iter().flat_map(|a| a.years.iter().map(|y| y.s.year)).collect();
    let years: Vec<i32> = years.into_iter().collect();
    let mut doc = Document::new(opts.title.clone().unwrap_or_else(|| format!("Ecological quality of {}, {}", and_list(&names), year_span(&years))));
    doc.subtitle = Some(format!(
        "Remote Sensing Ecological Index (RSEI) from MODIS{}{}",
        if st.areas.iter().any(|a| a.mining.is_some()) { ", mining impact" } else { "" },
        if st.drivers.is_some() { " and its drivers" } else { "" }
    ));
    let versions = software_versions(&st);
    let study = st.name.as_ref().map_or_else(String::new, |n| format!("Study \u{201c}{}\u{201d} \u{b7} ", esc(n)));
    doc.byline.push(format!("{study}Results folder `{}` \u{b7} {}", esc(&file_name(out_dir)), and_list(&versions.iter().map(|v| esc(v)).collect::<Vec<_>>())));
    doc.byline.push("Method: Zeng et al. (2024), *Sustainability* 16, 1447; every formula and default is stated in {ref:methods}.".into());
    if synthetic {
        doc.banners.push(Callout::new(
            CalloutKind::Data,
            Some("Synthetic data"),
            vec!["The inputs of this report are **synthetic** (generated by `rsei demo`, not real MODIS data): the areas, mines and drivers describe a simulated scene. The report shows how the method reads; its numbers say nothing about a real place. See {ref:methods-data}.".into()],
        ));
    }
    doc.summary_title = Some("Key results".into());
    doc.summary = key_results(&st);
    let mut m = methods(&st, &prov);
    m.subsections.extend(crate::analyses::report::methods_subsection(&analyses_found(&st)));
    doc.sections.push(m);
    for a in &st.areas {
        doc.sections.push(area_section(a, &st, opts)?);
    }
    if let Some(s) = across_section(&st)? {
        doc.sections.push(s);
    }
    doc.sections.push(references(&st));
    doc.footer = Some(format!(
        "Made by `rsei report` from the outputs in `{}`: one self-contained file (styles and figures inline, no script, no external resource); it prints on A4.",
        esc(&file_name(out_dir))
    ));
    let problems = doc.problems();
    crate::ensure!(problems.is_empty(), "report document: {}", problems.join("; "));
    Ok(doc)
}

/// Writes the report of the output folder `out_dir` to `opts.output` (default
/// `out_dir/report.html`) atomically and returns its path.
///
/// Errors: the folder does not exist or holds no RSEI result; a JSON output cannot be read;
/// writing fails. Absent mining or driver outputs are not errors: their sections are left out.
pub fn write_report(out_dir: &Path, opts: &ReportOptions) -> Result<PathBuf> {
    let doc = build_document(out_dir, opts)?;
    let html = doc.render();
    let path = opts.output.clone().unwrap_or_else(|| out_dir.join(REPORT_FILE));
    rsei_core::fsutil::write_atomic(&path, html.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn trend_by_hand() {
        // means 0.5, 0.6, 0.7 in 2001–2003: slope 0.1 per year = 1.0 per decade, a perfect line
        let t = linear_trend(&[(2001, 0.5), (2002, 0.6), (2003, 0.7)]).unwrap();
        assert!((t.per_decade - 1.0).abs() < 1e-9, "{t:?}");
        assert!((t.r2 - 1.0).abs() < 1e-12);
        assert_eq!(t.p_value, 0.0);
        assert_eq!(t.n, 3);
        // 0.5, 0.7, 0.6: x̄ = 1, ȳ = 0.6, Sxy = (−1)(−0.1) + 0 + (1)(0) = 0.1, Sxx = 2 → slope 0.05/yr;
        // Syy = 0.01 + 0.01 + 0 = 0.02 → r = 0.1/√(2·0.02) = 0.5, R² = 0.25;
        // t = r√(n−2)/√(1−r²) = 0.5/√0.75 = 0.57735, two-sided p with 1 df = 1 − 2·atan(t)/π = 1 − 2(π/6)/π = 2/3
        let t = linear_trend(&[(2001, 0.5), (2002, 0.7), (2003, 0.6)]).unwrap();
        assert!((t.per_decade - 0.5).abs() < 1e-9);
        assert!((t.r2 - 0.25).abs() < 1e-9);
        assert!((t.p_value - 2.0 / 3.0).abs() < 1e-9, "{}", t.p_value);
        // two years, or a constant series: no trend
        assert!(linear_trend(&[(2001, 0.5), (2002, 0.6)]).is_none());
        assert!(linear_trend(&[(2001, 0.5), (2002, 0.5), (2003, 0.5)]).is_none());
    }

    #[test]
    fn words_and_numbers() {
        assert_eq!(fx(Some(-0.25), 2), "\u{2212}0.25");
        assert_eq!(fx(None, 2), "\u{2013}");
        assert_eq!(fx(Some(f64::NAN), 2), "\u{2013}");
        assert_eq!(p_text(Some(0.0004)), "< 0.001");
        assert_eq!(p_text(Some(0.0123)), "0.012");
        assert_eq!(and_list(&["a".into()]), "a");
        assert_eq!(and_list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
        assert_eq!(year_span(&[2018, 2022]), "2018\u{2013}2022");
        assert_eq!(year_span(&[2019]), "2019");
        assert_eq!(id_stem("Demo_City"), "demo-city");
        assert_eq!(id_stem("Ma'anshan (AH)"), "ma-anshan-ah");
        assert_eq!(id_stem("__"), "area");
        assert_eq!(month_name(6), "June");
        assert_eq!(month_name(13), "?");
        assert_eq!(rule_label("modland_qa"), "MODLAND QA");
        assert_eq!(rule_label("cloud_state"), "cloud state");
        assert_eq!(set_text(&[0, 3], &["clear", "cloudy", "mixed", "not set"]), "{0 (clear), 3 (not set)}");
    }

    #[test]
    fn wet_equation_has_the_published_coefficients() {
        // Lobser & Cohen (2007), METHOD §3
        let e = wet_equation();
        assert_eq!(
            e,
            "WET = 0.1147\u{2009}\u{3c1}_{1} + 0.2489\u{2009}\u{3c1}_{2} + 0.2408\u{2009}\u{3c1}_{3} + 0.3132\u{2009}\u{3c1}_{4} \u{2212} 0.3122\u{2009}\u{3c1}_{5} \u{2212} 0.6416\u{2009}\u{3c1}_{6} \u{2212} 0.5087\u{2009}\u{3c1}_{7}"
        );
    }

    #[test]
    fn qa_rules_in_words_follow_the_options() {
        let mut o = RseiRunOptions::default();
        let items = qa_items(&o);
        assert_eq!(items.len(), 3);
        assert!(items[0].starts_with("*MOD09A1*"));
        assert!(items[0].contains("cloud state \u{2208} {0 (clear), 3 (not set, assumed clear)}"));
        assert!(items[0].contains("cirrus \u{2264} 1 (small)"));
        assert!(items[0].contains("MODLAND QA \u{2208} {0 (ideal), 1 (less than ideal)}"));
        assert!(!items[0].contains("fire"));
        assert!(items[1].contains("pixel reliability \u{2208} {0 (good), 1 (marginal)}"));
        assert!(items[2].contains("LST error class \u{2264} 1 (\u{2264} 2 K)") && items[2].contains("DN \u{2265} 7500 (150 K)"));
        o.qa.mod09.reject_fire = true;
        o.ndvi_source = NdviSource::Mod09a1;
        o.platforms = Platforms::Aqua;
        let items = qa_items(&o);
        assert_eq!(items.len(), 2, "no MOD13A1 rule when NDVI comes from the reflectances");
        assert!(items[0].starts_with("*MYD09A1*") && items[0].contains("no fire flag"));
    }

    #[test]
    fn missing_and_empty_folders_are_clear_errors() {
        let dir = std::env::temp_dir().join(format!("rsei-report-html-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let e = write_report(&dir, &ReportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("not a folder"), "{e}");
        std::fs::create_dir_all(dir.join("Some_Area/2019")).unwrap();
        let e = write_report(&dir, &ReportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no RSEI results"), "{e}");
        std::fs::write(dir.join("Some_Area/2019/summary.json"), "{\"area\": 3}").unwrap();
        let e = write_report(&dir, &ReportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("summary.json") && e.to_string().contains("unexpected content"), "{e}");
        let e = write_report(&dir, &ReportOptions { map_max_px: 10, ..ReportOptions::default() }).unwrap_err();
        assert!(e.to_string().contains("map_max_px"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn synthetic_readme_is_found() {
        let dir = std::env::temp_dir().join(format!("rsei-report-html-prov-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data/modis/MOD09A1")).unwrap();
        std::fs::write(dir.join("data/README.txt"), "SYNTHETIC DATA generated by `rsei demo` (seed 7).\nmore\n").unwrap();
        let st = Study {
            out_dir: dir.clone(),
            name: None,
            areas: vec![],
            drivers: Some(DriverRun {
                dir: dir.clone(),
                m: DriverManifestFile { inputs: vec![InputFileJson { path: dir.join("data/modis/MOD09A1/a.tif"), stac: None }], ..DriverManifestFile::default() },
                areas: vec![],
            }),
            notes: vec![],
        };
        let p = provenance(&st);
        assert_eq!(p.inputs, 1);
        assert_eq!(p.synthetic.get(&dir.join("data")).map(String::as_str), Some("SYNTHETIC DATA generated by `rsei demo` (seed 7)."));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
