//! Landsat C2 L2 and Sentinel-2 L2A scenes from a STAC API: RSEI from the catalogue equals RSEI
//! from the same scenes in a folder, byte for byte.
//!
//! A loopback server plays the Planetary Computer: `POST /<cat>/search` answers in two pages
//! (`next` link, POST body), `/<cat>/collections/<id>` knows `landsat-c2-l2` and `sentinel-2-l2a`,
//! and the items point at the SYNTHETIC scenes of `tests/synthetic_scenes`, each file served as a
//! GeoTIFF under its product name with the collection's asset keys (`red`, `nir08`, `lwir11`,
//! `qa_pixel`, `mtl.txt`; `B02` … `B8A`, `SCL`, `product-metadata`).

mod common;
mod synthetic_scenes;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{result_bytes, rsei, text, TempDir};
use rsei_core::{Crs, Grid};
use rsei_stac::testing::{Reply, TestServer};
use synthetic_scenes as syn;

/// The manifests under `dir`, without their input lists (paths and checksums of the files read).
fn manifests(dir: &Path) -> BTreeMap<PathBuf, serde_json::Value> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("inputs");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
                stack.push(p);
            } else if e.file_name() == "manifest.json" {
                let mut v = common::json(&p);
                strip(&mut v);
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), v);
            }
        }
    }
    out
}

/// The same rasters and tables, byte for byte, and the same manifests but for their inputs.
fn assert_same_outputs(local: &Path, remote: &Path) {
    let (a, b) = (result_bytes(local), result_bytes(remote));
    assert!(a.keys().any(|k| k.ends_with("rsei.tif")) && a.keys().any(|k| k.ends_with("lst_celsius.tif")), "{:?}", a.keys());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(&b[k] == v, "{} differs between the folder and the catalogue", k.display());
    }
    let (ma, mb) = (manifests(local), manifests(remote));
    assert!(!ma.is_empty());
    assert_eq!(ma, mb);
}

/// The lon/lat bbox of a grid.
fn lonlat(grid: &Grid) -> [f64; 4] {
    let b = grid.bounds();
    let pts = rsei_io::crs::reproject_points(&[(b.xmin, b.ymin), (b.xmax, b.ymin), (b.xmax, b.ymax), (b.xmin, b.ymax)], grid.crs(), &Crs::new("EPSG:4326")).unwrap();
    let xs = pts.iter().map(|p| p.0);
    let ys = pts.iter().map(|p| p.1);
    [xs.clone().fold(f64::INFINITY, f64::min), ys.clone().fold(f64::INFINITY, f64::min), xs.fold(f64::NEG_INFINITY, f64::max), ys.fold(f64::NEG_INFINITY, f64::max)]
}

/// Copies `from` to `to` as a GeoTIFF (JPEG 2000 files are translated losslessly).
fn put_tif(from: &Path, to: &Path) {
    if from.extension().is_some_and(|e| e == "jp2") {
        let ok = std::process::Command::new("gdal_translate").args(["-q", "-of", "GTiff"]).arg(from).arg(to).status().unwrap().success();
        assert!(ok, "gdal_translate {}", from.display());
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

/// A `landsat-c2-l2` item for the USGS folder of `mtl` (files served under `served/assets/<id>/`),
/// with `correction` as `landsat:correction`; assets whose key is in `omit` are left out.
fn landsat_item(mtl: &Path, spec: &syn::LandsatSpec, grid: &Grid, served: &Path, correction: &str, omit: &[&str]) -> serde_json::Value {
    let id = spec.product_id();
    let dir = served.join("assets").join(&id);
    std::fs::create_dir_all(&dir).unwrap();
    let folder = mtl.parent().unwrap();
    let mut assets = serde_json::Map::new();
    let bands = [("SR_B2", "blue"), ("SR_B3", "green"), ("SR_B4", "red"), ("SR_B5", "nir08"), ("SR_B6", "swir16"), ("SR_B7", "swir22"), ("ST_B10", "lwir11"), ("QA_PIXEL", "qa_pixel"), ("QA_RADSAT", "qa_radsat")];
    for (band, key) in bands {
        let f = folder.join(format!("{id}_{band}.TIF"));
        if !f.exists() || omit.contains(&key) {
            continue;
        }
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
        assets.insert(
            key.into(),
            serde_json::json!({"href": format!("{{{{BASE}}}}/assets/{id}/{id}_{band}.TIF"), "type": "image/tiff; application=geotiff; profile=cloud-optimized", "roles": ["data"]}),
        );
    }
    if !omit.contains(&"mtl.txt") {
        std::fs::copy(mtl, dir.join(format!("{id}_MTL.txt"))).unwrap();
        assets.insert("mtl.txt".into(), serde_json::json!({"href": format!("{{{{BASE}}}}/assets/{id}/{id}_MTL.txt"), "type": "text/plain", "roles": ["metadata"]}));
    }
    serde_json::json!({
        "type": "Feature", "stac_version": "1.0.0", "id": id, "collection": "landsat-c2-l2", "bbox": lonlat(grid), "geometry": null,
        "properties": {"datetime": format!("{}T02:58:00Z", spec.date), "platform": "landsat-8", "eo:cloud_cover": 12.5,
                       "landsat:correction": correction, "proj:epsg": 32650},
        "links": [], "assets": assets
    })
}

/// A `sentinel-2-l2a` item for a SAFE (its bands served as GeoTIFFs), stating `baseline`.
fn s2_item(safe: &Path, grid10: &Grid, served: &Path, date: &str, baseline: &str) -> serde_json::Value {
    let id = safe.file_name().unwrap().to_string_lossy().trim_end_matches(".SAFE").to_string();
    let dir = served.join("assets").join(&id);
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut stack = vec![safe.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    let mut assets = serde_json::Map::new();
    for key in ["B02", "B03", "B04", "B8A", "B11", "B12", "SCL"] {
        let f = files
            .iter()
            .find(|p| p.file_name().unwrap().to_string_lossy().contains(&format!("_{key}_")) && p.extension().is_some_and(|e| e == "jp2" || e == "tif"))
            .unwrap_or_else(|| panic!("{key} in {}", safe.display()));
        let name = format!("{}.tif", f.file_stem().unwrap().to_string_lossy());
        put_tif(f, &dir.join(&name));
        assets.insert(key.into(), serde_json::json!({"href": format!("{{{{BASE}}}}/assets/{id}/{name}"), "type": "image/tiff; application=geotiff; profile=cloud-optimized", "roles": ["data"]}));
    }
    std::fs::copy(safe.join("MTD_MSIL2A.xml"), dir.join("MTD_MSIL2A.xml")).unwrap();
    assets.insert("product-metadata".into(), serde_json::json!({"href": format!("{{{{BASE}}}}/assets/{id}/MTD_MSIL2A.xml"), "type": "application/xml", "roles": ["metadata"]}));
    serde_json::json!({
        "type": "Feature", "stac_version": "1.0.0", "id": id, "collection": "sentinel-2-l2a", "bbox": lonlat(grid10), "geometry": null,
        "properties": {"datetime": format!("{date}T03:00:00Z"), "platform": "Sentinel-2B", "eo:cloud_cover": 3.0,
                       "s2:processing_baseline": baseline, "proj:code": "EPSG:32650"},
        "links": [], "assets": assets
    })
}

/// A STAC API at `{base}/{name}`: `/collections/<id>` for the scene collections and MOD11A2, `POST /search`
/// answering `items` in two pages (the second through a `next` link with a POST body).
fn api(srv: &TestServer, name: &str, items: Vec<serde_json::Value>) -> String {
    let text = Arc::new(serde_json::to_string(&items).unwrap());
    srv.route(&format!("/{name}/collections"), |r, _| {
        let id = r.path.rsplit('/').next().unwrap_or("");
        Some(if ["landsat-c2-l2", "sentinel-2-l2a", "modis-11A2-061"].contains(&id) {
            Reply::json(&serde_json::json!({"type": "Collection", "id": id}))
        } else {
            Reply::status(404, "no such collection")
        })
    });
    let n = name.to_string();
    srv.route(&format!("/{name}/search"), move |r, base| {
        let items: Vec<serde_json::Value> = serde_json::from_str(&text.replace("{{BASE}}", base)).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let wanted: Vec<&str> = body["collections"].as_array().map(|a| a.iter().filter_map(|c| c.as_str()).collect()).unwrap_or_default();
        let items: Vec<serde_json::Value> = items.into_iter().filter(|i| wanted.contains(&i["collection"].as_str().unwrap_or(""))).collect();
        let half = items.len().div_ceil(2);
        let second = body["token"] == "page-2";
        let (page, links) = if second {
            (items[half..].to_vec(), serde_json::json!([]))
        } else {
            (items[..half].to_vec(), serde_json::json!([{"rel": "next", "href": format!("{base}/{n}/search"), "method": "POST", "merge": true, "body": {"token": "page-2"}}]))
        };
        Some(Reply::json(&serde_json::json!({"type": "FeatureCollection", "features": page, "links": links})))
    });
    format!("{}/{name}", srv.base())
}

fn l_grid() -> Grid {
    syn::scene_grid(440_010.0, 4_400_010.0, 30.0, syn::ROWS, syn::COLS)
}

const FAST: [&str; 2] = ["--no-map", "--no-overviews"];

#[test]
fn landsat_from_the_catalogue_equals_the_folder_reuses_the_cache_and_runs_offline() {
    let t = TempDir::new("stac-landsat");
    // a 12 km scene, so that the windows (area + 2 km) are parts of it
    let g = syn::scene_grid(440_010.0, 4_400_010.0, 30.0, 400, 400);
    let local = t.path().join("local");
    let served = t.path().join("served");
    let specs = [
        syn::LandsatSpec::l8("2019-06-10", (20, 20, 50, 60), (60, 20, 75, 60)),
        syn::LandsatSpec::l8("2019-07-12", (90, 100, 130, 150), (130, 100, 140, 150)),
        syn::LandsatSpec::l8("2019-08-13", (10, 120, 25, 155), (140, 10, 150, 40)),
    ];
    let mut items = Vec::new();
    for s in &specs {
        let mtl = syn::write_landsat(&local, &g, s);
        items.push(landsat_item(&mtl, s, &g, &served, "L2SP", &[]));
    }
    // a Level-1 item: in the catalogue only, left out for its landsat:correction
    let mut l1 = syn::LandsatSpec::l8("2019-07-28", (0, 0, 0, 0), (0, 0, 0, 0));
    l1.level = "L1TP";
    let l1_mtl = syn::write_landsat(&t.path().join("level1"), &g, &l1);
    items.insert(1, landsat_item(&l1_mtl, &l1, &g, &served, "L1TP", &[]));
    let srv = TestServer::start(&served).unwrap();
    let url = api(&srv, "api", items);
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 60, 30, 160, 130);
    let common_args = [&["--area", area.to_str().unwrap(), "--years", "2019", "--window", "0:0"][..], &FAST[..]].concat();

    let out_local = t.path().join("out-local");
    let o = rsei(&[&["-q", "compute", "--data", local.to_str().unwrap(), "--out", out_local.to_str().unwrap()][..], &common_args[..]].concat());
    assert!(o.status.success(), "{}", text(&o));

    let cache = t.path().join("cache");
    let stac_args = |out: &Path| -> Vec<String> {
        let mut v: Vec<String> = ["-q", "compute", "--stac", &url, "--collection", "landsat-c2-l2", "--cache-dir", cache.to_str().unwrap(), "--out", out.to_str().unwrap()].iter().map(|s| s.to_string()).collect();
        v.extend(common_args.iter().map(|s| s.to_string()));
        v
    };
    let run = |args: &[String]| rsei(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let out_stac = t.path().join("out-stac");
    let o = run(&stac_args(&out_stac));
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    // both pages were asked for; the Level-1 item is named with the reason and not read
    assert_eq!(srv.count("POST", "/api/search"), 2, "{:?}", srv.log());
    assert!(log.contains(&format!("item {} (landsat-c2-l2) is not used: landsat:correction is L1TP, not a Level-2 product", l1.product_id())), "{log}");
    assert_eq!(srv.count("GET", &format!("/assets/{}/", l1.product_id())), 0);
    // 3 items: the MTL and 9 band / QA windows each, all fetched
    assert!(log.contains("3 scene(s) from 3 item(s): 30 asset(s), 0 from the cache, 30 fetched"), "{log}");
    // the windows were read by ranges, and the scene folders hold the STAC names
    assert!(srv.log().iter().any(|(m, p)| m == "GET" && p.contains("_SR_B5.TIF")));
    let staged = cache.join("scenes").join(specs[0].product_id());
    for f in ["mtl.txt", "red.tif", "nir08.tif", "swir16.tif", "lwir11.tif", "qa_pixel.tif", "qa_radsat.tif"] {
        assert!(staged.join(f).is_file(), "{f} not in {}", staged.display());
    }
    // a window: fewer cells than the scene, on the scene's own lattice and CRS
    let w = rsei_io::scenes::SceneBand::open(staged.join("red.tif").to_str().unwrap()).unwrap();
    let (rows, cols) = w.grid().shape();
    assert!(rows < 300 && cols < 300 && rows > 150 && cols > 150, "window {rows} × {cols} of the 400 × 400 scene");
    let t0 = w.grid().transform();
    assert!(((t0.x0 - 440_010.0) / 30.0).fract() == 0.0 && ((t0.y0 - 4_400_010.0) / 30.0).fract() == 0.0, "{t0:?}");
    assert_same_outputs(&out_local, &out_stac);
    let s = common::json(&out_stac.join("Scene_Town/2019/summary.json"));
    assert_eq!(s["sensor"]["scenes"], 3);
    assert_eq!(s["sensor"]["profiles"], serde_json::json!(["landsat-oli-c2l2"]));
    // the manifest lists the staged scene files
    let m = std::fs::read_to_string(out_stac.join("Scene_Town/2019/manifest.json")).unwrap();
    assert!(m.contains("nir08.tif") && m.contains("mtl.txt"), "{m}");

    // a second run: every asset from the cache, no window read again
    let gets = srv.count("GET", "/assets/");
    let out2 = t.path().join("out-again");
    let o = run(&stac_args(&out2));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("30 asset(s), 30 from the cache, 0 fetched"), "{}", text(&o));
    assert_eq!(srv.count("GET", "/assets/"), gets, "the second run read assets again");
    assert_same_outputs(&out_local, &out2);

    // offline, the server gone: the same bytes
    drop(srv);
    let out_off = t.path().join("out-offline");
    let mut a = stac_args(&out_off);
    a.push("--offline".into());
    let o = run(&a);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_outputs(&out_local, &out_off);

    // offline with a cached window gone: the message names the asset and the item
    let window = std::fs::read_dir(cache.join("windows"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten().map(|e| e.path()))
        .find(|p| p.file_name().unwrap().to_string_lossy() == format!("{}_swir16.tif", specs[1].product_id()))
        .expect("the cached swir16 window");
    std::fs::remove_file(&window).unwrap();
    let mut a = stac_args(&t.path().join("out-missing"));
    a.push("--offline".into());
    let o = run(&a);
    assert!(!o.status.success());
    let msg = text(&o);
    assert!(msg.contains("offline") && msg.contains(&format!("asset \"swir16\" of item {}", specs[1].product_id())) && msg.contains("not in the cache"), "{msg}");
}

#[test]
fn sentinel2_from_the_catalogue_with_landsat_heat_equals_the_folder() {
    let t = TempDir::new("stac-s2");
    let g = l_grid();
    let local = t.path().join("local");
    let served = t.path().join("served");
    let l8 = syn::LandsatSpec::l8("2019-07-12", (0, 0, 0, 0), (0, 0, 0, 0));
    let mtl = syn::write_landsat(&local, &g, &l8);
    let g10 = syn::scene_grid(440_040.0, 4_400_040.0, 10.0, 300, 300);
    let safe = syn::write_s2(&local, &g10, "2019-07-20", "04.00");
    let items = vec![s2_item(&safe, &g10, &served, "2019-07-20", "04.00"), landsat_item(&mtl, &l8, &g, &served, "L2SP", &[])];
    let srv = TestServer::start(&served).unwrap();
    let url = api(&srv, "pc", items);
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 8, 8, 100, 100);
    let common_args = [&["--area", area.to_str().unwrap(), "--years", "2019", "--s2-heat", "landsat"][..], &FAST[..]].concat();
    let out_local = t.path().join("out-local");
    let o = rsei(&[&["-q", "compute", "--data", local.to_str().unwrap(), "--out", out_local.to_str().unwrap()][..], &common_args[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let cache = t.path().join("cache");
    let out_stac = t.path().join("out-stac");
    let stac = ["-q", "compute", "--stac", &url, "--collection", "sentinel-2-l2a", "landsat-c2-l2", "--cache-dir", cache.to_str().unwrap()];
    let o = rsei(&[&stac[..], &["--out", out_stac.to_str().unwrap()][..], &common_args[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    // S2: metadata + 6 bands + SCL; Landsat: MTL + 9
    assert!(text(&o).contains("2 scene(s) from 2 item(s): 18 asset(s)"), "{}", text(&o));
    let s2_folder = cache.join("scenes").join(safe.file_name().unwrap().to_string_lossy().trim_end_matches(".SAFE"));
    for f in ["MTD_MSIL2A.xml", "B02.tif", "B8A.tif", "B12.tif", "SCL.tif"] {
        assert!(s2_folder.join(f).is_file(), "{f} not in {}", s2_folder.display());
    }
    assert_same_outputs(&out_local, &out_stac);
    let s = common::json(&out_stac.join("Scene_Town/2019/summary.json"));
    assert_eq!(s["sensor"]["profiles"], serde_json::json!(["sentinel2-msi-l2a"]));
    assert_eq!(s["sensor"]["levels"], serde_json::json!(["L2A baseline 04.00"]));
    assert!(s["sensor"]["heat"].as_str().unwrap().contains(&l8.product_id()), "{}", s["sensor"]);

    // Sentinel-2 alone has no heat: the error says which collection to add
    let o = rsei(&[&["-q", "compute", "--stac", &url, "--collection", "sentinel-2-l2a", "--out", t.path().join("x").to_str().unwrap()][..], &["--area", area.to_str().unwrap(), "--years", "2019"][..]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no thermal band") && text(&o).contains("modis-11A2-061") && text(&o).contains("--s2-heat landsat"), "{}", text(&o));
    // MODIS reflectance and scenes in one list
    let o = rsei(&[&["-q", "compute", "--stac", &url, "--collection", "landsat-c2-l2", "modis-09A1-061", "--out", t.path().join("x").to_str().unwrap()][..], &["--area", area.to_str().unwrap(), "--years", "2019"][..]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("cannot be mixed") && text(&o).contains("modis-09A1-061"), "{}", text(&o));

    // an item whose metadata state another baseline than the item: a clear error naming both
    let srv2 = TestServer::start(&served).unwrap();
    let url2 = api(&srv2, "pc", vec![s2_item(&safe, &g10, &served, "2019-07-20", "05.09"), landsat_item(&mtl, &l8, &g, &served, "L2SP", &[])]);
    let o = rsei(&[&["-q", "compute", "--stac", &url2, "--collection", "sentinel-2-l2a", "landsat-c2-l2", "--cache-dir", t.path().join("cache2").to_str().unwrap(), "--out", t.path().join("y").to_str().unwrap()][..], &common_args[..]].concat());
    assert!(!o.status.success());
    let msg = text(&o);
    assert!(msg.contains("disagree") && msg.contains("s2:processing_baseline 05.09") && msg.contains("PROCESSING_BASELINE \"04.00\""), "{msg}");
}

/// `modis-11A2-061` items of the per-layer MOD11A2 files of tile `tile` in `dir` (served under
/// `served/modis/`), and the files.
fn mod11a2_items(dir: &Path, tile: &str, served: &Path) -> (Vec<serde_json::Value>, Vec<PathBuf>) {
    let to = served.join("modis");
    std::fs::create_dir_all(&to).unwrap();
    let mut items: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut files = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    for n in names.into_iter().filter(|n| n.ends_with(".tif") && n.contains(&format!(".{tile}."))) {
        std::fs::copy(dir.join(&n), to.join(&n)).unwrap();
        files.push(dir.join(&n));
        let (id, key) = n.trim_end_matches(".tif").split_once('_').unwrap();
        let parts: Vec<&str> = id.split('.').collect();
        let (year, doy): (i64, i64) = (parts[1][1..5].parse().unwrap(), parts[1][5..8].parse().unwrap());
        let start = (rsei_stac::time::days_from_civil(year, 1, 1) + doy - 1) * 86_400;
        let (h, v): (u8, u8) = (parts[2][1..3].parse().unwrap(), parts[2][4..6].parse().unwrap());
        let it = items.entry(id.to_string()).or_insert_with(|| {
            serde_json::json!({
                "type": "Feature", "stac_version": "1.0.0", "id": id, "collection": "modis-11A2-061",
                "properties": {"start_datetime": rsei_stac::time::format_rfc3339(start), "datetime": null,
                               "modis:horizontal-tile": h, "modis:vertical-tile": v, "platform": "terra"},
                "geometry": null, "links": [], "assets": {}
            })
        });
        it["assets"][key] = serde_json::json!({"href": format!("{{{{BASE}}}}/modis/{n}"), "type": "image/tiff; application=geotiff", "roles": ["data"]});
    }
    (items.into_values().collect(), files)
}

#[test]
fn sentinel2_from_the_catalogue_with_mod11a2_heat_from_the_catalogue_equals_the_folder() {
    let t = TempDir::new("stac-s2-modis");
    // MOD11A2 of the synthetic MODIS archive (2019) gives the heat; the S2 tile sits at its centre
    let arch = t.path().join("archive");
    rsei_pipeline::demo::archive::generate_years(&arch, 42, 2019, 2019).expect("synthetic archive");
    let served = t.path().join("served");
    let (mut items, files) = mod11a2_items(&arch.join("modis/MOD11A2"), "h27v05", &served);
    assert!(!files.is_empty());
    let local = t.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    for f in &files {
        std::fs::copy(f, local.join(f.file_name().unwrap())).unwrap();
    }
    let r = rsei_io::LayerReader::open_file(&files[0], None).unwrap();
    let b = r.grid().bounds();
    let (cx, cy) = rsei_io::crs::reproject_points(&[((b.xmin + b.xmax) / 2.0, (b.ymin + b.ymax) / 2.0)], r.grid().crs(), &Crs::new("EPSG:32650")).unwrap()[0];
    let g10 = syn::scene_grid((cx / 60.0).round() * 60.0, (cy / 60.0).round() * 60.0, 10.0, 300, 300);
    let safe = syn::write_s2(&local, &g10, "2019-07-20", "04.00");
    items.push(s2_item(&safe, &g10, &served, "2019-07-20", "04.00"));
    let srv = TestServer::start(&served).unwrap();
    let url = api(&srv, "pc", items);
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g10, 15, 15, 285, 285);
    let common_args = [&["--area", area.to_str().unwrap(), "--years", "2019"][..], &FAST[..]].concat();
    let out_local = t.path().join("out-local");
    let o = rsei(&[&["-q", "compute", "--data", local.to_str().unwrap(), "--out", out_local.to_str().unwrap()][..], &common_args[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let out_stac = t.path().join("out-stac");
    let cache = t.path().join("cache");
    let o = rsei(&[&["-q", "compute", "--stac", &url, "--collection", "sentinel-2-l2a", "modis-11A2-061", "--cache-dir", cache.to_str().unwrap(), "--out", out_stac.to_str().unwrap()][..], &common_args[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(srv.count("GET", "/modis/") > 0 && srv.count("GET", "/assets/") > 0);
    assert_same_outputs(&out_local, &out_stac);
    let s = common::json(&out_stac.join("Scene_Town/2019/summary.json"));
    assert!(s["sensor"]["heat"].as_str().unwrap().contains("MOD11A2"), "{}", s["sensor"]);
    let m = std::fs::read_to_string(out_stac.join("Scene_Town/2019/manifest.json")).unwrap();
    assert!(m.contains("LST_Day_1km") && m.contains("B8A.tif"), "the manifest lists the MOD11A2 windows and the S2 bands");
}

#[test]
fn missing_metadata_or_band_assets_are_named_and_search_lists_the_items() {
    let t = TempDir::new("stac-bad");
    let g = l_grid();
    let served = t.path().join("served");
    let a = syn::LandsatSpec::l8("2019-07-12", (0, 0, 0, 0), (0, 0, 0, 0));
    let b = syn::LandsatSpec::l8("2019-08-13", (0, 0, 0, 0), (0, 0, 0, 0));
    let ma = syn::write_landsat(&t.path().join("usgs"), &g, &a);
    let mb = syn::write_landsat(&t.path().join("usgs"), &g, &b);
    let srv = TestServer::start(&served).unwrap();
    let good_b = landsat_item(&mb, &b, &g, &served, "L2SP", &[]);
    let no_mtl = api(&srv, "nomtl", vec![landsat_item(&ma, &a, &g, &served, "L2SP", &["mtl.txt"]), good_b.clone()]);
    let no_band = api(&srv, "noband", vec![landsat_item(&ma, &a, &g, &served, "L2SP", &["swir16"]), good_b.clone()]);
    let wrong_level = api(&srv, "level", vec![landsat_item(&ma, &a, &g, &served, "L2SR", &[]), good_b.clone()]);
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 30, 30, 130, 130);
    let compute = |url: &str, name: &str| {
        rsei(&[
            &["-q", "compute", "--stac", url, "--collection", "landsat-c2-l2", "--cache-dir", t.path().join(format!("cache-{name}")).to_str().unwrap()][..],
            &["--out", t.path().join(format!("out-{name}")).to_str().unwrap(), "--area", area.to_str().unwrap(), "--years", "2019", "--window", "0:0"][..],
            &FAST[..],
        ]
        .concat())
    };
    let o = compute(&no_mtl, "mtl");
    assert!(!o.status.success());
    assert!(text(&o).contains(&format!("item {} (landsat-c2-l2): no metadata asset \"mtl.txt\" or \"mtl.xml\"", a.product_id())), "{}", text(&o));
    let o = compute(&no_band, "band");
    assert!(!o.status.success());
    assert!(text(&o).contains(&format!("item {} (landsat-c2-l2) has no asset \"swir16\" for layer SR_B6", a.product_id())), "{}", text(&o));
    let o = compute(&wrong_level, "level");
    assert!(!o.status.success());
    assert!(text(&o).contains("disagree") && text(&o).contains("landsat:correction L2SR") && text(&o).contains("PROCESSING_LEVEL \"L2SP\""), "{}", text(&o));

    // rsei search lists id, date, platform, cloud cover and level of each item (both pages)
    let o = rsei(&["-q", "search", "--stac", &no_band, "--collection", "landsat-c2-l2", "--cache-dir", t.path().join("cache-search").to_str().unwrap(), "--area", area.to_str().unwrap(), "--years", "2019", "--window", "0:0"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.starts_with("2 item(s)"), "{out}");
    for want in [a.product_id(), b.product_id(), "2019-08-13".into(), "landsat-8".into(), "12.5".into(), "L2SP".into()] {
        assert!(out.contains(&want), "{want} not in {out}");
    }
    assert_eq!(srv.count("POST", "/noband/search"), 4, "two pages for compute, two for search");
    // a cloud limit below the items' cover leaves none, and says why
    let o = rsei(&["-q", "search", "--stac", &no_band, "--collection", "landsat-c2-l2", "--max-cloud", "10", "--cache-dir", t.path().join("cache-search").to_str().unwrap(), "--area", area.to_str().unwrap(), "--years", "2019", "--window", "0:0"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("eo:cloud_cover 12.5 is above --max-cloud 10"), "{}", text(&o));
    // the platform filter (case-insensitive)
    let o = rsei(&["-q", "search", "--stac", &no_band, "--collection", "landsat-c2-l2", "--platform", "Landsat-9", "--cache-dir", t.path().join("cache-search").to_str().unwrap(), "--area", area.to_str().unwrap(), "--years", "2019", "--window", "0:0"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("platform \"landsat-8\" is not among Landsat-9"), "{}", text(&o));
    let o = rsei(&["-q", "search", "--stac", &no_band, "--collection", "landsat-c2-l2", "--platform", "LANDSAT-8", "--json", "--cache-dir", t.path().join("cache-search").to_str().unwrap(), "--area", area.to_str().unwrap(), "--years", "2019", "--window", "0:0"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert_eq!(v["items"][0]["correction"], "L2SP");
}
