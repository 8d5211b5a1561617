"""How many kernel copies a transposed convolution stacks on each output position."""

from __future__ import annotations

import numpy as np

from upsampling import _args
from upsampling.conv_transpose import conv_transpose2d


def overlap_counts(input_size, kernel_size, stride=1, padding=0, dilation=1, layers=1):
    """Counts the kernel copies that land on each output position of a transposed convolution.

    With an all-ones input and an all-ones kernel the transposed convolution *is* this
    count. Where it varies from position to position, a learned kernel has to work against
    the variation, the source of checkerboard artifacts. With ``layers`` > 1 the same
    transposed convolution is stacked: the count then says along how many paths each
    output position is reached from the input, and unevenness compounds.

    Parameters
    ----------
    input_size : int or pair of int
        An int gives a 1-D count, a pair a 2-D map.
    kernel_size, stride, padding, dilation : int (or pair of int for a 2-D map)
        As in :func:`conv_transpose2d`, the same for every layer.
    layers : int
        Number of stacked transposed convolutions.

    Returns
    -------
    ndarray of int64, 1-D or 2-D

    Examples
    --------
    >>> overlap_counts(4, kernel_size=3, stride=2)
    array([1, 1, 2, 1, 2, 1, 2, 1, 1])
    >>> overlap_counts((3, 3), kernel_size=3, stride=2)[1:4, 1:4]
    array([[1, 2, 1],
           [2, 4, 2],
           [1, 2, 1]])
    """
    one_d = _args._is_int(input_size)
    # A 1-D count is a 2-D one with a single row: the row axis gets a neutral setting.
    names = ("input_size", "kernel_size", "stride", "padding", "dilation")
    values = (input_size, kernel_size, stride, padding, dilation)
    if one_d:
        for name, value in zip(names, values, strict=True):
            if not _args._is_int(value):
                raise TypeError(f"{name} must be an int for a 1-D count, got {value!r}")
        values = tuple((neutral, v) for neutral, v in zip((1, 1, 1, 0, 1), values, strict=True))
    size, kernel, stride, padding, dilation = values
    size = _args.positive_pair(size, "input_size")
    kernel = _args.positive_pair(kernel, "kernel_size")
    layers = _args.positive_int(layers, "layers")
    counts = np.ones((1, 1, *size))
    ones = np.ones((1, 1, *kernel))
    for _ in range(layers):
        counts = conv_transpose2d(counts, ones, stride=stride, padding=padding, dilation=dilation)
    counts = np.rint(counts[0, 0]).astype(np.int64)
    return counts[0] if one_d else counts
