//! In-memory rasters: a [`Grid`] plus row-major cell values.
//!
//! Float rasters use `NaN` for "no data" inside the core (one convention, no separate mask to keep
//! in step); writers turn `NaN` into the file's nodata value, so no NaN ever reaches an output file.
//!
//! ```
//! use rsei_core::grid::{Crs, GeoTransform, Grid, Window};
//! use rsei_core::raster::Raster;
//! let grid = Grid::new(2, 3, GeoTransform::new(0.0, 1.0, 2.0, -1.0), Crs::new("EPSG:3857"));
//! let r = Raster::new(grid, vec![1.0f32, 2.0, 3.0, 4.0, f32::NAN, 6.0]).unwrap();
//! assert_eq!(r.get(1, 2), 6.0);
//! assert_eq!(r.count_valid(), 5);
//! let w = r.window(Window::new(1, 1, 1, 2)).unwrap();
//! assert!(w.get(0, 0).is_nan());
//! ```

use crate::error::{CoreError, Result};
use crate::grid::{Grid, Window};

/// A raster of `T` values on a grid, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Raster<T> {
    grid: Grid,
    data: Vec<T>,
}

impl<T: Copy> Raster<T> {
    /// A raster from its grid and values; the length must match the grid.
    pub fn new(grid: Grid, data: Vec<T>) -> Result<Self> {
        if data.len() != grid.len() {
            return Err(CoreError::BufferSize { got: data.len(), expected: grid.len(), rows: grid.rows(), cols: grid.cols() });
        }
        Ok(Self { grid, data })
    }
    /// A raster with every cell set to `value`.
    pub fn filled(grid: Grid, value: T) -> Self {
        let n = grid.len();
        Self { grid, data: vec![value; n] }
    }
    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
    /// (rows, cols).
    pub fn shape(&self) -> (usize, usize) {
        self.grid.shape()
    }
    /// The values, row-major.
    pub fn data(&self) -> &[T] {
        &self.data
    }
    /// The values, row-major, mutable.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }
    /// Grid and values.
    pub fn into_parts(self) -> (Grid, Vec<T>) {
        (self.grid, self.data)
    }
    /// The values, consuming the raster.
    pub fn into_data(self) -> Vec<T> {
        self.data
    }
    /// Value of cell (row, col). Panics when out of range, like slice indexing.
    #[inline]
    pub fn get(&self, row: usize, col: usize) -> T {
        self.data[self.grid.index(row, col)]
    }
    /// Sets cell (row, col).
    #[inline]
    pub fn set(&mut self, row: usize, col: usize, v: T) {
        let i = self.grid.index(row, col);
        self.data[i] = v;
    }
    /// One row of values.
    pub fn row(&self, row: usize) -> &[T] {
        let c = self.grid.cols();
        &self.data[row * c..(row + 1) * c]
    }
    /// A copy of the cells inside a window.
    pub fn window(&self, w: Window) -> Result<Raster<T>> {
        let grid = self.grid.subgrid(w)?;
        let mut data = Vec::with_capacity(w.len());
        for r in w.row..w.row_end() {
            let start = self.grid.index(r, w.col);
            data.extend_from_slice(&self.data[start..start + w.cols]);
        }
        Ok(Raster { grid, data })
    }
    /// Writes `src` (whose shape is the window's) into the cells of window `w`.
    pub fn paste(&mut self, w: Window, src: &[T]) -> Result<()> {
        self.grid.check_window(w)?;
        if src.len() != w.len() {
            return Err(CoreError::BufferSize { got: src.len(), expected: w.len(), rows: w.rows, cols: w.cols });
        }
        for (i, r) in (w.row..w.row_end()).enumerate() {
            let start = self.grid.index(r, w.col);
            self.data[start..start + w.cols].copy_from_slice(&src[i * w.cols..(i + 1) * w.cols]);
        }
        Ok(())
    }
    /// A raster of the same grid with every value mapped.
    pub fn map<U: Copy>(&self, f: impl Fn(T) -> U) -> Raster<U> {
        Raster { grid: self.grid.clone(), data: self.data.iter().map(|&v| f(v)).collect() }
    }
}

impl Raster<f32> {
    /// Number of non-NaN cells.
    pub fn count_valid(&self) -> usize {
        self.data.iter().filter(|v| !v.is_nan()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{Crs, GeoTransform};

    #[test]
    fn window_paste_roundtrip() {
        let grid = Grid::new(4, 5, GeoTransform::new(0.0, 1.0, 4.0, -1.0), Crs::new("x"));
        let r = Raster::new(grid.clone(), (0..20).map(|v| v as f32).collect()).unwrap();
        let w = Window::new(1, 2, 2, 3);
        let sub = r.window(w).unwrap();
        assert_eq!(sub.data(), &[7.0, 8.0, 9.0, 12.0, 13.0, 14.0]);
        let mut z = Raster::filled(grid, 0.0f32);
        z.paste(w, sub.data()).unwrap();
        assert_eq!(z.get(2, 4), 14.0);
        assert_eq!(z.data().iter().filter(|&&v| v != 0.0).count(), 6);
        assert!(z.paste(Window::new(3, 3, 2, 2), &[0.0; 4]).is_err());
        assert!(Raster::new(z.grid().clone(), vec![0.0f32; 3]).is_err());
    }
}
