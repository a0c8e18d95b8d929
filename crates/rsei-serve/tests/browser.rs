//! The viewer in a real browser: headless Chromium (software WebGL) driven over the DevTools
//! protocol loads the page served on the demo results, moves the year slider with the keyboard,
//! clicks a cell, and checks the chart's values against the COGs read with GDAL; a screenshot is
//! saved as `$CARGO_TARGET_TMPDIR/serve-screenshot.png`.
//!
//! Needs Chromium (`apt-get install chromium`, as `scripts/setup-debian.sh` and CI do; another
//! binary with `RSEI_CHROMIUM=/path`). Without it the test fails saying so, unless
//! `RSEI_SKIP_BROWSER=1` is set (then it only prints that it skipped).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::cdp::{find_chromium, Browser};
use common::{cell_lonlat, cog_value, decode_png, demo_results};
use rsei_serve::{ServeOptions, Server};
use serde_json::Value;

const W: u32 = 1280;
const H: u32 = 900;
const WAIT: Duration = Duration::from_secs(90);

fn chromium_or_skip() -> Option<std::path::PathBuf> {
    match find_chromium() {
        Some(p) => Some(p),
        None if std::env::var("RSEI_SKIP_BROWSER").is_ok_and(|v| v == "1") => {
            eprintln!("browser test skipped: no Chromium and RSEI_SKIP_BROWSER=1");
            None
        }
        None => panic!(
            "the browser test needs Chromium: install it with `apt-get install chromium` (scripts/setup-debian.sh does), \
             or point RSEI_CHROMIUM at a Chromium/Chrome binary, or set RSEI_SKIP_BROWSER=1 to skip this test"
        ),
    }
}

/// A cell with RSEI and all four indicators in every year, near the middle of the area.
fn central_cell(area_dir: &std::path::Path, years: &[i64]) -> (usize, usize) {
    let files: Vec<std::path::PathBuf> = years
        .iter()
        .flat_map(|y| ["rsei.tif", "ndvi.tif", "wet.tif", "ndbsi.tif", "lst_celsius.tif"].map(|f| area_dir.join(y.to_string()).join(f)))
        .collect();
    let rasters: Vec<_> = files.iter().map(|p| rsei_io::plain::read_plain(p, 1).unwrap()).collect();
    let g = rsei_io::plain::raster_grid(&files[0]).unwrap();
    let (rows, cols) = (g.rows(), g.cols());
    let mut best = None;
    for r in 2..rows - 2 {
        for c in 2..cols - 2 {
            // the cell and its neighbours have values (a click a little off still lands inside)
            let ok = rasters.iter().all(|x| (r - 1..=r + 1).all(|rr| (c - 1..=c + 1).all(|cc| x.data()[rr * cols + cc].is_finite())));
            if ok {
                let d = (r as f64 - rows as f64 / 2.0).powi(2) + (c as f64 - cols as f64 / 2.0).powi(2);
                if best.map_or(true, |(bd, _)| d < bd) {
                    best = Some((d, (r, c)));
                }
            }
        }
    }
    best.expect("a cell with all values").1
}

fn tiles_loaded(b: &mut Browser, part: &str) -> usize {
    let js = format!("performance.getEntriesByType('resource').filter(e => e.name.includes({part:?}) && (e.responseStatus === undefined || e.responseStatus === 200)).length");
    b.eval(&js).unwrap().as_u64().unwrap_or(0) as usize
}

#[test]
fn viewer_in_chromium_slider_click_and_chart_values() {
    let Some(chromium) = chromium_or_skip() else { return };
    let results = demo_results();
    let server = Server::start(ServeOptions::new(results)).unwrap();
    let mut b = Browser::launch(&chromium, W, H).unwrap_or_else(|e| panic!("{e}"));
    b.navigate(&server.url()).unwrap();
    b.wait_for("document.body.dataset.state === 'ready' && window.rsei.ready()", WAIT).unwrap();
    let area: Value = b.eval("window.rsei.state.area").unwrap();
    let id = area["id"].as_str().unwrap().to_string();
    let years: Vec<i64> = area["years"].as_array().unwrap().iter().map(|y| y.as_i64().unwrap()).collect();
    assert!(years.len() >= 3, "{years:?}");
    assert_eq!(b.eval("document.body.dataset.year").unwrap(), Value::String(years[0].to_string()));
    assert!(tiles_loaded(&mut b, &format!("/tiles/{id}/rsei/{}/", years[0])) > 0, "no tile of the first year loaded");

    // the slider, moved with the keyboard as a person would: two steps right
    b.eval("document.getElementById('year').focus()").unwrap();
    b.key("ArrowRight", "ArrowRight", 39).unwrap();
    b.key("ArrowRight", "ArrowRight", 39).unwrap();
    let year = years[2];
    b.wait_for(&format!("document.body.dataset.year === '{year}'"), WAIT).unwrap();
    assert_eq!(b.eval("document.getElementById('year-label').textContent").unwrap(), Value::String(year.to_string()));
    b.wait_for("window.rsei.ready()", WAIT).unwrap();
    assert!(tiles_loaded(&mut b, &format!("/tiles/{id}/rsei/{year}/")) > 0, "moving the slider loaded no tile of {year}");

    // zoom onto a cell with values in every year, then click it
    let area_dir = results.join(&id);
    let (row, col) = central_cell(&area_dir, &years);
    let rsei_path = area_dir.join(year.to_string()).join("rsei.tif");
    let (lon, lat) = cell_lonlat(&rsei_path, row, col);
    b.eval(&format!("void window.rsei.mapA.jumpTo({{center: [{lon}, {lat}], zoom: 11}})")).unwrap();
    b.wait_for("window.rsei.ready()", WAIT).unwrap();
    let p: Value = b
        .eval(&format!(
            "(() => {{ const p = window.rsei.mapA.project([{lon}, {lat}]); const r = document.getElementById('map-a').getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }})()"
        ))
        .unwrap();
    let (x, y) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
    b.click(x, y).unwrap();
    b.wait_for("document.getElementById('chart').dataset.state === 'ready'", WAIT).unwrap();

    // the chart's values (as the page holds them) against the COGs, read here with GDAL
    let chart: Value = b.eval("Object.assign({}, document.getElementById('chart').dataset)").unwrap();
    let (clon, clat): (f64, f64) = (chart["lon"].as_str().unwrap().parse().unwrap(), chart["lat"].as_str().unwrap().parse().unwrap());
    let (crow, ccol): (usize, usize) = (chart["row"].as_str().unwrap().parse().unwrap(), chart["col"].as_str().unwrap().parse().unwrap());
    assert_eq!((crow, ccol), (row, col), "the click at ({x}, {y}) picked another cell than ({lon}, {lat})");
    let rows: Value = b
        .eval("[...document.querySelectorAll('#series-table tbody tr')].map(r => [r.dataset.layer, r.dataset.year, r.dataset.value])")
        .unwrap();
    let rows = rows.as_array().unwrap();
    let files = [("rsei", "rsei.tif"), ("ndvi", "ndvi.tif"), ("wet", "wet.tif"), ("ndbsi", "ndbsi.tif"), ("lst", "lst_celsius.tif")];
    assert_eq!(rows.len(), files.len() * years.len(), "{rows:?}");
    for (layer, file) in files {
        for &yr in &years {
            let r = rows.iter().find(|r| r[0] == layer && r[1] == yr.to_string().as_str()).unwrap_or_else(|| panic!("no {layer} {yr} in the chart"));
            let shown: f64 = r[2].as_str().unwrap().parse().unwrap_or_else(|_| panic!("{layer} {yr}: no value shown"));
            let (want, cell) = cog_value(&area_dir.join(yr.to_string()).join(file), clon, clat);
            assert_eq!(cell, (row, col));
            let want = want.unwrap_or_else(|| panic!("{layer} {yr}: nodata in the COG"));
            assert!((shown - want).abs() <= 1e-6 * want.abs().max(1.0), "{layer} {yr}: chart {shown}, COG {want}");
        }
    }
    // one chart per variable, one dot per value
    let charts = b.eval("document.querySelectorAll('#chart svg.series').length").unwrap();
    assert_eq!(charts.as_u64(), Some(files.len() as u64));
    let dots = b.eval("document.querySelectorAll('#chart svg.series circle').length").unwrap();
    assert_eq!(dots.as_u64(), Some((files.len() * years.len()) as u64));

    // compare with the last year by swiping
    b.eval("(() => { const s = document.getElementById('compare-mode'); s.value = 'swipe'; s.dispatchEvent(new Event('change')); })()").unwrap();
    let last = years[years.len() - 1];
    b.wait_for(&format!("performance.getEntriesByType('resource').some(e => e.name.includes('/tiles/{id}/rsei/{last}/'))"), WAIT).unwrap();
    b.wait_for("window.rsei.ready() && window.rsei.mapB.areTilesLoaded()", WAIT).unwrap();
    // drag the swipe handle to three quarters of the map's width
    let handle: Value = b.eval("(() => { const r = document.querySelector('#swipe span').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()").unwrap();
    let maps: Value = b.eval("(() => { const r = document.getElementById('maps').getBoundingClientRect(); return [r.left, r.width]; })()").unwrap();
    let (hx, hy) = (handle[0].as_f64().unwrap(), handle[1].as_f64().unwrap());
    let target = maps[0].as_f64().unwrap() + 0.75 * maps[1].as_f64().unwrap();
    b.drag((hx, hy), (target, hy), 8).unwrap();
    let clip = b.eval("document.getElementById('map-b').style.clipPath").unwrap();
    let inset: f64 = clip.as_str().unwrap().trim_start_matches("inset(0px 0px 0px ").trim_end_matches("px)").parse().unwrap_or_else(|_| panic!("clip {clip}"));
    assert!((inset - 0.75 * maps[1].as_f64().unwrap()).abs() < 3.0, "the swipe handle did not follow the drag: {clip}");

    // side by side: two maps of half the width, the same view
    b.eval("(() => { const s = document.getElementById('compare-mode'); s.value = 'side'; s.dispatchEvent(new Event('change')); })()").unwrap();
    b.wait_for("window.rsei.ready() && window.rsei.mapB.areTilesLoaded()", WAIT).unwrap();
    let side: Value = b
        .eval("(() => { const a = document.getElementById('map-a').getBoundingClientRect(), b = document.getElementById('map-b').getBoundingClientRect(); const ca = window.rsei.mapA.getCenter(), cb = window.rsei.mapB.getCenter(); return [a.width, b.width, b.left - a.left, Math.abs(ca.lng - cb.lng) + Math.abs(ca.lat - cb.lat)]; })()")
        .unwrap();
    let (wa, wb, off, dc) = (side[0].as_f64().unwrap(), side[1].as_f64().unwrap(), side[2].as_f64().unwrap(), side[3].as_f64().unwrap());
    assert!((wa - wb).abs() < 3.0 && (off - wa).abs() < 3.0 && dc < 1e-9, "side by side: {side}");
    b.eval("(() => { const s = document.getElementById('compare-mode'); s.value = 'swipe'; s.dispatchEvent(new Event('change')); })()").unwrap();
    b.wait_for("window.rsei.ready() && window.rsei.mapB.areTilesLoaded()", WAIT).unwrap();

    b.eval("void (document.getElementById('panel').scrollTop = document.getElementById('series-box').offsetTop - 8)").unwrap();
    let shot = b.screenshot().unwrap();
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-screenshot.png");
    std::fs::write(&path, &shot).unwrap();
    println!("screenshot: {}", path.display());
    eprintln!("screenshot: {}", path.display());
    // the map was drawn (WebGL): many pixels in the grade colours, far more than the legend's swatches
    let (w, h, rgba) = decode_png(&shot);
    assert_eq!((w, h), (W, H));
    let grades: [[u8; 3]; 5] = [[0xd7, 0x19, 0x1c], [0xfd, 0xae, 0x61], [0xff, 0xff, 0xbf], [0xa6, 0xd9, 0x6a], [0x1a, 0x96, 0x41]];
    let near = |p: &[u8], c: &[u8; 3]| (0..3).all(|k| (i32::from(p[k]) - i32::from(c[k])).abs() <= 24);
    let n = rgba.chunks(4).filter(|p| grades.iter().any(|c| near(p, c))).count();
    assert!(n > 20_000, "only {n} pixels in grade colours: the map was not drawn (console: {:?})", b.console);
    let errors: Vec<&String> = b.console.iter().filter(|m| m.starts_with("exception") || m.starts_with("console.error")).collect();
    assert!(errors.is_empty(), "errors in the page: {errors:?}");
    drop(b);
    server.stop().unwrap();
}
