"""How many kernel copies a transposed convolution stacks on each output position."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from upsampling import _args
from upsampling.conv_transpose import conv_transpose2d

LAYER_KEYS = ("kernel_size", "stride", "padding", "dilation")


def overlap_counts(input_size, kernel_size, stride=1, padding=0, dilation=1, layers=1):
    """Counts the kernel copies that land on each output position of a transposed convolution.

    With an all-ones input and an all-ones kernel the transposed convolution *is* this
    count. Where it varies from position to position, a learned kernel has to work against
    the variation, the source of checkerboard artifacts. With several ``layers`` the
    transposed convolutions are stacked: the count then says along how many paths each
    output position is reached from the input, and unevenness compounds.

    Parameters
    ----------
    input_size : int or pair of int
        An int gives a 1-D count, a pair a 2-D map.
    kernel_size, stride, padding, dilation : int (or pair of int for a 2-D map)
        As in :func:`conv_transpose2d`: the settings of every layer, unless ``layers``
        gives a layer its own.
    layers : int or sequence of mappings
        An int: that many identical layers. A sequence: one layer per entry, in order
        from the input; each entry is a mapping (a dict) whose keys, among
        ``"kernel_size"``, ``"stride"``, ``"padding"`` and ``"dilation"``, override the
        arguments for its layer (``{}`` takes them all). ``layers=2`` is
        ``layers=[{}, {}]``.

    Returns
    -------
    ndarray of int64, 1-D or 2-D

    Raises
    ------
    TypeError
        A setting of the wrong kind (a pair for a 1-D count, say), ``layers`` neither an
        int nor a sequence of mappings, or a mapping with another key; the message names
        the layer (``layers[1]``) whose setting it is.
    ValueError
        A setting out of range, no layer at all, or an output size below 1.

    Examples
    --------
    >>> overlap_counts(4, kernel_size=3, stride=2)
    array([1, 1, 2, 1, 2, 1, 2, 1, 1])
    >>> overlap_counts((3, 3), kernel_size=3, stride=2)[1:4, 1:4]
    array([[1, 2, 1],
           [2, 4, 2],
           [1, 2, 1]])

    Two layers, each with its own kernel size and stride (k=3, s=2, then k=4, s=2):

    >>> overlap_counts(2, 3, stride=2, layers=[{}, {"kernel_size": 4}])
    array([1, 1, 2, 2, 3, 3, 3, 3, 2, 2, 1, 1])
    """
    one_d = _args._is_int(input_size)
    # A 1-D count is a 2-D one with a single row: the row axis gets a neutral setting.
    size = _args.positive_pair(input_size, "input_size")
    if one_d:
        size = (1, size[1])
    defaults = dict(zip(LAYER_KEYS, (kernel_size, stride, padding, dilation), strict=True))
    counts = np.ones((1, 1, *size))
    for kernel, strides, pads, dilations in _layers(layers, defaults, one_d):
        ones = np.ones((1, 1, *kernel))
        counts = conv_transpose2d(counts, ones, stride=strides, padding=pads, dilation=dilations)
    counts = np.rint(counts[0, 0]).astype(np.int64)
    return counts[0] if one_d else counts


def _layers(layers, defaults, one_d):
    """Each layer's ``(kernel_size, stride, padding, dilation)`` as pairs, checked."""
    if _args._is_int(layers):
        entries = [{}] * _args.positive_int(layers, "layers")
    elif isinstance(layers, (list, tuple)) and all(isinstance(e, Mapping) for e in layers):
        if not layers:
            raise ValueError("layers must hold at least one layer, got an empty sequence")
        entries = layers
    else:
        raise TypeError(
            "layers must be an int or a sequence of mappings (one per layer, with keys among "
            f"{', '.join(LAYER_KEYS)}), got {layers!r}"
        )
    checks = (
        _args.positive_pair,
        _args.positive_pair,
        _args.non_negative_pair,
        _args.positive_pair,
    )
    resolved = []
    for index, entry in enumerate(entries):
        unknown = [key for key in entry if key not in LAYER_KEYS]
        if unknown:
            raise TypeError(
                f"layers[{index}] has the key {unknown[0]!r}; the keys of a layer are "
                f"{', '.join(LAYER_KEYS)}"
            )
        settings = []
        for key, check in zip(LAYER_KEYS, checks, strict=True):
            name = f"{key} of layers[{index}]" if key in entry else key
            value = entry.get(key, defaults[key])
            if one_d and not _args._is_int(value):
                raise TypeError(f"{name} must be an int for a 1-D count, got {value!r}")
            pair = check(value, name)
            if one_d:  # the single row: one tap, no padding
                pair = (0 if key == "padding" else 1, pair[1])
            settings.append(pair)
        resolved.append(tuple(settings))
    return resolved
