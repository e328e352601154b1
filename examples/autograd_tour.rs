//! A tour of `#[differentiable]` that follows the autograd tutorial step by step:
//! a loss and its gradient, the computation graph, gradient descent, and a derivative.
//!
//! Run with `cargo run --release --example autograd_tour`.

use autodiff::prelude::*;

/// The tutorial's loss: a one-weight model `y = w x` against the target 5.
#[differentiable]
fn loss(w: f64, x: f64) -> f64 {
    let y = w * x;
    (y - 5.0).powi(2)
}

/// `x^3`, whose derivative at 2 is `3 * 2^2 = 12`.
#[differentiable]
fn cube(x: f64) -> f64 {
    x.powi(3)
}

/// A function with a branch and a loop: the gradient follows the path taken.
#[differentiable(wrt(x))]
fn horner(x: f64, coefficients: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in 0..coefficients.len() {
        let c = coefficients[i];
        acc = acc * x + c;
    }
    if acc > 0.0 {
        acc
    } else {
        -acc
    }
}

fn main() {
    println!("Step 1: a loss and its gradient");
    let (w, x) = (1.0, 2.0);
    let (value, grad) = loss_grad(w, x);
    println!("  loss(w = {w}, x = {x}) = (w*x - 5)^2 = {value}");
    println!("  d loss / d w = 2 (w x - 5) x = {}", grad.w);
    println!("  d loss / d x = 2 (w x - 5) w = {}", grad.x);

    println!("\nStep 2: the computation graph, built at compile time (Graphviz DOT)");
    print!("{}", loss_graph().to_dot());

    println!("\nStep 3: 20 steps of gradient descent with learning rate 0.1 from w = 10");
    let mut w = 10.0;
    for step in 1..=20 {
        let (value, grad) = loss_grad(w, x);
        w -= 0.1 * grad.w;
        if step <= 3 || step % 5 == 0 {
            println!(
                "  step {step:2}: loss {value:.6e}, grad {:+.6e}, w -> {w:.12}",
                grad.w
            );
        }
    }
    println!("  w converged to {w:.12} (the minimiser is 5 / x = 2.5)");

    println!("\nStep 4: a derivative");
    let (value, grad) = cube_grad(2.0);
    println!("  x^3 at 2 = {value}, d/dx x^3 = 3 x^2 = {}", grad.x);

    println!("\nStep 5: control flow (Horner's rule in a loop, then an `if`)");
    let coefficients = [1.0, -3.0, 2.0];
    for x in [0.5, 1.5, 3.0] {
        let (value, grad) = horner_grad(x, &coefficients);
        println!(
            "  |x^2 - 3x + 2| at {x}: {value:.4}, derivative {:+.4}",
            grad.x
        );
    }
}
