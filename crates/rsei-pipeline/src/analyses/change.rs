//! # Change between two years: grade transfer matrix and difference maps (`rsei change`)
//!
//! Reads the grade and RSEI rasters of two years of an area — per-year (`<year>/grade.tif`,
//! `rsei.tif`) or pooled (`timeseries/grade_<year>.tif`, `rsei_<year>.tif`; [`RseiSource`]) —
//! and, with the numeric core (`rsei_core::change`), writes:
//!
//! ```text
//! OUT/ (default <rsei>/<area>/change/)
//!   difference_<from>_<to>.tif      RSEI later − earlier (NaN where either year has none)
//!   grade_change_<from>_<to>.tif    later − earlier grade, −4..4 (−128 where either year has none)
//!   transfer_matrix.csv|json        every grade pair: cells, km², share of the earlier grade and of all
//!   transfer_summary.csv|json       improved / unchanged / degraded cells and km², cells graded in one year only
//!   difference.csv|json             mean, std, range of the difference; increased / unchanged / decreased (± tolerance)
//!   fig_transfer.svg|png            flow diagram of the grade transfers (km²)
//!   map_difference.svg|png          map of the difference
//!   summary.json  manifest.json
//! ```
//!
//! With per-year RSEI each year is scaled to [0, 1] on its own: the transfer matrix then compares
//! positions within each year's range; the pooled source compares values on one scale (see
//! `rsei timeseries`). Errors name the area, the years and the files: a year without results,
//! the same year twice, grids that differ, no cell graded in both years.

use std::path::PathBuf;

use rsei_core::change::{difference_map, grade_change_map, transfer_matrix, ChangeError, TransferMatrix, GRADE_CHANGE_NODATA, N_GRADES};
use rsei_report::color::{Rgba, RSEI_GRADE_COLORS, RSEI_GRADE_NAMES};
use rsei_report::sankey::{Sankey, SankeyNode};
use rsei_report::table::{Cell, Column, Table};
use rsei_report::{MapPalette, MapStyle};
use serde::{Deserialize, Serialize};

use super::common::{self, OutputSet, RasterData, RseiSource};
use crate::area::StudyArea;
use crate::error::{Context, Error, Result};
use crate::outputs::SOFTWARE;
use crate::progress::Progress;

/// Folder of the outputs inside an area's results folder.
pub const FOLDER: &str = "change";

/// Options of the change analysis (`[change]` of a study file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChangeOptions {
    /// Which RSEI: `per_year` (default) or `pooled`.
    pub source: RseiSource,
    /// Earlier year (default: the first year with results).
    pub from: Option<i32>,
    /// Later year (default: the last year with results).
    pub to: Option<i32>,
    /// |difference| ≤ tolerance counts as unchanged in the difference summary (default 0.05 RSEI).
    pub tolerance: f64,
}

impl Default for ChangeOptions {
    fn default() -> Self {
        ChangeOptions { source: RseiSource::PerYear, from: None, to: None, tolerance: 0.05 }
    }
}

impl ChangeOptions {
    /// Checks every option, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::option("change.tolerance", format!("invalid change option tolerance: must be finite and at least 0, got {}", self.tolerance)));
        }
        if let (Some(a), Some(b)) = (self.from, self.to) {
            if a >= b {
                return Err(Error::option("change.from", format!("invalid change option from: the earlier year {a} must come before the later year {b}")));
            }
        }
        Ok(())
    }
}

/// What to analyse: the grade transfer and the difference between two years (run it with [`run`]).
///
/// ```no_run
/// use rsei_pipeline::analyses::change::{run, ChangeOptions, ChangeRequest};
/// use rsei_pipeline::area::{load_areas, AreaSource};
/// use rsei_pipeline::progress::Silent;
///
/// let area = load_areas(&AreaSource::file("city.geojson"))?.remove(0);
/// let options = ChangeOptions { from: Some(2001), to: Some(2022), ..ChangeOptions::default() };
/// let s = run(&ChangeRequest { rsei_dir: "results".into(), area, area_file: None, options, out_dir: None }, &Silent)?;
/// println!("{} → {}: {} cells improved, {} degraded", s.from, s.to, s.transfer.improved, s.transfer.degraded);
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ChangeRequest {
    /// Output folder of a compute run (holds `<area>/<year>/rsei.tif`).
    pub rsei_dir: PathBuf,
    /// The study area.
    pub area: StudyArea,
    /// The polygon file of the area (recorded in the manifest).
    pub area_file: Option<PathBuf>,
    /// Options of the analysis.
    pub options: ChangeOptions,
    /// Output folder; `None` = `<rsei>/<area>/change`.
    pub out_dir: Option<PathBuf>,
}

/// Headline results (also `summary.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChangeSummary {
    /// Software and version that made the results.
    pub software: String,
    /// The study area.
    pub area: String,
    /// Which RSEI was analysed (per-year models or the pooled one).
    pub source: RseiSource,
    /// Earlier year.
    pub from: i32,
    /// Later year.
    pub to: i32,
    /// Area of one cell (km²).
    pub pixel_area_km2: f64,
    /// Grade transfer matrix (cells and km²).
    pub transfer: TransferMatrix,
    /// Cells of the area graded in neither year (water, nodata).
    pub ungraded_inside: Option<u64>,
    /// Summary of the difference map (later − earlier).
    pub difference: rsei_core::change::DifferenceSummary,
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

fn transfer_table(area: &str, from: i32, to: i32, m: &TransferMatrix) -> Table {
    let mut t = Table::new(vec![
        Column::new("area"),
        Column::new("from_year"),
        Column::new("to_year"),
        Column::new("from_grade"),
        Column::new("from_name"),
        Column::new("to_grade"),
        Column::new("to_name"),
        Column::with_unit("cells", "cells"),
        Column::with_unit("area_km2", "km²"),
        Column::new("share_of_from"),
        Column::new("share_of_total"),
    ]);
    for r in m.rows() {
        let _ = t.push_row(vec![
            Cell::Text(area.into()),
            Cell::Int(i64::from(from)),
            Cell::Int(i64::from(to)),
            Cell::Int(i64::from(r.from)),
            Cell::Text(r.from_name.clone()),
            Cell::Int(i64::from(r.to)),
            Cell::Text(r.to_name.clone()),
            Cell::Int(r.count as i64),
            fl(r.area_km2, 4),
            fl(r.share_of_from, 6),
            fl(r.share_of_total, 6),
        ]);
    }
    t
}

fn transfer_summary_table(area: &str, from: i32, to: i32, m: &TransferMatrix, ungraded: Option<u64>) -> Table {
    let mut t = Table::new(vec![Column::new("area"), Column::new("from_year"), Column::new("to_year"), Column::new("what"), Column::with_unit("cells", "cells"), Column::with_unit("area_km2", "km²"), Column::new("share")]);
    let km2 = |c: u64| c as f64 * m.cell_area_km2;
    let share = |c: u64| Cell::float(c as f64 / m.n as f64, 6);
    let mut rows: Vec<(String, u64, Cell)> = vec![
        ("graded in both years".into(), m.n, Cell::float(1.0, 6)),
        ("improved (higher grade)".into(), m.improved, share(m.improved)),
        ("unchanged grade".into(), m.unchanged, share(m.unchanged)),
        ("degraded (lower grade)".into(), m.degraded, share(m.degraded)),
    ];
    for d in -(N_GRADES as i64 - 1)..=(N_GRADES as i64 - 1) {
        let c = m.steps[(d + N_GRADES as i64 - 1) as usize];
        rows.push((format!("grade change {d:+}"), c, share(c)));
    }
    rows.push((format!("graded in {to} only"), m.earlier_missing, Cell::Text("not in the matrix".into())));
    rows.push((format!("graded in {from} only"), m.later_missing, Cell::Text("not in the matrix".into())));
    if let Some(u) = ungraded {
        rows.push(("in the area, graded in neither year (water, nodata)".into(), u, Cell::Text("not in the matrix".into())));
    }
    for (what, c, s) in rows {
        let _ = t.push_row(vec![Cell::Text(area.into()), Cell::Int(i64::from(from)), Cell::Int(i64::from(to)), Cell::Text(what), Cell::Int(c as i64), fl(km2(c), 4), s]);
    }
    t
}

fn difference_table(area: &str, from: i32, to: i32, d: &rsei_core::change::DifferenceSummary) -> Table {
    let mut t = Table::new(vec![Column::new("area"), Column::new("from_year"), Column::new("to_year"), Column::new("statistic"), Column::new("value")]);
    let rows: Vec<(&str, Cell)> = vec![
        ("cells valid in both years", Cell::Int(d.n as i64)),
        ("mean difference", fl(d.mean, 6)),
        ("std of the difference", fl(d.std, 6)),
        ("smallest difference", fl(d.min, 6)),
        ("largest difference", fl(d.max, 6)),
        ("tolerance", fl(d.tolerance, 4)),
        ("cells increased (d > tolerance)", Cell::Int(d.increased as i64)),
        ("cells unchanged (|d| <= tolerance)", Cell::Int(d.unchanged as i64)),
        ("cells decreased (d < -tolerance)", Cell::Int(d.decreased as i64)),
        ("share increased", fl(d.share_increased, 6)),
        ("share unchanged", fl(d.share_unchanged, 6)),
        ("share decreased", fl(d.share_decreased, 6)),
    ];
    for (s, v) in rows {
        let _ = t.push_row(vec![Cell::Text(area.into()), Cell::Int(i64::from(from)), Cell::Int(i64::from(to)), Cell::Text(s.into()), v]);
    }
    t
}

/// The flow diagram of a transfer matrix (km²).
pub fn transfer_chart(area: &str, from: i32, to: i32, m: &TransferMatrix) -> Sankey {
    let nodes: Vec<SankeyNode> = (0..N_GRADES).map(|g| SankeyNode { label: RSEI_GRADE_NAMES[g].into(), color: RSEI_GRADE_COLORS[g] }).collect();
    Sankey {
        title: format!("RSEI grades of {area}, {from} \u{2192} {to}"),
        left_title: from.to_string(),
        right_title: to.to_string(),
        left: nodes.clone(),
        right: nodes,
        flows: m.area_km2.iter().map(|r| r.to_vec()).collect(),
        unit: "km\u{b2}".into(),
        decimals: 1,
    }
}

fn to_grades(v: &[f32]) -> Vec<u8> {
    v.iter().map(|&x| if x.is_finite() && (1.0..=5.0).contains(&x) { x as u8 } else { 0 }).collect()
}

/// Runs the change analysis of one area (see the module documentation) and writes its outputs.
pub fn run(req: &ChangeRequest, progress: &dyn Progress) -> Result<ChangeSummary> {
    let o = &req.options;
    o.validate()?;
    let name = req.area.name.as_str();
    let area_dir = common::area_dir(&req.rsei_dir, &req.area)?;
    let available = o.source.years(&area_dir, name, None)?;
    let from = o.from.unwrap_or(available[0]);
    let to = o.to.unwrap_or(available[available.len() - 1]);
    if from >= to {
        return Err(Error::input(
            &area_dir,
            format!("study area {name:?}: a change needs two different years, earlier first; got {from} and {to} (years with {} RSEI: {})", o.source.label(), common::year_text(&available)),
        ));
    }
    let years = o.source.years(&area_dir, name, Some(&[from, to]))?;
    progress.message(&format!("{name}: change {from} \u{2192} {to}"));
    let (grid, grades) = common::read_layers(&years, |y| o.source.grade_path(&area_dir, y))?;
    let (rgrid, rsei) = common::read_layers(&years, |y| o.source.rsei_path(&area_dir, y))?;
    grid.check_same(&rgrid).map_err(|e| Error::input(&rsei[0].path, format!("{} and {} are not on the same grid ({e})", grades[0].path.display(), rsei[0].path.display())))?;
    let (g0, g1) = (to_grades(&grades[0].values), to_grades(&grades[1].values));
    let km2 = grid.cell_area() / 1e6;
    let ctx = |e: ChangeError| Error::input(&area_dir, format!("study area {name:?}, {} RSEI {from} \u{2192} {to}: {e}", o.source.label()));
    let m = transfer_matrix(&g0, &g1, km2).map_err(ctx)?;
    let gc = grade_change_map(&g0, &g1).map_err(ctx)?;
    let diff = difference_map(&rsei[0].values, &rsei[1].values, o.tolerance).map_err(ctx)?;
    let refs: Vec<&[f32]> = rsei.iter().map(|l| l.values.as_slice()).collect();
    let (inside, water) = common::inside_of(&area_dir, from, &refs)?;
    let outside = inside.iter().filter(|&&i| !i).count() as u64;
    let ungraded_inside = water.is_some().then(|| m.both_missing.saturating_sub(outside));
    let mut notes = Vec::new();
    if o.source == RseiSource::PerYear {
        notes.push(format!("per-year RSEI: {from} and {to} are each scaled to [0, 1] on their own; the pooled source (rsei timeseries) compares them on one scale"));
    }
    if m.earlier_missing + m.later_missing > 0 {
        notes.push(format!("{} cell(s) graded in {to} only and {} in {from} only are left out of the matrix", m.earlier_missing, m.later_missing));
    }

    let out_dir = req.out_dir.clone().unwrap_or_else(|| area_dir.join(FOLDER));
    let mut set = OutputSet::new(&out_dir, "RSEI change between two years");
    set.raster(&format!("difference_{from}_{to}.tif"), &grid, RasterData::F32(diff.values.clone()), &format!("RSEI {to} - RSEI {from} ({})", o.source.label()), Some("1"));
    let gc16: Vec<i16> = gc.iter().map(|&v| i16::from(v)).collect();
    set.raster(
        &format!("grade_change_{from}_{to}.tif"),
        &grid,
        RasterData::I16(gc16, i16::from(GRADE_CHANGE_NODATA)),
        &format!("RSEI grade {to} - grade {from}: -4 .. 4 (positive = improvement)"),
        None,
    );
    set.table("transfer_matrix", &transfer_table(name, from, to, &m))?;
    set.table("transfer_summary", &transfer_summary_table(name, from, to, &m, ungraded_inside))?;
    set.table("difference", &difference_table(name, from, to, &diff.summary))?;
    let sk = transfer_chart(name, from, to, &m);
    let svg = rsei_report::sankey::to_svg(&sk, 640.0, 440.0).context("figure fig_transfer")?;
    let png = rsei_report::sankey::to_png(&sk, 640.0, 440.0, 2.0).context("figure fig_transfer")?;
    set.file("fig_transfer.svg", svg.into_bytes());
    set.file("fig_transfer.png", png);
    let lim = diff.summary.min.abs().max(diff.summary.max.abs()).max(1e-6);
    let water_mask = water.clone();
    let shown: Vec<f32> = match &water_mask {
        Some(w) => diff.values.iter().zip(w).map(|(&v, &is_w)| if is_w { f32::NAN } else { v }).collect(),
        None => diff.values.clone(),
    };
    let (png, svg) = common::render_map(
        &grid,
        &shown,
        &inside,
        Some((&req.area.polygon, &rsei_core::Crs::modis_sinusoidal())),
        MapStyle {
            title: format!("RSEI {to} \u{2212} {from}, {name}"),
            palette: MapPalette::Continuous { ramp: rsei_report::color::Ramp::red_blue(), min: -lim, max: lim },
            legend_title: "\u{394}RSEI".into(),
            nodata_color: Rgba::hex(0xdddddd),
            ..MapStyle::default()
        },
    )?;
    set.file("map_difference.svg", svg.into_bytes());
    set.file("map_difference.png", png);
    let mut summary = ChangeSummary {
        software: SOFTWARE.into(),
        area: name.into(),
        source: o.source,
        from,
        to,
        pixel_area_km2: km2,
        transfer: m,
        ungraded_inside,
        difference: diff.summary,
        notes,
        files: Vec::new(),
        out_dir: out_dir.clone(),
    };
    let mut names = set.names();
    names.insert(names.len() - 1, "summary.json".into());
    summary.files = names;
    set.json("summary.json", &summary)?;
    let mut inputs: Vec<PathBuf> = grades.iter().chain(&rsei).map(|l| l.path.clone()).collect();
    inputs.extend(req.area_file.iter().cloned());
    let inputs = common::input_checksums(&inputs)?;
    let mut manifest = common::manifest_head("RSEI change: grade transfer matrix and difference map", &req.area, o, &inputs)?;
    manifest["years"] = serde_json::json!([from, to]);
    set.write(manifest)?;
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn grades_from_rasters() {
        assert_eq!(to_grades(&[f32::NAN, 1.0, 5.0, 3.0, 0.0, 6.0]), vec![0, 1, 5, 3, 0, 0]);
    }

    #[test]
    fn summary_table_adds_up() {
        let e = [1u8, 1, 2, 3, 3, 5, 0, 4, 0, 2];
        let l = [1u8, 2, 2, 1, 4, 5, 3, 0, 0, 5];
        let m = transfer_matrix(&e, &l, 0.5).unwrap();
        let t = transfer_summary_table("A", 2001, 2002, &m, Some(1));
        let csv = t.to_csv();
        assert!(csv.contains("improved (higher grade),3,1.5000,0.428571"), "{csv}");
        assert!(csv.contains("grade change +3,1,0.5000"), "{csv}");
        assert!(!csv.contains(",,"), "no silent gap: {csv}");
        let sk = transfer_chart("A", 2001, 2002, &m);
        assert_eq!(sk.flows[0][1], 0.5);
    }

    #[test]
    fn bad_options() {
        assert!(ChangeOptions { tolerance: -1.0, ..Default::default() }.validate().is_err());
        let e = ChangeOptions { from: Some(2020), to: Some(2019), ..Default::default() }.validate().unwrap_err();
        assert!(e.to_string().contains("earlier year 2020 must come before"), "{e}");
    }
}
