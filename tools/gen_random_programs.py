#!/usr/bin/env python3
"""Writes random `#[differentiable]` programs as one Rust test file.

    python3 tools/gen_random_programs.py --seed 1 --count 200 > tests/random_programs.rs
    cargo test --release --test random_programs

The same seed and count always give the same file. CI compiles and runs the checked-in file
(seed 1, 200 programs); run other seeds or larger counts locally, then restore the file with
the command above.

Each program `rp_K(x0, .., n: usize) -> f64` is differentiated with respect to every `x`,
and uses scalar ops in safe domains (`ln`, `sqrt`, `recip`, `/` and `powf` get positive
operands), `if`/`else` on conditions that are not differentiated through (comparisons of
active values, of `n`, of the loop index), `for` loops over `0..n` with carried `let mut`
variables, `+=`, and calls to earlier programs. The generator also writes `rp_K_dyn`, the
same program over `autodiff::dynamic::Tensor`, so the test compares three things at seeded
points: `rp_K_grad` against central finite differences, `rp_K_vjp` against `rp_K_grad`
scaled by the cotangent, and both against the dynamic engine. The checker lives in
`tests/random_programs/support.rs`; a failure prints the program's source.
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


def rust_string(src):
    return '"' + src.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    args = ap.parse_args()
    g = Gen(random.Random(args.seed))
    for k in range(args.count):
        g.program(k)
    out = []
    out.append(
        "//! Random `#[differentiable]` programs, checked against central finite differences,\n"
        "//! their own `_vjp`, and the dynamic engine.\n"
        "//!\n"
        "//! GENERATED by `python3 tools/gen_random_programs.py --seed %d --count %d`; do not edit.\n"
        "//! Regenerate with any seed and count (see the script's doc), run with\n"
        "//! `cargo test --release --test random_programs`.\n"
        "#![allow(clippy::all, unused_parens, unused_mut, unused_variables, unused_assignments)]\n"
        "\n"
        "#[path = \"random_programs/support.rs\"]\n"
        "mod support;\n"
        "\n"
        "use autodiff::dynamic::Tensor;\n"
        "use autodiff::prelude::*;\n"
        "use support::Checker;\n" % (args.seed, args.count)
    )
    for name, arity, static, dynamic in g.programs:
        out.append(static)
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
