#!/usr/bin/env python3
"""Writes random `#[differentiable]` programs as one Rust test file.

    python3 tools/gen_random_programs.py --seed 1 --count 200 --matrix-count 40 > tests/random_programs.rs
    cargo test --test random_programs -- --nocapture

The same seed and counts always give the same file. CI compiles and runs the checked-in
file (seed 1, 200 scalar and 40 matrix programs); run other seeds or larger counts locally
(`--seed 7 --count 500 --matrix-count 200`), then restore the file with the command above
(or `git checkout tests/random_programs.rs`). `rustfmt`, when on the PATH, formats the output
so the file passes `cargo fmt --check`.

Each program `rp_K(x0, .., n: usize) -> f64` is differentiated with respect to every `x`,
and uses scalar ops in safe domains (`ln`, `sqrt`, `recip`, `/` and `powf` get positive
operands), `if`/`else` on conditions that are not differentiated through (comparisons of
active values, of `n`, of the loop index), `for` loops over `0..n` with carried `let mut`
variables, `+=`, and calls to earlier programs. The generator also writes `rp_K_dyn`, the
same program over `autodiff::dynamic::Tensor`, so the test compares three things at seeded
points: `rp_K_grad` against central finite differences, `rp_K_vjp` against `rp_K_grad`
scaled by the cotangent, and both against the dynamic engine. The checker lives in
`tests/random_programs/support.rs`; a failure prints the program's source.

Matrix programs `rpm_K(a: &DMatrix, w: &DMatrix, bias: &RowDVector, s: f64) -> f64` (shapes
`R x K`, `K x C`, `1 x C`, all dimensions 1 to 4) use the matrix product, `transpose`,
elementwise `+ -`, `component_mul`, scalar broadcasting (literal or active `s`), bias rows
broadcast over rows, `map(|e| ..)` with a random scalar closure, elementwise methods,
`relu`, `sigmoid`, `softmax`, `log_softmax`, `if`/`else` on `s`, `for` loops, and reduce
with `sum`, `mean`, `norm_squared`, `mse`, `logsumexp` and indexing. They are checked
element by element the same way; those without `map`, indexing or `logsumexp` also against
the dynamic engine.
"""

import argparse
import random
import shutil
import subprocess

UNARY = ["sin", "cos", "tanh", "abs"]


class Gen:
    """Builds one program at a time; every expression is rendered twice: (static, dynamic)."""

    def __init__(self, rng):
        self.rng = rng
        self.programs = []  # (name, arity, static source, dynamic source)

    def literal(self):
        return "%.2f" % self.rng.choice([0.25, 0.5, 0.75, 1.25, 1.5, 2.0, 0.3, 0.7, 1.1])

    def leaf(self, scope):
        # Prefer recent variables so later statements depend on earlier ones.
        if len(scope) > 1 and self.rng.random() < 0.6:
            v = self.rng.choice(scope[-2:])
        else:
            v = self.rng.choice(scope)
        return (v, "%s.clone()" % v)

    def expr(self, scope, depth, consts):
        r = self.rng.random()
        if depth <= 0 or r < 0.25:
            return self.leaf(scope)
        sub = lambda: self.expr(scope, depth - 1, consts)
        kind = self.rng.choices(
            ["bin", "const", "unary", "domain", "act", "maxmin", "powf", "neg", "call"],
            [6, 4, 4, 3, 2, 1, 2, 1, 2],
        )[0]
        if kind == "bin":
            (a, da), (b, db) = sub(), sub()
            op = self.rng.choice(["+", "-", "*", "/"])
            if op == "/":
                return ("(%s / (%s.powi(2) + 1.0))" % (a, b), "(&%s / &(&%s.powi(2) + 1.0))" % (da, db))
            return ("(%s %s %s)" % (a, op, b), "(&%s %s &%s)" % (da, op, db))
        if kind == "const":
            a, da = sub()
            c = self.rng.choice(consts) if consts and self.rng.random() < 0.4 else self.literal()
            op = self.rng.choice(["+", "-", "*"])
            if self.rng.random() < 0.5:
                return ("(%s %s %s)" % (a, op, c), "(&%s %s %s)" % (da, op, c))
            return ("(%s %s %s)" % (c, op, a), "(%s %s &%s)" % (c, op, da))
        if kind == "unary":
            a, da = sub()
            m = self.rng.choice(UNARY + ["powi2", "powi3", "exp", "exp_m1", "tan", "sinh", "cosh"])
            if m == "powi2":
                return ("%s.powi(2)" % a, "%s.powi(2)" % da)
            if m == "powi3":
                return ("%s.tanh().powi(3)" % a, "%s.tanh().powi(3)" % da)
            if m in ("exp", "exp_m1", "tan", "sinh", "cosh"):
                # Bounded argument: |tanh| < 1 keeps exp finite and tan away from its poles.
                return ("%s.tanh().%s()" % (a, m), "%s.tanh().%s()" % (da, m))
            return ("%s.%s()" % (a, m), "%s.%s()" % (da, m))
        if kind == "domain":
            a, da = sub()
            m = self.rng.choice(["ln", "log10", "log2", "sqrt", "recip", "ln_1p"])
            shift = "0.5" if m == "sqrt" else "1.0"
            if m == "ln_1p":
                return ("%s.powi(2).ln_1p()" % a, "%s.powi(2).ln_1p()" % da)
            return (
                "(%s.powi(2) + %s).%s()" % (a, shift, m),
                "(&%s.powi(2) + %s).%s()" % (da, shift, m),
            )
        if kind == "act":
            a, da = sub()
            f = self.rng.choice(["relu", "sigmoid", "softplus"])
            return ("%s(%s)" % (f, a), "%s.%s()" % (da, f))
        if kind == "maxmin":
            (a, da), (b, db) = sub(), sub()
            m = self.rng.choice(["max", "min"])
            return ("%s.%s(%s)" % (a, m, b), "%s.%simum(&%s)" % (da, m, db))
        if kind == "powf":
            a, da = sub()
            if self.rng.random() < 0.5:
                c = self.literal()
                return ("(%s.powi(2) + 0.5).powf(%s)" % (a, c), "(&%s.powi(2) + 0.5).powf(%s)" % (da, c))
            b, db = sub()
            return (
                "(%s.powi(2) + 0.5).powf(%s.tanh())" % (a, b),
                "(&%s.powi(2) + 0.5).pow(&%s.tanh())" % (da, db),
            )
        if kind == "neg":
            a, da = sub()
            return ("(-%s)" % a, "(-&%s)" % da)
        # call an earlier program
        if not self.programs:
            return self.leaf(scope)
        name, arity, _, _ = self.rng.choice(self.programs[-12:])
        args = [sub() for _ in range(arity)]
        return (
            "%s(%s, n)" % (name, ", ".join(a for a, _ in args)),
            "%s_dyn(%s, n)" % (name, ", ".join("&%s" % d for _, d in args)),
        )

    def cond(self, scope, loop_index):
        r = self.rng.random()
        if loop_index and r < 0.35:
            return ("%s %% 2 == 0" % loop_index,) * 2
        if r < 0.6:
            v = self.rng.choice(scope)
            op = self.rng.choice([">", "<"])
            c = self.rng.choice(["0.0", "0.3", "-0.4", "1.0"])
            return ("%s %s %s" % (v, op, c), "%s.item() %s %s" % (v, op, c))
        c = self.rng.choice(["0", "1", "2"])
        return ("n > %s" % c,) * 2

    def program(self, k):
        rng = self.rng
        arity = rng.randint(1, 3)
        params = ["x%d" % i for i in range(arity)]
        scope = list(params)
        s, d = [], []  # statement lines, static and dynamic
        fresh = [0]

        def new_var():
            fresh[0] += 1
            return "v%d" % fresh[0]

        for _ in range(rng.randint(1, 4)):
            kind = rng.choices(["let", "if_expr", "if_stmt", "for"], [4, 2, 2, 3])[0]
            if kind == "let":
                v = new_var()
                e, de = self.expr(scope, rng.randint(1, 3), [])
                s.append("let %s = %s;" % (v, e))
                d.append("let %s = %s;" % (v, de))
                scope.append(v)
            elif kind == "if_expr":
                v = new_var()
                cs, cd = self.cond(scope, None)
                (a, da), (b, db) = self.expr(scope, 2, []), self.expr(scope, 2, [])
                s.append("let %s = if %s { %s } else { %s };" % (v, cs, a, b))
                d.append("let %s = if %s { %s } else { %s };" % (v, cd, da, db))
                scope.append(v)
            elif kind == "if_stmt":
                v = new_var()
                e, de = self.expr(scope, 2, [])
                s.append("let mut %s = %s;" % (v, e))
                d.append("let mut %s = %s;" % (v, de))
                scope.append(v)
                cs, cd = self.cond(scope, None)
                a, da = self.expr(scope, 2, [])
                b, db = self.expr(scope, 2, [])
                s.append("if %s {" % cs)
                d.append("if %s {" % cd)
                s.append("    %s = %s;" % (v, a))
                d.append("    %s = %s;" % (v, da))
                if rng.random() < 0.5:
                    s.append("} else {")
                    d.append("} else {")
                    s.append("    %s += %s;" % (v, b))
                    d.append("    %s = &%s + &%s;" % (v, v, db))
                s.append("}")
                d.append("}")
            else:
                carried = [new_var() for _ in range(rng.randint(1, 2))]
                for v in carried:
                    e, de = self.expr(scope, 1, [])
                    s.append("let mut %s = %s;" % (v, e))
                    d.append("let mut %s = %s;" % (v, de))
                scope.extend(carried)
                consts = ["(i as f64)"]
                s.append("for i in 0..n {")
                d.append("for i in 0..n {")
                for v in carried:
                    # A squashing update keeps values bounded over iterations.
                    e, de = self.expr(scope, 2, consts)
                    if rng.random() < 0.4:
                        cs, cd = self.cond(scope, "i")
                        e2, de2 = self.expr(scope, 2, consts)
                        s.append("    if %s {" % cs)
                        d.append("    if %s {" % cd)
                        s.append("        %s = (%s * 0.5 + %s).tanh();" % (v, v, e))
                        d.append("        %s = (&(&%s * 0.5) + &%s).tanh();" % (v, v, de))
                        s.append("    } else {")
                        d.append("    } else {")
                        s.append("        %s += %s.sin() * 0.25;" % (v, e2))
                        d.append("        %s = &%s + &(%s.sin() * 0.25);" % (v, v, de2))
                        s.append("    }")
                        d.append("    }")
                    else:
                        s.append("    %s = (%s * 0.5 + %s).tanh();" % (v, v, e))
                        d.append("    %s = (&(&%s * 0.5) + &%s).tanh();" % (v, v, de))
                s.append("}")
                d.append("}")
        # The tail reads the last variable so that every statement can matter.
        tail, dtail = self.expr(scope, 2, [])
        last = scope[-1]
        s.append("(%s + %s)" % (tail, last))
        d.append("(&%s + &%s.clone())" % (dtail, last))
        name = "rp_%03d" % k
        sig_params = ", ".join("%s: f64" % p for p in params)
        static = (
            "#[differentiable(wrt(%s))]\npub fn %s(%s, n: usize) -> f64 {\n%s\n}\n"
            % (", ".join(params), name, sig_params, "\n".join("    " + l for l in s))
        )
        dyn_params = ", ".join("%s: &Tensor" % p for p in params)
        clones = "".join("    let %s = %s.clone();\n" % (p, p) for p in params)
        dynamic = "pub fn %s_dyn(%s, n: usize) -> Tensor {\n%s%s\n}\n" % (
            name,
            dyn_params,
            clones,
            "\n".join("    " + l for l in d),
        )
        self.programs.append((name, arity, static, dynamic))


class MatrixGen:
    """Programs over `a: R x K`, `w: K x C`, `bias: 1 x C` (a `RowDVector`) and `s: f64`.

    Statements bind `R x C` matrices (`h1`, `h2`, ..); each is rendered for the static
    engine and, where the dynamic engine has the op, for `Tensor` (else `None`).
    """

    def __init__(self, rng, scalar_gen):
        self.rng = rng
        self.scalar = scalar_gen
        self.programs = []  # (name, (R, K, C), static, dynamic or None)

    def mexpr(self, hs, depth):
        st, dy = self.mexpr_any(hs, depth)
        # An op the dynamic engine lacks (`map`) anywhere below makes the whole `None`.
        return (st, None if dy is None or "None" in dy else dy)

    def mexpr_any(self, hs, depth):
        rng = self.rng
        if depth <= 0 or rng.random() < 0.2:
            h = rng.choice(hs[-2:])
            return ("&%s" % h, "%s.clone()" % h)
        sub = lambda: self.mexpr(hs, depth - 1)
        kind = rng.choices(
            ["add", "sub", "cmul", "scale", "lit", "map", "elem", "act", "bias", "gram", "softmax"],
            [3, 2, 2, 2, 2, 2, 3, 2, 2, 1, 1],
        )[0]
        if kind in ("add", "sub"):
            (x, dx), (y, dy) = sub(), sub()
            op = "+" if kind == "add" else "-"
            return ("(%s %s %s)" % (x, op, y), "(&%s %s &%s)" % (dx, op, dy))
        if kind == "cmul":
            (x, dx), (y, dy) = sub(), sub()
            return ("%s.component_mul(%s)" % (paren(x), amp(y)), "(&%s * &%s)" % (dx, dy))
        if kind == "scale":
            x, dx = sub()
            return ("(%s * s.tanh())" % x, "(&%s * &s.tanh())" % dx)
        if kind == "lit":
            x, dx = sub()
            c = self.scalar.literal()
            if rng.random() < 0.5:
                return ("(%s * %s)" % (x, c), "(&%s * %s)" % (dx, c))
            return ("(%s * %s)" % (c, x), "(%s * &%s)" % (c, dx))
        if kind == "map":
            x, dx = sub()
            e, _ = self.scalar.expr(["e"], 2, [])
            return ("%s.map(|e| %s)" % (paren(x), e), None)
        if kind == "elem":
            x, dx = sub()
            m = rng.choice(["tanh", "sin", "cos"])
            return ("%s.%s()" % (paren(x), m), "%s.%s()" % (dx, m))
        if kind == "act":
            x, dx = sub()
            f = rng.choice(["sigmoid", "relu"])
            return ("%s(%s)" % (f, amp(x)), "%s.%s()" % (dx, f))
        if kind == "bias":
            x, dx = sub()
            return ("(%s + bias)" % x, "(&%s + &bias)" % dx)
        if kind == "gram":
            x, dx = sub()
            return ("(%s * (w.transpose() * w))" % x, "%s.matmul(&w.t().matmul(&w))" % dx)
        x, dx = sub()
        f = rng.choice(["softmax", "log_softmax"])
        return ("%s(%s)" % (f, amp(x)), "%s.%s()" % (dx, f))

    def program(self, k):
        rng = self.rng
        shape = (rng.randint(1, 3), rng.randint(1, 4), rng.randint(1, 3))
        s, d = [], []
        first = rng.choice(["(a * w + bias)", "(a * w)"])
        s.append("let h1 = %s;" % first)
        d.append("let h1 = %s;" % ("(&a.matmul(&w) + &bias)" if "bias" in first else "a.matmul(&w)"))
        hs = ["h1"]
        for i in range(rng.randint(1, 3)):
            h = "h%d" % (len(hs) + 1)
            kind = rng.choices(["let", "if", "for"], [4, 1, 1])[0]
            if kind == "let":
                e, de = self.mexpr(hs, 2)
                s.append("let %s = %s;" % (h, e))
                d.append("let %s = %s;" % (h, de) if de else None)
            elif kind == "if":
                (x, dx), (y, dy) = self.mexpr(hs, 2), self.mexpr(hs, 2)
                c = rng.choice(["0.0", "0.5", "-0.5"])
                s.append("let %s = if s > %s { %s } else { %s };" % (h, c, x, y))
                d.append(
                    "let %s = if s.item() > %s { %s } else { %s };" % (h, c, dx, dy) if dx and dy else None
                )
            else:
                e, de = self.mexpr(hs, 1)
                s.append("let mut %s = %s * 1.0;" % (h, hs[-1]))
                d.append("let mut %s = &%s * 1.0;" % (h, hs[-1]))
                s.append("for _i in 0..2 {")
                d.append("for _i in 0..2 {")
                s.append("    %s = ((&%s * 0.5) + %s).tanh();" % (h, h, e))
                d.append("    %s = (&(&%s * 0.5) + &%s).tanh();" % (h, h, de) if de else None)
                s.append("}")
                d.append("}")
            hs.append(h)
        terms = []
        for _ in range(rng.randint(1, 3)):
            h = rng.choice(hs[-2:])
            t = rng.choice(["sum", "mean", "norm_squared", "mse", "index", "logsumexp"])
            c = self.scalar.literal()
            if t == "sum":
                terms.append(("%s.sum() * %s" % (h, c), "(&%s.sum() * %s)" % (h, c)))
            elif t == "mean":
                terms.append(("%s.mean()" % h, "%s.mean()" % h))
            elif t == "norm_squared":
                terms.append(("%s.norm_squared() * %s" % (h, c), "(&(&%s * &%s).sum() * %s)" % (h, h, c)))
            elif t == "mse":
                other = rng.choice(hs)
                terms.append(("mse(&%s, &%s)" % (h, other), "%s.mse(&%s)" % (h, other)))
            elif t == "index":
                terms.append(("%s[(0, %d)] * s" % (h, shape[2] - 1), None))
            else:
                terms.append(("logsumexp(&%s)" % h, None))
        s.append(" + ".join(t for t, _ in terms))
        d.append(" + ".join("&" + dt if i else dt for i, (_, dt) in enumerate(terms)) if all(dt for _, dt in terms) else None)
        name = "rpm_%03d" % k
        static = (
            "#[differentiable]\npub fn %s(a: &DMatrix<f64>, w: &DMatrix<f64>, bias: &RowDVector<f64>, s: f64) -> f64 {\n%s\n}\n"
            % (name, "\n".join("    " + l for l in s))
        )
        dynamic = None
        if all(l is not None for l in d):
            dynamic = (
                "pub fn %s_dyn(a: &Tensor, w: &Tensor, bias: &Tensor, s: &Tensor) -> Tensor {\n"
                "    let (a, w, bias, s) = (a.clone(), w.clone(), bias.clone(), s.clone());\n%s\n}\n"
                % (name, "\n".join("    " + l for l in d))
            )
        self.programs.append((name, shape, static, dynamic))


def paren(x):
    """`x` as a receiver: a borrowed variable `&h` becomes `h`."""
    return x[1:] if x.startswith("&") else x


def amp(x):
    """`x` as a borrowed argument."""
    return x if x.startswith("&") else "&" + x


def rust_string(src):
    return '"' + src.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--matrix-count", type=int, default=40)
    args = ap.parse_args()
    g = Gen(random.Random(args.seed))
    for k in range(args.count):
        g.program(k)
    mg = MatrixGen(random.Random(args.seed + 1_000_003), Gen(random.Random(args.seed + 7)))
    for k in range(args.matrix_count):
        mg.program(k)
    out = []
    out.append(
        "//! Random `#[differentiable]` programs, checked against central finite differences,\n"
        "//! their own `_vjp`, and the dynamic engine.\n"
        "//!\n"
        "//! GENERATED by `python3 tools/gen_random_programs.py --seed %d --count %d --matrix-count %d`;\n"
        "//! do not edit.\n"
        "//! Regenerate with any seed and count (see the script's doc), run with\n"
        "//! `cargo test --test random_programs -- --nocapture` (prints the counts).\n"
        "#![allow(clippy::all, unused_parens, unused_mut, unused_variables, unused_assignments)]\n"
        "\n"
        "#[path = \"random_programs/support.rs\"]\n"
        "mod support;\n"
        "\n"
        "use autodiff::dynamic::Tensor;\n"
        "use autodiff::nalgebra::{DMatrix, RowDVector};\n"
        "use autodiff::prelude::*;\n"
        "use support::Checker;\n" % (args.seed, args.count, args.matrix_count)
    )
    for name, arity, static, dynamic in g.programs:
        out.append(static)
        out.append(dynamic)
    for name, shape, static, dynamic in mg.programs:
        out.append(static)
        if dynamic:
            out.append(dynamic)
    out.append("#[test]\nfn random_programs_match_finite_differences_vjp_and_dynamic_engine() {")
    out.append("    let mut c = Checker::new(%d);" % args.seed)
    for name, arity, static, dynamic in g.programs:
        xs = ", ".join("x[%d]" % i for i in range(arity))
        ps = ["x%d" % i for i in range(arity)]
        gs = ", ".join("g.%s" % p for p in ps)
        out.append("    c.check::<%d>(" % arity)
        out.append("        %s," % rust_string(static))
        out.append("        |x, n| %s(%s, n)," % (name, xs))
        out.append("        |x, n| { let (v, g) = %s_grad(%s, n); (v, [%s]) }," % (name, xs, gs))
        out.append("        |x, n, d| { let (v, g) = %s_vjp(%s, n, d); (v, [%s]) }," % (name, xs, gs))
        out.append("        |t, n| %s_dyn(%s, n)," % (name, ", ".join("&t[%d]" % i for i in range(arity))))
        out.append("    );")
    for name, (r, k, cc), static, dynamic in mg.programs:
        shapes = "(%d, %d, %d)" % (r, k, cc)
        out.append("    c.check_matrix(")
        out.append("        %s," % rust_string(static))
        out.append("        %s," % shapes)
        out.append("        |(a, w, bias, s)| %s(a, w, bias, *s)," % name)
        out.append("        |(a, w, bias, s)| { let (v, g) = %s_grad(a, w, bias, *s); (v, (g.a, g.w, g.bias, g.s)) }," % name)
        out.append("        |(a, w, bias, s), d| { let (v, g) = %s_vjp(a, w, bias, *s, d); (v, (g.a, g.w, g.bias, g.s)) }," % name)
        if dynamic:
            out.append("        Some(|t: &[Tensor; 4]| %s_dyn(&t[0], &t[1], &t[2], &t[3]))," % name)
        else:
            out.append("        None::<fn(&[Tensor; 4]) -> Tensor>,")
        out.append("    );")
    out.append("    c.finish();")
    out.append("}")
    text = "\n".join(out) + "\n"
    # Format like `cargo fmt` would, so the checked-in file passes `cargo fmt --check`.
    if shutil.which("rustfmt"):
        text = subprocess.run(
            ["rustfmt", "--edition", "2021"], input=text, capture_output=True, text=True, check=True
        ).stdout
    print(text, end="")


if __name__ == "__main__":
    main()
