//! Zonal statistics benchmark: many polygons over a large raster, both pixel rules, in memory and
//! streamed from a file by row strips.
//!
//! ```text
//! cargo bench -p rsei-core --bench zonal                         # 10 000 polygons, 10 000 × 10 000 cells, in memory
//! cargo bench -p rsei-core --bench zonal -- --write DIR          # also writes the inputs and our means to DIR
//! cargo bench -p rsei-core --bench zonal -- --stream DIR         # streams DIR/raster.f32 by strips (bounded memory)
//! cargo bench -p rsei-core --bench zonal -- --rows 2000 --cols 2000 --polygons 1000   # smaller run
//! ```
//!
//! Inputs are deterministic (SplitMix64 with a fixed seed): values k/1024 in [0, 1) with ~2 % nodata;
//! polygons are "convex-ish" stars of 8–40 vertices whose radius is log-uniform between 2 and 200
//! cells, jittered by ±30 %, centred anywhere on the raster (some cross its edges).
//! `conformance/zonal/bench_side_by_side.sh` runs this and exactextract on the same files.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use geo_types::{LineString, MultiPolygon, Polygon};
use rsei_core::error::CoreError;
use rsei_core::grid::{Crs, GeoTransform, Grid, Window};
use rsei_core::zonal::{coverages, zonal_stats, zonal_stats_streaming, Block, PixelRule, ZonalOptions, ZonalStats};

const NODATA: f32 = -9999.0;
const CELL: f64 = 500.0;
const X0: f64 = 2_000_000.0;
const Y0: f64 = 5_000_000.0;

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

fn cell_value(i: usize) -> f32 {
    let mut s = SplitMix(i as u64 ^ 0xA5A5_5A5A);
    let h = s.next();
    if h % 50 == 0 {
        f32::NAN
    } else {
        ((h >> 20) % 1024) as f32 / 1024.0
    }
}

fn grid(rows: usize, cols: usize) -> Grid {
    Grid::new(rows, cols, GeoTransform::new(X0, CELL, Y0, -CELL), Crs::new("EPSG:32650"))
}

fn polygons(n: usize, rows: usize, cols: usize) -> Vec<MultiPolygon<f64>> {
    let mut rng = SplitMix(20_240_611);
    (0..n)
        .map(|_| {
            let cx = X0 + rng.unit() * cols as f64 * CELL;
            let cy = Y0 - rng.unit() * rows as f64 * CELL;
            let r = 2.0 * 100f64.powf(rng.unit()) * CELL;
            let nv = 8 + (rng.next() % 33) as usize;
            let phase = rng.unit() * std::f64::consts::TAU;
            let pts: Vec<(f64, f64)> = (0..nv)
                .map(|k| {
                    let a = phase + k as f64 / nv as f64 * std::f64::consts::TAU;
                    let rr = r * (0.7 + 0.6 * rng.unit());
                    // round to the millimetre so the GeoJSON text round-trips exactly
                    (((cx + rr * a.cos()) * 1000.0).round() / 1000.0, ((cy + rr * a.sin()) * 1000.0).round() / 1000.0)
                })
                .collect();
            MultiPolygon(vec![Polygon::new(LineString::from(pts), vec![])])
        })
        .collect()
}

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn write_inputs(dir: &Path, g: &Grid, values: &[f32], polys: &[MultiPolygon<f64>]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut f = BufWriter::new(File::create(dir.join("raster.f32"))?);
    for &v in values {
        f.write_all(&(if v.is_nan() { NODATA } else { v }).to_le_bytes())?;
    }
    f.flush()?;
    std::fs::write(dir.join("raster.txt"), format!("{} {} {X0} {Y0} {CELL} {NODATA}\n", g.rows(), g.cols()))?;
    let mut j = BufWriter::new(File::create(dir.join("polygons.geojson"))?);
    writeln!(j, "{{\"type\":\"FeatureCollection\",\"features\":[")?;
    for (i, p) in polys.iter().enumerate() {
        let ring: Vec<String> = p.0[0].exterior().0.iter().map(|c| format!("[{},{}]", c.x, c.y)).collect();
        let sep = if i + 1 < polys.len() { "," } else { "" };
        writeln!(
            j,
            "{{\"type\":\"Feature\",\"id\":{i},\"properties\":{{\"id\":{i}}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}}}{sep}",
            ring.join(",")
        )?;
    }
    writeln!(j, "]}}")?;
    j.flush()
}

fn write_means(path: &Path, stats: &[ZonalStats]) -> std::io::Result<()> {
    let mut f = BufWriter::new(File::create(path)?);
    writeln!(f, "id,count,weighted_count,mean")?;
    for (i, s) in stats.iter().enumerate() {
        let m = s.mean.map(|m| format!("{m:?}")).unwrap_or_else(|| "nan".into());
        writeln!(f, "{i},{},{:?},{m}", s.count, s.weighted_count)?;
    }
    f.flush()
}

fn read_polygons(path: &Path) -> Vec<MultiPolygon<f64>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let fc: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    fc["features"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    let ring: Vec<(f64, f64)> = f["geometry"]["coordinates"][0]
                        .as_array()
                        .map(|pts| pts.iter().map(|p| (p[0].as_f64().unwrap_or(f64::NAN), p[1].as_f64().unwrap_or(f64::NAN))).collect())
                        .unwrap_or_default();
                    MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])])
                })
                .collect()
        })
        .unwrap_or_default()
}

fn stream(dir: &Path, max_cells: usize) {
    let hdr = std::fs::read_to_string(dir.join("raster.txt")).expect("raster.txt");
    let h: Vec<f64> = hdr.split_whitespace().map(|t| t.parse().expect("header number")).collect();
    let g = grid(h[0] as usize, h[1] as usize);
    let polys = read_polygons(&dir.join("polygons.geojson"));
    let mut file = File::open(dir.join("raster.f32")).expect("raster.f32");
    let cols = g.cols();
    let mut bytes = Vec::new();
    let mut read_cells = 0usize;
    for rule in [PixelRule::Coverage, PixelRule::Centre] {
        let t = Instant::now();
        let stats = zonal_stats_streaming::<CoreError, _>(&g, &polys, &ZonalOptions::new(rule), max_cells, |w: Window| {
            let mut values = Vec::with_capacity(w.len());
            bytes.resize(w.cols * 4, 0);
            for r in w.row..w.row_end() {
                file.seek(SeekFrom::Start(((r * cols + w.col) * 4) as u64)).map_err(|e| CoreError::NoValidPixels(e.to_string()))?;
                file.read_exact(&mut bytes).map_err(|e| CoreError::NoValidPixels(e.to_string()))?;
                values.extend(bytes.chunks_exact(4).map(|b| {
                    let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    if v == NODATA {
                        f32::NAN
                    } else {
                        v
                    }
                }));
            }
            read_cells += w.len();
            Ok(Block { values, exclude: None })
        })
        .expect("streaming zonal statistics");
        let dt = t.elapsed().as_secs_f64();
        let n = stats.iter().filter(|s| s.count > 0).count();
        println!(
            "| streamed, {} rule, strips of ≤ {max_cells} cells | {dt:.2} s | {n} polygons with data | peak RSS so far {:.0} MiB |",
            rule.name(),
            vm_hwm_mib()
        );
        if rule == PixelRule::Coverage {
            write_means(&dir.join("ours_coverage_streamed.csv"), &stats).expect("write csv");
        }
    }
    println!("cells read from disk: {read_cells}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let rows: usize = opt("--rows").and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let cols: usize = opt("--cols").and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let npoly: usize = opt("--polygons").and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let max_cells: usize = opt("--max-cells").and_then(|v| v.parse().ok()).unwrap_or(16 << 20);
    if let Some(dir) = opt("--stream") {
        stream(Path::new(&dir), max_cells);
        return;
    }
    let write_dir = opt("--write").map(PathBuf::from);
    println!("threads: {}", rayon::current_num_threads());

    let t = Instant::now();
    let g = grid(rows, cols);
    let mut values = vec![0f32; g.len()];
    {
        use rayon::prelude::*;
        values.par_chunks_mut(cols).enumerate().for_each(|(r, row)| {
            for (c, v) in row.iter_mut().enumerate() {
                *v = cell_value(r * cols + c);
            }
        });
    }
    let polys = polygons(npoly, rows, cols);
    let nverts: usize = polys.iter().map(|p| p.0[0].exterior().0.len()).sum();
    println!("generated {rows} × {cols} raster and {npoly} polygons ({nverts} vertices) in {:.2} s", t.elapsed().as_secs_f64());
    if let Some(d) = &write_dir {
        let t = Instant::now();
        write_inputs(d, &g, &values, &polys).expect("write inputs");
        println!("wrote inputs to {} in {:.2} s", d.display(), t.elapsed().as_secs_f64());
    }

    println!("| what | time | result |");
    println!("|---|---|---|");
    for rule in [PixelRule::Coverage, PixelRule::Centre] {
        let t = Instant::now();
        let stats = zonal_stats(&g, &values, None, &polys, &ZonalOptions::new(rule)).expect("zonal stats");
        let dt = t.elapsed().as_secs_f64();
        let n = stats.iter().filter(|s| s.count > 0).count();
        let total: f64 = stats.iter().map(|s| s.weighted_count).sum();
        println!("| zonal stats, {} rule, in memory | {dt:.2} s | {n} polygons with data, Σ weights {total:.1} |", rule.name());
        if let Some(d) = &write_dir {
            write_means(&d.join(format!("ours_{}.csv", rule.name())), &stats).expect("write csv");
        }
    }
    println!(
        "peak RSS (VmHWM) after the zonal statistics: {:.0} MiB (the raster alone is {:.0} MiB)",
        vm_hwm_mib(),
        (g.len() * 4) as f64 / 1048576.0
    );
    for rule in [PixelRule::Coverage, PixelRule::Centre] {
        let t = Instant::now();
        let covs = coverages(&g, &polys, rule).expect("coverages");
        let dt = t.elapsed().as_secs_f64();
        let cells: usize = covs.iter().flatten().map(|c| c.window.len()).sum();
        println!("| {} weights only, all kept in memory ({cells} window cells) | {dt:.2} s | |", rule.name());
    }
}
