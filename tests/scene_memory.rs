//! Scene runs (Landsat C2 L2, made here and labelled SYNTHETIC) under a memory budget too small
//! for a year: the layers go through temporary files and the model and outputs are computed in
//! strips, giving the same bytes as the run in memory, per year and with a pooled PCA.

use std::path::Path;

use rsei_core::Grid;

mod common;
mod synthetic_scenes;
use common::*;
use synthetic_scenes as syn;

fn grid() -> Grid {
    syn::scene_grid(440_010.0, 4_400_010.0, 30.0, syn::ROWS, syn::COLS)
}

fn run(data: &Path, area: &Path, out: &Path, extra: &[&str]) -> String {
    // 5 m cells (the 30 m scenes' cells cut in 36): 0.75 M cells, whose year is more than half
    // of the smallest budget (64 MiB at about 100 bytes a cell)
    let mut a = vec![
        "compute", "--data", data.to_str().unwrap(), "--area", area.to_str().unwrap(), "--out", out.to_str().unwrap(), "--years", "2019,2020", "--window", "0:0", "--crs", "EPSG:32650",
        "--resolution", "5",
    ];
    a.extend_from_slice(extra);
    let o = rsei(&a);
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

fn assert_same(a: &Path, b: &Path) {
    let (fa, fb) = (file_bytes(a), file_bytes(b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>(), "the same files");
    assert!(fa.keys().any(|k| k.ends_with("2020/rsei.tif")), "{:?}", fa.keys());
    for (k, v) in &fa {
        if k.extension().is_some_and(|e| e == "json") {
            // manifests name their inputs by path: the folders' own names aside
            let (ta, tb) = (String::from_utf8_lossy(v).replace(a.to_str().unwrap(), "OUT"), String::from_utf8_lossy(&fb[k]).replace(b.to_str().unwrap(), "OUT"));
            let d: Vec<(&str, &str)> = ta.lines().zip(tb.lines()).filter(|(x, y)| x != y).take(5).collect();
            assert!(ta == tb, "{} differs between the run in memory and the run in strips: {d:?}", k.display());
            continue;
        }
        assert!(v == &fb[k], "{} differs between the run in memory and the run in strips", k.display());
    }
    // no temporary folder is left behind
    assert!(!fb.keys().any(|k| k.to_string_lossy().contains(".pass1-")), "{:?}", fb.keys());
}

#[test]
fn a_scene_run_in_strips_under_a_small_budget_equals_the_run_in_memory() {
    let t = TempDir::new("scene-memory");
    let data = t.path().join("data");
    let g = grid();
    syn::write_two_years_l8(&data, &g);
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 8, 8, 152, 152);

    // one model per year
    let (mem, strips) = (t.path().join("mem"), t.path().join("strips"));
    run(&data, &area, &mem, &["--quiet"]);
    let log = run(&data, &area, &strips, &["--memory", "64MiB"]);
    assert!(log.contains("in strips"), "the small budget puts the years in strips: {log}");
    assert_same(&mem, &strips);

    // one pooled model over both years: the same model in both summaries, and the same bytes
    let (pmem, pstrips) = (t.path().join("pooled-mem"), t.path().join("pooled-strips"));
    run(&data, &area, &pmem, &["--quiet", "--pooled"]);
    run(&data, &area, &pstrips, &["--quiet", "--pooled", "--memory", "64MiB"]);
    assert_same(&pmem, &pstrips);
    let s19 = json(&pmem.join("Scene_Town/2019/summary.json"));
    let s20 = json(&pmem.join("Scene_Town/2020/summary.json"));
    assert_eq!(s19["model"]["pc1"], s20["model"]["pc1"], "one pooled PCA");
    assert_eq!(s19["rsei0_range"], s20["rsei0_range"]);
    let y19 = json(&mem.join("Scene_Town/2019/summary.json"));
    assert_ne!(y19["model"]["pc1"], s19["model"]["pc1"], "the pooled model is not the model of 2019 alone");
    assert!(pmem.join("pooled_drift.csv").exists() || file_bytes(&pmem).keys().any(|k| k.to_string_lossy().contains("drift")), "the pooled run reports the loading drift");
}
