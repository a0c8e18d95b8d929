//! RSEI for study areas and years: composites → indicators → (warp) → normalisation, PCA, RSEI,
//! grades → outputs. One folder per area and year; tables per area and for the whole run.
//!
//! Every area and year of a request is computed in one pass over the archive
//! ([`crate::onepass`]): each granule is decoded once and feeds every composite that needs it.
//! The pass keeps a plan file in the output folder (`.rsei-pass.json`) while it runs; a run
//! interrupted and started again with the same request reuses the years already written and the
//! strips already on disk.

use std::path::{Path, PathBuf};

use crate::error::{Context, Error, Result};
use crate::area::StudyArea;
use crate::budget::MemoryBudget;
use crate::compute::YearJob;
use crate::onepass::plan::{decode_summaries, PassPlan};
use crate::onepass::{run_groups, Group, GroupEvent, PassReport, PassSettings};
use crate::outputs;
use crate::progress::Progress;

pub use crate::apply::{inside_mask, study_grid};
pub use crate::compute::{RseiRequest, YearSummary};

/// The plan file of `rsei compute` in its output folder.
pub const PLAN_FILE: &str = ".rsei-pass.json";

/// How `rsei compute` runs besides its request: the memory budget, and whether an interrupted
/// run is continued.
#[derive(Clone, Debug)]
pub struct ComputeSettings {
    /// What the run may hold in memory (default 2 GiB).
    pub memory: MemoryBudget,
    /// Continue an interrupted run from its plan file (default); `false` recomputes everything.
    pub resume: bool,
}

impl Default for ComputeSettings {
    fn default() -> Self {
        ComputeSettings { memory: MemoryBudget::DEFAULT, resume: true }
    }
}

/// Computes and writes RSEI for every area and year of the request (default settings).
pub fn run(req: &RseiRequest<'_>, progress: &dyn Progress) -> Result<Vec<YearSummary>> {
    run_with(req, &ComputeSettings::default(), progress).map(|(rows, _)| rows)
}

/// The key of a group of `rsei compute`: software, options, area, years, land cover and every
/// input file of the years' windows by name, size and modification time.
fn group_key(req: &RseiRequest<'_>, area: &StudyArea, years: &[i32]) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(outputs::SOFTWARE.as_bytes());
    h.update(serde_json::to_vec(req.options)?);
    h.update(area.name.as_bytes());
    for p in &area.polygon.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for c in &ring.0 {
                h.update(c.x.to_bits().to_le_bytes());
                h.update(c.y.to_bits().to_le_bytes());
            }
            h.update(b"|");
        }
    }
    h.update(format!("{years:?}").as_bytes());
    let b = rsei_core::zonal::PreparedPolygon::new(&area.polygon)?.bounds();
    let study = crate::compute::StudyGrid::new(&b, |g| Ok(vec![false; g.len()]))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for &year in years {
        let job = YearJob { archive: req.archive, study: &study, landcover: None, year, strip_cells: 0 };
        for s in job.selections(req.options) {
            files.extend(s.files());
        }
    }
    files.extend(req.inputs.landcover.iter().cloned());
    files.sort();
    files.dedup();
    for f in &files {
        let md = std::fs::metadata(f).with_context(|| format!("reading {}", f.display()))?;
        let t = md.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        h.update(format!("{}\n{}\n{t}\n", f.display(), md.len()).as_bytes());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether every year of a finished group still has its manifest.
fn written(out: &Path, area: &StudyArea, years: &[i32]) -> bool {
    years.iter().all(|y| out.join(area.slug()).join(y.to_string()).join("manifest.json").is_file())
}

/// Computes and writes RSEI for every area and year of the request in one pass over the archive,
/// within `settings.memory`; returns the summaries (areas in request order, years ascending) and
/// what the pass did. An interrupted run with the same request continues where it stopped.
pub fn run_with(req: &RseiRequest<'_>, settings: &ComputeSettings, progress: &dyn Progress) -> Result<(Vec<YearSummary>, PassReport)> {
    req.options.validate()?;
    crate::ensure!(!req.years.is_empty(), "no year to compute");
    crate::ensure!(!req.areas.is_empty(), "no study area");
    let mut years: Vec<i32> = req.years.to_vec();
    years.sort_unstable();
    years.dedup();
    // one group per area and year, or per area with a pooled PCA
    let mut groups: Vec<Group<'_>> = Vec::new();
    for area in req.areas {
        let sets: Vec<Vec<i32>> = if req.options.rsei.pooled { vec![years.clone()] } else { years.iter().map(|&y| vec![y]).collect() };
        for ys in sets {
            let key = group_key(req, area, &ys).with_context(|| format!("study area {:?}", area.name))?;
            groups.push(Group { area, years: ys, key });
        }
    }
    let plan_file = req.out_dir.join(PLAN_FILE);
    // groups an interrupted run finished (same key, outputs still there)
    let old = if settings.resume { PassPlan::load(&plan_file) } else { None };
    let mut results: Vec<Option<Result<Vec<YearSummary>>>> = groups.iter().map(|_| None).collect();
    if let Some(old) = &old {
        for (gi, g) in groups.iter().enumerate() {
            if let Some(pg) = old.find(&g.area.slug(), &g.years, &g.key).filter(|pg| pg.done && written(req.out_dir, g.area, &g.years)) {
                if let Ok(s) = decode_summaries(&pg.summaries) {
                    progress.message(&format!("{} {:?}: reused from the interrupted run", g.area.name, g.years));
                    results[gi] = Some(Ok(s));
                }
            }
        }
    }
    let todo: Vec<usize> = (0..groups.len()).filter(|&gi| results[gi].is_none()).collect();
    let todo_groups: Vec<Group<'_>> = todo.iter().map(|&gi| groups[gi].clone()).collect();
    // the plan keeps the finished groups of the interrupted run, so a second interruption loses nothing
    let carried = old.map(|p| p.groups.into_iter().filter(|pg| pg.done).collect()).unwrap_or_default();
    let pass = PassSettings { memory: settings.memory, plan_file: Some(plan_file.clone()), carried };
    let report = if todo_groups.is_empty() {
        PassReport::default()
    } else {
        run_groups(req, &todo_groups, &pass, progress, &mut |k, ev| {
            if let GroupEvent::Finished(r) = ev {
                results[todo[k]] = Some(r);
            }
        })?
    };
    let _ = std::fs::remove_file(&plan_file);
    let mut all = Vec::new();
    let mut gi = 0;
    for area in req.areas {
        let mut rows = Vec::new();
        while gi < groups.len() && std::ptr::eq(groups[gi].area, area) {
            match results[gi].take() {
                Some(Ok(s)) => rows.extend(s),
                Some(Err(e)) => return Err(e.context(format!("study area {:?}", area.name))),
                None => return Err(Error::msg(format!("study area {:?}: years {:?} were not computed", area.name, groups[gi].years))),
            }
            gi += 1;
        }
        outputs::write_area_tables(&req.out_dir.join(area.slug()), &rows)?;
        all.extend(rows);
    }
    outputs::write_run_tables(req.out_dir, &all)?;
    Ok((all, report))
}

/// Computes and writes RSEI for every year of the request for one area (no tables); returns the
/// summaries in year order.
pub fn run_area(req: &RseiRequest<'_>, area: &StudyArea, progress: &dyn Progress) -> Result<Vec<YearSummary>> {
    let sub = RseiRequest { areas: std::slice::from_ref(area), ..*req };
    let mut years: Vec<i32> = req.years.to_vec();
    years.sort_unstable();
    years.dedup();
    let sets: Vec<Vec<i32>> = if req.options.rsei.pooled { vec![years] } else { years.iter().map(|&y| vec![y]).collect() };
    let groups: Vec<Group<'_>> = sets.into_iter().map(|ys| Group { area, years: ys, key: String::new() }).collect();
    let mut results: Vec<Option<Result<Vec<YearSummary>>>> = groups.iter().map(|_| None).collect();
    run_groups(&sub, &groups, &PassSettings::default(), progress, &mut |k, ev| {
        if let GroupEvent::Finished(r) = ev {
            results[k] = Some(r);
        }
    })?;
    let mut out = Vec::new();
    for r in results {
        out.extend(r.ok_or_else(|| Error::msg("a year was not computed"))??);
    }
    Ok(out)
}
