//! Throughput of the RSEI core on a synthetic 4800 × 4800 raster (one MODIS tile at 500 m is
//! 2400 × 2400; this is four), with 1 and 2 threads:
//! (a) indicators (WET, NDBSI, MNDWI, NDVI) from seven reflectance bands;
//! (b) the RSEI stage from four indicators: statistics pass, fit, RSEI0 pass, rescale (and grades).
//!
//! Run: `cargo bench -p rsei-core --bench throughput` (optionally `-- <size>` for another side length).
//! Each figure is the best of 3 runs, in Mpx/s (millions of pixels per second).

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

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let out = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
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
        let (secs, ()) = best_of(3, || {
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
        println!("indicators (WET, NDBSI, MNDWI, NDVI) from 7 bands, {threads} thread(s): {:7.1} Mpx/s ({:.3} s)", mpx / secs, secs);
    }
    // LST (°C) anti-correlated with greenness; a few water/invalid pixels
    for i in 0..n {
        lst[i] = 38.0 - 15.0 * ndvi[i] + 3.0 * hash(i as u64, 7);
    }
    let valid: Vec<bool> = mndwi.iter().map(|&m| !(m > 0.0)).collect();
    let ind: [&[f32]; 4] = [&ndvi, &wet, &ndbsi, &lst];
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        let (secs, out) = best_of(3, || pool.install(|| compute_rsei(ind, Some(&valid), side, side, &RseiOptions::default()).expect("rsei")));
        println!("RSEI stage (stats, fit, RSEI0, rescale, grades), {threads} thread(s): {:7.1} Mpx/s ({:.3} s)", mpx / secs, secs);
        if threads == 2 {
            let m = &out.model;
            stages(ind, &valid, side);
            println!("  model: n = {}, PC1 = {:?}, contribution {:.3}", m.n_pixels, m.pc1.map(|v| (v * 1000.0).round() / 1000.0), m.pc1_contribution);
        }
    }
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
