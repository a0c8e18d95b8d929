//! RSEI from a STAC catalogue equals RSEI from the same files read locally, byte for byte.
//!
//! The synthetic demo archive (one season, both tiles) is served by a loopback server as a static
//! item collection of per-layer GeoTIFFs (Planetary Computer collection names and asset keys);
//! `rsei compute --stac` fetches the windows over HTTP into its cache and must write the same
//! rasters and tables as `rsei compute --data` on the folder; then again offline from the cache.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{computed, result_bytes, rsei, text, TempDir};
use rsei_stac::testing::TestServer;

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
    let a = result_bytes(&local);
    let b = result_bytes(&remote);
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
    assert_eq!(result_bytes(&offline), b);
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

// ---- studies with [data.stac]

/// Both demo cities, 2019 and 2020, composites of the target season only (the served archive has
/// seasons 2019 and 2020), RSEI only; `data` is the data table(s).
fn study(output: &str, city: &Path, data: &str) -> String {
    format!(
        r#"[study]
name = "stac study"
output = "{output}"
years = "2019-2020"

{data}

[[area]]
file = "{}"
name_field = "name_en"

[rsei.composite]
years_before = 0
years_after = 0

[rsei.output]
overviews = false
"#,
        city.display()
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A manifest without what may differ between a folder and a catalogue: the input lists and the
/// unit keys made from them.
fn manifest_without_inputs(p: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("inputs");
                m.remove("unit");
                m.remove("key");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = common::json(p);
    strip(&mut v);
    v
}

/// Every file under `dir` (but the run's state folder and manifests), and the manifests without
/// their inputs.
fn study_outputs(dir: &Path) -> (BTreeMap<PathBuf, Vec<u8>>, BTreeMap<PathBuf, serde_json::Value>) {
    let files = result_bytes(dir);
    let mut manifests = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
                stack.push(p);
            } else if e.file_name() == "manifest.json" {
                manifests.insert(p.strip_prefix(dir).unwrap().to_path_buf(), manifest_without_inputs(&p));
            }
        }
    }
    (files, manifests)
}

/// The same files with the same bytes (but `report.html`, whose data-provenance paragraph names
/// where the inputs are), and the same manifests but for their inputs.
fn assert_same(a: &(BTreeMap<PathBuf, Vec<u8>>, BTreeMap<PathBuf, serde_json::Value>), b: &(BTreeMap<PathBuf, Vec<u8>>, BTreeMap<PathBuf, serde_json::Value>)) {
    assert_eq!(a.0.keys().collect::<Vec<_>>(), b.0.keys().collect::<Vec<_>>());
    for (k, v) in &a.0 {
        assert!(&b.0[k] == v || k == Path::new("report.html"), "{} differs", k.display());
    }
    assert_eq!(a.1.keys().collect::<Vec<_>>(), b.1.keys().collect::<Vec<_>>());
    for (k, v) in &a.1 {
        assert_eq!(&b.1[k], v, "{} differs beyond its inputs", k.display());
    }
}

#[test]
fn a_study_from_stac_equals_the_study_from_the_folder_and_resumes_offline_and_on_a_changed_asset() {
    let tmp = TempDir::new("stac-study");
    let demo = rsei_pipeline::demo::archive::generate_years(&tmp.path().join("demo"), 42, 2019, 2020).unwrap();
    let served = tmp.path().join("served");
    item_collection(&demo.modis_dir, &served);
    let srv = TestServer::start(&served).unwrap();
    let url = format!("{}/items.json", srv.base());
    let modis = demo.modis_dir.display().to_string();
    let d = tmp.path();

    // the same study from the folder and from the catalogue
    let local = write(d, "local.toml", &study("out-local", &demo.city, &format!("[data]\nmodis = \"{modis}\"")));
    let o = rsei(&["run", "-q", local.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let stac_data = format!("[data.stac]\nurl = \"{url}\"\ncache_dir = \"cache\"");
    let remote = write(d, "stac.toml", &study("out-stac", &demo.city, &stac_data));
    let o = rsei(&["run", remote.to_str().unwrap()]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("from the cache, ") && log.contains(" fetched ("), "{log}");
    assert!(d.join("cache/index.json").is_file(), "the cache is beside the study file (cache_dir = \"cache\")");
    let want = study_outputs(&d.join("out-local"));
    assert!(want.0.keys().any(|k| k.ends_with("2020/rsei.tif")) && want.0.keys().any(|k| k.ends_with("pca_table.csv")), "{:?}", want.0.keys());
    assert_same(&want, &study_outputs(&d.join("out-stac")));
    // the report says where the inputs come from
    let report = std::fs::read_to_string(d.join("out-stac/report.html")).unwrap();
    assert!(report.contains("input files under") && report.contains(&format!("{}/acct/cont", srv.base())), "the report does not name the catalogue's assets");
    // the manifests name the asset version of each input
    let city_dir = std::fs::read_dir(d.join("out-stac")).unwrap().flatten().map(|e| e.path()).find(|p| p.join("2020/manifest.json").is_file()).unwrap();
    let m = common::json(&city_dir.join("2020/manifest.json"));
    let inputs = m["provenance"]["inputs"].as_array().unwrap();
    assert!(!inputs.is_empty() && inputs.iter().all(|i| i["stac"]["etag"].is_string() && i["stac"]["href"].as_str().unwrap().starts_with(&srv.base())), "{inputs:?}");

    // a rerun reuses every unit (one HEAD per asset, no window read)
    let gets = srv.count("GET", "/acct/cont/");
    let o = rsei(&["run", remote.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(computed(&text(&o)).is_empty(), "{}", text(&o));
    assert!(text(&o).contains("5 unit(s): 5 reused, 0 to compute"), "{}", text(&o));
    assert_eq!(srv.count("GET", "/acct/cont/"), gets);

    // offline: no request at all, every unit reused, the same bytes
    let requests = srv.log().len();
    let offline = write(d, "stac-offline.toml", &study("out-stac", &demo.city, &format!("{stac_data}\noffline = true")));
    let o = rsei(&["run", offline.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(computed(&text(&o)).is_empty(), "{}", text(&o));
    assert_eq!(srv.log().len(), requests, "an offline run made requests");
    assert_same(&want, &study_outputs(&d.join("out-stac")));
    // validate answers from the cache: no request either
    let o = rsei(&["validate", remote.to_str().unwrap()]);
    assert!(o.status.success() && text(&o).contains("search answered by the cache"), "{}", text(&o));
    assert_eq!(srv.log().len(), requests, "validate searched although the cache holds the answer");

    // a changed asset (new ETag): only the units that read it are computed again (an asset of
    // the 2020 season, July 3)
    let changed = std::fs::read_dir(served.join("acct/cont/MOD11A2")).unwrap().flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().contains(".A2020185.")).min().unwrap();
    let href = format!("{}/acct/cont/MOD11A2/{}", srv.base(), changed.file_name().unwrap().to_string_lossy());
    let mut readers = Vec::new();
    for e in std::fs::read_dir(d.join("out-stac")).unwrap().flatten() {
        for y in [2019, 2020] {
            let m = e.path().join(format!("{y}/manifest.json"));
            if m.is_file() && std::fs::read_to_string(&m).unwrap().contains(&href) {
                readers.push(format!("{} {y} RSEI", common::json(&e.path().join(format!("{y}/summary.json")))["area"].as_str().unwrap()));
            }
        }
    }
    assert!(!readers.is_empty() && readers.iter().all(|r| r.ends_with("2020 RSEI")), "{readers:?}");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&changed, std::fs::read(&changed).unwrap()).unwrap();
    let o = rsei(&["run", remote.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut expect = readers.clone();
    expect.push("run-level tables".into());
    expect.sort();
    assert_eq!(computed(&text(&o)), expect, "{}", text(&o));
    assert!(text(&o).contains("input files changed"), "{}", text(&o));
    assert_same(&want, &study_outputs(&d.join("out-stac")));

    // the catalogue gone: validate still answers from the cache; a run says it cannot reach it
    let base = srv.base();
    drop(srv);
    let o = rsei(&["validate", remote.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let gone = write(d, "stac-gone.toml", &study("out-stac", &demo.city, &format!("{stac_data}\nmax_retries = 1\nretry_delay_ms = 10")));
    let o = rsei(&["run", gone.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("cannot reach the catalogue") && text(&o).contains(&base) && text(&o).contains("stac-gone.toml:7:7:"), "{}", text(&o));
}

#[test]
fn a_study_with_folders_and_a_catalogue_fetches_only_what_the_folders_lack() {
    let tmp = TempDir::new("stac-study-both");
    let demo = rsei_pipeline::demo::archive::generate_years(&tmp.path().join("demo"), 42, 2019, 2020).unwrap();
    let served = tmp.path().join("served");
    item_collection(&demo.modis_dir, &served);
    let srv = TestServer::start(&served).unwrap();
    let d = tmp.path();
    // the folder holds MOD09A1 only
    let part = d.join("partial");
    common::copy_dir(&demo.modis_dir.join("MOD09A1"), &part.join("MOD09A1"));
    let local = write(d, "local.toml", &study("out-local", &demo.city, &format!("[data]\nmodis = \"{}\"", demo.modis_dir.display())));
    assert!(rsei(&["run", "-q", local.to_str().unwrap()]).status.success());
    let both = write(d, "both.toml", &study("out-both", &demo.city, &format!("[data]\nmodis = \"{}\"\n\n[data.stac]\nurl = \"{}/items.json\"", part.display(), srv.base())));
    let o = rsei(&["run", both.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("granules of the `modis` folders, read from there"), "{}", text(&o));
    // no MOD09A1 window was read from the catalogue
    assert_eq!(srv.count("GET", "/acct/cont/MOD09A1/"), 0);
    assert!(srv.count("GET", "/acct/cont/MOD11A2/") > 0);
    assert!(d.join(".rsei-cache/index.json").is_file(), "the default cache is beside the study file");
    assert_same(&study_outputs(&d.join("out-local")), &study_outputs(&d.join("out-both")));
}

/// `rsei validate` of a study whose [data] table is `data`: the report (the validation fails).
fn refused(dir: &Path, name: &str, city: &Path, data: &str) -> String {
    let p = write(dir, name, &study("out", city, data));
    let o = rsei(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!dir.join("out").exists());
    text(&o)
}

#[test]
fn bad_data_stac_keys_are_reported_with_their_line_and_column() {
    let tmp = TempDir::new("stac-study-keys");
    let demo = rsei_pipeline::demo::archive::generate_years(&tmp.path().join("demo"), 7, 2019, 2019).unwrap();
    let served = tmp.path().join("served");
    item_collection(&demo.modis_dir, &served);
    let srv = TestServer::start(&served).unwrap();
    let d = tmp.path();
    let city = &demo.city;
    // lines 6.. of the study: the [data] table
    let r = refused(d, "keys.toml", city, "[data.stac]\nurll = \"x\"\nworkers = \"many\"\nsign = \"planetary\"\ncache_limit_bytes = \"lots\"");
    assert!(r.contains("keys.toml:7:1: error: unknown key `urll` in [data.stac]; did you mean `url`?"), "{r}");
    assert!(r.contains("keys.toml:8:11: error: invalid value of `workers` in [data.stac]"), "{r}");
    assert!(r.contains("keys.toml:9:8: error: invalid value of `sign` in [data.stac]") && r.contains("planetary-computer"), "{r}");
    assert!(r.contains("keys.toml:10:21: error: invalid value of `cache_limit_bytes` in [data.stac]") && r.contains("not a size"), "{r}");
    assert!(r.contains("4 errors"), "{r}");
    // a key of [data] below the [data.stac] header
    let r = refused(d, "misplaced.toml", city, &format!("[data.stac]\nurl = \"{}/items.json\"\nlandcover = \"lc.tif\"", srv.base()));
    assert!(r.contains("misplaced.toml:8:1: error: unknown key `landcover` in [data.stac]: `landcover` belongs in [data]"), "{r}");
    // no url
    let r = refused(d, "nourl.toml", city, "[data.stac]\ncollections = [\"modis-09A1-061\"]");
    assert!(r.contains("nourl.toml:6:1: error: [data.stac] needs `url`"), "{r}");
    // a rule of the options, inline table
    let r = refused(d, "inline.toml", city, &format!("[data]\nstac = {{ url = \"{}/items.json\", page_limit = 0 }}", srv.base()));
    assert!(r.contains("inline.toml:7:") && r.contains("`page_limit` in [data.stac]") && r.contains("1..=10000"), "{r}");
    // a collection the catalogue lacks
    let r = refused(d, "coll.toml", city, &format!("[data.stac]\nurl = \"{}/items.json\"\ncollections = [\"modis-09A1-06\"]", srv.base()));
    assert!(r.contains("coll.toml:8:15: error: [data.stac]: collection \"modis-09A1-06\" is not in the catalogue") && r.contains("modis-09A1-061"), "{r}");
    // offline with an empty cache: names the key and what is missing
    let r = refused(d, "off.toml", city, &format!("[data.stac]\nurl = \"{}/items.json\"\noffline = true", srv.base()));
    assert!(r.contains("off.toml:8:11: error: offline: the search of") && r.contains("is not in the cache"), "{r}");
    // a local catalogue that does not exist, relative to the study file
    let r = refused(d, "path.toml", city, "[data.stac]\nurl = \"catalogues/items.json\"");
    assert!(r.contains("path.toml:7:7: error: STAC catalogue") && r.contains(&format!("{}/catalogues/items.json does not exist", d.display())), "{r}");
    // neither folders nor catalogue
    let r = refused(d, "none.toml", city, "[data]\nlandcover = \"x.tif\"");
    assert!(r.contains("[data] needs `modis`") && r.contains("[data.stac]"), "{r}");
    // a catalogue that cannot be reached
    let r = refused(d, "down.toml", city, "[data.stac]\nurl = \"http://127.0.0.1:9/api\"\nmax_retries = 0");
    assert!(r.contains("down.toml:7:7: error: cannot reach the catalogue http://127.0.0.1:9/api"), "{r}");
}

#[test]
fn the_study_documentation_names_every_key_of_data_stac() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/STUDY.md")).unwrap();
    let keys = serde_json::to_value(rsei_stac::CatalogueOptions::default()).unwrap();
    let missing: Vec<&String> = keys.as_object().unwrap().keys().filter(|k| !doc.contains(&format!("| `{k}` |"))).collect();
    assert!(missing.is_empty(), "docs/STUDY.md has no row for the [data.stac] key(s) {missing:?}");
}
