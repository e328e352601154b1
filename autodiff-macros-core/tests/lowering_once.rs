//! Lowering a loop body once (forward activity found by `pass::varied` on its IR) gives
//! the same expansion as lowering it again until its carried values' activity settles,
//! for every `#[differentiable]` item in the root crate's tests, the generated random
//! programs included; and it lowers fewer bodies.

use autodiff_macros_core::{differentiable, loop_bodies_lowered, relower_loops_on_growth};
use proc_macro2::TokenStream;
use quote::ToTokens;

/// The `#[differentiable(..)]` items of a file: the attribute's arguments and the item
/// without the attribute.
fn differentiable_items(src: &str) -> Vec<(TokenStream, TokenStream)> {
    fn split(attrs: &mut Vec<syn::Attribute>) -> Option<TokenStream> {
        let k = attrs
            .iter()
            .position(|a| a.path().is_ident("differentiable"))?;
        let a = attrs.remove(k);
        Some(match a.meta {
            syn::Meta::List(l) => l.tokens,
            _ => TokenStream::new(),
        })
    }
    let Ok(file) = syn::parse_file(src) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in file.items {
        match item {
            syn::Item::Fn(mut f) => {
                if let Some(attr) = split(&mut f.attrs) {
                    out.push((attr, f.into_token_stream()));
                }
            }
            syn::Item::Impl(mut i) => {
                if let Some(attr) = split(&mut i.attrs) {
                    out.push((attr, i.into_token_stream()));
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn lowering_each_loop_body_once_gives_the_same_expansion() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests");
    let mut items = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the root crate's tests") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let src = std::fs::read_to_string(&path).expect("a test file");
            items.extend(differentiable_items(&src));
        }
    }
    assert!(items.len() > 500, "found {} items", items.len());
    let (mut once, mut again) = (0, 0);
    let (mut t_once, mut t_again) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for (attr, item) in &items {
        relower_loops_on_growth(false);
        let before = loop_bodies_lowered();
        let start = std::time::Instant::now();
        let new = differentiable(attr.clone(), item.clone());
        t_once += start.elapsed();
        once += loop_bodies_lowered() - before;
        relower_loops_on_growth(true);
        let before = loop_bodies_lowered();
        let start = std::time::Instant::now();
        let old = differentiable(attr.clone(), item.clone());
        t_again += start.elapsed();
        again += loop_bodies_lowered() - before;
        relower_loops_on_growth(false);
        assert_eq!(new.to_string(), old.to_string(), "{item}");
    }
    println!(
        "{} items: {once} loop bodies lowered (each once unless a choice changed) in {t_once:?} of expansion, {again} when re-lowered on every growth in {t_again:?}",
        items.len()
    );
    assert!(once < again);
}
