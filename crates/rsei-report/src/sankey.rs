//! Two-column flow diagrams ("Sankey" style): how much of each class on the left moves to each
//! class on the right, e.g. RSEI grades of an earlier year (left) to a later year (right).
//!
//! Each node is a bar whose height is proportional to its total; each flow `left i → right j`
//! is a ribbon whose width is proportional to its value (one scale for both columns; a node too
//! small for its label is drawn 14 px high with its ribbons centred in it), leaving node `i` and entering node `j`
//! in node order (ribbons of a node stacked top to bottom by the other side's index), drawn as a
//! cubic Bézier band approximated by straight segments (so both back ends draw the same shape).
//! Ribbons take the colour of their left node, translucent; flows of 0 are not drawn.
//!
//! ```
//! use rsei_report::sankey::{Sankey, SankeyNode};
//! use rsei_report::color::Rgba;
//! let n = |l: &str, c: u32| SankeyNode { label: l.into(), color: Rgba::hex(c) };
//! let s = Sankey {
//!     title: "Grades 2018 → 2022".into(),
//!     left_title: "2018".into(),
//!     right_title: "2022".into(),
//!     left: vec![n("Poor", 0xd7191c), n("Good", 0x1a9641)],
//!     right: vec![n("Poor", 0xd7191c), n("Good", 0x1a9641)],
//!     flows: vec![vec![3.0, 1.0], vec![0.5, 5.5]],
//!     unit: "km²".into(),
//!     decimals: 1,
//! };
//! let svg = rsei_report::sankey::to_svg(&s, 640.0, 420.0).unwrap();
//! assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"));
//! ```

// NaN-aware tests (`!(x > 0.0)` is true for NaN) are intended.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use crate::color::{ink, Rgba};
use crate::font::{text_width, Weight};
use crate::scene::{Anchor, Prim, Rect, Scene, Seg, Stroke};
use crate::ticks::format_fixed;
use crate::{ReportError, Result};

/// A node (class) of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct SankeyNode {
    pub label: String,
    pub color: Rgba,
}

/// A two-column flow diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Sankey {
    /// Title above the diagram; empty for none.
    pub title: String,
    /// Heading of the left column (e.g. the earlier year).
    pub left_title: String,
    /// Heading of the right column.
    pub right_title: String,
    pub left: Vec<SankeyNode>,
    pub right: Vec<SankeyNode>,
    /// `flows[i][j]`: from left node `i` to right node `j` (≥ 0).
    pub flows: Vec<Vec<f64>>,
    /// Unit of the totals printed beside the nodes (e.g. "km²").
    pub unit: String,
    /// Decimals of the printed totals.
    pub decimals: usize,
}

const PAD: f32 = 12.0;
const TITLE_SIZE: f32 = 15.0;
const TEXT_SIZE: f32 = 11.0;
const NODE_W: f32 = 16.0;
const GAP: f32 = 8.0;
const STEPS: usize = 32;
/// Smallest height of a shown node (room for its label).
const MIN_H: f32 = 14.0;

fn bad(s: &Sankey, reason: impl Into<String>) -> ReportError {
    ReportError::InvalidChart { chart: s.title.clone(), reason: reason.into() }
}

fn validate(s: &Sankey) -> Result<f64> {
    if s.left.is_empty() || s.right.is_empty() {
        return Err(bad(s, "a flow diagram needs at least one node on each side"));
    }
    if s.flows.len() != s.left.len() || s.flows.iter().any(|r| r.len() != s.right.len()) {
        return Err(bad(s, format!("flows must be {} × {} (left × right nodes)", s.left.len(), s.right.len())));
    }
    if s.flows.iter().flatten().any(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(bad(s, "every flow must be finite and ≥ 0"));
    }
    let total: f64 = s.flows.iter().flatten().sum();
    if !(total > 0.0) {
        return Err(ReportError::NoData { chart: s.title.clone(), axis: "flows".into() });
    }
    Ok(total)
}

/// Smoothstep-like cubic Bézier from (x0, y0) to (x1, y1) with horizontal tangents.
fn bezier(x0: f32, y0: f32, x1: f32, y1: f32) -> Vec<(f32, f32)> {
    let xm = 0.5 * (x0 + x1);
    (0..=STEPS)
        .map(|k| {
            let t = k as f32 / STEPS as f32;
            let u = 1.0 - t;
            let x = u * u * u * x0 + 3.0 * u * u * t * xm + 3.0 * u * t * t * xm + t * t * t * x1;
            let y = u * u * u * y0 + 3.0 * u * u * t * y0 + 3.0 * u * t * t * y1 + t * t * t * y1;
            (x, y)
        })
        .collect()
}

fn layout(s: &Sankey, width: f32, height: f32) -> Result<Scene> {
    let total = validate(s)?;
    let mut sc = Scene::new(width, height, &s.title);
    let label_w = |nodes: &[SankeyNode], sums: &[f64]| -> f32 {
        nodes
            .iter()
            .zip(sums)
            .map(|(n, v)| text_width(&format!("{} {} {}", n.label, format_fixed(*v, s.decimals), s.unit), TEXT_SIZE, Weight::Regular))
            .fold(0.0, f32::max)
    };
    let lsum: Vec<f64> = s.flows.iter().map(|r| r.iter().sum()).collect();
    let rsum: Vec<f64> = (0..s.right.len()).map(|j| s.flows.iter().map(|r| r[j]).sum()).collect();
    let lw = label_w(&s.left, &lsum);
    let rw = label_w(&s.right, &rsum);
    let mut top = PAD;
    if !s.title.is_empty() {
        sc.text(PAD, top + TITLE_SIZE, &s.title, TITLE_SIZE, Weight::Bold, Anchor::Start, 0.0, ink::TEXT);
        top += TITLE_SIZE * 1.3 + 6.0;
    }
    let head = TEXT_SIZE * 1.4 + 4.0;
    let x_left = PAD + lw + 6.0;
    let x_right = width - PAD - rw - 6.0 - NODE_W;
    let y0 = top + head;
    let avail_h = height - y0 - PAD;
    let shown_l = lsum.iter().filter(|&&v| v > 0.0).count().max(1);
    let shown_r = rsum.iter().filter(|&&v| v > 0.0).count().max(1);
    let gaps = GAP * (shown_l.max(shown_r) - 1) as f32;
    if x_right - x_left < 4.0 * NODE_W || avail_h - gaps < 40.0 {
        return Err(ReportError::InvalidSize { what: format!("flow diagram \"{}\"", s.title), width: width as f64, height: height as f64, reason: "too small for the labels and nodes".into() });
    }
    // scale: value → px, so that each column fits with every shown node at least MIN_H high
    // (small nodes keep room for their label; their ribbons are centred in them)
    let scale_of = |sums: &[f64]| -> f32 {
        let mut k = (avail_h - gaps) / total as f32;
        for _ in 0..8 {
            let small: Vec<f64> = sums.iter().copied().filter(|&v| v > 0.0 && (v as f32) * k < MIN_H).collect();
            let big: f64 = sums.iter().copied().filter(|&v| v > 0.0 && (v as f32) * k >= MIN_H).sum();
            if big <= 0.0 {
                break;
            }
            k = ((avail_h - gaps - MIN_H * small.len() as f32) / big as f32).max(0.0);
        }
        k
    };
    let k = scale_of(&lsum).min(scale_of(&rsum));
    if !(k > 0.0) {
        return Err(ReportError::InvalidSize { what: format!("flow diagram \"{}\"", s.title), width: width as f64, height: height as f64, reason: "too small for the nodes".into() });
    }
    // node positions (y, height, offset of the ribbons); nodes with a total of 0 take no room
    let place = |sums: &[f64]| -> Vec<(f32, f32, f32)> {
        let mut y = y0;
        sums.iter()
            .map(|&v| {
                let hv = v as f32 * k;
                let h = hv.max(MIN_H);
                let r = (y, h, 0.5 * (h - hv));
                if v > 0.0 {
                    y += h + GAP;
                }
                r
            })
            .collect()
    };
    let lpos = place(&lsum);
    let rpos = place(&rsum);
    sc.text(x_left + NODE_W / 2.0, top + TEXT_SIZE, &s.left_title, TEXT_SIZE, Weight::Bold, Anchor::Middle, 0.0, ink::TEXT);
    sc.text(x_right + NODE_W / 2.0, top + TEXT_SIZE, &s.right_title, TEXT_SIZE, Weight::Bold, Anchor::Middle, 0.0, ink::TEXT);
    // ribbons: out of left i in order of j, into right j in order of i
    let mut out_off: Vec<f32> = lpos.iter().map(|p| p.0 + p.2).collect();
    let mut in_off: Vec<f32> = rpos.iter().map(|p| p.0 + p.2).collect();
    sc.group("flows");
    for (i, row) in s.flows.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if v <= 0.0 {
                continue;
            }
            let h = v as f32 * k;
            let (a0, b0) = (out_off[i], in_off[j]);
            out_off[i] += h;
            in_off[j] += h;
            let upper = bezier(x_left + NODE_W, a0, x_right, b0);
            let lower = bezier(x_left + NODE_W, a0 + h, x_right, b0 + h);
            let mut segs = vec![Seg::M(upper[0].0, upper[0].1)];
            segs.extend(upper[1..].iter().map(|&(x, y)| Seg::L(x, y)));
            segs.extend(lower.iter().rev().map(|&(x, y)| Seg::L(x, y)));
            segs.push(Seg::Z);
            sc.push(Prim::Path { segs, fill: Some(s.left[i].color.with_alpha(0.45)), stroke: None, clip: false });
        }
    }
    sc.end_group();
    sc.group("nodes");
    for (nodes, pos, sums, x, right) in [(&s.left, &lpos, &lsum, x_left, false), (&s.right, &rpos, &rsum, x_right, true)] {
        for ((n, &(y, h, _)), &v) in nodes.iter().zip(pos.iter()).zip(sums.iter()) {
            if v <= 0.0 {
                continue;
            }
            sc.rect(Rect { x, y, w: NODE_W, h }, Some(n.color), Some(Stroke::solid(ink::AXIS, 0.6)), false);
            let text = format!("{} {} {}", n.label, format_fixed(v, s.decimals), s.unit);
            let ty = y + h / 2.0 + TEXT_SIZE * 0.35;
            if right {
                sc.text(x + NODE_W + 6.0, ty, &text, TEXT_SIZE, Weight::Regular, Anchor::Start, 0.0, ink::TEXT);
            } else {
                sc.text(x - 6.0, ty, &text, TEXT_SIZE, Weight::Regular, Anchor::End, 0.0, ink::TEXT);
            }
        }
    }
    sc.end_group();
    Ok(sc)
}

/// The diagram as a standalone SVG document of `width` × `height` px.
///
/// Errors: [`ReportError::InvalidChart`] (no node, flows of another shape, negative or
/// non-finite flows), [`ReportError::NoData`] (all flows 0), [`ReportError::InvalidSize`].
pub fn to_svg(s: &Sankey, width: f64, height: f64) -> Result<String> {
    crate::svg::scene_to_svg(&layout(s, width as f32, height as f32)?)
}

/// The same drawing as [`to_svg`] as a PNG, `scale` device pixels per px.
pub fn to_png(s: &Sankey, width: f64, height: f64, scale: f64) -> Result<Vec<u8>> {
    crate::raster::scene_to_png(&layout(s, width as f32, height as f32)?, scale as f32, &format!("flow diagram \"{}\"", s.title))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Sankey {
        let n = |l: &str, c: u32| SankeyNode { label: l.into(), color: Rgba::hex(c) };
        Sankey {
            title: "t".into(),
            left_title: "2018".into(),
            right_title: "2022".into(),
            left: vec![n("Poor", 0xd7191c), n("Fair", 0xfdae61), n("Good", 0x1a9641)],
            right: vec![n("Poor", 0xd7191c), n("Fair", 0xfdae61), n("Good", 0x1a9641)],
            flows: vec![vec![2.0, 1.0, 0.0], vec![0.0, 3.0, 1.0], vec![0.5, 0.0, 4.5]],
            unit: "km²".into(),
            decimals: 1,
        }
    }

    #[test]
    fn ribbons_are_proportional_and_stack_in_order() {
        let s = demo();
        let sc = layout(&s, 640.0, 420.0).unwrap();
        // one filled path per non-zero flow, between the group markers
        let ribbons: Vec<&Vec<Seg>> = sc.prims.iter().filter_map(|p| match p {
            Prim::Path { segs, fill: Some(c), .. } if c.a < 255 => Some(segs),
            _ => None,
        }).collect();
        assert_eq!(ribbons.len(), 6);
        // the vertical extent of a ribbon at its left end is proportional to its flow
        let left_h = |segs: &Vec<Seg>| match (segs[0], segs[segs.len() - 2]) {
            (Seg::M(_, a), Seg::L(_, b)) => b - a,
            _ => f32::NAN,
        };
        let h: Vec<f32> = ribbons.iter().map(|r| left_h(r)).collect();
        let flows = [2.0f32, 1.0, 3.0, 1.0, 0.5, 4.5];
        for (hi, f) in h.iter().zip(flows) {
            assert!((hi / f - h[0] / 2.0).abs() < 1e-3, "{h:?}");
        }
        // totals are printed
        let texts: Vec<String> = sc.prims.iter().filter_map(|p| if let Prim::Text(t) = p { Some(t.text.clone()) } else { None }).collect();
        assert!(texts.contains(&"Poor 3.0 km²".to_string()) && texts.contains(&"Good 5.5 km²".to_string()), "{texts:?}");
    }

    #[test]
    fn bad_input_is_refused() {
        let mut s = demo();
        s.flows[0].pop();
        assert!(to_svg(&s, 640.0, 420.0).is_err());
        let mut s = demo();
        s.flows[1][1] = -1.0;
        assert!(to_svg(&s, 640.0, 420.0).is_err());
        let mut s = demo();
        s.flows = vec![vec![0.0; 3]; 3];
        assert!(matches!(to_svg(&s, 640.0, 420.0), Err(ReportError::NoData { .. })));
        assert!(matches!(to_svg(&demo(), 100.0, 60.0), Err(ReportError::InvalidSize { .. })));
        assert!(to_png(&demo(), 640.0, 420.0, 1.0).unwrap().starts_with(b"\x89PNG"));
    }
}
