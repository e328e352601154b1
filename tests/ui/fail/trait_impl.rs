use autodiff::prelude::*;

#[derive(Clone, Tangent)]
struct Model {
    w: f64,
}

trait Loss {
    fn loss(&self, x: f64) -> f64;
}

#[differentiable]
impl Loss for Model {
    #[differentiable]
    fn loss(&self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {}
