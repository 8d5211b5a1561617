"""Makes the reference outputs that the graded notebooks are checked against, with PyTorch.

    .venv/bin/python autograder/make_reference.py [--out DIR] [--student-out DIR]
                                                  [--salt WORD] [ASSIGNMENT ...]

writes ``autograder/reference/<assignment>.npz`` for the assignments of
``upsampling/assignments.py`` (every case:
the grader's copy) and ``upsampling/reference/<assignment>.npz`` (the visible cases only:
the package data that the notebooks' test cells read on a student's machine). The format
is in ``docs/grading-contract.md``. Every case below lists the arguments a graded function is
called with; its expected output comes from ``torch.nn.functional`` (never from the
``upsampling`` package, so that the package and the reference check each other).

Visible cases are the worked examples of the chapters; hidden ones use inputs students
have not seen: asymmetric kernels, odd and non-square sizes, batches, several channels,
stride, padding, output_padding. The output is deterministic: inputs come from seeds
derived from the case names, are small multiples of 1/4 (so that most results are exact
in float64), and the ``.npz`` is written with fixed zip timestamps, so regenerating gives
identical bytes (``tests/test_reference.py`` checks that).
"""

from __future__ import annotations

import argparse
import io
import json
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from upsampling.assignments import ASSIGNMENTS

OUT = Path(__file__).resolve().parent / "reference"
STUDENT_OUT = Path(__file__).resolve().parent.parent / "upsampling" / "reference"
MANIFEST_KEY = "__manifest__"
TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


@dataclass
class Case:
    name: str
    visible: bool
    args: dict[str, np.ndarray] = field(default_factory=dict)
    kwargs: dict = field(default_factory=dict)


@dataclass
class Test:
    grade_id: str
    function: str
    points: int
    check: str
    oracle: object  # (args, kwargs) -> expected output(s), computed with PyTorch
    cases: list[Case]
    outputs: tuple[str, ...] = ("expected",)


SALT = ""  # --salt: a private course's own hidden inputs (empty: the published ones)


def rng_for(*names: str) -> np.random.Generator:
    key = "/".join(((SALT,) if SALT else ()) + names)
    return np.random.default_rng(zlib.crc32(key.encode()))


def quarters(rng, shape, low=-12, high=12) -> np.ndarray:
    """Random multiples of 1/4 in [low/4, high/4]: exact in float64 sums and products."""
    return rng.integers(low, high + 1, size=shape).astype(np.float64) / 4


def distinct(rng, shape) -> np.ndarray:
    """Random distinct multiples of 1/4 (no ties for max pooling)."""
    n = int(np.prod(shape))
    return (rng.permutation(n).astype(np.float64) - n // 2).reshape(shape) / 4


def t(array) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float64))


def pair(value):
    return tuple(value) if isinstance(value, list | tuple) else (value, value)


def a(rows) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def nchw(plane) -> np.ndarray:
    return a(plane)[None, None]


# ---------------------------------------------------------------------------------------
# Worked examples (the chapters' own, see tests/test_worked_examples.py)

SEED001_X = [[0, 1], [2, 3]]
SEED001_K = [[0, 1], [2, 3]]
SEED002_X = [[2, 0], [4, 1]]
SEED002_K = [[4, 2, 1], [1, 0, 3], [0, 5, 2]]
LAPLACIAN = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
LAPLACIAN_Y = [[3, -3, -1], [-2, 3, -3], [-3, 2, 3]]
D2L_X = np.arange(9.0).reshape(3, 3)
D2L_K = [[1, 2], [3, 4]]
D2L_Y = [[27, 37], [57, 67]]
SEED004_X = np.arange(1.0, 10.0).reshape(3, 3)
ARANGE16 = np.arange(1.0, 17.0).reshape(4, 4)
SMALL = [[1, 2], [3, 4]]


# ---------------------------------------------------------------------------------------
# 01_sizes


def torch_conv_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    x = torch.zeros(1, 1, input_size, 1, dtype=torch.float64)
    w = torch.zeros(1, 1, kernel_size, 1, dtype=torch.float64)
    out = F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1))
    return out.shape[2]


def torch_transpose_size(
    input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1
):
    x = torch.zeros(1, 1, input_size, 1, dtype=torch.float64)
    w = torch.zeros(1, 1, kernel_size, 1, dtype=torch.float64)
    out = F.conv_transpose2d(
        x,
        w,
        stride=(stride, 1),
        padding=(padding, 0),
        output_padding=(output_padding, 0),
        dilation=(dilation, 1),
    )
    return out.shape[2]


def torch_decoder(input_size, depth, kernel_size, stride=1, padding=0):
    """Runs the encoder with PyTorch, then finds each decoder layer's output_padding by trying
    every allowed value with F.conv_transpose2d."""
    w = torch.zeros(1, 1, kernel_size, kernel_size, dtype=torch.float64)
    x = torch.zeros(1, 1, input_size, input_size, dtype=torch.float64)
    sizes = [x]
    for _ in range(depth):
        x = F.conv2d(x, w, stride=stride, padding=padding)
        sizes.append(x)
    plan = []
    for level in range(depth, 0, -1):
        target = sizes[level - 1].shape[-1]
        fits = [
            op
            for op in range(stride)
            if F.conv_transpose2d(
                sizes[level], w, stride=stride, padding=padding, output_padding=op
            ).shape[-1]
            == target
        ]
        assert len(fits) == 1, (input_size, depth, kernel_size, stride, padding, fits)
        plan.append(fits[0])
    return np.array(plan, dtype=np.int64)


def size_oracle(function):
    return lambda args, kwargs: np.int64(function(**kwargs))


def sizes_tests() -> list[Test]:
    def conv(name, visible, i, k, s=1, p=0, d=1):
        kwargs = {"input_size": i, "kernel_size": k}
        kwargs.update(
            {
                key: v
                for key, v, default in (("stride", s, 1), ("padding", p, 0), ("dilation", d, 1))
                if v != default
            }
        )
        return Case(name, visible, kwargs=kwargs)

    def trans(name, visible, i, k, s=1, p=0, op=0, d=1):
        kwargs = {"input_size": i, "kernel_size": k}
        optional = (
            ("stride", s, 1),
            ("padding", p, 0),
            ("output_padding", op, 0),
            ("dilation", d, 1),
        )
        kwargs.update({key: v for key, v, default in optional if v != default})
        return Case(name, visible, kwargs=kwargs)

    def decoder(name, visible, i, depth, k, s, p):
        kwargs = {"input_size": i, "depth": depth, "kernel_size": k, "stride": s, "padding": p}
        return Case(name, visible, kwargs=kwargs)

    return [
        Test(
            "sizes-conv",
            "conv_output_size",
            2,
            "conv_output_size",
            size_oracle(torch_conv_size),
            [
                conv("chapter1-16-k3-s2-p1", True, 16, 3, s=2, p=1),
                conv("laplacian-5-k3", True, 5, 3),
                conv("maxpool-4-k2-s2", True, 4, 2, s=2),
                conv("odd-17-k3-s2-p1", False, 17, 3, s=2, p=1),
                conv("k1-s3-10", False, 10, 1, s=3),
                conv("stride-over-kernel-11-k2-s3", False, 11, 2, s=3),
                conv("pad2-7-k5", False, 7, 5, p=2),
                conv("large-224-k7-s2-p3", False, 224, 7, s=2, p=3),
                conv("floor-9-k4-s2-p1", False, 9, 4, s=2, p=1),
                conv("kernel-equals-input-6-k6", False, 6, 6),
            ],
        ),
        Test(
            "sizes-conv-dilation",
            "conv_output_size",
            1,
            "conv_output_size",
            size_oracle(torch_conv_size),
            [
                conv("dilation2-7-k3", True, 7, 3, d=2),
                conv("dilation2-15-k3-s2-p2", False, 15, 3, s=2, p=2, d=2),
                conv("dilation3-10-k2", False, 10, 2, d=3),
                conv("dilation4-32-k3-p4", False, 32, 3, p=4, d=4),
                conv("dilation2-13-k4-s3-p1", False, 13, 4, s=3, p=1, d=2),
            ],
        ),
        Test(
            "sizes-transpose",
            "conv_transpose_output_size",
            2,
            "conv_transpose_output_size",
            size_oracle(torch_transpose_size),
            [
                trans("chapter1-8-k3-s2-p1", True, 8, 3, s=2, p=1),
                trans("seed002-2-k3", True, 2, 3),
                trans("seed002-2-k3-s2", True, 2, 3, s=2),
                trans("seed002-2-k3-s2-p1", True, 2, 3, s=2, p=1),
                trans("seed004-3-k1-s2", True, 3, 1, s=2),
                trans("7-k4-s2-p1", False, 7, 4, s=2, p=1),
                trans("5-k3-s3", False, 5, 3, s=3),
                trans("6-k2-s2", False, 6, 2, s=2),
                trans("9-k5-p2", False, 9, 5, p=2),
                trans("4-k1-s4", False, 4, 1, s=4),
                trans("13-k3-s2-p1", False, 13, 3, s=2, p=1),
                trans("1-k3-s2", False, 1, 3, s=2),
            ],
        ),
        Test(
            "sizes-transpose-output-padding",
            "conv_transpose_output_size",
            2,
            "conv_transpose_output_size",
            size_oracle(torch_transpose_size),
            [
                trans("chapter1-8-k3-s2-p1-op1", True, 8, 3, s=2, p=1, op=1),
                trans("seed002-2-k3-s2-p1-op1", True, 2, 3, s=2, p=1, op=1),
                trans("seed004-3-k1-s2-op1", True, 3, 1, s=2, op=1),
                trans("5-k3-s3-op2", False, 5, 3, s=3, op=2),
                trans("7-k4-s2-p1-op1", False, 7, 4, s=2, p=1, op=1),
                trans("4-k3-d2-op1", False, 4, 3, op=1, d=2),
                trans("10-k3-s2-p1-d2-op1", False, 10, 3, s=2, p=1, op=1, d=2),
                trans("6-k5-s4-p2-op3", False, 6, 5, s=4, p=2, op=3),
            ],
        ),
        Test(
            "sizes-decoder",
            "decoder_output_padding",
            3,
            "decoder_output_padding",
            lambda args, kwargs: torch_decoder(**kwargs),
            [
                decoder("chapter1-16-depth1", True, 16, 1, 3, 2, 1),
                decoder("16-depth2", True, 16, 2, 3, 2, 1),
                decoder("17-depth2", False, 17, 2, 3, 2, 1),
                decoder("100-depth3", False, 100, 3, 3, 2, 1),
                decoder("37-depth3-k4", False, 37, 3, 4, 2, 1),
                decoder("47-depth2-s3", False, 47, 2, 3, 3, 0),
                decoder("64-depth4-k5-p2", False, 64, 4, 5, 2, 2),
                decoder("23-depth2-k2-p0", False, 23, 2, 2, 2, 0),
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------
# 02_unpooling


def torch_nearest(args, kwargs):
    scale = pair(kwargs["scale_factor"])
    return F.interpolate(t(args[0]), scale_factor=scale, mode="nearest").numpy()


def torch_bed_of_nails(args, kwargs):
    x = t(args[0])
    sh, sw = pair(kwargs["scale_factor"])
    channels = x.shape[1]
    nail = torch.zeros(channels, 1, sh, sw, dtype=torch.float64)
    nail[:, :, 0, 0] = 1
    return F.conv_transpose2d(x, nail, stride=(sh, sw), groups=channels).numpy()


def torch_max_pool(args, kwargs):
    stride = kwargs.get("stride")
    values, indices = F.max_pool2d(
        t(args[0]),
        pair(kwargs["kernel_size"]),
        None if stride is None else pair(stride),
        return_indices=True,
    )
    return values.numpy(), indices.numpy()


def torch_max_unpool(args, kwargs):
    stride = kwargs.get("stride")
    size = kwargs.get("output_size")
    out = F.max_unpool2d(
        t(args[0]),
        torch.from_numpy(args[1]),
        pair(kwargs["kernel_size"]),
        None if stride is None else pair(stride),
        output_size=None if size is None else tuple(size),
    )
    return out.numpy()


def torch_bilinear(args, kwargs):
    return F.interpolate(
        t(args[0]),
        scale_factor=pair(kwargs["scale_factor"]),
        mode="bilinear",
        align_corners=kwargs.get("align_corners", False),
    ).numpy()


def pooled(name, shape, kernel_size, stride=None):
    """Values and indices of a max-pool of a random image, as inputs for max-unpooling."""
    x = distinct(rng_for("unpool", name), shape)
    values, indices = F.max_pool2d(t(x), kernel_size, stride, return_indices=True)
    return {"input": values.numpy(), "indices": indices.numpy()}


def unpooling_tests() -> list[Test]:
    def img(name, shape):
        return {"input": quarters(rng_for("unpooling", name), shape)}

    def pool_img(name, shape):
        return {"input": distinct(rng_for("pool", name), shape)}

    def up(name, visible, args, scale, **extra):
        return Case(name, visible, args, {"scale_factor": scale, **extra})

    # visible non-square cases with per-axis arguments: small integers, checkable by hand
    visible_rng = rng_for("unpooling-visible", "2x3")
    two_by_three = {"input": visible_rng.integers(1, 10, (1, 1, 2, 3)).astype(np.float64)}
    pool_4x6 = (visible_rng.permutation(24) + 1).astype(np.float64).reshape(1, 1, 4, 6)
    pool_4x9 = (visible_rng.permutation(36) + 1).astype(np.float64).reshape(1, 1, 4, 9)
    maxima, switches = F.max_pool2d(t(pool_4x9), (2, 3), (2, 3), return_indices=True)
    unpool_2x3 = {"input": maxima.numpy(), "indices": switches.numpy()}

    return [
        Test(
            "unpooling-nearest",
            "upsample_nearest",
            2,
            "nearest",
            torch_nearest,
            [
                up("2x2-by-2", True, {"input": nchw(SMALL)}, 2),
                up("2x2-by-2x3", True, {"input": nchw(SMALL)}, [2, 3]),
                up("2x3-by-3x2", True, two_by_three, [3, 2]),
                up("batch2-ch3-5x7-by-3", False, img("n-a", (2, 3, 5, 7)), 3),
                up("1x1-by-4", False, img("n-b", (1, 1, 1, 1)), 4),
                up("odd-3x5-by-3x2", False, img("n-c", (1, 2, 3, 5)), [3, 2]),
                up("4x1-by-1x3", False, img("n-d", (2, 1, 4, 1)), [1, 3]),
            ],
        ),
        Test(
            "unpooling-bed-of-nails",
            "bed_of_nails",
            2,
            "bed_of_nails",
            torch_bed_of_nails,
            [
                up("2x2-by-2", True, {"input": nchw(SMALL)}, 2),
                up("2x3-by-2x3", True, two_by_three, [2, 3]),
                up("batch2-ch3-5x7-by-3", False, img("b-a", (2, 3, 5, 7)), 3),
                up("3x4-by-2x3", False, img("b-b", (1, 2, 3, 4)), [2, 3]),
                up("4x5-by-3x1", False, img("b-c", (1, 1, 4, 5)), [3, 1]),
            ],
        ),
        Test(
            "unpooling-max-pool",
            "max_pool2d",
            2,
            "max_pool2d",
            torch_max_pool,
            [
                Case("arange16-k2", True, {"input": ARANGE16[None, None]}, {"kernel_size": 2}),
                Case(
                    "4x6-k2x3-s2x1",
                    True,
                    {"input": pool_4x6},
                    {"kernel_size": [2, 3], "stride": [2, 1]},
                ),
                Case("batch2-ch3-6x8-k2", False, pool_img("p-a", (2, 3, 6, 8)), {"kernel_size": 2}),
                Case(
                    "overlap-7x9-k3-s2",
                    False,
                    pool_img("p-b", (1, 2, 7, 9)),
                    {"kernel_size": 3, "stride": 2},
                ),
                Case(
                    "nonsquare-6x7-k2x3-s2x1",
                    False,
                    pool_img("p-c", (1, 1, 6, 7)),
                    {"kernel_size": [2, 3], "stride": [2, 1]},
                ),
                Case("odd-5x5-k2", False, pool_img("p-d", (2, 1, 5, 5)), {"kernel_size": 2}),
            ],
            outputs=("expected_output", "expected_indices"),
        ),
        Test(
            "unpooling-max-unpool",
            "max_unpool2d",
            2,
            "allclose",
            torch_max_unpool,
            [
                Case(
                    "arange16-k2",
                    True,
                    {
                        "input": nchw([[6, 8], [14, 16]]),
                        "indices": np.array([[[[5, 7], [13, 15]]]], dtype=np.int64),
                    },
                    {"kernel_size": 2},
                ),
                Case(
                    "2x3-k2x3-s2x3",
                    True,
                    unpool_2x3,
                    {"kernel_size": [2, 3], "stride": [2, 3]},
                ),
                Case(
                    "batch2-ch3-6x8-k2", False, pooled("u-a", (2, 3, 6, 8), 2), {"kernel_size": 2}
                ),
                Case(
                    "odd-5x7-k2-output-size",
                    False,
                    pooled("u-b", (1, 2, 5, 7), 2),
                    {"kernel_size": 2, "output_size": [5, 7]},
                ),
                Case(
                    "k3-s2-8x10-output-size",
                    False,
                    pooled("u-c", (2, 1, 8, 10), 3, 2),
                    {"kernel_size": 3, "stride": 2, "output_size": [8, 10]},
                ),
                Case(
                    "k2x3-s2x3-6x9",
                    False,
                    pooled("u-d", (1, 1, 6, 9), (2, 3), (2, 3)),
                    {"kernel_size": [2, 3], "stride": [2, 3]},
                ),
            ],
        ),
        Test(
            "unpooling-bilinear",
            "upsample_bilinear",
            2,
            "bilinear",
            torch_bilinear,
            [
                up("2x2-by-2", True, {"input": nchw(SMALL)}, 2),
                up("2x3-by-2x3", True, two_by_three, [2, 3], align_corners=False),
                up("batch2-ch3-5x7-by-2", False, img("l-a", (2, 3, 5, 7)), 2, align_corners=False),
                up("3x4-by-3", False, img("l-b", (1, 1, 3, 4)), 3, align_corners=False),
                up("1x5-by-4x2", False, img("l-c", (1, 2, 1, 5)), [4, 2], align_corners=False),
                up("4x3-by-2x3", False, img("l-d", (1, 1, 4, 3)), [2, 3], align_corners=False),
            ],
        ),
        Test(
            "unpooling-bilinear-align-corners",
            "upsample_bilinear",
            2,
            "bilinear",
            torch_bilinear,
            [
                up("2x2-by-2", True, {"input": nchw(SMALL)}, 2, align_corners=True),
                up("2x3-by-2x3", True, two_by_three, [2, 3], align_corners=True),
                up("batch2-ch3-5x7-by-2", False, img("c-a", (2, 3, 5, 7)), 2, align_corners=True),
                up("3x4-by-3", False, img("c-b", (1, 1, 3, 4)), 3, align_corners=True),
                up("1x5-by-4x2", False, img("c-c", (1, 2, 1, 5)), [4, 2], align_corners=True),
                up("4x3-by-2x3", False, img("c-d", (1, 1, 4, 3)), [2, 3], align_corners=True),
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------
# 03_transposed_conv


def torch_transpose(args, kwargs):
    tensors = [t(v) for v in args]
    return F.conv_transpose2d(*tensors, **{k: pair(v) for k, v in kwargs.items()}).numpy()


def torch_transpose_plane(args, kwargs):
    x, w = (t(v)[None, None] for v in args)
    return F.conv_transpose2d(x, w, **{k: pair(v) for k, v in kwargs.items()})[0, 0].numpy()


def torch_conv_matrix(args, kwargs):
    """Column j of C is the convolution of the j-th basis image."""
    w = t(args[0])[None, None]
    h, wd = kwargs["input_size"]
    basis = torch.eye(h * wd, dtype=torch.float64).reshape(h * wd, 1, h, wd)
    out = F.conv2d(
        basis, w, stride=pair(kwargs.get("stride", 1)), padding=pair(kwargs.get("padding", 0))
    )
    return out.reshape(h * wd, -1).T.contiguous().numpy()


def transposed_tests() -> list[Test]:
    def plane(name, visible, x, k, **kwargs):
        return Case(name, visible, {"input": a(x), "weight": a(k)}, kwargs)

    def rnd(name, x_shape, w_shape, bias=False):
        rng = rng_for("transposed", name)
        args = {"input": quarters(rng, x_shape), "weight": quarters(rng, w_shape)}
        if bias:
            args["bias"] = quarters(rng, (w_shape[1],))
        return args

    def rnd_plane(name, x_shape, k_shape):
        rng = rng_for("transposed-plane", name)
        return {"input": quarters(rng, x_shape), "weight": quarters(rng, k_shape)}

    def full(name, visible, args, **kwargs):
        return Case(name, visible, args, kwargs)

    def mat(name, visible, k, input_size, **kwargs):
        return Case(name, visible, {"weight": a(k)}, {"input_size": input_size, **kwargs})

    def rnd_k(name, shape):
        return quarters(rng_for("matrix", name), shape)

    def small_ints(name, *shapes):
        """Small integers for visible cases: results a student can check by hand."""
        rng = rng_for("transposed-visible", name)
        return [rng.integers(-2, 3, shape).astype(np.float64) for shape in shapes]

    def visible_plane(name, x_shape, k_shape, **kwargs):
        x, k = small_ints(name, x_shape, k_shape)
        return Case(name, True, {"input": x, "weight": k}, kwargs)

    def visible_full(name, x_shape, w_shape, bias=False, **kwargs):
        x, w, b = small_ints(name, x_shape, w_shape, (w_shape[1],))
        args = {"input": x, "weight": w} | ({"bias": b} if bias else {})
        return Case(name, True, args, kwargs)

    seed002 = {"input": nchw(SEED002_X), "weight": nchw(SEED002_K)}
    seed004 = {"input": SEED004_X[None, None], "weight": np.ones((1, 1, 1, 1))}
    small = rng_for("transposed", "visible-channels")
    channels_small = {
        "input": small.integers(-2, 3, (2, 2, 2, 2)).astype(np.float64),
        "weight": small.integers(-2, 3, (2, 3, 2, 2)).astype(np.float64),
    }
    two_kernels = np.stack([a(SEED002_K), a(SEED002_K).T])[None]  # (1, 2, 3, 3)
    bias_small = {"input": nchw(SEED002_X), "weight": two_kernels, "bias": a([1, -1])}
    return [
        Test(
            "transposed-scatter",
            "conv_transpose2d_scatter",
            2,
            "conv_transpose2d",
            torch_transpose_plane,
            [
                plane("seed001", True, SEED001_X, SEED001_K),
                plane("seed002", True, SEED002_X, SEED002_K),
                plane("d2l-matrix-view", True, D2L_Y, D2L_K),
                plane("laplacian-back", True, LAPLACIAN_Y, LAPLACIAN),
                visible_plane("nonsquare-2x3-k3x2", (2, 3), (3, 2)),
                Case("asym-3x4-k2x3", False, rnd_plane("a", (3, 4), (2, 3))),
                Case("tall-5x2-k4x1", False, rnd_plane("b", (5, 2), (4, 1))),
                Case("1x1-k3x2", False, rnd_plane("c", (1, 1), (3, 2))),
                Case("k1x1-4x3", False, rnd_plane("d", (4, 3), (1, 1))),
                Case("wide-2x6-k3x3", False, rnd_plane("e", (2, 6), (3, 3))),
            ],
        ),
        Test(
            "transposed-stride",
            "conv_transpose2d",
            3,
            "conv_transpose2d",
            torch_transpose,
            [
                full("seed002-stride2", True, seed002, stride=2),
                full("seed002-stride2-padding1", True, seed002, stride=2, padding=1),
                full("seed004-k1-stride2", True, seed004, stride=2),
                visible_full(
                    "nonsquare-2x3-k3x2-s2x3-p1x0", (1, 1, 2, 3), (1, 1, 3, 2),
                    stride=[2, 3], padding=[1, 0],
                ),  # fmt: skip
                full(
                    "asym-4x3-k3x2-s2x3",
                    False,
                    rnd("s-a", (1, 1, 4, 3), (1, 1, 3, 2)),
                    stride=[2, 3],
                ),
                full("gaps-3x3-k2-s3", False, rnd("s-b", (1, 1, 3, 3), (1, 1, 2, 2)), stride=3),
                full(
                    "pad1x0-5x4-k3-s2",
                    False,
                    rnd("s-c", (1, 1, 5, 4), (1, 1, 3, 3)),
                    stride=2,
                    padding=[1, 0],
                ),
                full(
                    "pad2-4x4-k5x4-s3",
                    False,
                    rnd("s-d", (1, 1, 4, 4), (1, 1, 5, 4)),
                    stride=3,
                    padding=2,
                ),
                full(
                    "pad0x2-3x6-k2x5-s1x2",
                    False,
                    rnd("s-e", (1, 1, 3, 6), (1, 1, 2, 5)),
                    stride=[1, 2],
                    padding=[0, 2],
                ),
            ],
        ),
        Test(
            "transposed-output-padding",
            "conv_transpose2d",
            2,
            "conv_transpose2d",
            torch_transpose,
            [
                full(
                    "seed002-stride2-padding1-op1",
                    True,
                    seed002,
                    stride=2,
                    padding=1,
                    output_padding=1,
                ),
                full("seed004-k1-stride2-op1", True, seed004, stride=2, output_padding=1),
                visible_full(
                    "nonsquare-2x3-k2x3-s3x2-p1x0-op2x1", (1, 1, 2, 3), (1, 1, 2, 3),
                    stride=[3, 2], padding=[1, 0], output_padding=[2, 1],
                ),  # fmt: skip
                full(
                    "op1x0-4x5-k3x2-s2-p1",
                    False,
                    rnd("o-a", (1, 1, 4, 5), (1, 1, 3, 2)),
                    stride=2,
                    padding=1,
                    output_padding=[1, 0],
                ),
                full(
                    "op2-3x3-k4-s3-p1",
                    False,
                    rnd("o-b", (1, 1, 3, 3), (1, 1, 4, 4)),
                    stride=3,
                    padding=1,
                    output_padding=2,
                ),
                full(
                    "op1-5x3-k5x3-s2-p2",
                    False,
                    rnd("o-c", (1, 1, 5, 3), (1, 1, 5, 3)),
                    stride=2,
                    padding=2,
                    output_padding=1,
                ),
                full(
                    "op0x1-4x4-k2x3-s1x2",
                    False,
                    rnd("o-d", (1, 1, 4, 4), (1, 1, 2, 3)),
                    stride=[1, 2],
                    output_padding=[0, 1],
                ),
                full(
                    "op1-3x5-k3-s2",
                    False,
                    rnd("o-e", (1, 1, 3, 5), (1, 1, 3, 3)),
                    stride=2,
                    output_padding=1,
                ),
            ],
        ),
        Test(
            "transposed-channels",
            "conv_transpose2d",
            3,
            "conv_transpose2d",
            torch_transpose,
            [
                full("batch2-cin2-cout3", True, channels_small),
                full("seed002-cout2-bias-stride2", True, bias_small, stride=2),
                visible_full(
                    "n2-cin2-cout3-bias-2x3-k3x2-s2x1-p1x0-op1x0", (2, 2, 2, 3), (2, 3, 3, 2),
                    bias=True, stride=[2, 1], padding=[1, 0], output_padding=[1, 0],
                ),  # fmt: skip
                full(
                    "n3-cin4-cout2-bias-s2x1-p1x0-op1x0",
                    False,
                    rnd("c-a", (3, 4, 5, 3), (4, 2, 3, 2), bias=True),
                    stride=[2, 1],
                    padding=[1, 0],
                    output_padding=[1, 0],
                ),
                full(
                    "n2-cin3-cout3-s2-p1-op1",
                    False,
                    rnd("c-b", (2, 3, 4, 3), (3, 3, 3, 3)),
                    stride=2,
                    padding=1,
                    output_padding=1,
                ),
                full(
                    "n1-cin2-cout5-bias-k2x4-s3",
                    False,
                    rnd("c-c", (1, 2, 3, 2), (2, 5, 2, 4), bias=True),
                    stride=3,
                ),
                full(
                    "n4-cin1-cout1-k3-s2", False, rnd("c-d", (4, 1, 3, 4), (1, 1, 3, 3)), stride=2
                ),
            ],
        ),
        Test(
            "transposed-zero-insertion",
            "conv_transpose2d_zero_insertion",
            2,
            "conv_transpose2d",
            torch_transpose_plane,
            [
                plane("seed002-stride2", True, SEED002_X, SEED002_K, stride=2),
                plane("seed002-stride2-padding1-op1", True, SEED002_X, SEED002_K, stride=2,
                      padding=1, output_padding=1),  # fmt: skip
                visible_plane("nonsquare-2x3-k2x3-s3x2-p1x0-op1x1", (2, 3), (2, 3),
                              stride=[3, 2], padding=[1, 0], output_padding=[1, 1]),  # fmt: skip
                Case("stride1-3x4-k3x2", False, rnd_plane("z-a", (3, 4), (3, 2))),
                Case(
                    "asym-4x3-k3x2-s3x2-p1",
                    False,
                    rnd_plane("z-b", (4, 3), (3, 2)),
                    {"stride": [3, 2], "padding": 1},
                ),
                Case(
                    "crop-4x5-k2-s3-p2",  # padding > kernel_size - 1: the pad is a crop
                    False,
                    rnd_plane("z-c", (4, 5), (2, 2)),
                    {"stride": 3, "padding": 2},
                ),
                Case(
                    "op2-3x3-k4-s3-p1",
                    False,
                    rnd_plane("z-d", (3, 3), (4, 4)),
                    {"stride": 3, "padding": 1, "output_padding": 2},
                ),
                Case(
                    "k1-5x2-s2-op1",
                    False,
                    rnd_plane("z-e", (5, 2), (1, 1)),
                    {"stride": 2, "output_padding": 1},
                ),
            ],
        ),
        Test(
            "transposed-matrix",
            "conv_matrix",
            3,
            "conv_matrix",
            torch_conv_matrix,
            [
                mat("d2l-k2-3x3", True, D2L_K, [3, 3]),
                mat("laplacian-5x5", True, LAPLACIAN, [5, 5]),
                mat(
                    "k2x3-s2x1-p1x0-3x4", True, small_ints("matrix", (2, 3))[0], [3, 4],
                    stride=[2, 1], padding=[1, 0],
                ),  # fmt: skip
                mat("asym-k2x3-4x5", False, rnd_k("a", (2, 3)), [4, 5]),
                mat("k3-s2-p1-5x5", False, rnd_k("b", (3, 3)), [5, 5], stride=2, padding=1),
                mat(
                    "k3x2-s2x1-p1x0-4x3",
                    False,
                    rnd_k("c", (3, 2)),
                    [4, 3],
                    stride=[2, 1],
                    padding=[1, 0],
                ),
                mat("k1-s2-3x4", False, rnd_k("d", (1, 1)), [3, 4], stride=2),
                mat("k2-s2-p1-6x5", False, rnd_k("e", (2, 2)), [6, 5], stride=2, padding=1),
            ],
        ),
        Test(
            "transposed-matrix-transpose",
            "conv_transpose2d_matrix",
            2,
            "conv_transpose2d",
            torch_transpose_plane,
            [
                plane("d2l-matrix-view", True, D2L_Y, D2L_K),
                plane("laplacian-back", True, LAPLACIAN_Y, LAPLACIAN),
                visible_plane("nonsquare-2x3-k3x2-s2x1-p1x0", (2, 3), (3, 2), stride=[2, 1],
                              padding=[1, 0]),  # fmt: skip
                Case("asym-3x2-k2x3-s2", False, rnd_plane("m-a", (3, 2), (2, 3)), {"stride": 2}),
                Case(
                    "3x3-k3-s2-p1",
                    False,
                    rnd_plane("m-b", (3, 3), (3, 3)),
                    {"stride": 2, "padding": 1},
                ),
                Case(
                    "4x3-k3x2-s2x1-p1x0",
                    False,
                    rnd_plane("m-c", (4, 3), (3, 2)),
                    {"stride": [2, 1], "padding": [1, 0]},
                ),
                Case(
                    "3x4-k4x3-s3x2-p1",
                    False,
                    rnd_plane("m-d", (3, 4), (4, 3)),
                    {"stride": [3, 2], "padding": 1},
                ),
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------
# 04_checkerboard


def torch_overlap(args, kwargs):
    size = pair(kwargs["input_size"])
    kernel = pair(kwargs["kernel_size"])
    counts = torch.ones(1, 1, *size, dtype=torch.float64)
    ones = torch.ones(1, 1, *kernel, dtype=torch.float64)
    for _ in range(kwargs.get("layers", 1)):
        counts = F.conv_transpose2d(
            counts,
            ones,
            stride=pair(kwargs.get("stride", 1)),
            padding=pair(kwargs.get("padding", 0)),
        )
    return np.rint(counts[0, 0].numpy()).astype(np.int64)


def torch_score(args, kwargs):
    x = t(args[0])
    sh, sw = pair(kwargs["stride"])
    bh, bw = pair(kwargs.get("border", 0))
    x = x[..., bh : x.shape[-2] - bh, bw : x.shape[-1] - bw]
    h, w = x.shape[-2] // sh * sh, x.shape[-1] // sw * sw
    x = x[..., :h, :w].reshape(-1, h // sh, sh, w // sw, sw)
    phases = x.mean(dim=(0, 1, 3))
    scale = x.abs().mean()
    if scale == 0:
        return np.float64(0.0)
    return np.float64((phases.std(unbiased=False) / scale).item())


def torch_resize_conv(args, kwargs):
    x = F.interpolate(t(args[0]), scale_factor=pair(kwargs.get("scale_factor", 2)), mode="nearest")
    padding = kwargs.get("padding", "same")
    padding = padding if padding == "same" else pair(padding)
    return F.conv2d(x, *(t(v) for v in args[1:]), padding=padding).numpy()


def torch_phase_sums(args, kwargs):
    """The interior of a transposed convolution (padding 0) of a constant input of ones:
    output position y gets the taps t with t % s == y % s, so one period of the interior,
    rearranged by phase, is the table of phase sums."""
    kernel = t(args[0])
    kh, kw = kernel.shape
    sh, sw = pair(kwargs["stride"])
    size = (-(-kh // sh) + 2, -(-kw // sw) + 2)
    out = F.conv_transpose2d(torch.ones(1, 1, *size, dtype=torch.float64), kernel[None, None],
                             stride=(sh, sw))[0, 0]  # fmt: skip
    rows = [next(y for y in range(kh - 1, kh - 1 + sh) if y % sh == a) for a in range(sh)]
    cols = [next(y for y in range(kw - 1, kw - 1 + sw) if y % sw == b) for b in range(sw)]
    return out[rows][:, cols].numpy()


def torch_icnr(args, kwargs):
    r = kwargs["upscale_factor"]
    return t(args[0]).repeat_interleave(r * r, dim=0).numpy()


def checkerboard_tests() -> list[Test]:
    def counts(name, visible, size, k, s, **extra):
        return Case(name, visible, {}, {"input_size": size, "kernel_size": k, "stride": s, **extra})

    def score(name, visible, x, stride, **extra):
        return Case(name, visible, {"x": x}, {"stride": stride, **extra})

    def rnd(name, x_shape, w_shape, bias=False):
        rng = rng_for("resize", name)
        args = {"input": quarters(rng, x_shape), "weight": quarters(rng, w_shape)}
        if bias:
            args["bias"] = quarters(rng, (w_shape[0],))
        return args

    def resize(name, visible, args, scale, padding):
        return Case(name, visible, args, {"scale_factor": scale, "padding": padding})

    def small_ints(name, *shapes):
        """Small integers for visible cases: results a student can check by hand."""
        rng = rng_for("checkerboard-visible", name)
        return [rng.integers(-2, 3, shape).astype(np.float64) for shape in shapes]

    def sums(name, visible, kernel, stride):
        return Case(name, visible, {"weight": kernel}, {"stride": stride})

    def icnr(name, visible, shape, r):
        weight = (small_ints(name, shape)[0] if visible
                  else quarters(rng_for("icnr", name), shape))  # fmt: skip
        return Case(name, visible, {"weight": weight}, {"upscale_factor": r})

    tent = np.outer([0.5, 1, 0.5], [0.5, 1, 0.5])
    bilinear2 = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 16  # FCN's initialisation, factor 2
    bilinear3 = np.outer([1, 2, 3, 2, 1], [1, 2, 3, 2, 1]) / 9  # factor 3: k = 5
    cross = a([[0, 1, 0], [1, 1, 1], [0, 1, 0]])[None, None]
    small = {"input": nchw(SMALL), "weight": cross}
    small_asym = {"input": nchw(SMALL), "weight": nchw(D2L_K)}
    return [
        Test(
            "checkerboard-overlap",
            "overlap_counts",
            2,
            "equal",
            torch_overlap,
            [
                counts("3x3-k3-s2", True, [3, 3], 3, 2),
                counts("1x4-k1x3-s1x2", True, [1, 4], [1, 3], [1, 2]),
                counts("3x3-k4-s2", True, [3, 3], 4, 2),
                counts("4x5-k5-s3", False, [4, 5], 5, 3),
                counts("3x4-k3x4-s2-p1", False, [3, 4], [3, 4], 2, padding=1),
                counts("2x2-k2-s3", False, [2, 2], 2, 3),
                counts("5x3-k5x2-s2x1-p2x0", False, [5, 3], [5, 2], [2, 1], padding=[2, 0]),
            ],
        ),
        Test(
            "checkerboard-overlap-layers",
            "overlap_counts",
            1,
            "equal",
            torch_overlap,
            [
                counts("2x2-k3-s2-layers2", True, [2, 2], 3, 2, layers=2),
                counts("2x3-k3x2-s2x1-layers2", True, [2, 3], [3, 2], [2, 1], layers=2),
                counts("3x3-k4-s2-layers3", False, [3, 3], 4, 2, layers=3),
                counts("2x3-k3-s2x1-p1-layers2", False, [2, 3], 3, [2, 1], padding=1, layers=2),
                counts("2x2-k3-s3-layers3", False, [2, 2], 3, 3, layers=3),
            ],
        ),
        Test(
            "checkerboard-score",
            "checkerboard_score",
            2,
            "checkerboard_score",
            torch_score,
            [
                score("constant-6x6-s2", True, np.ones((6, 6)), 2),
                score("tile-1224-s2", True, np.tile(a([[1, 2], [2, 4]]), (3, 3)), 2),
                score(
                    "tile-6x9-s2x3-border1x0",
                    True,
                    np.tile(a([[1, 2, 3], [2, 4, 6]]), (3, 3)),
                    [2, 3],
                    border=[1, 0],
                ),
                score(
                    "nchw-2x3x9x10-s2-border1",
                    False,
                    quarters(rng_for("score", "a"), (2, 3, 9, 10)),
                    2,
                    border=1,
                ),
                score(
                    "11x13-s3-border2",
                    False,
                    quarters(rng_for("score", "b"), (11, 13)) + 4,
                    3,
                    border=2,
                ),
                score("8x9-s2x3", False, quarters(rng_for("score", "c"), (1, 1, 8, 9)), [2, 3]),
                score(
                    "negative-7x7-s2", False, -np.abs(quarters(rng_for("score", "d"), (7, 7))), 2
                ),
                score("zero-4x4-s2", False, np.zeros((4, 4)), 2),
            ],
        ),
        Test(
            "checkerboard-resize-conv",
            "resize_conv2d",
            3,
            "resize_conv2d",
            torch_resize_conv,
            [
                resize("2x2-by2-cross-p1", True, small, 2, 1),
                resize("2x2-by2-k2-p0", True, small_asym, 2, 0),
                resize(
                    "2x3-by2x3-k2x3-p1x0",
                    True,
                    dict(zip(("input", "weight"), small_ints("rc", (1, 1, 2, 3), (1, 1, 2, 3)),
                             strict=True)),
                    [2, 3],
                    [1, 0],
                ),  # fmt: skip
                resize(
                    "n2-cin3-cout2-bias-5x4-by2-k3-p1",
                    False,
                    rnd("a", (2, 3, 5, 4), (2, 3, 3, 3), bias=True),
                    2,
                    1,
                ),
                resize(
                    "3x2-by2x3-k3x2-p1x0",
                    False,
                    rnd("b", (1, 1, 3, 2), (1, 1, 3, 2)),
                    [2, 3],
                    [1, 0],
                ),
                resize("cin2-cout4-by3-k5-p2", False, rnd("c", (1, 2, 3, 3), (4, 2, 5, 5)), 3, 2),
                resize("4x3-by2-k2x3-p0", False, rnd("d", (1, 1, 4, 3), (1, 1, 2, 3)), 2, 0),
            ],
        ),
        Test(
            "checkerboard-resize-conv-same",
            "resize_conv2d",
            2,
            "resize_conv2d",
            torch_resize_conv,
            [
                resize("2x2-by2-cross-same", True, small, 2, "same"),
                Case(
                    "2x3-by2x1-k3x2-default",  # padding not given: "same" by default
                    True,
                    dict(zip(("input", "weight"), small_ints("rcs", (1, 1, 2, 3), (1, 1, 3, 2)),
                             strict=True)),
                    {"scale_factor": [2, 1]},
                ),  # fmt: skip
                resize("even-k4-same", False, rnd("e", (1, 1, 3, 4), (1, 1, 4, 4)), 2, "same"),
                resize(
                    "k2x3-bias-same",
                    False,
                    rnd("f", (2, 2, 3, 3), (3, 2, 2, 3), bias=True),
                    [2, 1],
                    "same",
                ),
                resize("n2-k5-by3-same", False, rnd("g", (2, 1, 2, 3), (1, 1, 5, 5)), 3, "same"),
            ],
        ),
        Test(
            "checkerboard-phase-sums",
            "phase_sums",
            2,
            "allclose",
            torch_phase_sums,
            [
                sums("tent-k3-s2", True, tent, 2),
                sums("ones-k3-s2", True, np.ones((3, 3)), 2),
                sums("fcn-bilinear-k4-s2", True, bilinear2, 2),
                sums("nonsquare-k2x3-s2x3", True, small_ints("ps", (2, 3))[0], [2, 3]),
                sums("k5-s3", False, quarters(rng_for("sums", "a"), (5, 5)), 3),
                sums("gaps-k1-s2", False, quarters(rng_for("sums", "b"), (1, 1)), 2),
                sums("k4x5-s3x2", False, quarters(rng_for("sums", "c"), (4, 5)), [3, 2]),
                sums("fcn-bilinear-k5-s3", False, bilinear3, 3),
                sums("k3x2-s1", False, quarters(rng_for("sums", "d"), (3, 2)), 1),
            ],
        ),
        Test(
            "checkerboard-icnr",
            "icnr_weight",
            2,
            "icnr_weight",
            torch_icnr,
            [
                icnr("cout1-cin1-k3-r2", True, (1, 1, 3, 3), 2),
                icnr("cout2-cin3-k2x3-r2", True, (2, 3, 2, 3), 2),
                icnr("cout3-cin2-k3-r3", False, (3, 2, 3, 3), 3),
                icnr("cout1-cin4-k1-r4", False, (1, 4, 1, 1), 4),
                icnr("cout2-cin1-k3x1-r2", False, (2, 1, 3, 1), 2),
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------

TESTS = {
    "01_sizes": sizes_tests,
    "02_unpooling": unpooling_tests,
    "03_transposed_conv": transposed_tests,
    "04_checkerboard": checkerboard_tests,
}
assert TESTS.keys() == ASSIGNMENTS.keys(), "one test builder per registered assignment"


def build(assignment: str) -> dict[str, np.ndarray]:
    """The arrays of one assignment's reference file, manifest included."""
    notebook, chapter = ASSIGNMENTS[assignment].notebook, ASSIGNMENTS[assignment].chapter
    make_tests = TESTS[assignment]
    arrays: dict[str, np.ndarray] = {}
    tests = {}
    for test in make_tests():
        assert test.grade_id not in tests, test.grade_id
        cases = []
        for case in test.cases:
            prefix = f"{test.grade_id}/{case.name}"
            assert not any(k.startswith(prefix + "/") for k in arrays), prefix
            values = [np.array(v) for v in case.args.values()]
            expected = test.oracle(values, case.kwargs)
            outputs = expected if isinstance(expected, tuple) else (expected,)
            assert len(outputs) == len(test.outputs), (prefix, len(outputs))
            for name, value in case.args.items():
                arrays[f"{prefix}/{name}"] = np.array(value)
            for name, value in zip(test.outputs, outputs, strict=True):
                arrays[f"{prefix}/{name}"] = np.array(value)
            entry = {
                "name": case.name,
                "visible": case.visible,
                "args": [f"{prefix}/{name}" for name in case.args],
                "kwargs": case.kwargs,
                "expected": (
                    f"{prefix}/{test.outputs[0]}"
                    if len(test.outputs) == 1
                    else [f"{prefix}/{name}" for name in test.outputs]
                ),
                "check": test.check,
            }
            if any(np.asarray(v).dtype.kind == "f" for v in outputs):
                entry.update(TOLERANCE)
            cases.append(entry)
        tests[test.grade_id] = {"function": test.function, "points": test.points, "cases": cases}
    manifest = {
        "assignment": assignment,
        "notebook": notebook,
        "chapter": chapter,
        "total_points": sum(test["points"] for test in tests.values()),
        "tests": tests,
    }
    arrays[MANIFEST_KEY] = np.array(json.dumps(manifest, separators=(",", ":")))
    return arrays


def visible_only(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The student copy of a reference file: the visible cases and their arrays only, so
    that the package a student installs holds no hidden input or output."""
    manifest = json.loads(str(arrays[MANIFEST_KEY]))
    keep = set()
    for test in manifest["tests"].values():
        test["cases"] = [case for case in test["cases"] if case["visible"]]
        for case in test["cases"]:
            expected = case["expected"]
            keep.update(case["args"], [expected] if isinstance(expected, str) else expected)
    manifest["visible_only"] = True
    out = {key: value for key, value in arrays.items() if key in keep}
    out[MANIFEST_KEY] = np.array(json.dumps(manifest, separators=(",", ":")))
    return out


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez`` but byte-for-byte reproducible: sorted entries, fixed timestamps."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.array(arrays[key], order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=OUT, help="output folder (default: %(default)s)"
    )
    salt_file = OUT / "salt.txt"  # a private copy of the course keeps its word here
    parser.add_argument(
        "--salt",
        default=salt_file.read_text().strip() if salt_file.exists() else "",
        help="a secret word that changes every hidden input (default: the contents of "
        "autograder/reference/salt.txt, if there is one)",
    )
    parser.add_argument(
        "--student-out",
        type=Path,
        default=STUDENT_OUT,
        help="output folder of the visible-only copies (default: %(default)s)",
    )
    parser.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS))
    options = parser.parse_args(argv)
    global SALT
    SALT = options.salt
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")
    for folder in (options.out, options.student_out):
        folder.mkdir(parents=True, exist_ok=True)
    for assignment in options.assignments:
        arrays = build(assignment)
        for path, content in (
            (options.out / f"{assignment}.npz", arrays),
            (options.student_out / f"{assignment}.npz", visible_only(arrays)),
        ):
            write_npz(path, content)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
