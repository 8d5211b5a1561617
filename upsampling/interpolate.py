"""Fixed upsampling (and downsampling) by interpolation: ``torch.nn.functional.interpolate``.

Three modes, with PyTorch's index arithmetic reproduced exactly:

* ``"nearest"``: output position ``i`` copies input ``floor(i * scale)``, computed in
  float32 (PyTorch's ``floorf(i * (float)scale)``), where ``scale`` is ``1/scale_factor``
  when a ``scale_factor`` was given, else ``input_size / output_size``. This is the old
  OpenCV rule: it lines up pixel *corners*, not centres, which shifts the result by up
  to half an input pixel towards the origin. PyTorch's 2-D kernel (not its 1-D or 3-D
  ones) also copies when the sizes are equal and takes ``i // 2`` when the output is
  exactly twice the input, whatever ``scale_factor`` says.
* ``"nearest-exact"``: ``floor((i + 0.5) * scale)``, the pixel-centre rule of Pillow and
  scikit-image.
* ``"bilinear"``: with ``align_corners=False`` the source coordinate is
  ``(i + 0.5) * scale - 0.5`` (pixel centres line up, edges are clamped); with
  ``align_corners=True`` it is ``i * (in - 1) / (out - 1)`` (corner pixels line up).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from upsampling import _args

MODES = ("nearest", "nearest-exact", "bilinear")


def _check_mode(mode, align_corners, ndim):
    if mode not in MODES:
        raise ValueError(
            f"mode {mode!r} is not one of {', '.join(map(repr, MODES))} "
            "(PyTorch's other modes are not implemented here)"
        )
    if mode != "bilinear" and align_corners is not None:
        raise ValueError(
            f"align_corners ({align_corners!r}) option can only be set with the interpolating "
            "modes: linear | bilinear | bicubic | trilinear"
        )
    if mode == "bilinear" and not isinstance(align_corners, (bool, np.bool_, type(None))):
        raise TypeError(f"align_corners must be a bool or None, got {align_corners!r}")
    if ndim not in (3, 4, 5):
        raise ValueError(
            f"interpolate: expected input with 3, 4 or 5 dimensions (N, C and 1 to 3 spatial), "
            f"got {ndim}"
        )
    if mode == "bilinear" and ndim != 4:
        raise ValueError(
            f"mode 'bilinear' needs a 4-D input (N, C, H, W), got a {ndim}-D input "
            "(PyTorch uses 'linear' for 3-D and 'trilinear' for 5-D)"
        )


def _per_axis(value, name, dims, kind):
    """``value`` as a tuple of ``dims`` entries of the given kind (int or real)."""
    is_kind = _args._is_int if kind == "int" else _is_real
    if is_kind(value):
        return (value,) * dims
    if isinstance(value, (tuple, list)):
        if not all(map(is_kind, value)):
            raise TypeError(f"{name} must hold only {kind}s, got {value!r}")
        if len(value) != dims:
            raise ValueError(
                f"{name} {tuple(value)!r} must have one entry per spatial dimension of the "
                f"input ({dims})"
            )
        return tuple(value)
    raise TypeError(f"{name} must be an {kind} or a sequence of {dims} {kind}s, got {value!r}")


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _output_size_and_scales(in_size, size, scale_factor, recompute_scale_factor):
    """The output size, and the scale factors PyTorch hands to its kernels (or None)."""
    dims = len(in_size)
    if size is not None and scale_factor is not None:
        raise ValueError(
            f"give only one of size ({size!r}) and scale_factor ({scale_factor!r}), not both"
        )
    if size is None and scale_factor is None:
        raise ValueError("give either size or scale_factor (both are None)")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(
                f"recompute_scale_factor ({recompute_scale_factor!r}) is not meaningful with an "
                f"explicit size ({size!r})"
            )
        out = tuple(int(v) for v in _per_axis(size, "size", dims, "int"))
        scales = None
        if min(out) < 1:
            raise ValueError(f"size {out} must be positive in every dimension")
    else:
        factors = tuple(float(v) for v in _per_axis(scale_factor, "scale_factor", dims, "real"))
        if not all(map(math.isfinite, factors)):
            raise ValueError(f"scale_factor {factors} must be finite")
        # floor(in * scale_factor), in double precision, as PyTorch does.
        out = tuple(math.floor(n * f) for n, f in zip(in_size, factors, strict=True))
        # Unless asked to recompute, PyTorch maps coordinates with 1/scale_factor
        # rather than in/out (they differ when in * scale_factor is not an integer).
        scales = None if recompute_scale_factor else factors
        if min(out) < 1:
            raise ValueError(
                f"scale_factor {factors} gives output size {out} for input size {in_size}; "
                "every output size must be positive"
            )
    return out, scales


def _scale(in_size, out_size, scale_factor, dtype):
    """PyTorch's ``compute_scales_value``: ``1/scale_factor`` if given, else in/out."""
    if scale_factor is not None and scale_factor > 0:
        return dtype(1.0 / scale_factor)
    return dtype(in_size) / dtype(out_size)


def nearest_source_index(in_size, out_size, scale_factor=None, exact=False):
    """For each output position along one axis, the input position that nearest copies.

    Parameters
    ----------
    in_size, out_size : int
        Input and output lengths along the axis.
    scale_factor : float, optional
        The scale factor as given to ``interpolate`` (then ``1/scale_factor`` is the
        step), or None (then the step is ``in_size / out_size``).
    exact : bool, default False
        ``"nearest-exact"`` (pixel centres) instead of ``"nearest"`` (pixel corners).

    Returns
    -------
    ndarray of int64, shape (out_size,)

    Examples
    --------
    >>> nearest_source_index(3, 4)
    array([0, 0, 1, 2])
    >>> nearest_source_index(3, 4, exact=True)
    array([0, 1, 1, 2])
    """
    dst = np.arange(out_size)
    scale = _scale(in_size, out_size, scale_factor, np.float32)
    if exact:
        # floorf((dst + 0.5) * scale): the product is double, floorf rounds it to float.
        src = np.floor((np.float64(scale) * (dst + 0.5)).astype(np.float32))
    else:
        src = np.floor(dst.astype(np.float32) * scale)  # float32 product, as in PyTorch
    return np.minimum(src.astype(np.int64), in_size - 1)


def _nearest_2d_index(in_size, out_size, scale_factor, exact):
    """PyTorch's 2-D ``nearest`` kernel special-cases equal and doubled sizes."""
    if not exact and out_size == in_size:
        return np.arange(out_size)
    if not exact and out_size == 2 * in_size:
        return np.arange(out_size) >> 1
    return nearest_source_index(in_size, out_size, scale_factor, exact)


def _nearest(x, out_size, scales, exact):
    index_fn = _nearest_2d_index if x.ndim == 4 else nearest_source_index
    for axis, (n, m) in enumerate(zip(x.shape[2:], out_size, strict=True), start=2):
        scale = None if scales is None else scales[axis - 2]
        x = np.take(x, index_fn(n, m, scale, exact), axis=axis)
    return x


def linear_source_weights(in_size, out_size, align_corners, scale_factor=None, dtype=np.float64):
    """Along one axis: the two input positions each output blends, and their weights.

    Output ``i`` is ``w0[i] * x[i0[i]] + w1[i] * x[i1[i]]``, computed in ``dtype``
    (float32 or float64) with PyTorch's roundings.

    Returns
    -------
    i0, i1 : ndarray of int64, shape (out_size,)
    w0, w1 : ndarray of ``dtype``, shape (out_size,)

    Examples
    --------
    >>> i0, i1, w0, w1 = linear_source_weights(2, 4, align_corners=False)
    >>> i0, i1
    (array([0, 0, 0, 1]), array([1, 1, 1, 1]))
    >>> x = np.array([1.0, 2.0])
    >>> w0 * x[i0] + w1 * x[i1]
    array([1.  , 1.25, 1.75, 2.  ])
    """
    dst = np.arange(out_size)
    if out_size == in_size:  # PyTorch copies
        return dst, dst, np.ones(out_size, dtype), np.zeros(out_size, dtype)
    if align_corners:
        scale = dtype(in_size - 1) / dtype(out_size - 1) if out_size > 1 else dtype(0)
        src = scale * dst.astype(dtype)
    else:
        scale = _scale(in_size, out_size, scale_factor, dtype)
        # scale * (dst + 0.5) - 0.5 in double, stored in dtype; negative ones clamp to 0.
        src = np.maximum((np.float64(scale) * (dst + 0.5) - 0.5).astype(dtype), 0)
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), in_size - 1)  # floorf
    w1 = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    i1 = i0 + (i0 < in_size - 1)
    return i0, i1, (1 - w1).astype(dtype), w1


def _bilinear(x, out_size, scales, align_corners):
    compute = np.float64 if x.dtype == np.float64 else np.float32
    (h_in, w_in), (h_out, w_out) = x.shape[2:], out_size
    sh, sw = (None, None) if scales is None else scales
    h0, h1, a0, a1 = linear_source_weights(h_in, h_out, align_corners, sh, compute)
    w0, w1, b0, b1 = linear_source_weights(w_in, w_out, align_corners, sw, compute)
    xc = x.astype(compute, copy=False)
    top = xc[:, :, h0, :][..., w0] * b0 + xc[:, :, h0, :][..., w1] * b1
    bottom = xc[:, :, h1, :][..., w0] * b0 + xc[:, :, h1, :][..., w1] * b1
    out = a0[:, None] * top + a1[:, None] * bottom
    return out.astype(x.dtype, copy=False)


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    r"""Resizes the spatial dimensions of an ``(N, C, *spatial)`` array.

    The output size is ``size`` if given, else, per spatial dimension,

    .. math::

        \text{out} = \lfloor \text{in} \cdot \text{scale_factor} \rfloor .

    ``"nearest"`` and ``"nearest-exact"`` accept 1 to 3 spatial dimensions (3-D to 5-D
    input), ``"bilinear"`` exactly 2 (4-D input). The subtle argument is
    ``scale_factor``: it sets the output size *and*, unless
    ``recompute_scale_factor=True``, the coordinate step ``1/scale_factor`` (rather
    than ``in/out``), so ``scale_factor=2.3`` and ``size=floor(2.3 * in)`` can differ.

    Parameters
    ----------
    input : array_like, shape (N, C, L), (N, C, H, W) or (N, C, D, H, W)
        Integers and booleans are converted to float64; float32 stays float32.
    size : int or sequence of int, optional
        Output spatial size. Give exactly one of ``size`` and ``scale_factor``.
    scale_factor : float or sequence of float, optional
        Multiplier of the spatial size.
    mode : {"nearest", "nearest-exact", "bilinear"}, default "nearest"
    align_corners : bool, optional
        ``"bilinear"`` only (None means False): align the corner pixels' centres
        rather than the corners of the image.
    recompute_scale_factor : bool, optional
        If true, map coordinates with ``in/out`` even when ``scale_factor`` is given.
    antialias : bool, default False
        Not implemented here; must stay False.

    Returns
    -------
    ndarray, shape (N, C, *out)
        In the input's dtype.

    Raises
    ------
    TypeError
        If an argument has the wrong kind (e.g. a float ``size``).
    ValueError
        If both or neither of ``size`` and ``scale_factor`` are given, a size is not
        positive, ``align_corners`` is set with a nearest mode, the mode is unknown, or
        the input has the wrong number of dimensions or an empty channel or spatial one.
    NotImplementedError
        If ``antialias=True`` with ``"bilinear"``.

    Examples
    --------
    >>> x = np.array([[[[1, 2], [3, 4]]]])
    >>> interpolate(x, scale_factor=2, mode="bilinear")[0, 0, 0]
    array([1.  , 1.25, 1.75, 2.  ])
    >>> interpolate(x, size=(2, 3))[0, 0]
    array([[1., 1., 2.],
           [3., 3., 4.]])
    """
    x = _args.as_float_array(input, "input")
    _check_mode(mode, align_corners, x.ndim)
    out_size, scales = _output_size_and_scales(
        x.shape[2:], size, scale_factor, recompute_scale_factor
    )
    if antialias:
        if mode == "bilinear":
            raise NotImplementedError(
                "antialias=True is not implemented here (PyTorch low-pass filters before "
                "downsampling); use antialias=False"
            )
        raise ValueError(f"antialias=True needs mode 'bilinear' and a 4-D input, got {mode!r}")
    if 0 in x.shape[1:]:
        raise ValueError(
            f"interpolate: input must have non-zero channels and spatial sizes, got {x.shape}"
        )
    if mode == "bilinear":
        return _bilinear(x, out_size, scales, bool(align_corners))
    return _nearest(x, out_size, scales, exact=mode == "nearest-exact")
