use autodiff::prelude::*;

#[derive(Clone, Tangent)]
struct Model {
    w: f64,
    steps: usize,
}

fn main() {}
