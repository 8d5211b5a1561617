"""Measuring checkerboard artifacts, and the upsamplers that avoid them.

A layer that upsamples by ``stride`` leaves a periodic fingerprint when the output
positions of its ``stride x stride`` *phases* (``y[..., a::s, b::s]``) are treated
differently: different numbers of kernel copies land on them (uneven overlap), or
different kernel taps do (uneven weights: unequal :func:`phase_sums`). The measures here
look for exactly that pattern, globally (:func:`~upsampling.checkerboard_score` sees only the phase
means of the whole image) and locally (:func:`local_checkerboard_score`, tile by tile,
also sees a pattern that multiplies zero-mean content); the upsamplers are the two fixes
the book compares with the transposed convolution (resize-convolution and sub-pixel
convolution with ICNR initialisation).
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
    "local_checkerboard_score",
    "phase_means",
    "local_phase_means",
    "local_phase_spread",
    "stride_frequency_power",
    "power_spectrum",
    "phase_sums",
    "bilinear_kernel",
    "resize_conv2d",
    "subpixel_conv2d",
    "icnr_weight",
]


def _crop(x, stride, border, name="x", unit="stride") -> tuple[np.ndarray, tuple[int, int]]:
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
            f"less than one {unit} {s}: nothing to measure"
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

    The score sees only the *global* phase means. A checkerboard that multiplies
    content whose mean is zero on every phase (``(1 + 0.5 * (-1)**(i + j)) * g`` with
    ``g`` a zero-mean wave, say) leaves every phase mean at 0 and scores 0, however
    strong it is; :func:`~upsampling.checkerboard.local_checkerboard_score` catches it.

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
    frequencies is the energy of the phase-mean pattern tiled over the image, so it is
    the same statistic (up to normalisation) and has the same blind spot. ``x`` is
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


def _tiles(x, stride, window, border):
    """``x`` cropped and cut into tiles of ``window`` stride cells:
    ``(*leading, tiles_h, tiles_w, tile_h * tile_w)``, with the stride pair and the
    window pair."""
    s = _args.positive_pair(stride, "stride")
    n = _args.positive_pair(window, "window")
    tile = (s[0] * n[0], s[1] * n[1])
    cropped, _ = _crop(x, tile, border, unit="tile (window * stride)")
    *lead, h, w = cropped.shape
    grid = cropped.reshape(*lead, h // tile[0], tile[0], w // tile[1], tile[1])
    k = len(lead)
    return (
        np.moveaxis(grid, k + 1, k + 2).reshape(*grid.shape[:k], h // tile[0], w // tile[1], -1),
        s,
        n,
    )


def local_phase_means(x, stride, window=4, border=0) -> np.ndarray:
    """Phase means of the detrended ``window x window``-cell tiles of every image.

    ``x`` is cropped by ``border`` on every side, then to a whole number of tiles of
    ``window*s_h x window*s_w`` pixels from the end. From each tile its least-squares
    plane ``c0 + c1*row + c2*col`` is subtracted (smooth content is locally a plane, and
    a plane's phase means differ by its slope), then the mean of each phase
    ``[a::s_h, b::s_w]`` of the tile is taken. Leading axes (batch, channels) are kept
    apart, not averaged: a pattern may have opposite signs in two images.

    Returns
    -------
    ndarray of shape ``(*leading, tiles_h, tiles_w, s_h, s_w)``
        Entry ``[..., i, j, a, b]`` is the mean of phase ``(a, b)`` in tile ``(i, j)``.

    Examples
    --------
    >>> ramp = np.add.outer(np.arange(8.0), np.zeros(8))  # a plane: nothing left
    >>> bool(np.abs(local_phase_means(ramp, 2, window=2)).max() < 1e-12)
    True
    """
    tiles, (sh, sw), (nh, nw) = _tiles(x, stride, window, border)
    rows, cols = np.mgrid[: sh * nh, : sw * nw]
    plane = np.stack([np.ones(rows.size), rows.ravel(), cols.ravel()], axis=1)
    residual = tiles - tiles @ (plane @ np.linalg.pinv(plane)).T
    residual = residual.reshape(*tiles.shape[:-1], nh, sh, nw, sw)
    return residual.mean(axis=(-4, -2))


def local_checkerboard_score(x, stride, window=4, border=0) -> float:
    """How much the output phases differ *locally*, relative to ``x``.

    ``score = sqrt(mean over tiles of var(phase means in the tile)) / mean(|x|)``: the
    image (each image and channel separately) is cut into tiles of
    ``window x window`` stride cells, each tile's least-squares plane is removed (see
    :func:`local_phase_means`), the spread of its ``s_h * s_w`` phase means is measured,
    and the root-mean-square spread over all tiles is divided by the mean ``|x|`` of the
    same cropped pixels. A pure pattern ``(-1)**(i + j)`` scores 1, as it does with
    :func:`~upsampling.checkerboard_score`; a plane scores 0.

    Unlike the global score it sees a checkerboard that *multiplies* the content: where
    the content is locally about ``g``, the phase means of a tile are about ``g`` times
    the pattern's gains, so they differ in every tile even when all the global phase
    means vanish (a zero-mean ``g``). An additive pattern shows in every tile, as in the
    global score.

    ``window`` trades locality for noise. The content must be smooth at the scale of a
    tile (close to a plane in it): content that oscillates within a tile averages the
    multiplied pattern away, as it does globally, and edges or fine texture add to the
    score. White noise of standard deviation ``sigma`` gives phase means that spread by
    about ``sigma / window``, so a pattern must be stronger than that to show.

    Parameters
    ----------
    x : array_like, at least 2-D
        The last two axes are (H, W); leading axes are measured separately and pooled.
    stride : int or pair of int
    window : int or pair of int, default 4
        Tile size in stride cells along (H, W).
    border : int or pair of int, default 0
        Pixels to ignore on every side.

    Examples
    --------
    >>> i, j = np.mgrid[:32, :32]
    >>> wave = np.cos(2 * np.pi * i / 32)  # zero mean on every phase
    >>> pattern = 1 + 0.5 * (-1.0) ** (i + j)  # gains 1.5, 0.5, 0.5, 1.5
    >>> round(checkerboard_score(pattern * wave, 2), 6)
    0.0
    >>> round(local_checkerboard_score(pattern * wave, 2), 2)
    0.5
    >>> round(local_checkerboard_score(wave, 2), 3)
    0.004
    """
    means = local_phase_means(x, stride, window, border)
    tiles, _, _ = _tiles(x, stride, window, border)
    scale = np.abs(tiles).mean()
    if scale == 0:
        return 0.0
    spread = means.reshape(-1, means.shape[-2] * means.shape[-1]).var(axis=1)
    return float(np.sqrt(spread.mean()) / scale)


def local_phase_spread(x, stride, window=4, border=0) -> float:
    """How much the output phases differ locally, in the units of ``x``.

    ``spread = sqrt(mean over tiles of var(phase means in the tile))``: the numerator of
    :func:`local_checkerboard_score`, not divided by anything. The tiles are detrended
    (:func:`local_phase_means`), so neither an offset nor a slope counts. Use it where a
    normaliser would mislead: on logits, whose mean ``|x|`` is a background offset rather
    than a pattern amplitude, or to compare outputs whose scales differ. A pattern
    ``A * (-1)**(i + j)`` spreads by ``A``, whatever is added to it.

    Parameters are those of :func:`local_checkerboard_score`.

    Examples
    --------
    >>> i, j = np.mgrid[:16, :16]
    >>> round(local_phase_spread(5 + 0.3 * i - 0.1 * j + 0.25 * (-1.0) ** (i + j), 2), 6)
    0.25
    >>> round(local_phase_spread(7 + 0.5 * i, 2), 6)
    0.0
    """
    means = local_phase_means(x, stride, window, border)
    spread = means.reshape(-1, means.shape[-2] * means.shape[-1]).var(axis=1)
    return float(np.sqrt(spread.mean()))


def phase_sums(weight, stride) -> np.ndarray:
    """Sum of the kernel taps that land on each output phase of a transposed convolution.

    Tap ``t`` of input ``i`` lands on (uncropped) output position ``stride * i + t``, so
    phase ``a`` gets the taps ``t = a, a + s, a + 2s, ...``: ``w[..., a::s_h, b::s_w]``,
    the sub-kernel of the polyphase view (``conv_transpose2d(..., method="polyphase")``).
    On a constant input ``c`` every output position that all its taps reach equals
    ``c`` times its phase's sum, so the interior is flat exactly when the sums are equal,
    whether or not ``kernel_size`` is divisible by ``stride``: the tent
    ``[1/2, 1, 1/2]`` at ``k=3, s=2`` has sums ``1/2 + 1/2`` and ``1``; a ones kernel at
    ``k=3, s=2`` has the uneven ``2`` and ``1`` of its overlap counts. ``padding`` only
    shifts which output position is which phase.

    Parameters
    ----------
    weight : array_like of shape (..., kH, kW)
        A kernel, or a ``conv_transpose2d`` weight ``(C_in, C_out/groups, kH, kW)``:
        leading axes are kept (sum over ``C_in`` for the output of a constant input
        equal in every channel).
    stride : int or pair of int

    Returns
    -------
    ndarray of shape ``(..., s_h, s_w)``
        Entry ``[..., a, b]`` is ``weight[..., a::s_h, b::s_w].sum()``; 0 for a phase no
        tap reaches (a kernel smaller than the stride).

    Examples
    --------
    >>> tent = np.outer([0.5, 1, 0.5], [0.5, 1, 0.5])
    >>> phase_sums(tent, 2)
    array([[1., 1.],
           [1., 1.]])
    >>> phase_sums(np.ones((3, 3)), 2)
    array([[4., 2.],
           [2., 1.]])
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


def bilinear_kernel(scale_factor):
    """The ``(k, k)`` bilinear-interpolation kernel for an integer factor (FCN's init).

    ``k = 2 * scale_factor - scale_factor % 2``; each weight is the product of the
    1-D tent ``1 - |i - centre| / scale_factor`` along both axes. For a factor of 2 the
    1-D tent is ``[1, 3, 3, 1] / 4``. Its phase sums (:func:`phase_sums` with
    ``stride=scale_factor``) are all 1: a transposed convolution initialised with it
    starts free of checkerboard artifacts, though ``k`` need not be a multiple of the
    stride (``k = 5`` for a factor of 3).

    Examples
    --------
    >>> bilinear_kernel(2)[0]
    array([0.0625, 0.1875, 0.1875, 0.0625])
    """
    s = _args.positive_int(scale_factor, "scale_factor")
    k = 2 * s - s % 2
    centre = s - 1 if k % 2 else s - 0.5
    tent = 1 - np.abs(np.arange(k) - centre) / s
    return np.outer(tent, tent)


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
