//! Unary elementwise rules: `y = f(x)` and `dy/dx = df(x, y)`.

use super::Real;
use crate::simd::{self, FloatLanes};

/// A unary elementwise function and its derivative.
///
/// `df` receives both the input and the output, so rules whose derivative is cheapest
/// in terms of the output (`exp`, `tanh`, `sigmoid`) reuse it instead of recomputing.
///
/// `Send + Sync` because long loops over a rule run on several threads
/// ([`crate::threads`]).
pub trait ElementwiseRule: Copy + Send + Sync {
    /// The name of PyTorch's backward node for this op (`"ExpBackward0"`).
    const TORCH_NAME: &'static str;
    /// `f(x)`.
    fn f<T: Real>(self, x: T) -> T;
    /// `f'(x)`, given `x` and `y = f(x)`.
    fn df<T: Real>(self, x: T, y: T) -> T;
    /// Whether [`Self::f_in_place`] runs [`Self::f_lanes`] over whole buffers (the rules
    /// whose lanes are the vector math of [`crate::simd`]).
    const SIMD: bool = false;
    /// What `df` reads besides the gradient (the row's `reads`): a tape keeps only that.
    const READS: autodiff_ops::Reads = autodiff_ops::Reads::Both;
    /// `f` on lanes (four `f64` or eight `f32`) at once, for fused loops. The default
    /// applies [`Self::f`] lane by lane; rules override it with the vector math of
    /// [`crate::simd`] or with the same formula written on lanes, which rounds exactly as
    /// the scalar one.
    #[inline(always)]
    fn f_lanes<V: FloatLanes>(self, x: V) -> V {
        x.map(|v| self.f(v))
    }
    /// `f'` on lanes, given `x` and `y = f(x)` (default: [`Self::df`] lane by lane).
    #[inline(always)]
    fn df_lanes<V: FloatLanes>(self, x: V, y: V) -> V {
        x.zip_map(y, |x, y| self.df(x, y))
    }
    /// `x[i] = f(x[i])` for every element: one vectorized pass of [`Self::f_lanes`] where
    /// the rule is [`Self::SIMD`], else a scalar loop; long slices split across threads
    /// ([`crate::threads`]), which changes no element.
    #[inline]
    fn f_in_place<T: Real>(self, x: &mut [T]) {
        if Self::SIMD {
            T::lanes_in_place(self, x)
        } else {
            crate::threads::for_chunks_mut(x, 1, |_, x| x.iter_mut().for_each(|v| *v = self.f(*v)))
        }
    }
}

/// Expands the table's rows (`autodiff_ops::for_each_op!`) into the rule types: for
/// each unary row a marker type with its [`ElementwiseRule`] and [`super::OpName`], for
/// each binary row a [`super::BinaryRule`], and [`super::OpName`] for the rows whose rules
/// are written by hand (the `param` and `structural` sections).
macro_rules! rules_from_table {
    (
        unary: [$({ $u:ident, $usyn:ident $uname:ident, $utorch:literal, reads $ureads:ident,
                   fuses $ufuses:literal, simd $usimd:literal, smooth ($ulo:literal, $uhi:literal), $udoc:literal,
                   |$x:ident| $f:expr, |$dx:ident, $y:ident| $df:expr
                   $(, lanes |$lx:ident| $lf:expr, |$ldx:ident, $ly:ident| $ldf:expr)? $(,)? }),* $(,)?],
        binary: [$({ $b:ident, $bsyn:ident $bname:ident, $btorch:literal, reads $breads:ident,
                    fuses $bfuses:literal, tensor $btensor:tt, smooth ($blo:literal, $bhi:literal), $bdoc:literal,
                    |$a:ident, $bb:ident| $bf:expr, |$da_a:ident, $da_b:ident, $da_y:ident| $da:expr,
                    |$db_a:ident, $db_b:ident, $db_y:ident| $db:expr
                    $(, lanes |$la:ident, $lb:ident| $lbf:expr,
                       |$lda_a:ident, $lda_b:ident, $lda_y:ident| $lda:expr,
                       |$ldb_a:ident, $ldb_b:ident, $ldb_y:ident| $ldb:expr)? $(,)? }),* $(,)?],
        param: [$({ $p:ident, $psyn:ident $pname:ident, $ptorch:literal, reads $preads:ident,
                   fuses $pfuses:literal, $pdoc:literal }),* $(,)?],
        structural: [$({ $s:ident, $ssyn:ident $sname:ident, $storch:literal, $sarity:ident,
                        $skind:ident, $sdoc:literal }),* $(,)?],
    ) => {
        $(
            #[doc = $udoc]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
            pub struct $u;

            impl super::OpName for $u {
                const TORCH_NAME: &'static str = $utorch;
            }

            impl ElementwiseRule for $u {
                const TORCH_NAME: &'static str = $utorch;
                const SIMD: bool = $usimd;
                const READS: autodiff_ops::Reads = autodiff_ops::Reads::$ureads;
                #[inline(always)]
                fn f<T: Real>(self, $x: T) -> T {
                    $f
                }
                #[inline(always)]
                #[allow(unused_variables)]
                fn df<T: Real>(self, $dx: T, $y: T) -> T {
                    $df
                }
                $(
                    #[inline(always)]
                    fn f_lanes<V: FloatLanes>(self, $lx: V) -> V {
                        $lf
                    }
                    #[inline(always)]
                    #[allow(unused_variables)]
                    fn df_lanes<V: FloatLanes>(self, $ldx: V, $ly: V) -> V {
                        $ldf
                    }
                )?
            }
        )*
        $(
            #[doc = $bdoc]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
            pub struct $b;

            impl super::OpName for $b {
                const TORCH_NAME: &'static str = $btorch;
            }

            impl super::BinaryRule for $b {
                const TORCH_NAME: &'static str = $btorch;
                const READS: autodiff_ops::Reads = autodiff_ops::Reads::$breads;
                #[inline(always)]
                fn f<T: Real>(self, $a: T, $bb: T) -> T {
                    $bf
                }
                #[inline(always)]
                #[allow(unused_variables)]
                fn da<T: Real>(self, $da_a: T, $da_b: T, $da_y: T) -> T {
                    $da
                }
                #[inline(always)]
                #[allow(unused_variables)]
                fn db<T: Real>(self, $db_a: T, $db_b: T, $db_y: T) -> T {
                    $db
                }
                $(
                    #[inline(always)]
                    fn f_lanes<V: FloatLanes>(self, $la: V, $lb: V) -> V {
                        $lbf
                    }
                    #[inline(always)]
                    #[allow(unused_variables)]
                    fn da_lanes<V: FloatLanes>(self, $lda_a: V, $lda_b: V, $lda_y: V) -> V {
                        $lda
                    }
                    #[inline(always)]
                    #[allow(unused_variables)]
                    fn db_lanes<V: FloatLanes>(self, $ldb_a: V, $ldb_b: V, $ldb_y: V) -> V {
                        $ldb
                    }
                )?
            }
        )*
        $(
            impl super::OpName for $p {
                const TORCH_NAME: &'static str = $ptorch;
            }
        )*
        $(structural_op_name!($s, $storch);)*
    };
}

/// `OpName` for a structural row's marker; the markers generic over a static size
/// (`FixedRows<N>`) have theirs beside their rules (`rules/views.rs`).
macro_rules! structural_op_name {
    (FixedRows, $torch:literal) => {};
    (FixedColumns, $torch:literal) => {};
    (FixedView, $torch:literal) => {};
    ($s:ident, $torch:literal) => {
        impl super::OpName for super::$s {
            const TORCH_NAME: &'static str = $torch;
        }
    };
}

autodiff_ops::for_each_op!(rules_from_table);

/// `x^n` for an integer `n` known when the op runs; derivative `n x^(n-1)`, and 0 for `n = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowI(pub i32);

impl ElementwiseRule for PowI {
    const TORCH_NAME: &'static str = "PowBackward0";
    const READS: autodiff_ops::Reads = autodiff_ops::Reads::Input;
    #[inline(always)]
    fn f<T: Real>(self, x: T) -> T {
        num_traits::Float::powi(x, self.0)
    }
    #[inline(always)]
    fn df<T: Real>(self, x: T, _y: T) -> T {
        match self.0 {
            0 => T::zero(),
            1 => T::one(),
            2 => x + x,
            n => T::c(n as f64) * num_traits::Float::powi(x, n - 1),
        }
    }
    #[inline(always)]
    fn f_lanes<V: FloatLanes>(self, x: V) -> V {
        // `powi` of small exponents is repeated multiplication: the same rounding as
        // the scalar `powi` for 2 and 3 (checked against it in the tests).
        match self.0 {
            1 => x,
            2 => x * x,
            _ => x.map(|v| self.f(v)),
        }
    }
    #[inline(always)]
    fn df_lanes<V: FloatLanes>(self, x: V, y: V) -> V {
        match self.0 {
            0 => V::splat(0.0),
            1 => V::splat(1.0),
            2 => x + x,
            _ => x.zip_map(y, |x, y| self.df(x, y)),
        }
    }
}
