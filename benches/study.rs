//! Study benchmark: seven synthetic cities of the sizes of the paper's seven cities, 24 target
//! years, RSEI + mining + drivers (DEM, slope, distance to mines, mine share), run with `rsei run`
//! from a study file; then a rerun with nothing to do and a rerun after a mining option change.
//!
//! ```sh
//! cargo bench --bench study -- [DIR] [--years N] [--dates8 K] [--dates16 K]
//! ```
//!
//! The synthetic archive (**not real data**) is generated once into DIR (default
//! `/tmp/rsei-bench-study`) and reused: seven city polygons of 14112, 12061, 9273, 4049, 4567,
//! 7403 and 1690 km² (irregular outlines, areas exact on the sinusoidal grid) laid out across the
//! boundary of tiles h27v05 and h28v05 (every city read from both tiles or one), with mines,
//! lakes, clouds and seasonal change; MOD09A1 and MOD11A2 with K dates per season (default 4, where
//! real MODIS has 15–16), MOD13A1 with K16 (default 2, real 8), seasons of the target years ± 1;
//! a DEM for the drivers. Each run is the release binary `rsei`, timed, with its peak memory
//! (`VmHWM` of the child, polled every 20 ms).

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;
use rsei_core::grid::modis::{self, Resolution};
use rsei_core::{GeoTransform, Grid, Raster, Window};
use rsei_io::{write_raster, Compression, Overviews, RasterFormat, WriteOptions};
use support::{field, hash, timed, walk};

/// Areas (km²) of the paper's cities (Tangshan, Handan, Anshan, Ma'anshan, Huangshi, Panzhihua,
/// Changjiang), as in the shared data's SOURCES.md.
const CITIES: [(&str, f64); 7] =
    [("Tangshan", 14112.0), ("Handan", 12061.0), ("Anshan", 9273.0), ("Ma'anshan", 4049.0), ("Huangshi", 4567.0), ("Panzhihua", 7403.0), ("Changjiang", 1690.0)];

/// x of the boundary between tiles h27 and h28; y of the layout's centre (≈ 37.3° N).
const X_MID: f64 = modis::X_MIN + 28.0 * modis::TILE_SIZE_M;
const Y_MID: f64 = 4_150_000.0;



/// An irregular city outline (48 vertices) of `area_km2` around (cx, cy), sinusoidal metres.
fn city_ring(k: usize, cx: f64, cy: f64, area_km2: f64) -> Vec<(f64, f64)> {
    let tau = std::f64::consts::TAU;
    let (p1, p2) = (f64::from(hash(k as u64, 1)) * tau, f64::from(hash(k as u64, 2)) * tau);
    let radius = |t: f64| 1.0 + 0.16 * (3.0 * t + p1).sin() + 0.07 * (7.0 * t + p2).sin();
    let n = 48;
    let unit: Vec<(f64, f64)> = (0..n).map(|i| 2.0 * std::f64::consts::PI * i as f64 / n as f64).map(|t| (radius(t) * t.cos(), radius(t) * t.sin())).collect();
    let a: f64 = (0..n).map(|i| unit[i].0 * unit[(i + 1) % n].1 - unit[(i + 1) % n].0 * unit[i].1).sum::<f64>() / 2.0;
    let s = (area_km2 * 1e6 / a).sqrt();
    let mut ring: Vec<(f64, f64)> = unit.iter().map(|&(x, y)| (cx + s * x, cy + s * y)).collect();
    ring.push(ring[0]);
    ring
}

fn inside(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut c = false;
    for w in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (w[0], w[1]);
        if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
            c = !c;
        }
    }
    c
}

/// The layout: the cities in two rows around (X_MID, Y_MID); their rings and the mines (squares).
struct Layout {
    rings: Vec<Vec<(f64, f64)>>,
    mines: Vec<(usize, Vec<(f64, f64)>)>,
    /// 500 m grid (on the 1 km lattice) covering everything with a 20 km margin.
    grid: Grid,
    grid_1km: Grid,
}

fn layout() -> Layout {
    let r = |a: f64| (a / std::f64::consts::PI).sqrt() * 1000.0 * 1.2;
    let gap = 8_000.0;
    let rows: [&[usize]; 2] = [&[0, 1, 2], &[3, 4, 5, 6]];
    let mut centres = [(0.0, 0.0); 7];
    let row_h = [2.0 * r(CITIES[0].1), 2.0 * r(CITIES[5].1)];
    for (ri, row) in rows.iter().enumerate() {
        let width: f64 = row.iter().map(|&k| 2.0 * r(CITIES[k].1) + gap).sum::<f64>() - gap;
        let mut x = X_MID - width / 2.0;
        let y = if ri == 0 { Y_MID + gap / 2.0 + row_h[0] / 2.0 } else { Y_MID - gap / 2.0 - row_h[1] / 2.0 };
        for &k in row.iter() {
            centres[k] = (x + r(CITIES[k].1), y);
            x += 2.0 * r(CITIES[k].1) + gap;
        }
    }
    let rings: Vec<Vec<(f64, f64)>> = (0..7).map(|k| city_ring(k, centres[k].0, centres[k].1, CITIES[k].1)).collect();
    let mut mines = Vec::new();
    for (k, ring) in rings.iter().enumerate() {
        let n = (CITIES[k].1 / 800.0).round().max(5.0) as usize;
        let (xmin, xmax) = ring.iter().fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
        let (ymin, ymax) = ring.iter().fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
        let mut j = 0u64;
        while mines.iter().filter(|(c, _)| *c == k).count() < n {
            j += 1;
            let x = xmin + (xmax - xmin) * f64::from(hash(100 + k as u64, j));
            let y = ymin + (ymax - ymin) * f64::from(hash(200 + k as u64, j));
            if !inside(ring, x, y) {
                continue;
            }
            let side = (0.3 + 3.5 * f64::from(hash(300 + k as u64, j))).sqrt() * 1000.0;
            let h = side / 2.0;
            mines.push((k, vec![(x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h), (x - h, y - h)]));
        }
    }
    let margin = 20_000.0;
    let all = rings.iter().flatten();
    let (xmin, xmax, ymin, ymax) = all.fold((f64::MAX, f64::MIN, f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0), a.2.min(p.1), a.3.max(p.1)));
    let b = rsei_core::Bounds::new(xmin - margin, ymin - margin, xmax + margin, ymax + margin);
    let grid_1km = modis::tile_grid(0, 0, Resolution::Km1).snapped_grid(&b);
    let t = *grid_1km.transform();
    let cs = Resolution::M500.cell_size_m();
    let grid = Grid::new(2 * grid_1km.rows(), 2 * grid_1km.cols(), GeoTransform::new(t.x0, cs, t.y0, -cs), grid_1km.crs().clone());
    Layout { rings, mines, grid, grid_1km }
}

fn opts() -> WriteOptions {
    let mut o = WriteOptions::default().with_format(RasterFormat::GTiff).with_compression(Compression::Deflate, Some(1)).with_tag("SYNTHETIC", "yes: rsei study benchmark");
    o.overviews = Overviews::None;
    o.block_size = 256;
    o
}

/// The parts of `grid` on tiles h27v05 and h28v05: (tile, window, sub-grid).
fn tile_parts(grid: &Grid, res: Resolution) -> Vec<((u8, u8), Window, Grid)> {
    let mut out = Vec::new();
    for h in [27u8, 28] {
        let tg = modis::tile_grid(h, 5, res);
        let b = tg.bounds();
        let t = grid.transform();
        let cs = grid.cell_size().0;
        let c0 = (((b.xmin - t.x0) / cs).round().max(0.0) as usize).min(grid.cols());
        let c1 = (((b.xmax - t.x0) / cs).round().max(0.0) as usize).min(grid.cols());
        if c1 <= c0 {
            continue;
        }
        let w = Window::new(0, c0, grid.rows(), c1 - c0);
        let sub = Grid::new(grid.rows(), c1 - c0, GeoTransform::new(t.x0 + c0 as f64 * cs, cs, t.y0, -cs), grid.crs().clone());
        out.push(((h, 5), w, sub));
    }
    out
}

fn cut<T: Copy>(data: &[T], grid: &Grid, w: Window) -> Vec<T> {
    let mut v = Vec::with_capacity(w.len());
    for r in w.row..w.row + w.rows {
        let s = r * grid.cols() + w.col;
        v.extend_from_slice(&data[s..s + w.cols]);
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn write_parts<T: rsei_io::write::WriteValue>(dir: &Path, product: &str, year: i32, doy: u32, layer: &str, grid: &Grid, res: Resolution, data: &[T]) -> Result<()> {
    for ((h, v), w, sub) in tile_parts(grid, res) {
        let name = format!("{product}.A{year}{doy:03}.h{h:02}v{v:02}.061.{year}{:03}000000_{layer}.tif", (doy + 9).min(365));
        let p = dir.join(product).join(name);
        write_raster(&p, &Raster::new(sub, cut(data, grid, w))?, &opts()).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

/// Static fields of the layout on its 500 m grid.
struct Fields {
    veg: Vec<f32>,
    water: Vec<bool>,
    mine: Vec<f32>,
    elevation_m: Vec<f32>,
}

fn fields(l: &Layout) -> Fields {
    let g = &l.grid;
    let n = g.len();
    let t = *g.transform();
    let cs = g.cell_size().0;
    // distance (km) to the nearest mine centre, coarse: enough for a dust gradient
    let centres: Vec<(f64, f64)> = l.mines.iter().map(|(_, r)| ((r[0].0 + r[2].0) / 2.0, (r[0].1 + r[2].1) / 2.0)).collect();
    let halves: Vec<f64> = l.mines.iter().map(|(_, r)| (r[2].0 - r[0].0) / 2.0).collect();
    let per: Vec<(f32, f32, bool, f32)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (r, c) = (i / g.cols(), i % g.cols());
            let x = t.x0 + (c as f64 + 0.5) * cs;
            let y = t.y0 - (r as f64 + 0.5) * cs;
            let mut d = f64::MAX;
            let mut in_mine = false;
            for (m, &(mx, my)) in centres.iter().enumerate() {
                let (dx, dy) = ((x - mx).abs(), (y - my).abs());
                if dx <= halves[m] && dy <= halves[m] {
                    in_mine = true;
                }
                d = d.min(((dx - halves[m]).max(0.0).powi(2) + (dy - halves[m]).max(0.0).powi(2)).sqrt());
            }
            let dust = if in_mine { 1.0 } else { (-(d / 1000.0) / 4.0).exp() as f32 };
            let elev = 200.0 + 1800.0 * field(11, r, c, 180.0) + 150.0 * field(12, r, c, 20.0);
            let veg = (0.25 + 0.6 * field(1, r, c, 60.0) + 0.15 * field(2, r, c, 8.0)) * (1.0 - 0.8 * dust);
            let water = field(5, r, c, 40.0) > 0.9 && !in_mine;
            (veg.clamp(0.02, 0.98), dust, water, elev)
        })
        .collect();
    Fields {
        veg: per.iter().map(|p| p.0).collect(),
        mine: per.iter().map(|p| p.1).collect(),
        water: per.iter().map(|p| p.2).collect(),
        elevation_m: per.iter().map(|p| p.3).collect(),
    }
}

const VEG: [f32; 7] = [0.035, 0.42, 0.025, 0.07, 0.40, 0.19, 0.085];
const SOIL: [f32; 7] = [0.22, 0.28, 0.14, 0.18, 0.32, 0.36, 0.30];
const WATER: [f32; 7] = [0.04, 0.02, 0.06, 0.07, 0.01, 0.008, 0.005];

fn season_days(period: u32, k: usize) -> Vec<u32> {
    let all: Vec<u32> = (0..46).map(|j| 1 + period * j).filter(|&d| (153..=273).contains(&d)).collect();
    // k dates spread over the season
    (0..k.min(all.len())).map(|j| all[j * all.len() / k.min(all.len())]).collect()
}

fn generate(dir: &Path, seasons: std::ops::RangeInclusive<i32>, k8: usize, k16: usize) -> Result<Layout> {
    let l = layout();
    let f = fields(&l);
    let g = &l.grid;
    let n = g.len();
    let modis_dir = dir.join("modis");
    for p in ["MOD09A1", "MOD13A1", "MOD11A2"] {
        std::fs::create_dir_all(modis_dir.join(p))?;
    }
    let mut jobs: Vec<(i32, u32, bool)> = Vec::new();
    for y in seasons.clone() {
        jobs.extend(season_days(8, k8).into_iter().map(|d| (y, d, true)));
        jobs.extend(season_days(16, k16).into_iter().map(|d| (y, d, false)));
    }
    jobs.par_iter().try_for_each(|&(year, doy, eight)| -> Result<()> {
        let seed = (year as u64) * 1000 + u64::from(doy);
        // greening over the years, phenology over the season, a slow decline near mines
        let trend = 1.0 + 0.004 * (year - 2000) as f32;
        let phen = 0.8 + 0.2 * (std::f32::consts::PI * (doy as f32 - 153.0) / 120.0).sin();
        let vf: Vec<f32> = (0..n).map(|i| (f.veg[i] * trend * phen * (1.0 - 0.004 * (year - 2000) as f32 * f.mine[i])).clamp(0.0, 1.0)).collect();
        let cloud: Vec<bool> = (0..n).map(|i| field(seed, i / g.cols(), i % g.cols(), 50.0) > 0.78).collect();
        if eight {
            for b in 0..7 {
                let v: Vec<i16> = (0..n)
                    .map(|i| {
                        let rho = if f.water[i] { WATER[b] } else { vf[i] * VEG[b] + (1.0 - vf[i]) * SOIL[b] };
                        let rho = rho + 0.004 * (hash(seed * 7 + b as u64, i as u64) - 0.5);
                        (if cloud[i] { 0.5 } else { rho } * 10_000.0) as i16
                    })
                    .collect();
                write_parts(&modis_dir, "MOD09A1", year, doy, &format!("sur_refl_b{:02}", b + 1), g, Resolution::M500, &v)?;
            }
            let qc: Vec<u32> = cloud.iter().map(|&c| if c { 2 } else { 0 } | (1 << 30)).collect();
            let state: Vec<u16> = (0..n).map(|i| if cloud[i] { 1 | (1 << 10) } else if f.water[i] { 5 << 3 } else { 1 << 3 }).collect();
            write_parts(&modis_dir, "MOD09A1", year, doy, "sur_refl_qc_500m", g, Resolution::M500, &qc)?;
            write_parts(&modis_dir, "MOD09A1", year, doy, "sur_refl_state_500m", g, Resolution::M500, &state)?;
            let g1 = &l.grid_1km;
            let m = g1.len();
            let lst: Vec<u16> = (0..m)
                .map(|i| {
                    let (r, c) = (i / g1.cols(), i % g1.cols());
                    let j = (2 * r) * g.cols() + 2 * c;
                    let t_c = 38.0 - 14.0 * vf[j] - f.elevation_m[j] * 0.0045 + 3.0 * f.mine[j] + 2.0 * field(seed + 3, r, c, 30.0);
                    ((t_c + 273.15) / 0.02) as u16
                })
                .collect();
            let qc1: Vec<u8> = (0..m).map(|i| if cloud[(2 * (i / g1.cols())) * g.cols() + 2 * (i % g1.cols())] { 2 } else { 0 }).collect();
            write_parts(&modis_dir, "MOD11A2", year, doy, "LST_Day_1km", g1, Resolution::Km1, &lst)?;
            write_parts(&modis_dir, "MOD11A2", year, doy, "QC_Day", g1, Resolution::Km1, &qc1)?;
        } else {
            let ndvi: Vec<i16> = (0..n)
                .map(|i| {
                    let (red, nir) = if f.water[i] { (WATER[0], WATER[1]) } else { (vf[i] * VEG[0] + (1.0 - vf[i]) * SOIL[0], vf[i] * VEG[1] + (1.0 - vf[i]) * SOIL[1]) };
                    ((nir - red) / (nir + red) * 10_000.0) as i16
                })
                .collect();
            let rel: Vec<u8> = cloud.iter().map(|&c| if c { 3 } else { 0 }).collect();
            write_parts(&modis_dir, "MOD13A1", year, doy, "500m_16_days_NDVI", g, Resolution::M500, &ndvi)?;
            write_parts(&modis_dir, "MOD13A1", year, doy, "500m_16_days_pixel_reliability", g, Resolution::M500, &rel)?;
        }
        Ok(())
    })?;
    // DEM (sinusoidal 500 m) for the drivers
    std::fs::create_dir_all(dir.join("drivers"))?;
    write_raster(&dir.join("drivers/dem.tif"), &Raster::new(g.clone(), f.elevation_m.clone())?, &opts())?;
    // vectors (lon/lat)
    let ll = |ring: &[(f64, f64)]| -> String {
        let pts: Vec<String> = ring.iter().map(|&(x, y)| rsei_pipeline::demo::scene::sinusoidal_to_lonlat(x, y)).map(|(lon, lat)| format!("[{lon:.7},{lat:.7}]")).collect();
        format!("[[{}]]", pts.join(","))
    };
    let cities: Vec<String> = l
        .rings
        .iter()
        .enumerate()
        .map(|(k, r)| format!("{{\"type\":\"Feature\",\"properties\":{{\"name_en\":\"{}\",\"note\":\"synthetic\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":{}}}}}", CITIES[k].0, ll(r)))
        .collect();
    let mines: Vec<String> = l
        .mines
        .iter()
        .enumerate()
        .map(|(j, (_, r))| format!("{{\"type\":\"Feature\",\"properties\":{{\"id\":{j},\"Mine Type\":\"mine boundary\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":{}}}}}", ll(r)))
        .collect();
    std::fs::create_dir_all(dir.join("vectors"))?;
    std::fs::write(dir.join("vectors/cities.geojson"), format!("{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}\n", cities.join(",\n")))?;
    std::fs::write(dir.join("vectors/mines.geojson"), format!("{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}\n", mines.join(",\n")))?;
    Ok(l)
}


fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut dir = PathBuf::from("/tmp/rsei-bench-study");
    let (mut years, mut k8, mut k16) = (24i32, 4usize, 2usize);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--years" => years = it.next().and_then(|v| v.parse().ok()).unwrap_or(years),
            "--dates8" => k8 = it.next().and_then(|v| v.parse().ok()).unwrap_or(k8),
            "--dates16" => k16 = it.next().and_then(|v| v.parse().ok()).unwrap_or(k16),
            other => dir = PathBuf::from(other),
        }
    }
    let (first, last) = (2001, 2001 + years - 1);
    let data = dir.join("data");
    let tag = format!("years {first}-{last}, {k8} 8-day and {k16} 16-day dates per season\n");
    if std::fs::read_to_string(data.join("COMPLETE")).ok().as_deref() != Some(tag.as_str()) {
        let _ = std::fs::remove_dir_all(&data);
        let t = Instant::now();
        let l = generate(&data, (first - 1)..=(last + 1), k8, k16)?;
        std::fs::write(data.join("COMPLETE"), &tag)?;
        let bytes: u64 = walk(&data).iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
        println!(
            "generated the synthetic archive in {:.1} s: {} files, {:.0} MB; grid {} × {} cells at 500 m, {} mines",
            t.elapsed().as_secs_f64(),
            walk(&data).len(),
            bytes as f64 / 1e6,
            l.grid.rows(),
            l.grid.cols(),
            l.mines.len()
        );
    }
    let study = dir.join("study.toml");
    let dy = last.min(2019);
    let text = |ring_step: f64| {
        format!(
            "[study]\nname = \"Seven synthetic cities (benchmark)\"\noutput = \"out\"\nyears = \"{first}-{last}\"\n\n[data]\nmodis = \"data/modis\"\n\n[[area]]\nfile = \"data/vectors/cities.geojson\"\nname_field = \"name_en\"\n\n[mining]\nmines = \"data/vectors/mines.geojson\"\nring_step_km = {ring_step:.1}\n\n[drivers]\nyear = {dy}\ndem = \"data/drivers/dem.tif\"\n"
        )
    };
    std::fs::write(&study, text(1.0))?;
    let _ = std::fs::remove_dir_all(dir.join("out"));
    let s = study.to_str().unwrap_or_default();
    let (t1, m1, log) = timed(&["run", s])?;
    let units = log.lines().filter(|l| l.starts_with("compute ")).count();
    println!("fresh run: {t1:.1} s, peak memory {m1:.0} MiB, {units} units computed");
    // the instrumented counter of rsei-io (`LayerReader` window reads), as the run logs it
    if let Some(l) = log.lines().find(|l| l.contains("granule layers read")) {
        println!("  {}", l.trim());
    }
    let (t2, m2, _) = timed(&["run", s])?;
    println!("rerun, nothing to do: {t2:.1} s, peak memory {m2:.0} MiB");
    std::fs::write(&study, text(2.0))?;
    let (t3, m3, log) = timed(&["run", s])?;
    let units = log.lines().filter(|l| l.starts_with("compute ")).count();
    println!("rerun after ring_step_km 1 → 2: {t3:.1} s, peak memory {m3:.0} MiB, {units} units computed");
    let (t4, m4, _) = timed(&["validate", s])?;
    println!("validate: {t4:.1} s, peak memory {m4:.0} MiB");
    Ok(())
}

