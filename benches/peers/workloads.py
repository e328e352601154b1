"""The benchmark workloads' inputs, bit-identical to the Rust benches' (standard library only).

The Rust benches build their inputs with a linear congruential generator
(`benches/workloads/elementwise.rs::inputs`, `benches/workloads/mlp.rs::Lcg`):

    state = state * 6364136223846793005 + 1442695040888963407   (mod 2**64)
    value = (state >> 11) / 2**53 * 2 - 1                        (uniform in [-1, 1))

nalgebra's `from_fn` fills a matrix column by column, so every matrix here is returned in
column-major order with its shape; `to_numpy` turns one into a row-major array. Each step
of the conversion is exact (a 53-bit integer divided by a power of two), so the values are
the same bits as in Rust. `python3 workloads.py` prints the first values of each stream,
which `xtask`'s tests compare with the Rust generator.
"""

import math

_MASK = (1 << 64) - 1
_MUL = 6364136223846793005
_INC = 1442695040888963407

# The workloads, named by their criterion group. Seeds and sizes as in the Rust benches.
TUTORIAL = {"group": "scalar/tutorial_loss", "w": 1.0, "x": 2.0}
ELEMENTWISE = {"group": "elementwise/1000000", "n": 1_000_000, "seed": 7}
MLP = {"group": "mlp", "rows": 64, "inputs": 784, "hidden": 128, "classes": 10}
MLP_SMALL = {"group": "mlp_small", "rows": 150, "inputs": 4, "hidden": 16, "classes": 3}
TRAINING = {
    "group": "training/mlp_small_adam_1000",
    "steps": 1000,
    "lr": 0.01,
    "max_norm": 1.0,
    "model": MLP_SMALL,
}
# ADBench's objectives (benches/adbench.rs) on ADBench's files in data/adbench/.
ADBENCH_GMM = [
    {"group": "adbench/gmm_d2_K5", "file": "gmm_d2_K5.txt"},
    {"group": "adbench/gmm_d10_K25", "file": "gmm_d10_K25.txt"},
]
ADBENCH_BA = {"group": "adbench/ba1_n49_m7776_p31843", "file": "ba1_n49_m7776_p31843.txt"}
ADBENCH_LSTM = {"group": "adbench/lstm_l2_c1024", "file": "lstm_l2_c1024.txt"}
# `Mlp::random(.., 1)` and `Batch::random(.., 2)` in benches/mlp.rs and benches/training.rs.
MODEL_SEED = 1
BATCH_SEED = 2


class Lcg:
    """The Rust benches' generator of uniform numbers in [-1, 1)."""

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * _MUL + _INC) & _MASK
        return ((self.state >> 11) / 9007199254740992.0) * 2.0 - 1.0

    def matrix(self, rows, cols, scale):
        """A rows x cols matrix, filled column by column: (rows, cols, column-major list)."""
        return (rows, cols, [scale * self.next() for _ in range(rows * cols)])


def elementwise_inputs(n, seed):
    """`inputs(n, seed)`: the vectors a, b, x (plain lists of length n), in that order."""
    rng = Lcg(seed)
    a = [rng.next() for _ in range(n)]
    b = [rng.next() for _ in range(n)]
    x = [rng.next() for _ in range(n)]
    return a, b, x


def mlp_params(inputs, hidden, classes, seed=MODEL_SEED):
    """`Mlp::random`: w1 (inputs x hidden), b1 (1 x hidden), w2, b2, column-major."""
    rng = Lcg(seed)
    s1 = 1.0 / math.sqrt(inputs)
    s2 = 1.0 / math.sqrt(hidden)
    w1 = rng.matrix(inputs, hidden, s1)
    b1 = rng.matrix(1, hidden, s1)
    w2 = rng.matrix(hidden, classes, s2)
    b2 = rng.matrix(1, classes, s2)
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


def batch(rows, inputs, classes, seed=BATCH_SEED):
    """`Batch::random`: x (rows x inputs, column-major) and one label per row, the index of
    the largest of `classes` fixed random linear scores (the first one on a tie, as
    nalgebra's `argmax`)."""
    rng = Lcg(seed)
    x = rng.matrix(rows, inputs, 1.0)
    _, _, w = rng.matrix(inputs, classes, 1.0)
    xs = x[2]
    labels = []
    for i in range(rows):
        best, best_j = None, 0
        for j in range(classes):
            s = 0.0
            for k in range(inputs):
                s += xs[k * rows + i] * w[j * inputs + k]
            if best is None or s > best:
                best, best_j = s, j
        labels.append(best_j)
    return x, labels


def mlp_workload(spec):
    """Parameters and batch of an MLP workload spec (MLP or MLP_SMALL)."""
    params = mlp_params(spec["inputs"], spec["hidden"], spec["classes"])
    x, labels = batch(spec["rows"], spec["inputs"], spec["classes"])
    return params, x, labels


def to_numpy(matrix, np):
    """A (rows, cols, column-major list) matrix as a C-contiguous float64 numpy array."""
    rows, cols, data = matrix
    return np.ascontiguousarray(np.asarray(data, dtype=np.float64).reshape(cols, rows).T)


def adbench_path(name):
    """The path of a bundled ADBench file (data/adbench/, next to benches/)."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "data", "adbench", name)


def read_gmm(name):
    """ADBench's `read_gmm_instance` (no point replication): a dict of d, k, n, alphas
    (k), means (k lists of d), icf (k lists of d (d + 1) / 2), x (n lists of d), gamma, m."""
    with open(adbench_path(name)) as f:
        words = f.read().split()
    d, k, n = (int(w) for w in words[:3])
    pos = 3

    def take(count):
        nonlocal pos
        out = [float(w) for w in words[pos : pos + count]]
        pos += count
        return out

    def rows(count, width):
        return [take(width) for _ in range(count)]

    icf_sz = d * (d + 1) // 2
    alphas = take(k)
    means = rows(k, d)
    icf = rows(k, icf_sz)
    x = rows(n, d)
    gamma = float(words[pos])
    m = int(words[pos + 1])
    return {"d": d, "k": k, "n": n, "alphas": alphas, "means": means, "icf": icf, "x": x,
            "gamma": gamma, "m": m}


def read_ba(name):
    """ADBench's `read_ba_instance`: one camera, point, weight and feature replicated to
    n cameras, m points, p weights and features; observation i is camera i % n, point i % m.
    Returns cams (n lists of 11), x (m lists of 3), w (p), obs (p pairs), feats (p pairs)."""
    with open(adbench_path(name)) as f:
        words = f.read().split()
    n, m, p = (int(w) for w in words[:3])
    vals = [float(w) for w in words[3:]]
    cam, point, weight, feat = vals[:11], vals[11:14], vals[14], vals[15:17]
    return {
        "n": n, "m": m, "p": p,
        "cams": [list(cam) for _ in range(n)],
        "x": [list(point) for _ in range(m)],
        "w": [weight] * p,
        "obs": [(i % n, i % m) for i in range(p)],
        "feats": [list(feat) for _ in range(p)],
    }


def read_lstm(name):
    """ADBench's `read_lstm_instance`: l, c, b, main_params (8 l b), extra_params (3 b),
    state (2 l b), sequence (c b), flat lists."""
    with open(adbench_path(name)) as f:
        words = f.read().split()
    l, c, b = (int(w) for w in words[:3])
    vals = [float(w) for w in words[3:]]
    sizes = [8 * l * b, 3 * b, 2 * l * b, c * b]
    out, pos = {"l": l, "c": c, "b": b}, 0
    for key, size in zip(("main_params", "extra_params", "state", "sequence"), sizes):
        out[key] = vals[pos : pos + size]
        pos += size
    return out


def log_gamma_distrib(a, p):
    """ADBench's `log_gamma_distrib` (scipy's multigammaln), with math.lgamma."""
    import math

    return 0.25 * p * (p - 1) * math.log(math.pi) + sum(
        math.lgamma(a + 0.5 * (1 - j)) for j in range(1, p + 1)
    )


if __name__ == "__main__":
    # The first values of each stream, for the cross-language test.
    a, b, x = elementwise_inputs(3, ELEMENTWISE["seed"])
    p = mlp_params(4, 16, 3)
    xb, labels = batch(150, 4, 3)
    print(repr(a + b + x))
    print(repr(p["w1"][2][:3] + p["b2"][2]))
    print(repr(xb[2][:3]))
    print(repr(labels[:10]))
