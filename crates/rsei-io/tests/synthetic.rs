//! Integration tests on small files made by the tests themselves: writers, readers, inventory and
//! warping. Each test gets its own temporary folder. Real MODIS files are tested in `real_data.rs`.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use gdal::{Dataset, Metadata};
use rsei_core::{Crs, GeoTransform, Grid, Raster};
use rsei_io::crs::normalize_crs;
use rsei_io::write::{
    write_bands, write_raster, BandMeta, Compression, OverviewResampling, Overviews, RasterFormat, WriteOptions,
    PROVENANCE_TAG,
};

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("rsei-io-test-").tempdir().expect("temp dir")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").path()).collect();
    v.sort();
    v
}

fn utm_grid(rows: usize, cols: usize) -> Grid {
    Grid::new(rows, cols, GeoTransform::new(500_000.0, 30.0, 4_000_000.0, -30.0), Crs::new("EPSG:32650"))
}

fn read_all_f64(path: &Path, band: usize) -> (Vec<f64>, Option<f64>) {
    let ds = Dataset::open(path).expect("open");
    let b = ds.rasterband(band).expect("band");
    let (c, r) = b.size();
    let buf = b.read_as::<f64>((0, 0), (c, r), (c, r), None).expect("read");
    (buf.data().to_vec(), b.no_data_value())
}

mod writer {
    use super::*;

    #[test]
    fn float_roundtrip_cog_and_gtiff() {
        let dir = tmp();
        let grid = utm_grid(3, 4);
        // 12 values; NaN at (0,1) and (2,3)
        let vals: Vec<f32> =
            vec![0.5, f32::NAN, -0.25, 1.0, 2.5, 3.75, 1e-3, -7.0, 100.0, 0.0, 42.0, f32::NAN];
        let r = Raster::new(grid.clone(), vals.clone()).unwrap();
        for fmt in [RasterFormat::Cog, RasterFormat::GTiff] {
            let p = dir.path().join(format!("f_{fmt:?}.tif"));
            let mut o = WriteOptions::continuous().with_format(fmt).with_tag("RSEI_LAYER", "ndvi");
            o.band = BandMeta {
                description: Some("NDVI".into()),
                scale: Some(0.02),
                offset: Some(-273.15),
                unit: Some("degC".into()),
            };
            o.provenance = Some(serde_json::json!({"inputs": ["a.hdf"], "seed": 7}));
            write_raster(&p, &r, &o).unwrap();

            let (back, nd) = read_all_f64(&p, 1);
            assert_eq!(nd, Some(-9999.0));
            for (i, (&a, &b)) in vals.iter().zip(&back).enumerate() {
                if a.is_nan() {
                    assert_eq!(b, -9999.0, "cell {i}: NaN must be written as nodata");
                } else {
                    assert_eq!(b, f64::from(a), "cell {i}");
                }
            }
            assert!(back.iter().all(|v| !v.is_nan()), "no NaN in the file");
            let ds = Dataset::open(&p).unwrap();
            assert_eq!(ds.geo_transform().unwrap(), [500_000.0, 30.0, 0.0, 4_000_000.0, 0.0, -30.0]);
            let crs = rsei_io::crs::crs_from_spatial_ref(&ds.spatial_ref().unwrap()).unwrap();
            assert_eq!(crs, normalize_crs(&Crs::new("EPSG:32650")).unwrap());
            assert_eq!(ds.metadata_item("RSEI_LAYER", "").as_deref(), Some("ndvi"));
            let prov: serde_json::Value =
                serde_json::from_str(&ds.metadata_item(PROVENANCE_TAG, "").unwrap()).unwrap();
            assert_eq!(prov["seed"], 7);
            let b = ds.rasterband(1).unwrap();
            assert_eq!(b.description().unwrap(), "NDVI");
            assert_eq!(b.unit(), "degC");
            assert_eq!(b.scale(), Some(0.02));
            assert_eq!(b.offset(), Some(-273.15));
            assert_eq!(b.band_type(), gdal::raster::GdalDataType::Float32);
        }
        // no temp files left beside the outputs
        let names: Vec<_> = files_in(dir.path()).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec!["f_Cog.tif", "f_GTiff.tif"]);
    }

    #[test]
    fn integer_and_multiband_roundtrip() {
        let dir = tmp();
        let grid = utm_grid(2, 3);
        let a: Vec<u16> = vec![0, 1, 65535, 7, 8, 9];
        let b: Vec<u16> = vec![10, 20, 30, 40, 50, 60];
        let p = dir.path().join("stack.tif");
        let o = WriteOptions { nodata: Some(65535.0), ..WriteOptions::classes() };
        write_bands(&p, &grid, &[("count", &a), ("class", &b)], &o).unwrap();
        let ds = Dataset::open(&p).unwrap();
        assert_eq!(ds.raster_count(), 2);
        assert_eq!(ds.rasterband(1).unwrap().description().unwrap(), "count");
        assert_eq!(ds.rasterband(2).unwrap().description().unwrap(), "class");
        assert_eq!(ds.rasterband(1).unwrap().band_type(), gdal::raster::GdalDataType::UInt16);
        let (va, nd) = read_all_f64(&p, 1);
        assert_eq!(nd, Some(65535.0));
        assert_eq!(va, vec![0.0, 1.0, 65535.0, 7.0, 8.0, 9.0]);
        let (vb, _) = read_all_f64(&p, 2);
        assert_eq!(vb, vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
        // a band of the wrong length is refused, naming the band and the file
        let e = write_bands(&p, &grid, &[("x", &a[..5])], &o).unwrap_err().to_string();
        assert!(e.contains("stack.tif") && e.contains("\"x\"") && e.contains("5 values"), "{e}");
    }

    #[test]
    fn cog_layout_and_overviews() {
        let dir = tmp();
        let n = 1024;
        let grid = utm_grid(n, n);
        let data: Vec<f32> = (0..n * n).map(|i| ((i % n) as f32 * 0.01).sin() + (i / n) as f32 * 1e-3).collect();
        let r = Raster::new(grid, data).unwrap();
        let p = dir.path().join("big.tif");
        write_raster(&p, &r, &WriteOptions::continuous().with_compression(Compression::Zstd, Some(9))).unwrap();
        let ds = Dataset::open(&p).unwrap();
        let layout = ds.metadata_item("LAYOUT", "IMAGE_STRUCTURE");
        assert_eq!(layout.as_deref(), Some("COG"), "IMAGE_STRUCTURE: {:?}", ds.metadata_domain("IMAGE_STRUCTURE"));
        let comp = ds.metadata_item("COMPRESSION", "IMAGE_STRUCTURE").unwrap();
        if rsei_io::write::zstd_available() {
            assert_eq!(comp, "ZSTD");
        } else {
            assert_eq!(comp, "DEFLATE");
            assert!(ds.metadata_item(rsei_io::write::COMPRESSION_NOTE_TAG, "").is_some());
        }
        let band = ds.rasterband(1).unwrap();
        assert_eq!(band.overview_count().unwrap(), 1, "1024² with 512 blocks → one 512² overview");
        let ov = band.overview(0).unwrap();
        assert_eq!(ov.size(), (512, 512));
        assert_eq!(band.block_size(), (512, 512));
        // The AVERAGE overview cell (0,0) is the mean of the 2×2 block of full-resolution cells.
        let full = band.read_as::<f32>((0, 0), (2, 2), (2, 2), None).unwrap();
        let o00 = ov.read_as::<f32>((0, 0), (1, 1), (1, 1), None).unwrap().data()[0];
        let mean = full.data().iter().map(|&v| f64::from(v)).sum::<f64>() / 4.0;
        assert!((f64::from(o00) - mean).abs() < 1e-6, "{o00} vs {mean}");

        // The same raster as GeoTIFF gets internal overviews too; a tiny raster gets none.
        let p2 = dir.path().join("big_gtiff.tif");
        let o = WriteOptions { overviews: Overviews::Auto(OverviewResampling::Nearest), ..WriteOptions::continuous() }
            .with_format(RasterFormat::GTiff);
        write_raster(&p2, &r, &o).unwrap();
        assert_eq!(Dataset::open(&p2).unwrap().rasterband(1).unwrap().overview_count().unwrap(), 1);
        let small = Raster::new(utm_grid(4, 4), vec![1.0f32; 16]).unwrap();
        let p3 = dir.path().join("small.tif");
        write_raster(&p3, &small, &WriteOptions::continuous()).unwrap();
        let ds3 = Dataset::open(&p3).unwrap();
        assert_eq!(ds3.rasterband(1).unwrap().overview_count().unwrap(), 0);
        assert_eq!(ds3.metadata_item("LAYOUT", "IMAGE_STRUCTURE").as_deref(), Some("COG"));
    }

    #[test]
    fn failing_writes_leave_nothing_behind() {
        let dir = tmp();
        let grid = utm_grid(2, 2);
        let r = Raster::new(grid.clone(), vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
        // 1. The target is an existing folder: the file is written under its temporary name, then the
        //    rename fails; the temporary file must be removed and the folder left as it was.
        let target = dir.path().join("occupied.tif");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"x").unwrap();
        for fmt in [RasterFormat::Cog, RasterFormat::GTiff] {
            let e = write_raster(&target, &r, &WriteOptions::continuous().with_format(fmt)).unwrap_err();
            assert!(e.to_string().contains("occupied.tif"), "{e}");
            assert_eq!(files_in(dir.path()), vec![target.clone()], "{fmt:?}: temp file left");
            assert!(target.join("keep").exists());
        }
        // 2. Invalid inputs fail before anything is created.
        let p = dir.path().join("never.tif");
        let bad_crs = Raster::new(grid.clone().with_crs(Crs::new("EPSG:999999")), vec![1.0f32; 4]).unwrap();
        assert!(write_raster(&p, &bad_crs, &WriteOptions::continuous()).is_err());
        let clash = Raster::new(grid.clone(), vec![1.0f32, -9999.0, 3.0, 4.0]).unwrap();
        let e = write_raster(&p, &clash, &WriteOptions::continuous()).unwrap_err().to_string();
        assert!(e.contains("nodata value -9999") && e.contains("row 0, col 1"), "{e}");
        let nan_nd = WriteOptions { nodata: Some(f64::NAN), ..WriteOptions::continuous() };
        assert!(write_raster(&p, &r, &nan_nd).is_err());
        assert!(!p.exists());
        assert_eq!(files_in(dir.path()), vec![target]);
    }

    #[test]
    fn same_input_gives_identical_bytes() {
        let dir = tmp();
        let n = 700; // larger than one block: overviews included
        let r = Raster::new(utm_grid(n, n), (0..n * n).map(|i| (i % 97) as f32 * 0.5).collect()).unwrap();
        for fmt in [RasterFormat::Cog, RasterFormat::GTiff] {
            let a = dir.path().join(format!("a_{fmt:?}.tif"));
            let b = dir.path().join(format!("b_{fmt:?}.tif"));
            let o = WriteOptions::continuous().with_format(fmt).with_tag("K", "v");
            write_raster(&a, &r, &o).unwrap();
            write_raster(&b, &r, &o).unwrap();
            assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "{fmt:?}");
        }
    }

    #[test]
    fn writing_replaces_an_existing_file_completely() {
        let dir = tmp();
        let p = dir.path().join("x.tif");
        let a = Raster::new(utm_grid(2, 2), vec![1.0f32; 4]).unwrap();
        let b = Raster::new(utm_grid(3, 1), vec![5.0f32; 3]).unwrap();
        write_raster(&p, &a, &WriteOptions::continuous()).unwrap();
        write_raster(&p, &b, &WriteOptions::continuous()).unwrap();
        let ds = Dataset::open(&p).unwrap();
        assert_eq!(ds.raster_size(), (1, 3));
        assert_eq!(read_all_f64(&p, 1).0, vec![5.0; 3]);
    }
}
