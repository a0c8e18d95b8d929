//! Any input CRS: the synthetic MODIS archive copied to UTM (as AppEEARS exports or a reprojected
//! archive hold it) gives the same RSEI as the sinusoidal original, up to the one nearest-neighbour
//! resampling of the copy. The copy is made by the `gdalwarp` command line with each layer's fill
//! as nodata; the test is skipped with a message when `gdalwarp` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::*;

fn gdalwarp_available() -> bool {
    Command::new("gdalwarp").arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

/// The fill DN of a MODIS per-layer file, from its name (METHOD §1; the int8 reliability is
/// stored in a byte, where −1 is 255).
fn fill_of(name: &str) -> &'static str {
    if name.contains("sur_refl_b0") {
        "-28672"
    } else if name.contains("qc_500m") {
        "4294967295"
    } else if name.contains("state_500m") {
        "65535"
    } else if name.contains("NDVI") {
        "-3000"
    } else if name.contains("reliability") || name.contains("QC_Day") {
        "255"
    } else {
        "0"
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(files(&p));
        } else if p.extension().is_some_and(|x| x == "tif") {
            v.push(p);
        }
    }
    v.sort();
    v
}

/// July 2019 of the synthetic archive (both tiles, every layer) in UTM 50N at 463.3 m / 926.6 m.
#[test]
fn a_utm_copy_of_the_archive_gives_the_same_rsei() {
    if !gdalwarp_available() {
        println!("SKIPPED: the gdalwarp binary is not available");
        return;
    }
    let t = TempDir::new("anycrs");
    let arch = t.path().join("archive");
    rsei_pipeline::demo::archive::generate_years(&arch, 42, 2019, 2019).expect("synthetic archive");
    let july: Vec<PathBuf> = files(&arch.join("modis"))
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            // DOY 177..=212: the 8- and 16-day composites touching July
            n.split(".A2019").nth(1).and_then(|r| r.get(..3)).and_then(|d| d.parse::<u32>().ok()).is_some_and(|d| (177..=212).contains(&d))
        })
        .collect();
    assert!(july.len() > 40, "{} files", july.len());
    let sin = t.path().join("sin");
    let utm = t.path().join("utm");
    std::fs::create_dir_all(&sin).unwrap();
    std::fs::create_dir_all(&utm).unwrap();
    let (a, b) = july.split_at(july.len() / 2);
    std::thread::scope(|s| {
        for part in [a, b] {
            let (sin, utm) = (&sin, &utm);
            s.spawn(move || {
                for f in part {
                    let name = f.file_name().unwrap().to_string_lossy().into_owned();
                    std::fs::copy(f, sin.join(&name)).unwrap();
                    let res = if name.starts_with("MOD11A2") { "926.625433" } else { "463.312717" };
                    let fill = fill_of(&name);
                    let o = Command::new("gdalwarp")
                        .args(["-q", "-t_srs", "EPSG:32650", "-tr", res, res, "-r", "near", "-srcnodata", fill, "-dstnodata", fill])
                        .arg(f)
                        .arg(utm.join(&name))
                        .output()
                        .unwrap();
                    assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
                }
            });
        }
    });
    let run = |data: &Path, out: &Path| {
        let o = rsei(&[
            "--quiet", "compute", "--data", data.to_str().unwrap(), "--area", arch.join("vectors/city.geojson").to_str().unwrap(),
            "--where", "adcode = 999001", "--years", "2019", "--season", "06-26:07-31", "--window", "0:0", "--out", out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        json(&out.join("Demo_City/2019/summary.json"))
    };
    let s0 = run(&sin, &t.path().join("out-sin"));
    let s1 = run(&utm, &t.path().join("out-utm"));
    let f = |s: &serde_json::Value, k: &str| s[k].as_f64().unwrap();
    let (n0, n1) = (f(&s0, "n_pixels"), f(&s1, "n_pixels"));
    println!("pixels {n0} / {n1}; RSEI {} / {}", f(&s0, "rsei_mean"), f(&s1, "rsei_mean"));
    assert!(n0 > 1000.0 && (n0 - n1).abs() < 0.03 * n0, "pixels {n0} vs {n1}");
    assert!((f(&s0, "rsei_mean") - f(&s1, "rsei_mean")).abs() < 0.01);
    let l0 = s0["model"]["pc1"].as_array().unwrap();
    let l1 = s1["model"]["pc1"].as_array().unwrap();
    for (a, b) in l0.iter().zip(l1) {
        assert!((a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 0.03, "loadings {l0:?} vs {l1:?}");
    }
    // the manifest names the UTM files it read
    let m = std::fs::read_to_string(t.path().join("out-utm/Demo_City/2019/manifest.json")).unwrap();
    assert!(m.contains("utm/MOD09A1.A2019193"), "manifest does not list the UTM inputs");
}
