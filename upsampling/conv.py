"""The convolution (cross-correlation, as in PyTorch) and its matrix ``C``."""

from __future__ import annotations

import numpy as np

from upsampling import _args
from upsampling.sizes import conv_output_size


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D convolution over a batch of images, exactly as ``torch.nn.functional.conv2d``.

    Like every deep-learning framework this is a cross-correlation: the kernel is not
    flipped. ``out[n, o, i, j] = bias[o] + sum_{c, a, b} x[n, c, i*s + a*d - p, j*s + b*d - p]
    * weight[o, c, a, b]`` with ``c`` running over the input channels of ``o``'s group.

    Output size per axis (``k`` the kernel size; the same for ``W_out``):

    .. math::

        H_\text{out} = \left\lfloor \frac{H_\text{in} + 2\,\text{padding}
        - \text{dilation}\,(k - 1) - 1}{\text{stride}} \right\rfloor + 1

    Parameters
    ----------
    input : array, shape (N, C_in, H, W) or (C_in, H, W)
    weight : array, shape (C_out, C_in / groups, kH, kW)
    bias : array of shape (C_out,), optional
    stride, dilation : int or pair of int
    padding : int, pair of int, ``"valid"`` or ``"same"``
        Zeros added on both sides; ``"same"`` keeps the input size (stride 1 only) and puts
        the odd extra zero at the bottom/right, as PyTorch does.
    groups : int
        Channels are split into ``groups`` independent convolutions.

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out) (no batch axis if ``input`` had none)

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> conv2d(x, np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))[0, 0]
    array([[27., 37.],
           [57., 67.]])
    """
    x, unbatched = _args.spatial_input(input, "input", "conv2d")
    w = _conv_weight(weight, x.shape[1], groups, "conv2d")
    stride = _args.positive_pair(stride, "stride")
    dilation = _args.positive_pair(dilation, "dilation")
    padding = _padding(padding, w.shape[2:], stride, dilation)
    b = _bias(bias, w.shape[0], "conv2d")

    (pt, pb), (pl, pr) = padding
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    kh, kw = w.shape[2:]
    spans = tuple(d * (k - 1) + 1 for k, d in zip((kh, kw), dilation, strict=True))
    if xp.shape[2] < spans[0] or xp.shape[3] < spans[1]:
        raise ValueError(
            f"conv2d: the (dilated) kernel {spans} is larger than the padded input "
            f"{xp.shape[2:]}: pad the input or use a smaller kernel_size or dilation"
        )
    h_out = conv_output_size(xp.shape[2], kh, stride[0], 0, dilation[0])
    w_out = conv_output_size(xp.shape[3], kw, stride[1], 0, dilation[1])

    cols = _im2col(xp, (kh, kw), (h_out, w_out), stride, dilation)  # (N, C_in, kh, kw, Ho, Wo)
    n, c_in = x.shape[:2]
    c_out = w.shape[0]
    cols = cols.reshape(n, groups, (c_in // groups) * kh * kw, h_out * w_out)
    w_mat = w.reshape(groups, c_out // groups, -1)
    out = np.matmul(w_mat, cols).reshape(n, c_out, h_out, w_out)
    out = out.astype(_args.common_float(x, w, b), copy=False)
    if b is not None:
        out += b[:, None, None]
    return out[0] if unbatched else out


def _im2col(xp, kernel, out_size, stride, dilation):
    """Stacks, for every kernel offset, the input values it meets: (N, C, kh, kw, Ho, Wo)."""
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_size, stride, dilation
    n, c = xp.shape[:2]
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=xp.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[:, :, a, b] = xp[
                :,
                :,
                a * dh : a * dh + sh * (ho - 1) + 1 : sh,
                b * dw : b * dw + sw * (wo - 1) + 1 : sw,
            ]
    return cols


def conv_matrix(weight, input_size, stride=1, padding=0, dilation=1, groups=1):
    """The matrix ``C`` of a convolution: ``conv2d(x).ravel() == C @ x.ravel()``.

    For one unbatched image ``x`` of shape ``(C_in, H, W)``, ``C`` has shape
    ``(C_out*H_out*W_out, C_in*H*W)``: row ``r`` holds the kernel weights that output
    value ``r`` multiplies, laid over the flattened input. Its transpose ``C.T`` is the
    transposed convolution with the same weight, stride, padding, dilation and groups,
    from ``(C_out, H_out, W_out)`` back to ``(C_in, H, W)`` (the weight, of shape
    ``(C_out, C_in/groups, kH, kW)``, reads as ``(C_in', C_out'/groups, kH, kW)`` there).

    Parameters
    ----------
    weight : array, shape (C_out, C_in / groups, kH, kW)
    input_size : pair of int
        ``(H, W)`` of the input image.
    stride, padding, dilation, groups
        As in :func:`conv2d` (``padding`` an int or pair).

    Examples
    --------
    >>> C = conv_matrix(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), (3, 3))
    >>> C.shape
    (4, 9)
    >>> C @ np.arange(9.0)
    array([27., 37., 57., 67.])
    """
    w = _args.as_float_array(weight, "weight")
    if w.ndim != 4:
        raise ValueError(f"conv_matrix: weight must have 4 dimensions, got shape {w.shape}")
    groups = _args.positive_int(groups, "groups")
    h, wd = _args.positive_pair(input_size, "input_size")
    stride = _args.positive_pair(stride, "stride")
    padding = _args.non_negative_pair(padding, "padding")
    dilation = _args.positive_pair(dilation, "dilation")
    c_out, c_in_g, kh, kw = w.shape
    if c_out % groups:
        raise ValueError(f"weight.shape[0] ({c_out}) must be divisible by groups ({groups})")
    ho, wo = conv_output_size((h, wd), (kh, kw), stride, padding, dilation)

    oi, oj = np.meshgrid(np.arange(ho), np.arange(wo), indexing="ij")
    matrix = np.zeros((c_out * ho * wo, c_in_g * groups * h * wd), dtype=w.dtype)
    for o in range(c_out):
        group = o // (c_out // groups)
        rows = (o * ho + oi) * wo + oj
        for c in range(c_in_g):
            channel = group * c_in_g + c
            for a in range(kh):
                for b in range(kw):
                    ii = oi * stride[0] - padding[0] + a * dilation[0]
                    jj = oj * stride[1] - padding[1] + b * dilation[1]
                    inside = (ii >= 0) & (ii < h) & (jj >= 0) & (jj < wd)
                    cols = (channel * h + ii) * wd + jj
                    matrix[rows[inside], cols[inside]] += w[o, c, a, b]
    return matrix


def _conv_weight(weight, in_channels, groups, op, transposed=False):
    """Checks a 4-D weight against the input's channel count and ``groups``."""
    w = _args.as_float_array(weight, "weight")
    groups = _args.positive_int(groups, "groups")
    if w.ndim != 4:
        raise ValueError(f"{op}: weight must have 4 dimensions, got shape {w.shape}")
    if min(w.shape[2:]) < 1:
        raise ValueError(f"{op}: weight's kernel size must be positive, got shape {w.shape}")
    if transposed:
        if w.shape[0] % groups:
            raise ValueError(
                f"{op}: weight.shape[0] ({w.shape[0]}, the input channels) must be divisible "
                f"by groups ({groups})"
            )
        if w.shape[0] != in_channels:
            raise ValueError(
                f"{op}: weight of shape {w.shape} expects input with {w.shape[0]} channels "
                f"(weight.shape[0]), but input has {in_channels}"
            )
    else:
        if w.shape[0] % groups:
            raise ValueError(
                f"{op}: weight.shape[0] ({w.shape[0]}, the output channels) must be divisible "
                f"by groups ({groups})"
            )
        if w.shape[1] * groups != in_channels:
            raise ValueError(
                f"{op}: weight of shape {w.shape} with groups={groups} expects input with "
                f"{w.shape[1] * groups} channels (weight.shape[1] * groups), "
                f"but input has {in_channels}"
            )
    return w


def _bias(bias, out_channels, op):
    if bias is None:
        return None
    b = _args.as_float_array(bias, "bias")
    if b.shape != (out_channels,):
        raise ValueError(
            f"{op}: bias must have shape ({out_channels},) (one value per output channel), "
            f"got {b.shape}"
        )
    return b


def _padding(padding, kernel, stride, dilation):
    """``padding`` as ((top, bottom), (left, right)), resolving ``"valid"`` and ``"same"``."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"padding='same' is not supported for strided convolutions ({stride})")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    ph, pw = _args.non_negative_pair(padding, "padding")
    return (ph, ph), (pw, pw)
