//! Studies of Landsat Collection 2 Level-2 scenes (`[data] scenes`; the scenes are made here
//! and labelled SYNTHETIC): `rsei run` gives the rasters of `rsei compute`, reuses what is done,
//! recomputes only the year whose scene changed, and `rsei validate` names what is wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rsei_core::Grid;

mod common;
mod synthetic_scenes;
use common::*;
use synthetic_scenes as syn;

fn grid() -> Grid {
    syn::scene_grid(440_010.0, 4_400_010.0, 30.0, syn::ROWS, syn::COLS)
}

fn study(output: &str, area: &Path, data: &str, extra: &str) -> String {
    format!(
        r#"[study]
name = "scene study"
output = "{output}"
years = "2019-2020"

{data}

[[area]]
file = "{}"

[rsei.composite]
years_before = 0
years_after = 0

[rsei.output]
overviews = false
{extra}
"#,
        area.display()
    )
}

/// The rasters and summaries of the year folders of an output, by relative path.
fn year_files(out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    for year in ["2019", "2020"] {
        let d = out.join("Scene_Town").join(year);
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.ends_with(".tif") || n == "summary.json" {
                m.insert(PathBuf::from(year).join(&n), std::fs::read(e.path()).unwrap());
            }
        }
    }
    m
}

fn setup(t: &TempDir) -> (PathBuf, PathBuf) {
    let data = t.path().join("scenes");
    let g = grid();
    syn::write_two_years_l8(&data, &g);
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 8, 8, 152, 152);
    (data, area)
}

#[test]
fn a_study_of_scenes_equals_compute_reuses_its_units_and_recomputes_a_changed_year() {
    let t = TempDir::new("study-scenes");
    let (data, area) = setup(&t);
    let file = t.path().join("study.toml");
    std::fs::write(&file, study("out", &area, "[data]\nscenes = \"scenes\"", "[change]\n")).unwrap();
    let o = rsei(&["run", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(computed(&text(&o)), vec!["Scene Town 2019 RSEI", "Scene Town 2020 RSEI", "Scene Town change", "run-level tables"], "{}", text(&o));
    let out = t.path().join("out");
    let s = json(&out.join("Scene_Town/2020/summary.json"));
    assert_eq!(s["sensor"]["profiles"], serde_json::json!(["landsat-oli-c2l2"]));
    assert_eq!(s["sensor"]["scenes"], 1);
    let m = json(&out.join("Scene_Town/2019/manifest.json"));
    assert!(m.to_string().contains("_QA_PIXEL.TIF"), "the manifest lists the scene files");
    assert!(out.join("pca_table.csv").is_file() && out.join("report.html").is_file());

    // the same rasters as `rsei compute` of the same scenes and options
    let cout = t.path().join("compute");
    let o = rsei(&["--quiet", "compute", "--data", data.to_str().unwrap(), "--area", area.to_str().unwrap(), "--out", cout.to_str().unwrap(), "--years", "2019,2020", "--window", "0:0", "--no-overviews"]);
    assert!(o.status.success(), "{}", text(&o));
    let (a, b) = (year_files(&out), year_files(&cout));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a.len() > 10, "{:?}", a.keys());
    for (k, v) in &a {
        assert!(v == &b[k], "{} differs between `rsei run` and `rsei compute`", k.display());
    }

    // run again: everything is reused
    let o = rsei(&["run", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(computed(&text(&o)).is_empty(), "{}", text(&o));

    // a scene of 2020 is replaced by another acquisition: only 2020 and what reads it are recomputed
    let old = std::fs::read_dir(&data).unwrap().flatten().map(|e| e.path()).find(|p| p.to_string_lossy().contains("20200712")).unwrap();
    std::fs::remove_dir_all(&old).unwrap();
    syn::write_landsat(&data, &grid(), &syn::LandsatSpec::l8("2020-07-12", (20, 20, 40, 40), (60, 60, 70, 70)));
    let o = rsei(&["run", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(computed(&text(&o)), vec!["Scene Town 2020 RSEI", "Scene Town change", "run-level tables"], "{}", text(&o));
    assert!(text(&o).contains("reuse    Scene Town 2019 RSEI"), "{}", text(&o));
}

/// `rsei validate` of a study with this `[data]`: the report (the validation fails).
fn refused(dir: &Path, name: &str, area: &Path, data: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, study("out", area, data, "")).unwrap();
    let o = rsei(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    text(&o)
}

#[test]
fn scene_studies_with_bad_data_are_refused_naming_the_problem() {
    let t = TempDir::new("study-scenes-bad");
    let (_, area) = setup(&t);
    let r = refused(t.path(), "missing.toml", &area, "[data]\nscenes = \"nowhere\"");
    assert!(r.contains("scene folder") && r.contains("nowhere") && r.contains("does not exist"), "{r}");
    let r = refused(t.path(), "heat.toml", &area, "[data]\nscenes = \"scenes\"\ns2_heat = \"thermal\"");
    assert!(r.contains("s2_heat") && r.contains("thermal"), "{r}");
    let r = refused(t.path(), "stac.toml", &area, "[data]\nscenes = \"scenes\"\n[data.stac]\nurl = \"catalog.json\"");
    assert!(r.contains("[data.stac]") && r.contains("scenes"), "{r}");
    // a year without a scene in its window is named with the area
    let p = t.path().join("years.toml");
    std::fs::write(&p, study("out", &area, "[data]\nscenes = \"scenes\"", "").replace("years = \"2019-2020\"", "years = \"2019-2021\"")).unwrap();
    let o = rsei(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no scene for 2021") && text(&o).contains("Scene Town"), "{}", text(&o));
    // a folder with no usable scene: the products left out are listed
    let empty = t.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let r = refused(t.path(), "empty.toml", &area, "[data]\nscenes = \"empty\"");
    assert!(r.contains("no usable Landsat"), "{r}");
}
