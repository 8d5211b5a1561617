"""01_sizes: output sizes of convolutions (with dilation) and transposed convolutions
(with output_padding), and a decoder's output_padding; the oracles measure PyTorch's
layers."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tools.reference.cases import Case, Seeds, Test


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


def tests(seeds: Seeds) -> list[Test]:
    """The tests of 01_sizes (no random inputs: ``seeds`` is unused)."""

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
