//! `Graph::to_svg()`: a self-contained SVG rendering in pure Rust (no Graphviz).
//!
//! The layout is the layered (Sugiyama) drawing `dot` makes of a DAG, kept small:
//! 1. layers: each node one below its deepest input, then pulled down to just above
//!    its first consumer, so leaves sit next to the ops that read them;
//! 2. an edge that spans several layers gets a virtual point in each layer it crosses,
//!    so it is routed between boxes, never through them;
//! 3. within a layer, nodes are ordered by the barycenter of their neighbours, in
//!    alternating down and up sweeps, keeping the order with the fewest crossings;
//! 4. x positions move each node toward the mean of its neighbours, subject to the
//!    order and a minimum gap (the mean of a left-packed and a right-packed placement).

use std::fmt::Write as _;

use crate::graph::{Graph, Node, NodeKind};

const CHAR_WIDTH: f64 = 7.4;
const LINE_HEIGHT: f64 = 16.0;
const PAD_X: f64 = 10.0;
const PAD_Y: f64 = 7.0;
const GAP_X: f64 = 20.0;
const GAP_Y: f64 = 40.0;
const MARGIN: f64 = 12.0;
/// The width a virtual point of a long edge reserves in its layer.
const VIRTUAL_WIDTH: f64 = 4.0;
const SWEEPS: usize = 8;

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
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Placed {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// The computed drawing: one box per node, one polyline per edge (from the bottom of
/// the input to the top of the op), and the canvas size.
struct Layout {
    boxes: Vec<Placed>,
    edges: Vec<Vec<(f64, f64)>>,
    width: f64,
    height: f64,
}

/// A vertex of the layered graph: a node, or a virtual point of a long edge.
struct Vertex {
    layer: usize,
    w: f64,
    h: f64,
    preds: Vec<usize>,
    succs: Vec<usize>,
}

/// The number of crossings between the edges from layer `upper` to the next layer.
fn crossings(upper: &[usize], vertices: &[Vertex], pos: &[f64]) -> usize {
    let mut segments: Vec<(f64, f64)> = Vec::new();
    for &v in upper {
        for &s in &vertices[v].succs {
            segments.push((pos[v], pos[s]));
        }
    }
    let mut count = 0;
    for (i, a) in segments.iter().enumerate() {
        for b in &segments[i + 1..] {
            if (a.0 - b.0) * (a.1 - b.1) < 0.0 {
                count += 1;
            }
        }
    }
    count
}

fn total_crossings(layers: &[Vec<usize>], vertices: &[Vertex], pos: &[f64]) -> usize {
    layers
        .iter()
        .map(|layer| crossings(layer, vertices, pos))
        .sum()
}

/// Sorts `layer` by the mean position of each vertex's neighbours (`preds` or `succs`);
/// a vertex without neighbours keeps its place.
fn barycenter_sort(layer: &mut [usize], vertices: &[Vertex], pos: &mut [f64], down: bool) {
    let mut keyed: Vec<(f64, usize)> = layer
        .iter()
        .map(|&v| {
            let near = if down {
                &vertices[v].preds
            } else {
                &vertices[v].succs
            };
            let key = if near.is_empty() {
                pos[v]
            } else {
                near.iter().map(|&u| pos[u]).sum::<f64>() / near.len() as f64
            };
            (key, v)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (k, (_, v)) in keyed.into_iter().enumerate() {
        layer[k] = v;
        pos[v] = k as f64;
    }
}

/// Places `layer`'s vertices in order near their `desired` x, at least a gap apart.
fn place(layer: &[usize], vertices: &[Vertex], desired: &[f64], x: &mut [f64]) {
    let gap = |a: usize, b: usize| (vertices[a].w + vertices[b].w) / 2.0 + GAP_X;
    let n = layer.len();
    let mut left = vec![0.0; n];
    let mut right = vec![0.0; n];
    for k in 0..n {
        left[k] = if k == 0 {
            desired[layer[k]]
        } else {
            desired[layer[k]].max(left[k - 1] + gap(layer[k - 1], layer[k]))
        };
    }
    for k in (0..n).rev() {
        right[k] = if k + 1 == n {
            desired[layer[k]]
        } else {
            desired[layer[k]].min(right[k + 1] - gap(layer[k], layer[k + 1]))
        };
    }
    for k in 0..n {
        x[layer[k]] = (left[k] + right[k]) / 2.0;
    }
}

fn layout(graph: &Graph) -> Layout {
    let nodes = graph.nodes();
    let n = nodes.len();
    // Only inputs listed before a node count (evaluation order); anything else would
    // make a cycle, which a well-formed graph never has.
    let inputs = |i: usize| nodes[i].inputs.iter().copied().filter(move |&j| j < i);

    // 1. Layers: longest path from the top, then pulled down toward the consumers.
    let mut layer = vec![0usize; n];
    for i in 0..n {
        layer[i] = inputs(i).map(|j| layer[j] + 1).max().unwrap_or(0);
    }
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in inputs(i) {
            consumers[j].push(i);
        }
    }
    for i in (0..n).rev() {
        if let Some(lowest) = consumers[i].iter().map(|&c| layer[c]).min() {
            layer[i] = lowest - 1;
        }
    }

    // 2. Vertices: the nodes, then virtual points for edges spanning several layers.
    let mut vertices: Vec<Vertex> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let (lines, _) = label(node);
            let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
            Vertex {
                layer: layer[i],
                w: chars as f64 * CHAR_WIDTH + 2.0 * PAD_X,
                h: lines.len() as f64 * LINE_HEIGHT + 2.0 * PAD_Y,
                preds: Vec::new(),
                succs: Vec::new(),
            }
        })
        .collect();
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        for &j in &nodes[i].inputs {
            if j >= i {
                continue;
            }
            let mut chain = vec![j];
            for l in layer[j] + 1..layer[i] {
                vertices.push(Vertex {
                    layer: l,
                    w: VIRTUAL_WIDTH,
                    h: 0.0,
                    preds: Vec::new(),
                    succs: Vec::new(),
                });
                chain.push(vertices.len() - 1);
            }
            chain.push(i);
            for pair in chain.windows(2) {
                vertices[pair[0]].succs.push(pair[1]);
                vertices[pair[1]].preds.push(pair[0]);
            }
            chains.push(chain);
        }
    }
    let depth = vertices.iter().map(|v| v.layer + 1).max().unwrap_or(0);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (v, vertex) in vertices.iter().enumerate() {
        layers[vertex.layer].push(v);
    }

    // 3. Order: alternating barycenter sweeps, keeping the best order seen.
    let mut pos = vec![0.0; vertices.len()];
    for layer in &layers {
        for (k, &v) in layer.iter().enumerate() {
            pos[v] = k as f64;
        }
    }
    let mut best = (total_crossings(&layers, &vertices, &pos), layers.clone());
    for sweep in 0..SWEEPS {
        let down = sweep % 2 == 0;
        let order: Vec<usize> = if down {
            (1..depth).collect()
        } else {
            (0..depth.saturating_sub(1)).rev().collect()
        };
        for l in order {
            barycenter_sort(&mut layers[l], &vertices, &mut pos, down);
        }
        let count = total_crossings(&layers, &vertices, &pos);
        if count < best.0 {
            best = (count, layers.clone());
        }
    }
    let layers = best.1;

    // 4. x: start packed, then pull each vertex toward its neighbours' mean.
    let mut x = vec![0.0; vertices.len()];
    for layer in &layers {
        let mut at = 0.0;
        for &v in layer {
            x[v] = at + vertices[v].w / 2.0;
            at += vertices[v].w + GAP_X;
        }
    }
    for round in 0..SWEEPS {
        let down = round % 2 == 0;
        let order: Vec<usize> = if down {
            (0..depth).collect()
        } else {
            (0..depth).rev().collect()
        };
        for l in order {
            let desired: Vec<f64> = (0..vertices.len())
                .map(|v| {
                    let near = if down {
                        &vertices[v].preds
                    } else {
                        &vertices[v].succs
                    };
                    if near.is_empty() {
                        x[v]
                    } else {
                        near.iter().map(|&u| x[u]).sum::<f64>() / near.len() as f64
                    }
                })
                .collect();
            place(&layers[l], &vertices, &desired, &mut x);
        }
    }
    let left = vertices
        .iter()
        .enumerate()
        .map(|(v, vertex)| x[v] - vertex.w / 2.0)
        .fold(f64::INFINITY, f64::min);
    let right = vertices
        .iter()
        .enumerate()
        .map(|(v, vertex)| x[v] + vertex.w / 2.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let shift = if left.is_finite() { MARGIN - left } else { 0.0 };

    // y: layer by layer, each as tall as its tallest box.
    let mut top = vec![0.0; depth];
    let mut bottom = vec![0.0; depth];
    let mut y = MARGIN;
    for l in 0..depth {
        let height = layers[l]
            .iter()
            .map(|&v| vertices[v].h)
            .fold(0.0, f64::max)
            .max(LINE_HEIGHT);
        top[l] = y;
        bottom[l] = y + height;
        y += height + GAP_Y;
    }
    let boxes: Vec<Placed> = (0..n)
        .map(|i| {
            let v = &vertices[i];
            let l = v.layer;
            Placed {
                x: x[i] + shift,
                y: top[l] + (bottom[l] - top[l] - v.h) / 2.0,
                w: v.w,
                h: v.h,
            }
        })
        .collect();
    let edges = chains
        .iter()
        .map(|chain| {
            let (first, last) = (chain[0], chain[chain.len() - 1]);
            let mut points = vec![(boxes[first].x, boxes[first].y + boxes[first].h)];
            for &v in &chain[1..chain.len() - 1] {
                let l = vertices[v].layer;
                points.push((x[v] + shift, top[l]));
                points.push((x[v] + shift, bottom[l]));
            }
            points.push((boxes[last].x, boxes[last].y));
            points
        })
        .collect();
    Layout {
        boxes,
        edges,
        width: if depth == 0 {
            2.0 * MARGIN
        } else {
            right - left + 2.0 * MARGIN
        },
        height: if depth == 0 {
            2.0 * MARGIN
        } else {
            y - GAP_Y + MARGIN
        },
    }
}

/// An SVG path through `points`: vertical-tangent curves between layers, straight
/// lines through the layers a long edge crosses.
fn path(points: &[(f64, f64)]) -> String {
    let mut d = format!("M {:.1} {:.1}", points[0].0, points[0].1);
    for (k, pair) in points.windows(2).enumerate() {
        let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
        if k % 2 == 1 {
            let _ = write!(d, " L {x2:.1} {y2:.1}");
        } else {
            let bend = (y2 - y1) / 2.0;
            let _ = write!(
                d,
                " C {x1:.1} {:.1}, {x2:.1} {:.1}, {x2:.1} {y2:.1}",
                y1 + bend,
                y2 - bend
            );
        }
    }
    d
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
        let layout = layout(self);
        let (w, h) = (layout.width, layout.height);
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.1} {h:.1}\" font-family=\"monospace\" font-size=\"12\">"
        );
        svg.push_str("  <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"black\"/></marker></defs>\n");
        svg.push_str("  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        for points in &layout.edges {
            let _ = writeln!(
                svg,
                "  <path d=\"{}\" fill=\"none\" stroke=\"black\" marker-end=\"url(#arrow)\"/>",
                path(points)
            );
        }
        for (i, node) in self.nodes().iter().enumerate() {
            let p = layout.boxes[i];
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

    /// A two-layer perceptron's graph plus a long edge from `w1` to a late op.
    fn mlp() -> Graph {
        let mut g = Graph::new();
        let x = g.constant("x & <y>");
        let w1 = g.input("(3, 5)");
        let b1 = g.input("(1, 5)");
        let mm = g.op("MmBackward0", &[x, w1]);
        let add = g.op("AddBackward0", &[mm, b1]);
        let h = g.op("TanhBackward0", &[add]);
        let w2 = g.input("(5, 2)");
        let out = g.op("MmBackward0", &[h, w2]);
        let loss = g.op("SumBackward0", &[out]);
        let reg = g.op("MulBackward0", &[w1, w1]);
        g.op("AddBackward0", &[loss, reg]);
        g
    }

    fn inside(p: (f64, f64), b: &Placed) -> bool {
        (b.x - b.w / 2.0..=b.x + b.w / 2.0).contains(&p.0) && (b.y..=b.y + b.h).contains(&p.1)
    }

    #[test]
    fn ops_sit_below_their_inputs_and_boxes_do_not_overlap() {
        let g = mlp();
        let layout = layout(&g);
        let r = &layout.boxes;
        for (i, node) in g.nodes().iter().enumerate() {
            for &j in &node.inputs {
                assert!(r[j].y + r[j].h < r[i].y, "node {j} is above node {i}");
            }
        }
        for i in 0..r.len() {
            for j in i + 1..r.len() {
                let (a, b) = (r[i], r[j]);
                let apart = a.x + a.w / 2.0 <= b.x - b.w / 2.0
                    || b.x + b.w / 2.0 <= a.x - a.w / 2.0
                    || a.y + a.h <= b.y
                    || b.y + b.h <= a.y;
                assert!(apart, "boxes {i} and {j} overlap");
            }
            assert!(r[i].x - r[i].w / 2.0 >= 0.0 && r[i].x + r[i].w / 2.0 <= layout.width);
            assert!(r[i].y >= 0.0 && r[i].y + r[i].h <= layout.height);
        }
    }

    #[test]
    fn edges_run_from_input_to_op_and_around_other_boxes() {
        let g = mlp();
        let layout = layout(&g);
        let edge_count: usize = g.nodes().iter().map(|n| n.inputs.len()).sum();
        assert_eq!(layout.edges.len(), edge_count);
        assert!(
            layout.edges.iter().any(|e| e.len() > 2),
            "the w1 -> MulBackward0 edge spans layers"
        );
        for points in &layout.edges {
            let (first, last) = (points[0], points[points.len() - 1]);
            assert!(layout.boxes.iter().any(|b| (b.x, b.y + b.h) == first));
            assert!(layout.boxes.iter().any(|b| (b.x, b.y) == last));
            for &p in &points[1..points.len() - 1] {
                assert!(
                    layout.boxes.iter().all(|b| !inside(p, b)),
                    "a long edge passes through a box at {p:?}"
                );
            }
        }
    }

    #[test]
    fn svg_has_every_node_edge_and_escaped_label() {
        let g = mlp();
        let svg = g.to_svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("x &amp; &lt;y&gt;"), "labels are escaped");
        assert_eq!(svg.matches("<rect x=").count(), g.nodes().len());
        let edge_count: usize = g.nodes().iter().map(|n| n.inputs.len()).sum();
        assert_eq!(svg.matches("marker-end").count(), edge_count);
    }

    #[test]
    fn an_empty_graph_is_a_valid_empty_drawing() {
        let svg = Graph::new().to_svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}
