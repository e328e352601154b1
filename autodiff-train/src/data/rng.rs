//! [`Rng`]: a small seeded random generator (SplitMix64) for shuffles and weight
//! initialisation. Not for cryptography.

use nalgebra::{DMatrix, RowDVector};

/// A deterministic random generator: the same seed gives the same numbers everywhere.
///
/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014), the generator Java's `SplittableRandom` uses and the usual seeder of
/// the xoshiro family.
///
/// ```
/// use autodiff_train::data::Rng;
/// let mut a = Rng::new(7);
/// let mut b = Rng::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let u = a.uniform();
/// assert!((0.0..1.0).contains(&u));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An integer in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for the
    /// sizes a data set has).
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0): the range 0..0 is empty");
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// A `rows x cols` matrix uniform in `[-bound, bound)`.
    pub fn uniform_matrix(&mut self, rows: usize, cols: usize, bound: f64) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |_, _| self.uniform_in(-bound, bound))
    }

    /// A `rows x cols` matrix of normal samples with standard deviation `std`.
    pub fn normal_matrix(&mut self, rows: usize, cols: usize, std: f64) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |_, _| std * self.normal())
    }

    /// The initial weight `fan_in x fan_out` and bias `1 x fan_out` of a dense layer
    /// `x * w + b`, as PyTorch's `nn.Linear` draws them: both uniform in
    /// `[-1/sqrt(fan_in), 1/sqrt(fan_in))`.
    pub fn linear_layer(
        &mut self,
        fan_in: usize,
        fan_out: usize,
    ) -> (DMatrix<f64>, RowDVector<f64>) {
        let bound = 1.0 / (fan_in as f64).sqrt();
        let w = self.uniform_matrix(fan_in, fan_out, bound);
        let b = RowDVector::from_fn(fan_out, |_, _| self.uniform_in(-bound, bound));
        (w, b)
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn splitmix64_reference_values() {
        // First outputs of SplitMix64 seeded with 1234567, from the reference C code
        // (Vigna, https://prng.di.unimi.it/splitmix64.c).
        let mut r = Rng::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
        assert_eq!(r.next_u64(), 9817491932198370423);
    }

    #[test]
    fn samples_have_the_right_moments() {
        let mut r = Rng::new(3);
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        let mut counts = [0usize; 5];
        for _ in 0..n {
            counts[r.below(5)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (c as f64 - 4000.0).abs() < 250.0),
            "{counts:?}"
        );
    }

    #[test]
    fn shuffles_are_permutations_fixed_by_the_seed() {
        let mut a: Vec<u32> = (0..50).collect();
        Rng::new(9).shuffle(&mut a);
        let mut b: Vec<u32> = (0..50).collect();
        Rng::new(9).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
        a.sort_unstable();
        assert_eq!(a, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn linear_layers_stay_within_torch_s_bound() {
        let (w, b) = Rng::new(1).linear_layer(16, 3);
        assert_eq!((w.shape(), b.len()), ((16, 3), 3));
        assert!(w.iter().chain(b.iter()).all(|x| x.abs() < 0.25));
    }
}
