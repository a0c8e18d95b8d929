//! Shared by the integration tests: the demo results (made once per test binary), a minimal
//! HTTP/1.0 client, and reading a COG cell independently of the server.
#![allow(dead_code, clippy::unwrap_used)]

pub mod cdp;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// The demo results folder (`rsei demo`'s study output), generated on first use in the target
/// folder and reused by later runs (the demo study only recomputes what is out of date).
pub fn demo_results() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rsei-serve-demo");
        let t = std::time::Instant::now();
        let req = rsei_pipeline::demo::DemoRequest { out: out.clone(), seed: 42, regenerate: false };
        let run = rsei_pipeline::demo::run_demo(&req, &rsei_pipeline::study::SilentStudy).expect("the demo runs");
        eprintln!("demo results in {} ({:.1} s)", run.run.plan.output.display(), t.elapsed().as_secs_f64());
        run.run.plan.output
    })
}

/// A response: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET path` (sent as is: no normalisation) with HTTP/1.0, body read to the end.
pub fn get(addr: SocketAddr, path: &str) -> Reply {
    get_host(addr, path, &addr.to_string())
}

/// `GET path` with the given `Host` header.
pub fn get_host(addr: SocketAddr, path: &str, host: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    Reply { status, headers, body: buf[end + 4..].to_vec() }
}

/// Value of a single-band raster at a longitude/latitude, read with GDAL independently of the
/// server (the cell containing the point; `None` for nodata), and the cell (row, col).
pub fn cog_value(path: &Path, lon: f64, lat: f64) -> (Option<f64>, (usize, usize)) {
    let grid = rsei_io::plain::raster_grid(path).unwrap();
    let p = rsei_io::crs::reproject_points(&[(lon, lat)], &rsei_core::Crs::new("EPSG:4326"), grid.crs()).unwrap()[0];
    let (row, col) = grid.cell_at(p.0, p.1).expect("the point lies on the raster");
    let r = rsei_io::plain::read_plain(path, 1).unwrap();
    let v = r.data()[row * grid.cols() + col];
    (v.is_finite().then_some(f64::from(v)), (row, col))
}

/// Longitude/latitude of the centre of cell (row, col) of a raster.
pub fn cell_lonlat(path: &Path, row: usize, col: usize) -> (f64, f64) {
    let grid = rsei_io::plain::raster_grid(path).unwrap();
    let c = grid.cell_center(row, col);
    rsei_io::crs::reproject_points(&[c], grid.crs(), &rsei_core::Crs::new("EPSG:4326")).unwrap()[0]
}

/// Decodes a PNG into (width, height, RGBA bytes).
pub fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf.chunks(3).flat_map(|c| [c[0], c[1], c[2], 255]).collect(),
        png::ColorType::GrayscaleAlpha => buf.chunks(2).flat_map(|c| [c[0], c[0], c[0], c[1]]).collect(),
        png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => panic!("indexed PNG after EXPAND"),
    };
    (info.width, info.height, rgba)
}
