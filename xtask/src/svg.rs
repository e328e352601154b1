//! `docs/benchmarks.svg`: per workload, each engine's gradient time relative to the
//! hand-written one, as horizontal bars on a logarithmic axis. Plain SVG text (no fonts
//! needed to draw it; the viewer lays out the labels).

use crate::criterion::Medians;
use crate::peers::Peer;
use crate::render::ratio;
use crate::targets::median;
use crate::workloads::WORKLOADS;
use std::fmt::Write;

const WIDTH: f64 = 860.0;
const LEFT: f64 = 170.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 64.0;
const BAR: f64 = 13.0;
const GAP: f64 = 14.0;

/// The series drawn, in order: a label, a colour, and where its time comes from.
enum Source {
    Criterion(&'static str),
    Peer(usize),
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart, or a chart that says there is nothing to draw.
pub fn chart(medians: &Medians, peers: &[Peer]) -> String {
    let colours = [
        "#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
    ];
    let mut series: Vec<(String, Source)> = vec![
        ("hand-written".into(), Source::Criterion("handwritten")),
        (
            "static (#[differentiable])".into(),
            Source::Criterion("static"),
        ),
        ("dynamic (tape)".into(), Source::Criterion("dynamic")),
    ];
    for (i, p) in peers.iter().enumerate() {
        if p.outcome.is_ok() {
            series.push((p.name.clone(), Source::Peer(i)));
        }
    }
    // Rows: (workload short name, [(series index, ratio to hand-written)]).
    let mut rows: Vec<(&str, Vec<(usize, f64)>)> = Vec::new();
    for w in &WORKLOADS {
        let Some(hand) = median(medians, w.group, "handwritten") else {
            continue;
        };
        let bars: Vec<(usize, f64)> = series
            .iter()
            .enumerate()
            .filter_map(|(i, (_, src))| {
                let t = match src {
                    Source::Criterion(f) => median(medians, w.group, f),
                    Source::Peer(p) => peers[*p].result(w.group).and_then(|r| r.gradient_ns),
                }?;
                Some((i, t / hand))
            })
            .collect();
        rows.push((w.short, bars));
    }
    let all: Vec<f64> = rows
        .iter()
        .flat_map(|(_, b)| b.iter().map(|&(_, r)| r))
        .collect();
    let lo = all
        .iter()
        .copied()
        .fold(1.0f64, f64::min)
        .log10()
        .floor()
        .min(0.0);
    let hi = all
        .iter()
        .copied()
        .fold(1.0f64, f64::max)
        .log10()
        .ceil()
        .max(lo + 1.0);
    let n_bars: usize = rows.iter().map(|(_, b)| b.len()).sum();
    let height = TOP + n_bars as f64 * BAR + rows.len() as f64 * GAP + 40.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let x = |r: f64| LEFT + (r.log10() - lo) / (hi - lo) * plot_w;

    let mut s = String::new();
    writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    )
    .unwrap();
    writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#).unwrap();
    writeln!(
        s,
        r#"<text x="{LEFT}" y="18" font-size="13" font-weight="bold">Gradient time relative to hand-written (log scale; lower is faster)</text>"#
    )
    .unwrap();
    // Legend.
    let mut lx = LEFT;
    for (i, (name, _)) in series.iter().enumerate() {
        writeln!(
            s,
            r#"<rect x="{lx}" y="28" width="10" height="10" fill="{}"/><text x="{}" y="37">{}</text>"#,
            colours[i % colours.len()],
            lx + 14.0,
            escape(name)
        )
        .unwrap();
        lx += 24.0 + 6.5 * name.len() as f64;
    }
    // Decade grid lines.
    let bottom = height - 30.0;
    for d in (lo as i32)..=(hi as i32) {
        let r = 10f64.powi(d);
        let gx = x(r);
        let stroke = if d == 0 { "#444" } else { "#ccc" };
        writeln!(
            s,
            r#"<line x1="{gx:.1}" y1="{}" x2="{gx:.1}" y2="{bottom}" stroke="{stroke}"/><text x="{gx:.1}" y="{}" text-anchor="middle">{}x</text>"#,
            TOP - 8.0,
            bottom + 14.0,
            r
        )
        .unwrap();
    }
    if rows.is_empty() {
        writeln!(
            s,
            r#"<text x="{LEFT}" y="{}">no results with a hand-written entry to compare with</text>"#,
            TOP + 20.0
        )
        .unwrap();
    }
    let mut y = TOP;
    for (name, bars) in &rows {
        let mid = y + bars.len() as f64 * BAR / 2.0 + 4.0;
        writeln!(
            s,
            r#"<text x="{}" y="{mid:.1}" text-anchor="end" font-weight="bold">{}</text>"#,
            LEFT - 8.0,
            escape(name)
        )
        .unwrap();
        for &(i, r) in bars {
            let x0 = x(10f64.powf(lo));
            let w = (x(r) - x0).max(1.0);
            writeln!(
                s,
                r#"<rect x="{x0:.1}" y="{y:.1}" width="{w:.1}" height="{}" fill="{}"><title>{}: {}x</title></rect><text x="{:.1}" y="{:.1}">{}</text>"#,
                BAR - 2.0,
                colours[i % colours.len()],
                escape(&series[i].0),
                ratio(r),
                x0 + w + 4.0,
                y + BAR - 3.5,
                ratio(r)
            )
            .unwrap();
            y += BAR;
        }
        y += GAP;
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_ratios_to_handwritten() {
        let mut m = Medians::new();
        let g = m.entry("mlp".to_owned()).or_default();
        g.insert("handwritten".into(), 100.0);
        g.insert("static".into(), 250.0);
        g.insert("dynamic".into(), 4000.0);
        let svg = chart(&m, &[]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("static (#[differentiable]): 2.50x"), "{svg}");
        assert!(svg.contains("dynamic (tape): 40.0x"));
        // Axis from 1x to 100x.
        assert!(svg.contains(">1x</text>") && svg.contains(">100x</text>"));
        assert!(!svg.contains(">1000x</text>"));
    }

    #[test]
    fn empty_results_still_make_a_valid_chart() {
        let svg = chart(&Medians::new(), &[]);
        assert!(svg.contains("no results"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
