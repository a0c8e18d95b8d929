//! Distance-ring benchmark: 1 000 mines in a 150 km city, union + 30 ring buffers + clipping to the
//! city (GEOS through GDAL), then the whole mining analysis (`rsei_core::mining`) over 22 yearly RSEI
//! rasters of 500 m on the city.
//!
//! ```text
//! cargo bench -p rsei-io --bench zonal_rings
//! cargo bench -p rsei-io --bench zonal_rings -- --mines 200 --years 5     # smaller run
//! ```
//!
//! Deterministic inputs (SplitMix64, fixed seed), all in the equal-area CRS (metres): the city is a
//! wavy 400-vertex polygon of radius ≈ 70 km; the mines are 12-vertex stars of radius 0.2–1.5 km in
//! 20 clustered districts; RSEI rises with the distance to the district centres plus noise.

use std::time::Instant;

use geo_types::{LineString, MultiPolygon, Polygon};
use rsei_core::grid::{Crs, GeoTransform, Grid};
use rsei_core::mining::{analyse_mining, Latitudes, MineInput, MiningInputs, MiningOptions, RingInput, YearRaster};
use rsei_core::zonal::PixelRule;
use rsei_io::vector::{area, distance_rings, intersection, union_all, RingOptions};

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn star(cx: f64, cy: f64, r: f64, n: usize, jitter: f64, rng: &mut SplitMix) -> Polygon<f64> {
    let pts: Vec<(f64, f64)> = (0..n)
        .map(|k| {
            let a = k as f64 / n as f64 * std::f64::consts::TAU;
            let rr = r * (1.0 - jitter + 2.0 * jitter * rng.unit());
            (cx + rr * a.cos(), cy + rr * a.sin())
        })
        .collect();
    Polygon::new(LineString::from(pts), vec![])
}

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse::<usize>().ok());
    let n_mines = opt("--mines").unwrap_or(1000);
    let n_years = opt("--years").unwrap_or(22);
    println!("threads: {}", rayon::current_num_threads());

    let mut rng = SplitMix(7_031_991);
    let (cx, cy) = (2_000_000.0, 1_500_000.0);
    let city_poly = {
        let pts: Vec<(f64, f64)> = (0..400)
            .map(|k| {
                let a = k as f64 / 400.0 * std::f64::consts::TAU;
                let r = 70_000.0 * (1.0 + 0.15 * (5.0 * a).sin() + 0.05 * (17.0 * a).cos());
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        Polygon::new(LineString::from(pts), vec![])
    };
    let city = MultiPolygon(vec![city_poly]);
    let districts: Vec<(f64, f64)> = (0..20)
        .map(|_| {
            let a = rng.unit() * std::f64::consts::TAU;
            let r = 55_000.0 * rng.unit().sqrt();
            (cx + r * a.cos(), cy + r * a.sin())
        })
        .collect();
    let mines: Vec<MultiPolygon<f64>> = (0..n_mines)
        .map(|i| {
            let (dx, dy) = districts[i % districts.len()];
            let a = rng.unit() * std::f64::consts::TAU;
            let r = 8_000.0 * rng.unit();
            let radius = 200.0 + 1300.0 * rng.unit() * rng.unit();
            MultiPolygon(vec![star(dx + r * a.cos(), dy + r * a.sin(), radius, 12, 0.25, &mut rng)])
        })
        .collect();
    println!("{n_mines} mines, city of {:.0} km²", area(&city).expect("area") / 1e6);

    println!("| step | time |");
    println!("|---|---|");
    let t0 = Instant::now();
    let t = Instant::now();
    let union = union_all(&mines).expect("union");
    println!("| cascaded union of {n_mines} mines → {} parts | {:.2} s |", union.0.len(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let ropts = RingOptions::default();
    let rings = distance_rings(&union, Some(&city), &ropts).expect("rings");
    println!(
        "| {} rings (30 buffers of {} segments per quadrant, differences, clipping to the city) | {:.2} s |",
        rings.len(),
        ropts.quadrant_segments,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let union_in_city = intersection(&union, &city).expect("clip");
    println!("| union clipped to the city | {:.2} s |", t.elapsed().as_secs_f64());
    let geometry_s = t0.elapsed().as_secs_f64();

    // the mining analysis on a 500 m grid over the city
    let cell = 500.0;
    let (x0, y0) = (cx - 85_000.0, cy + 85_000.0);
    let n = (170_000.0 / cell) as usize;
    let grid = Grid::new(n, n, GeoTransform::new(x0, cell, y0, -cell), Crs::asia_north_albers());
    let years: Vec<Vec<f32>> = (0..n_years)
        .map(|y| {
            (0..grid.len())
                .map(|i| {
                    let (px, py) = grid.cell_center(i / n, i % n);
                    let d = districts.iter().map(|&(dx, dy)| ((px - dx).powi(2) + (py - dy).powi(2)).sqrt()).fold(f64::INFINITY, f64::min);
                    let noise = (rng.unit() - 0.5) * 0.2;
                    ((0.25 + 0.5 * (1.0 - (-d / 8_000.0).exp()) + noise + 0.005 * y as f64).clamp(0.0, 1.0)) as f32
                })
                .collect()
        })
        .collect();
    let yr: Vec<YearRaster> = years.iter().enumerate().map(|(i, v)| YearRaster { year: 2001 + i as i32, values: v }).collect();
    let lat: Vec<f64> = (0..n).map(|r| 40.5 - r as f64 * cell / 111_000.0).collect();
    let mine_inputs: Vec<MineInput> = mines
        .iter()
        .enumerate()
        .map(|(i, m)| MineInput {
            id: i.to_string(),
            name: format!("mine {i}"),
            area_km2: area(m).expect("area") / 1e6,
            centroid_lat: 40.0,
            geometry: m.clone(),
        })
        .collect();
    let ring_inputs: Vec<RingInput> = rings
        .iter()
        .map(|r| RingInput { index: r.index, inner_km: r.inner_m / 1e3, outer_km: r.outer_m / 1e3, geometry: r.geometry.clone() })
        .collect();
    for rule in [PixelRule::Centre, PixelRule::Coverage] {
        let inputs = MiningInputs {
            grid: &grid,
            years: &yr,
            exclude: None,
            city: &city,
            mines_union: &union_in_city,
            mines: &mine_inputs,
            rings: &ring_inputs,
            latitudes: Some(Latitudes::PerRow(&lat)),
        };
        let t = Instant::now();
        let rep = analyse_mining(&inputs, &MiningOptions { rule, ..Default::default() }).expect("analysis");
        let trend = rep.ring_summary.trend.as_ref().map(|f| format!("R² {:.3}", f.r2)).unwrap_or_default();
        println!(
            "| mining analysis, {} rule: {n_years} years of {n}×{n} cells, {} mines, {} rings ({trend}) | {:.2} s |",
            rule.name(),
            mine_inputs.len(),
            ring_inputs.len(),
            t.elapsed().as_secs_f64()
        );
    }
    println!("geometry total {geometry_s:.2} s; peak RSS (VmHWM) {:.0} MiB", vm_hwm_mib());
}
