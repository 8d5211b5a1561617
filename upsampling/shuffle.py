"""Sub-pixel rearrangements: ``pixel_shuffle`` (channels to space) and its inverse.

A convolution with ``C * r * r`` output channels followed by ``pixel_shuffle(., r)`` is
the sub-pixel convolution of Shi et al. (2016): every output pixel comes from exactly one
channel, so there is no uneven overlap and no checkerboard from the layout itself.
"""

from __future__ import annotations

from upsampling import _args


def _check_ndim(x, op):
    if x.ndim < 3:
        raise ValueError(
            f"{op}: input must have at least 3 dimensions (*, C, H, W), got shape {x.shape}"
        )


def pixel_shuffle(input, upscale_factor):
    """Moves blocks of ``r*r`` channels into ``r x r`` spatial blocks (``r = upscale_factor``).

    ``(*, C * r**2, H, W) -> (*, C, H * r, W * r)``, with
    ``out[..., c, h*r + i, w*r + j] = input[..., c*r*r + i*r + j, h, w]``.

    Parameters
    ----------
    input : array_like, shape (*, C * r**2, H, W)
        Any number of leading batch dimensions, including none. Integers and booleans
        are converted to float64; float32 stays float32.
    upscale_factor : int
        ``r``, positive.

    Returns
    -------
    ndarray, shape (*, C, H * r, W * r)

    Raises
    ------
    TypeError
        If ``upscale_factor`` is not an int.
    ValueError
        If ``upscale_factor`` is not positive, the input has fewer than 3 dimensions, or
        its channels are not divisible by ``r**2``.

    Examples
    --------
    >>> pixel_shuffle([[[0]], [[1]], [[2]], [[3]]], 2)
    array([[[0., 1.],
            [2., 3.]]])
    """
    x = _args.as_float_array(input, "input")
    r = _args.positive_int(upscale_factor, "upscale_factor")
    _check_ndim(x, "pixel_shuffle")
    *batch, channels, h, w = x.shape
    if channels % (r * r):
        raise ValueError(
            f"pixel_shuffle: input channels ({channels}) must be divisible by "
            f"upscale_factor**2 ({r}**2 = {r * r})"
        )
    c = channels // (r * r)
    nb = len(batch)
    blocks = x.reshape(*batch, c, r, r, h, w)
    # (..., c, i, j, h, w) -> (..., c, h, i, w, j)
    order = (*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return blocks.transpose(order).reshape(*batch, c, h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """Inverse of ``pixel_shuffle``: ``r x r`` spatial blocks become ``r*r`` channels.

    ``(*, C, H * r, W * r) -> (*, C * r**2, H, W)`` with ``r = downscale_factor``.

    Parameters
    ----------
    input : array_like, shape (*, C, H * r, W * r)
        Any number of leading batch dimensions, including none. Integers and booleans
        are converted to float64; float32 stays float32.
    downscale_factor : int
        ``r``, positive.

    Returns
    -------
    ndarray, shape (*, C * r**2, H, W)

    Raises
    ------
    TypeError
        If ``downscale_factor`` is not an int.
    ValueError
        If ``downscale_factor`` is not positive, the input has fewer than 3 dimensions,
        or its height or width is not divisible by ``r``.

    Examples
    --------
    >>> pixel_unshuffle([[[0, 1], [2, 3]]], 2)[:, 0, 0]
    array([0., 1., 2., 3.])
    """
    x = _args.as_float_array(input, "input")
    r = _args.positive_int(downscale_factor, "downscale_factor")
    _check_ndim(x, "pixel_unshuffle")
    *batch, c, height, width = x.shape
    if height % r or width % r:
        raise ValueError(
            f"pixel_unshuffle: input height and width ({height}, {width}) must be divisible "
            f"by downscale_factor ({r})"
        )
    h, w = height // r, width // r
    nb = len(batch)
    blocks = x.reshape(*batch, c, h, r, w, r)
    # (..., c, h, i, w, j) -> (..., c, i, j, h, w)
    order = (*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return blocks.transpose(order).reshape(*batch, c * r * r, h, w)
