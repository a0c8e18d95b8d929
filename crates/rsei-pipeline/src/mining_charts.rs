//! Figures of the mining analysis, in the manner of the paper's Figs. 3c–d, 4b–c, 5 and 6, built
//! from a [`MiningReport`] (this module draws, it never computes statistics beyond averaging the
//! report's yearly rows for the multi-year figures).
//!
//! | file stem | figure |
//! |---|---|
//! | `fig_density` | (a) RSEI density inside the mines vs the whole city, first and last year (KDE) |
//! | `fig_means` | (b) mean RSEI of the mines and the city per year, and their absolute difference |
//! | `fig_distance` | (c) multi-year mean RSEI per distance ring ± mean pixel std, fitted trend, peak and first turning point |
//! | `fig_size_classes` | (d) box plots of the mines' mean RSEI per size class and year |
//! | `fig_latitude` | (e) multi-year mean RSEI per latitude band ± mean pixel std, number of mines per band as bars |
//!
//! A figure without data (e.g. no density because a zone holds fewer than two cells) is left out
//! with a note saying why. The ± std bands are clipped to RSEI's range [0, 1].

use std::collections::BTreeMap;

use rsei_core::mining::MiningReport;
use rsei_report::color::{sequential, series_color, Rgba};
use rsei_report::{Annotation, Axis, BoxItem, Chart, Corner, Legend, LegendPosition, MarkerShape, Series};


/// Colour of the whole city (green, as in the paper's Fig. 4).
pub const CITY_COLOR: Rgba = Rgba::hex(0x009e73);
/// Colour of the mines (red-orange).
pub const MINES_COLOR: Rgba = Rgba::hex(0xd55e00);
/// Colour of the absolute difference (blue).
pub const DIFF_COLOR: Rgba = Rgba::hex(0x0072b2);

/// File stems of the figures, in output order.
pub const FIGURE_NAMES: [&str; 5] = ["fig_density", "fig_means", "fig_distance", "fig_size_classes", "fig_latitude"];

/// One figure and its canvas size (CSS px; PNGs are drawn at twice that).
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem (`fig_distance`).
    pub name: &'static str,
    /// The chart.
    pub chart: Chart,
    /// Width (px).
    pub width: f64,
    /// Height (px).
    pub height: f64,
}

/// Every figure that has data, in output order; a note for each one left out.
pub fn figures(report: &MiningReport, area: &str, notes: &mut Vec<String>) -> Vec<Figure> {
    let mut out = Vec::new();
    let mut add = |name: &'static str, chart: Result<Chart, String>, width: f64, height: f64| match chart {
        Ok(chart) => out.push(Figure { name, chart, width, height }),
        Err(why) => notes.push(format!("figure {name} not drawn: {why}")),
    };
    add("fig_density", density_chart(report, area), 720.0, 440.0);
    add("fig_means", means_chart(report, area), 720.0, 440.0);
    add("fig_distance", distance_chart(report, area), 720.0, 440.0);
    add("fig_size_classes", size_class_chart(report, area), 760.0, 440.0);
    add("fig_latitude", latitude_chart(report, area), 720.0, 440.0);
    out
}

fn years_of(report: &MiningReport) -> Vec<i32> {
    report.mine_vs_city.iter().map(|r| r.year).collect()
}

/// (a) Density curves of RSEI inside the mines and over the city, first year dashed, last year
/// filled (paper Fig. 4c).
pub fn density_chart(report: &MiningReport, area: &str) -> Result<Chart, String> {
    let years = years_of(report);
    let (Some(&first), Some(&last)) = (years.first(), years.last()) else {
        return Err("no year".into());
    };
    let mut chart = Chart::new(
        format!("RSEI distribution inside the mines and over the city, {area}"),
        Axis::linear("RSEI", None).with_range(0.0, 1.0),
        Axis::linear("Density", None).with_zero(),
    )
    .with_legend(Legend { position: LegendPosition::Auto, title: None });
    let curve = |year: i32, zone: &str| -> Vec<(f64, f64)> {
        report.densities.iter().filter(|d| d.year == year && d.zone == zone).map(|d| (d.x, d.density)).collect()
    };
    let mut any = false;
    for (zone, label, color) in [("city", "City", CITY_COLOR), ("mines", "Mines", MINES_COLOR)] {
        if first != last {
            let pts = curve(first, zone);
            if !pts.is_empty() {
                chart = chart.with_series(Series::line(format!("{label} {first}"), pts).with_color(color).dashed());
                any = true;
            }
        }
        let pts = curve(last, zone);
        if !pts.is_empty() {
            chart = chart.with_series(Series::area(format!("{label} {last}"), pts).with_color(color.with_alpha(0.35)));
            any = true;
        }
    }
    if !any {
        return Err("no density estimate in the first or last year".into());
    }
    Ok(chart)
}

/// (b) Mean RSEI of the mines and of the city per year, with their absolute difference (same
/// unit, same axis; paper Fig. 4b).
pub fn means_chart(report: &MiningReport, area: &str) -> Result<Chart, String> {
    let rows = &report.mine_vs_city;
    if rows.iter().all(|r| r.mines_mean.is_none() && r.city_mean.is_none()) {
        return Err("no mean in any year".into());
    }
    let years: Vec<String> = rows.iter().map(|r| r.year.to_string()).collect();
    let pts = |f: &dyn Fn(usize) -> Option<f64>| -> Vec<(f64, f64)> { (0..rows.len()).map(|i| (i as f64, f(i).unwrap_or(f64::NAN))).collect() };
    let city = pts(&|i| rows[i].city_mean);
    let mines = pts(&|i| rows[i].mines_mean);
    let diff: Vec<(f64, f64)> = rows.iter().enumerate().filter_map(|(i, r)| r.abs_diff.map(|d| (i as f64, d))).collect();
    let mut chart = Chart::new(
        format!("Mean RSEI of the mines and the whole city, {area}"),
        Axis::categories("Year", years),
        Axis::linear("RSEI", None).with_grid().with_zero(),
    )
    .with_legend(Legend { position: LegendPosition::Bottom, title: None })
    .with_series(Series::line("Whole city (mean)", city).with_color(CITY_COLOR).with_marker(MarkerShape::Circle))
    .with_series(Series::line("Mines (mean)", mines).with_color(MINES_COLOR).with_marker(MarkerShape::Square));
    if !diff.is_empty() {
        chart = chart.with_series(Series::line("|Mines − city|", diff).with_color(DIFF_COLOR).with_marker(MarkerShape::Diamond).dashed());
    }
    Ok(chart)
}

/// (c) RSEI against the distance to the mines: multi-year mean per ring ± the mean pixel std, the
/// fitted trend, and vertical markers at the peak and at the first turning point (paper Fig. 5).
pub fn distance_chart(report: &MiningReport, area: &str) -> Result<Chart, String> {
    let spreads = ring_spreads(report);
    let mut pts = Vec::new();
    let mut band = Vec::new();
    for r in &report.ring_profile {
        if let Some(m) = r.multi_year_mean {
            let s = spreads.get(&r.ring).and_then(|s| s.1).unwrap_or(0.0);
            pts.push((r.distance_km, m));
            band.push(((m - s).max(0.0), (m + s).min(1.0)));
        }
    }
    if pts.is_empty() {
        return Err("no ring holds a valid cell".into());
    }
    let years = years_of(report);
    let span = match (years.first(), years.last()) {
        (Some(a), Some(b)) if a != b => format!("{a}–{b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    };
    let mut chart = Chart::new(
        format!("RSEI and distance to the mines, {area} ({span})"),
        Axis::linear("Distance to the mines", Some("km")).with_zero(),
        Axis::linear("Mean RSEI", None).with_grid(),
    )
    .with_legend(Legend { position: LegendPosition::Bottom, title: None })
    .with_series(
        Series::line_with_band("Multi-year mean ± std of pixels (0 = inside the mines)", pts.clone(), band)
            .with_color(DIFF_COLOR)
            .with_marker(MarkerShape::Circle),
    );
    let s = &report.ring_summary;
    if let Some(fit) = &s.trend {
        let (lo, hi) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let n = 200;
        let curve: Vec<(f64, f64)> = (0..=n).map(|i| lo + (hi - lo) * i as f64 / n as f64).map(|d| (d, fit.eval(d))).collect();
        chart = chart
            .with_series(Series::line(format!("Fitted polynomial (degree {})", fit.degree), curve).with_color(MINES_COLOR).dashed())
            .with_annotation(Annotation::Note { text: format!("R² = {:.3}\nn = {} rings", fit.r2, fit.n_points), corner: Corner::BottomRight });
        if let (Some(d), Some(kind)) = (fit.first_turning_point_km, &fit.first_turning_kind) {
            chart = chart.with_annotation(Annotation::VLine { x: d, label: format!("first turning point {d:.1} km ({kind})") });
        }
    }
    if let Some(d) = s.peak_distance_km {
        chart = chart.with_annotation(Annotation::VLine { x: d, label: format!("peak {d:.0} km") });
    }
    Ok(chart)
}

/// Friendlier class names for axis labels: `0.25-0.5` → `0.25–0.5`, `>=1` → `≥1`.
fn class_label(c: &str) -> String {
    if let Some(rest) = c.strip_prefix(">=") {
        format!("≥{rest}")
    } else {
        c.replace('-', "–")
    }
}

/// (d) Box plots of the mines' mean RSEI per size class, one box per year (paper Fig. 6).
pub fn size_class_chart(report: &MiningReport, area: &str) -> Result<Chart, String> {
    let mut classes: Vec<String> = Vec::new();
    for c in &report.size_classes {
        if !classes.contains(&c.size_class) {
            classes.push(c.size_class.clone());
        }
    }
    if report.size_classes.iter().all(|c| c.boxplot.is_none()) {
        return Err("no mine has a mean RSEI".into());
    }
    // mines per class (the most in any year)
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &report.size_classes {
        let e = count.entry(c.size_class.as_str()).or_default();
        *e = (*e).max(c.n_mines);
    }
    let labels: Vec<String> =
        classes.iter().map(|c| format!("{} (n = {})", class_label(c), count.get(c.as_str()).copied().unwrap_or(0))).collect();
    let years = years_of(report);
    let colors: Vec<Rgba> = if years.len() <= 8 { (0..years.len()).map(series_color).collect() } else { sequential(years.len()) };
    let mut chart = Chart::new(
        format!("Mean RSEI of the mines by mine area, {area}"),
        Axis::categories("Mine area (km²)", labels),
        Axis::linear("Mean RSEI per mine", None).with_grid(),
    )
    .with_legend(Legend { position: LegendPosition::Auto, title: Some("Year".into()) });
    for (k, &y) in years.iter().enumerate() {
        let boxes: Vec<BoxItem> = report
            .size_classes
            .iter()
            .filter(|c| c.year == y)
            .filter_map(|c| {
                let b = c.boxplot.as_ref()?;
                let pos = classes.iter().position(|x| x == &c.size_class)?;
                Some(BoxItem {
                    position: pos as f64,
                    // with type-7 quartiles of few values the last value inside the fences can
                    // lie inside the box (e.g. 4 values, the largest an outlier): draw it at the box
                    min: b.whisker_low.min(b.q1),
                    q1: b.q1,
                    median: b.median,
                    q3: b.q3,
                    max: b.whisker_high.max(b.q3),
                    outliers: b.outliers.clone(),
                })
            })
            .collect();
        chart = chart.with_series(Series::boxes(y.to_string(), boxes).with_color(colors[k]));
    }
    Ok(chart)
}

/// (e) Latitude profile: the multi-year mean of each band's yearly mean RSEI ± the mean pixel std,
/// with the number of mines (by centroid) per band as bars on a secondary axis (paper Fig. 3c–d).
pub fn latitude_chart(report: &MiningReport, area: &str) -> Result<Chart, String> {
    if report.latitude.is_empty() {
        return Err("no latitude profile".into());
    }
    let mut by: BTreeMap<i64, (f64, f64, Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for l in &report.latitude {
        let e = by.entry(band_key(l.lat_south)).or_insert((l.lat_south, l.lat_north, Vec::new(), Vec::new()));
        if let (Some(m), Some(s)) = (l.mean, l.std) {
            e.2.push(m);
            e.3.push(s);
        }
    }
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let mut pts = Vec::new();
    let mut band = Vec::new();
    for (lo, hi, m, s) in by.values() {
        if m.is_empty() {
            continue;
        }
        let (m, s) = (avg(m), avg(s));
        pts.push((0.5 * (lo + hi), m));
        band.push(((m - s).max(0.0), (m + s).min(1.0)));
    }
    if pts.is_empty() {
        return Err("no latitude band holds a valid cell".into());
    }
    let mines: Vec<(f64, f64)> = report.mines_per_band.iter().map(|m| (0.5 * (m.lat_south + m.lat_north), m.mines as f64)).collect();
    let years = years_of(report);
    let span = match (years.first(), years.last()) {
        (Some(a), Some(b)) if a != b => format!("mean of {a}–{b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    };
    Ok(Chart::new(
        format!("RSEI and mines by latitude, {area} ({span})"),
        Axis::linear("Latitude", Some("°N")),
        Axis::linear("Mean RSEI", None).with_grid(),
    )
    .with_y2_axis(Axis::linear("Number of mines", None).with_zero())
    .with_legend(Legend { position: LegendPosition::Bottom, title: None })
    .with_series(Series::bars("Mines (by centroid)", mines).on_secondary_axis().with_color(Rgba::hex(0x999999).with_alpha(0.55)))
    .with_series(Series::line_with_band("Mean RSEI ± std of pixels", pts, band).with_color(DIFF_COLOR)))
}

/// Population standard deviation of the values (`None` when empty).
fn pop_std(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    Some((v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt())
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Per ring index: (between-year std of the yearly means, mean of the yearly pixel std).
pub(crate) fn ring_spreads(report: &MiningReport) -> BTreeMap<usize, (Option<f64>, Option<f64>)> {
    let mut by: BTreeMap<usize, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for r in &report.rings {
        let e = by.entry(r.ring).or_default();
        if let (Some(m), Some(s)) = (r.mean, r.std) {
            e.0.push(m);
            e.1.push(s);
        }
    }
    by.into_iter().map(|(k, (m, s))| (k, (pop_std(&m), mean(&s)))).collect()
}

/// Band key of a latitude row (south edge in units of 1e-9 degrees, exact enough for grouping).
pub(crate) fn band_key(lat_south: f64) -> i64 {
    (lat_south * 1e9).round() as i64
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use rsei_core::zonal::PixelRule;
    use rsei_report::SeriesKind;

    /// A hand-made report: two years, two rings, one mine, two latitude bands.
    pub(crate) fn hand_report() -> MiningReport {
        use rsei_core::mining::*;
        let ring = |ring: usize, year: i32, n: u64, mean: Option<f64>, std: Option<f64>| RingYearRow {
            ring,
            inner_km: if ring == 0 { 0.0 } else { ring as f64 - 1.0 },
            outer_km: ring as f64,
            distance_km: ring as f64,
            year,
            n,
            weighted_n: n as f64,
            mean,
            std,
        };
        let lat = |s: f64, year: i32, mean: f64, std: f64| LatitudeRow { lat_south: s, lat_north: s + 0.05, year, n: 3, weighted_n: 3.0, mean: Some(mean), std: Some(std) };
        let mvc = |year: i32, m: f64, c: f64| MineVsCityRow {
            year,
            mines_n: 4,
            mines_weighted_n: 4.0,
            mines_mean: Some(m),
            mines_std: Some(0.1),
            city_n: 40,
            city_weighted_n: 40.0,
            city_mean: Some(c),
            city_std: Some(0.2),
            abs_diff: Some((m - c).abs()),
        };
        let bp = BoxPlot { min: 0.2, q1: 0.2, median: 0.2, q3: 0.2, max: 0.2, whisker_low: 0.2, whisker_high: 0.2, outliers: vec![] };
        let report = MiningReport {
            rule: PixelRule::Centre,
            mine_vs_city: vec![mvc(2001, 0.2, 0.6), mvc(2002, 0.3, 0.5)],
            histograms: vec![],
            densities: (0..=2)
                .flat_map(|i| ["mines", "city"].map(|z| DensityRow { year: 2001, zone: z.into(), x: i as f64 / 2.0, density: 1.0, bandwidth: 0.1 }))
                .collect(),
            rings: vec![
                ring(0, 2001, 4, Some(0.2), Some(0.05)),
                ring(1, 2001, 9, Some(0.5), Some(0.1)),
                ring(0, 2002, 4, Some(0.3), Some(0.15)),
                ring(1, 2002, 0, None, None),
            ],
            ring_profile: vec![
                RingProfileRow { ring: 0, inner_km: 0.0, outer_km: 0.0, distance_km: 0.0, years_with_data: 2, multi_year_mean: Some(0.25), fitted: None },
                RingProfileRow { ring: 1, inner_km: 0.0, outer_km: 1.0, distance_km: 1.0, years_with_data: 1, multi_year_mean: Some(0.5), fitted: None },
            ],
            ring_summary: RingSummary { peak_distance_km: Some(1.0), peak_mean: Some(0.5), trend: None },
            per_mine: [2001, 2002]
                .map(|year| MineYearRow {
                    id: "a".into(),
                    name: "Pit A".into(),
                    area_km2: 0.3,
                    size_class: "0.25-0.5".into(),
                    year,
                    n: 1,
                    weighted_n: 1.0,
                    mean: Some(0.2),
                    std: Some(0.0),
                })
                .to_vec(),
            size_classes: [2001, 2002]
                .map(|year| SizeClassRow { size_class: "0.25-0.5".into(), lower_km2: Some(0.25), upper_km2: Some(0.5), year, n_mines: 1, boxplot: Some(bp.clone()) })
                .to_vec(),
            latitude: vec![lat(39.95, 2001, 0.4, 0.1), lat(40.0, 2001, 0.5, 0.2), lat(39.95, 2002, 0.6, 0.3)],
            mines_per_band: vec![MinesPerBandRow { lat_south: 39.95, lat_north: 40.0, mines: 1 }, MinesPerBandRow { lat_south: 40.0, lat_north: 40.05, mines: 0 }],
            notes: vec![],
        };
        report
    }

    #[test]
    fn spreads_by_hand() {
        // population std of 0.2, 0.4 = 0.1; mean of pixel stds 0.05, 0.15 = 0.1
        assert!((pop_std(&[0.2, 0.4]).unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(pop_std(&[]), None);
        assert_eq!(mean(&[0.05, 0.15]), Some(0.1));
        assert_eq!(band_key(39.95), 39_950_000_000);
    }

    #[test]
    fn figures_of_a_hand_made_report() {
        let rep = hand_report();
        let mut notes = Vec::new();
        let figs = figures(&rep, "Test", &mut notes);
        let names: Vec<&str> = figs.iter().map(|f| f.name).collect();
        assert_eq!(names, FIGURE_NAMES);
        assert!(notes.is_empty(), "{notes:?}");
        for f in &figs {
            rsei_report::to_svg(&f.chart, f.width, f.height).unwrap();
        }
        // latitude: band 39.95–40.00 (centre 39.975) has yearly means 0.4 and 0.6 → 0.5, pixel stds
        // 0.1 and 0.3 → ± 0.2; band 40.00–40.05 only 2001: 0.5 ± 0.2
        let lat = &figs[4].chart;
        let SeriesKind::Line { points, band: Some(band), .. } = &lat.series[1].kind else { panic!("{:?}", lat.series[1]) };
        assert!((points[0].0 - 39.975).abs() < 1e-12 && (points[0].1 - 0.5).abs() < 1e-12);
        assert!((band[0].0 - 0.3).abs() < 1e-12 && (band[0].1 - 0.7).abs() < 1e-12);
        assert!((points[1].1 - 0.5).abs() < 1e-12 && (band[1].1 - 0.7).abs() < 1e-12);
        // mine counts on the secondary axis
        let SeriesKind::Bars { bars, .. } = &lat.series[0].kind else { panic!() };
        assert!(lat.series[0].secondary);
        assert_eq!(bars.iter().map(|b| b.1).collect::<Vec<_>>(), vec![1.0, 0.0]);
        // distance: ring 0 = 0.25 ± mean pixel std 0.1; no trend → no fitted series, peak marker at 1 km
        let dist = &figs[2].chart;
        assert_eq!(dist.series.len(), 1);
        let SeriesKind::Line { points, band: Some(band), .. } = &dist.series[0].kind else { panic!() };
        assert_eq!(points, &vec![(0.0, 0.25), (1.0, 0.5)]);
        assert!((band[0].0 - 0.15).abs() < 1e-12 && (band[0].1 - 0.35).abs() < 1e-12);
        assert!(dist.annotations.iter().any(|a| matches!(a, Annotation::VLine { x, .. } if *x == 1.0)));
        // means: one x category per year, the difference on the same axis
        let means = &figs[1].chart;
        assert_eq!(means.series.len(), 3);
        let SeriesKind::Line { points, .. } = &means.series[2].kind else { panic!() };
        assert!((points[0].1 - 0.4).abs() < 1e-12 && (points[1].1 - 0.2).abs() < 1e-12);
        // density: only 2001 has densities and 2002 is the last year: 2001 as dashed lines
        assert_eq!(figs[0].chart.series.len(), 2);
        // size classes: the class label carries its mine count
        assert!(matches!(&figs[3].chart.x_axis.scale, rsei_report::chart::AxisScale::Categories(c) if c == &vec!["0.25–0.5 (n = 1)".to_string()]));
    }

    #[test]
    fn figures_without_data_are_left_out_with_a_note() {
        let mut rep = hand_report();
        rep.densities.clear();
        rep.latitude.clear();
        for s in &mut rep.size_classes {
            s.boxplot = None;
        }
        let mut notes = Vec::new();
        let figs = figures(&rep, "Test", &mut notes);
        assert_eq!(figs.iter().map(|f| f.name).collect::<Vec<_>>(), ["fig_means", "fig_distance"]);
        assert_eq!(notes.len(), 3);
        assert!(notes[0].starts_with("figure fig_density not drawn: no density"), "{notes:?}");
        assert_eq!(class_label(">=1"), "≥1");
        assert_eq!(class_label("0.25-0.5"), "0.25–0.5");
    }
}
