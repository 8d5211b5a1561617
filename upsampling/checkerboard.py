"""Measuring checkerboard artifacts, and the upsamplers that avoid them.

A layer that upsamples by ``stride`` leaves a periodic fingerprint when the output
positions of its ``stride x stride`` *phases* (``y[..., a::s, b::s]``) are treated
differently: different numbers of kernel copies land on them (uneven overlap), or
different kernel taps do (uneven weights). The measures here look for exactly that
pattern; the upsamplers are the two fixes the book compares with the transposed
convolution (resize-convolution and sub-pixel convolution with ICNR initialisation).
"""

from __future__ import annotations

import numpy as np

from upsampling import _args
from upsampling.conv import conv2d
from upsampling.conv_transpose import conv_transpose2d
from upsampling.interpolate import interpolate
from upsampling.shuffle import pixel_shuffle

__all__ = [
    "checkerboard_score",
    "phase_means",
    "stride_frequency_power",
    "power_spectrum",
    "kernel_phase_sums",
    "resize_conv2d",
    "subpixel_conv2d",
    "icnr_weight",
]


def _crop(x, stride, border, name="x") -> tuple[np.ndarray, tuple[int, int]]:
    """``x`` cropped by ``border`` on every side, then to a multiple of ``stride``."""
    arr = _args.as_float_array(x, name)
    if arr.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (H, W), got shape {arr.shape}")
    s = _args.positive_pair(stride, "stride")
    b = _args.non_negative_pair(border, "border")
    h, w = arr.shape[-2:]
    inner = (h - 2 * b[0], w - 2 * b[1])
    kept = (inner[0] // s[0] * s[0], inner[1] // s[1] * s[1])
    if min(kept) < 1:
        raise ValueError(
            f"{name} of spatial size {(h, w)} with border {b} leaves {inner}, "
            f"less than one stride {s}: nothing to measure"
        )
    return arr[..., b[0] : b[0] + kept[0], b[1] : b[1] + kept[1]], s


def phase_means(x, stride, border=0) -> np.ndarray:
    """Mean of each of the ``stride x stride`` output phases ``x[..., a::s, b::s]``.

    ``x`` is cropped first: ``border`` pixels from every side of the last two axes (where
    the image edge, not the stride, shapes the values), then to a multiple of ``stride``
    from the end, so that every phase has the same number of pixels. Each mean is taken
    over everything else too (batch, channels, positions).

    Returns
    -------
    ndarray of shape ``(s_h, s_w)``
        Entry ``[a, b]`` is the mean of ``x[..., a::s_h, b::s_w]`` after cropping.

    Examples
    --------
    >>> x = np.tile([[1.0, 2.0], [2.0, 4.0]], (3, 3))
    >>> phase_means(x, stride=2)
    array([[1., 2.],
           [2., 4.]])
    """
    cropped, (sh, sw) = _crop(x, stride, border)
    h, w = cropped.shape[-2:]
    grid = cropped.reshape(-1, h // sh, sh, w // sw, sw)
    return grid.mean(axis=(0, 1, 3))


def checkerboard_score(x, stride, border=0) -> float:
    """How much the ``stride x stride`` output phases of ``x`` differ, relative to ``x``.

    ``score = std(phase means) / mean(|x|)``, both over the cropped ``x`` (see
    :func:`.phase_means` for the cropping). 0 means every phase has the same mean, as
    after nearest or bilinear upsampling of a smooth image; a transposed convolution with
    ``kernel_size=3, stride=2`` applied to a constant image gives phases in the ratio
    1 : 2 : 2 : 4 and a score near 0.48. An all-zero ``x`` scores 0.0.

    Parameters
    ----------
    x : array_like, at least 2-D
        The last two axes are (H, W); any leading axes (batch, channels) are averaged.
    stride : int or pair of int
        The upsampling factor whose fingerprint to look for.
    border : int or pair of int, default 0
        Pixels to ignore on every side.

    Examples
    --------
    >>> checkerboard_score(np.ones((6, 6)), stride=2)
    0.0
    >>> round(checkerboard_score(np.tile([[1, 2], [2, 4]], (3, 3)), stride=2), 4)
    0.4843
    """
    cropped, _ = _crop(x, stride, border)
    scale = np.abs(cropped).mean()
    if scale == 0:
        return 0.0
    return float(phase_means(cropped, stride).std() / scale)


def power_spectrum(x) -> np.ndarray:
    """Power ``|FFT2(x)|^2`` over the last two axes, averaged over the others.

    Returned with the zero frequency in the centre (``np.fft.fftshift``), so that the
    fingerprint of an upsampling by ``s`` shows as peaks ``H/s`` rows and ``W/s`` columns
    away from the centre.
    """
    arr = _args.as_float_array(x, "x")
    if arr.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions (H, W), got shape {arr.shape}")
    power = np.abs(np.fft.fft2(arr, axes=(-2, -1))) ** 2
    power = power.reshape(-1, *arr.shape[-2:]).mean(axis=0)
    return np.fft.fftshift(power)


def stride_frequency_power(x, stride, border=0) -> float:
    """Share of the power of ``x`` (zero frequency excluded) at multiples of ``1/stride``.

    A pattern that repeats every ``stride`` pixels has all its power at the frequencies
    ``(u * H/s, v * W/s)``; a smooth image has almost none there. This is the spectral
    twin of :func:`.checkerboard_score`: by Parseval's theorem the power at those
    frequencies is the energy of the phase-mean pattern tiled over the image. ``x`` is
    cropped as in :func:`phase_means`. Returns a number in ``[0, 1]``; 0.0 for a constant
    ``x``.
    """
    cropped, (sh, sw) = _crop(x, stride, border)
    h, w = cropped.shape[-2:]
    power = np.abs(np.fft.fft2(cropped, axes=(-2, -1))) ** 2
    power = power.reshape(-1, h, w).sum(axis=0)
    total = power.sum() - power[0, 0]
    if total <= 0:
        return 0.0
    at_stride = power[:: h // sh, :: w // sw].sum() - power[0, 0]
    return float(at_stride / total)


def kernel_phase_sums(weight, stride) -> np.ndarray:
    """Sum of the kernel taps that land on each output phase of a transposed convolution.

    With ``padding=0``, output position ``y`` of ``conv_transpose2d`` receives tap
    ``t = y - stride * i`` from input ``i``, so the taps that reach phase ``a`` are those
    with ``t % stride == a``. On a constant input the interior of the output therefore
    repeats these sums: the layer is free of a checkerboard on constant inputs only when
    they are all equal, whether or not ``kernel_size`` is divisible by ``stride``.

    Parameters
    ----------
    weight : array_like of shape (..., kH, kW)
        For example a ``conv_transpose2d`` weight ``(C_in, C_out/groups, kH, kW)``.
    stride : int or pair of int

    Returns
    -------
    ndarray of shape ``(..., s_h, s_w)``
    """
    w = _args.as_float_array(weight, "weight")
    if w.ndim < 2:
        raise ValueError(f"weight must have at least 2 dimensions (kH, kW), got shape {w.shape}")
    sh, sw = _args.positive_pair(stride, "stride")
    out = np.zeros((*w.shape[:-2], sh, sw), dtype=w.dtype)
    for a in range(sh):
        for b in range(sw):
            out[..., a, b] = w[..., a::sh, b::sw].sum(axis=(-2, -1))
    return out


def resize_conv2d(input, weight, bias=None, scale_factor=2, mode="nearest", padding="same"):
    """Resize-convolution: ``interpolate`` by ``scale_factor``, then a stride-1 ``conv2d``.

    The fix for checkerboard artifacts proposed by Odena, Dumoulin & Olah (2016): the
    resize spreads every input value evenly, so no output phase is favoured, and the
    convolution that follows is the learnable part.

    ``resize_conv2d(x, w, b, s, mode, padding)`` equals
    ``F.conv2d(F.interpolate(x, scale_factor=s, mode=mode), w, b, padding=padding)``.

    Parameters
    ----------
    input : array_like of shape (N, C_in, H, W) or (C_in, H, W)
    weight : array_like of shape (C_out, C_in, kH, kW)
        A ``conv2d`` weight.
    bias : array_like of shape (C_out,), optional
    scale_factor : int, default 2
    mode : str, default "nearest"
        Any mode of :func:`upsampling.interpolate` ("nearest", "nearest-exact", "bilinear").
    padding : "same", "valid", int or pair, default "same"
        ``"same"`` keeps the upsampled size, padding as PyTorch does (for even kernels one
        more zero after than before).

    Returns
    -------
    ndarray of shape (N, C_out, H_up, W_up) for "same", ``H_up = H * scale_factor``
        (no batch axis if ``input`` had none).
    """
    # interpolate reads a 3-D input as (N, C, L), so an unbatched image gets a batch axis.
    x, unbatched = _args.spatial_input(input, "input", "resize_conv2d")
    out = conv2d(
        interpolate(x, scale_factor=scale_factor, mode=mode), weight, bias, padding=padding
    )
    return out[0] if unbatched else out


def subpixel_conv2d(input, weight, bias=None, upscale_factor=2, padding="same"):
    """Sub-pixel convolution: a stride-1 ``conv2d`` to ``C * r**2`` channels, then
    ``pixel_shuffle`` by ``r = upscale_factor`` (Shi et al. 2016).

    ``weight`` has shape ``(C_out * r**2, C_in, kH, kW)``; the output has ``C_out``
    channels and ``r`` times the spatial size (with ``padding="same"``). Initialise
    ``weight`` with :func:`icnr_weight` to start free of checkerboard artifacts.
    """
    r = _args.positive_int(upscale_factor, "upscale_factor")
    return pixel_shuffle(conv2d(input, weight, bias, padding=padding), r)


def icnr_weight(weight, upscale_factor=2) -> np.ndarray:
    """ICNR initialisation (Aitken et al. 2017) of a sub-pixel convolution.

    Repeats each of the ``C_out`` filters of ``weight`` ``r**2`` times so that the
    ``r x r`` sub-pixels that ``pixel_shuffle`` gathers into one block come from the same
    filter. At initialisation the sub-pixel convolution then equals a convolution followed
    by nearest-neighbour upsampling, which has no checkerboard; training may move away
    from it.

    Parameters
    ----------
    weight : array_like of shape (C_out, C_in, kH, kW)
    upscale_factor : int

    Returns
    -------
    ndarray of shape (C_out * r**2, C_in, kH, kW)
        Row ``c * r**2 + j`` is ``weight[c]`` for every ``j``, matching the channel order
        of ``pixel_shuffle``.
    """
    w = _args.as_float_array(weight, "weight")
    if w.ndim != 4:
        raise ValueError(f"weight must have shape (C_out, C_in, kH, kW), got {w.shape}")
    r = _args.positive_int(upscale_factor, "upscale_factor")
    return np.repeat(w, r * r, axis=0)


DECODER_KINDS = {
    "transposed": "transposed conv, k=3, s=2",
    "transposed_even": "transposed conv, k=4, s=2",
    "resize": "resize-conv (nearest, 3x3)",
    "subpixel": "pixel shuffle, random init",
    "subpixel_icnr": "pixel shuffle, ICNR init",
}


def random_decoder(kind, seed=0, layers=3, channels=8, size=8) -> np.ndarray:
    """The output of an untrained decoder: ``layers`` x2 upsamplers with random weights.

    Like the generator of a GAN before any training: a random ``(channels, size, size)``
    input goes through ``layers`` upsampling layers with ReLU between them, all of the same
    ``kind`` (a key of ``DECODER_KINDS``), the last one with a single output channel.
    Weights are Gaussian with He scaling (variance 2 / fan-in); the same ``seed`` gives the
    same input for every kind, so the outputs can be compared side by side.

    Returns
    -------
    ndarray of shape ``(size * 2**layers, size * 2**layers)``
    """
    if kind not in DECODER_KINDS:
        raise ValueError(f"kind must be one of {sorted(DECODER_KINDS)}, got {kind!r}")
    layers = _args.positive_int(layers, "layers")
    channels = _args.positive_int(channels, "channels")
    size = _args.positive_int(size, "size")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, channels, size, size))
    weight_rng = np.random.default_rng([seed, 1])
    for layer in range(layers):
        c_out = 1 if layer == layers - 1 else channels
        if kind in ("transposed", "transposed_even"):
            k = 3 if kind == "transposed" else 4
            # Each output position receives about (k/2)**2 taps per input channel.
            std = np.sqrt(2 / (channels * (k / 2) ** 2))
            w = std * weight_rng.standard_normal((channels, c_out, k, k))
            x = conv_transpose2d(x, w, stride=2, padding=1, output_padding=1 if k == 3 else 0)
        elif kind == "resize":
            w = np.sqrt(2 / (channels * 9)) * weight_rng.standard_normal((c_out, channels, 3, 3))
            x = resize_conv2d(x, w)
        else:
            # ICNR draws one filter per output channel and repeats it for the 4 sub-pixels.
            filters = c_out if kind == "subpixel_icnr" else 4 * c_out
            w = np.sqrt(2 / (channels * 9)) * weight_rng.standard_normal((filters, channels, 3, 3))
            if kind == "subpixel_icnr":
                w = icnr_weight(w, 2)
            x = subpixel_conv2d(x, w)
        if layer < layers - 1:
            x = np.maximum(x, 0)
    return x[0, 0]
