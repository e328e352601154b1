//! `Graph::to_svg()`: a self-contained SVG rendering in pure Rust (no Graphviz).
//!
//! The layout is layered, as `dot` draws a DAG top to bottom: a node's layer is one
//! below its deepest input, nodes within a layer are ordered by the mean position of
//! their inputs (the barycenter heuristic, which removes most crossings in the chains
//! and trees that computation graphs are), and edges are curves from the bottom of an
//! input to the top of the op that reads it.

use std::fmt::Write as _;

use crate::graph::{Graph, Node, NodeKind};

const CHAR_WIDTH: f64 = 7.4;
const LINE_HEIGHT: f64 = 16.0;
const PAD_X: f64 = 10.0;
const PAD_Y: f64 = 7.0;
const GAP_X: f64 = 24.0;
const GAP_Y: f64 = 44.0;
const MARGIN: f64 = 12.0;

/// A node's text lines and fill colour, as `to_dot` labels them.
fn label(node: &Node) -> (Vec<&str>, &'static str) {
    match node.kind {
        NodeKind::Input => (vec![node.label.as_str(), node.op.as_str()], "lightblue"),
        NodeKind::Constant => (vec![node.label.as_str()], "lightgrey"),
        NodeKind::Op if node.label.is_empty() => (vec![node.op.as_str()], "white"),
        NodeKind::Op => (vec![node.op.as_str(), node.label.as_str()], "white"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A placed box: centre x, top y, width, height.
#[derive(Clone, Copy, Default)]
struct Placed {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Graph {
    /// An SVG drawing of the graph: inputs at the top, each op below the values it reads,
    /// boxes coloured as in [`Graph::to_dot`]. Made in pure Rust, no external program.
    ///
    /// ```
    /// use autodiff_runtime::graph::Graph;
    /// let mut g = Graph::new();
    /// let w = g.input("w");
    /// g.op("PowBackward0", &[w]);
    /// let svg = g.to_svg();
    /// assert!(svg.starts_with("<svg") && svg.contains("PowBackward0"));
    /// ```
    pub fn to_svg(&self) -> String {
        let nodes = self.nodes();
        let n = nodes.len();
        // Layers: one below the deepest input (inputs come first in evaluation order; an
        // input listed later, which a well-formed graph never has, is ignored here).
        let mut layer = vec![0usize; n];
        for (i, node) in nodes.iter().enumerate() {
            layer[i] = node
                .inputs
                .iter()
                .filter(|&&j| j < i)
                .map(|&j| layer[j] + 1)
                .max()
                .unwrap_or(0);
        }
        let depth = layer.iter().copied().max().map_or(0, |d| d + 1);
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
        for (i, &l) in layer.iter().enumerate() {
            layers[l].push(i);
        }
        let mut placed = vec![Placed::default(); n];
        for (i, node) in nodes.iter().enumerate() {
            let (lines, _) = label(node);
            let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
            placed[i].w = chars as f64 * CHAR_WIDTH + 2.0 * PAD_X;
            placed[i].h = lines.len() as f64 * LINE_HEIGHT + 2.0 * PAD_Y;
        }
        // Order each layer by the barycenter of its inputs, then place it left to right.
        let mut rank = vec![0.0f64; n];
        let mut y = MARGIN;
        let mut width: f64 = 0.0;
        let mut rows: Vec<(Vec<usize>, f64)> = Vec::new();
        for members in &mut layers {
            for &i in members.iter() {
                let inputs: Vec<f64> = nodes[i]
                    .inputs
                    .iter()
                    .filter(|&&j| j < i)
                    .map(|&j| rank[j])
                    .collect();
                rank[i] = if inputs.is_empty() {
                    i as f64
                } else {
                    inputs.iter().sum::<f64>() / inputs.len() as f64
                };
            }
            members.sort_by(|a, b| rank[*a].total_cmp(&rank[*b]).then(a.cmp(b)));
            let mut x = 0.0;
            for (pos, &i) in members.iter().enumerate() {
                rank[i] = pos as f64 + rank[i] * 1e-9;
                placed[i].x = x + placed[i].w / 2.0;
                x += placed[i].w + GAP_X;
            }
            let row_width = (x - GAP_X).max(0.0);
            width = width.max(row_width);
            let height = members.iter().map(|&i| placed[i].h).fold(0.0, f64::max);
            for &i in members.iter() {
                placed[i].y = y + (height - placed[i].h) / 2.0;
            }
            rows.push((members.clone(), row_width));
            y += height + GAP_Y;
        }
        // Centre every layer on the widest one.
        for (members, row_width) in &rows {
            let shift = MARGIN + (width - row_width) / 2.0;
            for &i in members {
                placed[i].x += shift;
            }
        }
        let total_w = width + 2.0 * MARGIN;
        let total_h = if depth == 0 {
            2.0 * MARGIN
        } else {
            y - GAP_Y + MARGIN
        };

        let mut svg = String::new();
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_w:.0}\" height=\"{total_h:.0}\" viewBox=\"0 0 {total_w:.1} {total_h:.1}\" font-family=\"monospace\" font-size=\"12\">"
        );
        svg.push_str("  <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"black\"/></marker></defs>\n");
        svg.push_str("  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        for (i, node) in nodes.iter().enumerate() {
            for &j in &node.inputs {
                if j >= n {
                    continue;
                }
                let (from, to) = (placed[j], placed[i]);
                let (x1, y1, x2, y2) = (from.x, from.y + from.h, to.x, to.y);
                let bend = ((y2 - y1).abs() / 2.0).max(GAP_Y / 2.0);
                let _ = writeln!(
                    svg,
                    "  <path d=\"M {x1:.1} {y1:.1} C {x1:.1} {:.1}, {x2:.1} {:.1}, {x2:.1} {y2:.1}\" fill=\"none\" stroke=\"black\" marker-end=\"url(#arrow)\"/>",
                    y1 + bend,
                    y2 - bend
                );
            }
        }
        for (i, node) in nodes.iter().enumerate() {
            let p = placed[i];
            let (lines, fill) = label(node);
            let _ = writeln!(
                svg,
                "  <g><title>n{i}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"black\"/>",
                p.x - p.w / 2.0,
                p.y,
                p.w,
                p.h
            );
            for (k, line) in lines.iter().enumerate() {
                let _ = writeln!(
                    svg,
                    "    <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    p.x,
                    p.y + PAD_Y + LINE_HEIGHT * (k as f64 + 0.75),
                    escape(line)
                );
            }
            svg.push_str("  </g>\n");
        }
        svg.push_str("</svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes(svg: &str) -> Vec<(f64, f64, f64, f64)> {
        svg.lines()
            .filter(|l| l.contains("<rect x="))
            .map(|l| {
                let num = |key: &str| -> f64 {
                    let start = l.find(key).unwrap() + key.len();
                    let rest = &l[start..];
                    rest[..rest.find('"').unwrap()].parse().unwrap()
                };
                (
                    num(" x=\""),
                    num(" y=\""),
                    num("width=\""),
                    num("height=\""),
                )
            })
            .collect()
    }

    #[test]
    fn ops_sit_below_their_inputs_and_boxes_do_not_overlap() {
        let mut g = Graph::new();
        let w = g.input("(3, 2)");
        let x = g.constant("x & <y>");
        let b = g.input("(1, 2)");
        let m = g.op("MmBackward0", &[x, w]);
        let a = g.op("AddBackward0", &[m, b]);
        g.op("SumBackward0", &[a]);
        let svg = g.to_svg();
        assert!(svg.contains("x &amp; &lt;y&gt;"), "labels are escaped");
        assert_eq!(svg.matches("marker-end").count(), 5, "one edge per input");
        let r = boxes(&svg);
        assert_eq!(r.len(), 6);
        for (i, node) in g.nodes().iter().enumerate() {
            for &j in &node.inputs {
                assert!(r[j].1 + r[j].3 < r[i].1, "node {j} is above node {i}");
            }
        }
        for i in 0..r.len() {
            for j in i + 1..r.len() {
                let (a, b) = (r[i], r[j]);
                let apart =
                    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
                assert!(apart, "boxes {i} and {j} overlap");
            }
        }
    }

    #[test]
    fn an_empty_graph_is_a_valid_empty_drawing() {
        let svg = Graph::new().to_svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}
