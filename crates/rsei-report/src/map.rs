//! RSEI map images: a raster coloured by a palette, with title, legend, scale bar, north arrow and
//! outline polygons, as PNG ([`render_map`]) or SVG with the raster embedded as a base64 PNG
//! ([`render_map_svg`]).
//!
//! **Input**: `values` row-major, `rows × cols`, row 0 at the top (north-up grids), `NaN` = nodata.
//! An optional water mask (same shape, `true` = water) paints water in its own colour whatever the
//! value.
//!
//! **Display resolution**: a raster larger than `max_display_px` on its longer side is reduced by
//! the integer factor `k = ceil(max(rows, cols) / max_display_px)`; each display pixel summarises
//! a `k × k` block (the last row/column of blocks may be partial):
//! 1. its cells are counted as *data* (finite value, not water), *water* or *nodata*; the most
//!    frequent of the three wins (ties: data, then water);
//! 2. a data pixel takes, for a [`MapPalette::Continuous`] palette, the **mean** of the block's
//!    data values; for a [`MapPalette::Classes`] palette, the **mode** (most frequent class of the
//!    block's data cells; ties → the lower class).
//!
//! Small rasters are enlarged by an integer factor (pixel replication) to about
//! `min_display_px`. Cells are never smoothed.
//!
//! **Classes**: class `i` holds the values `v` with `max(i−1) ≤ v < max(i)`; values below the first
//! class are drawn in the first, values at or above the last class's `max` in the last (RSEI is in
//! [0, 1], so the grade palette covers everything). Continuous palettes clamp to `[min, max]`.
//!
//! **Scale bar**: needs the cell size in metres (`cell_size_m`); its length is the largest
//! 1-2-5 × 10ⁿ value not above a third of the map width, labelled in km (m below 1 km).
//!
//! **North arrow**: drawn pointing up; correct for north-up grids in a projection where grid north
//! is true north at the map centre (on the MODIS sinusoidal grid this holds only near the central
//! meridian: reproject for display elsewhere).
//!
//! **Outlines** (mines, study area) are rings in *source pixel coordinates*: `x` = column, `y` =
//! row, `(0, 0)` the top-left corner of the top-left cell, so the centre of cell (r, c) is
//! `(c + 0.5, r + 0.5)`.
//!
//! ```
//! use rsei_report::map::{render_map, MapStyle};
//! let v = vec![0.1, 0.3, 0.5, 0.7, 0.9, f32::NAN];
//! let style = MapStyle { title: "RSEI 2019".into(), cell_size_m: Some(500.0), ..MapStyle::default() };
//! let png = render_map(&v, 2, 3, &style).unwrap();
//! assert_eq!(&png[1..4], b"PNG");
//! ```

use crate::color::{ink, Ramp, Rgba, RSEI_GRADE_COLORS, RSEI_GRADE_NAMES, RSEI_TEN_CLASS_COLORS};
use crate::font::{metrics, text_width, Weight};
use crate::scene::{Anchor, Image, Prim, Rect, Scene, Seg, Stroke};
use crate::ticks::{format_fixed, format_tick, ticks_within};
use crate::{ReportError, Result};

/// One colour class of a map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapClass {
    /// Lower bound (for the legend text; assignment uses the previous class's `max`).
    pub min: f64,
    /// Upper bound (exclusive, except for the last class).
    pub max: f64,
    pub color: Rgba,
    /// Legend text, e.g. "Poor (0.0–0.2)".
    pub label: String,
}

/// How values become colours.
#[derive(Debug, Clone, PartialEq)]
pub enum MapPalette {
    /// A ramp over `[min, max]`, legend as a colour bar with nice ticks.
    Continuous { ramp: Ramp, min: f64, max: f64 },
    /// Discrete classes in increasing order, legend as boxes with labels.
    Classes(Vec<MapClass>),
}

impl MapPalette {
    /// The five RSEI grades at 0.2 steps: poor, fair, moderate, good, excellent
    /// (red → orange → yellow → light green → dark green).
    pub fn rsei_grades() -> Self {
        MapPalette::Classes(
            (0..5)
                .map(|i| {
                    let (lo, hi) = (i as f64 * 0.2, (i + 1) as f64 * 0.2);
                    MapClass {
                        min: lo,
                        max: hi,
                        color: RSEI_GRADE_COLORS[i],
                        label: format!(
                            "{} ({}\u{2013}{})",
                            RSEI_GRADE_NAMES[i],
                            format_fixed(lo, 1),
                            format_fixed(hi, 1)
                        ),
                    }
                })
                .collect(),
        )
    }
    /// Ten RSEI classes at 0.1 steps (paper Fig. 4a).
    pub fn rsei_ten_classes() -> Self {
        MapPalette::Classes(
            (0..10)
                .map(|i| {
                    let (lo, hi) = (i as f64 * 0.1, (i + 1) as f64 * 0.1);
                    MapClass {
                        min: lo,
                        max: hi,
                        color: RSEI_TEN_CLASS_COLORS[i],
                        label: format!("{}\u{2013}{}", format_fixed(lo, 1), format_fixed(hi, 1)),
                    }
                })
                .collect(),
        )
    }
    /// Continuous RSEI on [0, 1] with the red–yellow–green ramp.
    pub fn rsei_continuous() -> Self {
        MapPalette::Continuous {
            ramp: Ramp::red_yellow_green(),
            min: 0.0,
            max: 1.0,
        }
    }
}

/// An outline to draw over the map (rings in source pixel coordinates, see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    pub rings: Vec<Vec<(f64, f64)>>,
    pub color: Rgba,
    /// Line width in px.
    pub width: f32,
    /// Legend text; `None` = not in the legend.
    pub label: Option<String>,
}

impl Outline {
    /// An outline from rings in the raster's map coordinates (its CRS units), converted to source
    /// pixel coordinates with the grid's affine transform: `col = (x − x0)/dx`, `row = (y − y0)/dy`.
    ///
    /// ```
    /// use rsei_core::GeoTransform;
    /// use rsei_report::{color::Rgba, map::Outline};
    /// let gt = GeoTransform { x0: 1000.0, dx: 500.0, y0: 9000.0, dy: -500.0 };
    /// let o = Outline::from_map_coords(&[vec![(1000.0, 9000.0), (2000.0, 8000.0)]], &gt, Rgba::BLACK, 1.0, None);
    /// assert_eq!(o.rings[0], vec![(0.0, 0.0), (2.0, 2.0)]);
    /// ```
    pub fn from_map_coords(
        rings: &[Vec<(f64, f64)>],
        transform: &rsei_core::GeoTransform,
        color: Rgba,
        width: f32,
        label: Option<String>,
    ) -> Self {
        let rings = rings
            .iter()
            .map(|r| {
                r.iter()
                    .map(|&(x, y)| {
                        (
                            (x - transform.x0) / transform.dx,
                            (y - transform.y0) / transform.dy,
                        )
                    })
                    .collect()
            })
            .collect();
        Outline {
            rings,
            color,
            width,
            label,
        }
    }
}

/// Everything about a map image except its values.
#[derive(Debug, Clone, PartialEq)]
pub struct MapStyle<'a> {
    /// Title above the map; empty for none.
    pub title: String,
    pub palette: MapPalette,
    /// Heading of the legend (e.g. "RSEI", "RSEI grade").
    pub legend_title: String,
    /// Colour of nodata cells: light grey by default; [`Rgba::TRANSPARENT`] for none.
    pub nodata_color: Rgba,
    /// Water mask, same shape as the values (`true` = water).
    pub water_mask: Option<&'a [bool]>,
    pub water_color: Rgba,
    /// Cell size in metres; `Some` draws a scale bar.
    pub cell_size_m: Option<f64>,
    pub north_arrow: bool,
    pub outlines: Vec<Outline>,
    /// Longest side of the displayed raster, in display pixels (larger rasters are reduced).
    pub max_display_px: usize,
    /// Smaller rasters are enlarged by an integer factor to about this many px.
    pub min_display_px: usize,
    /// Device-pixel ratio of the PNG (2 = sharp text on high-density screens and in print).
    pub scale: f64,
}

impl Default for MapStyle<'_> {
    fn default() -> Self {
        MapStyle {
            title: String::new(),
            palette: MapPalette::rsei_grades(),
            legend_title: "RSEI grade".into(),
            nodata_color: Rgba::hex(0xdddddd),
            water_mask: None,
            water_color: Rgba::hex(0x6baed6),
            cell_size_m: None,
            north_arrow: true,
            outlines: Vec::new(),
            max_display_px: 800,
            min_display_px: 400,
            scale: 2.0,
        }
    }
}

const PAD: f32 = 10.0;
const TITLE_SIZE: f32 = 15.0;
const TEXT_SIZE: f32 = 11.0;
const SWATCH_W: f32 = 18.0;
const SWATCH_H: f32 = 12.0;

fn bad(style: &MapStyle, reason: impl Into<String>) -> ReportError {
    ReportError::InvalidMap {
        map: style.title.clone(),
        reason: reason.into(),
    }
}

fn validate(values: &[f32], rows: usize, cols: usize, style: &MapStyle) -> Result<()> {
    if rows == 0 || cols == 0 {
        return Err(bad(
            style,
            format!("the raster has no cells ({rows}×{cols})"),
        ));
    }
    let expected = rows
        .checked_mul(cols)
        .ok_or_else(|| bad(style, format!("{rows}×{cols} cells overflow")))?;
    if values.len() != expected {
        return Err(ReportError::BufferSize {
            what: format!("map \"{}\" values", style.title),
            got: values.len(),
            expected,
            rows,
            cols,
        });
    }
    if let Some(w) = style.water_mask {
        if w.len() != expected {
            return Err(ReportError::BufferSize {
                what: format!("map \"{}\" water mask", style.title),
                got: w.len(),
                expected,
                rows,
                cols,
            });
        }
    }
    match &style.palette {
        MapPalette::Continuous { ramp, min, max } => {
            if !(min.is_finite() && max.is_finite() && min < max) {
                return Err(bad(style, format!("continuous palette range {min}..{max} is not an increasing finite interval")));
            }
            if ramp.stops.is_empty() {
                return Err(bad(style, "the colour ramp has no stops"));
            }
        }
        MapPalette::Classes(c) => {
            if c.is_empty() {
                return Err(bad(style, "the class palette has no classes"));
            }
            for (i, k) in c.iter().enumerate() {
                if !k.max.is_finite() || (i > 0 && k.max <= c[i - 1].max) {
                    return Err(bad(
                        style,
                        format!(
                            "class {} (\"{}\") must have a finite max above the previous class's",
                            i + 1,
                            k.label
                        ),
                    ));
                }
            }
        }
    }
    if style.max_display_px < 16 {
        return Err(bad(
            style,
            format!(
                "max_display_px = {} is too small (at least 16)",
                style.max_display_px
            ),
        ));
    }
    if let Some(c) = style.cell_size_m {
        if !(c.is_finite() && c > 0.0) {
            return Err(bad(
                style,
                format!("cell size {c} m must be a positive number"),
            ));
        }
    }
    for (i, o) in style.outlines.iter().enumerate() {
        if o.rings
            .iter()
            .flatten()
            .any(|p| !(p.0.is_finite() && p.1.is_finite()))
        {
            return Err(bad(
                style,
                format!("outline {} has non-finite coordinates", i + 1),
            ));
        }
        if !(o.width.is_finite() && o.width > 0.0) {
            return Err(bad(
                style,
                format!("outline {} has line width {}", i + 1, o.width),
            ));
        }
    }
    Ok(())
}

/// Display pixels: their RGBA, size, the reduction factor `k` and whether any nodata pixel shows.
struct Display {
    w: usize,
    h: usize,
    k: usize,
    rgba: Vec<u8>,
    has_nodata: bool,
    has_water: bool,
}

fn class_of(classes: &[MapClass], v: f32) -> usize {
    let v = v as f64;
    classes
        .iter()
        .position(|c| v < c.max)
        .unwrap_or(classes.len() - 1)
}

fn downsample(values: &[f32], rows: usize, cols: usize, style: &MapStyle) -> Display {
    let k = rows.max(cols).div_ceil(style.max_display_px).max(1);
    let (w, h) = (cols.div_ceil(k), rows.div_ceil(k));
    let mut rgba = vec![0u8; w * h * 4];
    let mut has_nodata = false;
    let mut has_water = false;
    // continuous palettes: 256-entry lookup table over [min, max]
    let lut: Vec<Rgba> = match &style.palette {
        MapPalette::Continuous { ramp, .. } => {
            (0..256).map(|i| ramp.at(i as f64 / 255.0)).collect()
        }
        MapPalette::Classes(_) => Vec::new(),
    };
    let nclass = match &style.palette {
        MapPalette::Classes(c) => c.len(),
        MapPalette::Continuous { .. } => 0,
    };
    let mut counts = vec![0u32; nclass];
    for dr in 0..h {
        for dc in 0..w {
            let (r0, r1) = (dr * k, ((dr + 1) * k).min(rows));
            let (c0, c1) = (dc * k, ((dc + 1) * k).min(cols));
            let (mut n_data, mut n_water, mut n_nodata) = (0u32, 0u32, 0u32);
            let mut sum = 0f64;
            counts.iter_mut().for_each(|c| *c = 0);
            for r in r0..r1 {
                let row = &values[r * cols + c0..r * cols + c1];
                let wrow = style.water_mask.map(|m| &m[r * cols + c0..r * cols + c1]);
                for (j, &v) in row.iter().enumerate() {
                    if wrow.is_some_and(|m| m[j]) {
                        n_water += 1;
                    } else if v.is_finite() {
                        n_data += 1;
                        match &style.palette {
                            MapPalette::Continuous { .. } => sum += v as f64,
                            MapPalette::Classes(c) => counts[class_of(c, v)] += 1,
                        }
                    } else {
                        n_nodata += 1;
                    }
                }
            }
            let color = if n_data > 0 && n_data >= n_water && n_data >= n_nodata {
                match &style.palette {
                    MapPalette::Continuous { min, max, .. } => {
                        let mean = sum / n_data as f64;
                        let t = ((mean - min) / (max - min)).clamp(0.0, 1.0);
                        lut[(t * 255.0).round() as usize]
                    }
                    MapPalette::Classes(c) => {
                        // mode; ties → the lower class (first maximum)
                        let mut best = 0;
                        for (i, &n) in counts.iter().enumerate() {
                            if n > counts[best] {
                                best = i;
                            }
                        }
                        c[best].color
                    }
                }
            } else if n_water > 0 && n_water >= n_nodata {
                has_water = true;
                style.water_color
            } else {
                has_nodata = true;
                style.nodata_color
            };
            let o = (dr * w + dc) * 4;
            rgba[o..o + 4].copy_from_slice(&[color.r, color.g, color.b, color.a]);
        }
    }
    Display {
        w,
        h,
        k,
        rgba,
        has_nodata,
        has_water,
    }
}

/// Legend entries besides the palette.
enum Extra {
    Swatch(Rgba, String),
    Line(Rgba, f32, String),
}

/// The largest 1-2-5 × 10ⁿ length not above a third of the map width (so the bar spans 13–33 %
/// of the map).
fn scale_bar_length_m(map_width_m: f64) -> f64 {
    let x = map_width_m / 3.0;
    let e = (x.log10() + 1e-12).floor() as i32;
    let f = x / 10f64.powi(e);
    let m = if f >= 5.0 - 1e-9 {
        5.0
    } else if f >= 2.0 - 1e-9 {
        2.0
    } else {
        1.0
    };
    m * 10f64.powi(e)
}

fn length_label(m: f64) -> (f64, &'static str) {
    if m >= 1000.0 {
        (m / 1000.0, "km")
    } else {
        (m, "m")
    }
}

fn number_label(v: f64) -> String {
    // whole numbers without decimals, else the shortest of 1–3 decimals that is exact
    for d in 0..=3 {
        let s = format_fixed(v, d);
        if s.parse::<f64>()
            .is_ok_and(|p| (p - v).abs() < 1e-9 * v.abs().max(1.0))
        {
            return s;
        }
    }
    format_fixed(v, 3)
}

fn layout_map(values: &[f32], rows: usize, cols: usize, style: &MapStyle) -> Result<Scene> {
    validate(values, rows, cols, style)?;
    let d = downsample(values, rows, cols, style);
    let u = (style.min_display_px / d.w.max(d.h)).max(1);
    let (mw, mh) = ((d.w * u) as f32, (d.h * u) as f32);
    let title_h = if style.title.is_empty() {
        0.0
    } else {
        TITLE_SIZE * 1.3 + 6.0
    };
    let map = Rect {
        x: PAD,
        y: PAD + title_h,
        w: mw,
        h: mh,
    };

    // legend content
    let mut extras = Vec::new();
    if d.has_water {
        extras.push(Extra::Swatch(style.water_color, "Water".into()));
    }
    if d.has_nodata && style.nodata_color.a > 0 {
        extras.push(Extra::Swatch(style.nodata_color, "No data".into()));
    }
    for o in &style.outlines {
        if let Some(l) = &o.label {
            extras.push(Extra::Line(o.color, o.width, l.clone()));
        }
    }
    let text_w = |s: &str| text_width(s, TEXT_SIZE, Weight::Regular);
    let row_h = TEXT_SIZE * 1.6;
    let (palette_w, palette_h) = match &style.palette {
        MapPalette::Classes(c) => (
            SWATCH_W + 6.0 + c.iter().map(|k| text_w(&k.label)).fold(0.0, f32::max),
            c.len() as f32 * row_h,
        ),
        MapPalette::Continuous { min, max, .. } => {
            let t = ticks_within(*min, *max, 6);
            let lw = t.labels().iter().map(|l| text_w(l)).fold(0.0, f32::max);
            (14.0 + 6.0 + lw, (mh * 0.55).clamp(100.0, 220.0))
        }
    };
    let extras_w = extras
        .iter()
        .map(|e| match e {
            Extra::Swatch(_, l) | Extra::Line(_, _, l) => SWATCH_W + 6.0 + text_w(l),
        })
        .fold(0.0, f32::max);
    let legend_title_w = text_width(&style.legend_title, TEXT_SIZE, Weight::Bold);
    let col_w = palette_w
        .max(extras_w)
        .max(legend_title_w)
        .max(if style.north_arrow { 24.0 } else { 0.0 });
    let arrow_h = if style.north_arrow { 52.0 } else { 0.0 };
    let legend_title_h = if style.legend_title.is_empty() {
        0.0
    } else {
        TEXT_SIZE * 1.8
    };
    let col_h = arrow_h
        + legend_title_h
        + palette_h
        + if extras.is_empty() {
            0.0
        } else {
            8.0 + extras.len() as f32 * row_h
        };
    let scalebar_h = if style.cell_size_m.is_some() {
        40.0
    } else {
        0.0
    };
    let lx = map.right() + 18.0;
    let width =
        (lx + col_w + PAD).max(PAD * 2.0 + text_width(&style.title, TITLE_SIZE, Weight::Bold));
    let height = (map.bottom() + scalebar_h).max(map.y + col_h) + PAD;

    let mut sc = Scene::new(width, height, &style.title);
    sc.clip = Some(map);
    if !style.title.is_empty() {
        sc.text(
            PAD,
            PAD + metrics::CAP_HEIGHT * TITLE_SIZE + 2.0,
            &style.title,
            TITLE_SIZE,
            Weight::Bold,
            Anchor::Start,
            0.0,
            ink::TEXT,
        );
    }
    sc.group("raster");
    sc.push(Prim::Image {
        x: map.x,
        y: map.y,
        w: mw,
        h: mh,
        image: Image {
            width: d.w as u32,
            height: d.h as u32,
            rgba: d.rgba,
        },
    });
    sc.end_group();

    // outlines: source pixel → display px
    let per_cell = u as f64 / d.k as f64;
    if !style.outlines.is_empty() {
        sc.group("outlines");
        for o in &style.outlines {
            let mut segs = Vec::new();
            for ring in &o.rings {
                for (i, &(x, y)) in ring.iter().enumerate() {
                    let (px, py) = (map.x + (x * per_cell) as f32, map.y + (y * per_cell) as f32);
                    segs.push(if i == 0 {
                        Seg::M(px, py)
                    } else {
                        Seg::L(px, py)
                    });
                }
                if ring.len() > 2 {
                    segs.push(Seg::Z);
                }
            }
            sc.push(Prim::Path {
                segs,
                fill: None,
                stroke: Some(Stroke {
                    color: o.color,
                    width: o.width,
                    dash: Vec::new(),
                    round: true,
                }),
                clip: true,
            });
        }
        sc.end_group();
    }
    sc.rect(map, None, Some(Stroke::solid(ink::AXIS, 0.8)), false);

    // north arrow
    let mut y = map.y;
    if style.north_arrow {
        sc.group("north-arrow");
        let cx = lx + 12.0;
        sc.text(
            cx,
            y + metrics::CAP_HEIGHT * 13.0,
            "N",
            13.0,
            Weight::Bold,
            Anchor::Middle,
            0.0,
            ink::TEXT,
        );
        let (top, base, notch) = (y + 17.0, y + 46.0, y + 38.0);
        sc.push(Prim::Path {
            segs: vec![
                Seg::M(cx, top),
                Seg::L(cx - 9.0, base),
                Seg::L(cx, notch),
                Seg::Z,
            ],
            fill: Some(ink::TEXT),
            stroke: Some(Stroke::solid(ink::TEXT, 0.8)),
            clip: false,
        });
        sc.push(Prim::Path {
            segs: vec![
                Seg::M(cx, top),
                Seg::L(cx + 9.0, base),
                Seg::L(cx, notch),
                Seg::Z,
            ],
            fill: Some(Rgba::WHITE),
            stroke: Some(Stroke::solid(ink::TEXT, 0.8)),
            clip: false,
        });
        sc.end_group();
        y += arrow_h;
    }

    // legend
    sc.group("legend");
    if !style.legend_title.is_empty() {
        sc.text(
            lx,
            y + metrics::CAP_HEIGHT * TEXT_SIZE + 2.0,
            &style.legend_title,
            TEXT_SIZE,
            Weight::Bold,
            Anchor::Start,
            0.0,
            ink::TEXT,
        );
        y += legend_title_h;
    }
    let swatch_stroke = Stroke::solid(Rgba::hex(0x666666), 0.5);
    match &style.palette {
        MapPalette::Classes(c) => {
            // highest class on top, like the map's colour order from good to poor
            for (i, k) in c.iter().rev().enumerate() {
                let ry = y + i as f32 * row_h;
                sc.rect(
                    Rect {
                        x: lx,
                        y: ry,
                        w: SWATCH_W,
                        h: SWATCH_H,
                    },
                    Some(k.color),
                    Some(swatch_stroke.clone()),
                    false,
                );
                sc.text(
                    lx + SWATCH_W + 6.0,
                    ry + SWATCH_H / 2.0 + metrics::CAP_HEIGHT * TEXT_SIZE / 2.0,
                    &k.label,
                    TEXT_SIZE,
                    Weight::Regular,
                    Anchor::Start,
                    0.0,
                    ink::TEXT,
                );
            }
        }
        MapPalette::Continuous { ramp, min, max } => {
            let bh = palette_h - 6.0;
            let steps = 64;
            for s in 0..steps {
                let y0 = y + bh * (1.0 - (s + 1) as f32 / steps as f32);
                sc.rect(
                    Rect {
                        x: lx,
                        y: y0 - 0.3,
                        w: 14.0,
                        h: bh / steps as f32 + 0.6,
                    },
                    Some(ramp.at((s as f64 + 0.5) / steps as f64)),
                    None,
                    false,
                );
            }
            sc.rect(
                Rect {
                    x: lx,
                    y,
                    w: 14.0,
                    h: bh,
                },
                None,
                Some(Stroke::solid(ink::AXIS, 0.6)),
                false,
            );
            let t = ticks_within(*min, *max, 6);
            let mut segs = Vec::new();
            for &v in &t.values {
                let ty = y + bh * (1.0 - ((v - min) / (max - min)) as f32);
                segs.extend([Seg::M(lx + 14.0, ty), Seg::L(lx + 17.0, ty)]);
                sc.text(
                    lx + 20.0,
                    ty + metrics::CAP_HEIGHT * TEXT_SIZE / 2.0,
                    &format_tick(v, t.decimals),
                    TEXT_SIZE,
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
        }
    }
    y += palette_h;
    if !extras.is_empty() {
        y += 8.0;
        for e in &extras {
            match e {
                Extra::Swatch(c, l) => {
                    sc.rect(
                        Rect {
                            x: lx,
                            y,
                            w: SWATCH_W,
                            h: SWATCH_H,
                        },
                        Some(*c),
                        Some(swatch_stroke.clone()),
                        false,
                    );
                    sc.text(
                        lx + SWATCH_W + 6.0,
                        y + SWATCH_H / 2.0 + metrics::CAP_HEIGHT * TEXT_SIZE / 2.0,
                        l,
                        TEXT_SIZE,
                        Weight::Regular,
                        Anchor::Start,
                        0.0,
                        ink::TEXT,
                    );
                }
                Extra::Line(c, w, l) => {
                    sc.rect(
                        Rect {
                            x: lx + 1.0,
                            y: y + 1.0,
                            w: SWATCH_W - 2.0,
                            h: SWATCH_H - 2.0,
                        },
                        None,
                        Some(Stroke::solid(*c, *w)),
                        false,
                    );
                    sc.text(
                        lx + SWATCH_W + 6.0,
                        y + SWATCH_H / 2.0 + metrics::CAP_HEIGHT * TEXT_SIZE / 2.0,
                        l,
                        TEXT_SIZE,
                        Weight::Regular,
                        Anchor::Start,
                        0.0,
                        ink::TEXT,
                    );
                }
            }
            y += row_h;
        }
    }
    sc.end_group();

    // scale bar
    if let Some(cell_m) = style.cell_size_m {
        sc.group("scale-bar");
        let m_per_px = cell_m * d.k as f64 / u as f64;
        let len_m = scale_bar_length_m(mw as f64 * m_per_px);
        let len_px = (len_m / m_per_px) as f32;
        let (x0, y0) = (map.x, map.bottom() + 12.0);
        let half = len_px / 2.0;
        sc.rect(
            Rect {
                x: x0,
                y: y0,
                w: half,
                h: 5.0,
            },
            Some(ink::TEXT),
            Some(Stroke::solid(ink::TEXT, 0.8)),
            false,
        );
        sc.rect(
            Rect {
                x: x0 + half,
                y: y0,
                w: half,
                h: 5.0,
            },
            Some(Rgba::WHITE),
            Some(Stroke::solid(ink::TEXT, 0.8)),
            false,
        );
        let (full, unit) = length_label(len_m);
        let ly = y0 + 5.0 + 4.0 + metrics::CAP_HEIGHT * TEXT_SIZE;
        sc.text(
            x0,
            ly,
            "0",
            TEXT_SIZE,
            Weight::Regular,
            Anchor::Middle,
            0.0,
            ink::TEXT,
        );
        sc.text(
            x0 + half,
            ly,
            &number_label(full / 2.0),
            TEXT_SIZE,
            Weight::Regular,
            Anchor::Middle,
            0.0,
            ink::TEXT,
        );
        sc.text(
            x0 + len_px,
            ly,
            &number_label(full),
            TEXT_SIZE,
            Weight::Regular,
            Anchor::Middle,
            0.0,
            ink::TEXT,
        );
        sc.text(
            x0 + len_px + text_w(&number_label(full)) / 2.0 + 4.0,
            ly,
            unit,
            TEXT_SIZE,
            Weight::Regular,
            Anchor::Start,
            0.0,
            ink::TEXT,
        );
        sc.end_group();
    }
    sc.clip_to_bounds();
    Ok(sc)
}

/// Renders a map to PNG bytes at `style.scale` device pixels per px. See the module docs for
/// the input layout, the display reduction rule (mode for classes, mean for continuous) and
/// the outline coordinates.
///
/// Errors: [`ReportError::BufferSize`] when `values` or the water mask do not hold `rows × cols`
/// cells; [`ReportError::InvalidMap`] for an empty raster, bad palette, cell size, outline or
/// display size; [`ReportError::InvalidSize`] for a bad scale.
pub fn render_map(values: &[f32], rows: usize, cols: usize, style: &MapStyle) -> Result<Vec<u8>> {
    let scene = layout_map(values, rows, cols, style)?;
    crate::raster::scene_to_png(
        &scene,
        style.scale as f32,
        &format!("map \"{}\"", style.title),
    )
}

/// [`render_map`] for a [`rsei_core::Raster`] (shape from its grid; `NaN` = nodata). The cell
/// size for the scale bar stays the caller's choice (`style.cell_size_m`): a grid in degrees has
/// no single cell size in metres.
pub fn render_raster_map(raster: &rsei_core::Raster<f32>, style: &MapStyle) -> Result<Vec<u8>> {
    let (rows, cols) = raster.shape();
    render_map(raster.data(), rows, cols, style)
}

/// The same map as SVG 1.1, the raster embedded as a base64 PNG `<image>` (at display
/// resolution), legend, scale bar, north arrow and outlines as vectors.
pub fn render_map_svg(
    values: &[f32],
    rows: usize,
    cols: usize,
    style: &MapStyle,
) -> Result<String> {
    let scene = layout_map(values, rows, cols, style)?;
    crate::svg::scene_to_svg(&scene)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style_classes() -> MapStyle<'static> {
        MapStyle {
            max_display_px: 2,
            ..MapStyle::default()
        }
    }

    #[test]
    fn class_assignment_and_clamping() {
        let MapPalette::Classes(c) = MapPalette::rsei_grades() else {
            unreachable!()
        };
        assert_eq!(class_of(&c, 0.0), 0);
        assert_eq!(class_of(&c, 0.19), 0);
        assert_eq!(class_of(&c, 0.2), 1);
        assert_eq!(class_of(&c, 0.79), 3);
        assert_eq!(class_of(&c, 1.0), 4);
        assert_eq!(class_of(&c, -0.5), 0);
        assert_eq!(class_of(&c, 7.0), 4);
    }

    #[test]
    fn downsample_mode_for_classes() {
        // 4×4 raster, max 2 display px → k = 2, 2×2 display pixels, each from a 2×2 block.
        // block (0,0): 0.1 0.1 0.9 0.5 → classes 0,0,4,2 → mode 0 (poor)
        // block (0,1): 0.3 0.5 0.5 0.9 → classes 1,2,2,4 → mode 2 (moderate)
        // block (1,0): NaN NaN NaN 0.7 → nodata 3 vs data 1 → nodata
        // block (1,1): 0.7 0.9 0.7 0.9 → classes 3,4,3,4 tie → lower class 3 (good)
        let n = f32::NAN;
        #[rustfmt::skip]
        let v = [0.1, 0.1, 0.3, 0.5,
                 0.9, 0.5, 0.5, 0.9,
                 n,   n,   0.7, 0.9,
                 n,   0.7, 0.7, 0.9];
        let s = style_classes();
        let d = downsample(&v, 4, 4, &s);
        assert_eq!((d.w, d.h, d.k), (2, 2, 2));
        let px = |i: usize| Rgba::rgb(d.rgba[i * 4], d.rgba[i * 4 + 1], d.rgba[i * 4 + 2]);
        assert_eq!(px(0), RSEI_GRADE_COLORS[0]);
        assert_eq!(px(1), RSEI_GRADE_COLORS[2]);
        assert_eq!(px(2), s.nodata_color);
        assert_eq!(px(3), RSEI_GRADE_COLORS[3]);
        assert!(d.has_nodata && !d.has_water);
    }

    #[test]
    fn downsample_mean_for_continuous_and_water() {
        // 2×4 raster, k = 2: block 0 = 0.0 0.2 0.4 0.6 → mean 0.3; block 1 = water 3 of 4 → water
        let v = [0.0, 0.2, 0.9, 0.9, 0.4, 0.6, 0.9, 0.1];
        let water = [false, false, true, true, false, false, true, false];
        let ramp = Ramp::new(vec![Rgba::rgb(0, 0, 0), Rgba::rgb(255, 255, 255)]);
        let s = MapStyle {
            palette: MapPalette::Continuous {
                ramp,
                min: 0.0,
                max: 1.0,
            },
            water_mask: Some(&water),
            max_display_px: 2,
            ..MapStyle::default()
        };
        let d = downsample(&v, 2, 4, &s);
        assert_eq!((d.w, d.h), (2, 1));
        // mean 0.3 → LUT index round(0.3·255) = 77 (76.5 rounds up) → grey 77
        assert_eq!(&d.rgba[0..4], &[77, 77, 77, 255]);
        assert_eq!(Rgba::rgb(d.rgba[4], d.rgba[5], d.rgba[6]), s.water_color);
        assert!(d.has_water);
    }

    #[test]
    fn scale_bar_lengths() {
        // 1200 km wide → a third is 400 km → largest 1-2-5 value below: 200 km
        assert_eq!(scale_bar_length_m(1_200_000.0), 200_000.0);
        // 40 km → 13.3 km → 10 km
        assert_eq!(scale_bar_length_m(40_000.0), 10_000.0);
        // 3 km → 1000 m exactly → 1000 m (log10 rounding must not drop it to 500 m)
        assert_eq!(scale_bar_length_m(3_000.0), 1_000.0);
        // 1.2 km → 400 m → 200 m
        assert_eq!(scale_bar_length_m(1_200.0), 200.0);
        assert_eq!(number_label(12.5), "12.5");
        assert_eq!(number_label(100.0), "100");
    }

    #[test]
    fn input_errors_name_the_problem() {
        let s = MapStyle {
            title: "Anshan 2019".into(),
            ..MapStyle::default()
        };
        let e = render_map(&[0.5; 5], 2, 3, &s).unwrap_err();
        assert!(
            matches!(
                e,
                ReportError::BufferSize {
                    got: 5,
                    expected: 6,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("Anshan 2019"));
        let w = [false; 4];
        let s2 = MapStyle {
            water_mask: Some(&w),
            ..MapStyle::default()
        };
        assert!(render_map(&[0.5; 6], 2, 3, &s2)
            .unwrap_err()
            .to_string()
            .contains("water mask"));
        let s3 = MapStyle {
            cell_size_m: Some(-1.0),
            ..MapStyle::default()
        };
        assert!(matches!(
            render_map(&[0.5; 6], 2, 3, &s3),
            Err(ReportError::InvalidMap { .. })
        ));
        assert!(matches!(
            render_map(&[], 0, 3, &MapStyle::default()),
            Err(ReportError::InvalidMap { .. })
        ));
        let s4 = MapStyle {
            palette: MapPalette::Continuous {
                ramp: Ramp::viridis(),
                min: 1.0,
                max: 1.0,
            },
            ..MapStyle::default()
        };
        assert!(matches!(
            render_map(&[0.5; 6], 2, 3, &s4),
            Err(ReportError::InvalidMap { .. })
        ));
    }
}
