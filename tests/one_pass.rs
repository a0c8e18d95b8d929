//! One pass over the archive and bounded memory, on the synthetic archive (seasons 2017–2021,
//! target years 2018–2020 with the default ±1-season window, two cities over two tiles):
//!
//! - the pass decodes each granule layer once (instrumented counter of `rsei-io`) where the
//!   per-year path decodes it for every year, area and strip that needs it;
//! - its composites equal those of the per-year path (`YearJob::run`, the reference) bit for bit;
//! - a run under a tiny memory budget (thin bands, strips on disk, the model and the outputs
//!   out of core) writes the same bytes as the in-memory run, per year and pooled;
//! - an interrupted `rsei compute` continues from its plan file and writes the same bytes.
//!
//! The counter is process-wide, so the tests of this file run one at a time (`LOCK`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use rsei_pipeline::archive::Archive;
use rsei_pipeline::area::{load_areas, AreaSource, StudyArea};
use rsei_pipeline::budget::MemoryBudget;
use rsei_pipeline::compute::YearJob;
use rsei_pipeline::options::{RseiRunOptions, RunInputs};
use rsei_pipeline::progress::{Progress, Silent};
use rsei_pipeline::run::{self, ComputeSettings, RseiRequest};

mod common;
use common::*;

static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const YEARS: [i32; 3] = [2018, 2019, 2020];

fn archive_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        remove_stale_fixtures("rsei-one-pass-archive-");
        let p = std::env::temp_dir().join(format!("rsei-one-pass-archive-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        rsei_pipeline::demo::archive::generate_years(&p, 42, 2017, 2021).expect("generating the synthetic archive");
        p
    })
}

struct Fixture {
    archive: Archive,
    areas: Vec<StudyArea>,
    inputs: RunInputs,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let a = archive_dir();
        let inputs = RunInputs { data: vec![a.join("modis")], landcover: None };
        let archive = Archive::scan(&inputs.data).unwrap();
        let areas = load_areas(&AreaSource::file(a.join("vectors/city.geojson"))).unwrap();
        Fixture { archive, areas, inputs }
    })
}

fn compute(out: &Path, opts: &RseiRunOptions, memory: MemoryBudget, progress: &dyn Progress) -> rsei_pipeline::Result<(Vec<run::YearSummary>, rsei_pipeline::onepass::PassReport)> {
    let f = fixture();
    let req = RseiRequest { archive: &f.archive, inputs: &f.inputs, areas: &f.areas, years: &YEARS, options: opts, out_dir: out };
    run::run_with(&req, &ComputeSettings { memory, resume: true }, progress)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Every file of `a` and `b` is the same, byte for byte (and no other file is there).
fn same_outputs(a: &Path, b: &Path) {
    let (fa, fb) = (files_under(a), files_under(b));
    assert_eq!(fa, fb, "the two runs wrote different files");
    assert!(fa.len() > 20, "{fa:?}");
    for f in &fa {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        if f.file_name().is_some_and(|n| n == "manifest.json") {
            // the manifests name their own output folder nowhere but in the outputs' paths
            let t = |v: &[u8], root: &Path| String::from_utf8_lossy(v).replace(&root.display().to_string(), "OUT");
            assert_eq!(t(&x, a), t(&y, b), "{}", f.display());
        } else {
            assert!(x == y, "{} differs", f.display());
        }
    }
}

/// A memory budget small enough for every path of the bounded-memory code on these small cities.
fn tiny() -> MemoryBudget {
    MemoryBudget::bytes(1 << 20)
}

#[test]
fn each_granule_layer_is_decoded_once() {
    let _g = lock();
    let f = fixture();
    let opts = RseiRunOptions::default();
    let t = TempDir::new("reads");
    // the per-year reference: every area and year reads its own window
    let before = rsei_io::read::read_counts();
    for area in &f.areas {
        let study = run::study_grid(area, opts.clip_rule).unwrap();
        for &year in &YEARS {
            YearJob { archive: &f.archive, study: &study, landcover: None, year, strip_cells: rsei_pipeline::compute::DEFAULT_STRIP_CELLS }.run(&opts, &Silent).unwrap();
        }
    }
    let per_year = rsei_io::read::read_counts().since(&before);
    // one pass for the same areas and years
    let before = rsei_io::read::read_counts();
    let (_, report) = compute(t.path(), &opts, MemoryBudget::DEFAULT, &Silent).unwrap();
    let one_pass = rsei_io::read::read_counts().since(&before);
    // the layers the windows need: every (granule, layer) of the seasons 2017–2021 that lies
    // under an area, counted once
    let mut needed = std::collections::BTreeSet::new();
    for area in &f.areas {
        let study = run::study_grid(area, opts.clip_rule).unwrap();
        for &year in &YEARS {
            let job = YearJob { archive: &f.archive, study: &study, landcover: None, year, strip_cells: 0 };
            for (k, sel) in job.selections(&opts).iter().enumerate() {
                let layers = [9, 2, 2][k];
                for (_, gs) in &sel.dates {
                    for g in gs {
                        for l in 0..layers {
                            needed.insert((g.label(), l));
                        }
                    }
                }
            }
        }
    }
    assert_eq!(report.band_rows_1km, 256);
    println!("per-year path: {per_year:?}; one pass: {one_pass:?}; granule layers needed: {}", needed.len());
    // both cities lie in one band: each granule layer is read exactly once
    assert_eq!(one_pass.windows as usize, needed.len());
    // the per-year path reads the middle seasons' granules for each of the years (÷3 expected
    // over a long series; here 3 years of 5 seasons) and for each city over the tile
    assert!(per_year.windows as f64 >= 2.0 * one_pass.windows as f64, "{per_year:?} vs {one_pass:?}");
}

#[test]
fn the_pass_gives_the_composites_of_the_per_year_path() {
    let _g = lock();
    let f = fixture();
    let opts = RseiRunOptions::default();
    let t = TempDir::new("same");
    compute(t.path(), &opts, tiny(), &Silent).unwrap();
    for area in &f.areas {
        let study = run::study_grid(area, opts.clip_rule).unwrap();
        for &year in &YEARS {
            let reference = YearJob { archive: &f.archive, study: &study, landcover: None, year, strip_cells: rsei_pipeline::compute::DEFAULT_STRIP_CELLS }.run(&opts, &Silent).unwrap();
            let dir = t.path().join(area.slug()).join(year.to_string());
            for (name, layer) in [("ndvi.tif", &reference.ndvi), ("wet.tif", &reference.wet), ("ndbsi.tif", &reference.ndbsi), ("lst_celsius.tif", &reference.lst_celsius), ("mndwi.tif", &reference.mndwi)] {
                let got = rsei_io::plain::read_plain(&dir.join(name), 1).unwrap();
                assert_eq!(got.grid().shape(), study.grid.shape());
                for (i, (g, r)) in got.data().iter().zip(layer.iter()).enumerate() {
                    let want = if study.inside[i] { *r } else { f32::NAN };
                    assert!(g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()), "{} {year} {name} cell {i}: {g} vs {want}", area.name);
                }
            }
        }
    }
}

#[test]
fn a_tiny_memory_budget_writes_the_same_bytes() {
    let _g = lock();
    for (label, opts) in [
        ("per year", RseiRunOptions::default()),
        ("pooled, percentile", {
            let mut o = RseiRunOptions::default();
            o.rsei.pooled = true;
            o.rsei.normalisation = rsei_core::model::Normalisation::Percentile { lo: 1.0, hi: 99.0 };
            o.lst_resample = rsei_core::indicators::Resample::Bilinear;
            o
        }),
    ] {
        let (a, b) = (TempDir::new("memory"), TempDir::new("tiny"));
        let (ra, pa) = compute(a.path(), &opts, MemoryBudget::DEFAULT, &Silent).unwrap();
        let (rb, pb) = compute(b.path(), &opts, tiny(), &Silent).unwrap();
        assert_eq!(pa.years_on_disk, 0, "{label}: {pa:?}");
        assert_eq!(pa.years_tiled, 0, "{label}: {pa:?}");
        // thin bands, every year through the temporary files and modelled in strips
        assert!(pb.band_rows_1km < 16, "{label}: {pb:?}");
        assert_eq!(pb.years_on_disk, 6, "{label}: {pb:?}");
        assert_eq!(pb.years_tiled, 6, "{label}: {pb:?}");
        assert_eq!(ra.len(), rb.len());
        same_outputs(a.path(), b.path());
        // the temporary files are gone
        assert!(!files_under(b.path()).iter().any(|p| p.to_string_lossy().contains(".pass1-")));
    }
}

/// A progress that stops the run (by a panic, as an interruption would) when three quarters of
/// its dates are done.
#[derive(Default)]
struct StopLate {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress for StopLate {
    fn inc(&self, n: u64) {
        let d = self.done.fetch_add(n, Ordering::SeqCst) + n;
        if 4 * d >= 3 * self.total.load(Ordering::SeqCst) {
            panic!("interrupted on purpose");
        }
    }
    fn add_total(&self, n: u64) {
        self.total.fetch_add(n, Ordering::SeqCst);
    }
    fn message(&self, _: &str) {}
    fn println(&self, _: &str) {}
}

/// A progress that stops the run (by a panic, as an interruption would) when the pass starts the
/// model and outputs of its `n`-th group: pass 2 runs beside the sweep with at most two groups at
/// once, so by then at least `n − 2` groups are finished and recorded in the plan file.
struct StopAtGroup {
    n: u64,
    seen: AtomicU64,
}

impl Progress for StopAtGroup {
    fn inc(&self, _: u64) {}
    fn add_total(&self, _: u64) {}
    fn message(&self, m: &str) {
        if m.ends_with(": RSEI and outputs") && self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.n {
            panic!("interrupted on purpose");
        }
    }
    fn println(&self, _: &str) {}
}

#[test]
fn an_interrupted_compute_continues_from_its_plan_file() {
    let _g = lock();
    let opts = RseiRunOptions::default();
    for memory in [MemoryBudget::DEFAULT, tiny()] {
        let (whole, resumed) = (TempDir::new("whole"), TempDir::new("resumed"));
        compute(whole.path(), &opts, memory, &Silent).unwrap();
        // interrupt when the fourth of the six groups is modelled
        let stop = StopAtGroup { n: 4, seen: AtomicU64::new(0) };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compute(resumed.path(), &opts, memory, &stop)));
        assert!(r.is_err(), "the run should have been interrupted");
        let plan = resumed.path().join(run::PLAN_FILE);
        assert!(plan.is_file(), "no plan file after the interruption");
        let p: serde_json::Value = json(&plan);
        let done_before = p["groups"].as_array().unwrap().iter().filter(|g| g["done"] == true).count();
        let bands_before: usize = p["groups"].as_array().unwrap().iter().map(|g| g["pass1"].as_object().map_or(0, |m| m.values().map(|r| r["bands"].as_object().map_or(0, |b| b.len())).sum())).sum();
        assert!(done_before >= 2, "fewer than two groups recorded before the interruption: {p}");
        // continue: the finished work is reused, the rest computed; the same bytes as one run
        let before = rsei_io::read::read_counts();
        let (rows, report) = compute(resumed.path(), &opts, memory, &Silent).unwrap();
        let reads = rsei_io::read::read_counts().since(&before);
        assert_eq!(rows.len(), 6);
        assert!(!plan.exists(), "the plan file is removed at the end");
        assert_eq!(report.bands_resumed, bands_before);
        same_outputs(whole.path(), resumed.path());
        println!("memory {memory}: {done_before} group(s) and {bands_before} band(s) reused; {} windows read to finish", reads.windows);
    }
}

#[test]
fn a_stale_plan_file_is_not_reused() {
    let _g = lock();
    let t = TempDir::new("stale");
    let opts = RseiRunOptions::default();
    let stop = StopLate::default();
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compute(t.path(), &opts, tiny(), &stop)));
    assert!(t.path().join(run::PLAN_FILE).is_file());
    // another option: nothing of the interrupted run may be reused
    let mut other = opts.clone();
    other.water.mndwi_threshold = 0.1;
    let (_, report) = compute(t.path(), &other, tiny(), &Silent).unwrap();
    assert_eq!(report.bands_resumed, 0);
    let fresh = TempDir::new("fresh");
    compute(fresh.path(), &other, tiny(), &Silent).unwrap();
    same_outputs(fresh.path(), t.path());
}
