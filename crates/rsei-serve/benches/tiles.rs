//! Tiles per second for a zoomed-out view of a full MODIS tile, and time-series lookup latency,
//! measured through HTTP on the loopback interface.
//!
//! Fixture: one area of a full MODIS tile (h26v05, 2400 × 2400 cells of 463 m, sinusoidal),
//! three years of RSEI and the four indicators written as the pipeline writes them (Float32 COG,
//! DEFLATE, AVERAGE overviews 1200/600/300), made once under the target folder.
//!
//! `cargo bench -p rsei-serve --bench tiles` (`-- --quick` for fewer rounds).

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rsei_core::{Crs, GeoTransform, Grid, Raster};
use rsei_io::{write_raster, RasterFormat, WriteOptions};
use rsei_serve::{ServeOptions, Server};

const N: usize = 2400;
const CELL: f64 = 463.312_716_527_916_7;
const YEARS: [i32; 3] = [2019, 2020, 2021];
const FILES: [&str; 5] = ["rsei.tif", "ndvi.tif", "wet.tif", "ndbsi.tif", "lst_celsius.tif"];

fn fixture() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rsei-serve-bench-h26v05");
    let done = root.join(".complete");
    if done.exists() {
        return root;
    }
    let t0 = Instant::now();
    // h26v05: x from −20 015 109.354 + 26 tiles, y from 10 007 554.677 − 5 tiles (1 111 950.52 m each)
    let tile = 1_111_950.519_666_7;
    let grid = Grid::new(N, N, GeoTransform::new(-20_015_109.354 + 26.0 * tile, CELL, 10_007_554.677 - 5.0 * tile, -CELL), Crs::modis_sinusoidal());
    let opts = WriteOptions::continuous().with_format(RasterFormat::Cog);
    for (k, &year) in YEARS.iter().enumerate() {
        let dir = root.join("H26V05").join(year.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        for (f, name) in FILES.iter().enumerate() {
            let mut v = vec![f32::NAN; N * N];
            for r in 0..N {
                for c in 0..N {
                    // an irregular area: a wobbly disc leaving corners without data
                    let (x, y) = (c as f64 / N as f64 - 0.5, r as f64 / N as f64 - 0.5);
                    let d = (x * x + y * y).sqrt() * (1.0 + 0.08 * (7.0 * y.atan2(x)).sin());
                    if d > 0.52 {
                        continue;
                    }
                    let s = ((c as f64 / 97.0 + f as f64).sin() * (r as f64 / 131.0 - k as f64 * 0.1).cos() + 1.0) / 2.0;
                    v[r * N + c] = match f {
                        0 => s as f32,
                        4 => (15.0 + 20.0 * s) as f32,
                        _ => (s - 0.5) as f32,
                    };
                }
            }
            write_raster(&dir.join(name), &Raster::new(grid.clone(), v).unwrap(), &opts).unwrap();
        }
    }
    std::fs::write(&done, b"").unwrap();
    eprintln!("fixture written in {:.1} s: {}", t0.elapsed().as_secs_f64(), root.display());
    root
}

fn get(addr: SocketAddr, path: &str) -> (u16, usize) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let status = std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap();
    (status, buf.len())
}

/// Tiles of zoom z covering the longitude/latitude bounds.
fn tiles_covering(b: [f64; 4], z: u32) -> Vec<(u32, u32, u32)> {
    let n = f64::from(1u32 << z);
    let tx = |lon: f64| ((lon + 180.0) / 360.0 * n).floor() as u32;
    let ty = |lat: f64| ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
    let mut out = Vec::new();
    for x in tx(b[0])..=tx(b[2]) {
        for y in ty(b[3])..=ty(b[1]) {
            out.push((z, x, y));
        }
    }
    out
}

/// Requests every URL once over `threads` client threads; (seconds, bytes, non-200 count).
fn run(addr: SocketAddr, urls: &[String], threads: usize) -> (f64, usize, usize) {
    let t0 = Instant::now();
    let chunks: Vec<Vec<String>> = (0..threads).map(|t| urls.iter().skip(t).step_by(threads).cloned().collect()).collect();
    let res: Vec<(usize, usize)> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks
            .iter()
            .map(|c| {
                s.spawn(move || {
                    let (mut bytes, mut bad) = (0, 0);
                    for u in c {
                        let (st, n) = get(addr, u);
                        bytes += n;
                        bad += usize::from(st != 200);
                    }
                    (bytes, bad)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (t0.elapsed().as_secs_f64(), res.iter().map(|r| r.0).sum(), res.iter().map(|r| r.1).sum())
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn area_bounds(addr: SocketAddr) -> [f64; 4] {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET /api/areas/H26V05 HTTP/1.0\r\n\r\n").unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let body = &buf[buf.find("\r\n\r\n").unwrap() + 4..];
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let b: Vec<f64> = v["bounds"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    [b[0], b[1], b[2], b[3]]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 2 } else { 5 };
    let root = fixture();
    println!("fixture: a full MODIS tile (h26v05, {N} × {N} cells), {} years × {} layers, COG with overviews", YEARS.len(), FILES.len());
    println!("machine: {} cores", std::thread::available_parallelism().map_or(1, |n| n.get()));

    // --- tiles: a zoomed-out view (the whole MODIS tile on screen)
    for z in [6u32, 7] {
        // cold: a new server, nothing cached (overviews read and decoded on first use)
        let server = Server::start(ServeOptions::new(&root)).unwrap();
        let b = area_bounds(server.addr());
        let tiles = tiles_covering(b, z);
        let url = |layer: &str, year: i32, (z, x, y): (u32, u32, u32)| format!("/tiles/H26V05/{layer}/{year}/{z}/{x}/{y}.png");
        let first: Vec<String> = tiles.iter().map(|&t| url("rsei", YEARS[0], t)).collect();
        let (cold_s, _, bad) = run(server.addr(), &first, 2);
        server.stop().unwrap();

        // rendering: tile cache off, raster levels and tile maps warm; every year and two layers
        let mut o = ServeOptions::new(&root);
        o.tile_cache_bytes = 0;
        let server = Server::start(o).unwrap();
        let mut urls = Vec::new();
        for layer in ["rsei", "ndvi"] {
            for &y in &YEARS {
                urls.extend(tiles.iter().map(|&t| url(layer, y, t)));
            }
        }
        let _ = run(server.addr(), &urls, 2); // warm the levels
        let mut rates = Vec::new();
        let mut kb = 0.0;
        for _ in 0..rounds {
            let (s, bytes, bad2) = run(server.addr(), &urls, 2);
            assert_eq!(bad2, 0);
            rates.push(urls.len() as f64 / s);
            kb = bytes as f64 / urls.len() as f64 / 1024.0;
        }
        server.stop().unwrap();

        // cached: the same requests served from the tile cache
        let server = Server::start(ServeOptions::new(&root)).unwrap();
        let _ = run(server.addr(), &urls, 2);
        let (s, _, _) = run(server.addr(), &urls, 2);
        let cached = urls.len() as f64 / s;
        server.stop().unwrap();
        let med = percentile(&mut rates, 0.5);
        println!(
            "tiles z{z}: {} tiles in view; cold (empty caches) {:.0} tiles/s; rendered (tile cache off, overviews warm) median {:.0} tiles/s over {} × {} requests (min {:.0}, max {:.0}), {:.1} KiB/tile; cached {:.0} tiles/s; 2 client threads{}",
            tiles.len(),
            tiles.len() as f64 / cold_s,
            med,
            rounds,
            urls.len(),
            rates.iter().copied().fold(f64::INFINITY, f64::min),
            rates.iter().copied().fold(0.0, f64::max),
            kb,
            cached,
            if bad > 0 { format!(" ({bad} non-200)") } else { String::new() }
        );
    }

    // --- time series at a cell: RSEI and the four indicators of every year (15 COG reads)
    let server = Server::start(ServeOptions::new(&root)).unwrap();
    let b = area_bounds(server.addr());
    let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    let mut seed = 12345u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let pts: Vec<(f64, f64)> = (0..if quick { 40 } else { 100 }).map(|_| (cx + rnd() * 6.0, cy + rnd() * 6.0)).collect();
    let lat = |pts: &[(f64, f64)]| -> (Vec<f64>, usize) {
        let mut v = Vec::new();
        let mut ok = 0;
        for &(lon, la) in pts {
            let t = Instant::now();
            let (st, _) = get(server.addr(), &format!("/api/areas/H26V05/series?lon={lon}&lat={la}"));
            v.push(t.elapsed().as_secs_f64() * 1e3);
            ok += usize::from(st == 200);
        }
        (v, ok)
    };
    let (mut first, ok) = lat(&pts);
    let (mut again, _) = lat(&pts);
    println!(
        "time series ({} points, {ok} inside the area, {} years × {} layers): first pass median {:.2} ms, p95 {:.2} ms (COG blocks decoded); second pass median {:.2} ms, p95 {:.2} ms",
        pts.len(),
        YEARS.len(),
        FILES.len(),
        percentile(&mut first, 0.5),
        percentile(&mut first, 0.95),
        percentile(&mut again, 0.5),
        percentile(&mut again, 0.95)
    );
    server.stop().unwrap();
}
