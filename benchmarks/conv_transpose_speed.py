"""Times the package's conv_transpose2d against PyTorch's on U-Net decoder shapes.

    .venv/bin/python benchmarks/conv_transpose_speed.py [--repeats 30]

float32, 2 threads for both (OpenBLAS for numpy, ATen/oneDNN for PyTorch), the same
inputs. The two are timed alternately, repeat by repeat, so that whatever else the
machine is doing hits both alike; each row prints both medians, the ratio
(PyTorch time / ours: above 1 means ours is faster) and our throughput in GFLOP/s.
A plain float32 matrix product of the same size is timed too, as the ceiling.
"""

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from upsampling import conv_transpose2d  # noqa: E402

# (batch, C_in, C_out, H=W, kernel, stride, padding, output_padding): U-Net decoder stages
SHAPES = [
    (8, 64, 32, 32, 4, 2, 1, 0),
    (8, 128, 64, 16, 4, 2, 1, 0),
    (8, 256, 128, 8, 4, 2, 1, 0),
    (8, 32, 16, 64, 4, 2, 1, 0),
    (8, 64, 32, 32, 2, 2, 0, 0),
    (8, 64, 32, 32, 3, 2, 1, 1),
]


def median_times(functions, repeats):
    """Median seconds of each function, timed in alternation."""
    for f in functions:  # warm up (allocations, oneDNN primitive cache)
        f()
        f()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for f, bucket in zip(functions, times, strict=True):
            start = time.perf_counter()
            f()
            bucket.append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    print(f"{'shape (N, Cin, Cout, H, k, s, p, op)':38} {'ours ms':>8} {'torch ms':>9} "
          f"{'ratio':>6} {'GFLOP/s':>8} {'gemm ms':>8}")  # fmt: skip
    ratios = []
    for n, c_in, c_out, h, k, s, p, op in SHAPES:
        x = rng.standard_normal((n, c_in, h, h), dtype=np.float32)
        w = rng.standard_normal((c_in, c_out, k, k), dtype=np.float32)
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        ours = conv_transpose2d(x, w, stride=s, padding=p, output_padding=op)
        theirs = F.conv_transpose2d(tx, tw, stride=s, padding=p, output_padding=op).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-3)
        a = rng.standard_normal((c_out * k * k, c_in), dtype=np.float32)
        b = rng.standard_normal((c_in, n * h * h), dtype=np.float32)
        t_ours, t_torch, t_gemm = median_times(
            [
                lambda x=x, w=w, s=s, p=p, op=op: conv_transpose2d(
                    x, w, stride=s, padding=p, output_padding=op
                ),
                lambda tx=tx, tw=tw, s=s, p=p, op=op: F.conv_transpose2d(
                    tx, tw, stride=s, padding=p, output_padding=op
                ),
                lambda a=a, b=b: a @ b,
            ],
            args.repeats,
        )
        flops = 2 * n * c_in * c_out * k * k * h * h
        ratios.append(t_torch / t_ours)
        shape = str((n, c_in, c_out, h, k, s, p, op))
        print(f"{shape:38} {t_ours * 1e3:8.2f} {t_torch * 1e3:9.2f} {t_torch / t_ours:6.2f} "
              f"{flops / t_ours / 1e9:8.1f} {t_gemm * 1e3:8.2f}")  # fmt: skip
    print(f"median ratio (torch / ours): {np.median(ratios):.2f}")


if __name__ == "__main__":
    main()
