#!/usr/bin/env python3
"""Writes tests/fixtures/python_mlp.safetensors with Python's `safetensors`, for tests/io.rs.

    pip install safetensors numpy
    python3 tools/make_safetensors_fixture.py            # writes the fixture
    python3 tools/make_safetensors_fixture.py --check F  # checks a file written by
                                                         # `autodiff::io::save` of the
                                                         # same model (same values)

The model is the one `tests/io.rs` loads it into: a `#[derive(Tangent)]` struct
`Mlp { layers: Vec<Layer>, scale: f32 }` with `Layer { w: DMatrix<f32>, b: RowDVector<f32> }`,
so the names are `layers.0.w`, `layers.0.b`, `layers.1.w`, `layers.1.b`, `scale`, the
matrices are row-major `[rows, cols]` arrays and `scale` is a 0-d array. Element k (in
row-major order) of the tensor number t is `t + 1 + k / 10`, rounded to f32 once, so that
the test can recompute every value.
"""

import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

SHAPES = [
    ("layers.0.w", (2, 3)),
    ("layers.0.b", (1, 3)),
    ("layers.1.w", (3, 1)),
    ("layers.1.b", (1, 1)),
    ("scale", ()),
]


def tensors():
    out = {}
    for t, (name, shape) in enumerate(SHAPES):
        size = int(np.prod(shape)) if shape else 1
        values = t + 1 + np.arange(size, dtype=np.float64) / 10
        out[name] = values.astype(np.float32).reshape(shape)
    return out


def main():
    expected = tensors()
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        found = load_file(sys.argv[2])
        assert sorted(found) == sorted(expected), (sorted(found), sorted(expected))
        for name, value in expected.items():
            assert found[name].dtype == value.dtype, (name, found[name].dtype)
            assert found[name].shape == value.shape, (name, found[name].shape)
            assert np.array_equal(found[name], value), (name, found[name], value)
        print(f"{sys.argv[2]}: {len(found)} tensors, names, shapes, dtypes and values match")
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "fixtures", "python_mlp.safetensors")
    save_file(expected, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
