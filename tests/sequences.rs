use autodiff::prelude::*;

#[differentiable]
fn dot3(x: &[f64], w: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * w[i];
    }
    s * x[0]
}

#[differentiable(wrt(v))]
fn sumsq(v: Vec<f64>, k: usize) -> f64 {
    v[k] * v[k] + v[0]
}

#[test]
fn t() {
    let x = [1.0, 2.0, 3.0];
    let (v, g) = dot3_grad(&x, [0.5, 0.25, 2.0]);
    assert_eq!(v, 7.0);
    println!("{:?} {:?}", g.x, g.w);
    let (_, g) = sumsq_grad(vec![1.0, 2.0], 1);
    assert_eq!(g.v, vec![1.0, 4.0]);
}

#[differentiable]
fn chains(x: &[f64], y: &Vec<f64>, s: f64) -> f64 {
    let d: f64 = x.iter().zip(y.iter()).map(|(a, b)| a * b * s).sum();
    let p = x.iter().map(|v| v + 1.0).product::<f64>();
    let f = y.iter().fold(0.0, |acc, v| acc * 0.5 + v * s);
    let mut t = 0.0;
    for (i, &v) in x.iter().enumerate() {
        t += v * (i as f64);
    }
    for v in y {
        t += v * v;
    }
    let r: f64 = (0..x.len()).map(|j| x[j] * y[j]).sum();
    d + p + f + t + r
}

#[differentiable]
fn chains32(x: &[f32], s: f32) -> f32 {
    x.iter().map(|v| v * s).sum::<f32>() + x.iter().copied().fold(1.0, |a, v| a * v)
}

#[test]
fn chain_fd() {
    let x = vec![0.3, -0.7, 1.1];
    let y = vec![0.9, 0.4, -0.2];
    let s = 1.3;
    let (v, g) = chains_grad(&x, &y, s);
    assert!((v - chains(&x, &y, s)).abs() < 1e-12);
    let h = 1e-6;
    for k in 0..3 {
        let mut xp = x.clone();
        xp[k] += h;
        let mut xm = x.clone();
        xm[k] -= h;
        let fd = (chains(&xp, &y, s) - chains(&xm, &y, s)) / (2.0 * h);
        assert!((g.x[k] - fd).abs() < 1e-6, "x{k}: {} {fd}", g.x[k]);
        let mut yp = y.clone();
        yp[k] += h;
        let mut ym = y.clone();
        ym[k] -= h;
        let fd = (chains(&x, &yp, s) - chains(&x, &ym, s)) / (2.0 * h);
        assert!((g.y[k] - fd).abs() < 1e-6, "y{k}: {} {fd}", g.y[k]);
    }
    let fd = (chains(&x, &y, s + h) - chains(&x, &y, s - h)) / (2.0 * h);
    assert!((g.s - fd).abs() < 1e-6);
    let (_, g) = chains32_grad(&[1.0, 2.0], 3.0);
    assert_eq!(g.x, vec![3.0 + 2.0, 3.0 + 1.0]);
    assert_eq!(g.s, 3.0);
}
