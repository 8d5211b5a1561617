"""Times the package's conv_transpose2d against PyTorch's on U-Net decoder shapes.

    .venv/bin/python -m benchmarks.conv_transpose_speed [--repeats 30]

float32, 2 threads for both (OpenBLAS for numpy, ATen/oneDNN for PyTorch), the same
inputs. The package's default method ("gemm") and its "polyphase" method are timed
against PyTorch alternately, repeat by repeat, so that whatever else the machine is doing
hits all alike; each row prints the medians, the ratios (PyTorch time / ours: above 1
means ours is faster; gemm time / polyphase time), the gemm method's throughput in
GFLOP/s, and a plain float32 matrix product of the same size, the ceiling.
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
    print(
        f"{'shape (N, Cin, Cout, H, k, s, p, op)':38} {'gemm ms':>8} {'poly ms':>8} "
        f"{'torch ms':>9} {'t/gemm':>7} {'t/poly':>7} {'g/poly':>7} {'GFLOP/s':>8} "
        f"{'matmul ms':>9}"
    )
    ratios, poly_ratios, gemm_over_poly = [], [], []
    for n, c_in, c_out, h, k, s, p, op in SHAPES:
        x = rng.standard_normal((n, c_in, h, h), dtype=np.float32)
        w = rng.standard_normal((c_in, c_out, k, k), dtype=np.float32)
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        theirs = F.conv_transpose2d(tx, tw, stride=s, padding=p, output_padding=op).numpy()
        for method in ("gemm", "polyphase"):
            ours = conv_transpose2d(x, w, stride=s, padding=p, output_padding=op, method=method)
            np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-3, err_msg=method)
        a = rng.standard_normal((c_out * k * k, c_in), dtype=np.float32)
        b = rng.standard_normal((c_in, n * h * h), dtype=np.float32)
        t_ours, t_poly, t_torch, t_gemm = median_times(
            [
                lambda x=x, w=w, s=s, p=p, op=op: conv_transpose2d(
                    x, w, stride=s, padding=p, output_padding=op
                ),
                lambda x=x, w=w, s=s, p=p, op=op: conv_transpose2d(
                    x, w, stride=s, padding=p, output_padding=op, method="polyphase"
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
        poly_ratios.append(t_torch / t_poly)
        gemm_over_poly.append(t_ours / t_poly)
        shape = str((n, c_in, c_out, h, k, s, p, op))
        print(
            f"{shape:38} {t_ours * 1e3:8.2f} {t_poly * 1e3:8.2f} {t_torch * 1e3:9.2f} "
            f"{t_torch / t_ours:7.2f} {t_torch / t_poly:7.2f} {t_ours / t_poly:7.2f} "
            f"{flops / t_ours / 1e9:8.1f} {t_gemm * 1e3:9.2f}"
        )
    print(
        f"median ratio torch / gemm: {np.median(ratios):.2f}, torch / polyphase: "
        f"{np.median(poly_ratios):.2f}, gemm / polyphase: {np.median(gemm_over_poly):.2f}"
    )


if __name__ == "__main__":
    main()
