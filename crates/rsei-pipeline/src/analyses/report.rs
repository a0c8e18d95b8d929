//! The report sections of the analyses beyond the source study, read from what they wrote in an
//! area's folder (`timeseries/`, `trend/`, `change/`, `geodetector/`, `autocorrelation/`):
//! each `summary.json` for the numbers, the SVG figures and maps as they are. Nothing is computed
//! here but the ordering of numbers. A folder without `summary.json` gives no subsection; a
//! `summary.json` or figure that cannot be read is an error naming the file.

use std::path::Path;

use rsei_core::model::INDICATOR_NAMES;
use rsei_report::html::{escape_markup as esc, Block, Figure, Panel, Section, TCell, TableBlock};
use serde::de::DeserializeOwned;

use super::autocorrelation::{self, AutocorrelationSummary};
use super::change::{self, ChangeSummary};
use super::geodetector::{self, GeodetectorSummary};
use super::timeseries::{self, TimeSeriesSummary};
use super::trend::{self, TrendRunSummary};
use crate::error::{Result, StudyReportError};

/// `v` with `d` decimals and the typographic minus sign; "–" when missing.
fn fx(v: Option<f64>, d: usize) -> String {
    match v {
        Some(x) if x.is_finite() => rsei_report::ticks::format_fixed(x, d).replacen('-', "\u{2212}", 1),
        _ => "\u{2013}".into(),
    }
}

/// "< 0.001" or three decimals.
fn p_text(p: f64) -> String {
    if p.is_finite() && p < 0.001 {
        "< 0.001".into()
    } else {
        fx(Some(p), 3)
    }
}

fn pct(v: f64) -> String {
    fx(Some(100.0 * v), 1)
}

fn read<T: DeserializeOwned>(dir: &Path) -> Result<Option<T>> {
    let p = dir.join("summary.json");
    if !p.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(|e| StudyReportError::BadFile { path: p.clone(), reason: format!("cannot read: {e}") })?;
    let v = serde_json::from_str(&text).map_err(|e| StudyReportError::BadFile { path: p.clone(), reason: format!("unexpected content: {e}") })?;
    Ok(Some(v))
}

fn svg(dir: &Path, stem: &str) -> Result<Option<String>> {
    let p = dir.join(format!("{stem}.svg"));
    if !p.is_file() {
        return Ok(None);
    }
    let s = std::fs::read_to_string(&p).map_err(|e| StudyReportError::BadFile { path: p.clone(), reason: format!("cannot read: {e}") })?;
    if !s.contains("<svg") {
        return Err(StudyReportError::BadFile { path: p, reason: "not an SVG document".into() }.into());
    }
    Ok(Some(s))
}

/// Panels `(stem, label)` that exist, as a figure; `None` when none exists.
fn figure(dir: &Path, id: String, stems: &[(&str, &str)], caption: String, columns: Option<usize>, wide: bool) -> Result<Option<Figure>> {
    let mut panels = Vec::new();
    for (stem, label) in stems {
        if let Some(s) = svg(dir, stem)? {
            let label = if stems.len() > 1 { Some(format!("({}) {label}", (b'a' + panels.len() as u8) as char)) } else { None };
            panels.push(Panel { svg: s, label });
        }
    }
    if panels.is_empty() {
        return Ok(None);
    }
    let mut f = Figure::panels(id, panels, caption);
    f.columns = columns;
    f.wide = wide;
    Ok(Some(f))
}

fn timeseries_section(id: &str, name: &str, dir: &Path, s: &TimeSeriesSummary) -> Result<Section> {
    let mut sec = Section::new(format!("{id}-timeseries"), "Comparable time series (pooled PCA)");
    let m = &s.model;
    let loads: Vec<String> = (0..4).map(|k| format!("{} {}", INDICATOR_NAMES[k], fx(Some(m.pc1[k]), 3))).collect();
    let flagged = if s.flagged_years.is_empty() {
        "In every year the pooled PC1 keeps its ecological reading (NDVI and WET rise, NDBSI and LST fall with the pooled RSEI).".to_string()
    } else {
        format!("**The sign check fails in {}**: there the pooled RSEI does not read as ecological quality (see {{ref:tab-{id}-drift}}).", s.flagged_years.iter().map(i32::to_string).collect::<Vec<_>>().join(", "))
    };
    sec.para(format!(
        "One normalisation ({}) and one PCA over all {} years of {name} ({} pixel-years) put RSEI on one scale: PC1 loads {} and carries {} % of the variance. Each year's own PCA (the source study's) differs from it by at most {}\u{b0} ({{ref:tab-{id}-drift}}). {flagged}",
        timeseries::normalisation_name(&m.normalisation),
        s.years.len(),
        m.n_pixels,
        loads.join(", "),
        fx(Some(100.0 * m.pc1_contribution), 1),
        fx(Some(s.max_angle_deg), 2),
    ));
    if let Some(f) = figure(
        dir,
        format!("fig-{id}-timeseries"),
        &[("fig_loadings", "loadings"), ("fig_series", "mean RSEI")],
        format!("Comparable time series of {name}: PC1 loadings of each year's own PCA (solid) and of the pooled PCA (dashed); mean RSEI per year from the per-year and the pooled PCA."),
        Some(1),
        false,
    )? {
        sec.blocks.push(Block::Figure(f));
    }
    let mut head = vec![TCell::head("Year")];
    head.extend(INDICATOR_NAMES.iter().map(|n| TCell::head(format!("{n} own"))));
    head.extend([TCell::head("Angle (\u{b0})"), TCell::head("Max |\u{394}|"), TCell::head("Own PC1 %"), TCell::head("Pooled PC1 % in year"), TCell::head("Pooled RSEI"), TCell::head("Sign check")]);
    let mut t = TableBlock::new(
        format!("tab-{id}-drift"),
        format!("Drift of each year's own PC1 loadings from the pooled ones ({}), {name}; the angle between the two loading vectors, the largest difference of a loading, the variance share of each PC1, the mean pooled RSEI and the sign check of the pooled PC1 within the year.", loads.join(", ")),
        head,
    );
    for r in &s.drift {
        let mut row = vec![TCell::head(r.year.to_string())];
        row.extend((0..4).map(|k| TCell::num(Some(r.own[k]), 3).warned((k >= 2 && r.own[k] > 0.0) || (k < 2 && r.own[k] < 0.0))));
        row.extend([
            TCell::num(Some(r.angle_deg), 2),
            TCell::num(Some(r.max_abs_diff), 3),
            TCell::num(Some(r.own_pc1_pct), 1),
            TCell::num(Some(r.pooled_pc1_pct), 1),
            TCell::num(Some(r.rsei_mean), 3),
            TCell::text(if r.sign_ok { "ok".to_string() } else { esc(&r.sign_notes.join("; ")) }).warned(!r.sign_ok),
        ]);
        t.push(row);
    }
    sec.blocks.push(Block::Table(t));
    Ok(sec)
}

fn trend_section(id: &str, name: &str, dir: &Path, s: &TrendRunSummary) -> Result<Section> {
    let mut sec = Section::new(format!("{id}-trend"), "Trend");
    let x = &s.pixels;
    let km2 = |n: u64| fx(Some(n as f64 * s.pixel_area_km2), 1);
    let share = |n: u64| if x.tested > 0 { pct(n as f64 / x.tested as f64) } else { "\u{2013}".into() };
    let series = match &s.series_trend.test {
        Some(t) => format!(
            "The mean RSEI of {name} changed by {} per year (Theil\u{2013}Sen; Mann\u{2013}Kendall S = {}, Z = {}, p = {}: {})",
            fx(Some(t.slope), 4),
            t.s.to_string().replacen('-', "\u{2212}", 1),
            fx(Some(t.z), 2),
            p_text(t.p),
            t.trend.as_str()
        ),
        None => format!("The mean RSEI of {name} was not tested ({})", esc(s.series_trend.reason.as_deref().unwrap_or(""))),
    };
    sec.para(format!(
        "{series}. Per pixel ({} RSEI, {} years), {} of {} pixels were tested: significant improvement in {} km\u{b2} ({} %), significant degradation in {} km\u{b2} ({} %), no significant trend in {} % after Benjamini\u{2013}Hochberg control of the false discovery rate ({{ref:tab-{id}-trend}}).",
        s.source.label(),
        s.years.len(),
        x.tested,
        s.cells,
        km2(x.improvement),
        share(x.improvement),
        km2(x.degradation),
        share(x.degradation),
        share(x.not_significant),
    ));
    if let Some(f) = figure(
        dir,
        format!("fig-{id}-trend"),
        &[("map_class", "classes"), ("map_slope", "Sen slope")],
        format!("Trend of RSEI in {name}, {}: (a) significant improvement and degradation per pixel (Mann\u{2013}Kendall, FDR), (b) Theil\u{2013}Sen slope in RSEI per year.", crate::analyses::common::year_text(&s.years)),
        None,
        true,
    )? {
        sec.blocks.push(Block::Figure(f));
    }
    if let Some(f) = figure(dir, format!("fig-{id}-trend-series"), &[("fig_series", "")], format!("Mean RSEI of {name} per year with the Theil\u{2013}Sen line."), None, false)? {
        sec.blocks.push(Block::Figure(f));
    }
    let mut t = TableBlock::new(format!("tab-{id}-trend"), format!("Pixels of {name} by trend class ({} RSEI).", s.source.label()), vec![TCell::head("Class"), TCell::head("Pixels"), TCell::head("km\u{b2}"), TCell::head("% of tested")]);
    for (label, n, tested) in [
        ("Improvement", x.improvement, true),
        ("No significant trend", x.not_significant, true),
        ("Degradation", x.degradation, true),
        ("Not tested: no data", x.no_data, false),
        ("Not tested: too few years", x.insufficient, false),
        ("Not tested: constant", x.constant, false),
    ] {
        t.push(vec![TCell::head(label), TCell::int(n as i64), TCell::num(Some(n as f64 * s.pixel_area_km2), 1), if tested { TCell::num_text(share(n)) } else { TCell::missing() }]);
    }
    sec.blocks.push(Block::Table(t));
    Ok(sec)
}

fn change_section(id: &str, name: &str, dir: &Path, s: &ChangeSummary) -> Result<Section> {
    let mut sec = Section::new(format!("{id}-change"), format!("Change {}\u{2013}{}", s.from, s.to));
    let m = &s.transfer;
    sec.para(format!(
        "Between {} and {} ({} RSEI), {} % of the {} km\u{b2} graded in both years moved to a higher grade, {} % kept their grade and {} % moved to a lower one ({{ref:fig-{id}-change}}, {{ref:tab-{id}-transfer}}); RSEI changed by {} on average (standard deviation {}).",
        s.from,
        s.to,
        s.source.label(),
        pct(m.share_improved),
        fx(Some(m.total_area_km2), 1),
        pct(m.share_unchanged),
        pct(m.share_degraded),
        fx(Some(s.difference.mean), 3),
        fx(Some(s.difference.std), 3)
    ));
    if let Some(f) = figure(
        dir,
        format!("fig-{id}-change"),
        &[("fig_transfer", "grade transfers"), ("map_difference", "difference")],
        format!("Change of RSEI in {name} from {} to {}: (a) area moving between grades (km\u{b2}), (b) RSEI {} \u{2212} RSEI {}.", s.from, s.to, s.to, s.from),
        None,
        true,
    )? {
        sec.blocks.push(Block::Figure(f));
    }
    let names = ["Poor", "Fair", "Moderate", "Good", "Excellent"];
    let mut head = vec![TCell::head(format!("{} \u{2192} {}", s.from, s.to))];
    head.extend(names.iter().map(|n| TCell::head(*n)));
    head.push(TCell::head("Total"));
    let mut t = TableBlock::new(format!("tab-{id}-transfer"), format!("Grade transfer matrix of {name}, {} (rows) to {} (columns), km\u{b2}.", s.from, s.to), head);
    for (f, n) in names.iter().enumerate() {
        let mut row = vec![TCell::head(*n)];
        row.extend((0..5).map(|k| TCell::num(Some(m.area_km2[f][k]), 1).warned(k < f && m.counts[f][k] > 0)));
        row.push(TCell::num(Some(m.from_area_km2[f]), 1));
        t.push(row);
    }
    t.rule();
    let mut total = vec![TCell::head("Total")];
    total.extend((0..5).map(|k| TCell::num(Some(m.to_area_km2[k]), 1)));
    total.push(TCell::num(Some(m.total_area_km2), 1));
    t.push(total);
    t.notes.push("Shaded: moves to a lower grade. Cells graded in one year only are not in the matrix.".into());
    sec.blocks.push(Block::Table(t));
    Ok(sec)
}

fn geodetector_section(id: &str, name: &str, dir: &Path, s: &GeodetectorSummary) -> Result<Section> {
    let mut sec = Section::new(format!("{id}-geodetector"), format!("Geographical detector, {}", s.year));
    let r = &s.report;
    let mut f: Vec<_> = r.factors.iter().collect();
    f.sort_by(|a, b| b.factor.q.total_cmp(&a.factor.q));
    let top: Vec<String> = f.iter().take(3).map(|x| format!("{} (q = {})", esc(&x.name), fx(Some(x.factor.q), 3))).collect();
    let best = r.pairs.iter().max_by(|a, b| a.interaction.q12.total_cmp(&b.interaction.q12));
    let inter = best.map_or_else(String::new, |p| format!(" The strongest interaction is {} \u{2229} {} (q = {}, {}).", esc(&p.a), esc(&p.b), fx(Some(p.interaction.q12), 3), geodetector::interaction_words(p.interaction.kind)));
    sec.para(format!(
        "On the {} complete cells of the driver grid of {name}, the drivers stratifying RSEI best are {} ({{ref:tab-{id}-gd}}).{inter}",
        s.n,
        top.join(", ")
    ));
    if let Some(fig) = figure(
        dir,
        format!("fig-{id}-gd"),
        &[("fig_q", "factor detector"), ("fig_interaction", "interaction detector")],
        format!("Geographical detector of RSEI in {name}, {}: (a) q of each driver after optimal discretisation, (b) q of each driver (diagonal) and of each pair's overlay.", s.year),
        Some(1),
        false,
    )? {
        sec.blocks.push(Block::Figure(fig));
    }
    let mut t = TableBlock::new(
        format!("tab-{id}-gd"),
        format!("Factor detector of RSEI in {name}, {}: discretisation chosen by the largest q, q, its F statistic and p-value (noncentral F).", s.year),
        vec![TCell::head("Driver"), TCell::head("Method"), TCell::head("Classes"), TCell::head("q"), TCell::head("F"), TCell::head("p")],
    );
    for x in &f {
        let (method, k) = x.discretization.as_ref().map_or(("categories".to_string(), x.codes.len()), |d| (d.method.name().to_string(), d.n_classes()));
        t.push(vec![
            TCell::head(esc(&x.name)),
            TCell::text(method),
            TCell::int(k as i64),
            TCell::num(Some(x.factor.q), 3),
            TCell::num(Some(x.factor.f_stat), 1),
            TCell::num_text(p_text(x.factor.p_value)).warned(!x.factor.significant),
        ]);
    }
    if !s.left_out.is_empty() {
        t.notes.push(format!("Left out: {}.", s.left_out.iter().map(|(n, why)| format!("{} ({})", esc(n), esc(why))).collect::<Vec<_>>().join("; ")));
    }
    sec.blocks.push(Block::Table(t));
    Ok(sec)
}

fn autocorrelation_section(id: &str, name: &str, dir: &Path, s: &AutocorrelationSummary) -> Result<Section> {
    let mut sec = Section::new(format!("{id}-autocorrelation"), "Spatial autocorrelation");
    let queen: Vec<_> = s.moran.iter().filter(|m| m.weights == "queen").collect();
    let (lo, hi) = queen.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| (a.min(m.result.i), b.max(m.result.i)));
    let last = s.lisa.last();
    let lisa = last.map_or_else(String::new, |l| {
        let n = l.n.max(1) as f64;
        format!(" In {}, {} % of the cells form significant high\u{2013}high clusters and {} % low\u{2013}low clusters (LISA).", l.year, pct(l.counts[1] as f64 / n), pct(l.counts[3] as f64 / n))
    });
    sec.para(format!(
        "On the {} m driver grid ({} cells of {name}, {} RSEI), global Moran's I of RSEI with queen contiguity is {} over the years ({{ref:tab-{id}-moran}}); positive values mean that similar values lie next to each other, values near 0 a random pattern.{lisa}",
        fx(Some(s.resolution_m), 0),
        s.cells_inside,
        s.source.label(),
        if queen.len() > 1 { format!("{}\u{2013}{}", fx(Some(lo), 3), fx(Some(hi), 3)) } else { fx(Some(lo), 3) },
    ));
    if let Some(f) = figure(
        dir,
        format!("fig-{id}-autocorrelation"),
        &[("fig_moran", "Moran's I"), ("map_lisa", "LISA clusters")],
        format!("Spatial autocorrelation of RSEI in {name}: (a) global Moran's I per year with queen and distance-band weights, (b) LISA clusters of the last year."),
        None,
        true,
    )? {
        sec.blocks.push(Block::Figure(f));
    }
    let mut t = TableBlock::new(
        format!("tab-{id}-moran"),
        format!("Global Moran's I of RSEI in {name} per year and weights, with the z-score under normality and the permutation pseudo p-value; LISA cluster counts (HH, LL, HL, LH)."),
        vec![TCell::head("Year"), TCell::head("Weights"), TCell::head("I"), TCell::head("z"), TCell::head("p (perm.)"), TCell::head("HH"), TCell::head("LL"), TCell::head("HL"), TCell::head("LH")],
    );
    for m in &s.moran {
        let l = s.lisa.iter().find(|l| l.year == m.year).filter(|_| m.weights == "queen" || !s.moran.iter().any(|x| x.weights == "queen"));
        let c = |k: usize| l.map_or_else(TCell::missing, |l| TCell::int(l.counts[k] as i64));
        t.push(vec![
            TCell::head(m.year.to_string()),
            TCell::text(m.weights.replace('_', " ")),
            TCell::num(Some(m.result.i), 3),
            TCell::num(Some(m.result.z_norm), 1),
            m.result.p_sim.map_or_else(TCell::missing, |p| TCell::num_text(p_text(p))),
            c(1),
            c(3),
            c(4),
            c(2),
        ]);
    }
    sec.blocks.push(Block::Table(t));
    Ok(sec)
}

/// The subsection "Beyond the source study" of an area (folder `area_dir`, HTML id stem `id`),
/// with one part per analysis found; `None` when the area has none.
pub fn area_subsection(area_dir: &Path, id: &str, name: &str) -> Result<Option<Section>> {
    let name = esc(name);
    let mut sec = Section::new(format!("{id}-beyond"), "Beyond the source study");
    let d = |f: &str| area_dir.join(f);
    if let Some(s) = read::<TimeSeriesSummary>(&d(timeseries::FOLDER))? {
        sec.subsections.push(timeseries_section(id, &name, &d(timeseries::FOLDER), &s)?);
    }
    if let Some(s) = read::<TrendRunSummary>(&d(trend::FOLDER))? {
        sec.subsections.push(trend_section(id, &name, &d(trend::FOLDER), &s)?);
    }
    if let Some(s) = read::<ChangeSummary>(&d(change::FOLDER))? {
        sec.subsections.push(change_section(id, &name, &d(change::FOLDER), &s)?);
    }
    if let Some(s) = read::<GeodetectorSummary>(&d(geodetector::FOLDER))? {
        sec.subsections.push(geodetector_section(id, &name, &d(geodetector::FOLDER), &s)?);
    }
    if let Some(s) = read::<AutocorrelationSummary>(&d(autocorrelation::FOLDER))? {
        sec.subsections.push(autocorrelation_section(id, &name, &d(autocorrelation::FOLDER), &s)?);
    }
    if sec.subsections.is_empty() {
        return Ok(None);
    }
    sec.para("Analyses that go beyond the method of the source study (comparable RSEI across years, trends, change, geographical detector, spatial autocorrelation); their methods are described in {ref:methods-beyond}.");
    Ok(Some(sec))
}

/// Short phrases for the key results of an area (empty when it has no analysis).
pub fn key_phrases(area_dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(s) = read::<TrendRunSummary>(&area_dir.join(trend::FOLDER))? {
        if let Some(t) = &s.series_trend.test {
            out.push(format!("Sen slope of the mean RSEI {} per year (Mann\u{2013}Kendall p = {})", fx(Some(t.slope), 4), p_text(t.p)));
        }
    }
    if let Some(s) = read::<GeodetectorSummary>(&area_dir.join(geodetector::FOLDER))? {
        if let Some(f) = s.report.factors.iter().max_by(|a, b| a.factor.q.total_cmp(&b.factor.q)) {
            out.push(format!("largest geodetector q {} ({})", fx(Some(f.factor.q), 2), esc(&f.name)));
        }
    }
    Ok(out)
}

/// Which analyses were found in any of the area folders.
pub fn present(area_dirs: &[&Path]) -> Vec<&'static str> {
    [timeseries::FOLDER, trend::FOLDER, change::FOLDER, geodetector::FOLDER, autocorrelation::FOLDER].into_iter().filter(|f| area_dirs.iter().any(|d| d.join(f).join("summary.json").is_file())).collect()
}

/// The methods subsection of the analyses found (`folders`: names of [`present`]); `None` when
/// there is none.
pub fn methods_subsection(folders: &[&str]) -> Option<Section> {
    if folders.is_empty() {
        return None;
    }
    let mut sec = Section::new("methods-beyond", "Beyond the source study");
    let mut items = Vec::new();
    if folders.contains(&timeseries::FOLDER) {
        items.push("**Comparable time series.** The four indicators of all years of an area are normalised with one set of bounds (min\u{2013}max over all years, percentiles of the pooled histogram or fixed bounds) and one PCA is fitted on the pooled pixels; RSEI0 of every year is rescaled with the minimum and maximum over all years, so RSEI of different years is on one scale (cf. Zheng et al. 2022, Sun et al. 2022). Each year's own PCA is compared with the pooled one by the angle between the PC1 loading vectors; the pooled PC1 passes the sign check in a year when, within that year, NDVI and WET covary positively and NDBSI and LST negatively with the pooled RSEI.".to_string());
    }
    if folders.contains(&trend::FOLDER) {
        items.push("**Trend.** Per pixel, the Mann\u{2013}Kendall test (tie-corrected variance, continuity correction; optionally the Hamed\u{2013}Rao correction for autocorrelation) and the Theil\u{2013}Sen slope over the years; significance after Benjamini\u{2013}Hochberg control of the false discovery rate across the tested pixels; pixels with fewer than four valid years or a constant series are not tested. The same test on the yearly mean RSEI of the area.".to_string());
    }
    if folders.contains(&change::FOLDER) {
        items.push("**Change.** The grade transfer matrix counts the cells (and km\u{b2}) moving from each grade of the earlier year to each grade of the later one; the difference map is RSEI of the later year minus RSEI of the earlier one.".to_string());
    }
    if folders.contains(&geodetector::FOLDER) {
        items.push("**Geographical detector** (Wang et al. 2010; Wang and Xu 2017). q = 1 \u{2212} SSW/SST of RSEI stratified by a driver, its significance by the noncentral F test; continuous drivers are discretised by the method and number of classes with the largest q (equal, quantile, natural and geometric breaks, 3\u{2013}8 classes; Song et al. 2020); interaction types from the q of each pair's overlay; risk (Welch t tests between strata) and ecological (F tests) detectors; on the cells of the driver grid where RSEI and every driver have a value.".to_string());
    }
    if folders.contains(&autocorrelation::FOLDER) {
        items.push("**Spatial autocorrelation.** RSEI is resampled (bilinear) onto the 1 km driver grid; global Moran's I with row-standardised queen and distance-band weights, its z-scores and a permutation test (999 permutations); local Moran's I (LISA, Anselin 1995) with conditional permutations and Benjamini\u{2013}Hochberg control, clusters high\u{2013}high, low\u{2013}low, high\u{2013}low and low\u{2013}high.".to_string());
    }
    sec.blocks.push(Block::List(items));
    Some(sec)
}

/// References of the analyses found (`folders`: names of [`present`]).
pub fn references(folders: &[&str]) -> Vec<String> {
    let mut r = Vec::new();
    let has = |f: &str| folders.contains(&f);
    if has(trend::FOLDER) || has(autocorrelation::FOLDER) {
        r.push("Benjamini, Y.; Hochberg, Y. (1995). Controlling the false discovery rate: a practical and powerful approach to multiple testing. *Journal of the Royal Statistical Society B* 57, 289\u{2013}300.".to_string());
    }
    if has(autocorrelation::FOLDER) {
        r.push("Anselin, L. (1995). Local indicators of spatial association \u{2014} LISA. *Geographical Analysis* 27, 93\u{2013}115.".to_string());
        r.push("Moran, P.A.P. (1950). Notes on continuous stochastic phenomena. *Biometrika* 37, 17\u{2013}23.".to_string());
    }
    if has(trend::FOLDER) {
        r.push("Hamed, K.H.; Rao, A.R. (1998). A modified Mann\u{2013}Kendall trend test for autocorrelated data. *Journal of Hydrology* 204, 182\u{2013}196.".to_string());
        r.push("Kendall, M.G. (1975). *Rank Correlation Methods*. Griffin, London.".to_string());
        r.push("Mann, H.B. (1945). Nonparametric tests against trend. *Econometrica* 13, 245\u{2013}259.".to_string());
        r.push("Sen, P.K. (1968). Estimates of the regression coefficient based on Kendall's tau. *Journal of the American Statistical Association* 63, 1379\u{2013}1389.".to_string());
    }
    if has(geodetector::FOLDER) {
        r.push("Song, Y.; Wang, J.; Ge, Y.; Xu, C. (2020). An optimal parameters-based geographical detector model enhances geographic characteristics of explanatory variables for spatial heterogeneity analysis. *GIScience & Remote Sensing* 57, 593\u{2013}610.".to_string());
        r.push("Wang, J.F.; Li, X.H.; Christakos, G.; Liao, Y.L.; Zhang, T.; Gu, X.; Zheng, X.Y. (2010). Geographical detectors-based health risk assessment and its application in the neural tube defects study of the Heshun region, China. *International Journal of Geographical Information Science* 24, 107\u{2013}127.".to_string());
        r.push("Wang, J.F.; Xu, C.D. (2017). Geodetector: principle and prospective. *Acta Geographica Sinica* 72, 116\u{2013}134.".to_string());
    }
    if has(timeseries::FOLDER) {
        r.push("Sun, C.; Li, J.; Liu, Y.; Zhao, S.; Zheng, J.; Zhang, S. (2022). Ecological quality assessment and monitoring using a time-series remote sensing-based ecological index (ts-RSEI). *GIScience & Remote Sensing* 59, 1793\u{2013}1816.".to_string());
        r.push("Zheng, Z.; Wu, Z.; Chen, Y.; Guo, C.; Marinello, F. (2022). Instability of remote sensing based ecological index (RSEI) and its improvement for time series analysis. *Science of the Total Environment* 814, 152595.".to_string());
    }
    r
}
