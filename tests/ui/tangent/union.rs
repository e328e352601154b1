use autodiff::prelude::*;

#[derive(Clone, Copy, Tangent)]
union Bits {
    a: f64,
}

fn main() {}
