//! Report charts as SVG markup, drawn on the server: they show without JavaScript and add
//! nothing to the browser bundle. Each chart is a picture of a table printed beside it (the
//! numbers, for screen readers and for copying), so the SVG is `role="img"` with a label and
//! every text in it is escaped.

use crate::domain::text::escape_html;

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 36.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;

/// Series colours, in the order of `ChannelKind::ALL` (and used for any list of series).
pub const COLOURS: [&str; 7] = [
    "#2f6fde", "#d2452f", "#1c9a5b", "#8a4fd3", "#c9801a", "#1f93b8", "#8f3f12",
];

/// A round axis maximum at or above `max` (1, 2, 5 × 10ⁿ).
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(max.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= max {
            return m * mag;
        }
    }
    10.0 * mag
}

fn fmt_tick(v: f64, percent: bool) -> String {
    if percent {
        format!("{v:.0}%")
    } else if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn open(label: &str, out: &mut String) {
    out.push_str(&format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\">",
        escape_html(label)
    ));
}

/// Grid lines and the y axis labels for `0..=max`.
fn grid(max: f64, percent: bool, out: &mut String) {
    let plot_h = H - TOP - BOTTOM;
    for i in 0..=4 {
        let v = max * i as f64 / 4.0;
        let y = TOP + plot_h - plot_h * i as f64 / 4.0;
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            fmt_tick(v, percent)
        ));
    }
}

/// At most about 12 x labels, evenly picked.
fn x_labels(labels: &[String], x_of: impl Fn(usize) -> f64, out: &mut String) {
    let step = labels.len().div_ceil(12).max(1);
    for (i, l) in labels.iter().enumerate() {
        if i % step == 0 {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                x_of(i),
                H - BOTTOM + 16.0,
                escape_html(l)
            ));
        }
    }
}

/// A line per series over `labels` (one point per period).
pub fn lines(label: &str, labels: &[String], series: &[(String, Vec<f64>)]) -> String {
    let mut out = String::new();
    open(label, &mut out);
    let max = nice_max(
        series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(0.0, f64::max),
    );
    grid(max, false, &mut out);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = labels.len().max(1);
    let x_of = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y_of = |v: f64| TOP + plot_h - plot_h * (v / max);
    for (s, (_, values)) in series.iter().enumerate() {
        let colour = COLOURS[s % COLOURS.len()];
        let pts: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_of(i), y_of(*v)))
            .collect();
        out.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            pts.join(" ")
        ));
        if values.len() == 1 {
            out.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                x_of(0),
                y_of(values[0])
            ));
        }
    }
    x_labels(labels, x_of, &mut out);
    legend(series.iter().map(|(n, _)| n.as_str()), &mut out);
    out.push_str("</svg>");
    out
}

/// One bar per period, split into each series' share of the period's total (100% stacked).
pub fn shares(label: &str, labels: &[String], series: &[(String, Vec<f64>)]) -> String {
    let mut out = String::new();
    open(label, &mut out);
    grid(100.0, true, &mut out);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = labels.len().max(1);
    let slot = plot_w / n as f64;
    let bar = (slot * 0.7).max(1.0);
    for i in 0..labels.len() {
        let total: f64 = series
            .iter()
            .map(|(_, v)| v.get(i).copied().unwrap_or(0.0))
            .sum();
        if total <= 0.0 {
            continue;
        }
        let mut y = TOP + plot_h;
        for (s, (_, values)) in series.iter().enumerate() {
            let h = plot_h * values.get(i).copied().unwrap_or(0.0) / total;
            if h <= 0.0 {
                continue;
            }
            y -= h;
            out.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{}\"/>",
                LEFT + slot * i as f64 + (slot - bar) / 2.0,
                COLOURS[s % COLOURS.len()]
            ));
        }
    }
    x_labels(labels, |i| LEFT + slot * (i as f64 + 0.5), &mut out);
    legend(series.iter().map(|(n, _)| n.as_str()), &mut out);
    out.push_str("</svg>");
    out
}

fn legend<'a>(names: impl Iterator<Item = &'a str>, out: &mut String) {
    let mut x = LEFT;
    for (s, name) in names.enumerate() {
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{}\" class=\"tick\">{}</text>",
            H - 14.0,
            COLOURS[s % COLOURS.len()],
            x + 14.0,
            H - 5.0,
            escape_html(name)
        ));
        x += 24.0 + 7.0 * name.chars().count() as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(120.0), 200.0);
        assert_eq!(nice_max(4_900.0), 5_000.0);
    }

    #[test]
    fn text_in_a_chart_is_escaped() {
        let svg = lines(
            "A <b> chart",
            &["<script>".to_string()],
            &[("x&y".to_string(), vec![3.0])],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("x&amp;y"));
    }

    #[test]
    fn shares_stack_to_the_full_height() {
        let svg = shares(
            "mix",
            &["W1".to_string()],
            &[("a".into(), vec![1.0]), ("b".into(), vec![3.0])],
        );
        let heights: Vec<f64> = svg
            .split("height=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next()?.parse().ok())
            .filter(|h: &f64| *h > 10.0)
            .collect();
        let plot_h = H - TOP - BOTTOM;
        assert!(
            (heights.iter().sum::<f64>() - plot_h).abs() < 0.5,
            "{heights:?}"
        );
    }
}
