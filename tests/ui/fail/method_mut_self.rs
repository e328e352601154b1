use autodiff::prelude::*;

#[derive(Clone, Tangent)]
struct Model {
    w: f64,
}

#[differentiable]
impl Model {
    #[differentiable]
    fn loss(&mut self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {}
