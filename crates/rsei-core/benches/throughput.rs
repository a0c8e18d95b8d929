//! Throughput of the RSEI core on a synthetic 4800 × 4800 raster (one MODIS tile at 500 m is
//! 2400 × 2400; this is four), with 1 and 2 threads:
//! (a) indicators (WET, NDBSI, MNDWI, NDVI) from seven reflectance bands;
//! (b) the RSEI stage from four indicators: statistics pass, fit, RSEI0 pass, rescale (and grades).
//!
//! Run: `cargo bench -p rsei-core --bench throughput` (optionally `-- <size>` for another side length).
//! Each figure is the best of 3 runs, in Mpx/s (millions of pixels per second) of wall time, with
//! the CPU time of that run (a load-independent measure of the work; Linux only).

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use std::time::Instant;

use rsei_core::indicators::{compute_indicators_par, IndicatorsOut, WetnessCoefficients};
use rsei_core::model::{compute_rsei, fit, rescale_and_grade, RseiOptions, RseiStats};

/// splitmix64 of the pixel index and band: deterministic, independent of threads.
fn hash(i: u64, k: u64) -> f32 {
    let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f32 / (1u64 << 24) as f32
}

/// Seven scaled reflectance bands: a vegetation fraction g drives red/NIR/SWIR like real surfaces.
fn reflectances(n: usize) -> Vec<Vec<f32>> {
    let mut b = vec![vec![0f32; n]; 7];
    for i in 0..n {
        let g = hash(i as u64, 99);
        let e = |k: u64| 0.02 * hash(i as u64, k);
        b[0][i] = 0.20 - 0.15 * g + e(0); // red
        b[1][i] = 0.15 + 0.30 * g + e(1); // nir
        b[2][i] = 0.08 - 0.05 * g + e(2); // blue
        b[3][i] = 0.12 - 0.05 * g + e(3); // green
        b[4][i] = 0.18 + 0.25 * g + e(4); // 1240 nm
        b[5][i] = 0.30 - 0.15 * g + e(5); // swir1
        b[6][i] = 0.25 - 0.17 * g + e(6); // swir2
    }
    b
}

/// CPU time (user + system) of this process in seconds, from `/proc/self/stat` (Linux; clock ticks
/// of 10 ms). `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Best wall time of `runs` runs, and the CPU time of that run (on a loaded machine wall time
/// suffers from other processes; CPU time much less).
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, Option<f64>, T) {
    let mut best = (f64::INFINITY, None);
    let mut last = None;
    for _ in 0..runs {
        let c = cpu_seconds();
        let t = Instant::now();
        let out = f();
        let wall = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds().zip(c).map(|(b, a)| b - a);
        if wall < best.0 {
            best = (wall, cpu);
        }
        last = Some(out);
    }
    (best.0, best.1, last.expect("at least one run"))
}

fn cpu_rate(mpx: f64, cpu: Option<f64>) -> String {
    match cpu {
        Some(c) if c > 0.0 => format!("; {:.0} Mpx per CPU-second", mpx / c),
        _ => String::new(),
    }
}

fn main() {
    let side: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(4800);
    let n = side * side;
    let mpx = n as f64 / 1e6;
    println!("synthetic {side} × {side} = {mpx:.2} Mpx; best of 3 runs");
    let t = Instant::now();
    let bands = reflectances(n);
    println!("(generated inputs in {:.1} s)", t.elapsed().as_secs_f64());
    let band_refs: [&[f32]; 7] = std::array::from_fn(|k| bands[k].as_slice());
    let (mut wet, mut ndbsi, mut mndwi, mut ndvi) = (vec![0f32; n], vec![0f32; n], vec![0f32; n], vec![0f32; n]);
    let mut lst = vec![0f32; n];
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        let (secs, cpu, ()) = best_of(3, || {
            pool.install(|| {
                compute_indicators_par(
                    band_refs,
                    side,
                    &WetnessCoefficients::MODIS,
                    IndicatorsOut { wet: &mut wet, ndbsi: &mut ndbsi, mndwi: &mut mndwi, ndvi: Some(&mut ndvi) },
                )
                .expect("indicators")
            })
        });
        println!("indicators (WET, NDBSI, MNDWI, NDVI) from 7 bands, {threads} thread(s): {:7.1} Mpx/s ({:.3} s{})", mpx / secs, secs, cpu_rate(mpx, cpu));
    }
    // LST (°C) anti-correlated with greenness; a few water/invalid pixels
    for i in 0..n {
        lst[i] = 38.0 - 15.0 * ndvi[i] + 3.0 * hash(i as u64, 7);
    }
    let valid: Vec<bool> = mndwi.iter().map(|&m| !(m > 0.0)).collect();
    let ind: [&[f32]; 4] = [&ndvi, &wet, &ndbsi, &lst];
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        let (secs, cpu, out) = best_of(3, || pool.install(|| compute_rsei(ind, Some(&valid), side, side, &RseiOptions::default()).expect("rsei")));
        println!("RSEI stage (stats, fit, RSEI0, rescale, grades), {threads} thread(s): {:7.1} Mpx/s ({:.3} s{})", mpx / secs, secs, cpu_rate(mpx, cpu));
        if threads == 2 {
            let m = &out.model;
            stages(ind, &valid, side);
            steps_single_thread(ind, &valid, side);
            println!("  model: n = {}, PC1 = {:?}, contribution {:.3}", m.n_pixels, m.pc1.map(|v| (v * 1000.0).round() / 1000.0), m.pc1_contribution);
        }
    }
}

/// CPU time of the calling thread in seconds (ns resolution, Linux `/proc/thread-self/schedstat`).
fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

/// Runs `f` on the calling thread (a 1-thread pool would move it) and returns its thread CPU time.
fn cpu_of(f: impl FnOnce()) -> f64 {
    let a = thread_cpu_seconds().unwrap_or(0.0);
    f();
    thread_cpu_seconds().unwrap_or(0.0) - a
}

/// Single-thread CPU cost of each step of the RSEI stage, in Mpx per CPU-second (independent of
/// other processes' load, up to cache sharing).
fn steps_single_thread(ind: [&[f32]; 4], valid: &[bool], side: usize) {
    let n = side * side;
    let mpx = n as f64 / 1e6;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
    pool.install(|| {
        let mut stats = RseiStats::default();
        let c_stats = cpu_of(|| stats.update_rows(ind, Some(valid), side).expect("stats"));
        let model = fit(&stats, None, &RseiOptions::default()).expect("fit");
        let mut r = vec![0f32; n];
        let mut mm = None;
        let c_r0 = cpu_of(|| mm = Some(model.rsei0(ind, Some(valid), &mut r).expect("rsei0")));
        let (lo, hi) = mm.and_then(|m| m.range()).expect("range");
        let c_g = cpu_of(|| {
            rescale_and_grade(&mut r, lo, hi).expect("rescale");
        });
        println!(
            "  single-thread CPU cost (Mpx per CPU-second): stats pass {:.0}, RSEI0 pass with min/max {:.0}, rescale + grades {:.0}; whole stage {:.0}",
            mpx / c_stats,
            mpx / c_r0,
            mpx / c_g,
            mpx / (c_stats + c_r0 + c_g)
        );
    });
}

/// Time of each step of the RSEI stage (2 threads, the global pool), to see where time goes.
fn stages(ind: [&[f32]; 4], valid: &[bool], side: usize) {
    let n = side * side;
    let t = Instant::now();
    let mut stats = RseiStats::default();
    stats.update_rows(ind, Some(valid), side).expect("stats");
    let t_stats = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let model = fit(&stats, None, &RseiOptions::default()).expect("fit");
    let t_fit = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut r = vec![0f32; n];
    let mm = model.rsei0_par(ind, Some(valid), &mut r).expect("rsei0");
    let t_r0 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (lo, hi) = mm.range().expect("range");
    let g = rescale_and_grade(&mut r, lo, hi).expect("rescale");
    let t_g = t.elapsed().as_secs_f64();
    assert!(g.n > 0);
    let mpx = n as f64 / 1e6;
    println!(
        "  steps (Mpx/s): stats pass {:.0}, fit {:.6} s, RSEI0 pass with min/max {:.0}, rescale + grades (1 thread) {:.0}",
        mpx / t_stats, t_fit, mpx / t_r0, mpx / t_g
    );
}
