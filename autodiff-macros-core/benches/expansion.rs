//! Compile-time cost: expanding 50 differentiable functions (scalar code with branches
//! and loops, matrix code with broadcasts, fusion and `map`), reported per function.
//! Target: under 5 ms per function.

use criterion::{criterion_group, criterion_main, Criterion};
use proc_macro2::TokenStream;
use std::hint::black_box;
use std::str::FromStr;

/// 50 functions, five shapes of code with varying names and constants.
fn corpus() -> Vec<(TokenStream, TokenStream)> {
    let templates = [
        ("", "fn f{i}(w: f64, x: f64) -> f64 { let y = w * x + {i}.0; (y - 5.0).powi(2) + y.exp().ln_1p() }"),
        ("wrt(x)", "fn f{i}(x: f64, n: usize) -> f64 { let mut s = 0.0; for k in 0..n { if k % 2 == 0 { s = s + (x * k as f64).sin(); } else { s += x.powi(2) * {i}.0; } } s }"),
        ("wrt(m)", "fn f{i}(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 { let h = (x * &m.w1 + &m.b1).tanh(); cross_entropy(&(h * &m.w2 + &m.b2), labels) }"),
        ("wrt(a, b)", "fn f{i}(a: &DVector<f64>, b: &DVector<f64>, x: &DVector<f64>) -> f64 { let z = (a.component_mul(x) + b).tanh(); z.powi(2).sum() * {i}.0 }"),
        ("wrt(v)", "fn f{i}(v: &DVector<f64>, s: f64) -> f64 { v.map(|e| e / (1.0 + e.abs()) * s).sum() + v.norm() }"),
    ];
    (0..50)
        .map(|i| {
            let (attr, body) = templates[i % templates.len()];
            let body = body.replace("{i}", &i.to_string());
            (
                TokenStream::from_str(attr).unwrap(),
                TokenStream::from_str(&body).unwrap(),
            )
        })
        .collect()
}

fn bench_expansion(c: &mut Criterion) {
    let corpus = corpus();
    for (attr, item) in &corpus {
        let out = autodiff_macros_core::differentiable(attr.clone(), item.clone()).to_string();
        assert!(
            !out.contains("compile_error"),
            "corpus function does not expand: {out}"
        );
    }
    let mut g = c.benchmark_group("expansion");
    g.bench_function("50_functions", |b| {
        b.iter(|| {
            for (attr, item) in &corpus {
                black_box(autodiff_macros_core::differentiable(
                    attr.clone(),
                    item.clone(),
                ));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench_expansion);
criterion_main!(benches);
