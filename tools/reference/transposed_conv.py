"""03_transposed_conv: the transposed convolution by scatter, with stride, padding,
output_padding and channels, by zero insertion, and as the transpose of the
convolution matrix, with their PyTorch oracles."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tools.reference.cases import (
    D2L_K,
    D2L_Y,
    LAPLACIAN,
    LAPLACIAN_Y,
    SEED001_K,
    SEED001_X,
    SEED002_K,
    SEED002_X,
    SEED004_X,
    Case,
    Seeds,
    Test,
    float_array,
    nchw,
    pair,
    quarters,
    tensor,
)


def torch_transpose(args, kwargs):
    tensors = [tensor(v) for v in args]
    return F.conv_transpose2d(*tensors, **{k: pair(v) for k, v in kwargs.items()}).numpy()


def torch_transpose_plane(args, kwargs):
    x, w = (tensor(v)[None, None] for v in args)
    return F.conv_transpose2d(x, w, **{k: pair(v) for k, v in kwargs.items()})[0, 0].numpy()


def torch_conv_matrix(args, kwargs):
    """Column j of C is the convolution of the j-th basis image."""
    w = tensor(args[0])[None, None]
    h, wd = kwargs["input_size"]
    basis = torch.eye(h * wd, dtype=torch.float64).reshape(h * wd, 1, h, wd)
    out = F.conv2d(
        basis, w, stride=pair(kwargs.get("stride", 1)), padding=pair(kwargs.get("padding", 0))
    )
    return out.reshape(h * wd, -1).T.contiguous().numpy()


def tests(seeds: Seeds) -> list[Test]:
    """The tests of 03_transposed_conv."""

    def plane(name, visible, x, k, **kwargs):
        return Case(name, visible, {"input": float_array(x), "weight": float_array(k)}, kwargs)

    def rnd(name, x_shape, w_shape, bias=False):
        rng = seeds.rng("transposed", name)
        args = {"input": quarters(rng, x_shape), "weight": quarters(rng, w_shape)}
        if bias:
            args["bias"] = quarters(rng, (w_shape[1],))
        return args

    def rnd_plane(name, x_shape, k_shape):
        rng = seeds.rng("transposed-plane", name)
        return {"input": quarters(rng, x_shape), "weight": quarters(rng, k_shape)}

    def full(name, visible, args, **kwargs):
        return Case(name, visible, args, kwargs)

    def mat(name, visible, k, input_size, **kwargs):
        return Case(name, visible, {"weight": float_array(k)}, {"input_size": input_size, **kwargs})

    def rnd_k(name, shape):
        return quarters(seeds.rng("matrix", name), shape)

    def small_ints(name, *shapes):
        """Small integers for visible cases: results a student can check by hand."""
        rng = seeds.rng("transposed-visible", name)
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
    small = seeds.rng("transposed", "visible-channels")
    channels_small = {
        "input": small.integers(-2, 3, (2, 2, 2, 2)).astype(np.float64),
        "weight": small.integers(-2, 3, (2, 3, 2, 2)).astype(np.float64),
    }
    two_kernels = np.stack([float_array(SEED002_K), float_array(SEED002_K).T])[None]  # (1, 2, 3, 3)
    bias_small = {"input": nchw(SEED002_X), "weight": two_kernels, "bias": float_array([1, -1])}
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
                    "nonsquare-2x3-k3x2-s2x3-p1x0",
                    (1, 1, 2, 3),
                    (1, 1, 3, 2),
                    stride=[2, 3],
                    padding=[1, 0],
                ),
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
                    "nonsquare-2x3-k2x3-s3x2-p1x0-op2x1",
                    (1, 1, 2, 3),
                    (1, 1, 2, 3),
                    stride=[3, 2],
                    padding=[1, 0],
                    output_padding=[2, 1],
                ),
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
                    "n2-cin2-cout3-bias-2x3-k3x2-s2x1-p1x0-op1x0",
                    (2, 2, 2, 3),
                    (2, 3, 3, 2),
                    bias=True,
                    stride=[2, 1],
                    padding=[1, 0],
                    output_padding=[1, 0],
                ),
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
                plane(
                    "seed002-stride2-padding1-op1",
                    True,
                    SEED002_X,
                    SEED002_K,
                    stride=2,
                    padding=1,
                    output_padding=1,
                ),
                visible_plane(
                    "nonsquare-2x3-k2x3-s3x2-p1x0-op1x1",
                    (2, 3),
                    (2, 3),
                    stride=[3, 2],
                    padding=[1, 0],
                    output_padding=[1, 1],
                ),
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
                    "k2x3-s2x1-p1x0-3x4",
                    True,
                    small_ints("matrix", (2, 3))[0],
                    [3, 4],
                    stride=[2, 1],
                    padding=[1, 0],
                ),
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
                visible_plane(
                    "nonsquare-2x3-k3x2-s2x1-p1x0", (2, 3), (3, 2), stride=[2, 1], padding=[1, 0]
                ),
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
