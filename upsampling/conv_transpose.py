"""The transposed convolution, five ways.

All five compute exactly ``torch.nn.functional.conv_transpose2d`` and are tested against
each other and against PyTorch:

- ``"scatter"``: the definition, as a loop. Every input value scales a copy of the kernel,
  and the copies, placed ``stride`` apart, are summed where they overlap.
- ``"zero_insertion"``: insert ``stride - 1`` zeros between input values, pad by
  ``dilation*(k - 1) - padding``, and convolve with the flipped kernel.
- ``"matrix"``: multiply by ``C.T``, the transpose of the convolution's matrix.
- ``"gemm"`` (default): one matrix product per group (every kernel tap at every input
  position), then col2im: add the ``kH*kW`` taps into the output phase by phase
  (position modulo stride), so that each tap is a single strided add; a batch is done a
  few images at a time, which bounds the memory the products take.
- ``"polyphase"``: ``stride_h * stride_w`` stride-1 convolutions, one per output phase,
  each with the sub-kernel of the taps that land on that phase (``w[..., a::s, b::s]``
  when ``dilation`` is 1), interleaved into the output as ``pixel_shuffle`` interleaves
  channels. No product ever involves an inserted zero (only the border zeros that any
  convolution pads with); this is the sub-pixel convolution of Shi et al. (2016) read
  backwards, see :func:`_polyphase`.
"""

from __future__ import annotations

import numpy as np

from upsampling import _args
from upsampling.conv import _bias, _conv_weight, conv2d, conv_matrix
from upsampling.sizes import check_output_padding, conv_output_size, conv_transpose_output_size

METHODS = ("gemm", "scatter", "zero_insertion", "matrix", "polyphase")


def conv_transpose2d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
    *,
    method="gemm",
):
    r"""2-D transposed convolution, exactly as ``torch.nn.functional.conv_transpose2d``.

    The adjoint of :func:`conv2d` with the same weight, stride, padding, dilation and
    groups: each input value scales a copy of its kernel, copies are placed ``stride``
    apart (kernel taps ``dilation`` apart), summed where they overlap, and ``padding``
    rows and columns are cropped from every side of that full result.

    Output size per axis (the same for ``W_out``):

    .. math::

        H_\text{out} &= (H_\text{in} - 1)\,\text{stride} - 2\,\text{padding} \\
        &\quad + \text{dilation}\,(k_H - 1) + \text{output_padding} + 1

    ``output_padding`` adds no zeros: a strided convolution maps ``stride`` different input
    sizes to the same output size, and ``output_padding`` picks which one to return, by
    keeping that many more rows/columns of the full result at the bottom/right.

    Parameters
    ----------
    input : array, shape (N, C_in, H_in, W_in) or (C_in, H_in, W_in)
    weight : array, shape (C_in, C_out / groups, kH, kW)
        Note the layout: input channels first (the reverse of :func:`conv2d`).
    bias : array of shape (C_out,), optional
    stride, padding, output_padding, dilation : int or pair of int
    groups : int
        ``C_in`` is split into ``groups`` independent transposed convolutions.
    method : {"gemm", "scatter", "zero_insertion", "matrix", "polyphase"}
        How to compute it (all give the same result; see the module docstring).

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out) (no batch axis if ``input`` had none)

    Raises
    ------
    ValueError
        Wrong number of dimensions, channel mismatch, channels not divisible by
        ``groups``, ``output_padding`` not smaller than ``stride`` or ``dilation``,
        or an output size below 1.

    Examples
    --------
    >>> x = np.array([[[[0.0, 1.0], [2.0, 3.0]]]])
    >>> conv_transpose2d(x, x)[0, 0]
    array([[ 0.,  0.,  1.],
           [ 0.,  4.,  6.],
           [ 4., 12.,  9.]])
    >>> x = np.array([[[[2.0, 0.0], [4.0, 1.0]]]])
    >>> k = np.array([[[[4.0, 2.0, 1.0], [1.0, 0.0, 3.0], [0.0, 5.0, 2.0]]]])
    >>> conv_transpose2d(x, k, stride=2, padding=1)[0, 0]
    array([[ 0.,  6.,  0.],
           [18., 12.,  2.],
           [ 0., 13.,  0.]])
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; got {method!r}")
    x, unbatched = _args.spatial_input(input, "input", "conv_transpose2d")
    w = _conv_weight(weight, x.shape[1], groups, "conv_transpose2d", transposed=True)
    stride = _args.positive_pair(stride, "stride")
    padding = _args.non_negative_pair(padding, "padding")
    output_padding = _args.non_negative_pair(output_padding, "output_padding")
    dilation = _args.positive_pair(dilation, "dilation")
    check_output_padding(output_padding, stride, dilation)
    if min(x.shape[2:]) < 1:
        raise ValueError(f"conv_transpose2d: input has an empty spatial size {x.shape[2:]}")
    out_size = conv_transpose_output_size(
        x.shape[2:], w.shape[2:], stride, padding, output_padding, dilation
    )
    b = _bias(bias, w.shape[1] * groups, "conv_transpose2d")
    dtype = _args.common_float(x, w, b)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)

    params = stride, padding, output_padding, dilation, groups
    out = _IMPLEMENTATIONS[method](x, w, out_size, *params)
    if b is not None:
        out += b.astype(dtype)[:, None, None]
    return out[0] if unbatched else out


def _full_size(in_size, kernel, stride, dilation, output_padding):
    """Size of the uncropped result: every kernel copy in full, plus output_padding."""
    return tuple(
        (i - 1) * s + d * (k - 1) + 1 + op
        for i, k, s, d, op in zip(in_size, kernel, stride, dilation, output_padding, strict=True)
    )


def _crop(full, padding, out_size):
    """Drops ``padding`` rows/columns at the top/left and keeps ``out_size`` values."""
    (pt, pl), (ho, wo) = padding, out_size
    return full[:, :, pt : pt + ho, pl : pl + wo]


def _scatter(x, w, out_size, stride, padding, output_padding, dilation, groups):
    n, c_in, h, wd = x.shape
    _, c_out_g, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    full = np.zeros(
        (n, c_out_g * groups, *_full_size((h, wd), (kh, kw), stride, dilation, output_padding)),
        dtype=x.dtype,
    )
    for c in range(c_in):
        group = c // (c_in // groups)
        outs = slice(group * c_out_g, (group + 1) * c_out_g)
        for i in range(h):
            for j in range(wd):
                # One input value scales the whole kernel; add it where its copy lands.
                rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
                cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
                full[:, outs, rows, cols] += x[:, c, i, j, None, None, None] * w[c]
    return _crop(full, padding, out_size)


def _zero_insertion(x, w, out_size, stride, padding, output_padding, dilation, groups):
    n, c_in, h, wd = x.shape
    _, c_out_g, kh, kw = w.shape
    sh, sw = stride
    spread = np.zeros((n, c_in, (h - 1) * sh + 1, (wd - 1) * sw + 1), dtype=x.dtype)
    spread[:, :, ::sh, ::sw] = x
    # Pad by d*(k-1) - p on each side (output_padding more at the bottom/right); a negative
    # amount crops instead.
    edges = []
    for k, d, p, op in zip((kh, kw), dilation, padding, output_padding, strict=True):
        q = d * (k - 1) - p
        edges.append((q, q + op))
    spread = _pad_or_crop(spread, edges)
    out = conv2d(spread, _flipped_conv_weight(w, groups), dilation=dilation, groups=groups)
    assert out.shape[2:] == tuple(out_size)
    return out


def _flipped_conv_weight(w, groups):
    """The equivalent convolution's weight: channels swapped within each group, kernel
    flipped. ``(C_in, C_out/g, kH, kW) -> (C_out, C_in/g, kH, kW)``."""
    c_in, c_out_g, kh, kw = w.shape
    return (
        w.reshape(groups, c_in // groups, c_out_g, kh, kw)
        .swapaxes(1, 2)
        .reshape(groups * c_out_g, c_in // groups, kh, kw)[:, :, ::-1, ::-1]
    )


def _pad_or_crop(x, edges):
    pads = [(0, 0), (0, 0)] + [(max(a, 0), max(b, 0)) for a, b in edges]
    x = np.pad(x, pads)
    (t, bo), (le, r) = [(max(-a, 0), max(-b, 0)) for a, b in edges]
    return x[:, :, t : x.shape[2] - bo, le : x.shape[3] - r]


def _matrix(x, w, out_size, stride, padding, output_padding, dilation, groups):
    # The transposed convolution's weight (C_in, C_out/g, kH, kW) is the weight of the
    # convolution that maps the output (C_out, H_out, W_out) back to the input's shape.
    matrix = conv_matrix(w, out_size, stride, padding, dilation, groups)
    # When output_padding >= stride (allowed if < dilation), that convolution has more
    # output rows/columns than x has: only the first H_in x W_in of them are transposed.
    n, c_in, h, wd = x.shape
    conv_size = conv_output_size(out_size, w.shape[2:], stride, padding, dilation)
    matrix = matrix.reshape(c_in, *conv_size, -1)[:, :h, :wd].reshape(c_in * h * wd, -1)
    out = x.reshape(n, -1) @ matrix  # row vectors: (C^T x^T)^T = x C
    return out.reshape(n, w.shape[1] * groups, *out_size)


_CHUNK_BYTES = 16 << 20  # GEMM results held at once: bounds the memory used


def _gemm(x, w, out_size, stride, padding, output_padding, dilation, groups):
    n, c_in, h, wd = x.shape
    _, c_out_g, kh, kw = w.shape
    (sh, sw), (dh, dw), c_in_g = stride, dilation, c_in // groups
    c_out = c_out_g * groups
    # Output position i*s + a*d splits into phase (a*d) % s and cell i + (a*d) // s: tap a
    # of input row i lands in phase (a*d) % s, shifted by (a*d) // s cells.
    fh, fw = _full_size((h, wd), (kh, kw), stride, dilation, output_padding)
    qh, qw = -(-fh // sh), -(-fw // sw)  # cells per phase
    cells = qh * qw
    # Input as (C_in, N, qh, qw), zero-padded to the cell grid: a shift by (ta, tb) cells
    # is then one flat offset ta*qw + tb, and whatever it carries past a row is zero.
    xt = np.zeros((c_in, n, qh, qw), dtype=x.dtype)
    xt[:, :, :h, :wd] = x.transpose(1, 0, 2, 3)
    w_t = [w[g * c_in_g : (g + 1) * c_in_g].reshape(c_in_g, -1).T.copy() for g in range(groups)]
    taps = [
        (a, b, (a * dh) % sh, (b * dw) % sw, (a * dh) // sh * qw + (b * dw) // sw)
        for a in range(kh)
        for b in range(kw)
    ]
    full = np.empty((n, c_out, qh, sh, qw * sw), dtype=x.dtype)
    chunk = max(1, _CHUNK_BYTES // (c_out * kh * kw * cells * x.itemsize))
    cols_buffer = np.empty(c_out * kh * kw * min(chunk, n) * cells, dtype=x.dtype)
    phase_buffer = np.empty(sh * c_out * min(chunk, n) * cells * sw, dtype=x.dtype)
    for n0 in range(0, n, chunk):
        images = min(chunk, n - n0)
        span = images * cells
        # GEMM: every tap of every output channel at every input position of these images.
        cols = cols_buffer[: c_out * kh * kw * span].reshape(groups, -1, span)
        for g in range(groups):
            xg = xt[g * c_in_g : (g + 1) * c_in_g, n0 : n0 + images].reshape(c_in_g, span)
            np.matmul(w_t[g], xg, out=cols[g])
        cols = cols.reshape(c_out, kh, kw, span)
        # col2im into phases laid out (row phase, C_out, cells, column phase): each tap is
        # one strided add, and every output row is contiguous.
        phases = phase_buffer[: sh * c_out * span * sw].reshape(sh, c_out, span * sw)
        phases.fill(0)
        for a, b, ra, rb, offset in taps:
            target = phases[ra, :, offset * sw + rb :: sw]
            target[:, : span - offset] += cols[:, a, b, : span - offset]
        rows = phases.reshape(sh, c_out, images, qh, qw * sw)
        full[n0 : n0 + images] = rows.transpose(2, 1, 3, 0, 4)
    full = full.reshape(n, c_out, qh * sh, qw * sw)
    return _crop(full, padding, out_size)


def _phase_taps(kernel, stride, dilation, full_phase):
    """The taps of one axis that land on phase ``full_phase`` of the uncropped output.

    Tap ``a`` of input ``i`` lands on full position ``i*s + a*d``: phase ``(a*d) % s``,
    cell ``i + (a*d) // s``. With ``g = gcd(d, s)`` the taps of a phase ``r`` (none
    unless ``g`` divides ``r``) are ``a0, a0 + s/g, a0 + 2s/g, ...`` for the smallest
    such ``a0``, and tap ``a0 + m*s/g`` is shifted by ``(a0*d) // s + m*d/g`` cells: the
    phase is a stride-1 transposed convolution with the sub-kernel ``w[a0::s/g]``,
    dilation ``d/g``, shifted by ``(a0*d) // s`` cells.

    Returns ``(taps, sub_dilation, shift)`` with ``taps`` a slice of the kernel axis, or
    None when no tap lands on the phase (kernel smaller than the stride, say).
    """
    first = next((a for a in range(kernel) if (a * dilation) % stride == full_phase), None)
    if first is None:
        return None
    g = np.gcd(dilation, stride)
    return slice(first, kernel, stride // g), dilation // g, (first * dilation) // stride


def _polyphase(x, w, out_size, stride, padding, output_padding, dilation, groups):
    """One stride-1 convolution per output phase, interleaved.

    Per axis: output position ``o = r + q*s`` (output phase ``r``, cell ``q``) is full
    position ``o + p``, so it is cell ``q0 + q`` of full phase ``(r + p) % s``, with
    ``q0 = (r + p) // s``. That full phase has (see :func:`_phase_taps`) the sub-kernel
    ``v = w[a0::s/g]``, dilation ``e = d/g`` and shift ``t``:
    ``y[r + q*s] = sum_m x[q0 + q - t - m*e] * v[m]``, a stride-1 transposed convolution:
    the stride-1 correlation with the flipped ``v`` of ``x`` padded by
    ``L = e*(len(v) - 1) - q0 + t`` at the start (cropped if negative) and to the length
    that gives the phase's ``ceil((H_out - r) / s)`` cells. Writing phase ``(r_h, r_w)``
    into ``y[..., r_h::s_h, r_w::s_w]`` is ``pixel_shuffle``'s interleave (exactly
    ``pixel_shuffle`` of the phases stacked as channels when ``s_h == s_w`` divides the
    output size). ``output_padding`` only adds cells to the bottom/right phases.

    Each phase is one matrix product per group, over the taps of its sub-kernel only.
    """
    n, c_in, h, wd = x.shape
    c_out = w.shape[1] * groups
    out = np.zeros((n, c_out, *out_size), dtype=x.dtype)
    axes = [
        [plan for r in range(axis[2]) if (plan := _phase_plan(*axis, r)) is not None]
        for axis in zip((h, wd), w.shape[2:], stride, padding, dilation, out_size, strict=True)
    ]
    if not axes[0] or not axes[1]:
        return out
    # Channels first, padded once for every phase: a phase reads a window of it.
    margins = [
        (max(0, *(plan[3][0] for plan in plans)), max(0, *(plan[3][1] for plan in plans)))
        for plans in axes
    ]
    xt = np.pad(x.transpose(1, 0, 2, 3), [(0, 0), (0, 0), *margins])
    for r, taps_h, e_h, (top, bottom) in axes[0]:
        rows = slice(margins[0][0] - top, margins[0][0] + h + bottom)
        for c, taps_w, e_w, (left, right) in axes[1]:
            cols = slice(margins[1][0] - left, margins[1][0] + wd + right)
            sub = _flipped_conv_weight(w[:, :, taps_h, taps_w], groups)
            phase = _correlate(xt[:, :, rows, cols], sub, (e_h, e_w), groups)
            out[:, :, r :: stride[0], c :: stride[1]] = phase.transpose(1, 0, 2, 3)
    return out


def _correlate(xt, w, dilation, groups):
    """Stride-1 ``conv2d`` without padding of a channels-first input ``(C_in, N, H, W)``,
    one matrix product per group; returns ``(C_out, N, H_out, W_out)``."""
    c_in, n, h, wd = xt.shape
    c_out, c_in_g, kh, kw = w.shape
    (dh, dw), c_out_g = dilation, c_out // groups
    ho, wo = h - dh * (kh - 1), wd - dw * (kw - 1)
    cols = np.empty((c_in, kh, kw, n, ho, wo), dtype=xt.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[:, a, b] = xt[:, :, a * dh : a * dh + ho, b * dw : b * dw + wo]
    cols = cols.reshape(groups, c_in_g * kh * kw, n * ho * wo)
    w_mat = np.ascontiguousarray(w.reshape(groups, c_out_g, c_in_g * kh * kw))
    out = np.empty((groups, c_out_g, n * ho * wo), dtype=xt.dtype)
    for g in range(groups):
        np.matmul(w_mat[g], cols[g], out=out[g])
    return out.reshape(c_out, n, ho, wo)


def _phase_plan(size, kernel, stride, padding, dilation, out_size, out_phase):
    """For output phase ``out_phase`` of one axis: ``(out_phase, taps, sub_dilation,
    (pad_before, pad_after))``, or None when the phase is empty or gets no tap."""
    cells = -(-(out_size - out_phase) // stride)
    full_phase, first_cell = (out_phase + padding) % stride, (out_phase + padding) // stride
    plan = _phase_taps(kernel, stride, dilation, full_phase)
    if cells < 1 or plan is None:
        return None
    taps, sub_dilation, shift = plan
    reach = sub_dilation * (len(range(kernel)[taps]) - 1)
    before = reach - first_cell + shift
    return out_phase, taps, sub_dilation, (before, cells + reach - size - before)


_IMPLEMENTATIONS = {
    "gemm": _gemm,
    "scatter": _scatter,
    "zero_insertion": _zero_insertion,
    "matrix": _matrix,
    "polyphase": _polyphase,
}
