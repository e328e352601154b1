use autodiff::nalgebra::DMatrix;
use autodiff::prelude::*;

#[derive(Clone, Tangent)]
struct Model {
    w: DMatrix<f64>,
    b: f32,
}

fn main() {}
