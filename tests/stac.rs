//! RSEI from a STAC catalogue equals RSEI from the same files read locally, byte for byte.
//!
//! The synthetic demo archive (one season, both tiles) is served by a loopback server as a static
//! item collection of per-layer GeoTIFFs (Planetary Computer collection names and asset keys);
//! `rsei compute --stac` fetches the windows over HTTP into its cache and must write the same
//! rasters and tables as `rsei compute --data` on the folder; then again offline from the cache.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{rsei, text, TempDir};
use rsei_stac::testing::TestServer;

fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if !name.starts_with('.') {
                    stack.push(p);
                }
            } else if name != "manifest.json" {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A static item collection of the archive's per-layer files, served under `/acct/cont/`.
fn item_collection(modis: &Path, served: &Path) -> usize {
    let mut items: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for product in ["MOD09A1", "MOD13A1", "MOD11A2"] {
        let to = served.join("acct/cont").join(product);
        std::fs::create_dir_all(&to).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(modis.join(product)).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        for n in names.into_iter().filter(|n| n.ends_with(".tif")) {
            std::fs::copy(modis.join(product).join(&n), to.join(&n)).unwrap();
            let (id, key) = n.trim_end_matches(".tif").split_once('_').unwrap();
            let parts: Vec<&str> = id.split('.').collect();
            let (year, doy): (i64, i64) = (parts[1][1..5].parse().unwrap(), parts[1][5..8].parse().unwrap());
            let start = (rsei_stac::time::days_from_civil(year, 1, 1) + doy - 1) * 86_400;
            let (h, v): (u8, u8) = (parts[2][1..3].parse().unwrap(), parts[2][4..6].parse().unwrap());
            let it = items.entry(id.to_string()).or_insert_with(|| {
                serde_json::json!({
                    "type": "Feature", "stac_version": "1.0.0", "id": id,
                    "collection": format!("modis-{}-061", &product[3..]),
                    "properties": {"start_datetime": rsei_stac::time::format_rfc3339(start), "datetime": null,
                                   "modis:horizontal-tile": h, "modis:vertical-tile": v, "platform": "terra"},
                    "geometry": null, "links": [], "assets": {}
                })
            });
            it["assets"][key] = serde_json::json!({"href": format!("{{{{BASE}}}}/acct/cont/{product}/{n}"), "type": "image/tiff; application=geotiff", "roles": ["data"]});
        }
    }
    let fc = serde_json::json!({"type": "FeatureCollection", "features": items.values().collect::<Vec<_>>()});
    std::fs::write(served.join("items.json"), serde_json::to_vec_pretty(&fc).unwrap()).unwrap();
    items.len()
}

#[test]
fn rsei_from_stac_equals_rsei_from_local_files_and_runs_offline() {
    let tmp = TempDir::new("stac-identical");
    let demo = rsei_pipeline::demo::archive::generate_years(&tmp.path().join("demo"), 42, 2019, 2019).unwrap();
    let served = tmp.path().join("served");
    let n_items = item_collection(&demo.modis_dir, &served);
    assert!(n_items > 20, "{n_items} items");
    let srv = TestServer::start(&served).unwrap();
    let city = demo.city.to_str().unwrap();
    let common_args = ["--area", city, "--years", "2019", "--window", "0:0", "--no-map", "--no-overviews"];
    let local = tmp.path().join("local");
    let o = rsei(&[&["compute", "-q", "--data", demo.modis_dir.to_str().unwrap(), "--out", local.to_str().unwrap()][..], &common_args[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let url = format!("{}/items.json", srv.base());
    let cache = tmp.path().join("cache");
    let remote = tmp.path().join("stac");
    let o = rsei(&[&["compute", "-q", "--stac", &url, "--cache-dir", cache.to_str().unwrap(), "--out", remote.to_str().unwrap()][..], &common_args[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("fetched"), "{}", text(&o));
    assert!(srv.count("GET", "/acct/cont/") > 0);
    let a = files_under(&local);
    let b = files_under(&remote);
    assert!(a.keys().any(|k| k.ends_with("rsei.tif")), "{:?}", a.keys());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(&b[k] == v, "{} differs between local and STAC inputs", k.display());
    }
    // offline, with the server gone: the same bytes again
    drop(srv);
    let offline = tmp.path().join("offline");
    let o = rsei(&[&["compute", "-q", "--stac", &url, "--offline", "--cache-dir", cache.to_str().unwrap(), "--out", offline.to_str().unwrap()][..], &common_args[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(files_under(&offline), b);
    // offline for a year never fetched: the message names what is missing
    let o = rsei(&["compute", "-q", "--stac", &url, "--offline", "--cache-dir", cache.to_str().unwrap(), "--out", tmp.path().join("x").to_str().unwrap(), "--area", city, "--years", "2018", "--window", "0:0"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("offline") && text(&o).contains("2018-06-01"), "{}", text(&o));
}

#[test]
fn search_lists_items_and_names_a_wrong_collection() {
    let tmp = TempDir::new("stac-search");
    let demo = rsei_pipeline::demo::archive::generate_years(&tmp.path().join("demo"), 7, 2019, 2019).unwrap();
    let served = tmp.path().join("served");
    item_collection(&demo.modis_dir, &served);
    let srv = TestServer::start(&served).unwrap();
    let url = format!("{}/items.json", srv.base());
    let cache = tmp.path().join("cache");
    let args = ["search", "-q", "--stac", &url, "--cache-dir", cache.to_str().unwrap(), "--area", demo.city.to_str().unwrap(), "--years", "2019", "--window", "0:0"];
    let o = rsei(&args);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("MOD09A1.A2019153.h26v05") && out.contains("9/9 COG") && out.contains("modis-11A2-061"), "{out}");
    // June 1 (DOY 152) .. Sept 30 (273): the demo's DOY 145 and 281 composites are outside
    assert!(!out.contains(".A2019145.") && !out.contains(".A2019281."), "{out}");
    let o = rsei(&[&args[..], &["--json"][..]].concat());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["product"]["platform"] == "Terra"));
    let o = rsei(&[&args[..], &["--collection", "modis-09A1-06"][..]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("modis-09A1-06") && text(&o).contains("modis-09A1-061"), "{}", text(&o));
}
