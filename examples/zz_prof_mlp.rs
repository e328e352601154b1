#[path = "../benches/workloads/mlp.rs"]
#[allow(dead_code)]
mod workload;
use workload::*;
fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let m = Mlp::random(4, 16, 3, 1);
    let batch = Batch::random(150, 4, 3, 2);
    let mut ws = Workspace::new(&m, 150);
    let mut ws_simd = Workspace::new_simd(&m, 150);
    let mut grads = m.clone();
    let dynamic = DynamicMlp::new(&m);
    let xt = autodiff::dynamic::Tensor::from(batch.x.clone());
    let mut s = 0.0;
    for _ in 0..20000 {
        s += match which.as_str() {
            "static" => {
                let (v, g) = mlp_loss_grad(&m, &batch.x, &batch.labels);
                v + g.m.w1[0]
            }
            "hand" => ws.loss_grad(&m, &batch.x, &batch.labels, &mut grads),
            "simd" => ws_simd.loss_grad(&m, &batch.x, &batch.labels, &mut grads),
            "dynamic" => dynamic.loss_grad(&xt, &batch.labels).unwrap(),
            _ => panic!("which"),
        };
    }
    println!("{s}");
}
