//! A STAC catalogue on a loopback server, with the real MOD09A1 granule of `../shared/data` as
//! per-layer COGs made at test time (GDAL's COG driver): windows fetched over HTTP decode to the
//! same values as the local HDF; pagination, retries, truncation, SAS token expiry, a wrong
//! collection, an empty search, a missing asset and offline runs.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rsei_core::Bounds;
use rsei_io::products::Layer;
use rsei_io::{LayerReader, LayerSource};
use rsei_stac::fetch::NoProgress;
use rsei_stac::search::SearchParams;
use rsei_stac::testing::{Reply, TestServer};
use rsei_stac::time::{days_from_civil, format_rfc3339, now_unix};
use rsei_stac::{Catalogue, CatalogueOptions, SignMode, StacError};

const HDF: &str = "MOD09A1.A2017193.h18v04.006.2017202035302.hdf";
const ID: &str = "MOD09A1.A2017193.h18v04.006.2017202035302";
const GRID: &str = "MOD_Grid_500m_Surface_Reflectance_463";

fn shared_hdf() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/modis").join(HDF);
    p.is_file().then_some(p)
}

fn layers() -> Vec<(Layer, &'static str)> {
    let mut v: Vec<(Layer, &'static str)> = (1..=7u8).map(|b| (Layer::reflectance_band(b).unwrap(), ["", "sur_refl_b01", "sur_refl_b02", "sur_refl_b03", "sur_refl_b04", "sur_refl_b05", "sur_refl_b06", "sur_refl_b07"][b as usize])).collect();
    v.push((Layer::SurReflQc, "sur_refl_qc_500m"));
    v.push((Layer::SurReflState, "sur_refl_state_500m"));
    v
}

/// The served folder, made once per test process: fixtures + COGs converted from the real HDF.
fn served() -> Option<&'static Path> {
    static DIR: OnceLock<Option<tempfile::TempDir>> = OnceLock::new();
    DIR.get_or_init(|| {
        let hdf = shared_hdf()?;
        let d = tempfile::tempdir().unwrap();
        let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/static");
        for rel in ["catalog.json", "modis-09A1-061/collection.json", &format!("modis-09A1-061/{ID}.json")] {
            let to = d.path().join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(fx.join(rel), &to).unwrap();
        }
        let cogs = d.path().join("acct/cont/MOD09A1");
        std::fs::create_dir_all(&cogs).unwrap();
        std::fs::copy(&hdf, cogs.join(HDF)).unwrap();
        for (_, key) in layers() {
            let src = format!("HDF4_EOS:EOS_GRID:\"{}\":{GRID}:{key}", hdf.display());
            let out = cogs.join(format!("{ID}_{key}.tif"));
            let st = std::process::Command::new("gdal_translate")
                .args(["-q", "-of", "COG", "-co", "BLOCKSIZE=32", "-co", "COMPRESS=DEFLATE", &src])
                .arg(&out)
                .status()
                .expect("gdal_translate (gdal-bin) is needed by this test");
            assert!(st.success(), "converting {key} to a COG");
        }
        Some(d)
    })
    .as_ref()
    .map(|d| d.path())
}

macro_rules! need_data {
    () => {
        match served() {
            Some(p) => p,
            None => {
                eprintln!("SKIPPED: ../shared/data/modis/{HDF} not found");
                return;
            }
        }
    };
}

/// A box well inside the granule (sinusoidal metres).
fn bounds() -> Bounds {
    Bounds::new(757_000.0, 5_112_000.0, 770_000.0, 5_127_000.0)
}

fn params(collection: &str) -> SearchParams {
    SearchParams {
        collections: vec![collection.into()],
        bbox: Some([9.8, 45.9, 10.1, 46.1]),
        intersects: None,
        intervals: vec![(days_from_civil(2017, 6, 1), days_from_civil(2017, 9, 30))],
        limit: 1,
        max_pages: 100,
        query: None,
    }
}

fn catalogue(url: &str, cache: &Path, f: impl FnOnce(&mut CatalogueOptions)) -> Catalogue {
    let mut o = CatalogueOptions { url: url.into(), cache_dir: Some(cache.into()), max_retries: 2, retry_delay_ms: 50, timeout_s: 20, workers: 3, ..CatalogueOptions::default() };
    f(&mut o);
    Catalogue::new(o, cache.join("unused")).unwrap()
}

fn required(it: &rsei_stac::Item) -> Vec<Layer> {
    it.product.kind.required_layers().to_vec()
}

/// Every layer of the fetched granule equals the same cells of the local HDF, bit for bit.
fn assert_same_as_local(g: &rsei_io::scan::Granule) {
    let hdf = shared_hdf().unwrap();
    for (layer, key) in layers() {
        let local = LayerReader::open(&LayerSource::from_file(&hdf, Some(layer)).unwrap()).unwrap();
        let remote = LayerReader::open(g.layer(layer).unwrap()).unwrap();
        let (lt, rt) = (local.grid().transform(), remote.grid().transform());
        let c0 = ((rt.x0 - lt.x0) / lt.dx).round() as usize;
        let r0 = ((rt.y0 - lt.y0) / lt.dy).round() as usize;
        let (rows, cols) = remote.grid().shape();
        assert!(rows > 10 && cols > 10 && rows < local.grid().rows(), "{key}: window {rows}×{cols}");
        let w = rsei_core::Window::new(r0, c0, rows, cols);
        let all = rsei_core::Window::new(0, 0, rows, cols);
        if local.spec().is_qa() {
            assert_eq!(local.read_raw_u32(w).unwrap(), remote.read_raw_u32(all).unwrap(), "{key}");
        } else {
            let a: Vec<u32> = local.read_f32(w).unwrap().iter().map(|v| v.to_bits()).collect();
            let b: Vec<u32> = remote.read_f32(all).unwrap().iter().map(|v| v.to_bits()).collect();
            assert_eq!(a, b, "{key}");
        }
    }
}

#[test]
fn static_catalogue_windows_equal_the_local_granule_then_offline() {
    let root = need_data!();
    let srv = TestServer::start(root).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cat = catalogue(&format!("{}/catalog.json", srv.base()), cache.path(), |_| {});
    let items = cat.search(&params("modis-09A1-061"), &|_| {}).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, ID);
    let (gs, notes, st) = cat.fetcher().granules(&items, &required, &bounds(), &NoProgress).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!((gs.len(), st.fetched, st.from_cache), (1, 9, 0));
    assert_same_as_local(&gs[0]);
    // only the window was read: fewer bytes than the COGs
    let cog_bytes: u64 = layers().iter().map(|(_, k)| std::fs::metadata(root.join(format!("acct/cont/MOD09A1/{ID}_{k}.tif"))).unwrap().len()).sum();
    assert!(st.bytes_fetched > 0 && st.bytes_fetched < cog_bytes, "{} of {cog_bytes}", st.bytes_fetched);
    // second run: from the cache (a HEAD per asset, no range read)
    let gets_before = srv.count("GET", ".tif");
    let cat2 = catalogue(&format!("{}/catalog.json", srv.base()), cache.path(), |_| {});
    let items2 = cat2.search(&params("modis-09A1-061"), &|_| {}).unwrap();
    let f2 = cat2.fetcher().fetch(&items2, &required, &bounds(), &NoProgress).unwrap();
    assert_eq!((f2.stats.fetched, f2.stats.from_cache), (0, 9));
    assert_eq!(srv.count("GET", ".tif"), gets_before);
    // each file holds a known version of its asset: the server's ETag and size
    assert_eq!(f2.versions.len(), 9);
    for (path, v) in &f2.versions {
        assert!(f2.granules[0].files.contains(path));
        assert_eq!(v.item, ID);
        let served = root.join(format!("acct/cont/MOD09A1/{ID}_{}.tif", v.asset));
        assert_eq!(v.size, Some(std::fs::metadata(&served).unwrap().len()), "{}", v.asset);
        assert!(v.etag.as_deref().is_some_and(|e| e.contains(&v.size.unwrap().to_string())), "{v:?}");
        assert!(v.href.starts_with(&srv.base()) && v.href.ends_with(&format!("{}.tif", v.asset)), "{v:?}");
    }
    // a check before a run: the cached search answers without a request
    let searches = srv.log().len();
    let (items_c, from_cache) = cat2.search_prefer_cache(&params("modis-09A1-061"), &|_| {}).unwrap();
    assert!(from_cache && items_c == items2);
    assert_eq!(srv.log().len(), searches);
    // offline, with the server gone
    let base = srv.base();
    drop(srv);
    let off = catalogue(&format!("{base}/catalog.json"), cache.path(), |o| o.offline = true);
    let items3 = off.search(&params("modis-09A1-061"), &|_| {}).unwrap();
    assert!(off.fetcher().missing_offline(&items3, &required, &bounds()).unwrap().is_empty());
    let f3 = off.fetcher().fetch(&items3, &required, &bounds(), &NoProgress).unwrap();
    assert_eq!(f3.stats.from_cache, 9);
    assert_same_as_local(&f3.granules[0]);
    // offline, the cache tells the versions it holds: the same as online
    let mut v2: Vec<_> = f2.versions.values().cloned().collect();
    let mut v3: Vec<_> = f3.versions.values().cloned().collect();
    v2.sort();
    v3.sort();
    assert_eq!(v2, v3);
    // offline with a window never fetched: the error names the asset and the cache
    let other = Bounds::new(754_000.0, 5_102_000.0, 770_000.0, 5_127_000.0);
    let missing = off.fetcher().missing_offline(&items3, &required, &other).unwrap();
    assert_eq!(missing.len(), 9, "{missing:?}");
    assert!(missing[0].contains(ID), "{missing:?}");
    let e = off.fetcher().granules(&items3, &required, &other, &NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, StacError::NotCached { .. }) && msg.contains("sur_refl_b0") && msg.contains(ID) && msg.contains("--offline"), "{msg}");
    // offline, a search never made
    let mut p = params("modis-09A1-061");
    p.intervals = vec![(days_from_civil(2018, 6, 1), days_from_civil(2018, 9, 30))];
    let msg = off.search(&p, &|_| {}).unwrap_err().to_string();
    assert!(msg.contains("offline") && msg.contains("2018-06-01"), "{msg}");
}

/// A STAC API on the loopback server: `/api/collections/{id}`, `/api/search` answering one item
/// per page with `next` links alternating POST-body and GET-href styles.
fn api(srv: &TestServer, root: &Path, copies: usize) {
    let item: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join(format!("modis-09A1-061/{ID}.json"))).unwrap()).unwrap();
    srv.route("/api/collections", |r, _| {
        if r.path == "/api/collections/modis-09A1-061" {
            Some(Reply::json(&serde_json::json!({"id": "modis-09A1-061", "type": "Collection"})))
        } else if r.path == "/api/collections" {
            Some(Reply::json(&serde_json::json!({"collections": [{"id": "modis-09A1-061"}]})))
        } else {
            Some(Reply::status(404, "{\"detail\": \"collection not found\"}"))
        }
    });
    srv.route("/api/search", move |r, base| {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        if body.get("datetime").and_then(|d| d.as_str()).is_some_and(|d| !d.starts_with("2017")) {
            return Some(Reply::json(&serde_json::json!({"type": "FeatureCollection", "features": [], "links": []})));
        }
        // page number from the POST body token or the GET query
        let page: usize = body.get("token").and_then(|t| t.as_str()).or_else(|| r.query.strip_prefix("page=")).and_then(|t| t.parse().ok()).unwrap_or(0);
        let text = serde_json::to_string(&item).unwrap().replace("{{BASE}}", base);
        let mut it: serde_json::Value = serde_json::from_str(&text).unwrap();
        // copies 1.. are other dates of the same granule (distinct ids), so each page brings a new item
        if page > 0 {
            it["id"] = serde_json::json!(format!("MOD09A1.A2017{:03}.h18v04.006.2017202035302", 193 + 8 * page));
            it["properties"]["start_datetime"] = serde_json::json!(format_rfc3339((days_from_civil(2017, 7, 12) + 8 * page as i64) * 86_400));
        }
        let mut links = vec![];
        if page + 1 < copies {
            links.push(if page % 2 == 0 {
                serde_json::json!({"rel": "next", "href": format!("{base}/api/search"), "method": "POST", "body": {"token": (page + 1).to_string()}, "merge": true})
            } else {
                serde_json::json!({"rel": "next", "href": format!("{base}/api/search?page={}", page + 1), "method": "GET"})
            });
        }
        Some(Reply::json(&serde_json::json!({"type": "FeatureCollection", "features": [it], "links": links})))
    });
}

#[test]
fn api_pages_follow_post_and_get_next_links() {
    let root = need_data!();
    let srv = TestServer::start(root).unwrap();
    api(&srv, root, 4);
    let cache = tempfile::tempdir().unwrap();
    let cat = catalogue(&format!("{}/api", srv.base()), cache.path(), |_| {});
    let pages = AtomicUsize::new(0);
    let items = cat.search(&params("modis-09A1-061"), &|_| {
        pages.fetch_add(1, Ordering::Relaxed);
    }).unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(pages.load(Ordering::Relaxed), 4);
    assert_eq!(srv.count("POST", "/api/search"), 3, "first page and the POST-style next links");
    assert_eq!(srv.count("GET", "/api/search?page="), 1, "the GET-style next link");
    let doys: Vec<u16> = items.iter().map(|i| i.date.doy).collect();
    assert_eq!(doys, [193, 201, 209, 217]);
}

#[test]
fn wrong_collection_and_empty_search_are_named() {
    let root = need_data!();
    let srv = TestServer::start(root).unwrap();
    api(&srv, root, 1);
    let cache = tempfile::tempdir().unwrap();
    let cat = catalogue(&format!("{}/api", srv.base()), cache.path(), |_| {});
    let e = cat.search(&params("modis-09A1-06"), &|_| {}).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, StacError::UnknownCollection { .. }) && msg.contains("modis-09A1-06") && msg.contains("it has: modis-09A1-061"), "{msg}");
    // the static catalogue says the same
    let st = catalogue(&format!("{}/catalog.json", srv.base()), cache.path(), |_| {});
    let msg = st.search(&params("modis-13A1-061"), &|_| {}).unwrap_err().to_string();
    assert!(msg.contains("modis-13A1-061") && msg.contains("modis-09A1-061"), "{msg}");
    // nothing in 2019
    let mut p = params("modis-09A1-061");
    p.intervals = vec![(days_from_civil(2019, 6, 1), days_from_civil(2019, 9, 30))];
    let e = cat.search(&p, &|_| {}).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, StacError::EmptySearch { .. }) && msg.contains("2019-06-01..2019-09-30") && msg.contains("modis-09A1-061"), "{msg}");
}

#[test]
fn a_500_is_retried_and_a_truncated_asset_is_named() {
    let root = need_data!();
    let srv = TestServer::start(root).unwrap();
    let cache = tempfile::tempdir().unwrap();
    // the search page and the first asset request fail once with 500, then succeed
    srv.fail_next("catalog.json", 1, 500);
    srv.fail_next("sur_refl_b01.tif", 1, 500);
    let cat = catalogue(&format!("{}/catalog.json", srv.base()), cache.path(), |o| o.workers = 1);
    let items = cat.search(&params("modis-09A1-061"), &|_| {}).unwrap();
    let (gs, _, st) = cat.fetcher().granules(&items, &required, &bounds(), &NoProgress).unwrap();
    assert_eq!(st.fetched, 9);
    assert_same_as_local(&gs[0]);
    assert_eq!(srv.count("GET", "catalog.json"), 2);
    assert!(srv.count("HEAD", "sur_refl_b01.tif") >= 2);
    // a search answer cut short of its length: retried, then an error naming the URL
    srv.truncate("catalog.json");
    let cache1 = tempfile::tempdir().unwrap();
    let cat = catalogue(&format!("{}/catalog.json", srv.base()), cache1.path(), |o| o.max_retries = 1);
    let msg = cat.search(&params("modis-09A1-061"), &|_| {}).unwrap_err().to_string();
    assert!(msg.contains("catalog.json") && msg.contains("truncated"), "{msg}");
    // a truncated asset (its tiles past the cut missing): the error names the asset, the item and the URL
    let srv = TestServer::start(root).unwrap();
    let cache2 = tempfile::tempdir().unwrap();
    srv.truncate_file("sur_refl_b03.tif");
    let cat = catalogue(&format!("{}/catalog.json", srv.base()), cache2.path(), |o| o.max_retries = 1);
    let items = cat.search(&params("modis-09A1-061"), &|_| {}).unwrap();
    let e = cat.fetcher().granules(&items, &required, &bounds(), &NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, StacError::Asset { .. }), "{msg}");
    assert!(msg.contains("\"sur_refl_b03\"") && msg.contains(ID) && msg.contains("sur_refl_b03.tif"), "{msg}");
}

#[test]
fn missing_asset_key_is_named() {
    let root = need_data!();
    let d = tempfile::tempdir().unwrap();
    let mut item: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join(format!("modis-09A1-061/{ID}.json"))).unwrap()).unwrap();
    let assets = item["assets"].as_object_mut().unwrap();
    assets.remove("sur_refl_state_500m");
    assets.remove("hdf");
    let p = d.path().join("items.json");
    std::fs::write(&p, serde_json::to_vec(&serde_json::json!({"type": "FeatureCollection", "features": [item]})).unwrap()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cat = catalogue(p.to_str().unwrap(), cache.path(), |_| {});
    let items = cat.search(&params("modis-09A1-061"), &|_| {}).unwrap();
    let e = cat.fetcher().granules(&items, &required, &bounds(), &NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, StacError::MissingAsset { .. }), "{msg}");
    assert!(msg.contains("\"sur_refl_state_500m\"") && msg.contains(ID) && msg.contains("sur_refl_b01"), "{msg}");
}

#[test]
fn hdf_only_items_are_read_whole() {
    let root = need_data!();
    let srv = TestServer::start(root).unwrap();
    let d = tempfile::tempdir().unwrap();
    let mut item: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(format!("modis-09A1-061/{ID}.json"))).unwrap().replace("{{BASE}}", &srv.base())).unwrap();
    let hdf = item["assets"]["hdf"].clone();
    item["assets"] = serde_json::json!({"data": hdf});
    let p = d.path().join("items.json");
    std::fs::write(&p, serde_json::to_vec(&serde_json::json!({"type": "FeatureCollection", "features": [item]})).unwrap()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cat = catalogue(p.to_str().unwrap(), cache.path(), |_| {});
    let items = cat.search(&params("modis-09A1-061"), &|_| {}).unwrap();
    let (gs, _, st) = cat.fetcher().granules(&items, &required, &bounds(), &NoProgress).unwrap();
    assert_eq!((gs.len(), st.fetched), (1, 1));
    assert_eq!(gs[0].layers.len(), 9, "every registry layer of the granule");
    assert_eq!(std::fs::read(&gs[0].files[0]).unwrap(), std::fs::read(shared_hdf().unwrap()).unwrap());
}

#[test]
fn sas_tokens_are_refreshed_on_expiry_and_on_refusal() {
    let root = need_data!();
    let srv = TestServer::start(root).unwrap();
    // token endpoint: token N is valid for 2 s; storage accepts only unexpired, unrevoked tokens
    let issued: Arc<Mutex<Vec<(String, i64)>>> = Arc::new(Mutex::new(Vec::new()));
    let revoked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let iss = issued.clone();
    srv.route("/sas/token/acct/cont", move |_, _| {
        let mut v = iss.lock().unwrap();
        let tok = format!("st=x&se=y&sig=token{}", v.len());
        let exp = now_unix() + 2;
        v.push((tok.clone(), exp));
        Some(Reply::json(&serde_json::json!({"token": tok, "msft:expiry": format_rfc3339(exp)})))
    });
    let (iss, rev) = (issued.clone(), revoked.clone());
    srv.guard("/acct/cont/", move |r| {
        let sig = r.query.split('&').find_map(|kv| kv.strip_prefix("sig=")).map(str::to_string);
        let ok = sig.as_ref().is_some_and(|s| {
            let v = iss.lock().unwrap();
            v.iter().any(|(t, e)| t.ends_with(&format!("sig={s}")) && *e >= now_unix()) && !rev.lock().unwrap().contains(s)
        });
        (!ok).then(|| Reply::status(403, "AuthenticationFailed: Signature not valid in the specified time frame"))
    });
    let cache = tempfile::tempdir().unwrap();
    let tok_url = format!("{}/sas/token", srv.base());
    let mk = |c: &Path| catalogue(&format!("{}/catalog.json", srv.base()), c, |o| {
        o.sign = SignMode::PlanetaryComputer;
        o.token_endpoint = tok_url.clone();
        o.workers = 1;
    });
    let cat = mk(cache.path());
    let cat = Catalogue { signer: rsei_stac::sign::Signer::planetary_computer(&tok_url).with_refresh_margin(0), ..cat };
    let items = cat.search(&params("modis-09A1-061"), &|_| {}).unwrap();
    let (gs, _, _) = cat.fetcher().granules(&items, &required, &bounds(), &NoProgress).unwrap();
    assert_same_as_local(&gs[0]);
    assert_eq!(cat.signer.tokens_fetched(), 1, "one token for the whole fetch");
    // the token expires: the next use fetches a new one
    std::thread::sleep(Duration::from_millis(3100));
    let cache2 = tempfile::tempdir().unwrap();
    let cat2 = Catalogue { signer: cat.signer, ..mk(cache2.path()) };
    let (gs2, _, _) = cat2.fetcher().granules(&items, &required, &bounds(), &NoProgress).unwrap();
    assert_same_as_local(&gs2[0]);
    assert_eq!(cat2.signer.tokens_fetched(), 2, "refreshed after expiry");
    // storage refuses a token that has not expired yet (revoked): refreshed at once
    let current = issued.lock().unwrap().last().unwrap().0.rsplit("sig=").next().unwrap().to_string();
    revoked.lock().unwrap().push(current);
    let cache3 = tempfile::tempdir().unwrap();
    let cat3 = Catalogue { signer: cat2.signer, ..mk(cache3.path()) };
    let (gs3, _, _) = cat3.fetcher().granules(&items, &required, &bounds(), &NoProgress).unwrap();
    assert_same_as_local(&gs3[0]);
    assert_eq!(cat3.signer.tokens_fetched(), 3, "refreshed after a 403");
    // signatures never reach the cache index
    let index = std::fs::read_to_string(cache3.path().join("index.json")).unwrap();
    assert!(!index.contains("sig="), "{index}");
}
