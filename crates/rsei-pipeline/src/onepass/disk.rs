//! The indicators of one area and year written by pass 1, strip by strip, into temporary files
//! beside the outputs (`OUT/<area>/.pass1-<year>/`), and read back by pass 2 in strips or whole.
//!
//! One raw little-endian file per layer over the area's whole grid (row-major): `ndvi`, `wet`,
//! `ndbsi`, `lst`, `mndwi` (f32, NaN = nodata), `water` (u8), `count09`, `count13`, `count11`
//! (u16) — 27 bytes per cell. Strips are written at their rows' offsets, so bands can arrive in
//! any order and a resumed pass rewrites only the bands it did not finish. The folder is
//! removed when the year's outputs are written.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rsei_core::Grid;

use crate::compute::{StripOut, StudyGrid, YearIndicators};
use crate::error::{Context, Result};

/// The layers of the files: name and bytes per cell.
const LAYERS: [(&str, usize); 9] =
    [("ndvi", 4), ("wet", 4), ("ndbsi", 4), ("lst", 4), ("mndwi", 4), ("water", 1), ("count09", 2), ("count13", 2), ("count11", 2)];

/// Index of a layer in [`LAYERS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DiskLayer {
    Ndvi = 0,
    Wet = 1,
    Ndbsi = 2,
    Lst = 3,
    Mndwi = 4,
    Water = 5,
    Count09 = 6,
    Count13 = 7,
    Count11 = 8,
}

/// The temporary files of one year.
#[derive(Clone, Debug)]
pub(crate) struct YearFiles {
    dir: PathBuf,
    rows: usize,
    cols: usize,
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn u16_bytes(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl YearFiles {
    /// The folder of the files of `year` of the area whose outputs go to `area_dir`.
    pub fn dir_of(area_dir: &Path, year: i32) -> PathBuf {
        area_dir.join(format!(".pass1-{year}"))
    }

    /// Opens (creating when absent, keeping what is there) the files of a grid.
    pub fn open(dir: &Path, grid: &Grid) -> Result<YearFiles> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating the temporary folder {}", dir.display()))?;
        let f = YearFiles { dir: dir.to_path_buf(), rows: grid.rows(), cols: grid.cols() };
        for (name, bytes) in LAYERS {
            let p = f.path(name);
            let file = OpenOptions::new().create(true).truncate(false).write(true).open(&p).with_context(|| format!("creating {}", p.display()))?;
            let len = (grid.len() * bytes) as u64;
            if file.metadata().map(|m| m.len()).unwrap_or(0) != len {
                file.set_len(len).with_context(|| format!("sizing {} ({} bytes; is the disk full?)", p.display(), len))?;
            }
        }
        Ok(f)
    }

    /// Whether the files of a grid are all there with their sizes (for a resumed pass).
    pub fn complete(dir: &Path, grid: &Grid) -> bool {
        LAYERS.iter().all(|(name, bytes)| std::fs::metadata(dir.join(format!("{name}.raw"))).is_ok_and(|m| m.len() == (grid.len() * bytes) as u64))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.raw"))
    }

    fn write_at(&self, layer: usize, first_cell: usize, bytes: &[u8]) -> Result<()> {
        let (name, size) = LAYERS[layer];
        let p = self.path(name);
        let mut f = OpenOptions::new().write(true).open(&p).with_context(|| format!("opening {}", p.display()))?;
        f.seek(SeekFrom::Start((first_cell * size) as u64)).with_context(|| format!("writing {}", p.display()))?;
        f.write_all(bytes).with_context(|| format!("writing {} (is the disk full?)", p.display()))?;
        Ok(())
    }

    /// Writes a finished strip at its rows.
    pub fn write_strip(&self, s: &StripOut) -> Result<()> {
        self.write_rows(s.w5.row, [&s.ndvi, &s.wet, &s.ndbsi, &s.lst, &s.mndwi], &s.water, [&s.count09, &s.count13, &s.count11])
    }

    /// Writes rows from `first_row` on: NDVI, WET, NDBSI, LST and MNDWI, the water mask and the
    /// three counts (each over the same full-width rows).
    pub fn write_rows(&self, first_row: usize, layers: [&[f32]; 5], water: &[bool], counts: [&[u16]; 3]) -> Result<()> {
        let first = first_row * self.cols;
        for (k, v) in layers.into_iter().enumerate() {
            self.write_at(k, first, &f32_bytes(v))?;
        }
        self.write_at(DiskLayer::Water as usize, first, &water.iter().map(|&w| u8::from(w)).collect::<Vec<u8>>())?;
        for (k, v) in counts.into_iter().enumerate() {
            self.write_at(DiskLayer::Count09 as usize + k, first, &u16_bytes(v))?;
        }
        Ok(())
    }

    fn read_bytes(&self, layer: DiskLayer, rows: std::ops::Range<usize>) -> Result<Vec<u8>> {
        let (name, size) = LAYERS[layer as usize];
        let p = self.path(name);
        let mut f = File::open(&p).with_context(|| format!("opening {}", p.display()))?;
        f.seek(SeekFrom::Start((rows.start * self.cols * size) as u64)).with_context(|| format!("reading {}", p.display()))?;
        let mut buf = vec![0u8; rows.len() * self.cols * size];
        f.read_exact(&mut buf).with_context(|| format!("reading {}", p.display()))?;
        Ok(buf)
    }

    /// Writes rows of the year's RSEI (pass 2 out of core), a file beside the layers.
    pub fn write_rsei(&self, first_row: usize, v: &[f32]) -> Result<()> {
        let p = self.dir.join("rsei.raw");
        let mut f = OpenOptions::new().create(true).truncate(false).write(true).open(&p).with_context(|| format!("creating {}", p.display()))?;
        f.seek(SeekFrom::Start((first_row * self.cols * 4) as u64)).with_context(|| format!("writing {}", p.display()))?;
        f.write_all(&f32_bytes(v)).with_context(|| format!("writing {} (is the disk full?)", p.display()))?;
        Ok(())
    }

    /// Rows of the year's RSEI written by [`YearFiles::write_rsei`].
    pub fn read_rsei(&self, rows: std::ops::Range<usize>) -> Result<Vec<f32>> {
        let p = self.dir.join("rsei.raw");
        let mut f = File::open(&p).with_context(|| format!("opening {}", p.display()))?;
        f.seek(SeekFrom::Start((rows.start * self.cols * 4) as u64)).with_context(|| format!("reading {}", p.display()))?;
        let mut buf = vec![0u8; rows.len() * self.cols * 4];
        f.read_exact(&mut buf).with_context(|| format!("reading {}", p.display()))?;
        Ok(buf.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    /// Rows of a float layer.
    pub fn read_f32(&self, layer: DiskLayer, rows: std::ops::Range<usize>) -> Result<Vec<f32>> {
        Ok(self.read_bytes(layer, rows)?.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    /// Rows of a count layer.
    pub fn read_u16(&self, layer: DiskLayer, rows: std::ops::Range<usize>) -> Result<Vec<u16>> {
        Ok(self.read_bytes(layer, rows)?.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect())
    }

    /// Rows of the water mask.
    pub fn read_water(&self, rows: std::ops::Range<usize>) -> Result<Vec<bool>> {
        Ok(self.read_bytes(DiskLayer::Water, rows)?.into_iter().map(|b| b != 0).collect())
    }

    /// The whole year in memory.
    pub fn load(&self, study: &StudyGrid, year: i32) -> Result<YearIndicators> {
        let all = 0..self.rows;
        let mut ind = YearIndicators::empty(study, year);
        ind.ndvi = self.read_f32(DiskLayer::Ndvi, all.clone())?;
        ind.wet = self.read_f32(DiskLayer::Wet, all.clone())?;
        ind.ndbsi = self.read_f32(DiskLayer::Ndbsi, all.clone())?;
        ind.lst_celsius = self.read_f32(DiskLayer::Lst, all.clone())?;
        ind.mndwi = self.read_f32(DiskLayer::Mndwi, all.clone())?;
        ind.water = self.read_water(all.clone())?;
        ind.count_mod09 = self.read_u16(DiskLayer::Count09, all.clone())?;
        ind.count_mod13 = self.read_u16(DiskLayer::Count13, all.clone())?;
        ind.count_mod11 = self.read_u16(DiskLayer::Count11, all)?;
        Ok(ind)
    }

    /// Rows and columns of the grid.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Removes the folder.
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
