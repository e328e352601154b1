//! The one table of operations of `autodiff`: each op is one row, read by the macro
//! compiler (which syntax names it, whether it fuses, what its result's shape is) and by
//! the runtime (its derivative rule, its PyTorch name, its `Tensor` method).
//!
//! The rows are an X-macro, [`for_each_op!`], so that the formulas of an elementwise
//! rule sit in its row and are compiled where the runtime expands them. This crate
//! expands the same rows into [`OPS`], a table of [`OpInfo`] that a program can read:
//!
//! ```
//! use autodiff_ops::{OpId, Reads};
//!
//! let exp = OpId::Exp.info();
//! assert_eq!(exp.name, "exp");
//! assert_eq!(exp.torch, "ExpBackward0");
//! assert_eq!(exp.reads, Reads::Output); // a tape keeps `e^x`, not `x`
//! assert!(exp.fuses);
//! assert_eq!(autodiff_ops::method("atan2"), Some(OpId::Atan2));
//! ```
//!
//! Adding an op is one row (and its rows in `docs/singular_points.md`); see
//! `CONTRIBUTING.md` for a worked example.

#![forbid(unsafe_code)]

pub mod table;

/// How user code names an op.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Syntax {
    /// A method: `x.exp()`, `a.powf(b)`, `m.transpose()`.
    Method,
    /// A function of the prelude: `relu(x)`, `cross_entropy(logits, labels)`.
    Function,
    /// An operator: `-x`, `a + b`.
    Operator,
    /// Written by the compiler only (`v[i]`, the matrix product).
    Internal,
}

/// How many operands an op takes, and how.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arity {
    /// `f(x)`.
    Unary,
    /// `f(x)` with a run-time constant that parameterises the rule (`powi(n)`, `v[i]`).
    UnaryParam,
    /// `x.f(a, ..)` whose rule is built from the method's arguments and const generics as
    /// written, all run-time constants (`m.rows(i, n)`, `m.fixed_view::<2, 2>(i, j)`).
    UnaryParams,
    /// `f(a, b)`.
    Binary,
    /// `f(a, b, c)`: every operand may be differentiated (`clamp`, `mul_add`).
    Ternary,
}

/// What an op does to shapes: the property the compiler's passes reason about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Elementwise: the result has the operands' (broadcast) shape.
    Elementwise,
    /// Elementwise on two matrices of one shape (`component_mul`): a matrix result.
    Componentwise,
    /// Reduces to a scalar (`sum`, `dot`, `mse`, `v[i]`).
    Reduce,
    /// A matrix result of another shape or a row-wise map (`transpose`, `softmax`).
    Reshape,
    /// The matrix product.
    Product,
}

/// What a derivative rule reads besides the incoming gradient: the values a tape must
/// keep for the backward pass (dfdx's `DF_USES_FX`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reads {
    /// Neither: the derivative is a constant (`-x`, `a + b`).
    Nothing,
    /// The inputs only (`sin`: `cos x`).
    Input,
    /// The output only (`exp`: `e^x`; `tanh`: `1 - y^2`).
    Output,
    /// Inputs and output (`powf`, `hypot`).
    Both,
}

/// Which section of the table a row is in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Section {
    /// An elementwise function of one argument, its rule in the row.
    Unary,
    /// An elementwise function of two arguments, its rule in the row.
    Binary,
    /// An elementwise function with a run-time parameter; rule by hand.
    Param,
    /// Anything else; rule by hand.
    Structural,
}

/// One row of the table, as data.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    /// Which op.
    pub id: OpId,
    /// The marker type's name in the runtime's `rules` (`"Exp"`).
    pub marker: &'static str,
    /// The name users write (`"exp"`; `"add"` for `+`, `"neg"` for unary `-`).
    pub name: &'static str,
    /// How users write it.
    pub syntax: Syntax,
    /// Its operands.
    pub arity: Arity,
    /// What it does to shapes.
    pub kind: Kind,
    /// The table section.
    pub section: Section,
    /// The name of PyTorch's backward node (`"ExpBackward0"`).
    pub torch: &'static str,
    /// Whether the macro may fuse it into an elementwise loop (the componentwise
    /// products always; arithmetic between matrices through them).
    pub fuses: bool,
    /// What its derivative reads (for the elementwise sections; `Both` otherwise).
    pub reads: Reads,
    /// Whether a whole buffer goes through a vectorized kernel.
    pub simd: bool,
    /// For the elementwise rows: an interval where the function is smooth (away from
    /// 0), where the per-op checks sample inputs.
    pub smooth: Option<(f64, f64)>,
    /// One line of documentation: the function and its derivative.
    pub doc: &'static str,
}

impl OpInfo {
    /// Whether the op is computed one element at a time (a fused loop's candidate).
    pub fn is_elementwise(&self) -> bool {
        self.kind == Kind::Elementwise
    }
    /// Whether the result is a scalar whatever the operands.
    pub fn reduces(&self) -> bool {
        self.kind == Kind::Reduce
    }
    /// How a user writes it, for docs and messages: `` `x.exp()` ``, `` `relu(x)` ``.
    pub fn usage(&self) -> String {
        let args = match self.arity {
            Arity::Unary => "",
            Arity::UnaryParam => "n",
            Arity::UnaryParams => "..",
            Arity::Binary => "b",
            Arity::Ternary => "b, c",
        };
        match (self.syntax, self.arity) {
            _ if self.id == OpId::Clamp => "x.clamp(lo, hi)".into(),
            (Syntax::Operator, _) => match self.name {
                "neg" => "-x".into(),
                "add" => "a + b".into(),
                "sub" => "a - b".into(),
                "mul" => "a * b".into(),
                "div" => "a / b".into(),
                other => other.into(),
            },
            (Syntax::Function, Arity::Binary) => format!("{}(a, b)", self.name),
            (Syntax::Function, _) => format!("{}(x)", self.name),
            (_, Arity::Binary | Arity::Ternary) => format!("a.{}({args})", self.name),
            (_, Arity::UnaryParam) if self.id == OpId::PowI => "x.powi(n)".into(),
            // The views, as nalgebra writes them (the macro reads their arguments from here).
            (_, Arity::UnaryParams) => match self.name {
                "rows" => "m.rows(i, n)".into(),
                "columns" => "m.columns(j, n)".into(),
                "fixed_rows" => "m.fixed_rows::<N>(i)".into(),
                "fixed_columns" => "m.fixed_columns::<N>(j)".into(),
                "view" => "m.view((i, j), (r, c))".into(),
                "fixed_view" => "m.fixed_view::<R, C>(i, j)".into(),
                "column" => "m.column(j)".into(),
                name => format!("m.{name}(i)"),
            },
            (Syntax::Internal, _) => self.name.into(),
            _ => format!("x.{}({args})", self.name),
        }
    }
}

macro_rules! define_table {
    (
        unary: [$({ $u:ident, $usyn:ident $uname:ident, $utorch:literal, reads $ureads:ident,
                   fuses $ufuses:literal, simd $usimd:literal, smooth ($ulo:literal, $uhi:literal), $udoc:literal, $($urest:tt)* }),* $(,)?],
        binary: [$({ $b:ident, $bsyn:ident $bname:ident, $btorch:literal, reads $breads:ident,
                    fuses $bfuses:literal, tensor $btensor:tt, smooth ($blo:literal, $bhi:literal), $bdoc:literal, $($brest:tt)* }),* $(,)?],
        param: [$({ $p:ident, $psyn:ident $pname:ident, $ptorch:literal, reads $preads:ident,
                   fuses $pfuses:literal, $pdoc:literal }),* $(,)?],
        structural: [$({ $s:ident, $ssyn:ident $sname:ident, $storch:literal, $sarity:ident,
                        $skind:ident, $sdoc:literal }),* $(,)?],
    ) => {
        /// Every op of the table, by the name of its runtime marker type.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum OpId {
            $(#[doc = $udoc] $u,)*
            $(#[doc = $bdoc] $b,)*
            $(#[doc = $pdoc] $p,)*
            $(#[doc = $sdoc] $s,)*
        }

        /// Every row, in table order ([`OpId`] as `usize` indexes it).
        pub const OPS: &[OpInfo] = &[
            $(OpInfo {
                id: OpId::$u, marker: stringify!($u), name: stringify!($uname),
                syntax: syntax!($usyn), arity: Arity::Unary, kind: Kind::Elementwise,
                section: Section::Unary, torch: $utorch, fuses: $ufuses,
                reads: Reads::$ureads, simd: $usimd, smooth: Some(($ulo, $uhi)), doc: $udoc,
            },)*
            $(OpInfo {
                id: OpId::$b, marker: stringify!($b), name: stringify!($bname),
                syntax: syntax!($bsyn), arity: Arity::Binary, kind: Kind::Elementwise,
                section: Section::Binary, torch: $btorch, fuses: $bfuses,
                reads: Reads::$breads, simd: false, smooth: Some(($blo, $bhi)), doc: $bdoc,
            },)*
            $(OpInfo {
                id: OpId::$p, marker: stringify!($p), name: stringify!($pname),
                syntax: syntax!($psyn), arity: Arity::UnaryParam, kind: Kind::Elementwise,
                section: Section::Param, torch: $ptorch, fuses: $pfuses,
                reads: Reads::$preads, simd: false, smooth: None, doc: $pdoc,
            },)*
            $(OpInfo {
                id: OpId::$s, marker: stringify!($s), name: stringify!($sname),
                syntax: syntax!($ssyn), arity: Arity::$sarity, kind: Kind::$skind,
                section: Section::Structural, torch: $storch,
                fuses: matches!(Kind::$skind, Kind::Componentwise),
                reads: Reads::Both, simd: false, smooth: None, doc: $sdoc,
            },)*
        ];
    };
}

macro_rules! syntax {
    (method) => {
        Syntax::Method
    };
    (function) => {
        Syntax::Function
    };
    (operator) => {
        Syntax::Operator
    };
    (internal) => {
        Syntax::Internal
    };
}

for_each_op!(define_table);

impl OpId {
    /// The row of this op.
    pub fn info(self) -> &'static OpInfo {
        &OPS[self as usize]
    }
}

fn find(syntax: Syntax, name: &str) -> Option<OpId> {
    OPS.iter()
        .find(|op| op.syntax == syntax && op.name == name)
        .map(|op| op.id)
}

/// The op a method name denotes (`"exp"`, `"powf"`, `"dot"`).
pub fn method(name: &str) -> Option<OpId> {
    find(Syntax::Method, name)
}

/// The op a prelude function denotes (`"relu"`, `"cross_entropy"`).
pub fn function(name: &str) -> Option<OpId> {
    find(Syntax::Function, name)
}

/// The op an operator denotes (`"add"`, `"sub"`, `"mul"`, `"div"`, `"neg"`).
pub fn operator(name: &str) -> Option<OpId> {
    find(Syntax::Operator, name)
}

/// The table as Markdown, one row an op a user can write: the form, what it computes,
/// PyTorch's backward name and whether it fuses. The README and the rustdoc show it.
pub fn markdown_table() -> String {
    let mut s =
        String::from("| op | computes | PyTorch backward | fused |\n| --- | --- | --- | --- |\n");
    for op in OPS.iter().filter(|op| op.syntax != Syntax::Internal) {
        s.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            op.usage(),
            op.doc.replace('|', "\\|"),
            op.torch,
            if op.fuses { "yes" } else { "no" }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_index_the_table() {
        for (k, op) in OPS.iter().enumerate() {
            assert_eq!(op.id as usize, k, "{}", op.marker);
            assert_eq!(op.id.info().marker, op.marker);
        }
    }

    #[test]
    fn names_are_unique_per_syntax() {
        for a in OPS {
            for b in OPS {
                if a.id != b.id && a.syntax != Syntax::Internal {
                    assert!(
                        a.syntax != b.syntax || a.name != b.name,
                        "{} and {} are both `{}`",
                        a.marker,
                        b.marker,
                        a.name
                    );
                }
            }
        }
    }

    #[test]
    fn lookups_find_rows() {
        assert_eq!(method("exp"), Some(OpId::Exp));
        assert_eq!(function("relu"), Some(OpId::Relu));
        assert_eq!(operator("mul"), Some(OpId::Mul));
        assert_eq!(method("relu"), None);
        assert_eq!(OpId::Tanh.info().reads, Reads::Output);
        assert_eq!(OpId::Sin.info().reads, Reads::Input);
        assert_eq!(OpId::Clamp.info().usage(), "x.clamp(lo, hi)");
        assert_eq!(OpId::MulAdd.info().usage(), "a.mul_add(b, c)");
        assert_eq!(OpId::Row.info().usage(), "m.row(i)");
        assert_eq!(OpId::FixedView.info().usage(), "m.fixed_view::<R, C>(i, j)");
        for op in OPS.iter().filter(|op| op.arity == Arity::UnaryParams) {
            assert!(
                op.usage()
                    .starts_with(&format!("m.{}(", op.name).replace('(', ""))
                    && op.usage().ends_with(')'),
                "{}",
                op.marker
            );
        }
    }

    #[test]
    fn every_user_op_is_in_the_markdown_table() {
        let t = markdown_table();
        for op in OPS.iter().filter(|op| op.syntax != Syntax::Internal) {
            assert!(t.contains(&format!("`{}`", op.usage())), "{}", op.marker);
        }
    }
}
