//! # One pass over the archive for many areas and years, resumable, within a memory budget
//!
//! ```text
//!  groups (area, years, key) ─▶ targets (area, year) ─▶ pass 1: sweep::Sweep over bands × dates
//!      every granule layer decoded once per band, fed to every (area, year) composite needing it
//!      strips ─▶ memory (area in one band)  |  temporary files OUT/<area>/.pass1-<year>/ (disk)
//!  a year whose strips are all there ─▶ its group complete? ─▶ pass 2: model + outputs
//!      in memory (apply::finish_years)  |  out of core in strips (tiled), same bits
//!  plan file (plan::PassPlan): groups with keys, bands on disk, finished groups → resume
//! ```
//!
//! A year is still computed, written and reused on its own: its composites get exactly the
//! observations the per-year path gives them (see [`sweep`]), its model sees only its own
//! pixels, and its outputs are written as soon as its group is complete. Memory: the band height
//! and the read-ahead follow the budget ([`MemoryBudget`]); an area that spans several bands keeps
//! its years' strips on disk instead of in memory, and an area too large for the budget is
//! modelled and written in strips ([`tiled`]).

pub(crate) mod disk;
pub mod plan;
pub(crate) mod sweep;
pub(crate) mod tiled;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use rsei_core::accum::Accumulator;
use rsei_core::qa::ValidityReport;

use crate::apply::{finish_years, output_grid, study_grid, OutputGrid};
use crate::area::StudyArea;
use crate::archive::Selection;
use crate::budget::MemoryBudget;
use crate::compute::{check_selections, landcover_on_grid, year_record, LandCover, RseiRequest, StripOut, StudyGrid, YearIndicators, YearJob, YearSummary};
use crate::error::{Context, Error, Result};
use crate::options::{NdviSource, RseiRunOptions};
use crate::progress::Progress;
use disk::YearFiles;
use plan::{BandRecord, Pass1Record, PassPlan, PlanGroup};
use sweep::{Sweep, SweepTarget};

/// Rows of the 1 km grid per band at most: 256 (512 rows at 500 m, the block height of MODIS
/// COGs), so bands start on block rows and no input block is decoded for two bands.
pub const MAX_BAND_ROWS_1KM: usize = 256;

/// One area and target years computed as one unit of work: one year, or every year of a
/// pooled PCA. Its outputs are written when all its years are computed.
#[derive(Clone, Debug)]
pub struct Group<'a> {
    /// The area.
    pub area: &'a StudyArea,
    /// Target years, ascending.
    pub years: Vec<i32>,
    /// Names the group's inputs and options for the plan file (work of another key is never reused).
    pub key: String,
}

/// What [`run_groups`] tells its caller about a group.
#[derive(Debug)]
pub enum GroupEvent {
    /// Pass 1 of every year of the group is done: its model and outputs follow.
    Modelling,
    /// The group's outputs are written (its summaries, years ascending), or it failed.
    Finished(Result<Vec<YearSummary>>),
}

/// How a pass runs.
#[derive(Clone, Debug, Default)]
pub struct PassSettings {
    /// What the pass may hold in memory.
    pub memory: MemoryBudget,
    /// The plan file that makes the pass resumable (none: nothing is recorded).
    pub plan_file: Option<PathBuf>,
    /// Finished groups of an earlier, interrupted pass that this one does not recompute: kept in
    /// the plan file, so that a second interruption does not lose them.
    pub carried: Vec<PlanGroup>,
}

/// What a pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Rows of the 1 km grid per band.
    pub band_rows_1km: usize,
    /// Years whose strips went through temporary files.
    pub years_on_disk: usize,
    /// Years modelled and written in strips (out of core).
    pub years_tiled: usize,
    /// Bands of years found done in the plan file and skipped.
    pub bands_resumed: usize,
}

/// An area of the pass.
pub(crate) struct AreaState<'a> {
    pub area: &'a StudyArea,
    pub study: StudyGrid,
    pub landcover: Option<LandCover>,
    pub out_grid: Option<OutputGrid>,
    /// `OUT/<area>/`.
    pub dir: PathBuf,
    /// Pass 2 of its years runs in strips.
    pub tiled: bool,
    /// The inside cells computed per strip (tiled areas, whose `study.inside` is empty).
    pub rows: Option<rsei_core::zonal::RowWeights>,
    /// Cells per strip of a tiled pass 2.
    pub strip_cells: usize,
}

enum Sink {
    Memory(Option<YearIndicators>),
    Disk(YearFiles),
}

struct TargetState<'a> {
    group: usize,
    year: i32,
    area: usize,
    sels: [Selection<'a>; 3],
    sink: Sink,
    bands_left: BTreeSet<usize>,
    qa: [ValidityReport; 3],
    any_valid_inside: bool,
}

/// A finished year waiting for its group.
pub(crate) enum YearData {
    Memory(YearIndicators),
    Disk(YearFiles, YearIndicators),
}

struct GroupState {
    failed: bool,
    years: BTreeMap<i32, YearData>,
}

/// Bytes per 500 m cell of one target's open composites.
fn composite_bytes(opts: &RseiRunOptions, dates: usize) -> usize {
    use rsei_core::composite::{IndexOrder, Reducer};
    let refl = if opts.composite.order == IndexOrder::CompositeThenIndex { 7 } else { 4 };
    let ndvi = usize::from(opts.ndvi_source == NdviSource::Mod13a1);
    match opts.composite.reducer {
        // f64 sums, u32 count and a mask byte per layer set; LST on the 1 km grid (+ margins)
        Reducer::Mean => (refl * 8 + 5) + ndvi * 13 + 8,
        // every observation kept
        Reducer::Median => (refl + ndvi + 1) * 4 * dates.max(1) + 16,
    }
}

/// Bytes per cell of an area's year in memory for pass 2 (layers, masks, RSEI, copies written).
pub(crate) const YEAR_BYTES_PER_CELL: usize = 100;

/// The largest band height (a power of two up to [`MAX_BAND_ROWS_1KM`]) whose working set fits a
/// half of the budget, given the areas' widths.
fn choose_band_rows(areas: &[AreaState<'_>], open_years: &[usize], dates: &[usize], opts: &RseiRunOptions, memory: MemoryBudget, read_ahead: usize) -> usize {
    let budget = memory.share(1, 2).saturating_sub(read_ahead);
    let mut h = MAX_BAND_ROWS_1KM;
    while h > 1 {
        let need: usize = areas
            .iter()
            .zip(open_years.iter().zip(dates))
            .map(|(a, (&open, &d))| {
                let cells = 4 * h.min(a.study.grid_1km.rows()) * a.study.grid_1km.cols();
                cells * (open * composite_bytes(opts, d) + 48)
            })
            .sum();
        if need <= budget {
            break;
        }
        h /= 2;
    }
    h
}

/// The read-ahead of observations: an eighth of the budget, 32–256 MiB.
fn read_ahead_of(memory: MemoryBudget) -> usize {
    memory.share(1, 8).clamp(32 << 20, 256 << 20)
}

/// Runs the groups (see the module documentation). `done(group, event)` tells when a group's
/// model starts ([`GroupEvent::Modelling`]) and, once per group, when its outputs are written or
/// it failed ([`GroupEvent::Finished`]), from the calling thread.
pub fn run_groups(
    req: &RseiRequest<'_>,
    groups: &[Group<'_>],
    settings: &PassSettings,
    progress: &dyn Progress,
    done: &mut dyn FnMut(usize, GroupEvent),
) -> Result<PassReport> {
    let opts = req.options;
    let memory = settings.memory;
    rsei_io::cap_block_cache((memory.get() / 8).max(64 << 20));
    let mut report = PassReport::default();
    let mut gstate: Vec<GroupState> = groups.iter().map(|_| GroupState { failed: false, years: BTreeMap::new() }).collect();

    // ---- areas (grid, inside mask, land cover, output grid), once each
    let mut areas: Vec<AreaState<'_>> = Vec::new();
    let mut group_area: Vec<Option<usize>> = Vec::new();
    let mut area_errors: Vec<(usize, String)> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        if let Some(a) = areas.iter().position(|a| std::ptr::eq(a.area, g.area)) {
            group_area.push(Some(a));
            continue;
        }
        if let Some((_, e)) = area_errors.iter().find(|(i, _)| std::ptr::eq(groups[*i].area, g.area)) {
            let e = e.clone();
            gstate[gi].failed = true;
            done(gi, GroupEvent::Finished(Err(Error::msg(e))));
            group_area.push(None);
            continue;
        }
        match area_state(req, g.area, memory, groups.iter().filter(|x| std::ptr::eq(x.area, g.area)).map(|x| x.years.len()).max().unwrap_or(1)) {
            Ok(a) => {
                group_area.push(Some(areas.len()));
                areas.push(a);
            }
            Err(e) => {
                area_errors.push((gi, e.chain_text()));
                gstate[gi].failed = true;
                done(gi, GroupEvent::Finished(Err(e)));
                group_area.push(None);
            }
        }
    }

    // ---- targets and their selections
    let mut pending: Vec<(usize, i32, usize, [Selection<'_>; 3])> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let Some(ai) = group_area[gi] else { continue };
        let mut sels_of = Vec::new();
        for &year in &g.years {
            let job = YearJob { archive: req.archive, study: &areas[ai].study, landcover: None, year, strip_cells: 0 };
            let sels = job.selections(opts);
            if let Err(e) = check_selections(req.archive, year, &sels, opts) {
                gstate[gi].failed = true;
                done(gi, GroupEvent::Finished(Err(e.context(format!("year {year}")))));
                sels_of.clear();
                break;
            }
            sels_of.push((year, sels));
        }
        for (year, sels) in sels_of {
            pending.push((gi, year, ai, sels));
        }
    }
    let read_ahead = read_ahead_of(memory);
    let window = (opts.composite.years_before + opts.composite.years_after + 1) as usize;
    let open_years: Vec<usize> = (0..areas.len()).map(|ai| pending.iter().filter(|t| t.2 == ai).count().min(window + 1).max(1)).collect();
    let dates: Vec<usize> = (0..areas.len())
        .map(|ai| pending.iter().filter(|t| t.2 == ai).map(|t| t.3.iter().map(|s| s.dates.len()).max().unwrap_or(0)).max().unwrap_or(0))
        .collect();
    let band_rows = choose_band_rows(&areas, &open_years, &dates, opts, memory, read_ahead);
    report.band_rows_1km = band_rows;

    // ---- the plan file: what an interrupted pass left on disk
    let old = settings.plan_file.as_deref().and_then(PassPlan::load).filter(|p| p.band_rows_1km == band_rows);
    let mut plan = PassPlan {
        software: crate::outputs::SOFTWARE.into(),
        band_rows_1km: band_rows,
        groups: groups.iter().map(|g| PlanGroup { area: g.area.slug(), years: g.years.clone(), key: g.key.clone(), ..Default::default() }).collect(),
    };
    plan.groups.extend(settings.carried.iter().filter(|c| c.done).cloned());
    let out = req.out_dir;
    let mut targets: Vec<TargetState<'_>> = Vec::new();
    for (gi, year, ai, sels) in pending {
        let a = &areas[ai];
        let bands: BTreeSet<usize> = sweep::bands_of(&a.study, band_rows).into_iter().collect();
        let on_disk = bands.len() > 1 || a.tiled;
        let sink = if on_disk {
            let dir = YearFiles::dir_of(&a.dir, year);
            let kept = old
                .as_ref()
                .and_then(|p| p.find(&groups[gi].area.slug(), &groups[gi].years, &groups[gi].key))
                .and_then(|g| g.pass1.get(&year))
                .filter(|r| !groups[gi].key.is_empty() && YearFiles::complete(&dir, &a.study.grid) && r.bands.keys().all(|b| bands.contains(b)))
                .cloned();
            if kept.is_none() && dir.exists() {
                std::fs::remove_dir_all(&dir).with_context(|| format!("removing the stale temporary folder {}", dir.display()))?;
            }
            let rec = kept.unwrap_or_else(|| Pass1Record { dir: dir.strip_prefix(out).unwrap_or(&dir).to_path_buf(), bands: BTreeMap::new() });
            plan.groups[gi].pass1.insert(year, rec);
            Sink::Disk(YearFiles::open(&dir, &a.study.grid)?)
        } else {
            Sink::Memory(None)
        };
        let mut t = TargetState { group: gi, year, area: ai, sels, sink, bands_left: bands, qa: Default::default(), any_valid_inside: false };
        if let Some(rec) = plan.groups[gi].pass1.get(&year) {
            for (b, r) in &rec.bands {
                t.bands_left.remove(b);
                for (x, y) in t.qa.iter_mut().zip(&r.qa) {
                    x.merge(y);
                }
                t.any_valid_inside |= r.any_valid_inside;
                report.bands_resumed += 1;
            }
        }
        if matches!(t.sink, Sink::Disk(_)) {
            report.years_on_disk += 1;
        }
        targets.push(t);
    }
    let save_plan = |plan: &PassPlan| -> Result<()> {
        match &settings.plan_file {
            Some(p) => plan.save(p),
            None => Ok(()),
        }
    };
    save_plan(&plan)?;

    // Pass 2 of a complete group runs as a task of the thread pool while the sweep goes on (at
    // most `MAX_PASS2_IN_FLIGHT` groups at once, so memory stays bounded); its result comes back
    // here and is recorded on this thread. Groups are independent, so the bytes do not depend on
    // when their pass 2 runs.
    let (tx, rx) = std::sync::mpsc::channel::<Pass2Done>();
    let sweep = Sweep {
        opts,
        areas: areas.iter().map(|a| &a.study).collect(),
        targets: targets
            .iter()
            .map(|t| SweepTarget { area: t.area, year: t.year, sels: t.sels.clone(), bands: t.bands_left.iter().copied().collect() })
            .collect(),
        band_rows,
        read_ahead,
    };
    let areas_ref: &[AreaState<'_>] = &areas;
    rayon::in_place_scope(|s| -> Result<()> {
        let spawn = |job: Pass2Job| {
            let tx = tx.clone();
            s.spawn(move |_| {
                // a panic must come back as the group's failure: the sweep waits for every result
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pass2(req, &groups[job.gi], &areas_ref[job.ai], job.years, progress)))
                    .unwrap_or_else(|p| {
                        let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
                        Err(Error::msg(format!("internal error in the model and outputs of {}: {what}", groups[job.gi].area.name)))
                    });
                let _ = tx.send((job.gi, r));
            });
        };
        let mut state = PassState {
            req,
            groups,
            areas: areas_ref,
            gstate: &mut gstate,
            plan: &mut plan,
            report: &mut report,
            progress,
            save_plan: &save_plan,
            spawn: &spawn,
            results: &rx,
            in_flight: 0,
        };
        // years whose strips were all written by an interrupted pass
        for t in 0..targets.len() {
            if targets[t].bands_left.is_empty() {
                state.year_complete(&mut targets, t, done)?;
            }
        }
        progress.add_total(sweep.work_units());
        sweep.run(progress, &mut |t, band, strip| state.strip(&mut targets, t, band, strip, done))?;
        state.drain(&mut targets, done, 0)
    })?;
    // every group has finished or failed: the plan is spent
    if let Some(p) = &settings.plan_file {
        let _ = std::fs::remove_file(p);
    }
    for t in &targets {
        if let Sink::Disk(f) = &t.sink {
            f.remove();
        }
    }
    Ok(report)
}

/// Groups whose pass 2 may run at once beside the sweep.
const MAX_PASS2_IN_FLIGHT: usize = 2;

/// A complete group handed to pass 2.
struct Pass2Job {
    gi: usize,
    ai: usize,
    years: BTreeMap<i32, YearData>,
}

/// The outcome of a group's pass 2.
type Pass2Done = (usize, Result<Vec<YearSummary>>);

/// Pass 2 of a complete group: model, RSEI and outputs of its years, in memory or in strips.
fn pass2(req: &RseiRequest<'_>, g: &Group<'_>, a: &AreaState<'_>, years: BTreeMap<i32, YearData>, progress: &dyn Progress) -> Result<Vec<YearSummary>> {
    if a.tiled {
        return tiled::finish_years(req, a, years.into_values().collect(), progress);
    }
    let inds = years
        .into_values()
        .map(|d| match d {
            YearData::Memory(ind) => Ok(ind),
            YearData::Disk(files, rec) => files.load(&a.study, rec.year).map(|mut ind| {
                ind.qa = rec.qa;
                ind.files = rec.files;
                ind
            }),
        })
        .collect::<Result<Vec<_>>>()?;
    finish_years(req, g.area, a.out_grid.as_ref(), inds, progress)
}

/// The state a pass updates as strips arrive.
struct PassState<'s, 'a> {
    req: &'s RseiRequest<'a>,
    groups: &'s [Group<'a>],
    areas: &'s [AreaState<'a>],
    gstate: &'s mut Vec<GroupState>,
    plan: &'s mut PassPlan,
    report: &'s mut PassReport,
    progress: &'s dyn Progress,
    save_plan: &'s dyn Fn(&PassPlan) -> Result<()>,
    /// Starts pass 2 of a group on the thread pool.
    spawn: &'s dyn Fn(Pass2Job),
    /// Where pass 2 results arrive.
    results: &'s std::sync::mpsc::Receiver<Pass2Done>,
    /// Groups in pass 2.
    in_flight: usize,
}

impl PassState<'_, '_> {
    fn fail(&mut self, targets: &[TargetState<'_>], gi: usize, e: Error, done: &mut dyn FnMut(usize, GroupEvent)) {
        if self.gstate[gi].failed {
            return;
        }
        self.gstate[gi].failed = true;
        self.gstate[gi].years.clear();
        for t in targets.iter().filter(|t| t.group == gi) {
            if let Sink::Disk(f) = &t.sink {
                f.remove();
            }
        }
        done(gi, GroupEvent::Finished(Err(e)));
    }

    /// A finished strip of target `t` in `band` (or the error that stopped it).
    fn strip(&mut self, targets: &mut [TargetState<'_>], t: usize, band: usize, strip: Result<StripOut>, done: &mut dyn FnMut(usize, GroupEvent)) -> Result<()> {
        let gi = targets[t].group;
        if self.gstate[gi].failed {
            return Ok(());
        }
        let year = targets[t].year;
        let r = (|| -> Result<()> {
            let mut strip = strip?;
            let a = &self.areas[targets[t].area];
            let start = strip.w5.row * a.study.grid.cols();
            let n = strip.w5.len();
            strip.set_water(a.landcover.as_ref().map(|lc| &lc[start..start + n]), self.req.options)?;
            let tg = &mut targets[t];
            match &mut tg.sink {
                Sink::Memory(ind) => {
                    ind.get_or_insert_with(|| YearIndicators::empty(&a.study, year)).put(&strip);
                    for (x, y) in tg.qa.iter_mut().zip(&strip.qa) {
                        x.merge(y);
                    }
                }
                Sink::Disk(files) => {
                    files.write_strip(&strip)?;
                    let inside = tiled::inside_rows(a, strip.w5.row..strip.w5.row_end())?;
                    let any = inside.iter().zip(&strip.count09).any(|(&i, &c)| i && c > 0);
                    tg.any_valid_inside |= any;
                    for (x, y) in tg.qa.iter_mut().zip(&strip.qa) {
                        x.merge(y);
                    }
                    if let Some(rec) = self.plan.groups[gi].pass1.get_mut(&year) {
                        rec.bands.insert(band, BandRecord { qa: strip.qa, any_valid_inside: any });
                    }
                    (self.save_plan)(self.plan)?;
                }
            }
            tg.bands_left.remove(&band);
            Ok(())
        })();
        if let Err(e) = r {
            self.fail(targets, gi, e.context(format!("year {year}")), done);
            return Ok(());
        }
        if targets[t].bands_left.is_empty() {
            self.year_complete(targets, t, done)?;
        }
        Ok(())
    }

    /// Target `t` has every strip: record its year; run pass 2 when its group is complete.
    fn year_complete(&mut self, targets: &mut [TargetState<'_>], t: usize, done: &mut dyn FnMut(usize, GroupEvent)) -> Result<()> {
        let gi = targets[t].group;
        if self.gstate[gi].failed {
            return Ok(());
        }
        let opts = self.req.options;
        let tg = &mut targets[t];
        let a = &self.areas[tg.area];
        let year = tg.year;
        let data = (|| -> Result<YearData> {
            Ok(match &mut tg.sink {
                Sink::Memory(ind) => {
                    let mut ind = ind.take().ok_or_else(|| Error::msg("internal: a year without strips"))?;
                    let any = ind.inside.iter().zip(&ind.count_mod09).any(|(&i, &c)| i && c > 0);
                    let (qa, files) = year_record(year, &tg.sels, tg.qa, any, opts)?;
                    ind.qa = qa;
                    ind.files = files;
                    YearData::Memory(ind)
                }
                Sink::Disk(files) => {
                    let (qa, list) = year_record(year, &tg.sels, tg.qa, tg.any_valid_inside, opts)?;
                    // the layers stay on disk for a tiled pass 2; the record travels alone
                    let mut rec = YearIndicators::record_only(&a.study, year);
                    rec.qa = qa;
                    rec.files = list;
                    YearData::Disk(files.clone(), rec)
                }
            })
        })();
        match data {
            Err(e) => {
                self.fail(targets, gi, e.context(format!("year {year}")), done);
                Ok(())
            }
            Ok(d) => {
                self.gstate[gi].years.insert(year, d);
                if self.gstate[gi].years.len() == self.groups[gi].years.len() {
                    self.group_complete(targets, gi, done)?;
                }
                Ok(())
            }
        }
    }

    /// A complete group: its pass 2 starts beside the sweep (once fewer than
    /// [`MAX_PASS2_IN_FLIGHT`] groups are in pass 2); results that arrived are recorded.
    fn group_complete(&mut self, targets: &mut [TargetState<'_>], gi: usize, done: &mut dyn FnMut(usize, GroupEvent)) -> Result<()> {
        let years = std::mem::take(&mut self.gstate[gi].years);
        let g = &self.groups[gi];
        let Some(ai) = targets.iter().find(|t| t.group == gi).map(|t| t.area) else { return Ok(()) };
        self.drain(targets, done, MAX_PASS2_IN_FLIGHT - 1)?;
        done(gi, GroupEvent::Modelling);
        let label = g.years.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
        self.progress.message(&format!("{} {label}: RSEI and outputs", g.area.name));
        if self.areas[ai].tiled {
            self.report.years_tiled += years.len();
        }
        (self.spawn)(Pass2Job { gi, ai, years });
        self.in_flight += 1;
        self.drain(targets, done, usize::MAX)
    }

    /// Records the pass 2 results that arrived, waiting until at most `max` groups are in pass 2
    /// (`usize::MAX`: no wait). While it waits, this thread runs tasks of the pool (pass 2 needs
    /// them; with one thread, this thread is the pool).
    fn drain(&mut self, targets: &mut [TargetState<'_>], done: &mut dyn FnMut(usize, GroupEvent), max: usize) -> Result<()> {
        loop {
            while let Ok((gi, res)) = self.results.try_recv() {
                self.in_flight -= 1;
                self.finish(targets, gi, res, done)?;
            }
            if self.in_flight <= max {
                return Ok(());
            }
            if rayon::yield_now() != Some(rayon::Yield::Executed) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }

    /// The end of a group's pass 2: its temporary files removed, its record in the plan.
    fn finish(&mut self, targets: &mut [TargetState<'_>], gi: usize, res: Result<Vec<YearSummary>>, done: &mut dyn FnMut(usize, GroupEvent)) -> Result<()> {
        for t in targets.iter().filter(|t| t.group == gi) {
            if let Sink::Disk(f) = &t.sink {
                f.remove();
            }
        }
        match res {
            Ok(summaries) => {
                let pg = &mut self.plan.groups[gi];
                pg.done = true;
                pg.pass1.clear();
                pg.summaries = plan::encode_summaries(&summaries)?;
                (self.save_plan)(self.plan)?;
                done(gi, GroupEvent::Finished(Ok(summaries)));
            }
            Err(e) => {
                self.gstate[gi].failed = true;
                done(gi, GroupEvent::Finished(Err(e)));
            }
        }
        Ok(())
    }
}

/// The grids, land cover and output grid of an area, and whether its years are modelled in strips.
fn area_state<'a>(req: &RseiRequest<'_>, area: &'a StudyArea, memory: MemoryBudget, years_at_once: usize) -> Result<AreaState<'a>> {
    let opts = req.options;
    let b = rsei_core::zonal::PreparedPolygon::new(&area.polygon)?.bounds();
    let cells = tiled::grid_cells(&b);
    let at_once = if opts.rsei.pooled { years_at_once.max(1) } else { 1 };
    let tiled = cells.saturating_mul(YEAR_BYTES_PER_CELL).saturating_mul(at_once) > memory.share(1, 2);
    if tiled {
        return tiled::area_state(req, area, memory);
    }
    let study = study_grid(area, opts.clip_rule)?;
    let landcover = match &req.inputs.landcover {
        Some(p) => Some(landcover_on_grid(p, &study.grid)?),
        None => None,
    };
    let out_grid = output_grid(area, opts)?;
    Ok(AreaState { area, study, landcover, out_grid, dir: req.out_dir.join(area.slug()), tiled: false, rows: None, strip_cells: tiled::strip_cells(memory) })
}
