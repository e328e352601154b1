#!/usr/bin/env python3
"""Writes random `#[differentiable]` programs as one Rust test file.

    python3 tools/gen_random_programs.py --seed 1 --count 220 --matrix-count 40 > tests/random_programs.rs
    python3 tools/gen_random_programs.py --seed 2 --count 220 --matrix-count 40 > tests/random_programs_2.rs
    cargo test --test random_programs --test random_programs_2 -- --nocapture

The same seed and counts always give the same file. CI compiles and runs the two checked-in
files (seeds 1 and 2, each 220 scalar and 40 matrix programs: 520 programs; two files so that
they compile in parallel); the defaults are the first file's. Run other seeds or larger
counts locally (`--seed 7 --count 1300 --matrix-count 200`), then restore the files with the
commands above (or `git checkout tests/random_programs.rs tests/random_programs_2.rs`).
`rustfmt`, when on the PATH, formats the output so the file passes `cargo fmt --check`.

Each program `rp_K(x0, .., n: usize) -> f64` is differentiated with respect to every `x`,
and uses scalar ops in safe domains (`ln`, `sqrt`, `recip`, `/` and `powf` get positive
operands), `if`/`else` on conditions that are not differentiated through (comparisons of
active values, of `n`, of the loop index), `for` loops over `0..n` with carried `let mut`
variables, `+=` and `-=`, calls to earlier programs, and the other control flow: `while`
loops with a data-dependent exit (`while v < 1.5 && c < n + 2`, the step counter `c` bounds
the iterations and every step moves `v` by at least 0.25), `loop` with `break` and
`continue`, `loop` as a value (`let v = loop { .. break e; }`), nested loops with a
labelled `continue 'l` / `break 'l`, `match` on an integer (`n % 3`, the loop index) with
literals, `|`, ranges (`2..=3`, `4..6`), bindings with guards (also on active values) and
`_`, as a value and as a statement, early `return` (top-level guards, `if` branches, match
arms, inside loops), and `if let` / `let .. else` / `while let` on `Option<usize>`. Every
loop is bounded by a counter, so every program terminates; decisions compare with
thresholds (0.3, -0.4, ..) the seeded points do not sit on. The generator also writes
`rp_K_dyn`, the same program over `autodiff::dynamic::Tensor` (the same control flow, on
`.item()` values), so the test compares three things at seeded points: `rp_K_grad` against
central finite differences, `rp_K_vjp` against `rp_K_grad` scaled by the cotangent, and
both against the dynamic engine. The checker lives in `tests/random_programs/support.rs`;
a failure prints the program's source.

A quarter of the plain programs are generic, `rp_K<T: Real>(x0: T, .., n) -> T` (literals
are values of `T`, counters enter as `T::c(i as f64)`; they call only generic programs and
are called from the others at `T = f64`). Closures (`let f = |a: f64| ..; f(x) + f(y * 0.5)`, reading what they capture) appear in
every kind of program. Sequence programs `rps_K(xs: &[f64], x0: f64, n)` (`xs` of 2 to 4
elements) add iterator chains over `xs`: `iter().copied().map(..).sum()`, `map(..).product()`,
`copied().fold(acc, ..)`, `for (i, &e) in xs.iter().enumerate()`, `for &e in xs.iter().rev()`,
`xs[(i + k) % xs.len()]` in a loop, and `zip(xs.iter().rev()).map(|(a, b)| a * b * c)` whose
closure reads a differentiated `c`. Method programs put a body on
`#[differentiable] impl RpoK { #[differentiable(wrt(self, x0))] fn eval(&self, x0, n) }` of
a `#[derive(Tangent)]` struct with fields `sa`, `sb`, read as `self.sa` in the body.

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
import re
import random
import shutil
import subprocess

UNARY = ["sin", "cos", "tanh", "abs"]


class Gen:
    """Builds one program at a time; every expression is rendered twice: (static, dynamic)."""

    def __init__(self, rng):
        self.rng = rng
        self.programs = []  # (name, arity, static source, dynamic source)
        self.extra = []  # (flavor, name, arity, static, dynamic): sequence and method programs
        self.generic = set()  # names of the programs written `fn rp_K<T: Real>`
        self.in_generic = False  # whether the program being built is generic

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
        # A generic program calls only generic ones (a `T` argument does not fit an `f64`).
        pool = [p for p in self.programs[-24:] if not self.in_generic or p[0] in self.generic][-12:]
        if not pool:
            return self.leaf(scope)
        name, arity, _, _ = self.rng.choice(pool)
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
            return self.acond(self.rng.choice(scope))
        c = self.rng.choice(["0", "1", "2"])
        return ("n > %s" % c,) * 2

    def acond(self, v):
        """`v` (an active value) against a threshold; the decision is not differentiated."""
        op = self.rng.choice([">", "<"])
        c = self.rng.choice(["0.0", "0.3", "-0.4", "1.0"])
        return ("%s %s %s" % (v, op, c), "%s.item() %s %s" % (v, op, c))

    def icond(self, idx):
        """A condition on the integer `idx` (a loop index or counter) and `n`."""
        f = self.rng.choice(["I % 2 == 0", "I % 3 == 1", "I > 1", "I + 1 == n", "I >= n / 2"])
        return (f.replace("I", idx),) * 2

    def update(self, L, ind, v, scope, consts):
        """Assigns the carried `v` a squashed or small update, so it stays bounded in loops."""
        e, de = self.expr(scope, 2, consts)
        r = self.rng.random()
        if r < 0.6:
            L.add(ind, "%s = (%s * 0.5 + %s).tanh();" % (v, v, e), "%s = (&(&%s * 0.5) + &%s).tanh();" % (v, v, de))
        elif r < 0.85:
            L.add(ind, "%s += %s.sin() * 0.25;" % (v, e), "%s = &%s + &(%s.sin() * 0.25);" % (v, v, de))
        else:
            L.add(ind, "%s -= %s.cos() * 0.25;" % (v, e), "%s = &%s - &(%s.cos() * 0.25);" % (v, v, de))

    def ret(self, L, ind, scope, consts):
        e, de = self.expr(scope, 2, consts)
        L.add(ind, "return %s;" % e, "return %s;" % de)

    def exit_if(self, L, ind, kind, cond, scope, consts):
        """`if cond { break; }` (or `continue`, `break 'label`, `return e`, ..) on one line."""
        cs, cd = cond
        if kind == "return":
            e, de = self.expr(scope, 2, consts)
            L.add(ind, "if %s { return %s; }" % (cs, e), "if %s { return %s; }" % (cd, de))
        else:
            L.add(ind, "if %s { %s; }" % (cs, kind), "if %s { %s; }" % (cd, kind))

    def patterns(self, binding):
        """Disjoint integer patterns counting up from 0, then `_`: literals, `|`, ranges and a
        binding with a guard (sometimes on an active value). Yields (pattern, consts)."""
        rng = self.rng
        out, nxt = [], 0
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(["lit", "alt", "incl", "excl", "guard"])
            if kind == "lit":
                out.append(("%d" % nxt, []))
                nxt += 1
            elif kind == "alt":
                width = rng.randint(2, 3)
                out.append((" | ".join("%d" % (nxt + i) for i in range(width)), []))
                nxt += width
            elif kind == "incl":
                out.append(("%d..=%d" % (nxt, nxt + 1), []))
                nxt += 2
            elif kind == "excl":
                out.append(("%d..%d" % (nxt, nxt + 2), []))
                nxt += 2
            else:
                g = rng.choice(["%s > %d" % (binding, nxt), "%s %% 2 == 1" % binding, "%s + n == %d" % (binding, nxt + 2)])
                out.append(("%s if %s" % (binding, g), ["(%s as f64)" % binding]))
        return out

    def guard_active(self, pat, scope):
        """Sometimes adds `&& v > c` (an active value) to a guard arm's condition."""
        if " if " in pat and self.rng.random() < 0.3:
            cs, cd = self.acond(self.rng.choice(scope))
            return ("%s && %s" % (pat, cs), "%s && %s" % (pat, cd))
        return (pat, pat)

    def match_value(self, L, ind, v, scrut, scope, consts, fresh):
        """`let v = match scrut { .. };` whose arms are values, blocks, or (one) a `return`."""
        rng = self.rng
        arms = self.patterns("k%d" % fresh())
        L.add(ind, "let %s = match %s {" % (v, scrut))
        returned = False
        for pat, kc in arms + [("_", [])]:
            ps, pd = self.guard_active(pat, scope)
            r = rng.random()
            if r < 0.2 and not returned:
                returned = True
                e, de = self.expr(scope, 2, consts + kc)
                L.add(ind + 1, "%s => return %s," % (ps, e), "%s => return %s," % (pd, de))
            elif r < 0.4:
                t = "t%d" % fresh()
                e, de = self.expr(scope, 2, consts + kc)
                c = self.literal()
                L.add(ind + 1, "%s => {" % ps, "%s => {" % pd)
                L.add(ind + 2, "let %s = %s;" % (t, e), "let %s = %s;" % (t, de))
                L.add(ind + 2, "%s * %s" % (t, c), "&%s * %s" % (t, c))
                L.add(ind + 1, "}")
            else:
                e, de = self.expr(scope, 2, consts + kc)
                L.add(ind + 1, "%s => %s," % (ps, e), "%s => %s," % (pd, de))
        L.add(ind, "};")

    def match_stmt(self, L, ind, v, scrut, scope, consts, fresh):
        """`match scrut { .. }` as a statement that assigns `v`, updates it, returns, or not."""
        rng = self.rng
        arms = self.patterns("k%d" % fresh())
        L.add(ind, "match %s {" % scrut)
        for pat, kc in arms + [("_", [])]:
            ps, pd = self.guard_active(pat, scope)
            r = rng.random()
            if r < 0.25:
                e, de = self.expr(scope, 2, consts + kc)
                L.add(ind + 1, "%s => %s = %s," % (ps, v, e), "%s => %s = %s," % (pd, v, de))
            elif r < 0.6:
                L.add(ind + 1, "%s => {" % ps, "%s => {" % pd)
                self.update(L, ind + 2, v, scope, consts + kc)
                L.add(ind + 1, "}")
            elif r < 0.8:
                e, de = self.expr(scope, 2, consts + kc)
                L.add(ind + 1, "%s => return %s," % (ps, e), "%s => return %s," % (pd, de))
            else:
                L.add(ind + 1, "%s => {}" % ps, "%s => {}" % pd)
        L.add(ind, "}")

    def program(self, k, flavor="plain"):
        """One program: `plain` (`rp_K(x0, .., n)`), `seq` (`rps_K(xs: &[f64], x0, n)`, with
        iterator chains over `xs`) or `method` (`RpoK::eval(&self, x0, n)` on a
        `#[derive(Tangent)]` struct of two fields `sa`, `sb`)."""
        rng = self.rng
        self.in_generic = False
        if flavor == "plain":
            arity = rng.randint(1, 3)
            params = ["x%d" % i for i in range(arity)]
            self.in_generic = rng.random() < 0.25
        elif flavor == "seq":
            slen = rng.randint(2, 4)
            params = ["x0"]
        else:
            params = ["sa", "sb", "x0"]
        scope = list(params)
        L = Lines()
        fresh = [0]

        def new_var():
            fresh[0] += 1
            return "v%d" % fresh[0]

        def new_id():
            fresh[0] += 1
            return fresh[0]

        kinds = {
            "let": 4, "if_expr": 2, "if_stmt": 2, "for": 3, "while": 2, "loop": 2, "loop_value": 1,
            "labelled": 1, "match_value": 2, "match_stmt": 1, "guard": 1, "option": 1,
            "closure": 1,
        }
        if flavor == "seq":
            kinds.update({"seq_map": 3, "seq_fold": 2, "seq_enum": 2, "seq_index": 2, "seq_zip": 1})
        for step in range(rng.randint(1, 4)):
            kind = rng.choices(list(kinds), list(kinds.values()))[0]
            if flavor == "seq" and step == 0:
                kind = rng.choice(["seq_map", "seq_fold", "seq_enum", "seq_index", "seq_zip"])
            if kind == "let":
                v = new_var()
                e, de = self.expr(scope, rng.randint(1, 3), [])
                L.add(1, "let %s = %s;" % (v, e), "let %s = %s;" % (v, de))
                scope.append(v)
            elif kind == "if_expr":
                v = new_var()
                cs, cd = self.cond(scope, None)
                (a, da), (b, db) = self.expr(scope, 2, []), self.expr(scope, 2, [])
                L.add(1, "let %s = if %s { %s } else { %s };" % (v, cs, a, b),
                      "let %s = if %s { %s } else { %s };" % (v, cd, da, db))
                scope.append(v)
            elif kind == "if_stmt":
                v = new_var()
                e, de = self.expr(scope, 2, [])
                L.add(1, "let mut %s = %s;" % (v, e), "let mut %s = %s;" % (v, de))
                scope.append(v)
                cs, cd = self.cond(scope, None)
                a, da = self.expr(scope, 2, [])
                b, db = self.expr(scope, 2, [])
                L.add(1, "if %s {" % cs, "if %s {" % cd)
                if rng.random() < 0.2:
                    # An `if` branch that leaves the function early.
                    L.add(2, "return %s;" % a, "return %s;" % da)
                else:
                    L.add(2, "%s = %s;" % (v, a), "%s = %s;" % (v, da))
                if rng.random() < 0.5:
                    L.add(1, "} else {")
                    L.add(2, "%s += %s;" % (v, b), "%s = &%s + &%s;" % (v, v, db))
                L.add(1, "}")
            elif kind == "for":
                carried = [new_var() for _ in range(rng.randint(1, 2))]
                for v in carried:
                    e, de = self.expr(scope, 1, [])
                    L.add(1, "let mut %s = %s;" % (v, e), "let mut %s = %s;" % (v, de))
                scope.extend(carried)
                consts = ["(i as f64)"]
                L.add(1, "for i in 0..n {")
                if rng.random() < 0.15:
                    self.exit_if(L, 2, "continue", self.icond("i"), scope, consts)
                for v in carried:
                    r = rng.random()
                    if r < 0.35:
                        cs, cd = self.cond(scope, "i")
                        e, de = self.expr(scope, 2, consts)
                        e2, de2 = self.expr(scope, 2, consts)
                        L.add(2, "if %s {" % cs, "if %s {" % cd)
                        L.add(3, "%s = (%s * 0.5 + %s).tanh();" % (v, v, e),
                              "%s = (&(&%s * 0.5) + &%s).tanh();" % (v, v, de))
                        L.add(2, "} else {")
                        L.add(3, "%s += %s.sin() * 0.25;" % (v, e2), "%s = &%s + &(%s.sin() * 0.25);" % (v, v, de2))
                        L.add(2, "}")
                    elif r < 0.5:
                        scrut = rng.choice(["i", "i % 3", "(i + n) % 4"])
                        self.match_stmt(L, 2, v, scrut, scope, consts, new_id)
                    else:
                        self.update(L, 2, v, scope, consts)
                if rng.random() < 0.3:
                    # A data-dependent `break`, or a `return` from inside the loop.
                    kind = rng.choice(["break", "return"])
                    self.exit_if(L, 2, kind, self.acond(carried[-1]), scope, consts)
                L.add(1, "}")
            elif kind == "while":
                # A data-dependent exit; the step counter bounds the iterations.
                v, c = new_var(), "c%d" % new_id()
                e, de = self.expr(scope, 2, [])
                L.add(1, "let mut %s = %s.tanh();" % (v, e), "let mut %s = %s.tanh();" % (v, de))
                L.add(1, "let mut %s = 0;" % c)
                up = rng.random() < 0.5
                b = rng.choice(["0.5", "1.0", "1.5", "2.5"])
                op, sign = ("<", "+") if up else (">", "-")
                if len(scope) > 1 and rng.random() < 0.3:
                    w = rng.choice(scope)
                    act = ("%s %s %s %s %s" % (v, op, w, sign, b), "%s.item() %s %s.item() %s %s" % (v, op, w, sign, b))
                else:
                    act = ("%s %s %s%s" % (v, op, "" if up else "-", b), "%s.item() %s %s%s" % (v, op, "" if up else "-", b))
                cap = "%s < %s" % (c, rng.choice(["n + 2", "5", "2 * n + 1"]))
                if rng.random() < 0.5:
                    L.add(1, "while %s && %s {" % (act[0], cap), "while %s && %s {" % (act[1], cap))
                else:
                    L.add(1, "while %s && %s {" % (cap, act[0]), "while %s && %s {" % (cap, act[1]))
                L.add(2, "%s += 1;" % c)
                scope.append(v)
                consts = ["(%s as f64)" % c]
                if rng.random() < 0.25:
                    self.exit_if(L, 2, "continue", self.icond(c), scope, consts)
                e2, de2 = self.expr(scope, 2, consts)
                # A step of at least 0.25 towards the bound.
                L.add(2, "%s = %s %s (%s.tanh().powi(2) + 0.25);" % (v, v, sign, e2),
                      "%s = &%s %s &(&%s.tanh().powi(2) + 0.25);" % (v, v, sign, de2))
                L.add(1, "}")
            elif kind == "loop":
                v, c = new_var(), "c%d" % new_id()
                e, de = self.expr(scope, 2, [])
                L.add(1, "let mut %s = %s;" % (v, e), "let mut %s = %s;" % (v, de))
                L.add(1, "let mut %s = 0;" % c)
                scope.append(v)
                consts = ["(%s as f64)" % c]
                cap = "%s > %s" % (c, rng.choice(["n", "n + 1", "3"]))
                at_top = rng.random() < 0.6
                L.add(1, "loop {")
                L.add(2, "%s += 1;" % c)
                if at_top:
                    L.add(2, "if %s { break; }" % cap)
                if at_top and rng.random() < 0.6:
                    # (Only with the counter's test at the top, or `continue` could skip it.)
                    cond = self.icond(c) if rng.random() < 0.5 else self.acond(v)
                    self.exit_if(L, 2, "continue", cond, scope, consts)
                self.update(L, 2, v, scope, consts)
                if rng.random() < 0.6:
                    self.exit_if(L, 2, rng.choice(["break", "break", "return"]), self.acond(v), scope, consts)
                if not at_top:
                    L.add(2, "if %s { break; }" % cap)
                L.add(1, "}")
            elif kind == "loop_value":
                t, c = new_var(), "c%d" % new_id()
                e, de = self.expr(scope, 2, [])
                L.add(1, "let mut %s = %s;" % (t, e), "let mut %s = %s;" % (t, de))
                L.add(1, "let mut %s = 0;" % c)
                scope.append(t)
                consts = ["(%s as f64)" % c]
                v = new_var()
                L.add(1, "let %s = loop {" % v)
                L.add(2, "%s += 1;" % c)
                self.update(L, 2, t, scope, consts)
                cap = "%s > %s" % (c, rng.choice(["n", "n + 1", "2"]))
                acs, acd = self.acond(t)
                (e1, de1), (e2, de2) = self.expr(scope, 2, consts), self.expr(scope, 2, consts)
                if rng.random() < 0.5:
                    L.add(2, "if %s || %s { break %s; }" % (acs, cap, e1), "if %s || %s { break %s; }" % (acd, cap, de1))
                else:
                    L.add(2, "if %s { break %s; }" % (acs, e1), "if %s { break %s; }" % (acd, de1))
                    L.add(2, "if %s { break %s; }" % (cap, e2), "if %s { break %s; }" % (cap, de2))
                L.add(1, "};")
                scope.append(v)
            elif kind == "labelled":
                v, lab = new_var(), "'l%d" % new_id()
                e, de = self.expr(scope, 2, [])
                L.add(1, "let mut %s = %s;" % (v, e), "let mut %s = %s;" % (v, de))
                scope.append(v)
                bound = rng.choice(["n", "n + 1"])
                if rng.random() < 0.7:
                    i = "i"
                    L.add(1, "%s: for i in 0..%s {" % (lab, bound))
                else:
                    i = "c%d" % new_id()
                    L.add(1, "let mut %s = 0;" % i)
                    L.add(1, "%s: while %s < %s {" % (lab, i, bound))
                    L.add(2, "%s += 1;" % i)
                L.add(2, "for j in 0..%s {" % rng.choice(["2", "3", "n", "%s + 1" % i]))
                consts = ["(%s as f64)" % i, "(j as f64)"]
                exits = rng.choice([["continue"], ["break"], ["continue", "break"], ["continue", "break", "inner"]])
                if "continue" in exits:
                    cond = rng.choice([("j > %s" % i,) * 2, ("j + %s == 2" % i,) * 2, self.acond(v)])
                    self.exit_if(L, 3, "continue %s" % lab, cond, scope, consts)
                self.update(L, 3, v, scope, consts)
                if "break" in exits:
                    self.exit_if(L, 3, "break %s" % lab, self.acond(v), scope, consts)
                if "inner" in exits:
                    self.exit_if(L, 3, rng.choice(["break", "return"]), self.icond("j"), scope, consts)
                L.add(2, "}")
                # A statement after the inner loop, which `continue 'label` must skip.
                if rng.random() < 0.5:
                    self.update(L, 2, v, scope, consts[:1])
                L.add(1, "}")
            elif kind == "closure":
                # `let f = |a: f64| ..;` reading what it captures, called twice.
                f, a = "f%d" % new_id(), "a%d" % new_id()
                e, de = self.expr(scope + [a, a], 2, [])
                L.add(1, "let %s = |%s: f64| %s;" % (f, a, e), "let %s = |%s: Tensor| -> Tensor { %s };" % (f, a, de))
                v = new_var()
                (p, dp), (q, dq) = self.leaf(scope), self.expr(scope, 1, [])
                L.add(1, "let %s = %s(%s) + %s(%s * 0.5);" % (v, f, p, f, q),
                      "let %s = &%s(%s) + &%s(&%s * 0.5);" % (v, f, dp, f, dq))
                scope.append(v)
            elif kind == "seq_map":
                v, e_ = new_var(), "e%d" % new_id()
                e, de = self.expr(scope + [e_, e_], 2, [])
                if rng.random() < 0.5:
                    L.add(1, "let %s = xs.iter().copied().map(|%s| %s).sum::<f64>();" % (v, e_, e),
                          "let %s = xs.iter().map(|%s| %s).fold(Tensor::scalar(0.0), |s, t| &s + &t);" % (v, e_, de))
                else:
                    L.add(1, "let %s: f64 = xs.iter().map(|%s| %s.tanh() + 0.5).product();" % (v, e_, e_),
                          "let %s = xs.iter().map(|%s| &%s.clone().tanh() + 0.5).fold(Tensor::scalar(1.0), |s, t| &s * &t);" % (v, e_, e_))
                scope.append(v)
            elif kind == "seq_fold":
                v, e_, acc = new_var(), "e%d" % new_id(), "acc%d" % new_id()
                (i0, di0) = self.leaf(scope)
                e, de = self.expr(scope + [e_, acc], 2, [])
                L.add(1, "let %s = xs.iter().copied().fold(%s, |%s, %s| (%s * 0.5 + %s).tanh());" % (v, i0, acc, e_, acc, e),
                      "let %s = xs.iter().fold(%s, |%s, %s| (&(&%s * 0.5) + &%s).tanh());" % (v, di0, acc, e_, acc, de))
                scope.append(v)
            elif kind == "seq_enum":
                v, e_, i_ = new_var(), "e%d" % new_id(), "i%d" % new_id()
                e, de = self.expr(scope, 1, [])
                L.add(1, "let mut %s = %s;" % (v, e), "let mut %s = %s;" % (v, de))
                scope.append(v)
                if rng.random() < 0.5:
                    L.add(1, "for (%s, &%s) in xs.iter().enumerate() {" % (i_, e_),
                          "for (%s, %s) in xs.iter().enumerate() {" % (i_, e_))
                    consts = ["(%s as f64)" % i_]
                else:
                    L.add(1, "for &%s in xs.iter().rev() {" % e_, "for %s in xs.iter().rev() {" % e_)
                    consts = []
                self.update(L, 2, v, scope + [e_, e_], consts)
                L.add(1, "}")
            elif kind == "seq_index":
                v, e_ = new_var(), "e%d" % new_id()
                e, de = self.expr(scope, 1, [])
                L.add(1, "let mut %s = %s;" % (v, e), "let mut %s = %s;" % (v, de))
                scope.append(v)
                L.add(1, "for i in 0..n + 1 {")
                k_ = rng.randint(0, 3)
                L.add(2, "let %s = xs[(i + %d) %% xs.len()];" % (e_, k_),
                      "let %s = xs[(i + %d) %% xs.len()].clone();" % (e_, k_))
                self.update(L, 2, v, scope + [e_, e_], ["(i as f64)"])
                L.add(1, "}")
            elif kind == "seq_zip":
                v = new_var()
                (c, dc) = self.leaf(scope)
                L.add(1, "let %s: f64 = xs.iter().zip(xs.iter().rev()).map(|(a, b)| a * b * %s).sum();" % (v, c),
                      "let %s = xs.iter().zip(xs.iter().rev()).map(|(a, b)| &(a * b) * &%s).fold(Tensor::scalar(0.0), |s, t| &s + &t);" % (v, dc))
                scope.append(v)
            elif kind == "match_value":
                v = new_var()
                scrut = rng.choice(["n % 3", "n", "n % 4", "(n + 1) % 3", "n * 2"])
                self.match_value(L, 1, v, scrut, scope, [], new_id)
                scope.append(v)
            elif kind == "match_stmt":
                v = new_var()
                e, de = self.expr(scope, 2, [])
                L.add(1, "let mut %s = %s;" % (v, e), "let mut %s = %s;" % (v, de))
                scope.append(v)
                scrut = rng.choice(["n % 3", "n", "n % 4", "(n + 1) % 3"])
                self.match_stmt(L, 1, v, scrut, scope, [], new_id)
            elif kind == "guard":
                # An early `return` at the top level, sometimes with an `else if`.
                cs, cd = self.cond(scope, None)
                L.add(1, "if %s {" % cs, "if %s {" % cd)
                self.ret(L, 2, scope, [])
                if rng.random() < 0.3:
                    cs, cd = self.cond(scope, None)
                    L.add(1, "} else if %s {" % cs, "} else if %s {" % cd)
                    self.ret(L, 2, scope, [])
                L.add(1, "}")
            else:
                # `if let`, `let .. else` and `while let` on an `Option<usize>`.
                kv = "k%d" % new_id()
                consts = ["(%s as f64)" % kv]
                form = rng.choice(["if_let", "let_else", "while_let"])
                off = rng.choice(["1", "2"])
                if form == "let_else":
                    L.add(1, "let Some(%s) = n.checked_sub(%s) else {" % (kv, off))
                    self.ret(L, 2, scope, [])
                    L.add(1, "};")
                    v = new_var()
                    e, de = self.expr(scope, 2, consts)
                    L.add(1, "let %s = %s;" % (v, e), "let %s = %s;" % (v, de))
                    scope.append(v)
                else:
                    v = new_var()
                    e, de = self.expr(scope, 2, [])
                    L.add(1, "let mut %s = %s;" % (v, e), "let mut %s = %s;" % (v, de))
                    scope.append(v)
                    if form == "if_let":
                        L.add(1, "if let Some(%s) = n.checked_sub(%s) {" % (kv, off))
                        self.update(L, 2, v, scope, consts)
                        L.add(1, "} else {")
                        self.update(L, 2, v, scope, [])
                        L.add(1, "}")
                    else:
                        left = "left%d" % new_id()
                        L.add(1, "let mut %s = Some(n);" % left)
                        L.add(1, "while let Some(%s) = %s {" % (kv, left))
                        self.update(L, 2, v, scope, consts)
                        L.add(2, "%s = %s.checked_sub(%s);" % (left, kv, off))
                        L.add(1, "}")
        # The tail reads the last variable so that every statement can matter.
        tail, dtail = self.expr(scope, 2, [])
        last = scope[-1]
        if flavor == "seq":
            L.add(1, "(%s + %s + xs[xs.len() - 1] * 0.5)" % (tail, last),
                  "(&(&%s + &%s.clone()) + &(&xs[xs.len() - 1] * 0.5))" % (dtail, last))
        else:
            L.add(1, "(%s + %s)" % (tail, last), "(&%s + &%s.clone())" % (dtail, last))
        dyn_params = ", ".join("%s: &Tensor" % p for p in params)
        clones = "".join("    let %s = %s.clone();\n" % (p, p) for p in params)
        if flavor == "plain" and self.in_generic:
            # The same body over `T: Real`: literals are values of `T`, integer counters
            # enter through `T::c(i as f64)`, closures take a `T`.
            name = "rp_%03d" % k
            self.generic.add(name)
            body = "\n".join(L.s)
            body = re.sub(r"\((\w+) as f64\)", r"T::c(\1 as f64)", body).replace(": f64|", ": T|")
            sig_params = ", ".join("%s: T" % p for p in params)
            static = "#[differentiable(wrt(%s))]\npub fn %s<T: Real>(%s, n: usize) -> T {\n%s\n}\n" % (
                ", ".join(params), name, sig_params, body)
        elif flavor == "plain":
            name = "rp_%03d" % k
            sig_params = ", ".join("%s: f64" % p for p in params)
            static = "#[differentiable(wrt(%s))]\npub fn %s(%s, n: usize) -> f64 {\n%s\n}\n" % (
                ", ".join(params), name, sig_params, "\n".join(L.s))
        elif flavor == "seq":
            name = "rps_%03d" % k
            arity = slen + 1
            static = "#[differentiable(wrt(xs, x0))]\npub fn %s(xs: &[f64], x0: f64, n: usize) -> f64 {\n%s\n}\n" % (
                name, "\n".join(L.s))
            dyn_params = "xs: &[Tensor], " + dyn_params
        else:
            name = "rpo_%03d" % k
            arity = 3
            ty = "Rpo%03d" % k
            body = re.sub(r"\b(sa|sb)\b", r"self.\1", "\n".join(L.s))
            static = (
                "#[derive(Clone, Debug, Tangent)]\npub struct %s {\n    pub sa: f64,\n    pub sb: f64,\n}\n\n"
                "#[differentiable]\nimpl %s {\n    #[differentiable(wrt(self, x0))]\n"
                "    pub fn eval(&self, x0: f64, n: usize) -> f64 {\n%s\n    }\n}\n" % (ty, ty, body)
            )
        dynamic = "pub fn %s_dyn(%s, n: usize) -> Tensor {\n%s%s\n}\n" % (
            name,
            dyn_params,
            clones,
            "\n".join(L.d),
        )
        if flavor == "plain":
            self.programs.append((name, arity, static, dynamic))
        else:
            self.extra.append((flavor, name, arity, static, dynamic))


class Lines:
    """A program's statement lines, for the static engine (`s`) and the dynamic one (`d`)."""

    def __init__(self):
        self.s, self.d = [], []

    def add(self, ind, s, d=None):
        pad = "    " * ind
        self.s.append(pad + s)
        self.d.append(pad + (s if d is None else d))


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
    ap.add_argument("--count", type=int, default=220)
    ap.add_argument("--matrix-count", type=int, default=40)
    ap.add_argument("--seq-count", type=int, default=30)
    ap.add_argument("--method-count", type=int, default=20)
    args = ap.parse_args()
    g = Gen(random.Random(args.seed))
    for k in range(args.count):
        g.program(k)
    sg = Gen(random.Random(args.seed + 2_000_003))
    sg.programs = g.programs
    for k in range(args.seq_count):
        sg.program(k, "seq")
    for k in range(args.method_count):
        sg.program(k, "method")
    mg = MatrixGen(random.Random(args.seed + 1_000_003), Gen(random.Random(args.seed + 7)))
    for k in range(args.matrix_count):
        mg.program(k)
    out = []
    out.append(
        "//! Random `#[differentiable]` programs, checked against central finite differences,\n"
        "//! their own `_vjp`, and the dynamic engine.\n"
        "//!\n"
        "//! GENERATED by `python3 tools/gen_random_programs.py --seed %d --count %d --matrix-count %d\n"
        "//! --seq-count %d --method-count %d`; do not edit.\n"
        "//! Regenerate with any seed and count (see the script's doc), run with\n"
        "//! `cargo test --test random_programs --test random_programs_2 -- --nocapture`\n"
        "//! (prints the counts).\n"
        "#![allow(clippy::all, unused_parens, unused_mut, unused_variables, unused_assignments)]\n"
        "\n"
        "#[path = \"random_programs/support.rs\"]\n"
        "mod support;\n"
        "\n"
        "use autodiff::dynamic::Tensor;\n"
        "use autodiff::nalgebra::{DMatrix, RowDVector};\n"
        "use autodiff::prelude::*;\n"
        "use support::Checker;\n" % (args.seed, args.count, args.matrix_count, args.seq_count, args.method_count)
    )
    for name, arity, static, dynamic in g.programs:
        out.append(static)
        out.append(dynamic)
    for flavor, name, arity, static, dynamic in sg.extra:
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
    for flavor, name, arity, static, dynamic in sg.extra:
        out.append("    c.check::<%d>(" % arity)
        out.append("        %s," % rust_string(static))
        if flavor == "seq":
            s_ = arity - 1
            out.append("        |x, n| %s(&x[..%d], x[%d], n)," % (name, s_, s_))
            gs = ", ".join(["g.xs[%d]" % i for i in range(s_)] + ["g.x0"])
            out.append("        |x, n| { let (v, g) = %s_grad(&x[..%d], x[%d], n); (v, [%s]) }," % (name, s_, s_, gs))
            out.append("        |x, n, d| { let (v, g) = %s_vjp(&x[..%d], x[%d], n, d); (v, [%s]) }," % (name, s_, s_, gs))
            out.append("        |t, n| %s_dyn(&t[..%d], &t[%d], n)," % (name, s_, s_))
        else:
            ty = "Rpo%s" % name[4:]
            obj = "%s { sa: x[0], sb: x[1] }" % ty
            gs = "g.self_.sa, g.self_.sb, g.x0"
            out.append("        |x, n| %s.eval(x[2], n)," % obj)
            out.append("        |x, n| { let (v, g) = %s.eval_grad(x[2], n); (v, [%s]) }," % (obj, gs))
            out.append("        |x, n, d| { let (v, g) = %s.eval_vjp(x[2], n, d); (v, [%s]) }," % (obj, gs))
            out.append("        |t, n| %s_dyn(&t[0], &t[1], &t[2], n)," % name)
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
