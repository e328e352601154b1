//! Diagnostics of `#[derive(Tangent)]`: one small file per rejected construct in
//! `tests/ui/tangent/`, with the expected compiler output beside it.

#[test]
fn derive_tangent_diagnostics() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/tangent/*.rs");
}
