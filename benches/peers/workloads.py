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


if __name__ == "__main__":
    # The first values of each stream, for the cross-language test.
    a, b, x = elementwise_inputs(3, ELEMENTWISE["seed"])
    p = mlp_params(4, 16, 3)
    xb, labels = batch(150, 4, 3)
    print(repr(a + b + x))
    print(repr(p["w1"][2][:3] + p["b2"][2]))
    print(repr(xb[2][:3]))
    print(repr(labels[:10]))
