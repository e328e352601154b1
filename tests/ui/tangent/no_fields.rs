use autodiff::prelude::*;

#[derive(Clone, Tangent)]
struct Empty;

#[derive(Clone, Tangent)]
struct OnlySkipped {
    #[tangent(skip)]
    name: String,
}

fn main() {}
