"""02_unpooling: nearest and bed-of-nails upsampling, max-pooling and max-unpooling,
bilinear upsampling (with align_corners), with their PyTorch oracles."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tools.reference.cases import (
    ARANGE16,
    SMALL,
    Case,
    Seeds,
    Test,
    distinct,
    nchw,
    pair,
    quarters,
    tensor,
)


def torch_nearest(args, kwargs):
    scale = pair(kwargs["scale_factor"])
    return F.interpolate(tensor(args[0]), scale_factor=scale, mode="nearest").numpy()


def torch_bed_of_nails(args, kwargs):
    x = tensor(args[0])
    sh, sw = pair(kwargs["scale_factor"])
    channels = x.shape[1]
    nail = torch.zeros(channels, 1, sh, sw, dtype=torch.float64)
    nail[:, :, 0, 0] = 1
    return F.conv_transpose2d(x, nail, stride=(sh, sw), groups=channels).numpy()


def torch_max_pool(args, kwargs):
    stride = kwargs.get("stride")
    values, indices = F.max_pool2d(
        tensor(args[0]),
        pair(kwargs["kernel_size"]),
        None if stride is None else pair(stride),
        return_indices=True,
    )
    return values.numpy(), indices.numpy()


def torch_max_unpool(args, kwargs):
    stride = kwargs.get("stride")
    size = kwargs.get("output_size")
    out = F.max_unpool2d(
        tensor(args[0]),
        torch.from_numpy(args[1]),
        pair(kwargs["kernel_size"]),
        None if stride is None else pair(stride),
        output_size=None if size is None else tuple(size),
    )
    return out.numpy()


def torch_bilinear(args, kwargs):
    return F.interpolate(
        tensor(args[0]),
        scale_factor=pair(kwargs["scale_factor"]),
        mode="bilinear",
        align_corners=kwargs.get("align_corners", False),
    ).numpy()


def pooled(seeds: Seeds, name, shape, kernel_size, stride=None):
    """Values and indices of a max-pool of a random image, as inputs for max-unpooling."""
    x = distinct(seeds.rng("unpool", name), shape)
    values, indices = F.max_pool2d(tensor(x), kernel_size, stride, return_indices=True)
    return {"input": values.numpy(), "indices": indices.numpy()}


def tests(seeds: Seeds) -> list[Test]:
    """The tests of 02_unpooling."""

    def img(name, shape):
        return {"input": quarters(seeds.rng("unpooling", name), shape)}

    def pool_img(name, shape):
        return {"input": distinct(seeds.rng("pool", name), shape)}

    def up(name, visible, args, scale, **extra):
        return Case(name, visible, args, {"scale_factor": scale, **extra})

    # visible non-square cases with per-axis arguments: small integers, checkable by hand
    visible_rng = seeds.rng("unpooling-visible", "2x3")
    two_by_three = {"input": visible_rng.integers(1, 10, (1, 1, 2, 3)).astype(np.float64)}
    pool_4x6 = (visible_rng.permutation(24) + 1).astype(np.float64).reshape(1, 1, 4, 6)
    pool_4x9 = (visible_rng.permutation(36) + 1).astype(np.float64).reshape(1, 1, 4, 9)
    maxima, switches = F.max_pool2d(tensor(pool_4x9), (2, 3), (2, 3), return_indices=True)
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
                    "batch2-ch3-6x8-k2",
                    False,
                    pooled(seeds, "u-a", (2, 3, 6, 8), 2),
                    {"kernel_size": 2},
                ),
                Case(
                    "odd-5x7-k2-output-size",
                    False,
                    pooled(seeds, "u-b", (1, 2, 5, 7), 2),
                    {"kernel_size": 2, "output_size": [5, 7]},
                ),
                Case(
                    "k3-s2-8x10-output-size",
                    False,
                    pooled(seeds, "u-c", (2, 1, 8, 10), 3, 2),
                    {"kernel_size": 3, "stride": 2, "output_size": [8, 10]},
                ),
                Case(
                    "k2x3-s2x3-6x9",
                    False,
                    pooled(seeds, "u-d", (1, 1, 6, 9), (2, 3), (2, 3)),
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
