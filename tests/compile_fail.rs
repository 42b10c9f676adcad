//! Shape errors are compile errors.
//!
//! With `d_theta: Mat<1, 5>`, `w1: Mat<5, 3>`, `w2: Mat<3, 5>` and 1×3 rows
//! `s_prime`, `h_minus_h2`, the two hand-written formulas that started the
//! project must not compile, and the corrected one must (see `tests/ui/`).
//! The expected compiler messages are in `tests/ui/*.stderr`; regenerate
//! them with `TRYBUILD=overwrite cargo test --test compile_fail` after a
//! compiler upgrade changes their wording.

#[test]
fn shape_errors_do_not_compile_and_the_corrected_formula_does() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/question_formula_does_not_compile.rs");
    t.compile_fail("tests/ui/answer_formula_does_not_compile.rs");
    t.compile_fail("tests/ui/answer_formula_named_rows_does_not_compile.rs");
    t.pass("tests/ui/pass_corrected_formula.rs");
}
