//! Readers on real MODIS files (`../shared/data`, beside the checkout; see its SOURCES.md).
//! Every test is skipped with a printed message when the folder is missing.
//!
//! Expected raw values come from GDAL's command-line tools; the exact commands and what they
//! printed are kept next to each assertion.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use rsei_core::grid::modis::{tile_grid, Resolution};
use rsei_core::{Crs, Window};
use rsei_io::naming::{ModisDate, Tile};
use rsei_io::products::Layer;
use rsei_io::read::{identify, Container, LayerReader, LayerSource};

/// The shared data folder, or `None` (with a message) when it is not there.
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

const MOD09A1: &str = "modis/MOD09A1.A2017193.h18v04.006.2017202035302.hdf";
const MOD11A1: &str = "modis/MOD11A1.A2021227.h11v05.061.2021228105320.hdf";
const MOD09GA: &str = "modis/MOD09GA.A2008296.h14v17.006.2015181011753.hdf";
const NDVI_DIR: &str = "modis/MOD13A1_NDVI_2016_lake_como";

fn one(r: &LayerReader, row: usize, col: usize) -> f32 {
    r.read_f32(Window::new(row, col, 1, 1)).unwrap()[0]
}

#[test]
fn mod09a1_subset_identity_from_name_and_old_metadata() {
    let Some(d) = data_dir() else { return };
    let p = d.join(MOD09A1);
    let id = identify(&p).unwrap();
    assert_eq!(id.product.short_name(), "MOD09A1");
    assert_eq!(id.date, ModisDate::new(2017, 193).unwrap());
    assert_eq!(id.tile, Tile::new(18, 4).unwrap());
    assert_eq!(id.container, Container::Hdf4Eos);
    assert_eq!(id.collection.as_deref(), Some("006"));
    // 9 registry layers found although the grid is named MOD_Grid_500m_Surface_Reflectance_463
    let mut got: Vec<Layer> = id.layers.iter().map(|l| l.layer).collect();
    got.sort();
    let mut want = rsei_io::ProductKind::Mod09A1.required_layers().to_vec();
    want.sort();
    assert_eq!(got, want);
    assert!(id.layers[0].gdal_name.contains("MOD_Grid_500m_Surface_Reflectance_463"));
    assert!(id.notes.is_empty(), "name and metadata agree: {:?}", id.notes);

    // The same file under an uninformative name: date, tile and product come from the metadata.
    // `gdalinfo` shows no CoreMetadata.0 in this HEG-cut file; RANGEBEGINNINGDATE = "2017-07-12"
    // (= day 193) and the tile numbers 18 / 4 sit in the OldCoreMetadata.0 ODL block.
    let tmp = tempfile::tempdir().unwrap();
    let renamed = tmp.path().join("granule.hdf");
    std::fs::copy(&p, &renamed).unwrap();
    let id2 = identify(&renamed).unwrap();
    assert_eq!(id2.product.short_name(), "MOD09A1");
    assert_eq!(id2.date, ModisDate::new(2017, 193).unwrap());
    assert_eq!(id2.tile, Tile::new(18, 4).unwrap());
    assert!(id2.notes.iter().any(|n| n.contains("from metadata")), "{:?}", id2.notes);
}

#[test]
fn mod09a1_layers_decode_with_scale_and_fill() {
    let Some(d) = data_dir() else { return };
    let p = d.join(MOD09A1);
    let b01 = LayerReader::open_file(&p, Some(Layer::SurReflB01)).unwrap();
    let g = b01.grid();
    assert_eq!(g.shape(), (73, 66));
    assert_eq!(g.crs(), &Crs::modis_sinusoidal(), "sinusoidal normalised to the core text");
    assert!((g.transform().x0 - 753_346.477_074).abs() < 1e-6);
    // the subset lies on the h18v04 500 m lattice
    assert!(tile_grid(18, 4, Resolution::M500).check_aligned(g).is_ok());

    // gdallocationinfo -valonly 'HDF4_EOS:EOS_GRID:"MOD09A1.A2017193.h18v04.006.2017202035302.hdf":MOD_Grid_500m_Surface_Reflectance_463:sur_refl_b01' 0 0   → 485
    //                                                                       … same, pixel 14 10 (col 14, row 10) → 195
    //                                                                       … same, pixel 47 15                  → 1660
    assert_eq!(one(&b01, 0, 0), 0.0485);
    assert_eq!(one(&b01, 10, 14), 0.0195);
    assert_eq!(one(&b01, 15, 47), 0.166);
    // sur_refl_b02 at the same pixels → 3345, 1972, 2177; sur_refl_b06 → 1905, 1177, 1794
    let b02 = LayerReader::open_file(&p, Some(Layer::SurReflB02)).unwrap();
    assert_eq!(one(&b02, 0, 0), 0.3345);
    let b06 = LayerReader::open_file(&p, Some(Layer::SurReflB06)).unwrap();
    assert_eq!(one(&b06, 15, 47), 0.1794);
    // all seven bands: every decoded value lies in the scaled valid range −0.01..1.6
    for band in 1..=7 {
        let r = LayerReader::open_file(&p, Layer::reflectance_band(band)).unwrap();
        assert_eq!(r.spec().scale, 1e-4);
        assert_eq!(r.spec().fill, Some(-28672.0));
        let v = r.read_f32(r.grid().full_window()).unwrap();
        assert_eq!(v.len(), 73 * 66);
        assert!(v.iter().filter(|x| !x.is_nan()).all(|&x| (-0.01..=1.6).contains(&x)), "band {band}");
        assert!(v.iter().filter(|x| !x.is_nan()).count() > 4000, "band {band} mostly valid");
    }
}

#[test]
fn mod09a1_raw_qa_equals_gdallocationinfo() {
    let Some(d) = data_dir() else { return };
    let p = d.join(MOD09A1);
    let state = LayerReader::open_file(&p, Some(Layer::SurReflState)).unwrap();
    let qc = LayerReader::open_file(&p, Some(Layer::SurReflQc)).unwrap();
    assert_eq!(state.raw_fill(), Some(65535.0));
    assert_eq!(qc.raw_fill(), Some(4_294_967_295.0));
    // F=MOD09A1.A2017193.h18v04.006.2017202035302.hdf; G=MOD_Grid_500m_Surface_Reflectance_463
    // gdallocationinfo -valonly "HDF4_EOS:EOS_GRID:\"$F\":$G:sur_refl_state_500m" COL ROW
    //   0 0   → 136   (0b10001000: cloud state 0 clear, land/water 1 land, aerosol 2)
    //   14 10 → 80    (0b01010000: clear, land/water 2 coastline/lake shore, aerosol 1)
    //   47 15 → 1033  (0b10000001001: cloud state 1 cloudy, land, internal cloud bit 10)
    //   26 2  → 72    (0b01001000: clear, land, aerosol 1)
    // gdallocationinfo -valonly "HDF4_EOS:EOS_GRID:\"$F\":$G:sur_refl_qc_500m" COL ROW
    //   0 0, 14 10, 47 15 → 1073741824 (bit 30, atmospheric correction); 26 2 → 1075838976
    let pixels = [(0usize, 0usize, 136u32, 1_073_741_824u32), (10, 14, 80, 1_073_741_824), (15, 47, 1033, 1_073_741_824), (2, 26, 72, 1_075_838_976)];
    for (row, col, st, q) in pixels {
        let w = Window::new(row, col, 1, 1);
        assert_eq!(state.read_raw_u32(w).unwrap(), vec![st], "state at row {row}, col {col}");
        assert_eq!(qc.read_raw_u32(w).unwrap(), vec![q], "qc at row {row}, col {col}");
    }
    // decoding the state bits by hand: 1033 = 0b100_0000_1001 → bits 0–1 = 1 (cloudy), bits 3–5 = 1 (land)
    assert_eq!(1033 & 3, 1);
    assert_eq!((1033 >> 3) & 7, 1);
    // a signed read of an unsigned 32-bit layer is refused
    assert!(qc.read_raw_i32(Window::new(0, 0, 1, 1)).is_err());
    // a window outside the grid is an error naming the file
    let e = state.read_raw_u32(Window::new(70, 60, 5, 5)).unwrap_err().to_string();
    assert!(e.contains("MOD09A1.A2017193") && e.contains("outside"), "{e}");
}

#[test]
fn ndvi_geotiffs_int_and_prescaled_float() {
    let Some(d) = data_dir() else { return };
    let dir = d.join(NDVI_DIR);
    let mut n_files = 0;
    let mut means = Vec::new();
    for doy in (1..=353).step_by(16) {
        let p = dir.join(format!("MOD13A1_NDVI_2016_{doy:03}.tif"));
        let id = identify(&p).unwrap();
        assert_eq!(id.product.short_name(), "MOD13A1");
        assert_eq!(id.date, ModisDate::new(2016, doy).unwrap());
        // no tile in a MODIStsp name: derived from the raster centre (sinusoidal 726706, 5104316)
        assert_eq!(id.tile, Tile::new(18, 4).unwrap(), "doy {doy}");
        assert_eq!(id.layers.len(), 1);
        assert_eq!(id.layers[0].layer, Layer::Ndvi);
        let r = LayerReader::open(&id.layers[0]).unwrap();
        assert_eq!(r.grid().shape(), (122, 65));
        assert_eq!(r.grid().crs(), &Crs::modis_sinusoidal());
        let prescaled = doy == 337 || doy == 353;
        assert_eq!(r.is_prescaled(), prescaled, "doy {doy}: {:?}", r.notes());
        let v = r.read_f32(r.grid().full_window()).unwrap();
        let valid: Vec<f32> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        assert!(valid.len() > 7000, "doy {doy}: {} valid", valid.len());
        assert!(valid.iter().all(|&x| (-0.2..=1.0).contains(&x)), "doy {doy}");
        let mean = valid.iter().map(|&x| f64::from(x)).sum::<f64>() / valid.len() as f64;
        means.push((doy, mean));
        n_files += 1;
    }
    assert_eq!(n_files, 23);
    // same magnitude in the int files (×0.0001) and the pre-scaled ones: winter means 0.3–0.7
    for (doy, m) in &means {
        assert!((0.2..0.9).contains(m), "doy {doy}: mean NDVI {m}");
    }
    // gdallocationinfo -valonly MOD13A1_NDVI_2016_001.tif 30 60 → 5314 ; 0 0 → 4656
    // gdallocationinfo -valonly MOD13A1_NDVI_2016_337.tif 30 60 → 0.587199985980988 ; 0 0 → 0.506900012493134
    // gdallocationinfo -valonly MOD13A1_NDVI_2016_353.tif 30 60 → 0.532999992370605
    let r001 = LayerReader::open_file(&dir.join("MOD13A1_NDVI_2016_001.tif"), None).unwrap();
    assert_eq!(one(&r001, 60, 30), 0.5314);
    assert_eq!(one(&r001, 0, 0), 0.4656);
    let r337 = LayerReader::open_file(&dir.join("MOD13A1_NDVI_2016_337.tif"), None).unwrap();
    assert_eq!(one(&r337, 60, 30), 0.5872f32);
    assert_eq!(one(&r337, 0, 0), 0.5069f32);
    let r353 = LayerReader::open_file(&dir.join("MOD13A1_NDVI_2016_353.tif"), None).unwrap();
    assert_eq!(one(&r353, 60, 30), 0.533f32);
    // nodata 32767 is nodata in both kinds of file (int: outside −2000..10000; float: the file's nodata)
    assert_eq!(r001.file_nodata(), Some(32767.0));
    assert_eq!(r337.file_nodata(), Some(32767.0));
    assert!(r337.read_raw_i32(Window::new(0, 0, 1, 1)).is_err(), "no raw DN in a pre-scaled file");
    // The int file holds 2.45 % nodata (the .aux.xml beside it: STATISTICS_VALID_PERCENT=97.55)
    let v = r001.read_f32(r001.grid().full_window()).unwrap();
    let nan = v.iter().filter(|x| x.is_nan()).count();
    assert_eq!(nan, (122.0f64 * 65.0 * 0.0245).round() as usize);
}

#[test]
fn mod11a1_lst_plausible_for_august() {
    let Some(d) = data_dir() else { return };
    let p = d.join(MOD11A1);
    let id = identify(&p).unwrap();
    assert_eq!((id.product.short_name().as_str(), id.date, id.tile), ("MOD11A1", ModisDate::new(2021, 227).unwrap(), Tile::new(11, 5).unwrap()));
    let lst = LayerReader::open_file(&p, Some(Layer::LstDay)).unwrap();
    assert_eq!(lst.grid().shape(), (1200, 1200));
    assert!(tile_grid(11, 5, Resolution::Km1).check_same(lst.grid()).is_ok());
    // gdallocationinfo -valonly 'HDF4_EOS:EOS_GRID:"MOD11A1.A2021227.h11v05.061.2021228105320.hdf":MODIS_Grid_Daily_1km_LST:LST_Day_1km' 85 600 → 14749
    // 14749 × 0.02 = 294.98 K = 21.83 °C
    let k = one(&lst, 600, 85);
    assert!((f64::from(k) - 294.98).abs() < 1e-4, "{k}");
    assert!((f64::from(k) - 273.15 - 21.83).abs() < 1e-4);
    assert_eq!(lst.read_raw_i32(Window::new(600, 85, 1, 1)).unwrap(), vec![14749]);
    // … :QC_Day 85 600 → 65 ; GDAL reports nodata 0 for QC_Day but 0 is a valid code here
    let qc = LayerReader::open_file(&p, Some(Layer::QcDay)).unwrap();
    assert_eq!(qc.read_raw_u32(Window::new(600, 85, 1, 1)).unwrap(), vec![65]);
    assert_eq!(qc.file_nodata(), None);
    assert!(qc.notes().iter().any(|n| n.contains("ignored")), "{:?}", qc.notes());
    // median of valid pixels, in °C, streamed in strips of 100 rows
    let mut vals = Vec::new();
    for w in lst.grid().row_strips(100) {
        vals.extend(lst.read_f32(w).unwrap().into_iter().filter(|x| !x.is_nan()).map(|k| f64::from(k) - 273.15));
    }
    vals.sort_by(f64::total_cmp);
    let median = vals[vals.len() / 2];
    assert!(vals.len() > 50_000, "{} valid pixels", vals.len());
    assert!((15.0..45.0).contains(&median), "median LST {median} °C");
}

#[test]
fn mod09ga_two_grids_are_not_confused() {
    let Some(d) = data_dir() else { return };
    let p = d.join(MOD09GA);
    let id = identify(&p).unwrap();
    assert_eq!((id.product.short_name().as_str(), id.tile), ("MOD09GA", Tile::new(14, 17).unwrap()));
    assert_eq!(id.date, ModisDate::new(2008, 296).unwrap());
    let b01 = LayerReader::open_file(&p, Some(Layer::SurReflB01)).unwrap();
    let st = LayerReader::open_file(&p, Some(Layer::SurReflState)).unwrap();
    let qc = LayerReader::open_file(&p, Some(Layer::SurReflQc)).unwrap();
    assert!(b01.source().gdal_name.ends_with("MODIS_Grid_500m_2D:sur_refl_b01_1"));
    assert!(st.source().gdal_name.ends_with("MODIS_Grid_1km_2D:state_1km_1"));
    assert_eq!(b01.grid().shape(), (2400, 2400));
    assert_eq!(qc.grid().shape(), (2400, 2400));
    assert_eq!(st.grid().shape(), (1200, 1200));
    assert!((b01.grid().cell_size().0 - 463.3127).abs() < 1e-3);
    assert!((st.grid().cell_size().0 - 926.6254).abs() < 1e-3);
    let (ba, bb) = (b01.grid().bounds(), st.grid().bounds());
    for (a, b) in [(ba.xmin, bb.xmin), (ba.xmax, bb.xmax), (ba.ymin, bb.ymin), (ba.ymax, bb.ymax)] {
        assert!((a - b).abs() < 1e-3, "{ba:?} vs {bb:?}");
    }
    // the file declares scale_factor = 10000 (divide convention): accepted, product scale used
    assert!(b01.notes().iter().any(|n| n.contains("divide convention")), "{:?}", b01.notes());
    // the 1 km state pasted onto the 500 m tile grid fills 2 × 2 cells per 1 km cell
    let target = tile_grid(14, 17, Resolution::M500);
    let mut out = vec![0u32; 4 * 4];
    let n = st.read_into_raw_u32(&target, Window::new(100, 200, 4, 4), &mut out).unwrap();
    assert_eq!(n, 16);
    let direct = st.read_raw_u32(Window::new(50, 100, 2, 2)).unwrap();
    assert_eq!(out[0], direct[0]);
    assert_eq!(out[1], direct[0]);
    assert_eq!(out[4], direct[0]);
    assert_eq!(out[2], direct[1]);
    assert_eq!(out[15], direct[3]);
    // a state source forced onto the 500 m spec is refused (grid check)
    let wrong = LayerSource { layer: Layer::SurReflB01, ..st.source().clone() };
    let e = LayerReader::open(&wrong).unwrap_err().to_string();
    assert!(e.contains("500 m grid"), "{e}");
}

#[test]
fn mosaicking_onto_a_larger_grid() {
    let Some(d) = data_dir() else { return };
    let p = d.join(MOD09A1);
    let b01 = LayerReader::open_file(&p, Some(Layer::SurReflB01)).unwrap();
    let sub = b01.grid().clone();
    // a study grid on the same lattice, starting 3 rows and 5 columns north-west of the file and
    // extending 4 cells beyond it on every side
    let t = sub.transform();
    let study = rsei_core::Grid::new(
        sub.rows() + 7,
        sub.cols() + 9,
        rsei_core::GeoTransform::new(t.x0 - 5.0 * t.dx, t.dx, t.y0 - 3.0 * t.dy, t.dy),
        Crs::modis_sinusoidal(),
    );
    let w = study.full_window();
    let mut out = vec![f32::NAN; w.len()];
    let n = b01.read_into(&study, w, &mut out).unwrap();
    assert_eq!(n, 73 * 66);
    // file (0, 0) is study (3, 5); file (15, 47) is study (18, 52)
    assert_eq!(out[3 * study.cols() + 5], 0.0485);
    assert_eq!(out[18 * study.cols() + 52], 0.166);
    assert!(out[0].is_nan() && out[2 * study.cols() + 5].is_nan());
    // a window partly covered
    let mut part = vec![-1.0f32; 4];
    let n = b01.read_into(&study, rsei_core::Window::new(2, 4, 2, 2), &mut part).unwrap();
    assert_eq!(n, 1);
    assert_eq!(part, vec![-1.0, -1.0, -1.0, 0.0485]);
    // a quarter of a cell off the lattice: warped by nearest neighbour (no longer refused); each
    // target cell centre lies in the file cell of the same row and column
    let off = rsei_core::Grid::new(10, 10, rsei_core::GeoTransform::new(t.x0 + 0.25 * t.dx, t.dx, t.y0, t.dy), Crs::modis_sinusoidal());
    assert!(!b01.on_lattice_of(&off).unwrap());
    let mut warped = vec![0.0f32; 100];
    assert_eq!(b01.read_into(&off, off.full_window(), &mut warped).unwrap(), 100);
    assert_eq!(warped, b01.read_f32(rsei_core::Window::new(0, 0, 10, 10)).unwrap());
}

mod inventory {
    use super::*;
    use rsei_io::products::ProductKind;
    use rsei_io::scan::{scan_dir, RequiredLayers, ScanOptions};

    #[test]
    fn the_real_modis_folder() {
        let Some(d) = data_dir() else { return };
        let inv = scan_dir(&d.join("modis"), &ScanOptions::default()).unwrap();
        let labels: Vec<String> = inv.granules.iter().map(|g| g.label()).collect();
        // sorted by product (registry order: MOD09A1, MOD13A1, MOD11A2, MOD11A1, MOD09GA), tile, date
        assert_eq!(labels, vec!["MOD09A1 h18v04 2017-193", "MOD11A1 h11v05 2021-227", "MOD09GA h14v17 2008-296"]);
        // the NDVI GeoTIFFs have no pixel reliability beside them: rejected under the default rule
        assert_eq!(inv.rejected.len(), 23, "{:#?}", inv.rejected);
        assert!(inv.rejected.iter().all(|r| r.reason.contains("lacks required layer(s) pixel_reliability")));

        let ndvi_only = ScanOptions { required: RequiredLayers::Layers(vec![Layer::Ndvi]), ..Default::default() };
        let inv = scan_dir(&d.join(NDVI_DIR), &ndvi_only).unwrap();
        assert!(inv.rejected.is_empty(), "{:#?}", inv.rejected);
        let s = inv.summary();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].product, "MOD13A1");
        assert_eq!(s[0].tile, Tile::new(18, 4).unwrap());
        assert_eq!((s[0].first, s[0].last, s[0].n_dates), (ModisDate::new(2016, 1).unwrap(), ModisDate::new(2016, 353).unwrap(), 23));
        assert_eq!(s[0].layers, vec![Layer::Ndvi]);
        assert_eq!(inv.granules_of(ProductKind::Mod13A1).count(), 23);
    }

    #[test]
    fn truncated_and_foreign_files_are_rejected_with_reasons() {
        let Some(d) = data_dir() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let full = std::fs::read(d.join(MOD09A1)).unwrap();
        // a truncated copy (first 30 KB) under the original name, in a sub-folder
        std::fs::create_dir(tmp.path().join("cut")).unwrap();
        let cut = tmp.path().join("cut/MOD09A1.A2017193.h18v04.006.2017202035302.hdf");
        std::fs::write(&cut, &full[..30 * 1024]).unwrap();
        // a complete copy, a wrong product (the LST tile when only MOD09A1 is asked for), and junk
        std::fs::write(tmp.path().join("MOD09A1.A2017193.h18v04.006.2017202035302.hdf"), &full).unwrap();
        std::fs::copy(d.join(MOD11A1), tmp.path().join("MOD11A1.A2021227.h11v05.061.2021228105320.hdf")).unwrap();
        std::fs::write(tmp.path().join("random.bin"), (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<u8>>()).unwrap();

        let opts = ScanOptions { products: Some(vec![ProductKind::Mod09A1]), ..Default::default() };
        let inv = scan_dir(tmp.path(), &opts).unwrap();
        assert_eq!(inv.granules.len(), 1);
        assert_eq!(inv.granules[0].files, vec![tmp.path().join("MOD09A1.A2017193.h18v04.006.2017202035302.hdf")]);
        assert_eq!(inv.rejected.len(), 3, "{:#?}", inv.rejected);
        let reason = |name: &str| inv.rejected.iter().find(|r| r.path.ends_with(name)).map(|r| r.reason.clone()).unwrap();
        let r_cut = reason("cut/MOD09A1.A2017193.h18v04.006.2017202035302.hdf");
        assert!(r_cut.contains("cut/MOD09A1.A2017193"), "{r_cut}");
        let r_lst = reason("MOD11A1.A2021227.h11v05.061.2021228105320.hdf");
        assert!(r_lst.contains("MOD11A1") && r_lst.contains("not asked for"), "{r_lst}");
        // GDAL's own message: "`…/random.bin' not recognized as a supported file format."
        let r_bin = reason("random.bin");
        assert!(r_bin.contains("random.bin") && r_bin.contains("not recognized"), "{r_bin}");
        assert!(r_cut.contains("not recognized"), "{r_cut}");
        for r in &inv.rejected {
            println!("rejected {}: {}", r.path.display(), r.reason);
        }
    }
}

mod warping {
    use super::*;
    use rsei_core::{Bounds, GeoTransform, Grid};
    use rsei_io::crs::{normalize_crs, transform_bounds};
    use rsei_io::warp::{warp_to_grid, Resampling};
    use std::process::Command;

    fn gdalwarp_available() -> bool {
        Command::new("gdalwarp").arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
    }

    /// The NDVI GeoTIFF warped from sinusoidal to UTM 32N at 500 m, by our function and by the
    /// `gdalwarp` command line with the same options:
    ///   gdalwarp -q -t_srs EPSG:32632 -te XMIN YMIN XMAX YMAX -ts COLS ROWS -r bilinear \
    ///            -ot Float32 -dstnodata nan -of GTiff MOD13A1_NDVI_2016_001.tif expected.tif
    /// (the extent is the source bounds reprojected and snapped outward to 500 m). Every cell must be
    /// identical (NaN where the other is NaN).
    #[test]
    fn ndvi_to_utm_equals_the_gdalwarp_command() {
        let Some(d) = data_dir() else { return };
        if !gdalwarp_available() {
            println!("SKIPPED: the gdalwarp binary is not available");
            return;
        }
        let src = d.join(NDVI_DIR).join("MOD13A1_NDVI_2016_001.tif");
        let src_grid = LayerReader::open_file(&src, None).unwrap().grid().clone();
        let utm = normalize_crs(&Crs::new("EPSG:32632")).unwrap();
        let b = transform_bounds(&src_grid.bounds(), src_grid.crs(), &utm).unwrap();
        let snap = Bounds::new((b.xmin / 500.0).floor() * 500.0, (b.ymin / 500.0).floor() * 500.0, (b.xmax / 500.0).ceil() * 500.0, (b.ymax / 500.0).ceil() * 500.0);
        let cols = ((snap.xmax - snap.xmin) / 500.0).round() as usize;
        let rows = ((snap.ymax - snap.ymin) / 500.0).round() as usize;
        let target = Grid::new(rows, cols, GeoTransform::new(snap.xmin, 500.0, snap.ymax, -500.0), utm);
        let tmp = tempfile::tempdir().unwrap();
        for r in [Resampling::Bilinear, Resampling::Nearest, Resampling::Average] {
            let ours = warp_to_grid(src.to_str().unwrap(), 1, &target, r, None).unwrap();
            let out = tmp.path().join(format!("expected_{}.tif", r.gdal_name()));
            let te = [snap.xmin, snap.ymin, snap.xmax, snap.ymax].map(|v| format!("{v:?}"));
            let status = Command::new("gdalwarp")
                .args(["-q", "-t_srs", "EPSG:32632", "-te"])
                .args(&te)
                .args(["-ts", &cols.to_string(), &rows.to_string(), "-r", r.gdal_name(), "-ot", "Float32", "-dstnodata", "nan", "-of", "GTiff"])
                .arg(&src)
                .arg(&out)
                .status()
                .unwrap();
            assert!(status.success());
            let ds = gdal::Dataset::open(&out).unwrap();
            let band = ds.rasterband(1).unwrap();
            assert_eq!(band.size(), (cols, rows));
            let exp = band.read_as::<f32>((0, 0), (cols, rows), (cols, rows), None).unwrap();
            let mut n_valid = 0;
            for (i, (a, e)) in ours.data().iter().zip(exp.data()).enumerate() {
                assert!(a.to_bits() == e.to_bits() || (a.is_nan() && e.is_nan()), "{r:?} cell {i}: {a} vs {e}");
                n_valid += usize::from(!a.is_nan());
            }
            // the source holds 7736 valid 463 m cells ≈ 1660 km²; at 500 m that is ≈ 6640 cells
            assert!(n_valid > 6000, "{r:?}: {n_valid} valid cells");
            // values stay raw int16 NDVI DN (no decoding in warp_to_grid)
            assert!(ours.data().iter().filter(|v| !v.is_nan()).all(|&v| (-2000.0..=10000.0).contains(&v)));
        }
        // a band that does not exist is a clear error
        let e = warp_to_grid(src.to_str().unwrap(), 2, &target, Resampling::Nearest, None).unwrap_err().to_string();
        assert!(e.contains("band 2") && e.contains("MOD13A1_NDVI_2016_001.tif"), "{e}");
    }

    /// The global 0.05° land-cover raster (longlat, Clarke 1866) read onto the MOD09A1 subset grid
    /// (sinusoidal, 463 m) by nearest neighbour, against
    ///   gdalwarp -q -t_srs '+proj=sinu …' -te … -ts 66 73 -r near -ot Float32 -dstnodata nan -of GTiff MCD12C1…tif expected.tif
    #[test]
    fn landcover_onto_a_modis_grid_equals_gdalwarp() {
        let Some(d) = data_dir() else { return };
        if !gdalwarp_available() {
            println!("SKIPPED: the gdalwarp binary is not available");
            return;
        }
        let lc = d.join("landcover/MCD12C1.A2019001.006.2020220162300.tif");
        let grid = LayerReader::open_file(&d.join(MOD09A1), Some(Layer::SurReflB01)).unwrap().grid().clone();
        let ours = warp_to_grid(lc.to_str().unwrap(), 1, &grid, Resampling::Nearest, None).unwrap();
        let b = grid.bounds();
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("lc.tif");
        let te = [b.xmin, b.ymin, b.xmax, b.ymax].map(|v| format!("{v:?}"));
        let ok = Command::new("gdalwarp")
            .args(["-q", "-t_srs", grid.crs().as_str(), "-te"])
            .args(&te)
            .args(["-ts", &grid.cols().to_string(), &grid.rows().to_string(), "-r", "near", "-ot", "Float32", "-dstnodata", "nan", "-of", "GTiff"])
            .arg(&lc)
            .arg(&out)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let exp = gdal::Dataset::open(&out).unwrap().rasterband(1).unwrap().read_as::<f32>((0, 0), (66, 73), (66, 73), None).unwrap();
        assert_eq!(ours.data().len(), exp.data().len());
        for (i, (a, e)) in ours.data().iter().zip(exp.data()).enumerate() {
            assert!(a.to_bits() == e.to_bits() || (a.is_nan() && e.is_nan()), "cell {i}: {a} vs {e}");
        }
        // IGBP classes 0..16 only (an Alpine valley: no nodata 255 over land)
        assert!(ours.data().iter().all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0), "{:?}", &ours.data()[..10]);
    }
}
