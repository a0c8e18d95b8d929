//! `rsei run`: executes a checked study, reusing every unit whose results are still valid.
//!
//! ```text
//! OUT/
//!   .rsei/                 study marker, checksum and inventory caches, lock (the run's state)
//!   <area>/<year>/…        RSEI of an area and year (as `rsei compute`), manifest.json last
//!   <area>/mining/…        mining analysis of an area (as `rsei mining`)
//!   <area>/drivers/…       driver analysis of an area (as `rsei drivers`), one unit per area
//!   drivers/…              driver ranking of all areas, one unit after the areas' units
//!   <area>/timeseries/ trend/ change/ geodetector/ autocorrelation/   the analyses of the study's sections, one unit per area
//!   <area>/pca_table.*  <area>/rsei_summary.*            ┐ run-level tables
//!   pca_table.*  rsei_summary.*  manifest.json           ┘
//!   report.html            the study report, rewritten at the end of every run
//! ```
//!
//! With `[data.stac]`, the windows of the catalogue's assets are fetched first (or found in the
//! cache), and the units reading them are keyed by the asset versions ([`super::stac`]); with
//! scene collections, the scenes are fetched into scene folders of the cache and run as the
//! scenes of `[data] scenes` folders.
//!
//! Order: every unit's key is computed first (input files hashed once, through the cache); each
//! unit is then reused or recomputed (its old outputs removed first), and the log says which and
//! why. RSEI units run in parallel (rayon; each is itself parallel over dates), then the mining and
//! driver units in parallel, then the driver ranking and the tables. A unit whose inputs failed is skipped. Each unit's
//! outputs depend only on its inputs, and the tables are assembled in a fixed order (areas as in
//! the study, years ascending) from exact values stored in the RSEI manifests, so the result does
//! not depend on the thread count, nor on whether the run was interrupted and resumed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::bail;
use crate::error::{Context, Error, Result};
use rayon::prelude::*;
use rsei_report::table::Table;
use serde_json::json;

use super::analyses::{run_unit, unit_dir, UnitArea, Which};
use super::progress::{StudyObserver, UnitObserver};
use super::units::{
    area_hash, dataset_files, decode_cell, encode_cell, finish_manifest, outputs_present, read_manifest, record_of, sha256_hex, value_hash, HashCache, KeyParts, UnitRecord,
};
use super::validate::{year_ranges, Plan, MARKER, STATE_DIR};
use crate::compute::{YearJob, DEFAULT_STRIP_CELLS};
use crate::drivers::{DriverInputs, RUN_FOLDER};
use crate::mining::{AreaInput, MiningRequest};
use crate::onepass::{run_groups, Group, GroupEvent, PassSettings};
use crate::options::NdviSource;
use crate::outputs::SOFTWARE;
use crate::run::{RseiRequest, YearSummary};

/// How to run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunSettings {
    /// Recompute every unit, whatever its manifest says.
    pub force: bool,
    /// Memory budget instead of the study's `[study] memory`.
    pub memory: Option<crate::budget::MemoryBudget>,
}

/// The plan file of the RSEI pass of a study, in the state folder.
pub const PASS_FILE: &str = "pass.json";

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// Labels of the units reused and computed.
    pub reused: Vec<String>,
    /// Units computed (the others were reused).
    pub computed: Vec<String>,
    /// Units that failed, with the error.
    pub failed: Vec<(String, String)>,
    /// Units skipped because a unit they read failed.
    pub skipped: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// RSEI of an area: one year, or all its years (pooled PCA).
    Rsei { area: usize, years: Vec<i32> },
    Mining { area: usize },
    /// Driver analysis of one area.
    Drivers { area: usize },
    /// Tables, charts and ranking of the driver analyses of all areas.
    DriverRanking,
    Tables,
    /// An analysis beyond the source study for one area (`[timeseries]`, `[trend]`, …).
    Analysis { area: usize, which: Which },
}

struct Unit {
    kind: Kind,
    label: String,
    /// Manifests that hold the unit's record (a pooled RSEI unit has one per year).
    manifests: Vec<PathBuf>,
    /// Removed before the unit is computed.
    clear_dirs: Vec<PathBuf>,
    clear_files: Vec<PathBuf>,
    parts: KeyParts,
    key: String,
    deps: Vec<usize>,
}

impl Unit {
    fn record(&self) -> UnitRecord {
        UnitRecord { key: self.key.clone(), parts: self.parts.clone(), rows: BTreeMap::new() }
    }
}

/// Why a unit is computed, or `None` when it is reused.
fn decide(u: &Unit) -> Option<String> {
    let mut reasons = BTreeSet::new();
    let started = u.clear_dirs.iter().any(|d| d.exists()) || u.clear_files.iter().any(|f| f.exists());
    for m in &u.manifests {
        let dir = m.parent().unwrap_or(Path::new("."));
        let Some(v) = read_manifest(m) else {
            reasons.insert(if started { "incomplete: no manifest".to_string() } else { "new".to_string() });
            continue;
        };
        let Some(rec) = record_of(&v) else {
            reasons.insert("incomplete: the manifest has no study key".to_string());
            continue;
        };
        if rec.key != u.key {
            let changes = u.parts.changes_from(&rec.parts);
            reasons.insert(format!("{} changed", changes.join(", ")));
            continue;
        }
        if !outputs_present(&v, dir) {
            reasons.insert("outputs missing".to_string());
        }
    }
    (!reasons.is_empty()).then(|| reasons.into_iter().collect::<Vec<_>>().join("; "))
}

/// Removes temporary files of interrupted writes (`.NAME.tmp-PID-N…`) in `dir` (not recursive).
fn remove_temp_files(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp-") && e.path().is_file() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The lock of an output folder: one run at a time.
struct Lock(PathBuf);

impl Lock {
    fn take(state: &Path) -> Result<Lock> {
        let p = state.join("lock");
        if let Ok(text) = std::fs::read_to_string(&p) {
            if let Ok(pid) = text.trim().parse::<u32>() {
                let alive = cfg!(target_os = "linux") && Path::new(&format!("/proc/{pid}")).exists();
                if alive && pid != std::process::id() {
                    bail!("another `rsei run` (process {pid}) is writing into {}; wait for it to finish (or remove {} if it is gone)", state.parent().unwrap_or(state).display(), p.display());
                }
            }
        }
        rsei_core::fsutil::write_atomic(&p, std::process::id().to_string().as_bytes()).with_context(|| format!("writing {}", p.display()))?;
        Ok(Lock(p))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Builds every unit of the plan with its key.
fn plan_units(plan: &Plan, cache: &HashCache, progress: &dyn StudyObserver) -> Result<Vec<Unit>> {
    let out = &plan.output;
    let opts = &plan.rsei;
    // ---- input files, hashed once (in parallel, through the cache)
    let mut year_files: Vec<Vec<Vec<PathBuf>>> = Vec::new(); // [area][year index] → granule files
    for pa in &plan.areas {
        let mut per_year = Vec::new();
        for &year in &pa.years {
            let job = YearJob { archive: &plan.archive, study: &pa.study, landcover: None, year, strip_cells: DEFAULT_STRIP_CELLS };
            let [s09, s13, s11] = job.selections(opts);
            let files = match &plan.scenes {
                // the scenes of the window; MOD11A2 of the `modis` folders may give Sentinel-2 its heat
                Some(sp) => {
                    let mut files: Vec<PathBuf> = crate::scenes::scenes_of_year(&sp.inventory, opts, year).iter().flat_map(|s| s.files.iter().cloned()).collect();
                    files.extend(s11.files());
                    files
                }
                None => {
                    let mut files = s09.files();
                    files.extend(s11.files());
                    if opts.ndvi_source == NdviSource::Mod13a1 {
                        files.extend(s13.files());
                    }
                    files
                }
            };
            per_year.push(files);
        }
        year_files.push(per_year);
    }
    let mut all: BTreeSet<PathBuf> = year_files.iter().flatten().flatten().cloned().collect();
    all.extend(plan.inputs.landcover.iter().cloned());
    if let Some(m) = &plan.mining {
        all.extend(dataset_files(&m.mines.path));
    }
    if let Some(d) = &plan.drivers {
        all.extend(d.rasters.iter().flat_map(|r| r.paths.iter().cloned()));
        all.extend(d.dem.iter().cloned());
        all.extend(d.mines.iter().flat_map(|m| dataset_files(&m.path)));
        all.extend(d.barrier.iter().flat_map(|b| dataset_files(b)));
    }
    let all: Vec<PathBuf> = all.into_iter().collect();
    progress.log(&format!("checking {} input file(s)", all.len()));
    let hashes: BTreeMap<PathBuf, String> = all.iter().cloned().zip(super::stac::input_hashes(&all, plan.stac.as_ref().map(|s| &s.assets), cache)?).collect();
    let h = |p: &Path| -> Result<&String> { hashes.get(p).ok_or_else(|| Error::msg(format!("no checksum of {}", p.display()))) };
    let set_hash = |files: &[PathBuf]| -> Result<String> {
        // content only (order and place of the files do not matter)
        let mut v: Vec<&String> = files.iter().map(|p| h(p)).collect::<Result<_>>()?;
        v.sort();
        Ok(sha256_hex(v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n").as_bytes()))
    };
    let area_hashes: Vec<String> = plan.areas.iter().map(|pa| area_hash(&pa.area.name, &pa.area.polygon)).collect();
    let rsei_opts = value_hash(opts)?;
    let landcover = plan.inputs.landcover.as_deref().map(|p| h(p).cloned()).transpose()?.unwrap_or_default();

    let mut units: Vec<Unit> = Vec::new();
    let mut rsei_of: Vec<Vec<usize>> = Vec::new(); // [area] → unit indices (year order)
    for (ai, pa) in plan.areas.iter().enumerate() {
        let slug = pa.area.slug();
        let groups: Vec<Vec<(usize, i32)>> =
            if opts.rsei.pooled { vec![pa.years.iter().copied().enumerate().collect()] } else { pa.years.iter().copied().enumerate().map(|y| vec![y]).collect() };
        let mut ids = Vec::new();
        for g in groups {
            let years: Vec<i32> = g.iter().map(|(_, y)| *y).collect();
            let mut files: Vec<PathBuf> = g.iter().flat_map(|(k, _)| year_files[ai][*k].iter().cloned()).collect();
            files.sort();
            files.dedup();
            let parts = KeyParts {
                kind: format!("rsei {}{}", if opts.rsei.pooled { "pooled " } else { "" }, years.iter().map(i32::to_string).collect::<Vec<_>>().join(",")),
                software: SOFTWARE.into(),
                options: rsei_opts.clone(),
                inputs: sha256_hex(format!("{}\nlandcover {landcover}", set_hash(&files)?).as_bytes()),
                areas: area_hashes[ai].clone(),
                upstream: String::new(),
            };
            let dirs: Vec<PathBuf> = years.iter().map(|y| out.join(&slug).join(y.to_string())).collect();
            let label = if opts.rsei.pooled { format!("{} {} RSEI (pooled)", pa.area.name, year_ranges(&years)) } else { format!("{} {} RSEI", pa.area.name, years[0]) };
            ids.push(units.len());
            units.push(Unit {
                kind: Kind::Rsei { area: ai, years },
                label,
                manifests: dirs.iter().map(|d| d.join("manifest.json")).collect(),
                clear_dirs: dirs,
                clear_files: Vec::new(),
                key: parts.key(),
                parts,
                deps: Vec::new(),
            });
        }
        rsei_of.push(ids);
    }
    let keys_of = |ids: &[usize], units: &[Unit]| sha256_hex(ids.iter().map(|&i| units[i].key.as_str()).collect::<Vec<_>>().join("\n").as_bytes());

    if let Some(m) = &plan.mining {
        let source = json!({"layer": m.mines.layer, "where": m.mines.filter, "id_field": m.mines.id_field, "name_field": m.mines.name_field, "crs": m.mines.assume_crs});
        let options = value_hash(&json!({"options": m.options, "source": source}))?;
        let inputs = set_hash(&dataset_files(&m.mines.path))?;
        for (ai, pa) in plan.areas.iter().enumerate() {
            let parts = KeyParts { kind: "mining".into(), software: SOFTWARE.into(), options: options.clone(), inputs: inputs.clone(), areas: area_hashes[ai].clone(), upstream: keys_of(&rsei_of[ai], &units) };
            let dir = out.join(pa.area.slug()).join("mining");
            units.push(Unit {
                kind: Kind::Mining { area: ai },
                label: format!("{} mining", pa.area.name),
                manifests: vec![dir.join("manifest.json")],
                clear_dirs: vec![dir],
                clear_files: Vec::new(),
                key: parts.key(),
                parts,
                deps: rsei_of[ai].clone(),
            });
        }
    }

    if let Some(d) = &plan.drivers {
        let rasters: Vec<serde_json::Value> = d.rasters.iter().map(|r| json!({"name": r.name, "resampling": r.resampling, "files": r.paths.len()})).collect();
        let mines = d.mines.as_ref().map(|m| json!({"layer": m.layer, "where": m.filter, "crs": m.assume_crs}));
        let options = value_hash(&json!({"options": d.options, "year": d.year, "rasters": rasters, "mines": mines, "dem": d.dem.is_some(), "barrier_layer": d.barrier_layer}))?;
        // labelled, in order: a driver's files are summed, the drivers are columns
        let mut lines: Vec<String> = Vec::new();
        for r in &d.rasters {
            for p in &r.paths {
                lines.push(format!("raster {} {}", r.name, h(p)?));
            }
        }
        if let Some(p) = &d.dem {
            lines.push(format!("dem {}", h(p)?));
        }
        if let Some(m) = &d.mines {
            lines.push(format!("mines {}", set_hash(&dataset_files(&m.path))?));
        }
        if let Some(b) = &d.barrier {
            lines.push(format!("barrier {}", set_hash(&dataset_files(b))?));
        }
        let inputs = sha256_hex(lines.join("\n").as_bytes());
        // One unit per area (its RSEI of the year, the drivers, its geometry), then the ranking,
        // which reads what the areas' units wrote: adding or changing an area reruns only that
        // area's forest and the ranking.
        let mut area_units = Vec::new();
        for (ai, pa) in plan.areas.iter().enumerate() {
            let deps: Vec<usize> = rsei_of[ai].iter().copied().filter(|&i| matches!(&units[i].kind, Kind::Rsei { years, .. } if years.contains(&d.year))).collect();
            let parts = KeyParts {
                kind: "drivers".into(),
                software: SOFTWARE.into(),
                options: options.clone(),
                inputs: inputs.clone(),
                areas: area_hashes[ai].clone(),
                upstream: keys_of(&deps, &units),
            };
            let dir = out.join(pa.area.slug()).join("drivers");
            area_units.push(units.len());
            units.push(Unit {
                kind: Kind::Drivers { area: ai },
                label: format!("{} drivers {}", pa.area.name, d.year),
                manifests: vec![dir.join("manifest.json")],
                clear_dirs: vec![dir],
                clear_files: Vec::new(),
                key: parts.key(),
                parts,
                deps,
            });
        }
        let parts = KeyParts {
            kind: "driver-ranking".into(),
            software: SOFTWARE.into(),
            options,
            inputs: String::new(),
            areas: sha256_hex(area_hashes.join("\n").as_bytes()),
            upstream: keys_of(&area_units, &units),
        };
        units.push(Unit {
            kind: Kind::DriverRanking,
            label: format!("drivers {} ranking", d.year),
            manifests: vec![out.join(RUN_FOLDER).join("manifest.json")],
            clear_dirs: vec![out.join(RUN_FOLDER)],
            clear_files: Vec::new(),
            key: parts.key(),
            parts,
            deps: area_units,
        });
    }

    // analyses beyond the source study: one unit per area and section; each reads the area's RSEI
    // (and the time series for the pooled source, the area's driver analysis for the detector)
    let drivers_of: Vec<Option<usize>> = (0..plan.areas.len()).map(|ai| units.iter().position(|u| u.kind == Kind::Drivers { area: ai })).collect();
    for (ai, pa) in plan.areas.iter().enumerate() {
        let mut timeseries_unit = None;
        for which in plan.analyses.present() {
            let mut deps = rsei_of[ai].clone();
            if plan.analyses.reads_pooled(which) {
                deps.extend(timeseries_unit);
            }
            if which == Which::Geodetector {
                deps.extend(drivers_of[ai]);
            }
            let parts = KeyParts {
                kind: which.name().into(),
                software: SOFTWARE.into(),
                options: value_hash(&plan.analyses.options_json(which))?,
                inputs: String::new(),
                areas: area_hashes[ai].clone(),
                upstream: keys_of(&deps, &units),
            };
            let dir = unit_dir(out, &pa.area, which);
            if which == Which::TimeSeries {
                timeseries_unit = Some(units.len());
            }
            units.push(Unit {
                kind: Kind::Analysis { area: ai, which },
                label: format!("{} {}", pa.area.name, which.label()),
                manifests: vec![dir.join("manifest.json")],
                clear_dirs: vec![dir],
                clear_files: Vec::new(),
                key: parts.key(),
                parts,
                deps,
            });
        }
    }

    let all_rsei: Vec<usize> = rsei_of.iter().flatten().copied().collect();
    let parts = KeyParts {
        kind: "tables".into(),
        software: SOFTWARE.into(),
        // the run manifest names the study (and the report reads the name from it)
        options: json!({"study": plan.name}).to_string(),
        inputs: String::new(),
        areas: sha256_hex(area_hashes.join("\n").as_bytes()),
        upstream: keys_of(&all_rsei, &units),
    };
    let mut files = vec![out.join("manifest.json")];
    let mut dirs_of_tables: Vec<PathBuf> = vec![out.to_path_buf()];
    dirs_of_tables.extend(plan.areas.iter().map(|pa| out.join(pa.area.slug())));
    for d in &dirs_of_tables {
        for t in TABLES {
            files.push(d.join(format!("{t}.csv")));
            files.push(d.join(format!("{t}.json")));
        }
    }
    units.push(Unit {
        kind: Kind::Tables,
        label: "run-level tables".into(),
        manifests: vec![out.join("manifest.json")],
        clear_dirs: Vec::new(),
        clear_files: files,
        key: parts.key(),
        parts,
        deps: all_rsei,
    });
    Ok(units)
}

/// The tables written per area and for the run.
const TABLES: [&str; 2] = ["pca_table", "rsei_summary"];

fn clear(u: &Unit) -> Result<()> {
    for d in &u.clear_dirs {
        if d.exists() {
            std::fs::remove_dir_all(d).with_context(|| format!("removing the old outputs in {}", d.display()))?;
        }
    }
    for f in &u.clear_files {
        if f.exists() {
            std::fs::remove_file(f).with_context(|| format!("removing the old {}", f.display()))?;
        }
    }
    Ok(())
}

fn table_rows(t: &Table) -> Vec<Vec<serde_json::Value>> {
    t.rows.iter().map(|r| r.iter().map(encode_cell).collect()).collect()
}

/// The table rows of a finished RSEI year, recorded in its manifest with the unit's key.
fn record_rsei(plan: &Plan, u: &Unit, rows: &[YearSummary]) -> Result<()> {
    for s in rows {
        let mut rec = u.record();
        rec.rows.insert(TABLES[0].into(), table_rows(&crate::outputs::pca_table(std::slice::from_ref(s))));
        rec.rows.insert(TABLES[1].into(), table_rows(&crate::outputs::summary_table(std::slice::from_ref(s))));
        let m = plan.output.join(&s.folder).join("manifest.json");
        if let Some(stac) = &plan.stac {
            super::stac::annotate_manifest(&m, &stac.assets)?;
        }
        finish_manifest(&m, &plan.output, Some(&rec))?;
    }
    Ok(())
}

/// The RSEI units `ready` in one pass over the archive (`crate::onepass`): each granule decoded
/// once for all of them; a unit is recorded as soon as its outputs are written.
fn run_rsei_pass(plan: &Plan, units: &[Unit], ready: &[usize], settings: RunSettings, progress: &dyn StudyObserver) -> Vec<(usize, Result<()>)> {
    let areas: Vec<crate::area::StudyArea> = Vec::new();
    let req = RseiRequest { archive: &plan.archive, inputs: &plan.inputs, areas: &areas, years: &[], options: &plan.rsei, out_dir: &plan.output };
    let groups: Vec<Group<'_>> = ready
        .iter()
        .filter_map(|&i| match &units[i].kind {
            Kind::Rsei { area, years } => Some(Group { area: &plan.areas[*area].area, years: years.clone(), key: units[i].key.clone() }),
            _ => None,
        })
        .collect();
    let pass = PassSettings { memory: settings.memory.unwrap_or(plan.memory), plan_file: Some(plan.output.join(STATE_DIR).join(PASS_FILE)), carried: Vec::new() };
    let bar = progress.unit(&format!("one pass over the archive for {} RSEI unit(s)", groups.len()));
    let mut observers: BTreeMap<usize, Box<dyn UnitObserver + '_>> = BTreeMap::new();
    let mut results: Vec<(usize, Result<()>)> = Vec::new();
    let r = run_groups(&req, &groups, &pass, bar.as_ref(), &mut |k, ev| {
        let u = &units[ready[k]];
        match ev {
            GroupEvent::Modelling => {
                observers.insert(k, progress.unit(&u.label));
            }
            GroupEvent::Finished(r) => {
                let r = r.and_then(|rows| record_rsei(plan, u, &rows));
                let p = observers.remove(&k).unwrap_or_else(|| progress.unit(&u.label));
                p.done(if r.is_ok() { "computed" } else { "FAILED  " });
                results.push((ready[k], r));
            }
        }
    });
    bar.done(if r.is_ok() { "finished" } else { "FAILED  " });
    if let Err(e) = r {
        let text = chain(&e);
        for &i in ready {
            if !results.iter().any(|(x, _)| *x == i) {
                results.push((i, Err(Error::msg(format!("the pass over the archive stopped: {text}")))));
            }
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results
}

/// The RSEI units `ready` of a study of Landsat / Sentinel-2 scenes, one after the other (each
/// reads its scenes in parallel; an area too large for the memory budget is modelled in strips).
fn run_scene_units(plan: &Plan, units: &[Unit], ready: &[usize], settings: RunSettings, progress: &dyn StudyObserver) -> Vec<(usize, Result<()>)> {
    let Some(sp) = &plan.scenes else { return ready.iter().map(|&i| (i, Err(Error::msg("internal: no scenes in the plan")))).collect() };
    ready
        .iter()
        .map(|&i| {
            let u = &units[i];
            let Kind::Rsei { area, years } = &u.kind else { return (i, Err(Error::msg("internal: not an RSEI unit"))) };
            let pa = &plan.areas[*area];
            let p = progress.unit(&u.label);
            let req = crate::scenes::SceneRequest {
                scenes: &sp.inventory,
                modis: Some(&plan.archive),
                inputs: &plan.inputs,
                areas: std::slice::from_ref(&pa.area),
                years: &pa.years,
                options: &plan.rsei,
                scene_options: &sp.options,
                out_dir: &plan.output,
                memory: settings.memory.unwrap_or(plan.memory),
            };
            let r = crate::scenes::run_area_years(&req, &pa.area, years, p.as_ref()).and_then(|rows| record_rsei(plan, u, &rows));
            p.done(if r.is_ok() { "computed" } else { "FAILED  " });
            (i, r)
        })
        .collect()
}

fn run_mining(plan: &Plan, u: &Unit, area: usize, p: &dyn UnitObserver) -> Result<()> {
    let (Some(m), pa) = (&plan.mining, &plan.areas[area]) else { bail!("the study has no mining analysis") };
    let req = MiningRequest {
        rsei_dir: plan.output.clone(),
        area: AreaInput::Loaded { area: pa.area.clone(), file: Some(pa.file.clone()) },
        years: Some(pa.years.clone()),
        mines: m.mines.clone(),
        options: m.options.clone(),
    };
    let dir = plan.output.join(pa.area.slug()).join("mining");
    let s = crate::mining::run(&req, &dir)?;
    for n in &s.notes {
        p.note(&format!("note: {}: {n}", s.area));
    }
    finish_manifest(&dir.join("manifest.json"), &plan.output, Some(&u.record()))
}

fn driver_inputs(plan: &Plan) -> Result<(&crate::study::validate::DriversPlan, DriverInputs)> {
    let Some(d) = &plan.drivers else { bail!("the study has no driver analysis") };
    let inputs = DriverInputs {
        rsei_dir: plan.output.clone(),
        year: d.year,
        drivers: d.rasters.clone(),
        dem: d.dem.clone(),
        mines: d.mines.clone(),
        barrier: d.barrier.clone(),
        barrier_layer: d.barrier_layer.clone(),
    };
    Ok((d, inputs))
}

fn run_drivers(plan: &Plan, u: &Unit, area: usize, p: &dyn UnitObserver) -> Result<()> {
    let (d, inputs) = driver_inputs(plan)?;
    let pa = &plan.areas[area];
    let s = crate::drivers::run_area(&inputs, &pa.area, Some(pa.file.as_path()), &d.options, &plan.output, p)?;
    for n in &s.notes {
        p.note(&format!("note: {} drivers: {n}", s.area));
    }
    finish_manifest(&plan.output.join(&s.folder).join("manifest.json"), &plan.output, Some(&u.record()))
}

fn run_analysis(plan: &Plan, u: &Unit, area: usize, which: Which, p: &dyn UnitObserver) -> Result<()> {
    let pa = &plan.areas[area];
    let notes = run_unit(&plan.output, &plan.analyses, &UnitArea { area: &pa.area, file: &pa.file, years: &pa.years }, which, p)?;
    for n in &notes {
        p.note(&format!("note: {} {}: {n}", pa.area.name, which.label()));
    }
    finish_manifest(&unit_dir(&plan.output, &pa.area, which).join("manifest.json"), &plan.output, Some(&u.record()))
}

fn run_driver_ranking(plan: &Plan, u: &Unit) -> Result<()> {
    let (d, inputs) = driver_inputs(plan)?;
    let areas: Vec<_> = plan.areas.iter().map(|pa| pa.area.clone()).collect();
    crate::drivers::run_ranking(&inputs, &areas, &d.options, &plan.output)?;
    finish_manifest(&plan.output.join(RUN_FOLDER).join("manifest.json"), &plan.output, Some(&u.record()))
}

/// The table rows stored in the manifests of the RSEI units (areas in study order, years ascending).
fn stored_rows(plan: &Plan, units: &[Unit], which: &str) -> Result<Vec<(usize, Table)>> {
    let mut out = Vec::new();
    for ai in 0..plan.areas.len() {
        let mut t = match which {
            "pca_table" => crate::outputs::pca_table(&[]),
            _ => crate::outputs::summary_table(&[]),
        };
        for u in units.iter().filter(|u| matches!(&u.kind, Kind::Rsei { area, .. } if *area == ai)) {
            for m in &u.manifests {
                let rec = read_manifest(m).as_ref().and_then(record_of).ok_or_else(|| Error::msg(format!("{}: no study record", m.display())))?;
                let rows = rec.rows.get(which).ok_or_else(|| Error::msg(format!("{}: no {which} row", m.display())))?;
                for r in rows {
                    let cells = r.iter().map(decode_cell).collect::<Option<Vec<_>>>().ok_or_else(|| Error::msg(format!("{}: unreadable {which} row", m.display())))?;
                    t.push_row(cells)?;
                }
            }
        }
        out.push((ai, t));
    }
    Ok(out)
}

fn run_tables(plan: &Plan, units: &[Unit], u: &Unit) -> Result<()> {
    let out = &plan.output;
    let mut written: Vec<PathBuf> = Vec::new();
    for which in TABLES {
        let per_area = stored_rows(plan, units, which)?;
        let mut all = match which {
            "pca_table" => crate::outputs::pca_table(&[]),
            _ => crate::outputs::summary_table(&[]),
        };
        for (ai, t) in &per_area {
            let dir = out.join(plan.areas[*ai].area.slug());
            for (ext, csv) in [("csv", true), ("json", false)] {
                let p = dir.join(format!("{which}.{ext}"));
                if csv { rsei_report::write_csv(&p, t)? } else { rsei_report::write_json(&p, t)? }
                written.push(p);
            }
            all.rows.extend(t.rows.iter().cloned());
        }
        for (ext, csv) in [("csv", true), ("json", false)] {
            let p = out.join(format!("{which}.{ext}"));
            if csv { rsei_report::write_csv(&p, &all)? } else { rsei_report::write_json(&p, &all)? }
            written.push(p);
        }
    }
    let outputs: Vec<serde_json::Value> = written
        .iter()
        .map(|p| {
            let f = crate::outputs::checksum(p)?;
            let rel = p.strip_prefix(out).unwrap_or(p).display().to_string();
            Ok(json!({"file": rel, "bytes": f.bytes, "sha256": f.sha256}))
        })
        .collect::<Result<_>>()?;
    let rsei_units: Vec<serde_json::Value> = units
        .iter()
        .filter(|x| matches!(x.kind, Kind::Rsei { .. }))
        .map(|x| json!({"unit": x.label, "key": x.key, "manifests": x.manifests.iter().map(|m| m.strip_prefix(out).unwrap_or(m).display().to_string()).collect::<Vec<_>>()}))
        .collect();
    let manifest = json!({
        "software": SOFTWARE,
        "study": plan.name,
        "analysis": "run-level tables of a study (PCA and RSEI summary of every area and year)",
        "areas": plan.areas.iter().map(|pa| json!({"area": pa.area.name, "folder": pa.area.slug(), "years": pa.years, "source": pa.area.source})).collect::<Vec<_>>(),
        "rsei_units": rsei_units,
        "outputs": outputs,
        "unit": u.record(),
    });
    let p = out.join("manifest.json");
    rsei_core::fsutil::write_atomic(&p, &serde_json::to_vec_pretty(&manifest)?).with_context(|| format!("writing {}", p.display()))
}

/// The error of a unit with its causes, on one line.
fn chain(e: &Error) -> String {
    e.chain_text()
}

/// The plan with the granules of its catalogue fetched into its archive (the plan itself when it
/// has no catalogue).
fn fetch_catalogue(plan: &Plan, progress: &dyn StudyObserver) -> Result<Option<Plan>> {
    let Some(stac) = &plan.stac else { return Ok(None) };
    for n in &stac.notes {
        progress.log(n);
    }
    let areas: Vec<_> = plan.areas.iter().map(|pa| pa.area.clone()).collect();
    if let Some(sc) = &stac.scenes {
        return fetch_scene_catalogue(plan, stac, sc, &areas, progress).map(Some);
    }
    let task = progress.task("catalogue");
    let fetched = super::stac::fetch(stac, &areas, &plan.archive, task.as_ref());
    drop(task);
    let f = fetched?;
    for n in &f.notes {
        if n.starts_with("warning") {
            progress.println(n);
        } else {
            progress.log(n);
        }
    }
    let n_local = plan.archive.inventory.granules.len();
    progress.log(&format!("{} granule(s) from {} item(s) of {}: {}", f.archive.inventory.granules.len() - n_local, stac.items.len(), stac.options.url, f.stats.describe("asset window(s)")));
    let mut p = plan.clone();
    p.archive = f.archive;
    if let Some(s) = &mut p.stac {
        s.assets = f.assets;
    }
    Ok(Some(p))
}

/// The plan with the scenes of its catalogue fetched (or found in the cache) into its scene
/// inventory, and the MOD11A2 granules of a heat collection into its archive.
fn fetch_scene_catalogue(plan: &Plan, stac: &super::stac::StacPlan, sc: &super::stac::SceneCatalogue, areas: &[crate::area::StudyArea], progress: &dyn StudyObserver) -> Result<Plan> {
    let mut years: Vec<i32> = plan.areas.iter().flat_map(|pa| pa.years.iter().copied()).collect();
    years.sort_unstable();
    years.dedup();
    let default_cache = stac.options.cache_dir.clone().unwrap_or_else(|| PathBuf::from(super::stac::DEFAULT_CACHE));
    let req = crate::stac_input::StacRequest { catalogue: &stac.options, areas, years: &years, options: &plan.rsei, default_cache };
    let task = progress.task("catalogue");
    let fetched = crate::stac_scenes::fetch_items(&req, &sc.plan, sc.items.clone(), Vec::new(), task.as_ref());
    drop(task);
    let f = fetched.with_context(|| format!("fetching from the catalogue {}", stac.options.url))?;
    for n in &f.notes {
        if n.starts_with("warning") {
            progress.println(n);
        } else {
            progress.log(n);
        }
    }
    progress.log(&format!("{} scene(s) from {} item(s) of {}: {}", f.inventory.scenes.len(), f.items.len(), stac.options.url, f.stats.describe("asset(s)")));
    let mut p = plan.clone();
    if let Some(heat) = f.heat {
        p.archive.inventory.granules.extend(heat.inventory.granules);
        p.archive.inventory.granules.sort_by_key(|g| (g.product, g.tile, g.date));
        p.archive.folders.extend(heat.folders);
    }
    p.inputs.data.push(PathBuf::from(&stac.options.url));
    p.scenes = Some(super::validate::ScenePlan { folders: Vec::new(), inventory: f.inventory, options: sc.options.clone() });
    if let Some(s) = &mut p.stac {
        s.assets = f.versions;
    }
    Ok(p)
}

/// Runs a checked study (see the module documentation).
pub fn run(plan: &Plan, settings: RunSettings, progress: &dyn StudyObserver) -> Result<RunReport> {
    let out = &plan.output;
    let state = out.join(STATE_DIR);
    // the marker first: from then on the folder is known as a study output
    let marker = json!({"software": SOFTWARE, "study": plan.name, "study_file": plan.study_file});
    rsei_core::fsutil::write_atomic(&state.join(MARKER), &serde_json::to_vec_pretty(&marker)?).with_context(|| format!("writing {}", state.join(MARKER).display()))?;
    let _lock = Lock::take(&state)?;
    remove_temp_files(out);
    remove_temp_files(&state);
    for pa in &plan.areas {
        remove_temp_files(&out.join(pa.area.slug()));
    }
    super::validate::save_inventory(plan)?;
    let with_catalogue = fetch_catalogue(plan, progress)?;
    let plan = with_catalogue.as_ref().unwrap_or(plan);
    let cache = HashCache::load(&state.join("hashes.json"));
    let units = plan_units(plan, &cache, progress)?;
    cache.save()?;
    if cache.bytes_hashed() > 0 {
        progress.log(&format!("hashed {:.1} MB of inputs (cached in {})", cache.bytes_hashed() as f64 / 1e6, state.join("hashes.json").display()));
    }

    // ---- decisions
    let mut todo: Vec<bool> = Vec::with_capacity(units.len());
    let mut report = RunReport::default();
    for u in &units {
        let why = if settings.force { Some("recompute requested (--force)".to_string()) } else { decide(u) };
        // (a unit reading a recomputed unit is recomputed only when that unit's key changed:
        // upstream keys are part of its key)
        match why {
            None => {
                progress.log(&format!("reuse    {}", u.label));
                report.reused.push(u.label.clone());
                todo.push(false);
            }
            Some(w) => {
                progress.log(&format!("compute  {} ({w})", u.label));
                todo.push(true);
            }
        }
    }
    let n = todo.iter().filter(|&&t| t).count();
    progress.log(&format!("{} unit(s): {} reused, {n} to compute", units.len(), units.len() - n));
    // the pass over the archive shows as one more unit (scene studies have none)
    let rsei_todo = plan.scenes.is_none() && units.iter().zip(&todo).any(|(u, &t)| t && matches!(u.kind, Kind::Rsei { .. }));
    progress.start(n + usize::from(rsei_todo));

    // ---- stages
    let mut failed: BTreeMap<usize, String> = BTreeMap::new();
    let mut skipped: BTreeSet<usize> = BTreeSet::new();
    let stages: [fn(&Kind) -> bool; 3] = [
        |k| matches!(k, Kind::Rsei { .. }),
        |k| matches!(k, Kind::Mining { .. } | Kind::Drivers { .. } | Kind::Analysis { which: Which::TimeSeries, .. }),
        |k| matches!(k, Kind::DriverRanking | Kind::Tables) || matches!(k, Kind::Analysis { which, .. } if *which != Which::TimeSeries),
    ];
    for in_stage in stages {
        let mut ready = Vec::new();
        for (i, u) in units.iter().enumerate() {
            if !todo[i] || !in_stage(&u.kind) {
                continue;
            }
            if let Some(&d) = u.deps.iter().find(|d| failed.contains_key(d) || skipped.contains(d)) {
                progress.println(&format!("skip     {} ({} did not finish)", u.label, units[d].label));
                skipped.insert(i);
                continue;
            }
            ready.push(i);
        }
        let rsei: Vec<usize> = ready.iter().copied().filter(|&i| matches!(units[i].kind, Kind::Rsei { .. })).collect();
        let mut results: Vec<(usize, Result<()>)> = Vec::new();
        if !rsei.is_empty() {
            let mut cleared = Vec::new();
            for &i in &rsei {
                match clear(&units[i]) {
                    Ok(()) => cleared.push(i),
                    Err(e) => results.push((i, Err(e))),
                }
            }
            results.extend(if plan.scenes.is_some() { run_scene_units(plan, &units, &cleared, settings, progress) } else { run_rsei_pass(plan, &units, &cleared, settings, progress) });
        }
        let others: Vec<usize> = ready.iter().copied().filter(|i| !rsei.contains(i)).collect();
        let results_others: Vec<(usize, Result<()>)> = others
            .par_iter()
            .map(|&i| {
                let u = &units[i];
                let p = progress.unit(&u.label);
                let r = clear(u).and_then(|()| match &u.kind {
                    Kind::Rsei { .. } => Err(Error::msg("internal: an RSEI unit outside the pass")),
                    Kind::Mining { area } => run_mining(plan, u, *area, p.as_ref()),
                    Kind::Drivers { area } => run_drivers(plan, u, *area, p.as_ref()),
                    Kind::DriverRanking => run_driver_ranking(plan, u),
                    Kind::Tables => run_tables(plan, &units, u),
                    Kind::Analysis { area, which } => run_analysis(plan, u, *area, *which, p.as_ref()),
                });
                p.done(if r.is_ok() { "computed" } else { "FAILED  " });
                (i, r)
            })
            .collect();
        results.extend(results_others);
        for (i, r) in results {
            match r {
                Ok(()) => report.computed.push(units[i].label.clone()),
                Err(e) => {
                    progress.println(&format!("error: {}: {}", units[i].label, chain(&e)));
                    failed.insert(i, chain(&e));
                }
            }
        }
    }
    progress.finish();
    report.failed = failed.into_iter().map(|(i, e)| (units[i].label.clone(), e)).collect();
    report.skipped = skipped.into_iter().map(|i| units[i].label.clone()).collect();
    Ok(report)
}

