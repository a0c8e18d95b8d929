//! The HTTP API and tiles on the demo results (generated once per run by the library), and bad
//! input: an empty folder, a corrupted COG, requests outside the data, path traversal.

#![allow(clippy::unwrap_used)]

mod common;

use std::f64::consts::PI;
use std::path::Path;

use common::{cog_value, decode_png, demo_results, get};
use rsei_serve::{ServeOptions, Server};
use serde_json::Value;

const GRADES: [[u8; 3]; 5] = [[0xd7, 0x19, 0x1c], [0xfd, 0xae, 0x61], [0xff, 0xff, 0xbf], [0xa6, 0xd9, 0x6a], [0x1a, 0x96, 0x41]];

fn grade_color(v: f64) -> [u8; 3] {
    GRADES[[0.2, 0.4, 0.6, 0.8].iter().filter(|&&e| v >= e).count()]
}

/// Longitude/latitude of the centre of pixel (i, j) of tile z/x/y.
fn pixel_lonlat(z: u32, x: u32, y: u32, i: u32, j: u32) -> (f64, f64) {
    let n = f64::from(1u32 << z) * 256.0;
    let (px, py) = (f64::from(x) * 256.0 + f64::from(i) + 0.5, f64::from(y) * 256.0 + f64::from(j) + 0.5);
    let lon = px / n * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * py / n)).sinh().atan().to_degrees();
    (lon, lat)
}

/// The tile holding a longitude/latitude at zoom z.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let y = ((1.0 - lat.to_radians().tan().asinh() / PI) / 2.0 * n).floor() as u32;
    (x, y)
}

fn demo_server() -> Server {
    Server::start(ServeOptions::new(demo_results())).unwrap()
}

fn first_area(addr: std::net::SocketAddr) -> Value {
    let r = get(addr, "/api/areas");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["areas"][0].clone()
}

#[test]
fn areas_years_layers_and_tables() {
    let s = demo_server();
    let r = get(s.addr(), "/api/areas");
    assert_eq!(r.status, 200);
    let areas = r.json()["areas"].as_array().unwrap().clone();
    let names: Vec<&str> = areas.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Demo City", "Second City"]);
    let a = &areas[0];
    assert_eq!(a["id"], "Demo_City");
    assert_eq!(a["years"], serde_json::json!([2018, 2019, 2020, 2021, 2022]));
    let layers: Vec<&str> = a["layers"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(layers[..9], ["rsei", "grade", "ndvi", "wet", "ndbsi", "lst", "mndwi", "change", "trend"]);
    // then the rasters of the demo's trend and change analyses (trend/, change/), one layer for all years
    assert!(layers[9..].iter().all(|l| l.starts_with("trend.") || l.starts_with("change.")), "{layers:?}");
    assert!(layers.contains(&"trend.sen_slope") && layers.contains(&"change.difference_2018_2022"), "{layers:?}");
    let b = a["bounds"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>();
    assert!(b[0] > 115.0 && b[2] < 118.5 && b[1] > 39.0 && b[3] < 40.5, "{b:?}");
    assert_eq!(a["problems"], serde_json::json!([]));
    assert_eq!(a["has_mines"], true);
    // legends: grades for RSEI, a value range for the indicators
    assert_eq!(a["layers"][0]["legend"]["classes"].as_array().unwrap().len(), 5);
    let lst = &a["layers"][5]["legend"];
    assert!(lst["min"].as_f64().unwrap() < lst["max"].as_f64().unwrap(), "{lst}");

    // the PCA table of the area is the pipeline's
    let pca = get(s.addr(), "/api/areas/Demo_City/pca");
    assert_eq!(pca.status, 200);
    let rows = pca.json()["rows"].clone();
    let file: Value = serde_json::from_slice(&std::fs::read(demo_results().join("Demo_City/pca_table.json")).unwrap()).unwrap();
    assert_eq!(rows, file);
    assert_eq!(rows.as_array().unwrap().len(), 5);
    let sum = get(s.addr(), "/api/areas/Second_City/summary");
    assert_eq!(sum.status, 200);
    assert_eq!(sum.json()["rows"].as_array().unwrap().len(), 5);

    // outline and mines as GeoJSON
    let o = get(s.addr(), "/api/areas/Demo_City/outline");
    assert_eq!(o.status, 200);
    assert_eq!(o.header("content-type"), Some("application/geo+json"));
    assert_eq!(o.json()["features"][0]["geometry"]["type"], "MultiPolygon");
    let m = get(s.addr(), "/api/areas/Demo_City/mines").json();
    let mines = m["features"].as_array().unwrap();
    assert!(mines.len() >= 10, "{}", mines.len());
    assert!(mines.iter().any(|f| f["properties"]["name"] == "North Pit (synthetic)" && f["properties"]["mean_2018"].is_number()));

    // the front end and its vendored MapLibre are embedded
    let page = get(s.addr(), "/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("/vendor/maplibre-gl.js"));
    let ml = get(s.addr(), "/vendor/maplibre-gl.js");
    assert_eq!(ml.status, 200);
    assert!(ml.body.len() > 500_000);
    assert!(get(s.addr(), "/vendor/LICENSE.txt").text().contains("MapLibre"));
    assert_eq!(get(s.addr(), "/api/config").json()["base_map"], Value::Null);
}

#[test]
fn series_values_are_the_cogs() {
    let s = demo_server();
    let a = first_area(s.addr());
    let (lon, lat) = (a["center"][0].as_f64().unwrap(), a["center"][1].as_f64().unwrap());
    let r = get(s.addr(), &format!("/api/areas/Demo_City/series?lon={lon}&lat={lat}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let dir = demo_results().join("Demo_City");
    for (layer, file) in [("rsei", "rsei.tif"), ("ndvi", "ndvi.tif"), ("wet", "wet.tif"), ("ndbsi", "ndbsi.tif"), ("lst", "lst_celsius.tif"), ("grade", "grade.tif")] {
        let ser = v["series"].as_array().unwrap().iter().find(|x| x["layer"] == layer).unwrap_or_else(|| panic!("no {layer}"));
        for (k, year) in (2018..=2022).enumerate() {
            let (want, (row, col)) = cog_value(&dir.join(year.to_string()).join(file), lon, lat);
            assert_eq!((v["cell"]["row"].as_u64(), v["cell"]["col"].as_u64()), (Some(row as u64), Some(col as u64)));
            let got = ser["values"][k].as_f64();
            match (want, got) {
                (Some(w), Some(g)) => assert!((w - g).abs() < 1e-9, "{layer} {year}: {g} vs {w}"),
                (None, None) => {}
                _ => panic!("{layer} {year}: {got:?} vs {want:?}"),
            }
        }
    }
    // outside the rasters, and inside the rasters but outside the area: 404 with a message
    let far = get(s.addr(), "/api/areas/Demo_City/series?lon=10&lat=50");
    assert_eq!(far.status, 404);
    assert!(far.json()["error"].as_str().unwrap().contains("outside the rasters of Demo City"));
    let b: Vec<f64> = a["bounds"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let corner = get(s.addr(), &format!("/api/areas/Demo_City/series?lon={}&lat={}", b[0] + 0.002, b[3] - 0.002));
    assert_eq!(corner.status, 404, "{}", corner.text());
    let bad = get(s.addr(), "/api/areas/Demo_City/series?lon=abc&lat=1");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("lon"));
    assert_eq!(get(s.addr(), "/api/areas/Demo_City/series?lon=200&lat=1").status, 400);
}

/// Every pixel of a rendered tile has the grade colour of the COG cell under its centre.
fn check_tile_against_cog(addr: std::net::SocketAddr, cog: &Path, z: u32, x: u32, y: u32, year: i32) -> usize {
    let r = get(addr, &format!("/tiles/Demo_City/rsei/{year}/{z}/{x}/{y}.png"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("image/png"));
    let (w, h, rgba) = decode_png(&r.body);
    assert_eq!((w, h), (256, 256));
    let grid = rsei_io::plain::raster_grid(cog).unwrap();
    let data = rsei_io::plain::read_plain(cog, 1).unwrap();
    let lonlat: Vec<(f64, f64)> = (0..256).flat_map(|j| (0..256).map(move |i| pixel_lonlat(z, x, y, i, j))).collect();
    let pts = rsei_io::crs::reproject_points(&lonlat, &rsei_core::Crs::new("EPSG:4326"), grid.crs()).unwrap();
    let (mut coloured, mut wrong) = (0, 0);
    for (k, p) in pts.iter().enumerate() {
        let want = grid.cell_at(p.0, p.1).map(|(r, c)| data.data()[r * grid.cols() + c]).filter(|v| v.is_finite());
        let px = &rgba[k * 4..k * 4 + 4];
        match want {
            Some(v) => {
                coloured += 1;
                if px[3] != 255 || px[..3] != grade_color(f64::from(v)) {
                    wrong += 1;
                }
            }
            None => {
                if px[3] != 0 {
                    wrong += 1;
                }
            }
        }
    }
    // pixel centres within a hair of a cell edge may fall either side (interpolated transforms)
    assert!(wrong * 500 <= 65536, "z{z}: {wrong} of 65536 pixels differ from the COG");
    coloured
}

#[test]
fn tiles_show_the_cog_cells_in_grade_colours() {
    let s = demo_server();
    let a = first_area(s.addr());
    let (lon, lat) = (a["center"][0].as_f64().unwrap(), a["center"][1].as_f64().unwrap());
    let cog = demo_results().join("Demo_City/2019/rsei.tif");
    for z in [8, 10, 12, 14] {
        let (x, y) = tile_of(lon, lat, z);
        let n = check_tile_against_cog(s.addr(), &cog, z, x, y, 2019);
        assert!(n > 1000, "z{z}: only {n} pixels with data");
    }
    // other layers render, cached tiles are the same bytes
    let (x, y) = tile_of(lon, lat, 10);
    for layer in ["grade", "ndvi", "wet", "ndbsi", "lst", "mndwi", "change", "trend"] {
        let url = format!("/tiles/Demo_City/{layer}/2020/10/{x}/{y}.png?from=2018");
        let r1 = get(s.addr(), &url);
        assert_eq!(r1.status, 200, "{layer}: {}", r1.text());
        let (_, _, rgba) = decode_png(&r1.body);
        assert!(rgba.chunks(4).filter(|p| p[3] == 255).count() > 1000, "{layer}: empty tile");
        assert_eq!(get(s.addr(), &url).body, r1.body);
    }
    let stats = get(s.addr(), "/api/stats").json();
    assert!(stats["caches"]["tiles"]["hits"].as_u64().unwrap() >= 8, "{stats}");
}

#[test]
fn malformed_and_outside_requests_answer_4xx_and_the_server_goes_on() {
    let s = demo_server();
    let a = first_area(s.addr());
    let (lon, lat) = (a["center"][0].as_f64().unwrap(), a["center"][1].as_f64().unwrap());
    let (x, y) = tile_of(lon, lat, 10);
    let cases: Vec<(String, u16, &str)> = vec![
        ("/tiles/Demo_City/rsei/2019/3/0/0.png".into(), 404, "outside the rasters"),
        (format!("/tiles/Demo_City/rsei/1999/10/{x}/{y}.png"), 404, "no RSEI raster for 1999"),
        (format!("/tiles/Demo_City/nope/2019/10/{x}/{y}.png"), 400, "unknown layer"),
        (format!("/tiles/Demo_City/rsei/2019/10/{x}/{y}.jpg"), 400, "PNG"),
        ("/tiles/Demo_City/rsei/2019/2/9/1.png".into(), 400, "does not exist"),
        ("/tiles/Demo_City/rsei/2019/40/0/0.png".into(), 400, "zoom"),
        (format!("/tiles/Demo_City/change/2019/10/{x}/{y}.png?from=1990"), 404, "1990"),
        (format!("/tiles/Nowhere/rsei/2019/10/{x}/{y}.png"), 404, "no study area"),
        ("/api/areas/Nowhere/pca".into(), 404, "no study area"),
        // path traversal: never a file outside the results (nor inside: the API takes no paths)
        ("/api/areas/..%2F..%2Fetc/pca".into(), 400, "not an area name"),
        ("/tiles/..%2Fresults/rsei/2019/0/0/0.png".into(), 400, "not an area name"),
        ("/../../../../etc/passwd".into(), 404, "nothing is served"),
        ("/vendor/..%2F..%2FCargo.toml".into(), 404, "no file"),
        ("/Demo_City/2019/rsei.tif".into(), 404, "nothing is served"),
    ];
    for (url, status, words) in cases {
        let r = get(s.addr(), &url);
        assert_eq!(r.status, status, "{url}: {}", r.text());
        let body = r.text();
        assert!(body.contains(words), "{url}: {body}");
        assert!(!body.contains("root:"), "{url} leaked a file");
    }
    // a page of another site reaching the loopback server through a DNS name is refused
    let r = common::get_host(s.addr(), "/api/areas", "rebind.example:8080");
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(common::get_host(s.addr(), "/api/config", &format!("localhost:{}", s.addr().port())).status, 200);
    // still serving
    assert_eq!(get(s.addr(), &format!("/tiles/Demo_City/rsei/2019/10/{x}/{y}.png")).status, 200);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn empty_folder_corrupted_cog_and_links_outside() {
    // a folder with no results: the server starts, the API says so
    let empty = tempfile::tempdir().unwrap();
    let s = Server::start(ServeOptions::new(empty.path())).unwrap();
    let r = get(s.addr(), "/api/areas");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].as_str().unwrap().contains("no RSEI results"), "{}", r.text());
    assert_eq!(get(s.addr(), "/").status, 200);
    s.stop().unwrap();
    // a missing folder is an error before serving
    let e = Server::start(ServeOptions::new(empty.path().join("missing"))).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
    let mut bad_map = ServeOptions::new(empty.path());
    bad_map.base_map = Some("tiles.example/{z}/{x}/{y}.png".into());
    assert!(Server::start(bad_map).unwrap_err().to_string().contains("http"));

    // one area copied, one of its COGs corrupted, one link leading out of the folder
    let dir = tempfile::tempdir().unwrap();
    let area = dir.path().join("Demo_City");
    copy_dir(&demo_results().join("Demo_City"), &area);
    let ndvi = area.join("2019/ndvi.tif");
    let mut bytes = std::fs::read(&ndvi).unwrap();
    bytes.truncate(600);
    bytes[300..].fill(0x5a);
    std::fs::write(&ndvi, &bytes).unwrap();
    let secret = tempfile::tempdir().unwrap();
    std::fs::copy(demo_results().join("Demo_City/2019/wet.tif"), secret.path().join("wet.tif")).unwrap();
    std::fs::remove_file(area.join("2020/wet.tif")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(secret.path().join("wet.tif"), area.join("2020/wet.tif")).unwrap();

    let s = Server::start(ServeOptions::new(dir.path())).unwrap();
    let a = first_area(s.addr());
    assert_eq!(a["id"], "Demo_City");
    let problems = a["problems"].to_string();
    assert!(problems.contains("Demo_City/2019/ndvi.tif"), "{problems}");
    #[cfg(unix)]
    assert!(!a["layers"][3]["years"].as_array().unwrap().contains(&serde_json::json!(2020)), "the link outside was listed: {}", a["layers"][3]);
    let (lon, lat) = (a["center"][0].as_f64().unwrap(), a["center"][1].as_f64().unwrap());
    let (x, y) = tile_of(lon, lat, 10);
    let r = get(s.addr(), &format!("/tiles/Demo_City/ndvi/2019/10/{x}/{y}.png"));
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.json()["error"].as_str().unwrap().contains("Demo_City/2019/ndvi.tif"), "{}", r.text());
    #[cfg(unix)]
    assert_eq!(get(s.addr(), &format!("/tiles/Demo_City/wet/2020/10/{x}/{y}.png")).status, 404);
    // the rest still works: other tiles, and the series (with the bad file named)
    assert_eq!(get(s.addr(), &format!("/tiles/Demo_City/ndvi/2018/10/{x}/{y}.png")).status, 200);
    let ser = get(s.addr(), &format!("/api/areas/Demo_City/series?lon={lon}&lat={lat}"));
    assert_eq!(ser.status, 200);
    let v = ser.json();
    assert!(v["problems"].to_string().contains("ndvi.tif"), "{v}");
    let ndvi = v["series"].as_array().unwrap().iter().find(|x| x["layer"] == "ndvi").unwrap().clone();
    assert!(ndvi["values"][1].is_null() && ndvi["values"][0].is_number(), "{ndvi}");
    s.stop().unwrap();
}

#[test]
fn raster_outlines_and_no_mines_without_inputs() {
    let mut o = ServeOptions::new(demo_results());
    o.read_inputs = false;
    o.base_map = Some("https://tiles.example.org/{z}/{x}/{y}.png".into());
    let s = Server::start(o).unwrap();
    let a = first_area(s.addr());
    assert_eq!(a["has_mines"], false);
    let v = get(s.addr(), "/api/areas/Demo_City/outline").json();
    let g = &v["features"][0]["geometry"];
    assert_eq!(g["type"], "MultiLineString");
    let ring = g["coordinates"][0].as_array().unwrap();
    assert!(ring.len() > 20, "{}", ring.len());
    assert_eq!(ring.first(), ring.last(), "rings are closed");
    assert!(v["features"][0]["properties"]["source"].as_str().unwrap().contains("water.tif"));
    assert_eq!(get(s.addr(), "/api/areas/Demo_City/mines").status, 404);
    assert_eq!(get(s.addr(), "/api/config").json()["base_map"], "https://tiles.example.org/{z}/{x}/{y}.png");
}

#[test]
fn rasters_of_trend_and_change_folders_are_layers() {
    let dir = tempfile::tempdir().unwrap();
    let area = dir.path().join("Demo_City");
    copy_dir(&demo_results().join("Demo_City"), &area);
    // a difference map on the grid of the results, as a change analysis would write it
    let a = rsei_io::plain::read_plain(&area.join("2022/rsei.tif"), 1).unwrap();
    let b = rsei_io::plain::read_plain(&area.join("2018/rsei.tif"), 1).unwrap();
    let d: Vec<f32> = a.data().iter().zip(b.data()).map(|(x, y)| x - y).collect();
    std::fs::create_dir_all(area.join("change")).unwrap();
    let r = rsei_core::Raster::new(a.grid().clone(), d).unwrap();
    rsei_io::write_raster(&area.join("change/rsei_diff_2018_2022.tif"), &r, &rsei_io::WriteOptions::continuous()).unwrap();

    let s = Server::start(ServeOptions::new(dir.path())).unwrap();
    let v = first_area(s.addr());
    let l = v["layers"].as_array().unwrap().iter().find(|l| l["id"] == "change.rsei_diff_2018_2022").unwrap_or_else(|| panic!("{}", v["layers"])).clone();
    assert_eq!(l["static"], true);
    assert_eq!(l["file"], "change/rsei_diff_2018_2022.tif");
    let (min, max) = (l["legend"]["min"].as_f64().unwrap(), l["legend"]["max"].as_f64().unwrap());
    assert!(min < 0.0 && (min + max).abs() < 1e-9, "a symmetric range for a difference: {}", l["legend"]);
    let (lon, lat) = (v["center"][0].as_f64().unwrap(), v["center"][1].as_f64().unwrap());
    let (x, y) = tile_of(lon, lat, 10);
    let t = get(s.addr(), &format!("/tiles/Demo_City/change.rsei_diff_2018_2022/all/10/{x}/{y}.png"));
    assert_eq!(t.status, 200, "{}", t.text());
    let (_, _, rgba) = decode_png(&t.body);
    assert!(rgba.chunks(4).filter(|p| p[3] == 255).count() > 1000);
}

#[test]
fn one_area_folder_is_served_as_that_area() {
    let s = Server::start(ServeOptions::new(demo_results().join("Second_City"))).unwrap();
    let r = get(s.addr(), "/api/areas");
    assert_eq!(r.status, 200, "{}", r.text());
    let areas = r.json()["areas"].as_array().unwrap().clone();
    assert_eq!(areas.len(), 1);
    assert_eq!((areas[0]["id"].as_str(), areas[0]["name"].as_str()), (Some("Second_City"), Some("Second City")));
    assert_eq!(get(s.addr(), "/api/areas/Second_City/pca").status, 200);
}

#[test]
fn router_serves_in_process() {
    // the router alone, on a runtime of the caller
    let app = rsei_serve::router(&ServeOptions::new(demo_results())).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let addr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    });
    let r = std::thread::spawn(move || get(addr, "/api/areas/Demo_City")).join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "Demo City");
}
