//! # Geographical detector of RSEI and its drivers (`rsei geodetector`)
//!
//! Reads what the driver analysis wrote for an area (`<area>/drivers/`: `stack.tif`, one band per
//! driver on the 1 km driver grid, clipped to the area; `rsei.tif`, RSEI of the driver year on the
//! same grid; `summary.json`, the drivers' names in band order) and runs the geographical detector
//! of the numeric core (`rsei_core::geodetector`; Wang et al. 2010, Wang & Xu 2017):
//!
//! - complete cases: the cells where RSEI and every selected factor have a value;
//! - strata per factor: categorical factors (every value a class) or continuous ones by the
//!   **optimal discretisation** (methods × numbers of classes, the one with the largest q; Song et
//!   al. 2020, the "optimal parameters-based geographical detector");
//! - factor detector (q and its noncentral F test), risk detector (stratum means, Welch t tests),
//!   interaction detector (q of every pair's overlay and its type), ecological detector (F test).
//!
//! ```text
//! OUT/ (default <rsei>/<area>/geodetector/)
//!   factor.csv|json            per factor: kind, method, classes, breaks, n, q, F, p, significant
//!   discretisation.csv|json    every (method, k) candidate of the optimal discretisation with its q
//!   risk.csv|json              per factor and stratum: range, cells, mean RSEI, variance
//!   risk_pairs.csv|json        per factor, every two strata: difference of means, Welch t, df, p
//!   interaction.csv|json       per pair: q of each, q of the overlay, interaction type
//!   ecological.csv|json        per pair: F, degrees of freedom, one- and two-sided p
//!   complete_cases.csv         the cells used: row, column, centre x/y, RSEI, each factor
//!   fig_q.svg|png              q per factor (significant ones dark)
//!   fig_interaction.svg|png    q of every factor (diagonal) and pair overlay
//!   summary.json  manifest.json
//! ```
//!
//! Errors name the area, file or factor: no driver analysis, a factor that is not in the stack,
//! a factor with a single class (constant), no complete case, a constant RSEI. With the default
//! selection (every driver), a driver that is constant over the complete cases is left out with
//! a note; a factor named in the options must be usable.

use std::path::{Path, PathBuf};

use rsei_core::geodetector::{geodetector, Factor, FactorKind, GdOptions, GeoDetectorReport, Method, OptimalOptions, SingletonRule, NATURAL_MAX_VALUES};
use rsei_core::CoreError;
use rsei_report::color::Rgba;
use rsei_report::table::{Cell, Column, Table};
use rsei_report::{Axis, Chart, Legend, LegendPosition, Series};
use serde::{Deserialize, Serialize};

use super::common::{self, OutputSet};
use crate::area::StudyArea;
use crate::error::{Error, Result};
use crate::outputs::SOFTWARE;
use crate::progress::Progress;

/// Folder of the outputs inside an area's results folder.
pub const FOLDER: &str = "geodetector";

/// Options of the geographical detector (`[geodetector]` of a study file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeodetectorOptions {
    /// Factors (driver names of the stack); default: every driver.
    pub factors: Option<Vec<String>>,
    /// Factors whose values are classes (e.g. land cover) rather than continuous.
    pub categorical: Vec<String>,
    /// Discretisation methods tried: `equal`, `quantile`, `natural`, `geometric`, `std_dev`
    /// (default the first four, as R GD).
    pub methods: Vec<Method>,
    /// Fewest classes tried (default 3).
    pub k_min: usize,
    /// Most classes tried (default 8).
    pub k_max: usize,
    /// A candidate needs at least this many cells in every class (default 2).
    pub min_class_cells: usize,
    /// Strata of a single cell: `keep` (R geodetector, GD; default) or `drop` (gdverse, PyPI geodetector).
    pub singletons: SingletonRule,
    /// Significance level of the tests (default 0.05).
    pub alpha: f64,
}

impl Default for GeodetectorOptions {
    fn default() -> Self {
        let o = OptimalOptions::default();
        GeodetectorOptions { factors: None, categorical: Vec::new(), methods: o.methods, k_min: o.k_min, k_max: o.k_max, min_class_cells: o.min_class_cells, singletons: SingletonRule::Keep, alpha: 0.05 }
    }
}

impl GeodetectorOptions {
    /// Checks every option, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, reason: String| Err(Error::option(format!("geodetector.{name}"), format!("invalid geodetector option {name}: {reason}")));
        if self.k_min < 2 || self.k_max < self.k_min {
            return bad("k_min", format!("need 2 ≤ k_min ≤ k_max, got k_min = {}, k_max = {}", self.k_min, self.k_max));
        }
        if self.k_max > 50 {
            return bad("k_max", format!("at most 50 classes, got {}", self.k_max));
        }
        if self.methods.is_empty() {
            return bad("methods", "no discretisation method".into());
        }
        if self.min_class_cells == 0 {
            return bad("min_class_cells", "must be at least 1".into());
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return bad("alpha", format!("must lie in (0, 1), got {}", self.alpha));
        }
        if let Some(f) = &self.factors {
            if f.is_empty() {
                return bad("factors", "the list is empty (leave it out to use every driver)".into());
            }
        }
        Ok(())
    }

    fn optimal(&self) -> OptimalOptions {
        OptimalOptions { methods: self.methods.clone(), k_min: self.k_min, k_max: self.k_max, min_class_cells: self.min_class_cells, natural_max_values: NATURAL_MAX_VALUES }
    }
}

/// What to analyse: the geographical detector of RSEI on the driver stack of `rsei drivers`
/// (run it with [`run`]).
///
/// ```no_run
/// use rsei_pipeline::analyses::geodetector::{run, GeodetectorOptions, GeodetectorRequest};
/// use rsei_pipeline::area::{load_areas, AreaSource};
/// use rsei_pipeline::progress::Silent;
///
/// let area = load_areas(&AreaSource::file("city.geojson"))?.remove(0);
/// let s = run(&GeodetectorRequest { rsei_dir: "results".into(), area, options: GeodetectorOptions::default(), out_dir: None }, &Silent)?;
/// for f in &s.report.factors {
///     println!("{}: q = {:.3}", f.name, f.factor.q);
/// }
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct GeodetectorRequest {
    /// Output folder holding `<area>/drivers/` (the driver analysis).
    pub rsei_dir: PathBuf,
    /// The study area.
    pub area: StudyArea,
    /// Options of the analysis.
    pub options: GeodetectorOptions,
    /// Output folder; `None` = `<rsei>/<area>/geodetector`.
    pub out_dir: Option<PathBuf>,
}

/// Headline results (also `summary.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GeodetectorSummary {
    /// Software and version that made the results.
    pub software: String,
    /// The study area.
    pub area: String,
    /// Year of the driver analysis.
    pub year: i32,
    /// Cells of the driver grid, and the complete cases used.
    pub cells: usize,
    /// Complete cases (cells with RSEI and every factor) used by the detectors.
    pub n: usize,
    /// Factors in the analysis (stack order), and those left out with the reason.
    pub factors: Vec<String>,
    /// Drivers left out, with the reason.
    pub left_out: Vec<(String, String)>,
    /// Everything the detectors computed.
    pub report: GeoDetectorReport,
    /// Remarks of the analysis.
    pub notes: Vec<String>,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// Output folder.
    #[serde(skip)]
    pub out_dir: PathBuf,
}

#[derive(Deserialize)]
struct DriverInfoFile {
    name: String,
}

#[derive(Deserialize)]
struct DriverSummaryFile {
    year: i32,
    drivers: Vec<DriverInfoFile>,
}

fn fl(v: f64, d: u8) -> Cell {
    Cell::float(v, d)
}

/// The driver analysis of an area: names in band order, year, stack, RSEI and their grid.
struct DriverStack {
    year: i32,
    names: Vec<String>,
    grid: rsei_core::Grid,
    layers: Vec<Vec<f32>>,
    rsei: Vec<f32>,
    files: Vec<PathBuf>,
}

fn read_stack(dir: &Path, area: &str) -> Result<DriverStack> {
    let summary = dir.join("summary.json");
    let (stack, rsei_p) = (dir.join("stack.tif"), dir.join("rsei.tif"));
    for p in [&summary, &stack, &rsei_p] {
        if !p.is_file() {
            return Err(Error::input(p, format!("study area {area:?}: {} not found; the geographical detector reads the driver analysis: run `rsei drivers` (or a study with [drivers]) first", p.display())));
        }
    }
    let s: DriverSummaryFile = serde_json::from_slice(&std::fs::read(&summary).map_err(|e| Error::input(&summary, format!("reading {}: {e}", summary.display())))?)
        .map_err(|e| Error::input(&summary, format!("{}: not a driver summary ({e})", summary.display())))?;
    let r = common::read_band(&rsei_p, 1)?;
    let grid = r.grid().clone();
    let mut layers = Vec::new();
    for (k, d) in s.drivers.iter().enumerate() {
        let b = common::read_band(&stack, k + 1).map_err(|e| Error::input(&stack, format!("study area {area:?}: driver {} (band {}) of {}: {}", d.name, k + 1, stack.display(), e.chain_text())))?;
        grid.check_same(b.grid()).map_err(|e| Error::input(&stack, format!("{} and {} are not on the same grid ({e})", stack.display(), rsei_p.display())))?;
        layers.push(b.into_data());
    }
    Ok(DriverStack { year: s.year, names: s.drivers.into_iter().map(|d| d.name).collect(), grid, layers, rsei: r.into_data(), files: vec![summary, stack, rsei_p] })
}

/// The interaction type in words ("bi-variable enhancement", …).
pub fn interaction_words(k: rsei_core::geodetector::InteractionKind) -> &'static str {
    use rsei_core::geodetector::InteractionKind as K;
    match k {
        K::NonlinearWeaken => "nonlinear weakening",
        K::UniWeaken => "univariate weakening",
        K::Independent => "independent",
        K::BiEnhance => "bivariate enhancement",
        K::NonlinearEnhance => "nonlinear enhancement",
    }
}

fn kind_of(name: &str, o: &GeodetectorOptions) -> FactorKind {
    if o.categorical.iter().any(|c| c == name) {
        FactorKind::Categorical
    } else {
        FactorKind::Optimal(o.optimal())
    }
}

fn factor_table(r: &GeoDetectorReport) -> Table {
    let mut t = Table::new(vec![
        Column::new("factor"),
        Column::new("kind"),
        Column::new("method"),
        Column::new("classes"),
        Column::new("breaks"),
        Column::with_unit("n", "cells"),
        Column::new("strata"),
        Column::new("q"),
        Column::new("f_stat"),
        Column::new("df1"),
        Column::new("df2"),
        Column::new("lambda"),
        Column::new("p_value"),
        Column::new("significant"),
    ]);
    for f in &r.factors {
        let (kind, method, breaks) = match &f.discretization {
            Some(d) => ("continuous", d.method.name().to_string(), d.breaks.iter().map(|b| format!("{b:.6}")).collect::<Vec<_>>().join(" ")),
            None => ("categorical", "categories".to_string(), "categories".to_string()),
        };
        let fr = &f.factor;
        let _ = t.push_row(vec![
            Cell::Text(f.name.clone()),
            Cell::Text(kind.into()),
            Cell::Text(method),
            Cell::Int(f.codes.len() as i64),
            Cell::Text(breaks),
            Cell::Int(fr.n as i64),
            Cell::Int(fr.n_strata as i64),
            fl(fr.q, 6),
            if fr.f_stat.is_finite() { fl(fr.f_stat, 6) } else { Cell::Text("inf (q = 1)".into()) },
            fl(fr.df1, 0),
            fl(fr.df2, 0),
            fl(fr.lambda, 6),
            fl(fr.p_value, 10),
            Cell::Text(fr.significant.to_string()),
        ]);
    }
    t
}

fn candidates_table(r: &GeoDetectorReport) -> Table {
    let mut t = Table::new(vec![Column::new("factor"), Column::new("method"), Column::new("k"), Column::new("q"), Column::new("chosen")]);
    for f in &r.factors {
        let Some(cands) = &f.candidates else { continue };
        let best = f.discretization.as_ref().map(|d| (d.method, d.k));
        for c in cands {
            let _ = t.push_row(vec![
                Cell::Text(f.name.clone()),
                Cell::Text(c.method.name().into()),
                Cell::Int(c.k as i64),
                c.q.map_or(Cell::Text("not admissible (a class with too few cells, or fewer classes)".into()), |q| fl(q, 6)),
                Cell::Text((best == Some((c.method, c.k))).to_string()),
            ]);
        }
    }
    t
}

fn class_range(f: &rsei_core::geodetector::FactorReport, h: usize) -> String {
    match &f.discretization {
        None => format!("{}", f.codes[h]),
        Some(d) => {
            let lo = if h == 0 { d.min } else { d.breaks[h - 1] };
            let hi = if h < d.breaks.len() { d.breaks[h] } else { d.max };
            if h == 0 {
                format!("[{lo:.6}, {hi:.6}]")
            } else {
                format!("({lo:.6}, {hi:.6}]")
            }
        }
    }
}

fn risk_tables(r: &GeoDetectorReport) -> (Table, Table) {
    let mut t = Table::new(vec![Column::new("factor"), Column::new("stratum"), Column::new("range"), Column::with_unit("n", "cells"), Column::new("mean_rsei"), Column::new("variance")]);
    let mut p = Table::new(vec![
        Column::new("factor"),
        Column::new("stratum_a"),
        Column::new("stratum_b"),
        Column::new("mean_difference"),
        Column::new("t"),
        Column::new("df"),
        Column::new("p_value"),
        Column::new("significant"),
    ]);
    for f in &r.factors {
        for (h, s) in f.risk.strata.iter().enumerate() {
            let _ = t.push_row(vec![
                Cell::Text(f.name.clone()),
                Cell::Int(i64::from(s.label)),
                Cell::Text(class_range(f, h)),
                Cell::Int(s.n as i64),
                fl(s.mean, 6),
                s.variance.map_or(Cell::Text("single cell".into()), |v| fl(v, 8)),
            ]);
        }
        for pr in &f.risk.pairs {
            let none = || Cell::Text("no test (zero standard error)".into());
            let _ = p.push_row(vec![
                Cell::Text(f.name.clone()),
                Cell::Int(i64::from(pr.a)),
                Cell::Int(i64::from(pr.b)),
                fl(pr.mean_difference, 6),
                pr.t.map_or_else(none, |v| fl(v, 6)),
                pr.df.map_or_else(none, |v| fl(v, 3)),
                pr.p_value.map_or_else(none, |v| fl(v, 10)),
                Cell::Text(pr.significant.to_string()),
            ]);
        }
    }
    (t, p)
}

fn pair_tables(r: &GeoDetectorReport) -> (Table, Table) {
    let mut i = Table::new(vec![Column::new("factor_a"), Column::new("factor_b"), Column::new("q_a"), Column::new("q_b"), Column::new("q_ab"), Column::new("strata_ab"), Column::new("p_value_ab"), Column::new("interaction")]);
    let mut e = Table::new(vec![Column::new("factor_a"), Column::new("factor_b"), Column::new("f_stat"), Column::new("df1"), Column::new("df2"), Column::new("p_upper"), Column::new("p_two_sided"), Column::new("significant")]);
    for pr in &r.pairs {
        let x = &pr.interaction;
        let _ = i.push_row(vec![
            Cell::Text(pr.a.clone()),
            Cell::Text(pr.b.clone()),
            fl(x.q1, 6),
            fl(x.q2, 6),
            fl(x.q12, 6),
            Cell::Int(x.overlay.n_strata as i64),
            fl(x.overlay.p_value, 10),
            Cell::Text(x.kind.label().into()),
        ]);
        let ec = &pr.ecological;
        let _ = e.push_row(vec![
            Cell::Text(pr.a.clone()),
            Cell::Text(pr.b.clone()),
            if ec.f_stat.is_finite() { fl(ec.f_stat, 6) } else { Cell::Text("inf".into()) },
            fl(ec.df1, 0),
            fl(ec.df2, 0),
            fl(ec.p_upper, 10),
            fl(ec.p_two_sided, 10),
            Cell::Text(ec.significant.to_string()),
        ]);
    }
    (i, e)
}

fn cases_table(st: &DriverStack, used: &[usize], rows: &[usize]) -> Table {
    let mut cols = vec![Column::new("cell"), Column::new("row"), Column::new("col"), Column::new("x"), Column::new("y"), Column::new("rsei")];
    cols.extend(used.iter().map(|&j| Column::new(st.names[j].clone())));
    let mut t = Table::new(cols);
    let tr = st.grid.transform();
    for &i in rows {
        let (r, c) = (i / st.grid.cols(), i % st.grid.cols());
        let (x, y) = tr.xy(r as f64 + 0.5, c as f64 + 0.5);
        let mut row = vec![Cell::Int(i as i64), Cell::Int(r as i64), Cell::Int(c as i64), fl(x, 3), fl(y, 3), fl(f64::from(st.rsei[i]), 7)];
        row.extend(used.iter().map(|&j| fl(f64::from(st.layers[j][i]), 7)));
        let _ = t.push_row(row);
    }
    t
}

fn q_chart(area: &str, year: i32, r: &GeoDetectorReport) -> Chart {
    let mut f: Vec<&rsei_core::geodetector::FactorReport> = r.factors.iter().collect();
    f.sort_by(|a, b| b.factor.q.total_cmp(&a.factor.q));
    let sig: Vec<(f64, f64)> = f.iter().enumerate().filter(|(_, x)| x.factor.significant).map(|(i, x)| (i as f64, x.factor.q)).collect();
    let ns: Vec<(f64, f64)> = f.iter().enumerate().filter(|(_, x)| !x.factor.significant).map(|(i, x)| (i as f64, x.factor.q)).collect();
    let mut c = Chart::new(format!("Factor detector, {area} {year}: q of each driver"), Axis::linear("q (share of RSEI variance explained)", None).with_range(0.0, 1.0).with_grid(), Axis::categories("Driver", f.iter().map(|x| x.name.clone())));
    if !sig.is_empty() {
        c = c.with_series(Series::horizontal_bars("significant", sig).with_value_labels(3).with_color(Rgba::hex(0x0072b2)));
    }
    if !ns.is_empty() {
        c = c.with_series(Series::horizontal_bars("not significant", ns).with_value_labels(3).with_color(Rgba::hex(0xbdbdbd)));
    }
    c
}

fn interaction_chart(area: &str, year: i32, r: &GeoDetectorReport) -> Chart {
    let names: Vec<String> = r.factors.iter().map(|f| f.name.clone()).collect();
    let n = names.len();
    let mut m = vec![vec![f64::NAN; n]; n];
    for (i, f) in r.factors.iter().enumerate() {
        m[i][i] = f.factor.q;
    }
    for p in &r.pairs {
        if let (Some(i), Some(j)) = (names.iter().position(|x| *x == p.a), names.iter().position(|x| *x == p.b)) {
            m[i][j] = p.interaction.q12;
            m[j][i] = p.interaction.q12;
        }
    }
    Chart::new(format!("Interaction detector, {area} {year}: q (diagonal: one driver)"), Axis::categories("Driver", names.clone()), Axis::categories("Driver", names))
        .with_series(Series::heat_map(m, (0.0, 1.0), 2, "q"))
        .with_legend(Legend { position: LegendPosition::Hidden, title: None })
}

/// Runs the geographical detector of one area (see the module documentation) and writes its
/// outputs.
pub fn run(req: &GeodetectorRequest, progress: &dyn Progress) -> Result<GeodetectorSummary> {
    let o = &req.options;
    o.validate()?;
    let name = req.area.name.as_str();
    let area_dir = common::area_dir(&req.rsei_dir, &req.area)?;
    let dir = area_dir.join("drivers");
    progress.message(&format!("{name}: reading the driver stack"));
    let st = read_stack(&dir, name)?;
    let stack_file = dir.join("stack.tif");
    for c in &o.categorical {
        if !st.names.contains(c) {
            return Err(Error::option("geodetector.categorical", format!("study area {name:?}: categorical factor {c:?} is not a driver of {} (drivers: {})", stack_file.display(), st.names.join(", "))));
        }
    }
    let explicit = o.factors.is_some();
    let mut used: Vec<usize> = match &o.factors {
        Some(f) => f
            .iter()
            .map(|n| st.names.iter().position(|x| x == n).ok_or_else(|| Error::option("geodetector.factors", format!("study area {name:?}: factor {n:?} is not a driver of {} (drivers: {})", stack_file.display(), st.names.join(", ")))))
            .collect::<Result<_>>()?,
        None => (0..st.names.len()).collect(),
    };
    let mut notes = Vec::new();
    let mut left_out: Vec<(String, String)> = Vec::new();
    // factors without any value, or with a single value over the cells with RSEI, cannot stratify
    let rsei_valid: Vec<usize> = (0..st.rsei.len()).filter(|&i| st.rsei[i].is_finite()).collect();
    if rsei_valid.len() < 2 {
        return Err(Error::input(dir.join("rsei.tif"), format!("study area {name:?}: {} holds {} RSEI value(s) on the driver grid; the geographical detector needs at least 2", dir.join("rsei.tif").display(), rsei_valid.len())));
    }
    let mut keep = Vec::new();
    for &j in &used {
        let vals: Vec<f32> = rsei_valid.iter().map(|&i| st.layers[j][i]).filter(|v| v.is_finite()).collect();
        let problem = if vals.is_empty() {
            Some(format!("driver {} has no value where RSEI has one (all NaN)", st.names[j]))
        } else if vals.iter().all(|&v| v == vals[0]) {
            Some(format!("driver {} is constant ({}) where RSEI has a value: a single class, no stratification", st.names[j], vals[0]))
        } else {
            None
        };
        match problem {
            Some(p) if explicit => return Err(Error::input(&stack_file, format!("study area {name:?}: factor {}: {p}", st.names[j]))),
            Some(p) => {
                notes.push(format!("{p}; left out"));
                left_out.push((st.names[j].clone(), p));
            }
            None => keep.push(j),
        }
    }
    used = keep;
    if used.is_empty() {
        return Err(Error::input(&stack_file, format!("study area {name:?}: no driver of {} can stratify RSEI (every one is constant or without values)", stack_file.display())));
    }
    let factors: Vec<Factor<'_>> = used.iter().map(|&j| Factor { name: st.names[j].clone(), values: st.layers[j].as_slice().into(), kind: kind_of(&st.names[j], o) }).collect();
    progress.message(&format!("{name}: geographical detector, {} factors", factors.len()));
    let gd = GdOptions { singletons: o.singletons, alpha: o.alpha };
    let report = geodetector(st.rsei.as_slice(), &factors, &gd).map_err(|e| {
        let msg = format!("study area {name:?}, driver year {}: geographical detector: {e}", st.year);
        match e {
            CoreError::NoValidPixels(_) | CoreError::InvalidOption { .. } => Error::input(&stack_file, msg),
            _ => Error::msg(msg),
        }
    })?;
    let refs: Vec<&[f32]> = used.iter().map(|&j| st.layers[j].as_slice()).collect();
    let rows = rsei_core::drivers::complete_cases(&refs, &st.rsei, None).map_err(|e| Error::msg(format!("complete cases: {e}")))?;
    if rows.len() != report.n {
        return Err(Error::msg(format!("complete cases: {} cells, the detector used {}", rows.len(), report.n)));
    }

    let out_dir = req.out_dir.clone().unwrap_or_else(|| area_dir.join(FOLDER));
    let mut set = OutputSet::new(&out_dir, "geographical detector");
    set.table("factor", &factor_table(&report))?;
    set.table("discretisation", &candidates_table(&report))?;
    let (risk, risk_pairs) = risk_tables(&report);
    set.table("risk", &risk)?;
    set.table("risk_pairs", &risk_pairs)?;
    let (inter, eco) = pair_tables(&report);
    if !report.pairs.is_empty() {
        set.table("interaction", &inter)?;
        set.table("ecological", &eco)?;
    } else {
        notes.push("a single factor: no interaction or ecological detector".into());
    }
    let cases = cases_table(&st, &used, &rows);
    cases.validate()?;
    set.file("complete_cases.csv", cases.to_csv().into_bytes());
    set.chart("fig_q", &q_chart(name, st.year, &report), 720.0, 60.0 + 34.0 * used.len() as f64 + 80.0)?;
    if used.len() > 1 {
        let side = (160.0 + 56.0 * used.len() as f64).max(420.0);
        set.chart("fig_interaction", &interaction_chart(name, st.year, &report), side + 60.0, side)?;
    }
    let mut summary = GeodetectorSummary {
        software: SOFTWARE.into(),
        area: name.into(),
        year: st.year,
        cells: report.cells,
        n: report.n,
        factors: used.iter().map(|&j| st.names[j].clone()).collect(),
        left_out,
        report,
        notes,
        files: Vec::new(),
        out_dir: out_dir.clone(),
    };
    let mut names = set.names();
    names.insert(names.len() - 1, "summary.json".into());
    summary.files = names;
    set.json("summary.json", &summary)?;
    let inputs = common::input_checksums(&st.files)?;
    let mut manifest = common::manifest_head("geographical detector: factor, interaction, risk and ecological detectors, optimal discretisation", &req.area, o, &inputs)?;
    manifest["year"] = serde_json::json!(st.year);
    set.write(manifest)?;
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let o = GeodetectorOptions::default();
        assert!(o.validate().is_ok());
        assert_eq!(o.optimal(), OptimalOptions::default());
        for bad in [
            GeodetectorOptions { k_min: 1, ..Default::default() },
            GeodetectorOptions { k_max: 2, ..Default::default() },
            GeodetectorOptions { methods: vec![], ..Default::default() },
            GeodetectorOptions { alpha: 0.0, ..Default::default() },
            GeodetectorOptions { factors: Some(vec![]), ..Default::default() },
        ] {
            assert!(bad.validate().unwrap_err().to_string().starts_with("invalid geodetector option"));
        }
        // methods read from TOML by name
        let o: GeodetectorOptions = toml::from_str("methods = [\"quantile\", \"natural\"]\ncategorical = [\"LC\"]").unwrap();
        assert_eq!(o.methods, vec![Method::Quantile, Method::Natural]);
        assert!(matches!(kind_of("LC", &o), FactorKind::Categorical));
        assert!(matches!(kind_of("DEM", &o), FactorKind::Optimal(_)));
    }
}
