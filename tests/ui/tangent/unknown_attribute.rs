use autodiff::prelude::*;

#[derive(Clone, Tangent)]
struct Model {
    #[tangent(frozen)]
    w: f64,
    b: f64,
}

fn main() {}
