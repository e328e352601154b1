//! Every drawn graph is connected: each node has a path to the output (the last node, the
//! one `to_dot` and `to_svg` draw at the bottom). A node that reaches nothing is a stray
//! box in the picture, such as the `m AccumulateGrad` of a struct parameter that is only
//! read by field, which `examples/train.rs`'s logits graph used to show.

use autodiff::dynamic::Tensor;
use autodiff::nalgebra::{DMatrix, DVector, RowDVector};
use autodiff::prelude::*;

/// The indices of the nodes with no path to the last node.
fn unconnected(g: &Graph) -> Vec<usize> {
    let nodes = g.nodes();
    let Some(root) = nodes.len().checked_sub(1) else {
        return Vec::new();
    };
    let mut reaches = vec![false; nodes.len()];
    reaches[root] = true;
    // Nodes are in evaluation order: every input comes before the op that reads it.
    for i in (0..nodes.len()).rev() {
        if reaches[i] {
            for &input in &nodes[i].inputs {
                assert!(
                    input < i,
                    "node {i} reads node {input}, which comes after it"
                );
                reaches[input] = true;
            }
        }
    }
    (0..nodes.len()).filter(|&i| !reaches[i]).collect()
}

fn assert_connected(name: &str, g: &Graph) {
    let stray = unconnected(g);
    assert!(
        stray.is_empty(),
        "{name}: nodes {:?} have no path to the output:\n{}",
        stray
            .iter()
            .map(|&i| format!("{} {}", g.nodes()[i].label, g.nodes()[i].op))
            .collect::<Vec<_>>(),
        g.to_dot()
    );
}

// The model and functions of `examples/train.rs`.

#[derive(Debug, Clone, Tangent)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

#[differentiable(wrt(m))]
fn mlp_logits(m: &Mlp, x: &DMatrix<f64>) -> DMatrix<f64> {
    let hidden = (x * &m.w1 + &m.b1).tanh();
    hidden * &m.w2 + &m.b2
}

#[differentiable(wrt(m))]
fn mlp_loss(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    cross_entropy(&mlp_logits(m, x), labels)
}

#[differentiable(wrt(m))]
fn mlp_loss_inline(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let hidden = (x * &m.w1 + &m.b1).tanh();
    cross_entropy(&(hidden * &m.w2 + &m.b2), labels)
}

// Parameters, constants and locals that do not reach the result.

#[differentiable]
fn ignores_a_parameter(x: f64, _unused: f64) -> f64 {
    x * 2.0
}

#[differentiable(wrt(x))]
fn ignores_a_constant(x: f64, _scale: f64, _labels: &[usize]) -> f64 {
    x.sin()
}

#[differentiable(wrt(m))]
fn reads_one_field(m: &Mlp, x: &DMatrix<f64>) -> f64 {
    (x * &m.w1).sum()
}

#[differentiable]
fn returns_a_parameter(x: f64, y: f64) -> f64 {
    let _z = y.exp();
    x
}

#[differentiable]
fn dead_local(x: f64, y: f64) -> f64 {
    let _unused = (x * y).exp();
    x + 1.0
}

// Control flow.

#[differentiable(wrt(x))]
fn loop_without_reading_the_index(x: f64, n: usize) -> f64 {
    let mut acc = x;
    for _i in 0..n {
        acc = acc * x;
    }
    acc
}

#[differentiable(wrt(v))]
fn loop_reading_the_index(v: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in 0..v.len() {
        acc += v[i] * v[i];
    }
    acc
}

#[differentiable(wrt(x))]
fn match_with_a_binding(x: f64, k: u32) -> f64 {
    match k {
        0 => x,
        _other => x * 3.0,
    }
}

#[differentiable(wrt(x))]
fn branch(x: f64, flag: bool) -> f64 {
    if flag {
        x.exp()
    } else {
        x * x
    }
}

// Fused elementwise chains, columns, closures, tuples.

#[differentiable]
fn fused_chain(a: &DMatrix<f64>, b: &DVector<f64>) -> f64 {
    (a + b).tanh().map(|e| e * e).sum()
}

#[differentiable]
fn closure(x: f64, s: f64) -> f64 {
    let f = |a: f64| a * s;
    f(x) + f(2.0)
}

#[differentiable]
fn tuple_result(x: f64, y: f64) -> (f64, f64) {
    (x * y, x + y)
}

#[differentiable(custom_vjp = halve_backward)]
fn halve(x: f64, _unused: f64) -> f64 {
    x / 2.0
}

fn halve_backward(_x: f64, _unused: f64, d: f64) -> (f64, f64) {
    (d / 2.0, 0.0)
}

#[test]
fn the_training_examples_graphs_are_connected() {
    assert_connected("mlp_logits", &mlp_logits_graph());
    assert_connected("mlp_loss", &mlp_loss_graph());
    assert_connected("mlp_loss_inline", &mlp_loss_inline_graph());
}

#[test]
fn the_logits_graph_has_the_fields_but_not_the_struct() {
    let g = mlp_logits_graph();
    let inputs: Vec<&str> = g
        .nodes()
        .iter()
        .filter(|n| n.kind == autodiff::NodeKind::Input)
        .map(|n| n.label.as_str())
        .collect();
    assert_eq!(inputs, ["m.w1", "m.b1", "m.w2", "m.b2"]);
    // The loss passes the struct as a whole to `mlp_logits`: there `m` is drawn.
    assert!(mlp_loss_graph()
        .nodes()
        .iter()
        .any(|n| n.kind == autodiff::NodeKind::Input && n.label == "m"));
}

#[test]
fn unused_parameters_constants_and_locals_are_not_drawn() {
    for (name, g) in [
        ("ignores_a_parameter", ignores_a_parameter_graph()),
        ("ignores_a_constant", ignores_a_constant_graph()),
        ("reads_one_field", reads_one_field_graph()),
        ("returns_a_parameter", returns_a_parameter_graph()),
        ("dead_local", dead_local_graph()),
    ] {
        assert_connected(name, &g);
    }
    let labels: Vec<String> = ignores_a_constant_graph()
        .nodes()
        .iter()
        .map(|n| n.label.clone())
        .collect();
    assert!(
        !labels.iter().any(|l| l == "_scale" || l == "_labels"),
        "{labels:?}"
    );
    // A function whose result is a parameter draws that parameter alone.
    let g = returns_a_parameter_graph();
    assert_eq!(g.nodes().len(), 1, "{}", g.to_dot());
    assert_eq!(g.nodes()[0].label, "x");
}

#[test]
fn control_flow_graphs_are_connected() {
    for (name, g) in [
        (
            "loop_without_reading_the_index",
            loop_without_reading_the_index_graph(),
        ),
        ("loop_reading_the_index", loop_reading_the_index_graph()),
        ("match_with_a_binding", match_with_a_binding_graph()),
        ("branch", branch_graph()),
    ] {
        assert_connected(name, &g);
    }
}

#[test]
fn fused_closure_tuple_and_custom_vjp_graphs_are_connected() {
    for (name, g) in [
        ("fused_chain", fused_chain_graph()),
        ("closure", closure_graph()),
        ("tuple_result", tuple_result_graph()),
        ("halve", halve_graph()),
    ] {
        assert_connected(name, &g);
    }
}

#[test]
fn the_dynamic_engines_graphs_are_connected() {
    let w = Tensor::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]).requires_grad();
    let b = Tensor::from_row_slice(1, 2, &[0.5, -0.5]).requires_grad();
    let unused = Tensor::scalar(3.0).requires_grad();
    let _ = &unused * 2.0;
    let x = Tensor::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    let loss = (x.matmul(&w) + &b).tanh().cross_entropy(&[0, 1, 1]);
    assert_connected("dynamic mlp", &loss.graph());
}

#[test]
fn the_check_finds_a_stray_node() {
    let mut g = Graph::new();
    let w = g.input("w");
    let _stray = g.input("m");
    g.op("ExpBackward0", &[w]);
    assert_eq!(unconnected(&g), [1]);
}

/// `term` is carried from one iteration to the next and feeds `acc`: the result depends
/// on `x` only through it, and the graph must show that (no back edges are drawn, so `x`'s
/// product appears as an input of `acc`'s exit node).
#[differentiable(wrt(x))]
fn power_series(x: f64, n: usize) -> f64 {
    let mut acc = 0.0;
    let mut term = 1.0;
    for _k in 0..n {
        acc = acc + term;
        term = term * x;
    }
    acc
}

/// `count` is carried but never reaches the result: it is not drawn.
#[differentiable(wrt(x))]
fn loop_with_an_unused_carry(x: f64, n: usize) -> f64 {
    let mut acc = x;
    let mut count = 0.0;
    for _k in 0..n {
        acc = acc * x;
        count = count + 1.0;
    }
    acc
}

#[test]
fn values_carried_across_iterations_stay_connected() {
    let g = power_series_graph();
    assert_connected("power_series", &g);
    assert!(
        g.nodes()
            .iter()
            .any(|n| n.kind == autodiff::NodeKind::Input && n.label == "x"),
        "x reaches the result through `term`:\n{}",
        g.to_dot()
    );
    assert!(
        g.nodes().iter().any(|n| n.op == "MulBackward0"),
        "{}",
        g.to_dot()
    );

    let g = loop_with_an_unused_carry_graph();
    assert_connected("loop_with_an_unused_carry", &g);
    let adds = g.nodes().iter().filter(|n| n.op == "AddBackward0").count();
    assert_eq!(adds, 0, "the unused counter is drawn:\n{}", g.to_dot());
}
