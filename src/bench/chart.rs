//! The latency-vs-throughput chart, written as plain SVG (log–log axes, one colour per workload, p99
//! solid and p50 dashed, points labelled with their connection count). Hand-written rather than with
//! `plotters`: about 150 lines against a dependency tree, and the output is stable text that diffs well.

use std::fmt::Write;

use super::runner::SweepSeries;

const WIDTH: f64 = 980.0;
const HEIGHT: f64 = 600.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 250.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
const PALETTE: &[&str] =
    &["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

/// A log10 axis spanning whole decades.
#[derive(Debug, Clone, Copy)]
struct LogAxis {
    low_decade: i32,
    high_decade: i32,
    pixel_start: f64,
    pixel_end: f64,
}

impl LogAxis {
    fn covering(values: impl Iterator<Item = f64>, pixel_start: f64, pixel_end: f64) -> LogAxis {
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for value in values.filter(|value| *value > 0.0 && value.is_finite()) {
            low = low.min(value);
            high = high.max(value);
        }
        if !low.is_finite() {
            (low, high) = (1.0, 10.0);
        }
        let low_decade = low.log10().floor() as i32;
        let high_decade = (high.log10().ceil() as i32).max(low_decade + 1);
        LogAxis { low_decade, high_decade, pixel_start, pixel_end }
    }

    fn position(&self, value: f64) -> f64 {
        let fraction =
            (value.max(1e-12).log10() - f64::from(self.low_decade)) / f64::from(self.high_decade - self.low_decade);
        self.pixel_start + fraction * (self.pixel_end - self.pixel_start)
    }
}

fn decade_label(decade: i32, unit: &str) -> String {
    let value = 10f64.powi(decade);
    let text = match decade {
        d if d >= 6 => format!("{}M", 10u64.pow((d - 6) as u32)),
        d if d >= 3 => format!("{}k", 10u64.pow((d - 3) as u32)),
        d if d >= 0 => format!("{value:.0}"),
        d => format!("{value:.*}", (-d) as usize),
    };
    format!("{text}{unit}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Renders the sweep as an SVG document.
pub(crate) fn render_svg(title: &str, series: &[SweepSeries]) -> String {
    let plotted: Vec<&SweepSeries> =
        series.iter().filter(|one| one.points.iter().any(|point| point.answered())).collect();
    let all_points = || plotted.iter().flat_map(|one| one.points.iter()).filter(|point| point.answered());
    let x_axis = LogAxis::covering(all_points().map(|point| point.throughput), LEFT, WIDTH - RIGHT);
    let y_axis = LogAxis::covering(
        all_points()
            .flat_map(|point| [point.latencies.p50.as_secs_f64() * 1e3, point.latencies.p99.as_secs_f64() * 1e3]),
        HEIGHT - BOTTOM,
        TOP,
    );
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="28" font-size="16" text-anchor="middle">{}</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        escape(title)
    );
    for decade in x_axis.low_decade..=x_axis.high_decade {
        for step in 1..=9 {
            let value = f64::from(step) * 10f64.powi(decade);
            if decade == x_axis.high_decade && step > 1 {
                break;
            }
            let x = x_axis.position(value);
            let (stroke, width) = if step == 1 { ("#bbbbbb", 1.0) } else { ("#eeeeee", 0.5) };
            let _ = writeln!(
                svg,
                r#"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{}" stroke="{stroke}" stroke-width="{width}"/>"#,
                HEIGHT - BOTTOM
            );
            if step == 1 {
                let _ = writeln!(
                    svg,
                    r#"<text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
                    HEIGHT - BOTTOM + 18.0,
                    decade_label(decade, "")
                );
            }
        }
    }
    for decade in y_axis.low_decade..=y_axis.high_decade {
        for step in 1..=9 {
            if decade == y_axis.high_decade && step > 1 {
                break;
            }
            let y = y_axis.position(f64::from(step) * 10f64.powi(decade));
            let (stroke, width) = if step == 1 { ("#bbbbbb", 1.0) } else { ("#eeeeee", 0.5) };
            let _ = writeln!(
                svg,
                r#"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="{stroke}" stroke-width="{width}"/>"#,
                WIDTH - RIGHT
            );
            if step == 1 {
                let _ = writeln!(
                    svg,
                    r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
                    LEFT - 6.0,
                    y + 4.0,
                    decade_label(decade, " ms")
                );
            }
        }
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">throughput (requests/s, log)</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 18.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">latency (ms, log)</text>"#,
        (TOP + HEIGHT - BOTTOM) / 2.0,
        (TOP + HEIGHT - BOTTOM) / 2.0
    );
    for (number, one) in plotted.iter().enumerate() {
        let color = PALETTE[number % PALETTE.len()];
        let points: Vec<_> = one.points.iter().filter(|point| point.answered()).collect();
        for (quantile, dash, radius) in [("p99", "", 3.5), ("p50", r#" stroke-dasharray="5,4""#, 2.0)] {
            let coordinates: Vec<String> = points
                .iter()
                .map(|point| {
                    let latency = if quantile == "p99" { point.latencies.p99 } else { point.latencies.p50 };
                    format!(
                        "{:.1},{:.1}",
                        x_axis.position(point.throughput),
                        y_axis.position(latency.as_secs_f64() * 1e3)
                    )
                })
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.8"{dash} points="{}"/>"#,
                coordinates.join(" ")
            );
            for (coordinate, point) in coordinates.iter().zip(&points) {
                let (x, y) = coordinate.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(svg, r#"<circle cx="{x}" cy="{y}" r="{radius}" fill="{color}"/>"#);
                if quantile == "p99" {
                    let _ = writeln!(
                        svg,
                        r##"<text x="{x}" y="{y}" dx="5" dy="-5" font-size="10" fill="#444444">{}</text>"##,
                        point.connections
                    );
                }
            }
        }
        let legend_y = TOP + 10.0 + number as f64 * 20.0;
        let legend_x = WIDTH - RIGHT + 20.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{legend_x}" y1="{legend_y}" x2="{}" y2="{legend_y}" stroke="{color}" stroke-width="3"/>"#,
            legend_x + 24.0
        );
        let _ = writeln!(svg, r#"<text x="{}" y="{}">{}</text>"#, legend_x + 30.0, legend_y + 4.0, escape(&one.label));
    }
    let key_y = TOP + 20.0 + plotted.len() as f64 * 20.0;
    let key_x = WIDTH - RIGHT + 20.0;
    let _ = writeln!(svg, r##"<text x="{key_x}" y="{key_y}" fill="#444444">solid: p99, dashed: p50</text>"##);
    let _ = writeln!(svg, r##"<text x="{key_x}" y="{}" fill="#444444">labels: connections</text>"##, key_y + 16.0);
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::bench::runner::SweepPoint;
    use crate::bench::stats::Latencies;

    fn point(connections: usize, throughput: f64, p99_micros: u64) -> SweepPoint {
        let latencies = Latencies {
            p50: Duration::from_micros(p99_micros / 2),
            p99: Duration::from_micros(p99_micros),
            p999: Duration::from_micros(p99_micros),
            max: Duration::from_micros(p99_micros),
        };
        SweepPoint { connections, throughput, latencies, errors: 0 }
    }

    #[test]
    fn draws_one_solid_and_one_dashed_line_per_series() {
        let series = vec![
            SweepSeries { label: "get_one".into(), points: vec![point(1, 900.0, 1_500), point(32, 20_000.0, 4_000)] },
            SweepSeries { label: "floor <x>".into(), points: vec![point(1, 5_000.0, 300), point(32, 60_000.0, 1_000)] },
        ];
        let svg = render_svg("test", &series);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(svg.contains("floor &lt;x&gt;"));
        assert!(svg.contains(">10k<"), "{svg}");
    }

    #[test]
    fn a_point_with_a_rate_but_no_finished_answer_is_not_plotted() {
        // 64 first logins of 3 s each in a 2 s window: each adds its share to the rate, none has a latency.
        let unanswered = SweepPoint { connections: 64, throughput: 21.0, latencies: Latencies::default(), errors: 0 };
        assert!(!unanswered.answered());
        let series =
            vec![SweepSeries { label: "activate_first".into(), points: vec![point(1, 8.0, 170_000), unanswered] }];
        let svg = render_svg("test", &series);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    #[test]
    fn empty_sweeps_still_render() {
        let svg = render_svg("empty", &[]);
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn axes_span_whole_decades() {
        let axis = LogAxis::covering([3.0, 4_000.0].into_iter(), 0.0, 100.0);
        assert_eq!((axis.low_decade, axis.high_decade), (0, 4));
        assert!((axis.position(100.0) - 50.0).abs() < 1e-9);
    }
}
