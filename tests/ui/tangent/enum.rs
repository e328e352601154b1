use autodiff::prelude::*;

#[derive(Clone, Tangent)]
enum Layer {
    Dense(f64),
}

fn main() {}
