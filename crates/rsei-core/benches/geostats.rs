//! Trend, geodetector and spatial-autocorrelation benchmark (`scripts/bench-geostats.sh` runs it
//! beside the Python baselines of `benches/geostats_baseline.py`).
//!
//! ```text
//! cargo bench -p rsei-core --bench geostats                          # 10 Mpx × 24 years; 100k × 10 factors; 1000 × 1000 cells
//! cargo bench -p rsei-core --bench geostats -- --pixels 1000000 --years 24 --cells 200000 --side 500 --permutations 999
//! ```
//!
//! * Trend: `--pixels` (default 10 000 000) series of `--years` (default 24) values — a per-pixel
//!   slope, seasonal-free noise, 2 % missing values — then Mann–Kendall (tie-corrected) and the
//!   Theil–Sen slope per pixel and Benjamini–Hochberg classes (`trend_stack`, default options).
//! * Geodetector: a response and 10 continuous factors on `--cells` cells (default 100 000), each
//!   factor discretised by the optimal discretisation (4 methods × k = 3..=8), then the factor and
//!   risk detectors per factor and the interaction and ecological detectors for all 45 pairs.
//! * Spatial: a `--side`² raster (default 1000 × 1000) of a smooth field plus noise with 1 % nodata;
//!   queen weights; global Moran's I and LISA with `--permutations` (default 999) each; also a
//!   distance band of 2.5 cells (20 neighbours) for LISA.
//!
//! Inputs are deterministic (SplitMix64 with fixed seeds). Timings are wall-clock, best of
//! `--reps` (default 1) runs, on the rayon pool of the machine (`RAYON_NUM_THREADS`).

use std::time::Instant;

use rsei_core::geodetector::{geodetector, Factor, GdOptions, Method, OptimalOptions};
use rsei_core::trend::{trend_stack, StackOptions};
use rsei_core::spatial::{lisa, moran, valid_cells, GridWeights, LisaOptions, MoranOptions};

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Approximately standard normal (sum of 4 uniforms, scaled).
    fn normal(&mut self) -> f64 {
        ((self.unit() + self.unit() + self.unit() + self.unit()) - 2.0) * 3f64.sqrt()
    }
}

fn arg(name: &str, default: usize) -> usize {
    let a: Vec<String> = std::env::args().collect();
    a.iter().position(|x| x == name).and_then(|i| a.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

fn main() {
    let cells = arg("--cells", 100_000);
    let side = arg("--side", 1000);
    let perms = arg("--permutations", 999);
    let reps = arg("--reps", 1);
    let pixels = arg("--pixels", 10_000_000);
    let years = arg("--years", 24);
    println!("rayon threads: {}", rayon::current_num_threads());

    // --- trend ----------------------------------------------------------------------------
    if pixels > 0 {
        let mut rng = SplitMix(3);
        let slope: Vec<f32> = (0..pixels).map(|_| ((rng.unit() - 0.5) * 0.02) as f32).collect();
        let layers: Vec<Vec<f32>> = (0..years)
            .map(|t| {
                slope
                    .iter()
                    .map(|&b| if rng.unit() < 0.02 { f32::NAN } else { (0.5 + f64::from(b) * t as f64 + 0.05 * rng.normal()) as f32 })
                    .collect()
            })
            .collect();
        let refs: Vec<&[f32]> = layers.iter().map(Vec::as_slice).collect();
        let (t, r) = best_of(reps, || trend_stack(&refs, &StackOptions::default()).expect("trend"));
        let s = r.summary;
        println!(
            "trend: {pixels} pixels × {years} years, Mann–Kendall + Sen slope + BH FDR: {t:.3} s ({:.2} Mpx/s); tested {}, improvement {}, degradation {}, not significant {}",
            pixels as f64 / t / 1e6,
            s.tested,
            s.improvement,
            s.degradation,
            s.not_significant
        );
        drop(r);
    }

    // --- geodetector ----------------------------------------------------------------------
    let mut rng = SplitMix(42);
    let factors: Vec<Vec<f32>> = (0..10)
        .map(|f| {
            (0..cells)
                .map(|_| match f % 3 {
                    0 => (rng.unit() * 1000.0) as f32,                     // uniform (DEM-like)
                    1 => (rng.normal() * 2.0 + 10.0).exp().min(1e9) as f32, // skewed (GDP-like)
                    _ => (rng.unit().powi(3) * 50.0) as f32,                // mostly small (slope-like)
                })
                .collect()
        })
        .collect();
    let y: Vec<f32> = (0..cells)
        .map(|i| {
            let a = f64::from(factors[0][i]) / 1000.0;
            let b = (f64::from(factors[1][i]).ln() - 10.0) / 4.0;
            let c = f64::from(factors[2][i]) / 50.0;
            (0.4 * a + 0.2 * b.tanh() + 0.3 * (6.0 * c).sin() + 0.1 * rng.normal()) as f32
        })
        .collect();
    let fs: Vec<Factor> = factors.iter().enumerate().map(|(i, v)| Factor::optimal(&format!("x{i}"), v)).collect();
    let (t, rep) = best_of(reps, || geodetector(&y, &fs, &GdOptions::default()).expect("geodetector"));
    println!(
        "geodetector: {} cells × {} factors, optimal discretisation (4 methods × k 3..=8) + 4 detectors, {} pairs: {:.3} s",
        rep.n,
        fs.len(),
        rep.pairs.len(),
        t
    );
    for fr in rep.factors.iter().take(3) {
        let d = fr.discretization.as_ref().expect("discretised");
        println!("  {}: {:?} k={} q={:.4} p={:.3e}", fr.name, d.method, d.k, fr.factor.q, fr.factor.p_value);
    }
    // the methods of the Python baseline (quantile and equal intervals, k 3..=8)
    let two = OptimalOptions { methods: vec![Method::Quantile, Method::Equal], ..OptimalOptions::default() };
    let fs2: Vec<Factor> = factors.iter().enumerate().map(|(i, v)| Factor { kind: rsei_core::geodetector::FactorKind::Optimal(two.clone()), ..Factor::optimal(&format!("x{i}"), v) }).collect();
    let (t2, rep2) = best_of(reps, || geodetector(&y, &fs2, &GdOptions::default()).expect("geodetector"));
    println!("geodetector, quantile and equal breaks only (2 methods × k 3..=8) + 4 detectors: {t2:.3} s (x0 q = {:.4})", rep2.factors[0].factor.q);

    // --- spatial --------------------------------------------------------------------------
    let mut rng = SplitMix(7);
    let v: Vec<f32> = (0..side * side)
        .map(|i| {
            let (r, c) = ((i / side) as f64, (i % side) as f64);
            if rng.unit() < 0.01 {
                f32::NAN
            } else {
                ((r / 37.0).sin() * (c / 53.0).cos() + 0.5 * rng.normal()) as f32
            }
        })
        .collect();
    let valid = valid_cells(&v);
    let (tw, w) = best_of(reps, || GridWeights::queen(side, side, &valid).expect("weights"));
    println!("queen weights: {} valid cells of {}×{}: {:.3} s", w.n(), side, side, tw);
    let (tm, m) = best_of(reps, || moran(&v, &w, &MoranOptions { permutations: perms, seed: 1 }).expect("moran"));
    println!("global Moran's I, {perms} permutations: {tm:.3} s (I = {:.4}, z_norm = {:.1}, p_sim = {:?})", m.i, m.z_norm, m.p_sim);
    let (tl, l) = best_of(reps, || lisa(&v, &w, &LisaOptions { permutations: perms, seed: 1, alpha: 0.05, fdr: true }).expect("lisa"));
    println!("LISA (queen), {perms} conditional permutations, FDR: {tl:.3} s (clusters ns/HH/LH/LL/HL = {:?})", l.cluster_counts());
    let (tb, wb) = best_of(reps, || GridWeights::distance_band_cells(side, side, &valid, 2.5).expect("band"));
    let (tlb, lb) = best_of(reps, || lisa(&v, &wb, &LisaOptions { permutations: perms, seed: 1, alpha: 0.05, fdr: true }).expect("lisa"));
    println!(
        "LISA (distance band 2.5 cells, {} neighbours), {perms} permutations: weights {tb:.3} s, LISA {tlb:.3} s ({:?})",
        wb.offsets().len(),
        lb.cluster_counts()
    );
}
