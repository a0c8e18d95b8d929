//! Chart → [`Scene`]: ranges, ticks, margins, series geometry, legend placement.
//!
//! Layout rules (all sizes in px):
//! - Fonts: title 15 bold, axis titles 12.5, tick labels, legend and notes 11.
//! - Margins grow to fit the widest tick label and the axis titles; the x tick count shrinks
//!   until labels are at least 12 px apart; long category labels are rotated 35°, and thinned if
//!   they still collide.
//! - Left and bottom axis lines with outward ticks, no box, optional light grid; heat maps have
//!   no axis lines.
//! - Legend [`LegendPosition::Auto`]: each plot corner is scored by how much drawn data
//!   (lines, points, bars, boxes, areas, notes, reference lines) its box would cover, on a 3 px
//!   occupancy grid; the first free corner (top-right, top-left, bottom-right, bottom-left) wins,
//!   and if none is free the legend goes outside on the right.

use super::model::*;
use crate::color::{ink, series_color, Ramp, Rgba};
use crate::font::{metrics, text_width, Weight};
use crate::scene::{Anchor, Prim, Rect, Scene, Seg, Stroke};
use crate::ticks::{auto_ticks, format_tick, nice_ticks, ticks_within};
use crate::{ReportError, Result};

const PAD: f32 = 10.0;
const TITLE_SIZE: f32 = 15.0;
const LABEL_SIZE: f32 = 12.5;
const TICK_SIZE: f32 = 11.0;
const LEGEND_SIZE: f32 = 11.0;
const TICK_LEN: f32 = 5.0;
const LINE_WIDTH: f32 = 1.8;
const LABEL_ANGLE: f32 = 35.0;
const LEGEND_SYMBOL_W: f32 = 22.0;
const LEGEND_PAD: f32 = 6.0;
const COLORBAR_W: f32 = 12.0;
/// Up to this many area series are filled (translucent); more are drawn as outlines only, since
/// stacked translucent fills turn into an opaque mass.
const MAX_FILLED_AREAS: usize = 6;

fn n_areas(chart: &Chart) -> usize {
    chart
        .series
        .iter()
        .filter(|s| matches!(s.kind, SeriesKind::Area { .. }))
        .count()
}

fn invalid(chart: &Chart, reason: impl Into<String>) -> ReportError {
    ReportError::InvalidChart {
        chart: chart.title.clone(),
        reason: reason.into(),
    }
}

/// Running min/max of finite values.
#[derive(Debug, Clone, Copy)]
struct Ext {
    lo: f64,
    hi: f64,
}

impl Ext {
    fn new() -> Self {
        Ext {
            lo: f64::INFINITY,
            hi: f64::NEG_INFINITY,
        }
    }
    fn add(&mut self, v: f64) {
        if v.is_finite() {
            self.lo = self.lo.min(v);
            self.hi = self.hi.max(v);
        }
    }
    fn is_empty(&self) -> bool {
        self.lo > self.hi
    }
    fn union(&mut self, o: Ext) {
        self.add(o.lo);
        self.add(o.hi);
    }
}

/// Placement of grouped bars or boxes along their category axis: offset of series `j` and width,
/// in data units.
#[derive(Debug, Clone)]
struct Grouping {
    /// series index → (offset, width)
    slots: Vec<Option<(f64, f64)>>,
}

fn grouping(
    chart: &Chart,
    is_member: impl Fn(&SeriesKind) -> bool,
    positions: impl Fn(&SeriesKind) -> Vec<f64>,
    fill: f64,
) -> Grouping {
    let members: Vec<usize> = chart
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| is_member(&s.kind))
        .map(|(i, _)| i)
        .collect();
    let mut slots = vec![None; chart.series.len()];
    if members.is_empty() {
        return Grouping { slots };
    }
    // slot = smallest gap between distinct positions (1 on category axes)
    let mut pos: Vec<f64> = members
        .iter()
        .flat_map(|&i| positions(&chart.series[i].kind))
        .filter(|v| v.is_finite())
        .collect();
    pos.sort_by(f64::total_cmp);
    pos.dedup();
    let gap = pos
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    let slot = if gap.is_finite() { gap } else { 1.0 };
    let group = slot * fill;
    let g = members.len() as f64;
    for (j, &i) in members.iter().enumerate() {
        let bw = group / g;
        slots[i] = Some((-group / 2.0 + bw * (j as f64 + 0.5), bw));
    }
    Grouping { slots }
}

/// A resolved axis: data range, ticks with labels.
#[derive(Debug, Clone)]
struct AxisFrame {
    cats: Option<Vec<String>>,
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
    label: String,
    grid: bool,
}

impl AxisFrame {
    fn max_label_width(&self) -> f32 {
        self.ticks
            .iter()
            .map(|(_, l)| text_width(l, TICK_SIZE, Weight::Regular))
            .fold(0.0, f32::max)
    }
}

fn resolve_linear(
    chart: &Chart,
    axis: &Axis,
    ext: Ext,
    target: usize,
    name: &str,
) -> Result<AxisFrame> {
    let t = match axis.range {
        Some((a, b)) => {
            if !(a.is_finite() && b.is_finite() && a < b) {
                return Err(invalid(
                    chart,
                    format!("the {name} axis range {a}..{b} is not an increasing finite interval"),
                ));
            }
            ticks_within(a, b, target)
        }
        None => {
            if ext.is_empty() {
                return Err(ReportError::NoData {
                    chart: chart.title.clone(),
                    axis: name.to_string(),
                });
            }
            auto_ticks(ext.lo, ext.hi, target)
        }
    };
    let dec = axis.decimals.unwrap_or(t.decimals);
    Ok(AxisFrame {
        cats: None,
        lo: t.min,
        hi: t.max,
        ticks: t.values.iter().map(|&v| (v, format_tick(v, dec))).collect(),
        label: axis.label(),
        grid: axis.grid,
    })
}

fn resolve(chart: &Chart, axis: &Axis, ext: Ext, target: usize, name: &str) -> Result<AxisFrame> {
    match &axis.scale {
        AxisScale::Linear => resolve_linear(chart, axis, ext, target, name),
        AxisScale::Categories(c) => {
            if c.is_empty() {
                return Err(invalid(chart, format!("the {name} axis has no categories")));
            }
            Ok(AxisFrame {
                cats: Some(c.clone()),
                lo: -0.5,
                hi: c.len() as f64 - 0.5,
                ticks: c
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (i as f64, s.clone()))
                    .collect(),
                label: axis.label(),
                grid: axis.grid,
            })
        }
    }
}

/// Maps data values to px along one direction.
#[derive(Debug, Clone, Copy)]
struct Proj {
    lo: f64,
    hi: f64,
    a: f32,
    b: f32,
}

impl Proj {
    fn map(&self, v: f64) -> f32 {
        self.a + ((v - self.lo) / (self.hi - self.lo)) as f32 * (self.b - self.a)
    }
    /// `map` of `v` clamped to the axis range widened by twice its span on each side: for the
    /// ends of bars, boxes and fills, so that an extreme value keeps f32 precision at the other end.
    fn map_clamped(&self, v: f64) -> f32 {
        let span = self.hi - self.lo;
        self.map(v.clamp(self.lo - 2.0 * span, self.hi + 2.0 * span))
    }
}

/// Data extents per axis, with the series' own rules (bars from 0, boxes, bands…).
struct Extents {
    x: Ext,
    y: Ext,
    y2: Ext,
}

fn extents(chart: &Chart, bars: &Grouping, boxes: &Grouping) -> Extents {
    let mut x = Ext::new();
    let mut y = Ext::new();
    let mut y2 = Ext::new();
    for (i, s) in chart.series.iter().enumerate() {
        let ye = if s.secondary { &mut y2 } else { &mut y };
        match &s.kind {
            SeriesKind::Line { points, band, .. } => {
                for &(a, b) in points {
                    if a.is_finite() && b.is_finite() {
                        x.add(a);
                        ye.add(b);
                    }
                }
                if let Some(band) = band {
                    for (&(a, _), &(lo, hi)) in points.iter().zip(band) {
                        if a.is_finite() {
                            ye.add(lo);
                            ye.add(hi);
                        }
                    }
                }
            }
            SeriesKind::Scatter { points, .. } | SeriesKind::Area { points } => {
                for &(a, b) in points {
                    if a.is_finite() && b.is_finite() {
                        x.add(a);
                        ye.add(b);
                    }
                }
                if matches!(s.kind, SeriesKind::Area { .. }) {
                    ye.add(0.0);
                }
            }
            SeriesKind::Bars {
                bars: pts,
                horizontal,
                value_decimals,
            } => {
                let (off, w) = bars.slots[i].unwrap_or((0.0, 0.8));
                let mut vals = Ext::new();
                for &(p, v) in pts {
                    if p.is_finite() && v.is_finite() {
                        if *horizontal {
                            ye.add(p + off - w / 2.0);
                            ye.add(p + off + w / 2.0);
                        } else {
                            x.add(p + off - w / 2.0);
                            x.add(p + off + w / 2.0);
                        }
                        vals.add(v);
                    }
                }
                vals.add(0.0);
                if value_decimals.is_some() && !vals.is_empty() {
                    // room for the printed values past the bar ends
                    let span = vals.hi - vals.lo;
                    vals.add(vals.hi + 0.12 * span);
                    if vals.lo < 0.0 {
                        vals.add(vals.lo - 0.12 * span);
                    }
                }
                if *horizontal {
                    x.union(vals);
                } else {
                    ye.union(vals);
                }
            }
            SeriesKind::Histogram { edges, counts } => {
                for &e in edges {
                    x.add(e);
                }
                for &c in counts {
                    ye.add(c);
                }
                ye.add(0.0);
            }
            SeriesKind::BoxPlot { boxes: items } => {
                let (off, w) = boxes.slots[i].unwrap_or((0.0, 0.6));
                for b in items {
                    if b.position.is_finite() {
                        x.add(b.position + off - w / 2.0);
                        x.add(b.position + off + w / 2.0);
                        for v in [b.min, b.q1, b.median, b.q3, b.max] {
                            ye.add(v);
                        }
                        for &o in &b.outliers {
                            ye.add(o);
                        }
                    }
                }
            }
            SeriesKind::HeatMap { .. } => {}
        }
    }
    for a in &chart.annotations {
        match a {
            Annotation::VLine { x: v, .. } => x.add(*v),
            Annotation::HLine {
                y: v, secondary, ..
            } => {
                if *secondary {
                    y2.add(*v)
                } else {
                    y.add(*v)
                }
            }
            Annotation::Text { x: a, y: b, .. } => {
                x.add(*a);
                y.add(*b);
            }
            Annotation::Note { .. } => {}
        }
    }
    if chart.x_axis.include_zero {
        x.add(0.0);
    }
    if chart.y_axis.include_zero {
        y.add(0.0);
    }
    if chart.y2_axis.as_ref().is_some_and(|a| a.include_zero) {
        y2.add(0.0);
    }
    // a 1:1 line needs the same range on both axes
    let one_to_one = chart.series.iter().any(|s| {
        matches!(
            s.kind,
            SeriesKind::Scatter {
                one_to_one: true,
                ..
            }
        )
    });
    if one_to_one && chart.x_axis.range.is_none() && chart.y_axis.range.is_none() {
        let mut u = x;
        u.union(y);
        x = u;
        y = u;
    }
    Extents { x, y, y2 }
}

fn validate(chart: &Chart) -> Result<()> {
    let mut horizontal = None;
    for (i, s) in chart.series.iter().enumerate() {
        let who = if s.name.is_empty() {
            format!("series {}", i + 1)
        } else {
            format!("series \"{}\"", s.name)
        };
        if s.secondary && chart.y2_axis.is_none() {
            return Err(invalid(
                chart,
                format!("{who} is on the secondary y axis, but the chart has none"),
            ));
        }
        match &s.kind {
            SeriesKind::Line {
                points,
                band: Some(band),
                ..
            } if band.len() != points.len() => {
                return Err(invalid(
                    chart,
                    format!(
                        "{who}: band has {} entries for {} points",
                        band.len(),
                        points.len()
                    ),
                ));
            }
            SeriesKind::Histogram { edges, counts } if edges.len() != counts.len() + 1 => {
                return Err(invalid(
                    chart,
                    format!(
                        "{who}: a histogram needs one more edge than counts ({} edges, {} counts)",
                        edges.len(),
                        counts.len()
                    ),
                ));
            }
            SeriesKind::Bars { horizontal: h, .. } => {
                if let Some(prev) = horizontal {
                    if prev != *h {
                        return Err(invalid(
                            chart,
                            "horizontal and vertical bars cannot share a chart",
                        ));
                    }
                }
                horizontal = Some(*h);
            }
            SeriesKind::BoxPlot { boxes } => {
                for b in boxes {
                    let v = [b.min, b.q1, b.median, b.q3, b.max];
                    if v.iter().all(|x| x.is_finite()) && !v.windows(2).all(|w| w[0] <= w[1]) {
                        return Err(invalid(
                            chart,
                            format!(
                                "{who}: box at {} is not ordered min ≤ q1 ≤ median ≤ q3 ≤ max ({} {} {} {} {})",
                                b.position, b.min, b.q1, b.median, b.q3, b.max
                            ),
                        ));
                    }
                }
            }
            SeriesKind::HeatMap { values, range, .. } => {
                let (Some(xc), Some(yc)) =
                    (chart.x_axis.category_names(), chart.y_axis.category_names())
                else {
                    return Err(invalid(
                        chart,
                        "a heat map needs category axes for both x (columns) and y (rows)",
                    ));
                };
                if values.len() != yc.len() {
                    return Err(invalid(
                        chart,
                        format!(
                            "heat map has {} rows but the y axis has {} categories",
                            values.len(),
                            yc.len()
                        ),
                    ));
                }
                if let Some((r, row)) = values.iter().enumerate().find(|(_, r)| r.len() != xc.len())
                {
                    return Err(invalid(
                        chart,
                        format!("heat map row {} (\"{}\") has {} values but the x axis has {} categories", r + 1, yc[r], row.len(), xc.len()),
                    ));
                }
                if !(range.0.is_finite() && range.1.is_finite() && range.0 < range.1) {
                    return Err(invalid(
                        chart,
                        format!(
                            "heat map colour range {}..{} is not an increasing finite interval",
                            range.0, range.1
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Legend entry symbol.
#[derive(Debug, Clone)]
enum Symbol {
    Line {
        color: Rgba,
        dashed: bool,
        marker: Option<MarkerShape>,
        band: bool,
    },
    Marker {
        shape: MarkerShape,
        color: Rgba,
    },
    /// A filled swatch; `outline` for translucent kinds drawn with an outline (areas, boxes, histograms).
    Patch {
        color: Rgba,
        outline: bool,
    },
}

fn legend_entries(chart: &Chart, colors: &[Rgba]) -> Vec<(String, Symbol)> {
    chart
        .series
        .iter()
        .zip(colors)
        .filter(|(s, _)| !s.name.is_empty())
        .filter_map(|(s, &c)| {
            let sym = match &s.kind {
                SeriesKind::Line {
                    marker,
                    band,
                    dashed,
                    ..
                } => Symbol::Line {
                    color: c,
                    dashed: *dashed,
                    marker: *marker,
                    band: band.is_some(),
                },
                SeriesKind::Scatter { marker, .. } => Symbol::Marker {
                    shape: *marker,
                    color: c,
                },
                SeriesKind::HeatMap { .. } => return None,
                SeriesKind::Bars { .. } => Symbol::Patch {
                    color: c,
                    outline: false,
                },
                SeriesKind::Area { .. } if n_areas(chart) > MAX_FILLED_AREAS => Symbol::Line {
                    color: c,
                    dashed: false,
                    marker: None,
                    band: false,
                },
                _ => Symbol::Patch {
                    color: c,
                    outline: true,
                },
            };
            Some((s.name.clone(), sym))
        })
        .collect()
}

/// Size of a legend box with `cols` columns.
struct LegendBox {
    w: f32,
    h: f32,
    cols: usize,
    col_w: f32,
    row_h: f32,
    title_h: f32,
}

fn legend_box(entries: &[(String, Symbol)], title: Option<&str>, max_h: f32) -> LegendBox {
    let row_h = LEGEND_SIZE * 1.55;
    let title_h = if title.is_some() {
        LEGEND_SIZE * 1.6
    } else {
        0.0
    };
    let text_w = entries
        .iter()
        .map(|(n, _)| text_width(n, LEGEND_SIZE, Weight::Regular))
        .fold(0.0, f32::max);
    let col_w = LEGEND_SYMBOL_W + 6.0 + text_w + 8.0;
    let n = entries.len().max(1);
    let fit_rows = (((max_h - 2.0 * LEGEND_PAD - title_h) / row_h).floor() as usize).max(1);
    let cols = n.div_ceil(fit_rows);
    let rows = n.div_ceil(cols);
    let tw = title
        .map(|t| text_width(t, LEGEND_SIZE, Weight::Bold))
        .unwrap_or(0.0);
    LegendBox {
        w: (cols as f32 * col_w - 8.0).max(tw) + 2.0 * LEGEND_PAD,
        h: rows as f32 * row_h + title_h + 2.0 * LEGEND_PAD,
        cols,
        col_w,
        row_h,
        title_h,
    }
}

/// Occupancy of the plot area by drawn data, on a coarse grid.
struct Occupancy {
    x0: f32,
    y0: f32,
    cell: f32,
    nx: usize,
    ny: usize,
    on: Vec<bool>,
}

impl Occupancy {
    fn new(plot: Rect) -> Self {
        let cell = 3.0;
        let nx = (plot.w / cell).ceil().max(1.0) as usize;
        let ny = (plot.h / cell).ceil().max(1.0) as usize;
        Occupancy {
            x0: plot.x,
            y0: plot.y,
            cell,
            nx,
            ny,
            on: vec![false; nx * ny],
        }
    }
    fn idx(&self, x: f32, y: f32) -> Option<(usize, usize)> {
        let i = ((x - self.x0) / self.cell).floor();
        let j = ((y - self.y0) / self.cell).floor();
        (i >= 0.0 && j >= 0.0 && (i as usize) < self.nx && (j as usize) < self.ny)
            .then_some((i as usize, j as usize))
    }
    fn point(&mut self, x: f32, y: f32) {
        if let Some((i, j)) = self.idx(x, y) {
            self.on[j * self.nx + i] = true;
        }
    }
    /// The grid's extent (x0, y0, x1, y1).
    fn bounds(&self) -> (f32, f32, f32, f32) {
        (
            self.x0,
            self.y0,
            self.x0 + self.nx as f32 * self.cell,
            self.y0 + self.ny as f32 * self.cell,
        )
    }
    /// Marks a segment, clipped to the grid first (Liang–Barsky), so far-off coordinates cost nothing.
    fn segment(&mut self, a: (f32, f32), b: (f32, f32)) {
        if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
            return;
        }
        let (bx0, by0, bx1, by1) = self.bounds();
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f32, 1.0f32);
        for (p, q) in [
            (-dx, a.0 - bx0),
            (dx, bx1 - a.0),
            (-dy, a.1 - by0),
            (dy, by1 - a.1),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        if t0 > t1 {
            return;
        }
        let (a, b) = (
            (a.0 + t0 * dx, a.1 + t0 * dy),
            (a.0 + t1 * dx, a.1 + t1 * dy),
        );
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let steps = ((len / (self.cell * 0.5)).ceil() as usize).clamp(1, 100_000);
        for k in 0..=steps {
            let t = k as f32 / steps as f32;
            self.point(a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        }
    }
    /// Marks a rectangle (clipped to the grid).
    fn rect(&mut self, r: Rect) {
        if !(r.x.is_finite() && r.y.is_finite() && r.w.is_finite() && r.h.is_finite()) {
            return;
        }
        let (bx0, by0, bx1, by1) = self.bounds();
        let (x1, x2) = (
            r.x.min(r.right()).max(bx0),
            r.x.max(r.right()).min(bx1 - 1e-3),
        );
        let (y1, y2) = (
            r.y.min(r.bottom()).max(by0),
            r.y.max(r.bottom()).min(by1 - 1e-3),
        );
        if x1 > x2 || y1 > y2 {
            return;
        }
        let step = self.cell * 0.5;
        let mut y = y1;
        loop {
            let mut x = x1;
            loop {
                self.point(x.min(x2), y.min(y2));
                if x >= x2 {
                    break;
                }
                x += step;
            }
            if y >= y2 {
                break;
            }
            y += step;
        }
    }
    /// Marks the region between two curves given at the same (increasing) x.
    fn between(&mut self, xs: &[f32], top: &[f32], bottom: &[f32]) {
        let (bx0, _, bx1, _) = self.bounds();
        for k in 1..xs.len() {
            let (xa, xb) = (xs[k - 1], xs[k]);
            if !(xa.is_finite() && xb.is_finite() && top[k - 1].is_finite() && top[k].is_finite()) {
                continue;
            }
            let mut x = xa.min(xb).max(bx0);
            while x <= xa.max(xb).min(bx1) {
                let t = if xb != xa { (x - xa) / (xb - xa) } else { 0.0 };
                let yt = top[k - 1] + (top[k] - top[k - 1]) * t;
                let yb = bottom[k - 1] + (bottom[k] - bottom[k - 1]) * t;
                self.segment((x, yt), (x, yb));
                x += self.cell * 0.5;
            }
        }
    }
    fn count(&self, r: Rect) -> usize {
        let mut n = 0;
        for j in 0..self.ny {
            let cy = self.y0 + (j as f32 + 0.5) * self.cell;
            if cy < r.y || cy > r.bottom() {
                continue;
            }
            for i in 0..self.nx {
                let cx = self.x0 + (i as f32 + 0.5) * self.cell;
                if cx >= r.x && cx <= r.right() && self.on[j * self.nx + i] {
                    n += 1;
                }
            }
        }
        n
    }
}

/// Everything the drawing needs after ranges and margins are fixed.
struct Frame {
    plot: Rect,
    x: AxisFrame,
    y: AxisFrame,
    y2: Option<AxisFrame>,
    px: Proj,
    py: Proj,
    py2: Option<Proj>,
    /// rotate x tick labels; show every `x_every`-th
    x_rotate: bool,
    x_every: usize,
    legend_outside: Option<(LegendPosition, LegendBox)>,
    heat: bool,
    colorbar_w: f32,
}

fn tick_target(len: f32, per: f32) -> usize {
    ((len / per).round() as usize).clamp(3, 10)
}

fn x_label_layout(x: &AxisFrame, plot_w: f32) -> (bool, usize, f32) {
    // returns (rotate, every, height needed below the tick marks)
    let n = x.ticks.len().max(1);
    let widest = x.max_label_width();
    let text_h = metrics::CAP_HEIGHT * TICK_SIZE + metrics::DESCENT * TICK_SIZE;
    match &x.cats {
        Some(_) => {
            let slot = plot_w / n as f32;
            if widest + 6.0 <= slot {
                (false, 1, text_h)
            } else {
                let (s, c) = LABEL_ANGLE.to_radians().sin_cos();
                // rotated labels are `TICK_SIZE / sin` apart horizontally at the minimum
                let need = TICK_SIZE * 1.15 / s;
                let every = ((need / slot).ceil() as usize).max(1);
                (true, every, widest * s + TICK_SIZE * c)
            }
        }
        None => (false, 1, text_h),
    }
}

fn compute_frame(
    chart: &Chart,
    width: f32,
    height: f32,
    legend_outside: Option<LegendPosition>,
    colors: &[Rgba],
) -> Result<Frame> {
    let heat = chart
        .series
        .iter()
        .any(|s| matches!(s.kind, SeriesKind::HeatMap { .. }));
    let (bars, boxes) = groupings(chart);
    let ext = extents(chart, &bars, &boxes);

    let title_h = if chart.title.is_empty() {
        0.0
    } else {
        TITLE_SIZE * 1.3 + 4.0
    };
    let label_band = LABEL_SIZE * 1.25 + 4.0;

    // legend outside: reserve room
    let entries = legend_entries(chart, colors);
    let legend = match legend_outside {
        Some(pos @ (LegendPosition::Right | LegendPosition::Bottom)) if !entries.is_empty() => {
            let max_h = if pos == LegendPosition::Right {
                height - 2.0 * PAD - title_h
            } else {
                height * 0.3
            };
            let mut lb = legend_box(&entries, chart.legend.title.as_deref(), max_h);
            if pos == LegendPosition::Bottom {
                // lay entries out in as many columns as fit the width
                let cols =
                    (((width - 2.0 * PAD) / lb.col_w).floor() as usize).clamp(1, entries.len());
                let rows = entries.len().div_ceil(cols);
                lb.cols = cols;
                lb.w = cols as f32 * lb.col_w - 8.0 + 2.0 * LEGEND_PAD;
                lb.h = rows as f32 * lb.row_h + lb.title_h + 2.0 * LEGEND_PAD;
            }
            Some((pos, lb))
        }
        _ => None,
    };

    let heat_range = chart.series.iter().find_map(|s| match &s.kind {
        SeriesKind::HeatMap {
            range, scale_title, ..
        } => Some((*range, scale_title.clone())),
        _ => None,
    });
    let colorbar_w = match &heat_range {
        Some(((a, b), t)) => {
            let tk = nice_ticks(*a, *b, 5);
            let lw = tk
                .labels()
                .iter()
                .map(|l| text_width(l, TICK_SIZE, Weight::Regular))
                .fold(0.0, f32::max);
            let tw = text_width(t, TICK_SIZE, Weight::Regular);
            14.0 + (COLORBAR_W + 4.0 + lw).max(tw) + 4.0
        }
        None => 0.0,
    };

    // iterate: ticks depend on the plot size, the plot size on the tick labels
    let mut plot = Rect {
        x: PAD + 60.0,
        y: PAD + title_h,
        w: width - 2.0 * PAD - 80.0,
        h: height - 2.0 * PAD - title_h - 50.0,
    };
    let mut last = None;
    for _ in 0..3 {
        let mut x = resolve(chart, &chart.x_axis, ext.x, tick_target(plot.w, 90.0), "x")?;
        if x.cats.is_none() {
            // fewer ticks until the labels are at least 12 px apart
            let mut target = tick_target(plot.w, 90.0);
            while target > 2 {
                let spacing = plot.w / (x.ticks.len().max(2) - 1) as f32;
                if x.max_label_width() + 12.0 <= spacing {
                    break;
                }
                target -= 1;
                x = resolve(chart, &chart.x_axis, ext.x, target, "x")?;
            }
        }
        let one_to_one = chart.series.iter().any(|s| {
            matches!(
                s.kind,
                SeriesKind::Scatter {
                    one_to_one: true,
                    ..
                }
            )
        });
        let y = if one_to_one
            && x.cats.is_none()
            && chart.x_axis.range.is_none()
            && chart.y_axis.range.is_none()
        {
            // a 1:1 line needs one scale on both axes: the y axis takes the x axis's range
            let fixed = Axis {
                range: Some((x.lo, x.hi)),
                ..chart.y_axis.clone()
            };
            resolve(chart, &fixed, ext.y, tick_target(plot.h, 55.0), "y")?
        } else {
            resolve(chart, &chart.y_axis, ext.y, tick_target(plot.h, 55.0), "y")?
        };
        let y2 = match &chart.y2_axis {
            Some(a) => Some(resolve(
                chart,
                a,
                ext.y2,
                tick_target(plot.h, 55.0),
                "secondary y",
            )?),
            None => None,
        };
        let (x_rotate, x_every, x_lab_h) = x_label_layout(&x, plot.w);
        let tick_room = if heat { 4.0 } else { TICK_LEN + 4.0 };
        let mut left = PAD
            + if y.label.is_empty() { 0.0 } else { label_band }
            + y.max_label_width()
            + tick_room;
        if x_rotate {
            // the first rotated label reaches left of its tick by width·cos(angle)
            let first_w = x
                .ticks
                .first()
                .map_or(0.0, |(_, l)| text_width(l, TICK_SIZE, Weight::Regular));
            let slot = plot.w / x.ticks.len().max(1) as f32;
            left = left.max(PAD + first_w * LABEL_ANGLE.to_radians().cos() - slot / 2.0 - 3.0);
        }
        let mut right = PAD;
        if let Some(y2) = &y2 {
            right += tick_room
                + y2.max_label_width()
                + if y2.label.is_empty() { 0.0 } else { label_band };
        } else if !x_rotate {
            // half of the last x label may stick out past the plot
            let last_w = x
                .ticks
                .last()
                .map(|(_, l)| text_width(l, TICK_SIZE, Weight::Regular))
                .unwrap_or(0.0);
            right += (last_w / 2.0 - 4.0).max(0.0);
        }
        right += colorbar_w;
        if let Some((LegendPosition::Right, lb)) = &legend {
            right += lb.w + 10.0;
        }
        let vline_labels = chart
            .annotations
            .iter()
            .any(|a| matches!(a, Annotation::VLine { label, .. } if !label.is_empty()));
        let top =
            PAD + title_h + TICK_SIZE * 0.5 + if vline_labels { TICK_SIZE * 1.3 } else { 0.0 };
        let mut bottom = PAD
            + tick_room
            + x_lab_h
            + if x.label.is_empty() {
                0.0
            } else {
                label_band + 2.0
            };
        if let Some((LegendPosition::Bottom, lb)) = &legend {
            bottom += lb.h + 6.0;
        }
        let w = width - left - right;
        let h = height - top - bottom;
        if w < 40.0 || h < 40.0 {
            return Err(ReportError::InvalidSize {
                what: format!("chart \"{}\"", chart.title),
                width: width as f64,
                height: height as f64,
                reason: format!(
                    "only {:.0}×{:.0} px would be left for the plot after axes, labels and legend",
                    w.max(0.0),
                    h.max(0.0)
                ),
            });
        }
        plot = Rect {
            x: left,
            y: top,
            w,
            h,
        };
        last = Some((x, y, y2, x_rotate, x_every));
    }
    let Some((x, y, y2, x_rotate, x_every)) = last else {
        return Err(invalid(chart, "layout failed"));
    };
    let px = Proj {
        lo: x.lo,
        hi: x.hi,
        a: plot.x,
        b: plot.right(),
    };
    let py = if y.cats.is_some() {
        Proj {
            lo: y.lo,
            hi: y.hi,
            a: plot.y,
            b: plot.bottom(),
        }
    } else {
        Proj {
            lo: y.lo,
            hi: y.hi,
            a: plot.bottom(),
            b: plot.y,
        }
    };
    let py2 = y2.as_ref().map(|a| Proj {
        lo: a.lo,
        hi: a.hi,
        a: plot.bottom(),
        b: plot.y,
    });
    Ok(Frame {
        plot,
        x,
        y,
        y2,
        px,
        py,
        py2,
        x_rotate,
        x_every,
        legend_outside: legend,
        heat,
        colorbar_w,
    })
}

/// Splits points into runs of finite, projected points.
fn runs(points: &[(f64, f64)], px: &Proj, py: &Proj) -> Vec<Vec<(f32, f32)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for &(a, b) in points {
        if a.is_finite() && b.is_finite() {
            cur.push((px.map(a), py.map(b)));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn polyline_segs(run: &[(f32, f32)]) -> Vec<Seg> {
    let mut s = Vec::with_capacity(run.len());
    for (i, &(x, y)) in run.iter().enumerate() {
        s.push(if i == 0 { Seg::M(x, y) } else { Seg::L(x, y) });
    }
    s
}

fn marker_radius_for(n: usize) -> (f32, f32) {
    // (radius, opacity): many points get smaller, more transparent dots
    if n < 200 {
        (3.0, 0.85)
    } else if n < 2000 {
        (2.2, 0.6)
    } else {
        (1.5, 0.35)
    }
}

fn darker(c: Rgba) -> Rgba {
    Rgba {
        r: (c.r as f32 * 0.65) as u8,
        g: (c.g as f32 * 0.65) as u8,
        b: (c.b as f32 * 0.65) as u8,
        a: 255,
    }
}

/// Lays out `chart` on a `width` × `height` px canvas.
pub(crate) fn layout(chart: &Chart, width: f32, height: f32) -> Result<Scene> {
    let what = format!("chart \"{}\"", chart.title);
    if !(width.is_finite() && height.is_finite() && width >= 120.0 && height >= 100.0) {
        return Err(ReportError::InvalidSize {
            what,
            width: width as f64,
            height: height as f64,
            reason: "a chart needs at least 120×100 px".into(),
        });
    }
    validate(chart)?;
    let colors: Vec<Rgba> = {
        let mut k = 0;
        chart
            .series
            .iter()
            .map(|s| {
                s.color.unwrap_or_else(|| {
                    let c = series_color(k);
                    k += 1;
                    c
                })
            })
            .collect()
    };
    let entries = legend_entries(chart, &colors);
    let want = if entries.is_empty() {
        LegendPosition::Hidden
    } else {
        chart.legend.position
    };
    let outside = match want {
        LegendPosition::Right | LegendPosition::Bottom => Some(want),
        _ => None,
    };
    let mut frame = compute_frame(chart, width, height, outside, &colors)?;
    let (mut scene, occ) = draw(chart, &frame, &colors, width, height)?;
    // automatic legend: inside if a corner is free, else outside on the right
    let mut legend_at: Option<(f32, f32, LegendBox)> = None;
    match want {
        LegendPosition::Hidden => {}
        LegendPosition::Right | LegendPosition::Bottom => {
            if let Some((pos, lb)) = frame.legend_outside.take() {
                let (lx, ly) = if pos == LegendPosition::Right {
                    (width - PAD - lb.w, frame.plot.y)
                } else {
                    ((width - lb.w) / 2.0, height - PAD - lb.h)
                };
                legend_at = Some((lx, ly, lb));
            }
        }
        LegendPosition::Inside(corner) => {
            let lb = legend_box(&entries, chart.legend.title.as_deref(), frame.plot.h - 12.0);
            let (lx, ly) = corner_pos(&frame.plot, corner, lb.w, lb.h);
            legend_at = Some((lx, ly, lb));
        }
        LegendPosition::Auto => {
            let lb = legend_box(&entries, chart.legend.title.as_deref(), frame.plot.h - 12.0);
            let free = [
                Corner::TopRight,
                Corner::TopLeft,
                Corner::BottomRight,
                Corner::BottomLeft,
            ]
            .into_iter()
            .find(|&c| {
                let (lx, ly) = corner_pos(&frame.plot, c, lb.w, lb.h);
                lb.w < frame.plot.w - 12.0
                    && lb.h < frame.plot.h - 12.0
                    && occ.count(Rect {
                        x: lx - 4.0,
                        y: ly - 4.0,
                        w: lb.w + 8.0,
                        h: lb.h + 8.0,
                    }) == 0
            });
            match free {
                Some(c) => {
                    let (lx, ly) = corner_pos(&frame.plot, c, lb.w, lb.h);
                    legend_at = Some((lx, ly, lb));
                }
                None => {
                    frame =
                        compute_frame(chart, width, height, Some(LegendPosition::Right), &colors)?;
                    scene = draw(chart, &frame, &colors, width, height)?.0;
                    if let Some((_, lb)) = frame.legend_outside.take() {
                        legend_at = Some((width - PAD - lb.w, frame.plot.y, lb));
                    }
                }
            }
        }
    }
    if let Some((lx, ly, lb)) = legend_at {
        let inside = matches!(want, LegendPosition::Auto | LegendPosition::Inside(_))
            && lx < frame.plot.right();
        draw_legend(
            &mut scene,
            &entries,
            chart.legend.title.as_deref(),
            lx,
            ly,
            &lb,
            inside,
        );
    }
    scene.clip_to_bounds();
    Ok(scene)
}

fn corner_pos(plot: &Rect, c: Corner, w: f32, h: f32) -> (f32, f32) {
    let inset = 6.0;
    match c {
        Corner::TopLeft => (plot.x + inset, plot.y + inset),
        Corner::TopRight => (plot.right() - inset - w, plot.y + inset),
        Corner::BottomLeft => (plot.x + inset, plot.bottom() - inset - h),
        Corner::BottomRight => (plot.right() - inset - w, plot.bottom() - inset - h),
    }
}

fn note_box(text: &str) -> (f32, f32) {
    let lines: Vec<&str> = text.split('\n').collect();
    let w = lines
        .iter()
        .map(|l| text_width(l, LEGEND_SIZE, Weight::Regular))
        .fold(0.0, f32::max);
    (
        w + 2.0 * LEGEND_PAD,
        lines.len() as f32 * LEGEND_SIZE * 1.4 + 2.0 * LEGEND_PAD - LEGEND_SIZE * 0.4,
    )
}

fn yproj<'a>(f: &'a Frame, s: &Series) -> &'a Proj {
    if s.secondary {
        f.py2.as_ref().unwrap_or(&f.py)
    } else {
        &f.py
    }
}

/// What the data covers, for the legend placement.
fn occupancy(chart: &Chart, f: &Frame) -> Occupancy {
    let mut occ = Occupancy::new(f.plot);
    let geo = series_geometry(chart, f);
    for g in &geo {
        match g {
            Geo::Poly(run) => {
                for w in run.windows(2) {
                    occ.segment(w[0], w[1]);
                }
                if run.len() == 1 {
                    occ.point(run[0].0, run[0].1);
                }
            }
            Geo::Rect(r) => occ.rect(*r),
            Geo::Points(pts, r) => {
                for &(x, y) in pts {
                    occ.rect(Rect {
                        x: x - r,
                        y: y - r,
                        w: 2.0 * r,
                        h: 2.0 * r,
                    });
                }
            }
            Geo::Fill(xs, top, bottom) => occ.between(xs, top, bottom),
        }
    }
    for a in &chart.annotations {
        match a {
            Annotation::VLine { x, .. } => {
                let xp = f.px.map(*x);
                occ.segment((xp, f.plot.y), (xp, f.plot.bottom()));
            }
            Annotation::HLine { y, secondary, .. } => {
                let p = if *secondary {
                    f.py2.as_ref().unwrap_or(&f.py)
                } else {
                    &f.py
                };
                let yp = p.map(*y);
                occ.segment((f.plot.x, yp), (f.plot.right(), yp));
            }
            Annotation::Text { x, y, text } => {
                let w = text_width(text, LEGEND_SIZE, Weight::Regular);
                let (xp, yp) = (f.px.map(*x), f.py.map(*y));
                occ.rect(Rect {
                    x: xp - w / 2.0,
                    y: yp - LEGEND_SIZE,
                    w,
                    h: LEGEND_SIZE * 1.3,
                });
            }
            Annotation::Note { text, corner } => {
                let (w, h) = note_box(text);
                let (x, y) = corner_pos(&f.plot, *corner, w, h);
                occ.rect(Rect { x, y, w, h });
            }
        }
    }
    occ
}

/// Projected geometry of the data (used for occupancy).
enum Geo {
    Poly(Vec<(f32, f32)>),
    Rect(Rect),
    Points(Vec<(f32, f32)>, f32),
    Fill(Vec<f32>, Vec<f32>, Vec<f32>),
}

fn bar_rects(
    f: &Frame,
    s: &Series,
    bars: &[(f64, f64)],
    horizontal: bool,
    slot: (f64, f64),
) -> Vec<(Rect, f64)> {
    let (off, bw) = slot;
    let py = yproj(f, s);
    let mut out = Vec::new();
    for &(p, v) in bars {
        if !(p.is_finite() && v.is_finite()) {
            continue;
        }
        let a = p + off - bw * 0.46;
        let b = p + off + bw * 0.46;
        let r = if horizontal {
            let (y1, y2) = (py.map(a), py.map(b));
            let (x1, x2) = (
                f.px.map(0.0_f64.clamp(f.px.lo, f.px.hi)),
                f.px.map_clamped(v),
            );
            Rect {
                x: x1.min(x2),
                y: y1.min(y2),
                w: (x2 - x1).abs(),
                h: (y2 - y1).abs(),
            }
        } else {
            let (x1, x2) = (f.px.map(a), f.px.map(b));
            let (y1, y2) = (
                py.map(0.0_f64.clamp(py.lo.min(py.hi), py.lo.max(py.hi))),
                py.map_clamped(v),
            );
            Rect {
                x: x1.min(x2),
                y: y1.min(y2),
                w: (x2 - x1).abs(),
                h: (y2 - y1).abs(),
            }
        };
        out.push((r, v));
    }
    out
}

fn groupings(chart: &Chart) -> (Grouping, Grouping) {
    let hbars = chart.series.iter().any(|s| {
        matches!(
            s.kind,
            SeriesKind::Bars {
                horizontal: true,
                ..
            }
        )
    });
    let bars = grouping(
        chart,
        |k| matches!(k, SeriesKind::Bars { .. }),
        |k| match k {
            SeriesKind::Bars { bars, .. } => bars.iter().map(|b| b.0).collect(),
            _ => Vec::new(),
        },
        if chart.x_axis.category_names().is_some() || hbars {
            0.8
        } else {
            0.9
        },
    );
    let boxes = grouping(
        chart,
        |k| matches!(k, SeriesKind::BoxPlot { .. }),
        |k| match k {
            SeriesKind::BoxPlot { boxes } => boxes.iter().map(|b| b.position).collect(),
            _ => Vec::new(),
        },
        0.8,
    );
    (bars, boxes)
}

fn series_geometry(chart: &Chart, f: &Frame) -> Vec<Geo> {
    let (bars, boxes) = groupings(chart);
    let mut out = Vec::new();
    for (i, s) in chart.series.iter().enumerate() {
        let py = yproj(f, s);
        match &s.kind {
            SeriesKind::Line {
                points,
                band,
                marker,
                ..
            } => {
                for r in runs(points, &f.px, py) {
                    if marker.is_some() {
                        out.push(Geo::Points(r.clone(), 4.0));
                    }
                    out.push(Geo::Poly(r));
                }
                if let Some(band) = band {
                    let (xs, top, bot) = band_curves(points, band, &f.px, py);
                    out.push(Geo::Fill(xs, top, bot));
                }
            }
            SeriesKind::Scatter {
                points, one_to_one, ..
            } => {
                let pts: Vec<(f32, f32)> = points
                    .iter()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .map(|&(a, b)| (f.px.map(a), py.map(b)))
                    .collect();
                let (r, _) = marker_radius_for(pts.len());
                out.push(Geo::Points(pts, r));
                if *one_to_one {
                    if let Some((a, b)) = one_to_one_span(f) {
                        out.push(Geo::Poly(vec![
                            (f.px.map(a), py.map(a)),
                            (f.px.map(b), py.map(b)),
                        ]));
                    }
                }
            }
            SeriesKind::Bars {
                bars: pts,
                horizontal,
                ..
            } => {
                if let Some(slot) = bars.slots[i] {
                    for (r, _) in bar_rects(f, s, pts, *horizontal, slot) {
                        out.push(Geo::Rect(r));
                    }
                }
            }
            SeriesKind::Area { points } => {
                let mut pts: Vec<(f64, f64)> = points
                    .iter()
                    .copied()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                let xs: Vec<f32> = pts.iter().map(|p| f.px.map(p.0)).collect();
                let top: Vec<f32> = pts.iter().map(|p| py.map(p.1)).collect();
                if n_areas(chart) <= MAX_FILLED_AREAS {
                    let base = py.map(0.0f64.clamp(py.lo.min(py.hi), py.lo.max(py.hi)));
                    let bot = vec![base; xs.len()];
                    out.push(Geo::Fill(xs, top, bot));
                } else {
                    out.push(Geo::Poly(xs.into_iter().zip(top).collect()));
                }
            }
            SeriesKind::Histogram { edges, counts } => {
                let base = py.map(0.0f64.clamp(py.lo.min(py.hi), py.lo.max(py.hi)));
                for (k, &c) in counts.iter().enumerate() {
                    if c.is_finite() && edges[k].is_finite() && edges[k + 1].is_finite() {
                        let (x1, x2, y) = (
                            f.px.map_clamped(edges[k]),
                            f.px.map_clamped(edges[k + 1]),
                            py.map_clamped(c),
                        );
                        out.push(Geo::Rect(Rect {
                            x: x1.min(x2),
                            y: y.min(base),
                            w: (x2 - x1).abs(),
                            h: (base - y).abs(),
                        }));
                    }
                }
            }
            SeriesKind::BoxPlot { boxes: items } => {
                if let Some((off, bw)) = boxes.slots[i] {
                    for b in items {
                        if !b.position.is_finite() {
                            continue;
                        }
                        let (x1, x2) = (
                            f.px.map(b.position + off - bw * 0.4),
                            f.px.map(b.position + off + bw * 0.4),
                        );
                        let (y1, y2) = (py.map_clamped(b.min), py.map_clamped(b.max));
                        if y1.is_finite() && y2.is_finite() {
                            out.push(Geo::Rect(Rect {
                                x: x1,
                                y: y1.min(y2),
                                w: x2 - x1,
                                h: (y2 - y1).abs(),
                            }));
                        }
                        let cx = f.px.map(b.position + off);
                        out.push(Geo::Points(
                            b.outliers
                                .iter()
                                .filter(|v| v.is_finite())
                                .map(|&v| (cx, py.map(v)))
                                .collect(),
                            2.5,
                        ));
                    }
                }
            }
            SeriesKind::HeatMap { .. } => out.push(Geo::Rect(f.plot)),
        }
    }
    out
}

fn band_curves(
    points: &[(f64, f64)],
    band: &[(f64, f64)],
    px: &Proj,
    py: &Proj,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut xs = Vec::new();
    let mut top = Vec::new();
    let mut bot = Vec::new();
    for (&(x, _), &(lo, hi)) in points.iter().zip(band) {
        if x.is_finite() && lo.is_finite() && hi.is_finite() {
            xs.push(px.map(x));
            top.push(py.map(hi));
            bot.push(py.map(lo));
        } else {
            xs.push(f32::NAN);
            top.push(f32::NAN);
            bot.push(f32::NAN);
        }
    }
    (xs, top, bot)
}

fn one_to_one_span(f: &Frame) -> Option<(f64, f64)> {
    let a = f.px.lo.max(f.py.lo.min(f.py.hi));
    let b = f.px.hi.min(f.py.lo.max(f.py.hi));
    (a < b).then_some((a, b))
}

/// The box a label of `w` px covers when drawn at baseline (`x`, `y`) with `anchor`.
fn label_rect(x: f32, y: f32, w: f32, anchor: Anchor, size: f32) -> Rect {
    let x0 = match anchor {
        Anchor::Start => x,
        Anchor::Middle => x - w / 2.0,
        Anchor::End => x - w,
    };
    Rect {
        x: x0 - 1.0,
        y: y - metrics::CAP_HEIGHT * size - 1.0,
        w: w + 2.0,
        h: (metrics::CAP_HEIGHT + metrics::DESCENT) * size + 2.0,
    }
}

/// Draws a reference-line label at the first candidate (baseline x, y, anchor) whose box lies in
/// the plot and covers no data; if none is free, at the first, on a white backing. Marks the box
/// as occupied (so the legend avoids it).
fn place_label(
    sc: &mut Scene,
    occ: &mut Occupancy,
    plot: &Rect,
    label: &str,
    cands: &[(f32, f32, Anchor)],
) {
    let w = text_width(label, TICK_SIZE, Weight::Regular);
    let inside = |r: &Rect| {
        r.x >= plot.x && r.right() <= plot.right() && r.y >= plot.y && r.bottom() <= plot.bottom()
    };
    let free = cands.iter().find(|(x, y, a)| {
        let r = label_rect(*x, *y, w, *a, TICK_SIZE);
        inside(&r) && occ.count(r) == 0
    });
    let (x, y, a, backed) = match free {
        Some(&(x, y, a)) => (x, y, a, false),
        None => {
            let &(x, y, a) = cands
                .iter()
                .find(|(x, y, a)| inside(&label_rect(*x, *y, w, *a, TICK_SIZE)))
                .unwrap_or(&cands[0]);
            (x, y, a, true)
        }
    };
    let r = label_rect(x, y, w, a, TICK_SIZE);
    if backed {
        sc.rect(r, Some(Rgba::WHITE.with_alpha(0.85)), None, false);
    }
    sc.text(
        x,
        y,
        label,
        TICK_SIZE,
        Weight::Regular,
        a,
        0.0,
        ink::REFERENCE,
    );
    occ.rect(r);
}

fn draw(
    chart: &Chart,
    f: &Frame,
    colors: &[Rgba],
    width: f32,
    height: f32,
) -> Result<(Scene, Occupancy)> {
    let mut sc = Scene::new(width, height, &chart.title);
    sc.clip = Some(f.plot);
    // what the data cover: labels placed later avoid it
    let mut occ = occupancy(chart, f);
    let plot = f.plot;
    let axis_stroke = Stroke::solid(ink::AXIS, 1.0);

    // grid
    sc.group("grid");
    if f.y.grid && f.y.cats.is_none() {
        for (v, _) in &f.y.ticks {
            let y = f.py.map(*v);
            if (y - plot.bottom()).abs() > 0.5 {
                sc.line(
                    (plot.x, y),
                    (plot.right(), y),
                    Stroke::solid(ink::GRID, 0.8),
                    false,
                );
            }
        }
    }
    if f.x.grid && f.x.cats.is_none() {
        for (v, _) in &f.x.ticks {
            let x = f.px.map(*v);
            if (x - plot.x).abs() > 0.5 {
                sc.line(
                    (x, plot.y),
                    (x, plot.bottom()),
                    Stroke::solid(ink::GRID, 0.8),
                    false,
                );
            }
        }
    }
    sc.end_group();

    // reference lines behind the data
    for a in &chart.annotations {
        match a {
            Annotation::VLine { x, .. } if x.is_finite() => {
                let xp = f.px.map(*x);
                sc.line(
                    (xp, plot.y),
                    (xp, plot.bottom()),
                    Stroke::dashed(ink::REFERENCE, 1.0, 4.0, 3.0),
                    true,
                );
            }
            Annotation::HLine { y, secondary, .. } if y.is_finite() => {
                let p = if *secondary {
                    f.py2.as_ref().unwrap_or(&f.py)
                } else {
                    &f.py
                };
                let yp = p.map(*y);
                sc.line(
                    (plot.x, yp),
                    (plot.right(), yp),
                    Stroke::dashed(ink::REFERENCE, 1.0, 4.0, 3.0),
                    true,
                );
            }
            _ => {}
        }
    }

    let (bars, boxes) = groupings(chart);
    let areas_filled = n_areas(chart) <= MAX_FILLED_AREAS;
    let area_alpha = (0.5 / n_areas(chart).max(1) as f32).clamp(0.05, 0.25);

    // filled kinds first, lines and points on top
    for pass in 0..2 {
        for (i, s) in chart.series.iter().enumerate() {
            let c = colors[i];
            let py = *yproj(f, s);
            let filled = matches!(
                s.kind,
                SeriesKind::HeatMap { .. }
                    | SeriesKind::Area { .. }
                    | SeriesKind::Histogram { .. }
                    | SeriesKind::Bars { .. }
                    | SeriesKind::BoxPlot { .. }
            );
            let class = match &s.kind {
                SeriesKind::Line { .. } => "series line",
                SeriesKind::Scatter { .. } => "series scatter",
                SeriesKind::Bars { .. } => "series bars",
                SeriesKind::Area { .. } => "series area",
                SeriesKind::Histogram { .. } => "series histogram",
                SeriesKind::BoxPlot { .. } => "series boxplot",
                SeriesKind::HeatMap { .. } => "series heatmap",
            };
            if pass == 0 {
                // bands of lines are drawn with the filled kinds
                if let SeriesKind::Line {
                    points,
                    band: Some(band),
                    ..
                } = &s.kind
                {
                    sc.group("band");
                    let (xs, top, bot) = band_curves(points, band, &f.px, &py);
                    let mut k = 0;
                    while k < xs.len() {
                        if !xs[k].is_finite() {
                            k += 1;
                            continue;
                        }
                        let start = k;
                        while k < xs.len() && xs[k].is_finite() {
                            k += 1;
                        }
                        let mut segs = Vec::new();
                        for j in start..k {
                            segs.push(if j == start {
                                Seg::M(xs[j], top[j])
                            } else {
                                Seg::L(xs[j], top[j])
                            });
                        }
                        for j in (start..k).rev() {
                            segs.push(Seg::L(xs[j], bot[j]));
                        }
                        segs.push(Seg::Z);
                        sc.push(Prim::Path {
                            segs,
                            fill: Some(c.with_alpha(0.2 * c.a as f32 / 255.0)),
                            stroke: None,
                            clip: true,
                        });
                    }
                    sc.end_group();
                }
                if !filled {
                    continue;
                }
            } else if filled {
                continue;
            }
            sc.group(class);
            match &s.kind {
                SeriesKind::Line {
                    points,
                    marker,
                    dashed,
                    ..
                } => {
                    let mut stroke = Stroke::line(c, LINE_WIDTH);
                    if *dashed {
                        stroke.dash = vec![6.0, 4.0];
                        stroke.round = false;
                    }
                    let rs = runs(points, &f.px, &py);
                    let mut segs = Vec::new();
                    for r in &rs {
                        segs.extend(polyline_segs(r));
                    }
                    // a single isolated point still shows as a dot
                    let singles: Vec<(f32, f32)> =
                        rs.iter().filter(|r| r.len() == 1).map(|r| r[0]).collect();
                    sc.push(Prim::Path {
                        segs,
                        fill: None,
                        stroke: Some(stroke),
                        clip: true,
                    });
                    if let Some(m) = marker {
                        let centers: Vec<(f32, f32)> = rs.into_iter().flatten().collect();
                        sc.push(Prim::Markers {
                            shape: *m,
                            centers,
                            radius: 3.2,
                            fill: Some(c),
                            stroke: Some(Stroke::solid(Rgba::WHITE, 0.8)),
                            clip: true,
                        });
                    } else if !singles.is_empty() {
                        sc.push(Prim::Markers {
                            shape: MarkerShape::Circle,
                            centers: singles,
                            radius: 2.5,
                            fill: Some(c),
                            stroke: None,
                            clip: true,
                        });
                    }
                }
                SeriesKind::Scatter {
                    points,
                    marker,
                    one_to_one,
                } => {
                    let pts: Vec<(f32, f32)> = points
                        .iter()
                        .filter(|p| p.0.is_finite() && p.1.is_finite())
                        .map(|&(a, b)| (f.px.map(a), py.map(b)))
                        .collect();
                    let (r, alpha) = marker_radius_for(pts.len());
                    sc.push(Prim::Markers {
                        shape: *marker,
                        centers: pts,
                        radius: r,
                        fill: Some(c.with_alpha(alpha * c.a as f32 / 255.0)),
                        stroke: None,
                        clip: true,
                    });
                    if *one_to_one {
                        if let Some((a, b)) = one_to_one_span(f) {
                            let (p, q) = ((f.px.map(a), py.map(a)), (f.px.map(b), py.map(b)));
                            sc.line(p, q, Stroke::dashed(ink::REFERENCE, 1.2, 6.0, 4.0), true);
                            // label beside the line, near an end, where no point is
                            let at = |t: f32| (p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1));
                            let mut cands = Vec::new();
                            for t in [0.96, 0.9, 0.1, 0.04] {
                                let (lx, ly) = at(t);
                                cands.push((lx + 6.0, ly + TICK_SIZE + 2.0, Anchor::Start));
                                cands.push((lx - 6.0, ly - 4.0, Anchor::End));
                            }
                            place_label(&mut sc, &mut occ, &plot, "1:1", &cands);
                        }
                    }
                }
                SeriesKind::Bars {
                    bars: pts,
                    horizontal,
                    value_decimals,
                } => {
                    if let Some(slot) = bars.slots[i] {
                        let rects = bar_rects(f, s, pts, *horizontal, slot);
                        let mut segs = Vec::new();
                        for (r, _) in &rects {
                            segs.extend(r.segs());
                        }
                        sc.push(Prim::Path {
                            segs,
                            fill: Some(c),
                            stroke: None,
                            clip: true,
                        });
                        if let Some(d) = value_decimals {
                            for (r, v) in &rects {
                                let label = format_tick(*v, *d);
                                if *horizontal {
                                    let (x, anchor) = if *v >= 0.0 {
                                        (r.right() + 4.0, Anchor::Start)
                                    } else {
                                        (r.x - 4.0, Anchor::End)
                                    };
                                    let y = r.y + r.h / 2.0 + metrics::CAP_HEIGHT * TICK_SIZE / 2.0;
                                    sc.text(
                                        x,
                                        y,
                                        &label,
                                        TICK_SIZE,
                                        Weight::Regular,
                                        anchor,
                                        0.0,
                                        ink::AXIS,
                                    );
                                } else {
                                    let y = if *v >= 0.0 {
                                        r.y - 4.0
                                    } else {
                                        r.bottom() + TICK_SIZE + 2.0
                                    };
                                    sc.text(
                                        r.x + r.w / 2.0,
                                        y,
                                        &label,
                                        TICK_SIZE,
                                        Weight::Regular,
                                        Anchor::Middle,
                                        0.0,
                                        ink::AXIS,
                                    );
                                }
                            }
                        }
                    }
                }
                SeriesKind::Area { points } => {
                    let mut pts: Vec<(f64, f64)> = points
                        .iter()
                        .copied()
                        .filter(|p| p.0.is_finite() && p.1.is_finite())
                        .collect();
                    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                    if pts.len() >= 2 {
                        let base = py.map(0.0f64.clamp(py.lo.min(py.hi), py.lo.max(py.hi)));
                        let line: Vec<(f32, f32)> =
                            pts.iter().map(|&(a, b)| (f.px.map(a), py.map(b))).collect();
                        let mut segs = vec![Seg::M(line[0].0, base)];
                        segs.extend(line.iter().map(|&(x, y)| Seg::L(x, y)));
                        segs.push(Seg::L(line[line.len() - 1].0, base));
                        segs.push(Seg::Z);
                        if areas_filled {
                            sc.push(Prim::Path {
                                segs,
                                fill: Some(c.with_alpha(area_alpha * c.a as f32 / 255.0)),
                                stroke: None,
                                clip: true,
                            });
                        }
                        sc.push(Prim::Path {
                            segs: polyline_segs(&line),
                            fill: None,
                            stroke: Some(Stroke::line(c, 1.5)),
                            clip: true,
                        });
                    }
                }
                SeriesKind::Histogram { edges, counts } => {
                    let base = py.map(0.0f64.clamp(py.lo.min(py.hi), py.lo.max(py.hi)));
                    let mut segs = Vec::new();
                    let mut open = false;
                    let mut last_x = 0.0;
                    for (k, &cnt) in counts.iter().enumerate() {
                        let (e0, e1) = (edges[k], edges[k + 1]);
                        if !(cnt.is_finite() && e0.is_finite() && e1.is_finite()) {
                            if open {
                                segs.push(Seg::L(last_x, base));
                                segs.push(Seg::Z);
                                open = false;
                            }
                            continue;
                        }
                        let (x0, x1, y) = (
                            f.px.map_clamped(e0),
                            f.px.map_clamped(e1),
                            py.map_clamped(cnt),
                        );
                        if !open {
                            segs.push(Seg::M(x0, base));
                            open = true;
                        }
                        segs.push(Seg::L(x0, y));
                        segs.push(Seg::L(x1, y));
                        last_x = x1;
                    }
                    if open {
                        segs.push(Seg::L(last_x, base));
                        segs.push(Seg::Z);
                    }
                    sc.push(Prim::Path {
                        segs,
                        fill: Some(c.with_alpha(0.35 * c.a as f32 / 255.0)),
                        stroke: Some(Stroke::solid(c, 1.2)),
                        clip: true,
                    });
                }
                SeriesKind::BoxPlot { boxes: items } => {
                    if let Some((off, bw)) = boxes.slots[i] {
                        let mut whisk = Vec::new();
                        let mut body = Vec::new();
                        let mut med = Vec::new();
                        let mut outl = Vec::new();
                        for b in items {
                            if !b.position.is_finite() {
                                continue;
                            }
                            let cx = f.px.map(b.position + off);
                            let half = (f.px.map(b.position + off + bw * 0.4) - cx).abs();
                            let cap = half * 0.5;
                            let v = [b.min, b.q1, b.median, b.q3, b.max].map(|v| py.map_clamped(v));
                            if v.iter().all(|y| y.is_finite()) {
                                whisk.extend([
                                    Seg::M(cx, v[0]),
                                    Seg::L(cx, v[1]),
                                    Seg::M(cx, v[3]),
                                    Seg::L(cx, v[4]),
                                ]);
                                whisk.extend([
                                    Seg::M(cx - cap, v[0]),
                                    Seg::L(cx + cap, v[0]),
                                    Seg::M(cx - cap, v[4]),
                                    Seg::L(cx + cap, v[4]),
                                ]);
                                body.extend(
                                    Rect {
                                        x: cx - half,
                                        y: v[3].min(v[1]),
                                        w: 2.0 * half,
                                        h: (v[1] - v[3]).abs(),
                                    }
                                    .segs(),
                                );
                                med.extend([Seg::M(cx - half, v[2]), Seg::L(cx + half, v[2])]);
                            }
                            outl.extend(
                                b.outliers
                                    .iter()
                                    .filter(|o| o.is_finite())
                                    .map(|&o| (cx, py.map(o))),
                            );
                        }
                        sc.push(Prim::Path {
                            segs: whisk,
                            fill: None,
                            stroke: Some(Stroke::solid(c, 1.1)),
                            clip: true,
                        });
                        sc.push(Prim::Path {
                            segs: body,
                            fill: Some(c.with_alpha(0.3 * c.a as f32 / 255.0)),
                            stroke: Some(Stroke::solid(c, 1.2)),
                            clip: true,
                        });
                        sc.push(Prim::Path {
                            segs: med,
                            fill: None,
                            stroke: Some(Stroke::solid(darker(c), 2.0)),
                            clip: true,
                        });
                        sc.push(Prim::Markers {
                            shape: MarkerShape::Circle,
                            centers: outl,
                            radius: 2.2,
                            fill: None,
                            stroke: Some(Stroke::solid(c, 1.0)),
                            clip: true,
                        });
                    }
                }
                SeriesKind::HeatMap {
                    values,
                    range,
                    decimals,
                    ..
                } => {
                    let ramp = Ramp::red_blue();
                    let ncols = values.first().map_or(0, Vec::len);
                    for (r, row) in values.iter().enumerate() {
                        for (k, &v) in row.iter().enumerate() {
                            let (x1, x2) = (f.px.map(k as f64 - 0.5), f.px.map(k as f64 + 0.5));
                            let (y1, y2) = (f.py.map(r as f64 - 0.5), f.py.map(r as f64 + 0.5));
                            let cell = Rect {
                                x: x1 + 0.5,
                                y: y1.min(y2) + 0.5,
                                w: (x2 - x1).abs() - 1.0,
                                h: (y2 - y1).abs() - 1.0,
                            };
                            let fill = if v.is_finite() {
                                ramp.at((v - range.0) / (range.1 - range.0))
                            } else {
                                ink::MISSING
                            };
                            sc.rect(cell, Some(fill), None, false);
                            if v.is_finite() {
                                let label = format_tick(v, *decimals);
                                let mut size = TICK_SIZE.min(cell.h * 0.5);
                                let tw = text_width(&label, size, Weight::Regular);
                                if tw > cell.w - 4.0 {
                                    size *= (cell.w - 4.0) / tw;
                                }
                                if size >= 5.0 {
                                    sc.text(
                                        cell.x + cell.w / 2.0,
                                        cell.y + cell.h / 2.0 + metrics::CAP_HEIGHT * size / 2.0,
                                        &label,
                                        size,
                                        Weight::Regular,
                                        Anchor::Middle,
                                        0.0,
                                        fill.contrasting_text(),
                                    );
                                }
                            }
                        }
                    }
                    let _ = ncols;
                }
            }
            sc.end_group();
        }
    }

    // axes
    sc.group("axes");
    let tick_len = TICK_LEN;
    let label_gap = if f.heat { 4.0 } else { tick_len + 4.0 };
    if !f.heat {
        sc.line(
            (plot.x, plot.y),
            (plot.x, plot.bottom()),
            axis_stroke.clone(),
            false,
        );
        sc.line(
            (plot.x, plot.bottom()),
            (plot.right(), plot.bottom()),
            axis_stroke.clone(),
            false,
        );
        if f.y2.is_some() {
            sc.line(
                (plot.right(), plot.y),
                (plot.right(), plot.bottom()),
                axis_stroke.clone(),
                false,
            );
        }
        // a zero line when bars or areas go below zero
        if f.y.cats.is_none() && f.py.lo < 0.0 && f.py.hi > 0.0 {
            let has_fill = chart.series.iter().any(|s| {
                !s.secondary
                    && matches!(
                        s.kind,
                        SeriesKind::Bars {
                            horizontal: false,
                            ..
                        } | SeriesKind::Area { .. }
                    )
            });
            if has_fill {
                let y0 = f.py.map(0.0);
                sc.line(
                    (plot.x, y0),
                    (plot.right(), y0),
                    Stroke::solid(ink::AXIS, 0.8),
                    false,
                );
            }
        }
        if f.x.cats.is_none()
            && f.px.lo < 0.0
            && f.px.hi > 0.0
            && chart.series.iter().any(|s| {
                matches!(
                    s.kind,
                    SeriesKind::Bars {
                        horizontal: true,
                        ..
                    }
                )
            })
        {
            let x0 = f.px.map(0.0);
            sc.line(
                (x0, plot.y),
                (x0, plot.bottom()),
                Stroke::solid(ink::AXIS, 0.8),
                false,
            );
        }
    }
    // x ticks and labels
    let mut tick_segs = Vec::new();
    for (k, (v, label)) in f.x.ticks.iter().enumerate() {
        let x = f.px.map(*v);
        if !f.heat {
            tick_segs.extend([
                Seg::M(x, plot.bottom()),
                Seg::L(x, plot.bottom() + tick_len),
            ]);
        }
        if k % f.x_every != 0 {
            continue;
        }
        if f.x_rotate {
            let y = plot.bottom() + label_gap + TICK_SIZE * 0.35;
            sc.text(
                x + 3.0,
                y,
                label,
                TICK_SIZE,
                Weight::Regular,
                Anchor::End,
                -LABEL_ANGLE,
                ink::AXIS,
            );
        } else {
            let y = plot.bottom() + label_gap + metrics::CAP_HEIGHT * TICK_SIZE;
            sc.text(
                x,
                y,
                label,
                TICK_SIZE,
                Weight::Regular,
                Anchor::Middle,
                0.0,
                ink::AXIS,
            );
        }
    }
    // y ticks and labels
    for (v, label) in &f.y.ticks {
        let y = f.py.map(*v);
        if !f.heat {
            tick_segs.extend([Seg::M(plot.x - tick_len, y), Seg::L(plot.x, y)]);
        }
        sc.text(
            plot.x - label_gap,
            y + metrics::CAP_HEIGHT * TICK_SIZE / 2.0,
            label,
            TICK_SIZE,
            Weight::Regular,
            Anchor::End,
            0.0,
            ink::AXIS,
        );
    }
    let mut y2_label_w = 0.0;
    if let (Some(y2), Some(p2)) = (&f.y2, &f.py2) {
        for (v, label) in &y2.ticks {
            let y = p2.map(*v);
            tick_segs.extend([Seg::M(plot.right(), y), Seg::L(plot.right() + tick_len, y)]);
            sc.text(
                plot.right() + label_gap,
                y + metrics::CAP_HEIGHT * TICK_SIZE / 2.0,
                label,
                TICK_SIZE,
                Weight::Regular,
                Anchor::Start,
                0.0,
                ink::AXIS,
            );
        }
        y2_label_w = y2.max_label_width();
    }
    if !tick_segs.is_empty() {
        sc.push(Prim::Path {
            segs: tick_segs,
            fill: None,
            stroke: Some(axis_stroke.clone()),
            clip: false,
        });
    }
    // axis titles
    let (x_rot, _, x_lab_h) = x_label_layout(&f.x, plot.w);
    let _ = x_rot;
    if !f.x.label.is_empty() {
        let y = plot.bottom() + label_gap + x_lab_h + 6.0 + metrics::CAP_HEIGHT * LABEL_SIZE + 2.0;
        sc.text(
            plot.x + plot.w / 2.0,
            y,
            &f.x.label,
            LABEL_SIZE,
            Weight::Regular,
            Anchor::Middle,
            0.0,
            ink::TEXT,
        );
    }
    if !f.y.label.is_empty() {
        let x = plot.x - label_gap - f.y.max_label_width() - 6.0 - metrics::DESCENT * LABEL_SIZE;
        sc.text(
            x,
            plot.y + plot.h / 2.0,
            &f.y.label,
            LABEL_SIZE,
            Weight::Regular,
            Anchor::Middle,
            -90.0,
            ink::TEXT,
        );
    }
    if let Some(y2) = &f.y2 {
        if !y2.label.is_empty() {
            let x = plot.right() + label_gap + y2_label_w + 6.0 + metrics::DESCENT * LABEL_SIZE;
            sc.text(
                x,
                plot.y + plot.h / 2.0,
                &y2.label,
                LABEL_SIZE,
                Weight::Regular,
                Anchor::Middle,
                90.0,
                ink::TEXT,
            );
        }
    }
    sc.end_group();

    // title
    if !chart.title.is_empty() {
        let cx = (plot.x + plot.w / 2.0).clamp(
            PAD + text_width(&chart.title, TITLE_SIZE, Weight::Bold) / 2.0,
            width / 2.0 + plot.w,
        );
        sc.text(
            cx,
            PAD + metrics::CAP_HEIGHT * TITLE_SIZE + 2.0,
            &chart.title,
            TITLE_SIZE,
            Weight::Bold,
            Anchor::Middle,
            0.0,
            ink::TEXT,
        );
    }

    // annotation labels and notes: labels go to the first candidate spot free of data
    sc.group("annotations");
    for a in &chart.annotations {
        match a {
            Annotation::VLine { x, label } if x.is_finite() && !label.is_empty() => {
                // above the plot, centred on the line (kept within the plot's width): never on data
                let xp = f.px.map(*x);
                let w = text_width(label, TICK_SIZE, Weight::Regular);
                let (lx, anchor) =
                    if xp - w / 2.0 >= plot.x - 4.0 && xp + w / 2.0 <= plot.right() + 4.0 {
                        (xp, Anchor::Middle)
                    } else if xp - w / 2.0 < plot.x - 4.0 {
                        (xp - 3.0, Anchor::Start)
                    } else {
                        (xp + 3.0, Anchor::End)
                    };
                sc.text(
                    lx,
                    plot.y - 5.0,
                    label,
                    TICK_SIZE,
                    Weight::Regular,
                    anchor,
                    0.0,
                    ink::REFERENCE,
                );
            }
            Annotation::HLine {
                y,
                label,
                secondary,
            } if y.is_finite() && !label.is_empty() => {
                let p = if *secondary {
                    f.py2.as_ref().unwrap_or(&f.py)
                } else {
                    &f.py
                };
                let yp = p.map(*y);
                let (above, below) = (
                    yp - 4.0 - metrics::DESCENT * TICK_SIZE,
                    yp + 4.0 + metrics::CAP_HEIGHT * TICK_SIZE,
                );
                let (r, l) = (plot.right() - 4.0, plot.x + 4.0);
                let cands = [
                    (r, above, Anchor::End),
                    (r, below, Anchor::End),
                    (l, above, Anchor::Start),
                    (l, below, Anchor::Start),
                ];
                place_label(&mut sc, &mut occ, &plot, label, &cands);
            }
            Annotation::Text { x, y, text } if x.is_finite() && y.is_finite() => {
                sc.text(
                    f.px.map(*x),
                    f.py.map(*y),
                    text,
                    LEGEND_SIZE,
                    Weight::Regular,
                    Anchor::Middle,
                    0.0,
                    ink::TEXT,
                );
            }
            Annotation::Note { text, corner } => {
                let (w, h) = note_box(text);
                let (x, y) = corner_pos(&plot, *corner, w, h);
                sc.rect(
                    Rect { x, y, w, h },
                    Some(Rgba::WHITE.with_alpha(0.85)),
                    None,
                    false,
                );
                for (k, line) in text.split('\n').enumerate() {
                    let by = y
                        + LEGEND_PAD
                        + metrics::CAP_HEIGHT * LEGEND_SIZE
                        + k as f32 * LEGEND_SIZE * 1.4;
                    sc.text(
                        x + LEGEND_PAD,
                        by,
                        line,
                        LEGEND_SIZE,
                        Weight::Regular,
                        Anchor::Start,
                        0.0,
                        ink::TEXT,
                    );
                }
            }
            _ => {}
        }
    }
    sc.end_group();

    // colour bar of a heat map
    if let Some(SeriesKind::HeatMap {
        range, scale_title, ..
    }) = chart
        .series
        .iter()
        .map(|s| &s.kind)
        .find(|k| matches!(k, SeriesKind::HeatMap { .. }))
    {
        sc.group("colorbar");
        let ramp = Ramp::red_blue();
        let x0 = plot.right() + 14.0;
        let title_h = if scale_title.is_empty() {
            0.0
        } else {
            TICK_SIZE * 1.6
        };
        let y0 = plot.y + title_h;
        let h = (plot.h - title_h).min(260.0);
        let steps = 64;
        for k in 0..steps {
            let t0 = k as f32 / steps as f32;
            let y = y0 + h * (1.0 - (k + 1) as f32 / steps as f32);
            let c = ramp.at((k as f64 + 0.5) / steps as f64);
            sc.rect(
                Rect {
                    x: x0,
                    y: y - 0.3,
                    w: COLORBAR_W,
                    h: h / steps as f32 + 0.6,
                },
                Some(c),
                None,
                false,
            );
            let _ = t0;
        }
        sc.rect(
            Rect {
                x: x0,
                y: y0,
                w: COLORBAR_W,
                h,
            },
            None,
            Some(Stroke::solid(ink::AXIS, 0.6)),
            false,
        );
        let tk = ticks_within(range.0, range.1, 5);
        let mut segs = Vec::new();
        for &v in &tk.values {
            let y = y0 + h * (1.0 - ((v - range.0) / (range.1 - range.0)) as f32);
            segs.extend([Seg::M(x0 + COLORBAR_W, y), Seg::L(x0 + COLORBAR_W + 3.0, y)]);
            sc.text(
                x0 + COLORBAR_W + 5.0,
                y + metrics::CAP_HEIGHT * TICK_SIZE / 2.0,
                &format_tick(v, tk.decimals),
                TICK_SIZE,
                Weight::Regular,
                Anchor::Start,
                0.0,
                ink::AXIS,
            );
        }
        sc.push(Prim::Path {
            segs,
            fill: None,
            stroke: Some(Stroke::solid(ink::AXIS, 0.8)),
            clip: false,
        });
        if !scale_title.is_empty() {
            sc.text(
                x0,
                plot.y + metrics::CAP_HEIGHT * TICK_SIZE,
                scale_title,
                TICK_SIZE,
                Weight::Regular,
                Anchor::Start,
                0.0,
                ink::TEXT,
            );
        }
        sc.end_group();
        let _ = f.colorbar_w;
    }
    Ok((sc, occ))
}

fn draw_symbol(sc: &mut Scene, sym: &Symbol, x: f32, cy: f32) {
    let w = LEGEND_SYMBOL_W;
    match sym {
        Symbol::Line {
            color,
            dashed,
            marker,
            band,
        } => {
            if *band {
                sc.rect(
                    Rect {
                        x,
                        y: cy - 5.0,
                        w,
                        h: 10.0,
                    },
                    Some(color.with_alpha(0.2)),
                    None,
                    false,
                );
            }
            let mut st = Stroke::line(*color, LINE_WIDTH);
            if *dashed {
                st.dash = vec![6.0, 4.0];
                st.round = false;
            }
            sc.line((x, cy), (x + w, cy), st, false);
            if let Some(m) = marker {
                sc.push(Prim::Markers {
                    shape: *m,
                    centers: vec![(x + w / 2.0, cy)],
                    radius: 3.2,
                    fill: Some(*color),
                    stroke: Some(Stroke::solid(Rgba::WHITE, 0.8)),
                    clip: false,
                });
            }
        }
        Symbol::Marker { shape, color } => {
            sc.push(Prim::Markers {
                shape: *shape,
                centers: vec![(x + w / 2.0, cy)],
                radius: 3.5,
                fill: Some(*color),
                stroke: None,
                clip: false,
            });
        }
        Symbol::Patch {
            color,
            outline: false,
        } => {
            sc.rect(
                Rect {
                    x: x + 4.0,
                    y: cy - 5.5,
                    w: w - 8.0,
                    h: 11.0,
                },
                Some(*color),
                None,
                false,
            );
        }
        Symbol::Patch {
            color,
            outline: true,
        } => {
            let fill = color.with_alpha(0.3 * color.a as f32 / 255.0);
            sc.rect(
                Rect {
                    x: x + 4.5,
                    y: cy - 5.0,
                    w: w - 9.0,
                    h: 10.0,
                },
                Some(fill),
                Some(Stroke::solid(Rgba { a: 255, ..*color }, 1.2)),
                false,
            );
        }
    }
}

fn draw_legend(
    sc: &mut Scene,
    entries: &[(String, Symbol)],
    title: Option<&str>,
    x: f32,
    y: f32,
    lb: &LegendBox,
    inside: bool,
) {
    sc.group("legend");
    if inside {
        sc.rect(
            Rect {
                x,
                y,
                w: lb.w,
                h: lb.h,
            },
            Some(Rgba::WHITE.with_alpha(0.85)),
            None,
            false,
        );
    }
    if let Some(t) = title {
        sc.text(
            x + LEGEND_PAD,
            y + LEGEND_PAD + metrics::CAP_HEIGHT * LEGEND_SIZE,
            t,
            LEGEND_SIZE,
            Weight::Bold,
            Anchor::Start,
            0.0,
            ink::TEXT,
        );
    }
    let rows = entries.len().div_ceil(lb.cols.max(1));
    for (k, (name, sym)) in entries.iter().enumerate() {
        let (col, row) = if inside || lb.cols == 1 || rows * lb.cols >= entries.len() {
            // column-major for vertical legends, row-major when laid out in rows below the plot
            if lb.h < lb.w && !inside && rows <= 2 {
                (k % lb.cols, k / lb.cols)
            } else {
                (k / rows, k % rows)
            }
        } else {
            (k % lb.cols, k / lb.cols)
        };
        let ex = x + LEGEND_PAD + col as f32 * lb.col_w;
        let cy = y + LEGEND_PAD + lb.title_h + (row as f32 + 0.5) * lb.row_h;
        draw_symbol(sc, sym, ex, cy);
        sc.text(
            ex + LEGEND_SYMBOL_W + 6.0,
            cy + metrics::CAP_HEIGHT * LEGEND_SIZE / 2.0,
            name,
            LEGEND_SIZE,
            Weight::Regular,
            Anchor::Start,
            0.0,
            ink::TEXT,
        );
    }
    sc.end_group();
}
