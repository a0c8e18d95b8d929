//! SYNTHETIC Landsat Collection 2 Level-2 and Sentinel-2 L2A scenes in the exact product layouts
//! (file names, DN encodings, MTL / MTD_MSIL2A.xml fields, QA_PIXEL / QA_RADSAT bits, SCL
//! classes), made by the tests. Every raster carries the tag `SYNTHETIC=yes` and every metadata
//! file says so: none of this is USGS or ESA data.
//!
//! The scene is a 4.8 km square on UTM 50N at 30 m (160 × 160 cells): vegetation whose NIR grows
//! from west to east, a town block, a round lake, a fill margin on the west, and per scene a cloud
//! box and a shadow box at places given by the caller. Clear cells have the same reflectance in
//! every scene, so a composite of clear observations equals the decoded values.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rsei_core::{Crs, GeoTransform, Grid, Raster};
use rsei_io::write::{write_raster, RasterFormat, WriteOptions};

pub const ROWS: usize = 160;
pub const COLS: usize = 160;
pub const FILL_COLS: usize = 4;

/// Cover of a cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cover {
    Vegetation,
    Town,
    Water,
}

pub fn cover(r: usize, c: usize) -> Cover {
    let (dr, dc) = (r as f64 - 110.0, c as f64 - 50.0);
    if dr * dr + dc * dc < 18.0 * 18.0 {
        Cover::Water
    } else if (30..70).contains(&r) && (90..140).contains(&c) {
        Cover::Town
    } else {
        Cover::Vegetation
    }
}

/// Surface reflectance of a clear cell: blue, green, red, NIR, SWIR1, SWIR2.
pub fn reflectance(r: usize, c: usize) -> [f64; 6] {
    let t = c as f64 / COLS as f64;
    let u = r as f64 / ROWS as f64;
    match cover(r, c) {
        Cover::Vegetation => [0.03 + 0.01 * u, 0.06, 0.05 - 0.02 * t, 0.22 + 0.18 * t, 0.20 - 0.06 * t, 0.11 - 0.04 * t],
        Cover::Town => [0.12, 0.15, 0.18 + 0.02 * u, 0.24, 0.30, 0.26],
        Cover::Water => [0.05, 0.06, 0.04, 0.02, 0.01, 0.005],
    }
}

/// Surface temperature (K) of a clear cell.
pub fn kelvin(r: usize, c: usize) -> f64 {
    match cover(r, c) {
        Cover::Vegetation => 296.0 + 4.0 * (r as f64 / ROWS as f64),
        Cover::Town => 309.0,
        Cover::Water => 291.0,
    }
}

/// Landsat C2 L2 SR DN of a reflectance (`(ρ + 0.2) / 2.75e-5`, rounded).
pub fn sr_dn(rho: f64) -> u16 {
    ((rho + 0.2) / 2.75e-5).round() as u16
}

/// Landsat C2 L2 ST DN of a temperature (`(K − 149) / 0.00341802`, rounded).
pub fn st_dn(k: f64) -> u16 {
    ((k - 149.0) / 0.00341802).round() as u16
}

/// The scene grid: UTM 50N, 30 m, origin (x0, y0) on multiples of 30 m.
pub fn scene_grid(x0: f64, y0: f64, cell: f64, rows: usize, cols: usize) -> Grid {
    Grid::new(rows, cols, GeoTransform::new(x0, cell, y0, -cell), Crs::new("EPSG:32650"))
}

/// A Landsat scene to write.
#[derive(Clone, Debug)]
pub struct LandsatSpec {
    pub spacecraft: &'static str,
    pub sensor: &'static str,
    pub level: &'static str,
    pub collection: &'static str,
    /// `YYYY-MM-DD`.
    pub date: &'static str,
    /// Cloud and shadow boxes: (row0, col0, row1, col1), half-open.
    pub cloud: (usize, usize, usize, usize),
    pub shadow: (usize, usize, usize, usize),
    /// Landsat 7 SLC-off: 3 fill rows every 20 rows.
    pub slc_stripes: bool,
    /// A band not to write (to test the missing-band error).
    pub omit: Option<&'static str>,
}

impl LandsatSpec {
    pub fn l8(date: &'static str, cloud: (usize, usize, usize, usize), shadow: (usize, usize, usize, usize)) -> Self {
        LandsatSpec { spacecraft: "LANDSAT_8", sensor: "OLI_TIRS", level: "L2SP", collection: "02", date, cloud, shadow, slc_stripes: false, omit: None }
    }
    fn oli(&self) -> bool {
        self.sensor.starts_with("OLI")
    }
    fn code(&self) -> &'static str {
        match self.spacecraft {
            "LANDSAT_4" => "LT04",
            "LANDSAT_5" => "LT05",
            "LANDSAT_7" => "LE07",
            "LANDSAT_9" => "LC09",
            _ => "LC08",
        }
    }
    pub fn product_id(&self) -> String {
        let d = self.date.replace('-', "");
        format!("{}_{}_123032_{d}_{d}_{}_T1", self.code(), self.level, self.collection)
    }
}

fn in_box(r: usize, c: usize, b: (usize, usize, usize, usize)) -> bool {
    r >= b.0 && r < b.2 && c >= b.1 && c < b.3
}

/// The QA_PIXEL word of a cell (C2 bits: 0 fill, 3 cloud, 4 shadow, 6 clear, 7 water; confidences
/// in bits 8–15 as USGS sets them for such cells).
pub fn qa_pixel(spec: &LandsatSpec, r: usize, c: usize) -> u16 {
    if c < FILL_COLS || (spec.slc_stripes && r % 20 < 3) {
        return 1;
    }
    if in_box(r, c, spec.cloud) {
        return 22280; // cloud, high cloud confidence
    }
    if in_box(r, c, spec.shadow) {
        return 23888; // shadow
    }
    if cover(r, c) == Cover::Water {
        21952 // clear + water
    } else {
        21824 // clear land, low confidences
    }
}

/// The QA_RADSAT word of a cell: band 4 saturated at (12, 12) and (12, 13); band 1 at (14, 14).
pub fn qa_radsat(r: usize, c: usize) -> u16 {
    match (r, c) {
        (12, 12) | (12, 13) => 1 << 3,
        (14, 14) => 1 << 0,
        _ => 0,
    }
}

fn write_u16(path: &Path, grid: &Grid, data: Vec<u16>, nodata: Option<f64>) {
    let mut o = WriteOptions::classes().with_format(RasterFormat::GTiff).with_tag("SYNTHETIC", "yes: made by the rsei tests; not USGS or ESA data");
    o.nodata = nodata;
    o.overviews = rsei_io::write::Overviews::None;
    write_raster(path, &Raster::new(grid.clone(), data).unwrap(), &o).unwrap();
}

/// Writes a Landsat C2 L2 scene folder (USGS names) under `dir`; returns the MTL path.
pub fn write_landsat(dir: &Path, grid: &Grid, spec: &LandsatSpec) -> PathBuf {
    let id = spec.product_id();
    let folder = dir.join(&id);
    std::fs::create_dir_all(&folder).unwrap();
    let (rows, cols) = grid.shape();
    let qa: Vec<u16> = (0..rows * cols).map(|i| qa_pixel(spec, i / cols, i % cols)).collect();
    let bands: Vec<(&str, usize)> = if spec.oli() {
        vec![("SR_B1", 0), ("SR_B2", 0), ("SR_B3", 1), ("SR_B4", 2), ("SR_B5", 3), ("SR_B6", 4), ("SR_B7", 5)]
    } else {
        vec![("SR_B1", 0), ("SR_B2", 1), ("SR_B3", 2), ("SR_B4", 3), ("SR_B5", 4), ("SR_B7", 5)]
    };
    let mut names = Vec::new();
    for (name, k) in &bands {
        names.push(name.to_string());
        if spec.omit == Some(*name) {
            continue;
        }
        let v: Vec<u16> = (0..rows * cols)
            .map(|i| {
                let (r, c) = (i / cols, i % cols);
                match qa[i] {
                    1 => 0,
                    22280 => sr_dn(0.5 + 0.01 * *k as f64),
                    23888 => sr_dn(reflectance(r, c)[*k] * 0.3),
                    _ => sr_dn(reflectance(r, c)[*k]),
                }
            })
            .collect();
        write_u16(&folder.join(format!("{id}_{name}.TIF")), grid, v, Some(0.0));
    }
    let st = if spec.oli() { "ST_B10" } else { "ST_B6" };
    if spec.level == "L2SP" {
        let v: Vec<u16> = (0..rows * cols)
            .map(|i| match qa[i] {
                1 => 0,
                22280 => st_dn(265.0),
                _ => st_dn(kelvin(i / cols, i % cols)),
            })
            .collect();
        write_u16(&folder.join(format!("{id}_{st}.TIF")), grid, v, Some(0.0));
    }
    write_u16(&folder.join(format!("{id}_QA_PIXEL.TIF")), grid, qa, Some(1.0));
    let rs: Vec<u16> = (0..rows * cols).map(|i| qa_radsat(i / cols, i % cols)).collect();
    write_u16(&folder.join(format!("{id}_QA_RADSAT.TIF")), grid, rs, None);
    let mtl = folder.join(format!("{id}_MTL.txt"));
    std::fs::write(&mtl, mtl_text(spec, &id, &names, st)).unwrap();
    mtl
}

fn mtl_text(spec: &LandsatSpec, id: &str, bands: &[String], st: &str) -> String {
    let mut s = String::new();
    s += "GROUP = LANDSAT_METADATA_FILE\n  GROUP = PRODUCT_CONTENTS\n";
    s += "    ORIGIN = \"SYNTHETIC test scene made by the rsei tests; not USGS data\"\n";
    s += &format!("    LANDSAT_PRODUCT_ID = \"{id}\"\n    PROCESSING_LEVEL = \"{}\"\n    COLLECTION_NUMBER = {}\n", spec.level, spec.collection);
    for b in bands {
        s += &format!("    FILE_NAME_BAND_{} = \"{id}_{b}.TIF\"\n", b.trim_start_matches("SR_B"));
    }
    s += &format!("    FILE_NAME_QUALITY_L1_PIXEL = \"{id}_QA_PIXEL.TIF\"\n  END_GROUP = PRODUCT_CONTENTS\n");
    s += &format!(
        "  GROUP = IMAGE_ATTRIBUTES\n    SPACECRAFT_ID = \"{}\"\n    SENSOR_ID = \"{}\"\n    WRS_PATH = 123\n    WRS_ROW = 32\n    DATE_ACQUIRED = {}\n  END_GROUP = IMAGE_ATTRIBUTES\n",
        spec.spacecraft, spec.sensor, spec.date
    );
    s += "  GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS\n";
    for b in bands {
        let n = b.trim_start_matches("SR_B");
        s += &format!("    REFLECTANCE_MULT_BAND_{n} = 2.75e-05\n    REFLECTANCE_ADD_BAND_{n} = -0.2\n");
    }
    s += "  END_GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS\n";
    if spec.level == "L2SP" {
        s += &format!("  GROUP = LEVEL2_SURFACE_TEMPERATURE_PARAMETERS\n    TEMPERATURE_MULT_BAND_{st} = 0.00341802\n    TEMPERATURE_ADD_BAND_{st} = 149.0\n  END_GROUP = LEVEL2_SURFACE_TEMPERATURE_PARAMETERS\n");
    }
    s += "END_GROUP = LANDSAT_METADATA_FILE\nEND\n";
    s
}

/// A Sentinel-2 L2A SAFE (baseline `baseline`, BOA offset −1000 from 04.00) on `grid10` (10 m):
/// B02, B03, B04 at 10 m, B8A, B11, B12 and SCL at 20 m, as JPEG 2000 (lossless) when
/// `gdal_translate` is available, else GeoTIFF. Returns the SAFE folder.
pub fn write_s2(dir: &Path, grid10: &Grid, date: &str, baseline: &str) -> PathBuf {
    let d = date.replace('-', "");
    let nb = baseline.replace('.', "");
    let safe = dir.join(format!("S2B_MSIL2A_{d}T030000_N{nb}_R032_T50TMK_{d}T060000.SAFE"));
    let img = safe.join(format!("GRANULE/L2A_T50TMK_A000001_{d}T030000/IMG_DATA"));
    std::fs::create_dir_all(img.join("R10m")).unwrap();
    std::fs::create_dir_all(img.join("R20m")).unwrap();
    let offset = if baseline >= "04.00" { 1000.0 } else { 0.0 };
    let t = grid10.transform();
    let grid20 = Grid::new(grid10.rows() / 2, grid10.cols() / 2, GeoTransform::new(t.x0, 20.0, t.y0, -20.0), grid10.crs().clone());
    // reflectance of a 10 m cell: the 30 m scene pattern (row, col scaled by 1/3)
    let rho = |r: usize, c: usize, k: usize| reflectance(r / 3, c / 3)[k];
    let dn = |v: f64| ((v * 10000.0) + offset).round() as u16;
    let jp2 = std::process::Command::new("gdal_translate").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    let put = |path: PathBuf, g: &Grid, data: Vec<u16>| {
        let tif = path.with_extension("tif");
        write_u16(&tif, g, data, Some(0.0));
        if jp2 {
            let ok = std::process::Command::new("gdal_translate")
                .args(["-q", "-of", "JP2OpenJPEG", "-co", "QUALITY=100", "-co", "REVERSIBLE=YES", "-co", "YCBCR420=NO"])
                .arg(&tif)
                .arg(&path)
                .status()
                .unwrap()
                .success();
            assert!(ok, "gdal_translate to JPEG 2000");
            std::fs::remove_file(&tif).unwrap();
        }
    };
    let tile = format!("T50TMK_{d}T030000");
    for (name, k) in [("B02", 0), ("B03", 1), ("B04", 2)] {
        let v: Vec<u16> = (0..grid10.len()).map(|i| dn(rho(i / grid10.cols(), i % grid10.cols(), k))).collect();
        put(img.join(format!("R10m/{tile}_{name}_10m.jp2")), grid10, v);
    }
    for (name, k) in [("B8A", 3), ("B11", 4), ("B12", 5)] {
        let v: Vec<u16> = (0..grid20.len()).map(|i| dn(rho(2 * (i / grid20.cols()), 2 * (i % grid20.cols()), k))).collect();
        put(img.join(format!("R20m/{tile}_{name}_20m.jp2")), &grid20, v);
    }
    // SCL: 4 vegetation, 5 town, 6 water; clouds (9) in the first rows
    let scl: Vec<u16> = (0..grid20.len())
        .map(|i| {
            let (r, c) = (2 * (i / grid20.cols()), 2 * (i % grid20.cols()));
            if r < 30 {
                9
            } else {
                match cover(r / 3, c / 3) {
                    Cover::Vegetation => 4,
                    Cover::Town => 5,
                    Cover::Water => 6,
                }
            }
        })
        .collect();
    put(img.join(format!("R20m/{tile}_SCL_20m.jp2")), &grid20, scl);
    let offsets: String = if baseline >= "04.00" {
        let o: String = (0..13).map(|b| format!("        <BOA_ADD_OFFSET band_id=\"{b}\">-1000</BOA_ADD_OFFSET>\n")).collect();
        format!("      <BOA_ADD_OFFSET_VALUES_LIST>\n{o}      </BOA_ADD_OFFSET_VALUES_LIST>\n")
    } else {
        String::new()
    };
    let xml = format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n<!-- SYNTHETIC test product made by the rsei tests; not ESA data -->\n<n1:Level-2A_User_Product xmlns:n1=\"https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd\">\n  <n1:General_Info>\n    <Product_Info>\n      <PRODUCT_START_TIME>{date}T03:00:00.000Z</PRODUCT_START_TIME>\n      <PRODUCT_URI>{}</PRODUCT_URI>\n      <PROCESSING_LEVEL>Level-2A</PROCESSING_LEVEL>\n      <PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE>\n      <PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE>\n      <Datatake datatakeIdentifier=\"GS2B\">\n        <SPACECRAFT_NAME>Sentinel-2B</SPACECRAFT_NAME>\n      </Datatake>\n    </Product_Info>\n    <Product_Image_Characteristics>\n      <QUANTIFICATION_VALUES_LIST>\n        <BOA_QUANTIFICATION_VALUE unit=\"none\">10000</BOA_QUANTIFICATION_VALUE>\n      </QUANTIFICATION_VALUES_LIST>\n{offsets}    </Product_Image_Characteristics>\n  </n1:General_Info>\n</n1:Level-2A_User_Product>\n",
        safe.file_name().unwrap().to_string_lossy()
    );
    std::fs::write(safe.join("MTD_MSIL2A.xml"), xml).unwrap();
    safe
}

/// A GeoJSON polygon (WGS84 lon/lat) of the cells (r0..r1, c0..c1) of `grid`.
pub fn area_geojson(path: &Path, grid: &Grid, r0: usize, c0: usize, r1: usize, c1: usize) {
    let t = grid.transform();
    let (x0, y0) = t.xy(r0 as f64, c0 as f64);
    let (x1, y1) = t.xy(r1 as f64, c1 as f64);
    let pts = rsei_io::crs::reproject_points(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], grid.crs(), &Crs::new("EPSG:4326")).unwrap();
    let ring: Vec<String> = pts.iter().map(|(x, y)| format!("[{x}, {y}]")).collect();
    let gj = format!(
        "{{\"type\": \"FeatureCollection\", \"features\": [{{\"type\": \"Feature\", \"properties\": {{\"name\": \"Scene Town\"}}, \"geometry\": {{\"type\": \"Polygon\", \"coordinates\": [[{}]]}}}}]}}",
        ring.join(", ")
    );
    std::fs::write(path, gj).unwrap();
}

/// Three Landsat 8 scenes: two of 2019 (June, August) and one of July 2020, each with a cloud
/// box and a shadow box of its own.
pub fn two_years_l8() -> Vec<LandsatSpec> {
    vec![
        LandsatSpec::l8("2019-06-10", (20, 20, 50, 60), (60, 20, 75, 60)),
        LandsatSpec::l8("2019-08-13", (10, 120, 25, 155), (140, 10, 150, 40)),
        LandsatSpec::l8("2020-07-12", (90, 100, 130, 150), (130, 100, 140, 150)),
    ]
}

/// Writes the scenes of [`two_years_l8`] on `grid` into `dir`.
pub fn write_two_years_l8(dir: &Path, grid: &Grid) {
    for s in two_years_l8() {
        write_landsat(dir, grid, &s);
    }
}
