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

    /// A streamed write gives the same file as the whole-array write: byte for byte for a COG
    /// (the tiles are laid out by the COG driver), cell for cell for a plain GeoTIFF (whose tiles
    /// land in the file in the order they were written): floats with NaN (nodata), classes,
    /// several integer bands, with overviews, in strips that do not divide the grid.
    #[test]
    fn streamed_writes_equal_whole_writes() {
        let same = |a: &Path, b: &Path, bands: usize, fmt: RasterFormat, what: &str| {
            if fmt == RasterFormat::Cog {
                assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap(), "{what} {fmt:?}");
            } else {
                for band in 1..=bands {
                    let (x, y) = (read_all_f64(a, band), read_all_f64(b, band));
                    assert_eq!(x.1, y.1, "{what} nodata");
                    assert!(x.0.iter().zip(&y.0).all(|(p, q)| p.to_bits() == q.to_bits()), "{what} {fmt:?} band {band}");
                }
                let (da, db) = (Dataset::open(a).unwrap(), Dataset::open(b).unwrap());
                assert_eq!(da.metadata_item(PROVENANCE_TAG, ""), db.metadata_item(PROVENANCE_TAG, ""));
                assert_eq!(da.rasterband(1).unwrap().overview_count().unwrap(), db.rasterband(1).unwrap().overview_count().unwrap());
            }
        };
        let dir = tmp();
        let grid = utm_grid(1100, 700);
        let n = grid.len();
        let f: Vec<f32> = (0..n).map(|i| if i % 97 == 3 { f32::NAN } else { ((i * 7919) % 10007) as f32 / 10007.0 - 0.3 }).collect();
        let c: Vec<u8> = (0..n).map(|i| ((i / 700 + i % 700) / 37 % 6) as u8).collect();
        let k: [Vec<u16>; 3] = std::array::from_fn(|b| (0..n).map(|i| ((i * (b + 3)) % 17) as u16).collect());
        for fmt in [RasterFormat::Cog, RasterFormat::GTiff] {
            let mut o = WriteOptions::continuous().with_format(fmt).with_tag("RSEI_LAYER", "ndvi");
            o.band.description = Some("NDVI".into());
            o.band.unit = Some("1".into());
            o.provenance = Some(serde_json::json!({"inputs": 3, "area": "x"}));
            let a = dir.path().join(format!("whole_{fmt:?}.tif"));
            let b = dir.path().join(format!("streamed_{fmt:?}.tif"));
            write_raster(&a, &Raster::new(grid.clone(), f.clone()).unwrap(), &o).unwrap();
            rsei_io::write_bands_streamed(&b, &grid, &["NDVI"], &o, 301, &mut |band, w, out: &mut [f32]| {
                assert_eq!(band, 0);
                out.copy_from_slice(&f[w.row * 700..w.row_end() * 700]);
                Ok(())
            })
            .unwrap();
            same(&a, &b, 1, fmt, "float");

            let mut o = WriteOptions::classes().with_format(fmt);
            o.nodata = Some(255.0);
            let a = dir.path().join(format!("cw_{fmt:?}.tif"));
            let b = dir.path().join(format!("cs_{fmt:?}.tif"));
            write_raster(&a, &Raster::new(grid.clone(), c.clone()).unwrap(), &o).unwrap();
            rsei_io::write_bands_streamed(&b, &grid, &[""], &o, 128, &mut |_, w, out: &mut [u8]| {
                out.copy_from_slice(&c[w.row * 700..w.row_end() * 700]);
                Ok(())
            })
            .unwrap();
            same(&a, &b, 1, fmt, "classes");

            let o = WriteOptions::classes().with_format(fmt);
            let a = dir.path().join(format!("kw_{fmt:?}.tif"));
            let b = dir.path().join(format!("ks_{fmt:?}.tif"));
            write_bands(&a, &grid, &[("one", &k[0][..]), ("two", &k[1][..]), ("three", &k[2][..])], &o).unwrap();
            rsei_io::write_bands_streamed(&b, &grid, &["one", "two", "three"], &o, 1000, &mut |band, w, out: &mut [u16]| {
                out.copy_from_slice(&k[band][w.row * 700..w.row_end() * 700]);
                Ok(())
            })
            .unwrap();
            same(&a, &b, 3, fmt, "counts");
        }
        // only the four outputs pairs × 2 formats remain: no temporary source left behind
        assert_eq!(files_in(dir.path()).len(), 12);
        // a valid float equal to nodata is refused, naming the cell, and nothing is left
        let bad = dir.path().join("bad.tif");
        let e = rsei_io::write_bands_streamed(&bad, &grid, &["x"], &WriteOptions::continuous(), 100, &mut |_, w, out: &mut [f32]| {
            out.fill(0.0);
            if w.row == 200 {
                out[5] = -9999.0;
            }
            Ok(())
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("nodata value -9999") && e.contains("row 200, col 5"), "{e}");
        assert_eq!(files_in(dir.path()).len(), 12);
    }

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

/// Helpers to make small MODIS-like files.
mod fixtures {
    use super::*;
    use rsei_core::grid::modis::{tile_grid, Resolution};
    use rsei_io::naming::{modis_tags, ModisDate, Tile};
    use rsei_io::products::{Layer, Product};

    /// A 4 × 5 window of tile h27v05 at 500 m.
    pub fn small_tile_grid() -> Grid {
        tile_grid(27, 5, Resolution::M500).subgrid(rsei_core::Window::new(100, 200, 4, 5)).unwrap()
    }

    /// Writes a single-layer GeoTIFF with the MODIS tags.
    pub fn tagged<T: rsei_io::write::WriteValue>(
        path: &Path,
        grid: &Grid,
        data: Vec<T>,
        product: &str,
        layer: Layer,
        date: (u16, u16),
        nodata: Option<f64>,
    ) {
        let p = Product::from_short_name(product).unwrap();
        let mut o = WriteOptions { nodata, overviews: Overviews::None, ..WriteOptions::default() };
        o.tags = modis_tags(&p, layer, ModisDate::new(date.0, date.1).unwrap(), Tile::new(27, 5).unwrap());
        write_raster(path, &Raster::new(grid.clone(), data).unwrap(), &o).unwrap();
    }

    /// The nine per-layer files of one MOD09A1 granule, Planetary-Computer style.
    pub fn mod09a1_granule(dir: &Path, doy: u16, skip: Option<Layer>) -> Vec<PathBuf> {
        let g = small_tile_grid();
        let mut out = Vec::new();
        for spec in Product::from_short_name("MOD09A1").unwrap().layers() {
            if Some(spec.layer) == skip {
                continue;
            }
            let p = dir.join(format!("MOD09A1.A2019{doy:03}.h27v05.061.2019186034017_{}.tif", spec.hdf_name));
            match spec.layer {
                Layer::SurReflQc => {
                    write_raster(&p, &Raster::new(g.clone(), vec![1_073_741_824u32; 20]).unwrap(), &WriteOptions::classes()).unwrap()
                }
                Layer::SurReflState => {
                    write_raster(&p, &Raster::new(g.clone(), vec![8u16; 20]).unwrap(), &WriteOptions::classes()).unwrap()
                }
                _ => {
                    let v: Vec<i16> = (0..20).map(|i| 100 * i as i16).collect();
                    write_raster(&p, &Raster::new(g.clone(), v).unwrap(), &WriteOptions::classes()).unwrap()
                }
            }
            out.push(p);
        }
        out
    }
}

mod reader {
    use super::fixtures::*;
    use super::*;
    use rsei_core::Window;
    use rsei_io::products::Layer;
    use rsei_io::read::{identify, LayerReader};
    use rsei_io::{ModisDate, Tile};

    #[test]
    fn tags_identify_an_uninformative_name() {
        let dir = tmp();
        let g = small_tile_grid();
        let p = dir.path().join("export_17.tif");
        // NDVI DN: 5000 → 0.5, fill −3000, out of range 10001
        tagged(&p, &g, vec![5000i16, -3000, 10001, -2000, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], "MYD13A1", Layer::Ndvi, (2016, 353), None);
        let id = identify(&p).unwrap();
        assert_eq!(id.product.short_name(), "MYD13A1");
        assert_eq!(id.date, ModisDate::new(2016, 353).unwrap());
        assert_eq!(id.tile, Tile::new(27, 5).unwrap());
        let r = LayerReader::open(&id.layers[0]).unwrap();
        let v = r.read_f32(Window::new(0, 0, 1, 4)).unwrap();
        assert_eq!(v[0], 0.5);
        assert!(v[1].is_nan() && v[2].is_nan());
        assert_eq!(v[3], -0.2);
    }

    #[test]
    fn name_wins_over_tags_with_a_note() {
        let dir = tmp();
        let g = small_tile_grid();
        let p = dir.path().join("MOD13A1_NDVI_2016_017.tif");
        tagged(&p, &g, vec![100i16; 20], "MOD13A1", Layer::Ndvi, (2016, 33), None);
        let id = identify(&p).unwrap();
        assert_eq!(id.date, ModisDate::new(2016, 17).unwrap());
        assert!(id.notes.iter().any(|n| n.contains("name wins") && n.contains("2016-033")), "{:?}", id.notes);
    }

    #[test]
    fn signed_reliability_stored_as_bytes() {
        let dir = tmp();
        let g = small_tile_grid();
        let p = dir.path().join("MOD13A1_Rely_2016_001.tif");
        // 255 is −1 (fill) for an int8 layer stored in unsigned bytes
        let mut v = vec![0u8; 20];
        v[0] = 255;
        v[1] = 1;
        v[2] = 3;
        v[3] = 2;
        tagged(&p, &g, v, "MOD13A1", Layer::PixelReliability, (2016, 1), Some(255.0));
        let r = LayerReader::open_file(&p, None).unwrap();
        assert_eq!(r.spec().layer, Layer::PixelReliability);
        assert_eq!(r.read_raw_i32(Window::new(0, 0, 1, 4)).unwrap(), vec![-1, 1, 3, 2]);
        let f = r.read_f32(Window::new(0, 0, 1, 4)).unwrap();
        assert!(f[0].is_nan());
        assert_eq!(&f[1..], &[1.0, 3.0, 2.0]);
        assert!(r.read_raw_u32(Window::new(0, 0, 1, 1)).is_err(), "signed layer");
    }

    #[test]
    fn float_files_prescaled_or_dn() {
        let dir = tmp();
        let g = small_tile_grid();
        // LST as Float32 DN (values 7500..16000) → scaled; LST as Float32 kelvin → pre-scaled;
        // LST as Float32 °C (−5..40) → neither range: refused with both ranges in the message.
        let dn: Vec<f32> = (0..20).map(|i| 14000.0 + i as f32).collect();
        let p1 = dir.path().join("MOD11A2_LST_Day_1km_2019_177.tif");
        write_raster(&p1, &Raster::new(g.clone(), dn).unwrap(), &WriteOptions::continuous()).unwrap();
        let r1 = LayerReader::open_file(&p1, None);
        // the 500 m grid does not suit a 1 km layer: refused before decoding
        let e = r1.unwrap_err().to_string();
        assert!(e.contains("1 km grid"), "{e}");

        let g1 = rsei_core::grid::modis::tile_grid(27, 5, rsei_core::grid::modis::Resolution::Km1)
            .subgrid(Window::new(10, 10, 4, 5))
            .unwrap();
        let p1 = dir.path().join("MOD11A2_LST_Day_1km_2019_185.tif");
        let dn: Vec<f32> = (0..20).map(|i| 14000.0 + i as f32).collect();
        write_raster(&p1, &Raster::new(g1.clone(), dn).unwrap(), &WriteOptions::continuous()).unwrap();
        let r1 = LayerReader::open_file(&p1, None).unwrap();
        assert!(!r1.is_prescaled());
        // 14000 · 0.02 = 280 K
        assert_eq!(r1.read_f32(Window::new(0, 0, 1, 1)).unwrap()[0], 280.0);

        let p2 = dir.path().join("MOD11A2_LST_Day_1km_2019_193.tif");
        let k: Vec<f32> = (0..20).map(|i| 290.0 + i as f32 * 0.5).collect();
        write_raster(&p2, &Raster::new(g1.clone(), k).unwrap(), &WriteOptions::continuous()).unwrap();
        let r2 = LayerReader::open_file(&p2, None).unwrap();
        assert!(r2.is_prescaled());
        assert_eq!(r2.read_f32(Window::new(0, 1, 1, 1)).unwrap()[0], 290.5);
        assert_eq!(r2.read_f32(Window::new(0, 0, 1, 1)).unwrap()[0], 290.0, "nodata −9999 of the file is honoured, 290 kept");

        let p3 = dir.path().join("MOD11A2_LST_Day_1km_2019_201.tif");
        let c: Vec<f32> = (0..20).map(|i| -5.0 + i as f32 * 2.0).collect();
        write_raster(&p3, &Raster::new(g1, c).unwrap(), &WriteOptions::continuous()).unwrap();
        let e = LayerReader::open_file(&p3, None).unwrap_err().to_string();
        assert!(e.contains("fit neither") && e.contains("MOD11A2_LST_Day_1km_2019_201.tif"), "{e}");
    }

    #[test]
    fn a_foreign_scale_is_refused() {
        let dir = tmp();
        let g = small_tile_grid();
        let p = dir.path().join("MOD13A1_NDVI_2016_049.tif");
        let mut o = WriteOptions::classes();
        o.band.scale = Some(0.001);
        write_raster(&p, &Raster::new(g, vec![500i16; 20]).unwrap(), &o).unwrap();
        let e = LayerReader::open_file(&p, None).unwrap_err().to_string();
        assert!(e.contains("scale 0.001") && e.contains("0.0001"), "{e}");
    }

    #[test]
    fn files_that_are_not_modis() {
        let dir = tmp();
        let txt = dir.path().join("notes.txt");
        std::fs::write(&txt, "hello").unwrap();
        let e = identify(&txt).unwrap_err().to_string();
        assert!(e.contains("notes.txt"), "{e}");
        let plain = dir.path().join("dem.tif");
        write_raster(&plain, &Raster::new(utm_grid(2, 2), vec![1.0f32; 4]).unwrap(), &WriteOptions::continuous()).unwrap();
        let e = identify(&plain).unwrap_err().to_string();
        assert!(e.contains("dem.tif") && e.contains("no MODIS"), "{e}");
        let unknown = dir.path().join("MOD13A1_EVI_2016_001.tif");
        write_raster(&unknown, &Raster::new(fixtures::small_tile_grid(), vec![1i16; 20]).unwrap(), &WriteOptions::classes()).unwrap();
        let e = identify(&unknown).unwrap_err().to_string();
        assert!(e.contains("\"EVI\"") && e.contains("ndvi"), "{e}");
        let missing = LayerReader::open_file(&dir.path().join("MOD13A1_NDVI_2016_001.tif"), None).unwrap_err();
        assert!(matches!(missing, rsei_io::IoError::Open { .. }), "{missing}");
    }
}

mod inventory {
    use super::fixtures::*;
    use super::*;
    use rsei_io::products::{Layer, ProductKind};
    use rsei_io::scan::{scan_dir, RequiredLayers, ScanOptions};
    use rsei_io::{ModisDate, Tile};

    #[test]
    fn per_layer_granules_are_grouped_and_incomplete_ones_rejected() {
        let dir = tmp();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        mod09a1_granule(dir.path(), 177, None);
        mod09a1_granule(&sub, 185, None);
        let partial = mod09a1_granule(dir.path(), 193, Some(Layer::SurReflState));
        std::fs::write(dir.path().join("readme.txt"), "not a raster").unwrap();
        std::fs::write(dir.path().join("x.tif.aux.xml"), "<PAMDataset/>").unwrap();

        let inv = scan_dir(dir.path(), &ScanOptions::default()).unwrap();
        assert_eq!(inv.granules.len(), 2, "{:#?}", inv.rejected);
        let g = &inv.granules[0];
        assert_eq!((g.product.short_name().as_str(), g.tile, g.date), ("MOD09A1", Tile::new(27, 5).unwrap(), ModisDate::new(2019, 177).unwrap()));
        assert_eq!(g.layers.len(), 9);
        assert_eq!(inv.granules[1].date.doy, 185);
        assert!(g.layer(Layer::SurReflQc).unwrap().path.to_string_lossy().ends_with("_sur_refl_qc_500m.tif"));
        // 8 files of the incomplete granule + readme.txt; the sidecar is skipped
        assert_eq!(inv.rejected.len(), 9, "{:#?}", inv.rejected);
        for p in &partial {
            let r = inv.rejected.iter().find(|r| &r.path == p).unwrap();
            assert!(r.reason.contains("lacks required layer(s) sur_refl_state_500m"), "{}", r.reason);
            assert!(r.reason.contains("MOD09A1 h27v05 2019-193"), "{}", r.reason);
        }
        let readme = inv.rejected.iter().find(|r| r.path.ends_with("readme.txt")).unwrap();
        assert!(readme.reason.contains("readme.txt"), "{}", readme.reason);

        let s = inv.summary();
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].first.doy, s[0].last.doy, s[0].n_dates), (177, 185, 2));
        assert_eq!(s[0].layers.len(), 9);

        // asking only for the reflectance bands accepts the incomplete granule too
        let bands: Vec<Layer> = (1..=7).filter_map(Layer::reflectance_band).collect();
        let inv2 = scan_dir(dir.path(), &ScanOptions { required: RequiredLayers::Layers(bands), ..Default::default() }).unwrap();
        assert_eq!(inv2.granules.len(), 3);
        // asking for another product rejects every MODIS file as not asked for
        let inv3 = scan_dir(dir.path(), &ScanOptions { products: Some(vec![ProductKind::Mod13A1]), ..Default::default() }).unwrap();
        assert!(inv3.granules.is_empty());
        assert_eq!(inv3.rejected.iter().filter(|r| r.reason.contains("not asked for")).count(), 26);
    }

    #[test]
    fn duplicates_and_wrong_products() {
        let dir = tmp();
        mod09a1_granule(dir.path(), 177, None);
        // the same NDVI layer twice (MODIStsp and AppEEARS names) + its reliability
        let g = small_tile_grid();
        tagged(&dir.path().join("MOD13A1_NDVI_2019_177.tif"), &g, vec![1i16; 20], "MOD13A1", Layer::Ndvi, (2019, 177), None);
        tagged(&dir.path().join("MOD13A1_Rely_2019_177.tif"), &g, vec![0u8; 20], "MOD13A1", Layer::PixelReliability, (2019, 177), None);
        let dup = dir.path().join("MOD13A1.061__500m_16_days_NDVI_doy2019177_aid0001.tif");
        tagged(&dup, &g, vec![1i16; 20], "MOD13A1", Layer::Ndvi, (2019, 177), None);
        // a product we do not handle
        let q1 = dir.path().join("MOD09Q1.A2019177.h27v05.061.2019186034017_sur_refl_b01.tif");
        write_raster(&q1, &Raster::new(g.clone(), vec![1i16; 20]).unwrap(), &WriteOptions::classes()).unwrap();

        let inv = scan_dir(dir.path(), &ScanOptions::default()).unwrap();
        assert_eq!(inv.granules.len(), 2);
        assert_eq!(inv.granules[0].product.short_name(), "MOD09A1");
        assert_eq!(inv.granules[1].product.short_name(), "MOD13A1");
        assert_eq!(inv.rejected.len(), 2, "{:#?}", inv.rejected);
        // the AppEEARS file names its collection (061), the MODIStsp one does not: AppEEARS wins
        let loser = dir.path().join("MOD13A1_NDVI_2019_177.tif");
        let r_dup = inv.rejected.iter().find(|r| r.path == loser).unwrap();
        assert!(r_dup.reason.contains("duplicate") && r_dup.reason.contains("aid0001.tif"), "{}", r_dup.reason);
        assert_eq!(inv.granules[1].layer(Layer::Ndvi).unwrap().path, dup);
        let r_q1 = inv.rejected.iter().find(|r| r.path == q1).unwrap();
        assert!(r_q1.reason.contains("MOD09Q1") && r_q1.reason.contains("not handled"), "{}", r_q1.reason);
        // the scan is deterministic
        assert_eq!(scan_dir(dir.path(), &ScanOptions::default()).unwrap(), inv);
        assert!(scan_dir(&dir.path().join("nope"), &ScanOptions::default()).is_err());
    }
}
