use autodiff::prelude::*;

fn twice(x: f64) -> f64 {
    2.0 * x
}

#[derive(Clone, Debug, Tangent)]
pub struct Line {
    pub a: f64,
}

#[differentiable]
impl Line {
    #[differentiable(wrt(self, x))]
    pub fn at(&self, x: f64) -> f64 {
        twice(self.a) * x
    }
}

fn main() {}
