//! The study-file sections of the analyses beyond the source study — `[timeseries]`, `[trend]`,
//! `[change]`, `[geodetector]`, `[autocorrelation]` — their checks, and what `rsei run` does
//! for each (one unit per area and section).
//!
//! A section present in the file (even empty: every key has a default) runs its analysis for every
//! area. The keys are the options of the analysis (`docs/STUDY.md`); they are walked and checked
//! like the other sections, then against the study: enough years for a trend (at least
//! `min_years` in every area) or a time series (2), `from`/`to` and `years` among the years of
//! every area, the pooled source only with a `[timeseries]` section, the geographical detector
//! only with `[drivers]` and with factors among the drivers' names, CRSs that PROJ understands.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml_edit::TableLike;

use super::diag::{suggest, Diagnostic};
use super::walk::{item_span, key_span, value_span, walk_section, Part};
use crate::analyses::autocorrelation::{self, AutocorrelationOptions, AutocorrelationRequest};
use crate::analyses::change::{self, ChangeOptions, ChangeRequest};
use crate::analyses::common::{year_text as year_ranges, RseiSource};
use crate::analyses::geodetector::{self, GeodetectorOptions, GeodetectorRequest};
use crate::analyses::timeseries::{self, TimeSeriesOptions, TimeSeriesRequest};
use crate::analyses::trend::{self, TrendOptions, TrendRequest};
use crate::area::StudyArea;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// The section names, in the order their units run.
pub const SECTIONS: [&str; 5] = ["timeseries", "trend", "change", "geodetector", "autocorrelation"];

/// One analysis of a study.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Which {
    /// Pooled time series (`[timeseries]`).
    TimeSeries,
    /// Trends (`[trend]`).
    Trend,
    /// Change between two years (`[change]`).
    Change,
    /// Geographical detector (`[geodetector]`).
    Geodetector,
    /// Spatial autocorrelation (`[autocorrelation]`).
    Autocorrelation,
}

impl Which {
    /// The section (and unit kind, and output folder) name.
    pub fn name(self) -> &'static str {
        match self {
            Which::TimeSeries => "timeseries",
            Which::Trend => "trend",
            Which::Change => "change",
            Which::Geodetector => "geodetector",
            Which::Autocorrelation => "autocorrelation",
        }
    }
    /// The output folder inside the area's folder.
    pub fn folder(self) -> &'static str {
        match self {
            Which::TimeSeries => timeseries::FOLDER,
            Which::Trend => trend::FOLDER,
            Which::Change => change::FOLDER,
            Which::Geodetector => geodetector::FOLDER,
            Which::Autocorrelation => autocorrelation::FOLDER,
        }
    }
    /// Words for unit labels.
    pub fn label(self) -> &'static str {
        match self {
            Which::TimeSeries => "pooled time series",
            Which::Trend => "trend",
            Which::Change => "change",
            Which::Geodetector => "geodetector",
            Which::Autocorrelation => "spatial autocorrelation",
        }
    }
}

/// The analyses of a study (a section present = its analysis runs for every area).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalysesPlan {
    /// `[timeseries]`: pooled time series.
    pub timeseries: Option<TimeSeriesOptions>,
    /// `[trend]`: per-pixel and per-area trends.
    pub trend: Option<TrendOptions>,
    /// `[change]`: grade transfer and difference between two years.
    pub change: Option<ChangeOptions>,
    /// `[geodetector]`: geographical detector on the driver stack.
    pub geodetector: Option<GeodetectorOptions>,
    /// With the grid of the driver analysis filled in where the section leaves it out.
    pub autocorrelation: Option<AutocorrelationOptions>,
}

impl AnalysesPlan {
    /// The analyses present, in running order.
    pub fn present(&self) -> Vec<Which> {
        let mut v = Vec::new();
        if self.timeseries.is_some() {
            v.push(Which::TimeSeries);
        }
        if self.trend.is_some() {
            v.push(Which::Trend);
        }
        if self.change.is_some() {
            v.push(Which::Change);
        }
        if self.geodetector.is_some() {
            v.push(Which::Geodetector);
        }
        if self.autocorrelation.is_some() {
            v.push(Which::Autocorrelation);
        }
        v
    }

    /// The options of one analysis as JSON (for the unit key), `null` when absent.
    pub fn options_json(&self, w: Which) -> serde_json::Value {
        let v = match w {
            Which::TimeSeries => serde_json::to_value(&self.timeseries),
            Which::Trend => serde_json::to_value(&self.trend),
            Which::Change => serde_json::to_value(&self.change),
            Which::Geodetector => serde_json::to_value(&self.geodetector),
            Which::Autocorrelation => serde_json::to_value(&self.autocorrelation),
        };
        v.unwrap_or(serde_json::Value::Null)
    }

    /// Whether the analysis reads the pooled RSEI of the time series.
    pub fn reads_pooled(&self, w: Which) -> bool {
        let s = match w {
            Which::Trend => self.trend.as_ref().map(|o| o.source),
            Which::Change => self.change.as_ref().map(|o| o.source),
            Which::Autocorrelation => self.autocorrelation.as_ref().map(|o| o.source),
            _ => None,
        };
        s == Some(RseiSource::Pooled)
    }
}

/// The typed part of a section (for the walk of the study file).
pub fn parts_of(section: &str) -> Vec<Part> {
    match section {
        "timeseries" => vec![Part::of::<TimeSeriesOptions>()],
        "trend" => vec![Part::of::<TrendOptions>()],
        "change" => vec![Part::of::<ChangeOptions>()],
        "geodetector" => vec![Part::of::<GeodetectorOptions>()],
        "autocorrelation" => vec![Part::of::<AutocorrelationOptions>()],
        _ => Vec::new(),
    }
}

/// What the checks need to know of the rest of the study.
pub struct StudyFacts {
    /// Name and years of every area.
    pub areas: Vec<(String, Vec<i32>)>,
    /// The driver analysis, when valid: the names its stack will hold ([`driver_names`]), and the
    /// CRS and cell size of its grid.
    pub drivers: Option<(Vec<String>, String, f64)>,
    /// Whether the file has a `[drivers]` table (valid or not).
    pub has_drivers_table: bool,
    /// The model options of `[rsei]` when its PCA is pooled over the years (`pooled = true`): the
    /// time series then runs even without a `[timeseries]` section, with the same normalisation
    /// and without rasters (the RSEI units already hold the pooled RSEI), for the drift of the
    /// per-year loadings and the sign check.
    pub pooled_rsei: Option<rsei_core::model::RseiOptions>,
}

struct Checked<'d, T> {
    tbl: &'d dyn TableLike,
    span: Option<Range<usize>>,
    opts: Option<T>,
}

/// Walks section `name` of the file; `None` when absent.
fn walk<'d, T: DeserializeOwned>(root: &'d toml_edit::Table, vals: &toml::Table, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Checked<'d, T>> {
    let item = root.get(name)?;
    let span = item_span(item).or_else(|| key_span(root, name));
    let (Some(tbl), Some(toml::Value::Table(vt))) = (item.as_table_like(), vals.get(name)) else {
        diags.push(Diagnostic::error(span, format!("`{name}` must be a table: write a [{name}] header and its keys below it (an empty table runs the analysis with its defaults)")));
        return None;
    };
    let w = walk_section(&format!("[{name}]"), tbl, vt, &parts_of(name), diags);
    let opts = if w.errors == 0 { T::deserialize(toml::Value::Table(w.tables[0].clone())).ok() } else { None };
    Some(Checked { tbl, span, opts })
}

/// An option error of `validate()` at its key (`trend.alpha` → the value of `alpha`).
fn option_error(c: &Checked<'_, impl Sized>, e: &Error, diags: &mut Vec<Diagnostic>) {
    let key = match e {
        Error::InvalidOption { option, .. } => option.rsplit('.').next().unwrap_or_default().to_string(),
        _ => String::new(),
    };
    let span = value_span(c.tbl, &key).or(c.span.clone());
    diags.push(Diagnostic::error(span, e.to_string()));
}

fn check_crs(def: &str) -> std::result::Result<(), String> {
    rsei_io::crs::normalize_crs(&rsei_core::Crs::new(def)).map(|_| ()).map_err(|e| e.to_string())
}

/// The names the driver stack will hold (from the DEM first, then the rasters, then from the mines).
pub fn driver_names(dem: bool, rasters: &[String], mines: bool) -> Vec<String> {
    let mut v = Vec::new();
    if dem {
        v.extend([crate::drivers::DEM.to_string(), crate::drivers::SLOPE.to_string()]);
    }
    v.extend(rasters.iter().cloned());
    if mines {
        v.extend([crate::drivers::DISM.to_string(), crate::drivers::MINEA.to_string()]);
    }
    v
}

/// Checks the sections of the analyses (`root` and `vals`: the file read twice, as `validate`
/// does); problems go to `diags`. Returns the plan of the valid sections.
pub fn check(root: &toml_edit::Table, vals: &toml::Table, facts: &StudyFacts, diags: &mut Vec<Diagnostic>) -> AnalysesPlan {
    let mut plan = AnalysesPlan::default();
    let few = |min: usize| -> Vec<String> { facts.areas.iter().filter(|(_, y)| y.len() < min).map(|(n, y)| format!("{n:?} ({} year{})", y.len(), if y.len() == 1 { "" } else { "s" })).collect() };
    let has_timeseries = root.contains_key("timeseries");
    let pooled_needs = |tbl: &dyn TableLike, span: &Option<Range<usize>>, source: RseiSource, section: &str, diags: &mut Vec<Diagnostic>| -> bool {
        if source == RseiSource::Pooled && !has_timeseries {
            diags.push(Diagnostic::error(value_span(tbl, "source").or(span.clone()), format!("[{section}] source = \"pooled\" reads the pooled RSEI of the time series: add a [timeseries] section")));
            return false;
        }
        true
    };
    let years_in_all = |years: &[i32]| -> Vec<String> {
        facts.areas.iter().filter(|(_, ys)| years.iter().any(|y| !ys.contains(y))).map(|(n, ys)| format!("{n:?} ({})", year_ranges(ys))).collect()
    };

    if let Some(c) = walk::<TimeSeriesOptions>(root, vals, "timeseries", diags) {
        if let Some(o) = &c.opts {
            let mut ok = true;
            if let Err(e) = o.validate() {
                option_error(&c, &e, diags);
                ok = false;
            }
            let lacking = few(2);
            if !lacking.is_empty() {
                diags.push(Diagnostic::error(c.span.clone(), format!("[timeseries] pools at least 2 years per area; too few in {}", lacking.join(", "))));
                ok = false;
            }
            if ok {
                plan.timeseries = c.opts.clone();
            }
        }
    }
    if let (Some(r), false) = (&facts.pooled_rsei, root.contains_key("timeseries")) {
        if facts.areas.iter().all(|(_, y)| y.len() >= 2) {
            plan.timeseries = Some(TimeSeriesOptions { normalisation: r.normalisation, histogram_bins: r.histogram_bins, rasters: false });
        }
    }
    if let Some(c) = walk::<TrendOptions>(root, vals, "trend", diags) {
        if let Some(o) = &c.opts {
            let mut ok = true;
            if let Err(e) = o.validate() {
                option_error(&c, &e, diags);
                ok = false;
            }
            let lacking = few(o.min_years);
            if ok && !lacking.is_empty() {
                diags.push(Diagnostic::error(
                    c.span.clone(),
                    format!("[trend] needs at least {} years of RSEI per area (min_years); too few in {}", o.min_years, lacking.join(", ")),
                ));
                ok = false;
            }
            ok &= pooled_needs(c.tbl, &c.span, o.source, "trend", diags);
            if ok {
                plan.trend = c.opts.clone();
            }
        }
    }
    if let Some(c) = walk::<ChangeOptions>(root, vals, "change", diags) {
        if let Some(o) = &c.opts {
            let mut ok = true;
            if let Err(e) = o.validate() {
                option_error(&c, &e, diags);
                ok = false;
            }
            for (key, y) in [("from", o.from), ("to", o.to)] {
                if let Some(y) = y {
                    let lacking = years_in_all(&[y]);
                    if !lacking.is_empty() {
                        diags.push(Diagnostic::error(value_span(c.tbl, key).or(c.span.clone()), format!("[change] {key} = {y} is not a year of {}", lacking.join(", "))));
                        ok = false;
                    }
                }
            }
            let lacking = few(2);
            if !lacking.is_empty() {
                diags.push(Diagnostic::error(c.span.clone(), format!("[change] compares two years; one year only in {}", lacking.join(", "))));
                ok = false;
            }
            ok &= pooled_needs(c.tbl, &c.span, o.source, "change", diags);
            if ok {
                plan.change = c.opts.clone();
            }
        }
    }
    if let Some(c) = walk::<GeodetectorOptions>(root, vals, "geodetector", diags) {
        if let Some(o) = &c.opts {
            let mut ok = true;
            if let Err(e) = o.validate() {
                option_error(&c, &e, diags);
                ok = false;
            }
            match &facts.drivers {
                Some((names, _, _)) => {
                    let listed: Vec<(&str, &String)> = o.factors.iter().flatten().map(|f| ("factors", f)).chain(o.categorical.iter().map(|f| ("categorical", f))).collect();
                    for (key, f) in listed {
                        if !names.contains(f) {
                            let hint = suggest(f, names.iter().map(String::as_str)).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                            diags.push(Diagnostic::error(value_span(c.tbl, key).or(c.span.clone()), format!("[geodetector] {key}: {f:?} is not a driver of the study (drivers: {}){hint}", names.join(", "))));
                            ok = false;
                        }
                    }
                }
                None if facts.has_drivers_table => ok = false,
                None => {
                    diags.push(Diagnostic::error(c.span.clone(), "[geodetector] reads the driver stack of the driver analysis: add a [drivers] section"));
                    ok = false;
                }
            }
            if ok {
                plan.geodetector = c.opts.clone();
            }
        }
    }
    if let Some(c) = walk::<AutocorrelationOptions>(root, vals, "autocorrelation", diags) {
        if let Some(o) = &c.opts {
            let mut o = o.clone();
            let mut ok = true;
            // the grid of the driver analysis where the section leaves it out
            if let Some((_, crs, res)) = &facts.drivers {
                if o.crs.is_none() {
                    o.crs = Some(crs.clone());
                }
                if o.resolution_m.is_none() {
                    o.resolution_m = Some(*res);
                }
            }
            if let Err(e) = o.validate() {
                option_error(&c, &e, diags);
                ok = false;
            }
            if let Some(crs) = &o.crs {
                if let Err(msg) = check_crs(crs) {
                    diags.push(Diagnostic::error(value_span(c.tbl, "crs").or(c.span.clone()), format!("[autocorrelation] crs {crs:?} is not a CRS PROJ understands: {msg}")));
                    ok = false;
                }
            }
            if let Some(ys) = &o.years {
                let lacking = years_in_all(ys);
                if !lacking.is_empty() {
                    diags.push(Diagnostic::error(value_span(c.tbl, "years").or(c.span.clone()), format!("[autocorrelation] years {} are not all years of {}", year_ranges(ys), lacking.join(", "))));
                    ok = false;
                }
            }
            ok &= pooled_needs(c.tbl, &c.span, o.source, "autocorrelation", diags);
            if ok {
                plan.autocorrelation = Some(o);
            }
        }
    }
    plan
}

/// One area of a study as the analysis units see it.
pub struct UnitArea<'a> {
    /// The study area.
    pub area: &'a StudyArea,
    /// The polygon file it came from.
    pub file: &'a Path,
    /// Years analysed.
    pub years: &'a [i32],
}

/// Runs one analysis unit of a study (`output`: the study's output folder) for one area, into
/// its default folder; returns the analysis' notes.
pub fn run_unit(output: &Path, analyses: &AnalysesPlan, pa: &UnitArea<'_>, which: Which, progress: &dyn Progress) -> Result<Vec<String>> {
    let a = analyses;
    let rsei_dir = output.to_path_buf();
    let file = Some(pa.file.to_path_buf());
    let missing = || Error::msg(format!("the study has no [{}] section", which.name()));
    let notes = match which {
        Which::TimeSeries => {
            let options = a.timeseries.clone().ok_or_else(missing)?;
            timeseries::run(&TimeSeriesRequest { rsei_dir, area: pa.area.clone(), area_file: file, years: Some(pa.years.to_vec()), options, out_dir: None }, progress)?.notes
        }
        Which::Trend => {
            let options = a.trend.clone().ok_or_else(missing)?;
            trend::run(&TrendRequest { rsei_dir, area: pa.area.clone(), area_file: file, years: Some(pa.years.to_vec()), options, out_dir: None }, progress)?.notes
        }
        Which::Change => {
            let options = a.change.clone().ok_or_else(missing)?;
            change::run(&ChangeRequest { rsei_dir, area: pa.area.clone(), area_file: file, options, out_dir: None }, progress)?.notes
        }
        Which::Geodetector => {
            let options = a.geodetector.clone().ok_or_else(missing)?;
            geodetector::run(&GeodetectorRequest { rsei_dir, area: pa.area.clone(), options, out_dir: None }, progress)?.notes
        }
        Which::Autocorrelation => {
            let mut options = a.autocorrelation.clone().ok_or_else(missing)?;
            if options.years.is_none() {
                options.years = Some(pa.years.to_vec());
            }
            autocorrelation::run(&AutocorrelationRequest { rsei_dir, area: pa.area.clone(), area_file: file, options, out_dir: None }, progress)?.notes
        }
    };
    Ok(notes)
}

/// The output folder of an analysis unit.
pub fn unit_dir(output: &Path, area: &StudyArea, which: Which) -> PathBuf {
    output.join(area.slug()).join(which.folder())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run_check(text: &str, years: Vec<i32>) -> (AnalysesPlan, Vec<String>) {
        let doc = toml_edit::ImDocument::parse(text.to_string()).unwrap();
        let vals: toml::Table = toml::from_str(text).unwrap();
        let mut diags = Vec::new();
        let facts = StudyFacts { areas: vec![("A".into(), years)], drivers: None, has_drivers_table: false, pooled_rsei: None };
        let plan = check(doc.as_table(), &vals, &facts, &mut diags);
        (plan, diags.iter().map(|d| d.message.clone()).collect())
    }

    #[test]
    fn sections_and_their_checks() {
        let (p, d) = run_check("[timeseries]\n[trend]\nsource = \"pooled\"\n[change]\nfrom = 2019\n", vec![2018, 2019, 2020, 2021]);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(p.present(), vec![Which::TimeSeries, Which::Trend, Which::Change]);
        assert!(p.reads_pooled(Which::Trend) && !p.reads_pooled(Which::Change));
        let (p, d) = run_check("[trend]\nsource = \"pooled\"\nalpah = 0.1\n", vec![2018, 2019, 2020]);
        assert!(p.trend.is_none());
        assert!(d.iter().any(|m| m.contains("did you mean `alpha`")), "{d:?}");
        let (_, d) = run_check("[trend]\nsource = \"pooled\"\n", vec![2018, 2019, 2020]);
        assert!(d.iter().any(|m| m.contains("at least 4 years") && m.contains("\"A\" (3 years)")), "{d:?}");
        assert!(d.iter().any(|m| m.contains("add a [timeseries] section")), "{d:?}");
        let (_, d) = run_check("[trend]\nfdr_q = 2\n", vec![2018, 2019, 2020, 2021]);
        assert!(d.iter().any(|m| m.contains("invalid trend option fdr_q")), "{d:?}");
        let (_, d) = run_check("[change]\nto = 2030\n", vec![2018, 2019]);
        assert!(d.iter().any(|m| m.contains("to = 2030 is not a year of \"A\"")), "{d:?}");
        let (_, d) = run_check("[geodetector]\n", vec![2019]);
        assert!(d.iter().any(|m| m.contains("add a [drivers] section")), "{d:?}");
        let (_, d) = run_check("[autocorrelation]\ncrs = \"EPSG:999999\"\n", vec![2019]);
        assert!(d.iter().any(|m| m.contains("not a CRS PROJ understands")), "{d:?}");
        let (_, d) = run_check("trend = 3\n", vec![2019]);
        assert!(d.iter().any(|m| m.contains("`trend` must be a table")), "{d:?}");
        let (p, d) = run_check("[timeseries]\nnormalisation = { fixed = { ndvi = [-0.2, 1.0], wet = [-0.6, 0.2], ndbsi = [-0.6, 0.6], lst = [0.0, 50.0] } }\n", vec![2018, 2019]);
        assert!(d.is_empty(), "{d:?}");
        assert!(matches!(p.timeseries.unwrap().normalisation, rsei_core::model::Normalisation::Fixed { .. }));
        let (_, d) = run_check("[timeseries]\nnormalisation = { fixed = { ndvi = [1.0, -0.2], wet = [-0.6, 0.2], ndbsi = [-0.6, 0.6], lst = [0.0, 50.0] } }\n", vec![2018, 2019]);
        assert!(d.iter().any(|m| m.contains("normalisation.fixed.ndvi")), "{d:?}");
        // a pooled [rsei] model brings the drift and sign check without a [timeseries] section
        let doc = toml_edit::ImDocument::parse(String::new()).unwrap();
        let r = rsei_core::model::RseiOptions { pooled: true, normalisation: rsei_core::model::Normalisation::Percentile { lo: 1.0, hi: 99.0 }, histogram_bins: 1000 };
        let facts = StudyFacts { areas: vec![("A".into(), vec![2018, 2019])], drivers: None, has_drivers_table: false, pooled_rsei: Some(r.clone()) };
        let p = check(doc.as_table(), &toml::Table::new(), &facts, &mut Vec::new());
        let ts = p.timeseries.unwrap();
        assert_eq!((ts.normalisation, ts.histogram_bins, ts.rasters), (r.normalisation, 1000, false));
    }
}
