"""04_checkerboard: overlap counts, checkerboard scores, resize-convolution, phase sums,
the polyphase transposed convolution and ICNR, with their PyTorch oracles."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tools.reference.cases import (
    D2L_K,
    SEED002_K,
    SEED002_X,
    SMALL,
    Case,
    Seeds,
    Test,
    float_array,
    nchw,
    pair,
    quarters,
    tensor,
)


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
    x = tensor(args[0])
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
    x = F.interpolate(
        tensor(args[0]), scale_factor=pair(kwargs.get("scale_factor", 2)), mode="nearest"
    )
    padding = kwargs.get("padding", "same")
    padding = padding if padding == "same" else pair(padding)
    return F.conv2d(x, *(tensor(v) for v in args[1:]), padding=padding).numpy()


def torch_phase_sums(args, kwargs):
    """The interior of a transposed convolution (padding 0) of a constant input of ones:
    output position y gets the taps t with t % s == y % s, so one period of the interior,
    rearranged by phase, is the table of phase sums."""
    kernel = tensor(args[0])
    kh, kw = kernel.shape
    sh, sw = pair(kwargs["stride"])
    size = (-(-kh // sh) + 2, -(-kw // sw) + 2)
    out = F.conv_transpose2d(
        torch.ones(1, 1, *size, dtype=torch.float64), kernel[None, None], stride=(sh, sw)
    )[0, 0]
    rows = [next(y for y in range(kh - 1, kh - 1 + sh) if y % sh == a) for a in range(sh)]
    cols = [next(y for y in range(kw - 1, kw - 1 + sw) if y % sw == b) for b in range(sw)]
    return out[rows][:, cols].numpy()


def torch_transpose_plane(args, kwargs):
    """F.conv_transpose2d of one 2-D channel: what the polyphase answer must equal."""
    x, w = (tensor(v)[None, None] for v in args)
    return F.conv_transpose2d(x, w, **{k: pair(v) for k, v in kwargs.items()})[0, 0].numpy()


def torch_icnr(args, kwargs):
    r = kwargs["upscale_factor"]
    return tensor(args[0]).repeat_interleave(r * r, dim=0).numpy()


def tests(seeds: Seeds) -> list[Test]:
    """The tests of 04_checkerboard."""

    def counts(name, visible, size, k, s, **extra):
        return Case(name, visible, {}, {"input_size": size, "kernel_size": k, "stride": s, **extra})

    def score(name, visible, x, stride, **extra):
        return Case(name, visible, {"x": x}, {"stride": stride, **extra})

    def rnd(name, x_shape, w_shape, bias=False):
        rng = seeds.rng("resize", name)
        args = {"input": quarters(rng, x_shape), "weight": quarters(rng, w_shape)}
        if bias:
            args["bias"] = quarters(rng, (w_shape[0],))
        return args

    def resize(name, visible, args, scale, padding):
        return Case(name, visible, args, {"scale_factor": scale, "padding": padding})

    def small_ints(name, *shapes):
        """Small integers for visible cases: results a student can check by hand."""
        rng = seeds.rng("checkerboard-visible", name)
        return [rng.integers(-2, 3, shape).astype(np.float64) for shape in shapes]

    def sums(name, visible, kernel, stride):
        return Case(name, visible, {"weight": kernel}, {"stride": stride})

    def phases(name, visible, x, k, stride, **extra):
        if not visible:
            rng = seeds.rng("polyphase", name)
            x, k = quarters(rng, x), quarters(rng, k)  # shapes for the hidden cases
        return Case(name, visible, {"input": x, "weight": k}, {"stride": stride, **extra})

    def icnr(name, visible, shape, r):
        weight = small_ints(name, shape)[0] if visible else quarters(seeds.rng("icnr", name), shape)
        return Case(name, visible, {"weight": weight}, {"upscale_factor": r})

    tent = np.outer([0.5, 1, 0.5], [0.5, 1, 0.5])
    bilinear2 = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 16  # FCN's initialisation, factor 2
    bilinear3 = np.outer([1, 2, 3, 2, 1], [1, 2, 3, 2, 1]) / 9  # factor 3: k = 5
    cross = float_array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])[None, None]
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
                score("tile-1224-s2", True, np.tile(float_array([[1, 2], [2, 4]]), (3, 3)), 2),
                score(
                    "tile-6x9-s2x3-border1x0",
                    True,
                    np.tile(float_array([[1, 2, 3], [2, 4, 6]]), (3, 3)),
                    [2, 3],
                    border=[1, 0],
                ),
                score(
                    "nchw-2x3x9x10-s2-border1",
                    False,
                    quarters(seeds.rng("score", "a"), (2, 3, 9, 10)),
                    2,
                    border=1,
                ),
                score(
                    "11x13-s3-border2",
                    False,
                    quarters(seeds.rng("score", "b"), (11, 13)) + 4,
                    3,
                    border=2,
                ),
                score("8x9-s2x3", False, quarters(seeds.rng("score", "c"), (1, 1, 8, 9)), [2, 3]),
                score(
                    "negative-7x7-s2", False, -np.abs(quarters(seeds.rng("score", "d"), (7, 7))), 2
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
                    dict(
                        zip(
                            ("input", "weight"),
                            small_ints("rc", (1, 1, 2, 3), (1, 1, 2, 3)),
                            strict=True,
                        )
                    ),
                    [2, 3],
                    [1, 0],
                ),
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
                    dict(
                        zip(
                            ("input", "weight"),
                            small_ints("rcs", (1, 1, 2, 3), (1, 1, 3, 2)),
                            strict=True,
                        )
                    ),
                    {"scale_factor": [2, 1]},
                ),
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
                sums("k5-s3", False, quarters(seeds.rng("sums", "a"), (5, 5)), 3),
                sums("gaps-k1-s2", False, quarters(seeds.rng("sums", "b"), (1, 1)), 2),
                sums("k4x5-s3x2", False, quarters(seeds.rng("sums", "c"), (4, 5)), [3, 2]),
                sums("fcn-bilinear-k5-s3", False, bilinear3, 3),
                sums("k3x2-s1", False, quarters(seeds.rng("sums", "d"), (3, 2)), 1),
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
        Test(
            "checkerboard-polyphase",
            "conv_transpose2d_polyphase",
            3,
            "conv_transpose2d_polyphase",
            torch_transpose_plane,
            [
                phases("seed002-k3-s2", True, float_array(SEED002_X), float_array(SEED002_K), 2),
                phases("d2l-k2-s2", True, float_array(SMALL), float_array(D2L_K), 2),
                phases(
                    "nonsquare-2x3-k3x4-s2x3-p1x0",
                    True,
                    *small_ints("pp", (2, 3), (3, 4)),
                    [2, 3],
                    padding=[1, 0],
                ),
                phases("4x5-k5x4-s3x2", False, (4, 5), (5, 4), [3, 2]),
                phases("gaps-3x3-k1-s2", False, (3, 3), (1, 1), 2),
                phases("5x4-k4-s2-p1", False, (5, 4), (4, 4), 2, padding=1),
                phases("3x4-k3x2-s1", False, (3, 4), (3, 2), 1),
                phases("2x3-k2x5-s3-p0x2", False, (2, 3), (2, 5), 3, padding=[0, 2]),
                phases("4x2-k5-s2x3-p2", False, (4, 2), (5, 5), [2, 3], padding=2),
            ],
        ),
    ]
