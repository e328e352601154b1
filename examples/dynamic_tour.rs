//! A tour of the dynamic engine, following the autograd tutorial step by step:
//! build a graph, look at it, backpropagate, make the two classic mistakes, run
//! inference under `no_grad`, and train a weight by hand with gradient descent.
//!
//! Run with `cargo run --example dynamic_tour`.

use std::error::Error;

use autodiff::dynamic::{no_grad, NoGradGuard, Tensor};

fn main() -> Result<(), Box<dyn Error>> {
    println!("== 1. Building a graph ==");
    let w = Tensor::scalar(1.0).requires_grad();
    let x = Tensor::scalar(2.0);
    let y = &w * &x;
    let loss = (&y - 5.0).powi(2);
    println!("w    = {w}");
    println!("x    = {x}");
    println!("y    = w * x        -> {y}");
    println!("loss = (y - 5)^2    -> {loss}");
    println!("loss.grad_fn() = {:?}", loss.grad_fn());
    println!(
        "w.is_leaf() = {}, y.is_leaf() = {}",
        w.is_leaf(),
        y.is_leaf()
    );

    println!("\n== 2. The graph (torchviz's make_dot) ==");
    let graph = loss.graph();
    for (i, node) in graph.nodes().iter().enumerate() {
        println!(
            "  n{i}: {:<15} {:<8} inputs {:?}",
            node.op, node.label, node.inputs
        );
    }
    println!("{}", graph.to_dot());
    let svg_path = std::env::temp_dir().join("dynamic_tour_graph.svg");
    std::fs::write(&svg_path, graph.to_svg())?;
    println!("SVG drawing written to {}", svg_path.display());

    println!("\n== 3. Backpropagation ==");
    loss.backward()?;
    // d/dw (w x - 5)^2 = 2 (w x - 5) x = 2 * (-3) * 2 = -12
    println!("w.grad() = {}", w.grad().expect("w requires grad"));
    println!("x.grad() = {:?} (x does not require grad)", x.grad());

    println!("\n== 4. Mistake 1: forgetting zero_grad() ==");
    let w = Tensor::scalar(1.0).requires_grad();
    for step in 1..=3 {
        let loss = (&w * &x - 5.0).powi(2);
        loss.backward()?;
        println!("  after backward #{step}: w.grad() = {}", w.grad().unwrap());
    }
    println!("  gradients accumulate; clear them with zero_grad() before each step:");
    w.zero_grad();
    (&w * &x - 5.0).powi(2).backward()?;
    println!(
        "  after zero_grad() and one backward: w.grad() = {}",
        w.grad().unwrap()
    );

    println!("\n== 5. Mistake 2: calling backward() twice ==");
    let loss = (&w * &x - 5.0).powi(2);
    loss.backward()?;
    match loss.backward() {
        Ok(()) => println!("  unexpectedly succeeded"),
        Err(e) => println!("  error: {e}"),
    }
    w.zero_grad();
    let loss = (&w * &x - 5.0).powi(2);
    loss.backward_retain_graph()?;
    loss.backward()?;
    println!(
        "  with backward_retain_graph() first, both run: w.grad() = {}",
        w.grad().unwrap()
    );
    let m = Tensor::vector(&[1.0, 2.0]).requires_grad();
    if let Err(e) = (&m * 3.0).backward() {
        println!("  and on a tensor of two elements: {e}");
    }

    println!("\n== 6. Inference without a graph ==");
    let w = Tensor::scalar(2.5).requires_grad();
    let prediction = no_grad(|| &w * 4.0);
    println!(
        "  no_grad(|| w * 4)   -> {prediction}, grad_fn = {:?}",
        prediction.grad_fn()
    );
    {
        let _guard = NoGradGuard::new();
        let p = &w * 4.0;
        println!("  under a NoGradGuard -> {p}, grad_fn = {:?}", p.grad_fn());
    }
    let p = &w * 4.0;
    println!("  after the guard     -> {p}");

    println!("\n== 7. Gradient descent by hand ==");
    // loss(w) = (2 w - 5)^2 has its minimum at w = 2.5; each step is w <- 0.2 w + 2.
    let w = Tensor::scalar(10.0).requires_grad();
    let lr = 0.1;
    for step in 1..=20 {
        let loss = (&w * &x - 5.0).powi(2);
        loss.backward()?;
        let grad = w.grad().unwrap();
        // Updating a leaf that requires grad in place is only allowed under no_grad.
        no_grad(|| w.sub_(&(&grad * lr)))?;
        w.zero_grad();
        println!(
            "  step {step:>2}: loss {:>12.6e}, w = {:.12}",
            loss.item(),
            w.item()
        );
    }
    println!("  converged to w = {} (expected 2.5)", w.item());
    if let Err(e) = w.sub_(&Tensor::scalar(0.1)) {
        println!("  and the same update outside no_grad: {e}");
    }
    Ok(())
}
