//! Pass 1: one sweep over the archive that decodes each granule block once and feeds every
//! (area, year) composite that needs it.
//!
//! ```text
//!  for each band of the global MODIS lattice (rows of the 1 km grid, whole tiles' width):
//!     the strips of the areas crossing the band (full area width, the band's rows)
//!     events = (date, product) needed by any target (area, year) in the band, in date order
//!     for each chunk of events (read in parallel):
//!        each granule of the event: every layer decoded once over boxes of the strips that
//!        use it (a window of the tile) → each area's strip pasted from it → QA → observation
//!        each target whose window holds the date adds the observation (dates in order)
//!     a target whose last date has passed finishes its strip's composites → indicators
//! ```
//!
//! A target's composites receive exactly the observations, in exactly the order, that the
//! per-year path ([`crate::compute::YearJob::run`]) adds: the same mosaics (a shared decode is
//! copied cell for cell; a file off the lattice is warped onto each area's strip as before), the
//! same QA, the f64 sums in date order. So every bit of the result is the same; only the number
//! of decodes changes (once per granule layer and band instead of once per year, area and strip).

use std::collections::BTreeMap;

use rayon::prelude::*;
use rsei_core::grid::modis::{self, Resolution};
use rsei_core::{Grid, Window};
use rsei_io::products::ProductKind;
use rsei_io::scan::Granule;
use rsei_io::ModisDate;

use crate::archive::Selection;
use crate::compute::{layers_of, mosaic_buffers, obs09, obs11, obs13, open_layer, prepare_mod09, LayerBuf, Obs09In, Obs1, StripComposites, StripOut, StripWindows, StudyGrid};
use crate::error::{Context, Error, Result};
use crate::options::{NdviSource, RseiRunOptions};
use crate::progress::Progress;

/// Products in the order their observations of one date are added (each has its own composite,
/// so any fixed order gives the same bits).
const PRODUCTS: [ProductKind; 3] = [ProductKind::Mod11A2, ProductKind::Mod13A1, ProductKind::Mod09A1];

/// Dates read in parallel before they are added in order.
const EVENT_CHUNK: usize = 8;

/// One (area, year) composite to compute.
pub(crate) struct SweepTarget<'a> {
    /// Index of the area in [`Sweep::areas`].
    pub area: usize,
    /// Target year.
    pub year: i32,
    /// Granules of the window: MOD09A1, MOD13A1, MOD11A2.
    pub sels: [Selection<'a>; 3],
    /// Global band indices to compute (the area's bands not yet done).
    pub bands: Vec<usize>,
}

/// What to sweep.
pub(crate) struct Sweep<'a> {
    /// Options of the run.
    pub opts: &'a RseiRunOptions,
    /// The areas' grids.
    pub areas: Vec<&'a StudyGrid>,
    /// The composites to compute.
    pub targets: Vec<SweepTarget<'a>>,
    /// Rows of the 1 km grid per band (the band of global row r is r / band_rows).
    pub band_rows: usize,
    /// Bytes of observations read ahead (decoded, waiting to be added).
    pub read_ahead: usize,
}

/// The whole sinusoidal world at `res` (18 × 36 tiles): every study grid is a window of it.
pub(crate) fn world(res: Resolution) -> Grid {
    let t = modis::tile_grid(0, 0, res);
    let n = res.cells_per_tile();
    Grid::new(18 * n, 36 * n, *t.transform(), t.crs().clone())
}

/// Where `g` lies on lattice `world` as (row, col) of its first cell; `None` when it is not on it.
pub(crate) fn offset_on(world: &Grid, g: &Grid) -> Option<(usize, usize)> {
    if g.crs() != world.crs() {
        return None;
    }
    let (w, t) = (world.transform(), g.transform());
    if (t.dx - w.dx).abs() > 1e-9 * w.dx.abs() || (t.dy - w.dy).abs() > 1e-9 * w.dy.abs() {
        return None;
    }
    let c = (t.x0 - w.x0) / w.dx;
    let r = (t.y0 - w.y0) / w.dy;
    if (c - c.round()).abs() > 1e-6 || (r - r.round()).abs() > 1e-6 || c.round() < 0.0 || r.round() < 0.0 {
        return None;
    }
    let (r, c) = (r.round() as usize, c.round() as usize);
    (r + g.rows() <= world.rows() && c + g.cols() <= world.cols()).then_some((r, c))
}

/// The global row of an area's first 1 km row (rows of grids off the lattice count from the
/// grid's own top).
fn first_row_1km(study: &StudyGrid) -> usize {
    offset_on(&world(Resolution::Km1), &study.grid_1km).map_or(0, |(r, _)| r)
}

/// The global bands an area's rows fall in.
pub(crate) fn bands_of(study: &StudyGrid, band_rows: usize) -> Vec<usize> {
    let r0 = first_row_1km(study);
    let r1 = r0 + study.grid_1km.rows();
    (r0 / band_rows..r1.div_ceil(band_rows)).collect()
}

/// The strip of an area in global band `band` (`None` when the area does not cross it).
pub(crate) fn strip_in_band(study: &StudyGrid, band: usize, band_rows: usize) -> Option<StripWindows> {
    let r0 = first_row_1km(study);
    let rows = study.grid_1km.rows();
    let a = (band * band_rows).max(r0);
    let b = ((band + 1) * band_rows).min(r0 + rows);
    (a < b).then(|| StripWindows::new(study, Window::new(a - r0, 0, b - a, study.grid_1km.cols())))
}

/// One (date, product) of a band and the tiles each area reads for it.
struct Event<'a> {
    kind: ProductKind,
    /// (area, its strip, the tiles of the date over the area in inventory order).
    areas: Vec<(usize, StripWindows, Vec<&'a Granule>)>,
}

/// One decoded layer of one granule: a window of the world lattice shared by every strip, or the
/// open file when it must be warped onto each area's grid.
enum Decoded {
    /// One decoded window per cluster of strips ([`clusters`]).
    Shared(Vec<(Window, LayerBuf)>),
    Warped(rsei_io::LayerReader),
}

/// The bounding box of two windows.
fn bbox(a: &Window, b: &Window) -> Window {
    let (r0, c0) = (a.row.min(b.row), a.col.min(b.col));
    let (r1, c1) = (a.row_end().max(b.row_end()), a.col_end().max(b.col_end()));
    Window::new(r0, c0, r1 - r0, c1 - c0)
}

/// The windows to decode for strips `ws` of one granule: strips are merged into their bounding
/// box while it overlaps them or adds at most a quarter of their cells (one box for neighbouring
/// strips; separate boxes for areas far apart in a band, so the cells between them are not
/// decoded). Every strip lies inside exactly one box; the boxes are disjoint.
fn clusters(ws: &[Window]) -> Vec<Window> {
    let mut boxes: Vec<(Window, usize)> = ws.iter().map(|w| (*w, w.len())).collect();
    loop {
        let mut merged = false;
        'outer: for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                let (a, b) = (boxes[i], boxes[j]);
                let u = bbox(&a.0, &b.0);
                let overlap = !a.0.intersection(&b.0).is_empty();
                if overlap || 4 * u.len() <= 5 * (a.1 + b.1) {
                    boxes[i] = (u, a.1 + b.1);
                    boxes.swap_remove(j);
                    merged = true;
                    break 'outer;
                }
            }
        }
        if !merged {
            break;
        }
    }
    let mut out: Vec<Window> = boxes.into_iter().map(|(w, _)| w).collect();
    out.sort_by_key(|w| (w.row, w.col));
    out
}

/// An observation of one area's strip.
enum Obs {
    M09(Obs09In),
    M1(Obs1),
}

/// The observations of one event: per area of the event (same order), or the error that stopped it.
type EventObs = Result<Vec<(usize, Obs)>>;

impl<'a> Sweep<'a> {
    /// The window of area `a`'s strip on the world lattice of `kind` (`None` off the lattice).
    fn world_window(&self, a: usize, win: &StripWindows, kind: ProductKind) -> Option<Window> {
        let s = self.areas[a];
        let (w, g) = if kind == ProductKind::Mod11A2 { (win.wm, &s.grid_1km) } else { (win.w5, &s.grid) };
        let res = if kind == ProductKind::Mod11A2 { Resolution::Km1 } else { Resolution::M500 };
        let (r, c) = offset_on(&world(res), g)?;
        Some(Window::new(w.row + r, w.col + c, w.rows, w.cols))
    }

    /// Decodes the tiles of one event once and builds every area's observation.
    fn decode(&self, ev: &Event<'a>) -> EventObs {
        let kind = ev.kind;
        let res = if kind == ProductKind::Mod11A2 { Resolution::Km1 } else { Resolution::M500 };
        let wgrid = world(res);
        // the granules of the event, in order of first use
        let mut granules: Vec<&Granule> = Vec::new();
        for (_, _, gs) in &ev.areas {
            for g in gs {
                if !granules.iter().any(|x| std::ptr::eq(*x, *g)) {
                    granules.push(g);
                }
            }
        }
        let windows: Vec<Option<Window>> = ev.areas.iter().map(|(a, win, _)| self.world_window(*a, win, kind)).collect();
        let layers = layers_of(kind);
        let mut decoded: Vec<Vec<Decoded>> = Vec::with_capacity(granules.len());
        for g in &granules {
            // the strips that read this granule, on the world lattice, decoded in boxes
            let users: Vec<Option<Window>> = ev.areas.iter().zip(&windows).filter(|((_, _, gs), _)| gs.iter().any(|x| std::ptr::eq(*x, *g))).map(|(_, w)| *w).collect();
            // (an area off the lattice makes every strip of the granule read through the warp)
            let boxes: Option<Vec<Window>> = users.iter().copied().collect::<Option<Vec<Window>>>().map(|ws| clusters(&ws));
            let mut per_layer = Vec::with_capacity(layers.len());
            for &(layer, lk) in layers {
                let r = open_layer(g, layer)?;
                let shared = match &boxes {
                    Some(bs) => r.lattice_window(&wgrid)?.map(|fp| bs.iter().map(|b| b.intersection(&fp)).collect::<Vec<_>>()),
                    None => None,
                };
                per_layer.push(match shared {
                    Some(ds) => {
                        let mut parts = Vec::with_capacity(ds.len());
                        for d in ds {
                            let mut buf = LayerBuf::new(lk, d.len());
                            if !d.is_empty() {
                                buf.paste(&r, &wgrid, d).with_context(|| format!("reading {} of {}", layer, g.label()))?;
                            }
                            parts.push((d, buf));
                        }
                        Decoded::Shared(parts)
                    }
                    None => Decoded::Warped(r),
                });
            }
            decoded.push(per_layer);
        }
        // each area's mosaic, in its tiles' order, then its observation
        let mut out = Vec::with_capacity(ev.areas.len());
        for ((a, win, gs), ww) in ev.areas.iter().zip(&windows) {
            let study = self.areas[*a];
            let (aw, agrid) = if kind == ProductKind::Mod11A2 { (win.wm, &study.grid_1km) } else { (win.w5, &study.grid) };
            let mut bufs = mosaic_buffers(kind, aw.len());
            for g in gs {
                let k = granules.iter().position(|x| std::ptr::eq(*x, *g)).unwrap_or(0);
                for ((layer, _), (buf, dec)) in layers.iter().zip(bufs.iter_mut().zip(&decoded[k])) {
                    match (dec, ww) {
                        (Decoded::Shared(parts), Some(sw)) => {
                            // the strip lies in one box: the only part it intersects
                            for (d, src) in parts {
                                let rect = sw.intersection(d);
                                if !rect.is_empty() {
                                    buf.copy_rect(*sw, src, *d, rect);
                                }
                            }
                        }
                        (Decoded::Warped(r), _) => {
                            buf.paste(r, agrid, aw).with_context(|| format!("reading {} of {}", layer, g.label()))?;
                        }
                        (Decoded::Shared(..), None) => {
                            // an area off the lattice never shares a decode (see `union`)
                            return Err(Error::msg(format!("internal: shared decode of {} for an area off the MODIS lattice", g.label())));
                        }
                    }
                }
            }
            let obs = match kind {
                ProductKind::Mod11A2 => Obs::M1(obs11(bufs, aw.cols, win.counted(), self.opts)?),
                ProductKind::Mod13A1 => Obs::M1(obs13(bufs, self.opts)?),
                _ => Obs::M09(prepare_mod09(obs09(bufs, self.opts)?, self.opts)?),
            };
            out.push((*a, obs));
        }
        Ok(out)
    }

    /// The events of band `band` for the active targets (date order), and per target the indices
    /// of the events it adds.
    fn events(&self, band: usize, active: &[usize]) -> (Vec<Event<'a>>, Vec<Vec<usize>>) {
        type Key = (ModisDate, usize);
        let mut map: BTreeMap<Key, BTreeMap<usize, Vec<&'a Granule>>> = BTreeMap::new();
        for &t in active {
            let tg = &self.targets[t];
            for (pi, kind) in PRODUCTS.iter().enumerate() {
                if *kind == ProductKind::Mod13A1 && self.opts.ndvi_source != NdviSource::Mod13a1 {
                    continue;
                }
                let sel = &tg.sels[sel_index(*kind)];
                for (date, gs) in &sel.dates {
                    map.entry((*date, pi)).or_default().entry(tg.area).or_insert_with(|| gs.clone());
                }
            }
        }
        let keys: Vec<Key> = map.keys().copied().collect();
        let events: Vec<Event<'a>> = map
            .into_iter()
            .map(|((_, pi), areas)| Event {
                kind: PRODUCTS[pi],
                areas: areas
                    .into_iter()
                    .filter_map(|(a, gs)| strip_in_band(self.areas[a], band, self.band_rows).map(|w| (a, w, gs)))
                    .collect(),
            })
            .collect();
        let per_target = active
            .iter()
            .map(|&t| {
                let tg = &self.targets[t];
                keys.iter()
                    .enumerate()
                    .filter(|(_, (date, pi))| {
                        let kind = PRODUCTS[*pi];
                        !(kind == ProductKind::Mod13A1 && self.opts.ndvi_source != NdviSource::Mod13a1)
                            && tg.sels[sel_index(kind)].dates.iter().any(|(d, _)| d == date)
                    })
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        (events, per_target)
    }

    /// Cells × bytes of the observations of one event (for the read-ahead).
    fn event_bytes(&self, ev: &Event<'_>) -> usize {
        ev.areas
            .iter()
            .map(|(_, w, _)| match ev.kind {
                ProductKind::Mod11A2 => 12 * w.wm.len(),
                ProductKind::Mod13A1 => 12 * w.w5.len(),
                _ => 44 * w.w5.len(),
            })
            .sum()
    }

    /// The global bands to visit, in order.
    fn all_bands(&self) -> Vec<usize> {
        let mut b: Vec<usize> = self.targets.iter().flat_map(|t| t.bands.iter().copied()).collect();
        b.sort_unstable();
        b.dedup();
        b
    }

    /// Events of every band (for a progress total).
    pub fn work_units(&self) -> u64 {
        self.all_bands()
            .into_iter()
            .map(|b| {
                let active: Vec<usize> = (0..self.targets.len()).filter(|&t| self.targets[t].bands.contains(&b)).collect();
                self.events(b, &active).0.len() as u64
            })
            .sum()
    }

    /// Runs the sweep. `on_strip(target, band, strip)` receives each target's finished strip of
    /// each band (or the error that stopped the target; it is then left out of the rest of the
    /// sweep), from the calling thread, targets in a fixed order; an error it returns stops the sweep.
    pub fn run(&self, progress: &dyn Progress, on_strip: &mut dyn FnMut(usize, usize, Result<StripOut>) -> Result<()>) -> Result<()> {
        let mut failed = vec![false; self.targets.len()];
        for band in self.all_bands() {
            let active: Vec<usize> = (0..self.targets.len()).filter(|&t| !failed[t] && self.targets[t].bands.contains(&band)).collect();
            if active.is_empty() {
                continue;
            }
            let (events, per_target) = self.events(band, &active);
            // open composites: (target, its next event position, composites)
            let mut open: Vec<(usize, usize, StripComposites)> = Vec::new();
            let mut started = vec![false; active.len()];
            let mut pos = 0;
            while pos < events.len() {
                // a chunk of events within the read-ahead (at least one)
                let mut end = pos;
                let mut bytes = 0;
                while end < events.len() && end - pos < EVENT_CHUNK && (end == pos || bytes + self.event_bytes(&events[end]) <= self.read_ahead) {
                    bytes += self.event_bytes(&events[end]);
                    end += 1;
                }
                let obs: Vec<EventObs> = events[pos..end].par_iter().map(|ev| self.decode(ev)).collect();
                // targets whose first event is in this chunk open now
                for (k, &t) in active.iter().enumerate() {
                    if !started[k] && !failed[t] && per_target[k].first().is_some_and(|&e| e < end) {
                        started[k] = true;
                        let Some(win) = strip_in_band(self.areas[self.targets[t].area], band, self.band_rows) else { continue };
                        open.push((t, 0, StripComposites::new(win, self.opts)));
                    }
                }
                // errors of the chunk's events stop the targets that needed them
                let kpos = |t: usize| active.iter().position(|&x| x == t).unwrap_or(0);
                let mut errors: Vec<(usize, Error)> = Vec::new();
                for (t, next, _) in &open {
                    let list = &per_target[kpos(*t)];
                    for &e in list[*next..].iter().take_while(|&&e| e < end) {
                        if let Err(err) = &obs[e - pos] {
                            errors.push((*t, Error::msg(format!("year {}: {}", self.targets[*t].year, err.chain_text()))));
                            break;
                        }
                    }
                }
                for (t, e) in errors {
                    failed[t] = true;
                    open.retain(|(x, _, _)| *x != t);
                    on_strip(t, band, Err(e))?;
                }
                // every open target adds its events of the chunk, in date order
                let adds: Vec<Result<()>> = open
                    .par_iter_mut()
                    .map(|(t, next, sc)| {
                        let list = &per_target[kpos(*t)];
                        let area = self.targets[*t].area;
                        while *next < list.len() && list[*next] < end {
                            let e = list[*next];
                            if let Ok(v) = &obs[e - pos] {
                                if let Some((_, o)) = v.iter().find(|(a, _)| *a == area) {
                                    match (events[e].kind, o) {
                                        (ProductKind::Mod11A2, Obs::M1(o)) => sc.add_mod11(o)?,
                                        (ProductKind::Mod13A1, Obs::M1(o)) => sc.add_mod13(o)?,
                                        (_, Obs::M09(o)) => sc.add_mod09(o)?,
                                        _ => {}
                                    }
                                }
                            }
                            *next += 1;
                        }
                        Ok(())
                    })
                    .collect();
                drop(obs);
                for ((t, _, _), r) in open.iter().zip(&adds) {
                    if let Err(e) = r {
                        failed[*t] = true;
                        let _ = e;
                    }
                }
                let mut add_errors = Vec::new();
                for ((t, _, _), r) in open.iter().zip(adds) {
                    if let Err(e) = r {
                        add_errors.push((*t, e));
                    }
                }
                open.retain(|(t, _, _)| !failed[*t]);
                for (t, e) in add_errors {
                    on_strip(t, band, Err(e))?;
                }
                // targets past their last event finish
                let mut k = 0;
                while k < open.len() {
                    let (t, next, _) = &open[k];
                    if *next >= per_target[kpos(*t)].len() {
                        let (t, _, sc) = open.remove(k);
                        let strip = sc.finish(self.opts);
                        if strip.is_err() {
                            failed[t] = true;
                        }
                        on_strip(t, band, strip)?;
                    } else {
                        k += 1;
                    }
                }
                for _ in pos..end {
                    progress.inc(1);
                }
                pos = end;
            }
            // targets of the band without any event (cannot happen after the selection checks)
            for (k, &t) in active.iter().enumerate() {
                if !started[k] && !failed[t] {
                    failed[t] = true;
                    on_strip(t, band, Err(Error::msg(format!("year {}: no granule of the window over the area", self.targets[t].year))))?;
                }
            }
        }
        Ok(())
    }
}

/// Index of a product in a target's `sels` (MOD09A1, MOD13A1, MOD11A2).
fn sel_index(kind: ProductKind) -> usize {
    match kind {
        ProductKind::Mod13A1 => 1,
        ProductKind::Mod11A2 => 2,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_far_apart_are_decoded_in_separate_boxes() {
        // two strips of one band 2 000 columns apart: two boxes, no cell between them decoded
        let a = Window::new(0, 100, 512, 300);
        let b = Window::new(10, 2400, 502, 200);
        assert_eq!(clusters(&[b, a]), vec![a, b]);
        // neighbours 20 columns apart: one box (it adds less than a quarter of their cells)
        let c = Window::new(0, 420, 512, 300);
        assert_eq!(clusters(&[a, c]), vec![Window::new(0, 100, 512, 620)]);
        // overlapping strips: one box, whatever the order
        let d = Window::new(100, 350, 100, 1000);
        let boxes = clusters(&[d, a, b]);
        assert_eq!(boxes, vec![Window::new(0, 100, 512, 1250), b]);
        for w in [a, b, d] {
            assert_eq!(boxes.iter().filter(|x| x.intersection(&w) == w).count(), 1, "{w:?} in {boxes:?}");
        }
        for (i, x) in boxes.iter().enumerate() {
            for y in &boxes[i + 1..] {
                assert!(x.intersection(y).is_empty(), "{boxes:?}");
            }
        }
        assert!(clusters(&[]).is_empty());
    }
}
