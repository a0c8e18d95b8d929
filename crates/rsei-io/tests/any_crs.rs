//! Inputs in another CRS: a UTM copy of the real MOD09A1 granule (`../shared/data`, see its
//! SOURCES.md), made here by `gdalwarp` as an AppEEARS-style per-layer GeoTIFF, is read onto the
//! granule's own sinusoidal grid. Expected values come from the `gdalwarp` command line warping the
//! copy back with nearest neighbour (the commands are in each test). Skipped with a message when
//! the data folder or the `gdalwarp` binary is missing.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rsei_core::Window;
use rsei_io::products::Layer;
use rsei_io::read::{identify, LayerReader};
use rsei_io::warp::nearest_map;

fn data_dir() -> Option<PathBuf> {
    let d = std::env::var_os("RSEI_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if d.join("modis").is_dir() {
        Some(d)
    } else {
        println!("SKIPPED: real test data not found at {} (set RSEI_TEST_DATA)", d.display());
        None
    }
}

fn gdalwarp_available() -> bool {
    Command::new("gdalwarp").arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

const MOD09A1: &str = "modis/MOD09A1.A2017193.h18v04.006.2017202035302.hdf";

fn gdalwarp(args: &[&str]) {
    let o = Command::new("gdalwarp").arg("-q").args(args).output().unwrap();
    assert!(o.status.success(), "gdalwarp {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

fn read_f64(path: &Path) -> Vec<f64> {
    let ds = gdal::Dataset::open(path).unwrap();
    let b = ds.rasterband(1).unwrap();
    let (c, r) = b.size();
    b.read_as::<f64>((0, 0), (c, r), (c, r), None).unwrap().data().to_vec()
}

/// `sur_refl_b01` and `sur_refl_state_500m` of the real granule, warped to UTM 32N (EPSG:32632)
/// at 463.3127 m by
///   gdalwarp -q -t_srs EPSG:32632 -tr 463.3127 463.3127 -r near -srcnodata F -dstnodata F \
///            'HDF4_EOS:EOS_GRID:"…hdf":MOD_Grid_500m_Surface_Reflectance_463:LAYER' \
///            MOD09A1.061_LAYER_doy2017193_aid0001.tif
/// (F = −28672 for reflectance, 65535 for the state word), then read onto the granule's
/// sinusoidal grid by `LayerReader::read_into`. Expected: the same copy warped back by
///   gdalwarp -q -t_srs '+proj=sinu …' -te <granule bounds> -ts 66 73 -r near -ot Float64 \
///            -srcnodata F -dstnodata F COPY.tif back.tif
/// and decoded by hand (DN × 0.0001, fill → NaN): every cell equal.
#[test]
fn utm_copy_of_a_granule_reads_onto_the_sinusoidal_grid() {
    let Some(d) = data_dir() else { return };
    if !gdalwarp_available() {
        println!("SKIPPED: the gdalwarp binary is not available");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hdf = d.join(MOD09A1);
    let orig_b01 = LayerReader::open_file(&hdf, Some(Layer::SurReflB01)).unwrap();
    let orig_state = LayerReader::open_file(&hdf, Some(Layer::SurReflState)).unwrap();
    let grid = orig_b01.grid().clone();
    let b = grid.bounds();
    let te = [b.xmin, b.ymin, b.xmax, b.ymax].map(|v| format!("{v:?}"));
    let (cols, rows) = (grid.cols().to_string(), grid.rows().to_string());
    for (field, layer, fill) in [("sur_refl_b01", Layer::SurReflB01, "-28672"), ("sur_refl_state_500m", Layer::SurReflState, "65535")] {
        let sub = format!("HDF4_EOS:EOS_GRID:\"{}\":MOD_Grid_500m_Surface_Reflectance_463:{field}", hdf.display());
        let copy = tmp.path().join(format!("MOD09A1.061_{field}_doy2017193_aid0001.tif"));
        gdalwarp(&["-t_srs", "EPSG:32632", "-tr", "463.3127", "463.3127", "-r", "near", "-srcnodata", fill, "-dstnodata", fill, &sub, copy.to_str().unwrap()]);
        let back = tmp.path().join(format!("back_{field}.tif"));
        let mut args: Vec<&str> = vec!["-t_srs", grid.crs().as_str(), "-te"];
        args.extend(te.iter().map(String::as_str));
        args.extend(["-ts", &cols, &rows, "-r", "near", "-ot", "Float64", "-srcnodata", fill, "-dstnodata", fill, copy.to_str().unwrap(), back.to_str().unwrap()]);
        gdalwarp(&args);
        let expected = read_f64(&back);

        // the copy is identified (AppEEARS name, tile from the raster centre) and read off-lattice
        let id = identify(&copy).unwrap();
        assert_eq!((id.product.short_name().as_str(), id.tile.to_string().as_str()), ("MOD09A1", "h18v04"), "{:?}", id.notes);
        let r = LayerReader::open_file(&copy, Some(layer)).unwrap();
        assert!(!r.on_lattice_of(&grid).unwrap());
        let w = grid.full_window();
        let fill_v: f64 = fill.parse().unwrap();
        if layer == Layer::SurReflB01 {
            let mut ours = vec![f32::NAN; w.len()];
            let n = r.read_into(&grid, w, &mut ours).unwrap();
            let mut same_as_orig = 0;
            let orig = orig_b01.read_f32(w).unwrap();
            for (i, (&a, &e)) in ours.iter().zip(&expected).enumerate() {
                let e = if e == fill_v || e.is_nan() { f32::NAN } else { (e * 0.0001) as f32 };
                assert!(a.to_bits() == e.to_bits() || (a.is_nan() && e.is_nan()), "b01 cell {i}: {a} vs {e}");
                same_as_orig += usize::from(a == orig[i]);
            }
            // nearest there and back moves a few cells by one; most come home
            let valid = orig.iter().filter(|v| !v.is_nan()).count();
            assert!(n > 0 && same_as_orig * 10 > valid * 9, "{same_as_orig} of {valid} cells equal the original ({n} written)");
            println!("b01: {n} cells written, {same_as_orig} of {valid} equal to the granule");
        } else {
            let mut ours = vec![65535u32; w.len()];
            r.read_into_raw_u32(&grid, w, &mut ours).unwrap();
            let orig = orig_state.read_raw_u32(w).unwrap();
            let mut same = 0;
            for (i, (&a, &e)) in ours.iter().zip(&expected).enumerate() {
                assert_eq!(f64::from(a), e, "state cell {i}");
                same += usize::from(a == orig[i]);
            }
            assert!(same * 10 > w.len() * 9, "{same} of {} state words equal the original", w.len());
        }
    }
}

/// The nearest map is the warp of cell indices: applying it to a band gives what warping the
/// band gives, and a window away from the source has no map.
#[test]
fn nearest_map_equals_warping_the_values() {
    use rsei_core::{Crs, GeoTransform, Grid};
    use rsei_io::warp::{warp_values_f64, Resampling};
    let src = Grid::new(40, 50, GeoTransform::new(500_000.0, 30.0, 4_000_000.0, -30.0), Crs::new("EPSG:32650"));
    let vals: Vec<f64> = (0..src.len()).map(|i| ((i * 7919) % 1000) as f64).collect();
    // a 100 m grid in a neighbouring zone over the same place
    let b = rsei_io::crs::transform_bounds(&src.bounds(), src.crs(), &Crs::new("EPSG:32651")).unwrap();
    let target = Grid::new(20, 20, GeoTransform::new(b.xmin.floor(), 100.0, b.ymax.ceil(), -100.0), Crs::new("EPSG:32651"));
    let w = Window::new(2, 3, 10, 12);
    let m = nearest_map(&src, &target, w).unwrap().unwrap();
    let sg = src.subgrid(m.source_window).unwrap();
    let sub: Vec<f64> = (0..m.source_window.len())
        .map(|i| vals[src.index(m.source_window.row + i / m.source_window.cols, m.source_window.col + i % m.source_window.cols)])
        .collect();
    let (direct, cov) = warp_values_f64(&sg, &sub, &target.subgrid(w).unwrap(), Resampling::Nearest).unwrap();
    let mut n = 0;
    for (k, &i) in m.index.iter().enumerate() {
        if cov[k] {
            assert_eq!(sub[i as usize], direct[k], "cell {k}");
            n += 1;
        } else {
            assert_eq!(i, rsei_io::warp::NearestMap::OUTSIDE);
        }
    }
    assert!(n > 0);
    let far = Grid::new(5, 5, GeoTransform::new(800_000.0, 100.0, 3_000_000.0, -100.0), Crs::new("EPSG:32651"));
    assert!(nearest_map(&src, &far, far.full_window()).unwrap().is_none());
}
