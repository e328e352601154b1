//! ADBench's GMM and BA objectives (`benches/workloads/adbench.rs`) on ADBench's bundled
//! data: the generated forward against the same code without the attribute (bit for bit),
//! the generated gradient against central differences, the hand-written GMM gradient and
//! the dynamic engine. Sizes cut for debug builds (the first points or observations).

#[path = "../benches/workloads/adbench.rs"]
#[allow(dead_code)] // the full-size drivers are for the bench
mod adbench;

use adbench::{Ba, Gmm, Lstm, BA1, BA_BLOCK_COLS, GMM_D10_K25, GMM_D2_K5, LSTM_L2_C1024};

/// Relative agreement with a floor of 1 on the scale.
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

fn assert_all_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w, tol), "{what}[{i}]: {g} vs {w}");
    }
}

/// Central differences of the GMM objective in every parameter, step `h` scaled by the
/// parameter.
fn gmm_fd(g: &Gmm) -> Vec<f64> {
    let mut out = Vec::new();
    let params = |g: &Gmm| [g.alphas.clone(), g.means.clone(), g.icf.clone()];
    for which in 0..3 {
        let len = params(g)[which].len();
        for i in 0..len {
            let at = |delta: f64| {
                let mut h = g.clone();
                let v = match which {
                    0 => &mut h.alphas,
                    1 => &mut h.means,
                    _ => &mut h.icf,
                };
                v[i] += delta;
                h.objective_plain()
            };
            let x = params(g)[which][i];
            let h = 1e-5 * x.abs().max(1.0);
            out.push((at(h) - at(-h)) / (2.0 * h));
        }
    }
    out
}

fn flat(g: &adbench::GmmGradient) -> Vec<f64> {
    [g.alphas.clone(), g.means.clone(), g.icf.clone()].concat()
}

#[test]
fn gmm_files_read_as_adbench_reads_them() {
    let g = Gmm::parse(GMM_D2_K5);
    assert_eq!((g.d, g.k, g.n), (2, 5, 1000));
    assert_eq!((g.alphas.len(), g.means.len(), g.icf.len()), (5, 10, 15));
    assert_eq!(g.x.len(), 2000);
    assert_eq!((g.gamma, g.m), (1.0, 0));
    assert_eq!(g.alphas[0], -0.649014);
    let g = Gmm::parse(GMM_D10_K25);
    assert_eq!((g.d, g.k, g.n, g.icf.len()), (10, 25, 1000, 55 * 25));
}

#[test]
fn ln_gamma_at_integers_and_half_integers() {
    // Gamma(5) = 24, Gamma(1/2) = sqrt(pi), Gamma(7/2) = 15 sqrt(pi) / 8.
    let pi = std::f64::consts::PI;
    assert!(close(
        adbench::ln_gamma_half_integer(5.0),
        24f64.ln(),
        1e-15
    ));
    assert!(close(
        adbench::ln_gamma_half_integer(0.5),
        0.5 * pi.ln(),
        1e-15
    ));
    assert!(close(
        adbench::ln_gamma_half_integer(3.5),
        (15.0 * pi.sqrt() / 8.0).ln(),
        1e-14
    ));
    assert_eq!(adbench::ln_gamma_half_integer(1.0), 0.0);
}

#[test]
fn gmm_forward_is_the_plain_code_bit_for_bit() {
    for text in [GMM_D2_K5, GMM_D10_K25] {
        let g = Gmm::parse(text).first_points(40);
        assert_eq!(g.objective().to_bits(), g.objective_plain().to_bits());
    }
}

#[test]
fn gmm_d2_k5_gradient_matches_central_differences_and_handwritten() {
    let g = Gmm::parse(GMM_D2_K5).first_points(50);
    let (v, grad) = g.gradient();
    assert_eq!(v.to_bits(), g.objective_plain().to_bits());
    assert_all_close("static vs fd", &flat(&grad), &gmm_fd(&g), 1e-6);
    let (vh, hand) = g.gradient_handwritten();
    assert!(close(v, vh, 1e-13), "{v} vs {vh}");
    assert_all_close("static vs handwritten", &flat(&grad), &flat(&hand), 1e-12);
}

#[test]
fn gmm_d10_k25_gradient_matches_handwritten_and_dynamic() {
    let g = Gmm::parse(GMM_D10_K25).first_points(3);
    let (v, grad) = g.gradient();
    let (vh, hand) = g.gradient_handwritten();
    assert!(close(v, vh, 1e-13), "{v} vs {vh}");
    assert_all_close("static vs handwritten", &flat(&grad), &flat(&hand), 1e-12);
    let (vd, dynamic) = adbench::gmm_dynamic(&g);
    assert!(close(v, vd, 1e-13), "{v} vs {vd}");
    assert_all_close("static vs dynamic", &flat(&grad), &flat(&dynamic), 1e-12);
}

#[test]
fn gmm_d10_k25_gradient_matches_central_differences_on_one_point() {
    let g = Gmm::parse(GMM_D10_K25).first_points(1);
    let (_, grad) = g.gradient();
    assert_all_close("static vs fd", &flat(&grad), &gmm_fd(&g), 1e-6);
}

#[test]
fn ba_file_is_replicated_as_adbench_does() {
    let ba = Ba::parse(BA1);
    assert_eq!((ba.n, ba.m, ba.p), (49, 7776, 31843));
    assert_eq!(ba.cams.len(), 11 * 49);
    assert_eq!(&ba.obs[2 * 50..2 * 50 + 2], &[1, 50]);
    assert_eq!(ba.feats[2 * 31842], 271.760969);
}

#[test]
fn ba_forward_is_the_plain_code_bit_for_bit() {
    let ba = Ba::parse(BA1).first_observations(20);
    let (a, wa) = adbench::ba_objective(&ba);
    let (b, wb) = adbench::ba_objective_plain(&ba);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(bits(&wa), bits(&wb));
}

/// Central differences of observation `i`'s two residuals in its 15 inputs, laid out as
/// [`adbench::ba_jacobian`]'s block.
fn ba_block_fd(ba: &Ba, i: usize) -> Vec<f64> {
    let (cam, x, w, f) = ba.observation(i);
    let inputs: Vec<f64> = cam.iter().chain(x).copied().chain([w]).collect();
    let at = |v: &[f64]| adbench::ba_reproj_plain(&v[..11], &v[11..14], v[14], f[0], f[1]);
    let mut cols = Vec::new();
    for c in 0..BA_BLOCK_COLS {
        let h = 1e-6 * inputs[c].abs().max(1.0);
        let (mut up, mut down) = (inputs.clone(), inputs.clone());
        up[c] += h;
        down[c] -= h;
        let (u, d) = (at(&up), at(&down));
        cols.push(((u.0 - d.0) / (2.0 * h), (u.1 - d.1) / (2.0 * h)));
    }
    let mut block: Vec<f64> = cols.iter().map(|c| c.0).collect();
    block.extend(cols.iter().map(|c| c.1));
    block
}

#[test]
fn ba_jacobian_matches_central_differences_and_dynamic() {
    let ba = Ba::parse(BA1).first_observations(3);
    let jac = adbench::ba_jacobian(&ba);
    assert_eq!(jac.len(), 2 * BA_BLOCK_COLS * 3 + 3);
    for i in 0..3 {
        let block = &jac[2 * BA_BLOCK_COLS * i..2 * BA_BLOCK_COLS * (i + 1)];
        assert_all_close("static vs fd", block, &ba_block_fd(&ba, i), 1e-6);
    }
    assert_all_close(
        "static vs dynamic",
        &jac,
        &adbench::ba_jacobian_dynamic(&ba),
        1e-12,
    );
    assert_eq!(jac[2 * BA_BLOCK_COLS * 3], -2.0 * ba.w[0]);
}

#[test]
fn ba_zero_rotation_takes_the_small_angle_branch() {
    // With r = 0, ADBench's Rodrigues rotation is X + r x X: the rotation's derivative is
    // the cross-product matrix of -X, d(r x X)/dr = -[X]_x, which the branch still carries.
    let mut ba = Ba::parse(BA1).first_observations(1);
    ba.cams[..3].fill(0.0);
    let jac = adbench::ba_jacobian(&ba);
    assert_all_close(
        "static vs fd",
        &jac[..2 * BA_BLOCK_COLS],
        &ba_block_fd(&ba, 0),
        1e-6,
    );
    assert_all_close(
        "static vs dynamic",
        &jac,
        &adbench::ba_jacobian_dynamic(&ba),
        1e-12,
    );
}

/// The objective value and the sum of the squared gradient entries, on the full files,
/// from `benches/peers/jax_peer.py` (JAX 0.10.2, float64, `jax.value_and_grad`; for BA
/// the sum of squared residuals and of the squared Jacobian entries by `vmap(jacrev)`).
const JAX: [(&str, f64, f64); 4] = [
    ("gmm_d2_K5", -5240.590562549577, 1631211.3960611294),
    ("gmm_d10_K25", -25649.6526211973, 7088366.312270338),
    ("ba1", 478.4571487870844, 224563829032.87778),
    ("lstm_l2_c1024", 0.666665179558853, 0.008975929105992717),
];

fn sum_sq(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum()
}

#[test]
fn full_files_agree_with_jax_float64() {
    for (text, (name, value, grad_sq)) in [GMM_D2_K5, GMM_D10_K25].into_iter().zip(JAX) {
        let g = Gmm::parse(text);
        let (v, hand) = g.gradient_handwritten();
        assert!(close(v, value, 1e-12), "{name}: {v} vs JAX {value}");
        assert!(
            close(v, g.objective_plain(), 1e-13),
            "{name}: handwritten vs plain"
        );
        let sq = sum_sq(&flat(&hand));
        assert!(close(sq, grad_sq, 1e-11), "{name}: {sq} vs JAX {grad_sq}");
    }
    let (_, value, grad_sq) = JAX[2];
    let ba = Ba::parse(BA1);
    let (reproj, _) = adbench::ba_objective_plain(&ba);
    assert!(
        close(sum_sq(&reproj), value, 1e-12),
        "{} vs JAX {value}",
        sum_sq(&reproj)
    );
    let jac = adbench::ba_jacobian(&ba);
    assert!(
        close(sum_sq(&jac), grad_sq, 1e-11),
        "{} vs JAX {grad_sq}",
        sum_sq(&jac)
    );
}

#[test]
fn lstm_forward_is_the_plain_code_and_gradient_matches_central_differences() {
    let s = Lstm::parse(LSTM_L2_C1024);
    assert_eq!((s.l, s.c, s.b), (2, 1024, 14));
    let s = s.first_characters(4);
    assert_eq!(s.objective().to_bits(), s.objective_plain().to_bits());
    let (v, d_main, d_extra) = s.gradient();
    assert_eq!(v.to_bits(), s.objective_plain().to_bits());
    let fd = |params: &dyn Fn(&mut Lstm) -> &mut Vec<f64>, len: usize| -> Vec<f64> {
        (0..len)
            .map(|i| {
                let at = |delta: f64| {
                    let mut t = s.clone();
                    params(&mut t)[i] += delta;
                    t.objective_plain()
                };
                let h = 1e-6;
                (at(h) - at(-h)) / (2.0 * h)
            })
            .collect()
    };
    let fd_main = fd(&|t| &mut t.main_params, s.main_params.len());
    let fd_extra = fd(&|t| &mut t.extra_params, s.extra_params.len());
    assert_all_close("main vs fd", &d_main, &fd_main, 1e-7);
    assert_all_close("extra vs fd", &d_extra, &fd_extra, 1e-7);
    let (vd, dyn_main, dyn_extra) = adbench::lstm_dynamic(&s);
    assert!(close(v, vd, 1e-13), "{v} vs dynamic {vd}");
    assert_all_close("main vs dynamic", &d_main, &dyn_main, 1e-12);
    assert_all_close("extra vs dynamic", &d_extra, &dyn_extra, 1e-12);
}

/// What the GMM gradient saves for its reverse pass (`autodiff::tape::record_tape_sizes`):
/// the innermost loop (`qxcentered[j] += L[j, i] * xcentered[i]`, `n K d (d - 1) / 2`
/// iterations) saves at most three words per iteration (the factor's index, `xcentered[i]`
/// and the length of `qxcentered`; the factor itself is read again from the parameter, the
/// loop index is counted down by the reverse loop, the index write is undone from it, and
/// `xcentered`'s length is saved once where it is defined) and no tape holds a copy of a
/// vector. Run with `--nocapture` for the table.
#[test]
fn gmm_loops_save_a_few_words_per_iteration() {
    let g = Gmm::parse(GMM_D10_K25).first_points(3);
    let (_, sizes) = autodiff::tape::record_tape_sizes(|| g.gradient());
    let (d, k, n) = (g.d, g.k, g.n);
    let innermost = sizes.iter().max_by_key(|s| s.entries).unwrap();
    assert_eq!(innermost.entries, n * k * d * (d - 1) / 2);
    assert!(
        innermost.entry_bytes <= 3 * 8,
        "{} bytes per innermost iteration",
        innermost.entry_bytes
    );
    let total: usize = sizes.iter().map(|s| s.bytes()).sum();
    eprintln!(
        "GMM d{d} K{k}, {n} points: {} tapes, {total} bytes",
        sizes.len()
    );
    for s in &sizes {
        eprintln!("  {:>8} entries x {:>3} bytes", s.entries, s.entry_bytes);
    }
    // Per point and component, every tape together: a few words per element of the
    // d-vectors and per factor entry, not copies of the vectors per iteration.
    let per_pair = total / (n * k);
    assert!(
        per_pair <= 64 * d * d,
        "{per_pair} bytes per point and component"
    );
}
