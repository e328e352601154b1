//! Expansion snapshots: what `#[differentiable]` writes for a few representative
//! functions, pretty-printed, so a reader can see the generated forward and reverse code.
//! Accept changes with `INSTA_UPDATE=always cargo test -p autodiff-macros-core` and read
//! the diff of `tests/snapshots/` before committing.

use quote::quote;

fn expand(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let tokens = autodiff_macros_core::differentiable(attr, item);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

#[test]
fn tutorial_loss() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            fn loss(w: f64, x: f64) -> f64 {
                let y = w * x;
                (y - 5.0).powi(2)
            }
        }
    ));
}

#[test]
fn loop_with_carried_values() {
    insta::assert_snapshot!(expand(
        quote!(wrt(x)),
        quote! {
            fn power_series(x: f64, n: usize) -> f64 {
                let mut s = 0.0;
                let mut term = 1.0;
                for _i in 0..n {
                    s = s + term;
                    term = term * x;
                }
                s
            }
        }
    ));
}

#[test]
fn branch_as_value() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            fn piecewise(x: f64) -> f64 {
                if x > 0.0 { x * x } else { -x * 3.0 }
            }
        }
    ));
}

#[test]
fn mlp_on_a_struct() {
    insta::assert_snapshot!(expand(
        quote!(wrt(m)),
        quote! {
            fn mlp_loss(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
                let h = (x * &m.w1 + &m.b1).tanh();
                let logits = h * &m.w2 + &m.b2;
                cross_entropy(&logits, labels)
            }
        }
    ));
}

#[test]
fn map_closure() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            fn softsign_sum(v: &DVector<f64>) -> f64 {
                v.map(|e| e / (1.0 + e.abs())).sum()
            }
        }
    ));
}

#[test]
fn errors_are_spanned_compile_errors_with_stand_ins() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            fn bad(x: f64) -> f64 {
                let mut s = x;
                let twice = async { s * 2.0 };
                s
            }
        }
    ));
}

#[test]
fn fused_elementwise_chain() {
    insta::assert_snapshot!(expand(
        quote!(wrt(a, b)),
        quote! {
            fn elementwise(a: &DVector<f64>, b: &DVector<f64>, x: &DVector<f64>) -> f64 {
                let z = (a.component_mul(x) + b).tanh();
                z.powi(2).sum()
            }
        }
    ));
}
