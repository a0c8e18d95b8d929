//! Studies whose Landsat scenes come from a STAC catalogue (`[data.stac]` with
//! `collections = ["landsat-c2-l2"]`): `rsei run` gives the rasters of the same study with the same
//! scenes in `[data] scenes` folders, reuses every unit on a second run, recomputes only the year
//! whose asset changed, runs offline from the cache, and `rsei validate` names a year without a
//! Level-2 scene item.
//!
//! A loopback server plays a STAC API (`POST /api/search` in two pages, `/api/collections/<id>`)
//! whose items point at SYNTHETIC Landsat C2 L2 scenes made here (`tests/synthetic_scenes`), each
//! file served under its USGS name with the collection's asset keys (`red`, `nir08`, `lwir11`,
//! `qa_pixel`, `mtl.txt` …).

mod common;
mod synthetic_scenes;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{computed, json, rsei, text, TempDir};
use rsei_core::{Crs, Grid};
use rsei_stac::testing::{Reply, TestServer};
use synthetic_scenes as syn;

fn grid() -> Grid {
    syn::scene_grid(440_010.0, 4_400_010.0, 30.0, syn::ROWS, syn::COLS)
}

/// The lon/lat bbox of a grid.
fn lonlat(grid: &Grid) -> [f64; 4] {
    let b = grid.bounds();
    let pts = rsei_io::crs::reproject_points(&[(b.xmin, b.ymin), (b.xmax, b.ymin), (b.xmax, b.ymax), (b.xmin, b.ymax)], grid.crs(), &Crs::new("EPSG:4326")).unwrap();
    let xs = pts.iter().map(|p| p.0);
    let ys = pts.iter().map(|p| p.1);
    [xs.clone().fold(f64::INFINITY, f64::min), ys.clone().fold(f64::INFINITY, f64::min), xs.fold(f64::NEG_INFINITY, f64::max), ys.fold(f64::NEG_INFINITY, f64::max)]
}

/// Copies the files of the USGS folder of `mtl` to `served/assets/<id>/`.
fn serve_files(mtl: &Path, id: &str, served: &Path) {
    let dir = served.join("assets").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(mtl.parent().unwrap()).unwrap().flatten() {
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
}

/// A `landsat-c2-l2` item for the USGS folder of `mtl` (files served under `served/assets/<id>/`).
fn landsat_item(mtl: &Path, spec: &syn::LandsatSpec, grid: &Grid, served: &Path, correction: &str, cloud: f64) -> serde_json::Value {
    let id = spec.product_id();
    serve_files(mtl, &id, served);
    let mut assets = serde_json::Map::new();
    let bands = [("SR_B2", "blue"), ("SR_B3", "green"), ("SR_B4", "red"), ("SR_B5", "nir08"), ("SR_B6", "swir16"), ("SR_B7", "swir22"), ("ST_B10", "lwir11"), ("QA_PIXEL", "qa_pixel"), ("QA_RADSAT", "qa_radsat")];
    for (band, key) in bands {
        if mtl.parent().unwrap().join(format!("{id}_{band}.TIF")).exists() {
            assets.insert(key.into(), serde_json::json!({"href": format!("{{{{BASE}}}}/assets/{id}/{id}_{band}.TIF"), "type": "image/tiff; application=geotiff; profile=cloud-optimized", "roles": ["data"]}));
        }
    }
    assets.insert("mtl.txt".into(), serde_json::json!({"href": format!("{{{{BASE}}}}/assets/{id}/{id}_MTL.txt"), "type": "text/plain", "roles": ["metadata"]}));
    serde_json::json!({
        "type": "Feature", "stac_version": "1.0.0", "id": id, "collection": "landsat-c2-l2", "bbox": lonlat(grid), "geometry": null,
        "properties": {"datetime": format!("{}T02:58:00Z", spec.date), "platform": "landsat-8", "eo:cloud_cover": cloud,
                       "landsat:correction": correction, "proj:epsg": 32650},
        "links": [], "assets": assets
    })
}

/// A STAC API at `{base}/api`: `/collections/landsat-c2-l2`, `POST /search` answering `items` in
/// two pages (the second through a `next` link with a POST body).
fn api(srv: &TestServer, items: Vec<serde_json::Value>) -> String {
    let text = Arc::new(serde_json::to_string(&items).unwrap());
    srv.route("/api/collections", |r, _| {
        let id = r.path.rsplit('/').next().unwrap_or("");
        Some(if id == "landsat-c2-l2" { Reply::json(&serde_json::json!({"type": "Collection", "id": id})) } else { Reply::status(404, "no such collection") })
    });
    srv.route("/api/search", move |r, base| {
        let items: Vec<serde_json::Value> = serde_json::from_str(&text.replace("{{BASE}}", base)).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let half = items.len().div_ceil(2);
        let (page, links) = if body["token"] == "page-2" {
            (items[half..].to_vec(), serde_json::json!([]))
        } else {
            (items[..half].to_vec(), serde_json::json!([{"rel": "next", "href": format!("{base}/api/search"), "method": "POST", "merge": true, "body": {"token": "page-2"}}]))
        };
        Some(Reply::json(&serde_json::json!({"type": "FeatureCollection", "features": page, "links": links})))
    });
    format!("{}/api", srv.base())
}

fn study(output: &str, area: &Path, years: &str, data: &str) -> String {
    format!(
        r#"[study]
name = "scene study"
output = "{output}"
years = "{years}"

{data}

[[area]]
file = "{}"

[rsei.composite]
years_before = 0
years_after = 0

[rsei.output]
overviews = false
"#,
        area.display()
    )
}

/// The rasters of the year folders of an output, by relative path.
fn rasters(out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    for year in ["2019", "2020"] {
        for e in std::fs::read_dir(out.join("Scene_Town").join(year)).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.ends_with(".tif") {
                m.insert(PathBuf::from(year).join(&n), std::fs::read(e.path()).unwrap());
            }
        }
    }
    m
}

fn assert_same_rasters(a: &Path, b: &Path) {
    let (ra, rb) = (rasters(a), rasters(b));
    assert!(ra.keys().any(|k| k.ends_with("2019/rsei.tif")) && ra.keys().any(|k| k.ends_with("2020/rsei.tif")), "{:?}", ra.keys());
    assert!(ra.len() > 10, "{:?}", ra.keys());
    assert_eq!(ra.keys().collect::<Vec<_>>(), rb.keys().collect::<Vec<_>>());
    for (k, v) in &ra {
        assert!(v == &rb[k], "{} differs between {} and {}", k.display(), a.display(), b.display());
    }
}

struct Setup {
    /// The scenes as USGS folders.
    scenes: PathBuf,
    area: PathBuf,
    served: PathBuf,
    items: Vec<serde_json::Value>,
    specs: Vec<syn::LandsatSpec>,
}

/// Two scenes of 2019 and one of 2020 in `scenes/` and as catalogue items, with two items of the
/// catalogue only that a study leaves out: a cloudy one (`eo:cloud_cover` 80, above `max_cloud`)
/// and a Level-1 one, both in the window of 2019.
fn setup(t: &TempDir) -> Setup {
    let g = grid();
    let scenes = t.path().join("scenes");
    let served = t.path().join("served");
    let specs = syn::two_years_l8();
    let mut items = Vec::new();
    for s in &specs {
        let mtl = syn::write_landsat(&scenes, &g, s);
        items.push(landsat_item(&mtl, s, &g, &served, "L2SP", 12.5));
    }
    let cloudy = syn::LandsatSpec::l8("2019-07-12", (0, 0, 0, 0), (0, 0, 0, 0));
    let mtl = syn::write_landsat(&t.path().join("catalogue-only"), &g, &cloudy);
    items.insert(1, landsat_item(&mtl, &cloudy, &g, &served, "L2SP", 80.0));
    let mut l1 = syn::LandsatSpec::l8("2019-07-28", (0, 0, 0, 0), (0, 0, 0, 0));
    l1.level = "L1TP";
    let mtl = syn::write_landsat(&t.path().join("catalogue-only"), &g, &l1);
    items.insert(2, landsat_item(&mtl, &l1, &g, &served, "L1TP", 5.0));
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 8, 8, 152, 152);
    Setup { scenes, area, served, items, specs }
}

fn stac_data(url: &str, extra: &str) -> String {
    format!("[data.stac]\nurl = \"{url}\"\ncollections = [\"landsat-c2-l2\"]\ncache_dir = \"cache\"\nmax_cloud = 50\n{extra}")
}

#[test]
fn a_study_of_catalogue_scenes_equals_the_folder_study_reuses_recomputes_a_changed_asset_and_runs_offline() {
    let t = TempDir::new("study-stac-scenes");
    let s = setup(&t);
    let srv = TestServer::start(&s.served).unwrap();
    let url = api(&srv, s.items.clone());

    // the same study with the scenes as folders
    let folder_study = t.path().join("folders.toml");
    std::fs::write(&folder_study, study("out-folders", &s.area, "2019-2020", &format!("[data]\nscenes = \"{}\"", s.scenes.display()))).unwrap();
    let o = rsei(&["run", folder_study.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    let file = t.path().join("catalogue.toml");
    std::fs::write(&file, study("out", &s.area, "2019-2020", &stac_data(&url, ""))).unwrap();
    let o = rsei(&["run", file.to_str().unwrap()]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert_eq!(computed(&log), vec!["Scene Town 2019 RSEI", "Scene Town 2020 RSEI", "run-level tables"], "{log}");
    // one search per composite window (2019, 2020), each of two pages; the cloudy and the
    // Level-1 items are named with the reason and never read
    assert_eq!(srv.count("POST", "/api/search"), 4, "{:?}", srv.log());
    assert!(log.contains("is not used: eo:cloud_cover 80 is above"), "{log}");
    assert!(log.contains("is not used: landsat:correction is L1TP"), "{log}");
    for skipped in ["LC08_L2SP_123032_20190712", "LC08_L1TP_123032_20190728"] {
        assert!(!srv.log().iter().any(|(m, p)| m == "GET" && p.contains(skipped)), "{skipped} was read");
    }
    assert!(log.contains("3 scene(s) from 3 item(s)") && log.contains("30 asset(s), 0 from the cache, 30 fetched"), "{log}");
    let out = t.path().join("out");
    assert_same_rasters(&t.path().join("out-folders"), &out);
    let summary = json(&out.join("Scene_Town/2019/summary.json"));
    assert_eq!(summary["sensor"]["scenes"], 2, "{}", summary["sensor"]);
    // the manifest names the asset version of each scene file read
    let m = std::fs::read_to_string(out.join("Scene_Town/2020/manifest.json")).unwrap();
    assert!(m.contains("\"etag\"") && m.contains("lwir11") && m.contains(&s.specs[2].product_id()), "{m}");

    // validate answers from the cache: no new search
    let o = rsei(&["validate", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(srv.count("POST", "/api/search"), 4, "validate searched again although the cache holds the answer");

    // a second run reuses every unit and reads no asset again
    let gets = srv.count("GET", "/assets/");
    let o = rsei(&["run", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(computed(&text(&o)).is_empty(), "{}", text(&o));
    assert!(text(&o).contains("30 asset(s), 30 from the cache, 0 fetched"), "{}", text(&o));
    assert_eq!(srv.count("GET", "/assets/"), gets, "the second run read assets again");

    // the 2020 scene changes on the server (another acquisition under the same id): 2020 only
    let changed = syn::LandsatSpec::l8("2020-07-12", (20, 20, 40, 40), (60, 60, 70, 70));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mtl = syn::write_landsat(&t.path().join("changed"), &grid(), &changed);
    serve_files(&mtl, &changed.product_id(), &s.served);
    let before = std::fs::read(out.join("Scene_Town/2020/rsei.tif")).unwrap();
    let o = rsei(&["run", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(computed(&text(&o)), vec!["Scene Town 2020 RSEI", "run-level tables"], "{}", text(&o));
    assert!(text(&o).contains("reuse    Scene Town 2019 RSEI"), "{}", text(&o));
    assert!(std::fs::read(out.join("Scene_Town/2020/rsei.tif")).unwrap() != before, "the changed scene gave the same RSEI");

    // offline, the server gone: every unit reused in place, and the same rasters in a new folder
    drop(srv);
    std::fs::write(&file, study("out", &s.area, "2019-2020", &stac_data(&url, "offline = true"))).unwrap();
    let o = rsei(&["run", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(computed(&text(&o)).is_empty(), "{}", text(&o));
    let out_off = t.path().join("out-offline");
    let o = rsei(&["run", file.to_str().unwrap(), "--out", out_off.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(computed(&text(&o)), vec!["Scene Town 2019 RSEI", "Scene Town 2020 RSEI", "run-level tables"], "{}", text(&o));
    assert_same_rasters(&out, &out_off);
}

/// `rsei validate` of a study file: the exit code and the report.
fn validate(dir: &Path, name: &str, text_of_study: &str) -> (Option<i32>, String) {
    let p = dir.join(name);
    std::fs::write(&p, text_of_study).unwrap();
    let o = rsei(&["validate", p.to_str().unwrap()]);
    (o.status.code(), text(&o))
}

#[test]
fn validate_names_a_year_without_a_level2_scene_item_and_bad_scene_keys() {
    let t = TempDir::new("study-stac-scenes-bad");
    let s = setup(&t);
    // a Level-1 item is the only item of 2021
    let mut l1 = syn::LandsatSpec::l8("2021-07-20", (0, 0, 0, 0), (0, 0, 0, 0));
    l1.level = "L1TP";
    let mtl = syn::write_landsat(&t.path().join("catalogue-only"), &grid(), &l1);
    let mut items = s.items.clone();
    items.push(landsat_item(&mtl, &l1, &grid(), &s.served, "L1TP", 5.0));
    let srv = TestServer::start(&s.served).unwrap();
    let url = api(&srv, items);

    let (code, r) = validate(t.path(), "years.toml", &study("out", &s.area, "2019-2021", &stac_data(&url, "")));
    assert_eq!(code, Some(2), "{r}");
    // at the years key (line 4, column 9), naming the area, the year and why the item is not used
    assert!(r.contains("years.toml:4:9: error: area \"Scene Town\": no Level-2 scene item for 2021"), "{r}");
    assert!(r.contains(&format!("{}: landsat:correction is L1TP", l1.product_id())), "{r}");
    assert!(!r.contains("for 2019") && !r.contains("for 2020"), "{r}");
    // the same years are fine
    let (code, r) = validate(t.path(), "ok.toml", &study("out", &s.area, "2019-2020", &stac_data(&url, "")));
    assert_eq!(code, Some(0), "{r}");

    // MODIS reflectance beside a scene collection: at `collections` (line 8, column 15)
    let mixed = format!("[data.stac]\nurl = \"{url}\"\ncollections = [\"landsat-c2-l2\", \"modis-09A1-061\"]");
    let (code, r) = validate(t.path(), "mixed.toml", &study("out", &s.area, "2019-2020", &mixed));
    assert_eq!(code, Some(2), "{r}");
    assert!(r.contains("mixed.toml:8:15: error: [data.stac] `collections`:") && r.contains("cannot be mixed") && r.contains("modis-09A1-061"), "{r}");
    // Sentinel-2 without a source of heat: the collection or the key to add
    let s2 = format!("[data.stac]\nurl = \"{url}\"\ncollections = [\"sentinel-2-l2a\"]");
    let (code, r) = validate(t.path(), "s2.toml", &study("out", &s.area, "2019-2020", &s2));
    assert_eq!(code, Some(2), "{r}");
    assert!(r.contains("s2.toml:8:15: error: [data.stac] `collections`: sentinel-2-l2a has no thermal band") && r.contains("modis-11A2-061") && r.contains("`s2_heat = \"landsat\"`"), "{r}");
    // scene folders and scene collections together are refused
    let both = format!("[data]\nscenes = \"{}\"\n\n{}", s.scenes.display(), stac_data(&url, ""));
    let (code, r) = validate(t.path(), "both.toml", &study("out", &s.area, "2019-2020", &both));
    assert_eq!(code, Some(2), "{r}");
    assert!(r.contains("`scenes` folders and [data.stac] cannot be combined"), "{r}");
    // a cloud limit that is no percentage, and platforms that are not a list, at their values
    let bad = format!("[data.stac]\nurl = \"{url}\"\ncollections = [\"landsat-c2-l2\"]\nmax_cloud = 120\n");
    let (code, r) = validate(t.path(), "cloud.toml", &study("out", &s.area, "2019-2020", &bad));
    assert_eq!(code, Some(2), "{r}");
    assert!(r.contains("cloud.toml:9:13: error: invalid value of `max_cloud` in [data.stac]") && r.contains("0 to 100"), "{r}");
    let bad = format!("[data.stac]\nurl = \"{url}\"\ncollections = [\"landsat-c2-l2\"]\nplatforms = \"landsat-8\"\n");
    let (code, r) = validate(t.path(), "plat.toml", &study("out", &s.area, "2019-2020", &bad));
    assert_eq!(code, Some(2), "{r}");
    assert!(r.contains("plat.toml:9:13: error: invalid value of `platforms` in [data.stac]"), "{r}");
    // a platform filter that leaves no item names every year
    let only9 = stac_data(&url, "platforms = [\"landsat-9\"]");
    let (code, r) = validate(t.path(), "nine.toml", &study("out", &s.area, "2019-2020", &only9));
    assert_eq!(code, Some(2), "{r}");
    assert!(r.contains("no Level-2 scene item for 2019") && r.contains("no Level-2 scene item for 2020") && r.contains("platform \"landsat-8\" is not among landsat-9"), "{r}");
}
