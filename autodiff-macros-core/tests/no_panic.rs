//! The compiler never panics: mutated versions of valid functions are either expanded or
//! refused with `compile_error!`, never a crash. (A coverage-guided fuzz target would go
//! further; this runs in every `cargo test`.)

use proptest::prelude::*;
use std::str::FromStr;

const CORPUS: &[&str] = &[
    "fn loss(w: f64, x: f64) -> f64 { let y = w * x; (y - 5.0).powi(2) }",
    "fn f(x: f64, n: usize) -> f64 { let mut s = 0.0; for i in 0..n { if i % 2 == 0 { s = s + x.sin(); } else { s += x * 2.0; } } s }",
    "fn g(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 { let h = (x * &m.w1 + &m.b1).tanh(); cross_entropy(&(h * &m.w2 + &m.b2), labels) }",
    "fn h(v: &DVector<f64>) -> f64 { v.map(|e| e / (1.0 + e.abs())).sum() + v[0] * v.dot(v) }",
    "fn k(a: f64, b: f64) -> f64 { let c = if a > b { a.max(b) } else { stop_gradient(a) * b.exp() }; other::g(c, b) }",
];

const VOCABULARY: &[&str] = &[
    "let", "mut", "=", ";", "+", "-", "*", "/", "(", ")", "{", "}", "[", "]", ",", ".", "&", "x",
    "y", "s", "0.0", "1", "if", "else", "for", "in", "..", "while", "match", "return", "|", "e",
    "map", "powi", "exp", "fn", "f64", "->", "'a", "::", "<", ">", "?", "!", "#", "async",
    "unsafe", "loop", "break", "as", "usize",
];

fn tokens(src: &str) -> Vec<String> {
    proc_macro2::TokenStream::from_str(src)
        .unwrap()
        .to_string()
        .split(' ')
        .map(str::to_string)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn mutated_functions_expand_or_error_without_panicking(
        which in 0..CORPUS.len(),
        edits in prop::collection::vec((0usize..1000, 0usize..3, 0..VOCABULARY.len()), 1..6),
        attr in prop::sample::select(vec!["", "wrt(x)", "wrt(q)", "custom_vjp = back", "wrt(", "wrt(x, y)"]),
    ) {
        let mut toks = tokens(CORPUS[which]);
        for (pos, kind, word) in edits {
            let i = pos % (toks.len() + 1);
            match kind {
                0 if i < toks.len() => { toks.remove(i); }
                1 => toks.insert(i, VOCABULARY[word].to_string()),
                _ if i < toks.len() => toks[i] = VOCABULARY[word].to_string(),
                _ => {}
            }
        }
        let src = toks.join(" ");
        // Token soup that does not even lex (unbalanced delimiters) never reaches a macro.
        let Ok(item) = proc_macro2::TokenStream::from_str(&src) else { return Ok(()); };
        let attr = proc_macro2::TokenStream::from_str(attr).unwrap_or_default();
        let out = std::panic::catch_unwind(|| autodiff_macros_core::differentiable(attr, item).to_string());
        prop_assert!(out.is_ok(), "the compiler panicked on: {src}");
    }
}

/// Found by the fuzzer: a raw identifier as the function name (`r#f`) panicked while
/// naming the gradient struct.
#[test]
fn raw_identifier_names() {
    for src in [
        "fn r#f(x: f64) -> f64 { x }",
        "fn r#type(r#in: f64) -> f64 { r#in * 2.0 }",
    ] {
        let item = proc_macro2::TokenStream::from_str(src).unwrap();
        let out =
            autodiff_macros_core::differentiable(proc_macro2::TokenStream::new(), item).to_string();
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("_grad"), "{out}");
    }
}
