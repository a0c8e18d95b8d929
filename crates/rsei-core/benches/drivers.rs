//! Derived-driver benchmark: Horn slope, the exact distance transform, distances round a coastline
//! (Theta* with convex corners) and the moving-window mine share, on a city-sized padded grid
//! (the default 1 km driver grid of a ~150 km city plus the 50 km search margin) and a large one.
//!
//! ```text
//! cargo bench -p rsei-core --bench drivers                      # 260 × 260 and 2000 × 2000 cells
//! cargo bench -p rsei-core --bench drivers -- --size 1000       # the large grid at 1000 × 1000
//! ```
//!
//! Inputs are deterministic: a DEM of superposed waves; 60 mine squares of 1–3 cells placed by
//! SplitMix64 with a fixed seed; a wavy "coastline" barrier across the grid (about 1.3 grid widths
//! long, with a gap-free rasterisation) for the barrier case.

use std::time::Instant;

use rsei_core::drivers::{distance_to_sources, distance_with_barrier, moving_window_share, rasterize_barrier, slope_degrees, SquareWindow};
use rsei_core::grid::{Crs, GeoTransform, Grid};
use rsei_core::Raster;

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn grid(n: usize) -> Grid {
    Grid::new(n, n, GeoTransform::new(0.0, 1000.0, n as f64 * 1000.0, -1000.0), Crs::new("EPSG:3857"))
}

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("at least one repetition"))
}

fn run(n: usize, reps: usize) {
    let g = grid(n);
    let dem: Vec<f32> = (0..g.len())
        .map(|i| {
            let (r, c) = ((i / n) as f32, (i % n) as f32);
            300.0 + 200.0 * (r / 17.0).sin() * (c / 23.0).cos() + 80.0 * (c / 7.0 + r / 11.0).sin()
        })
        .collect();
    let dem = Raster::new(g.clone(), dem).expect("DEM buffer");
    let mut rng = SplitMix(42);
    let mut mines = vec![false; g.len()];
    let mut frac = vec![0f32; g.len()];
    for _ in 0..60 {
        let (r, c, s) = ((rng.next() % n as u64) as usize, (rng.next() % n as u64) as usize, 1 + (rng.next() % 3) as usize);
        for rr in r..(r + s).min(n) {
            for cc in c..(c + s).min(n) {
                mines[rr * n + cc] = true;
                frac[rr * n + cc] = 0.5 + (rng.next() % 50) as f32 / 100.0;
            }
        }
    }
    // a wavy coastline from the west edge to the east edge, through the middle
    let size = n as f64 * 1000.0;
    let coast: Vec<(f64, f64)> = (0..=200)
        .map(|k| {
            let x = size * k as f64 / 200.0;
            (x, size * (0.5 + 0.15 * (x / size * 9.0).sin()))
        })
        .collect();
    println!("{n} × {n} cells ({} cells), best of {reps}:", g.len());
    let (t, _) = best_of(reps, || slope_degrees(&dem).expect("slope"));
    println!("  slope (Horn)                      {:>9.1} ms  {:>7.1} Mcells/s", t * 1e3, g.len() as f64 / t / 1e6);
    let (t, _) = best_of(reps, || distance_to_sources(&g, &mines).expect("EDT"));
    println!("  distance transform (exact EDT)    {:>9.1} ms  {:>7.1} Mcells/s", t * 1e3, g.len() as f64 / t / 1e6);
    let (t, _) = best_of(reps, || moving_window_share(n, n, &frac, &SquareWindow::new(10.0, 1.0).expect("window")).expect("share"));
    println!("  mine share, 11 × 11 window        {:>9.1} ms  {:>7.1} Mcells/s", t * 1e3, g.len() as f64 / t / 1e6);
    let (t, blocked) = best_of(reps, || rasterize_barrier(&g, std::slice::from_ref(&coast)).expect("barrier"));
    println!("  coastline rasterised              {:>9.1} ms  ({} blocked cells)", t * 1e3, blocked.iter().filter(|&&b| b).count());
    let (t, d) = best_of(reps.min(3), || distance_with_barrier(&g, &mines, &blocked).expect("barrier distance"));
    println!(
        "  distance round the coastline      {:>9.1} ms  ({} direct, {} round the barrier, {} unreachable)",
        t * 1e3,
        d.direct_cells,
        d.detour_cells,
        d.unreachable_cells
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let size = args.iter().position(|a| a == "--size").and_then(|i| args.get(i + 1)).and_then(|s| s.parse().ok()).unwrap_or(2000);
    run(260, 5);
    run(size, 3);
}
