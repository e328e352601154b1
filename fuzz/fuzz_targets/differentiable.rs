//! Arbitrary bytes -> tokens -> `#[differentiable]`: the compiler must accept the input or
//! refuse it with a `compile_error!`, never panic (a panic aborts the fuzzer and is a bug).
//!
//! The first byte picks the attribute arguments, so `wrt(..)` and `custom_vjp` parsing is
//! fuzzed together with the function body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::str::FromStr;

const ATTRS: &[&str] = &[
    "",
    "wrt(x)",
    "wrt(x, y)",
    "wrt(w, b)",
    "wrt()",
    "wrt(",
    "custom_vjp = back",
    "custom_vjp",
    "wrt(x), custom_vjp = back",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(src) = std::str::from_utf8(rest) else {
        return;
    };
    // Text that does not lex (unbalanced delimiters, stray quotes) never reaches a macro.
    let Ok(item) = proc_macro2::TokenStream::from_str(src) else {
        return;
    };
    let attr =
        proc_macro2::TokenStream::from_str(ATTRS[first as usize % ATTRS.len()]).unwrap_or_default();
    let out = autodiff_macros_core::differentiable(attr, item);
    // Rendering the output exercises the tokens' Display, as rustc would read them.
    let _ = out.to_string();
});
