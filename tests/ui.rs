//! Compile-fail tests: each file in `tests/ui/fail` is refused with the error in its
//! `.stderr`; each file in `tests/ui/pass` compiles and runs.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
