"""Max pooling with remembered positions, and max unpooling that puts values back there.

Both follow ``torch.nn.functional.max_pool2d`` and ``max_unpool2d`` exactly: the same
arguments, output sizes (including ``ceil_mode``), indices (flat positions within each
``H*W`` plane of the input), tie-breaking (the first maximum in scan order wins) and NaN
handling (a NaN always wins; of several, the last one in scan order).
"""

from __future__ import annotations

import numpy as np

from upsampling import _args


def _pooled_length(size, kernel_size, stride, padding, dilation, ceil_mode):
    """Output length of max pooling along one axis, as PyTorch computes it."""
    span = dilation * (kernel_size - 1) + 1
    # Python's // rounds towards -inf, like PyTorch's div_rtn.
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start in the right padding: drop it
    return out


def _check_not_empty(shape, op, what):
    """PyTorch refuses empty planes (and, mostly, empty channels); an empty batch is fine."""
    if 0 in shape:
        raise ValueError(f"{op}: input must have non-zero {what}, got shape {shape}")


def _first_tap(out_length, stride, padding, dilation):
    """Per output position, the first tap of its window that lies inside the input.

    PyTorch starts the running maximum there, so this is the index reported when no tap
    beats ``-inf`` (all values ``-inf``, or a window that lies wholly in the padding).
    """
    start = np.arange(out_length) * stride - padding
    skip = -(np.minimum(start, 0) // dilation)  # ceil(-start / dilation) for start < 0
    return start + skip * dilation


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    r"""2-D max pooling over an ``(N, C, H, W)`` or ``(C, H, W)`` array.

    .. math::

        H_\text{out} = \left\lfloor \frac{H + 2\,\text{padding}
        - \text{dilation}\,(\text{kernel_size} - 1) - 1}{\text{stride}} \right\rfloor + 1

    (``ceil`` instead of ``floor`` with ``ceil_mode=True``, except that a last window
    that would start in the right padding is dropped); the same for ``W_out``.

    The input is padded with ``-inf``, so padding never wins. With
    ``return_indices=True`` the position of each maximum is returned too, as a flat
    index ``h * W + w`` into its input plane: the "switches" that ``max_unpool2d`` needs.

    Parameters
    ----------
    input : array_like, shape (N, C, H, W) or (C, H, W)
        Integers and booleans are converted to float64; float32 stays float32.
    kernel_size : int or (int, int)
        Window size.
    stride : int or (int, int), optional
        Window step; defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        Implicit ``-inf`` on both sides; at most half of ``kernel_size`` (rounded down).
    dilation : int or (int, int), default 1
        Spacing between the taps of a window.
    ceil_mode : bool, default False
        Round the output size up instead of down.
    return_indices : bool, default False
        Also return the flat positions of the maxima.

    Returns
    -------
    ndarray, shape (N, C, H_out, W_out) or (C, H_out, W_out)
        The maxima, in the input's dtype.
    ndarray of int64, same shape
        The positions of the maxima, only with ``return_indices=True``.

    Raises
    ------
    TypeError
        If an argument has the wrong kind (e.g. a float kernel size).
    ValueError
        If an argument is out of range, ``padding`` exceeds half the kernel, the input
        has the wrong number of dimensions or an empty plane, or the output is empty.

    Examples
    --------
    >>> x = np.arange(1, 17).reshape(1, 1, 4, 4)
    >>> out, idx = max_pool2d(x, 2, return_indices=True)
    >>> out
    array([[[[ 6.,  8.],
             [14., 16.]]]])
    >>> idx
    array([[[[ 5,  7],
             [13, 15]]]])
    """
    x, added_batch = _args.spatial_input(input, "input", "max_pool2d")
    kernel = _args.positive_pair(kernel_size, "kernel_size")
    steps = kernel if stride is None else _args.positive_pair(stride, "stride")
    pads = _args.non_negative_pair(padding, "padding")
    dils = _args.positive_pair(dilation, "dilation")
    if any(p > k // 2 for p, k in zip(pads, kernel, strict=True)):
        raise ValueError(
            f"padding {pads} must be at most half of kernel_size {kernel}, rounded down, "
            f"i.e. at most {(kernel[0] // 2, kernel[1] // 2)}"
        )
    _check_not_empty(x.shape[1:], "max_pool2d", "channels, height and width")
    out_hw = tuple(
        _pooled_length(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(x.shape[2:], kernel, steps, pads, dils, strict=True)
    )
    if min(out_hw) < 1:
        raise ValueError(
            f"max_pool2d: input of size {x.shape[2:]} is too small for kernel_size {kernel}, "
            f"stride {steps}, padding {pads}, dilation {dils}: the output size would be "
            f"{out_hw}, but it must be at least (1, 1)"
        )
    out, idx = _max_pool2d_vectorised(x, kernel, steps, pads, dils, out_hw)
    if added_batch:
        out, idx = out[0], idx[0]
    return (out, idx) if return_indices else out


def _max_pool2d_vectorised(x, kernel, stride, padding, dilation, out_hw):
    """The running maximum over the window taps, one whole-array step per tap."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, padding, dilation, out_hw
    # Pad with -inf far enough for every window, including the extra ceil_mode ones.
    rows = max(h + 2 * ph, (oh - 1) * sh + dh * (kh - 1) + 1)
    cols = max(w + 2 * pw, (ow - 1) * sw + dw * (kw - 1) + 1)
    padded = np.full((n, c, rows, cols), -np.inf, dtype=x.dtype)
    padded[:, :, ph : ph + h, pw : pw + w] = x

    row0 = np.arange(oh) * sh - ph  # top tap of each window, in input coordinates
    col0 = np.arange(ow) * sw - pw
    best = np.full((n, c, oh, ow), -np.inf, dtype=x.dtype)
    first = _first_tap(oh, sh, ph, dh)[:, None] * w + _first_tap(ow, sw, pw, dw)[None, :]
    idx = np.broadcast_to(first, best.shape).astype(np.int64)
    for i in range(kh):
        for j in range(kw):
            tap = padded[:, :, i * dh :: sh, j * dw :: sw][:, :, :oh, :ow]
            # PyTorch's rule: a strictly larger value, or any NaN, takes over.
            take = (tap > best) | np.isnan(tap)
            best = np.where(take, tap, best)
            where = (row0 + i * dh)[:, None] * w + (col0 + j * dw)[None, :]
            idx = np.where(take, where, idx)
    return best, idx


def _unpool_size(output_size, default, stride):
    """The output size asked for, checked against the sizes max pooling could come from."""
    if output_size is None:
        return default
    if not isinstance(output_size, (tuple, list)) or not all(map(_args._is_int, output_size)):
        raise TypeError(
            f"output_size must be a sequence of 2 or 4 ints (the last two are used), "
            f"got {output_size!r}"
        )
    if len(output_size) not in (2, 4):
        raise ValueError(
            f"output_size must have 2 or 4 elements (the last two are used), "
            f"got {len(output_size)}: {tuple(output_size)!r}"
        )
    size = tuple(int(v) for v in output_size[-2:])
    low = tuple(d - s for d, s in zip(default, stride, strict=True))
    high = tuple(d + s for d, s in zip(default, stride, strict=True))
    if not all(lo < v < hi for lo, v, hi in zip(low, size, high, strict=True)):
        raise ValueError(
            f"output_size {size} must lie strictly between {low} and {high} "
            f"(the default size {default} ± stride {stride})"
        )
    return size


def _check_indices(indices, shape):
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices must hold integers, got dtype {idx.dtype}")
    if idx.shape != shape:
        raise ValueError(f"indices must have the shape of input {shape}, got {idx.shape}")
    return idx.astype(np.int64)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    r"""Partial inverse of ``max_pool2d``: each value goes back to its remembered position.

    .. math::

        H_\text{out} = (H - 1)\,\text{stride} - 2\,\text{padding} + \text{kernel_size}

    and the same for ``W_out``.

    Every other output entry is zero. Max pooling maps several sizes to the same one
    (``floor`` in its size formula), so ``output_size`` may pick any size strictly
    between the default minus and plus ``stride``; it selects the shape only, the
    values still go where ``indices`` says.

    Parameters
    ----------
    input : array_like, shape (N, C, H, W) or (C, H, W)
        The pooled values. Integers and booleans become float64; float32 stays float32.
    indices : array_like of int, same shape as ``input``
        Flat positions ``h * W_out + w`` within each output plane, as returned by
        ``max_pool2d(..., return_indices=True)``. If two entries share a position,
        the later one (in C order) wins.
    kernel_size : int or (int, int)
        The kernel size of the max pooling being undone.
    stride : int or (int, int), optional
        Its stride; defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        Its padding.
    output_size : sequence of 2 or 4 ints, optional
        The output size; of four, the last two are used.

    Returns
    -------
    ndarray, shape (N, C, H_out, W_out) or (C, H_out, W_out)
        In the input's dtype.

    Raises
    ------
    TypeError
        If an argument has the wrong kind (e.g. float indices).
    ValueError
        If ``indices`` has another shape than ``input``, an index falls outside the
        output plane, ``output_size`` is out of bounds, or the output size is negative.

    Examples
    --------
    >>> out = np.array([[[[6, 8], [14, 16]]]])
    >>> idx = np.array([[[[5, 7], [13, 15]]]])
    >>> max_unpool2d(out, idx, 2)
    array([[[[ 0.,  0.,  0.,  0.],
             [ 0.,  6.,  0.,  8.],
             [ 0.,  0.,  0.,  0.],
             [ 0., 14.,  0., 16.]]]])
    """
    x, added_batch = _args.spatial_input(input, "input", "max_unpool2d")
    idx = _check_indices(indices, np.shape(input))
    kernel = _args.positive_pair(kernel_size, "kernel_size")
    steps = kernel if stride is None else _args.positive_pair(stride, "stride")
    pads = _args.non_negative_pair(padding, "padding")
    # PyTorch lets an unbatched (C, H, W) input have zero channels here, as if C were N.
    _check_not_empty(idx.shape[1:], "max_unpool2d", "sizes after the first dimension")
    default = tuple(
        (n - 1) * s - 2 * p + k for n, k, s, p in zip(x.shape[2:], kernel, steps, pads, strict=True)
    )
    size = _unpool_size(output_size, default, steps)
    if min(size) < 0:
        raise ValueError(
            f"max_unpool2d: the output size {size} must be non-negative; for input size "
            f"{x.shape[2:]} it is (H - 1)*stride - 2*padding + kernel_size unless output_size "
            f"is given (kernel_size {kernel}, stride {steps}, padding {pads})"
        )
    out = _scatter_planes(x, idx.reshape(x.shape), size)
    return out[0] if added_batch else out


def _scatter_planes(x, idx, size):
    """Writes each value of ``x`` at its index in a zero ``size`` plane; later ones win."""
    n, c = x.shape[:2]
    plane = size[0] * size[1]
    out = np.zeros((n * c, plane), dtype=x.dtype)
    if plane == 0:  # nothing to write to; PyTorch does not look at the indices then
        return out.reshape(n, c, *size)
    flat_idx = idx.reshape(n * c, idx.shape[2] * idx.shape[3])
    bad = (flat_idx < 0) | (flat_idx >= plane)
    if bad.any():
        value = flat_idx.flat[np.argmax(bad)]
        raise ValueError(
            f"indices contains {value}, outside the output plane of size {size[0]}x{size[1]} "
            f"(valid indices are 0 to {plane - 1})"
        )
    # Global positions; keep the last write to each (numpy does not promise an order).
    target = (np.arange(n * c)[:, None] * plane + flat_idx).ravel()
    reverse_target = target[::-1]
    _, last = np.unique(reverse_target, return_index=True)
    source = target.size - 1 - last
    out.ravel()[target[source]] = x.reshape(-1)[source]
    return out.reshape(n, c, *size)
