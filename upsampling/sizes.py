"""Output sizes of convolutions and transposed convolutions."""

from __future__ import annotations

from upsampling import _args


def _per_axis(input_size):
    """``input_size`` as a tuple of ints, and whether it was a single int."""
    if _args._is_int(input_size):
        return (int(input_size),), True
    if isinstance(input_size, (tuple, list)) and input_size and all(map(_args._is_int, input_size)):
        return tuple(int(v) for v in input_size), False
    raise TypeError(f"input_size must be an int or a sequence of ints, got {input_size!r}")


def _expand(value, name: str, n: int) -> tuple[int, ...]:
    if _args._is_int(value):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(map(_args._is_int, value)):
        return tuple(int(v) for v in value)
    raise TypeError(f"{name} must be an int or a sequence of {n} ints, got {value!r}")


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    r"""Spatial output size of a convolution (``conv2d``, pooling), per axis.

    .. math::

        H_\text{out} = \left\lfloor \frac{H_\text{in} + 2\,\text{padding}
        - \text{dilation}\,(\text{kernel_size} - 1) - 1}{\text{stride}} \right\rfloor + 1

    Parameters
    ----------
    input_size : int or sequence of int
        Spatial size of the input; an int gives an int, a sequence a tuple.
    kernel_size, stride, padding, dilation : int or sequence of int
        As in ``torch.nn.functional.conv2d``.

    Raises
    ------
    ValueError
        If an argument is out of range or the output would be empty.

    Examples
    --------
    >>> conv_output_size(16, kernel_size=3, stride=2, padding=1)
    8
    >>> conv_output_size((5, 7), kernel_size=3)
    (3, 5)
    """
    sizes, scalar = _per_axis(input_size)
    n = len(sizes)
    k = _expand(kernel_size, "kernel_size", n)
    s = _expand(stride, "stride", n)
    p = _expand(padding, "padding", n)
    d = _expand(dilation, "dilation", n)
    _check_ranges(sizes, k, s, p, d)
    out = []
    for i, ki, si, pi, di in zip(sizes, k, s, p, d, strict=True):
        span = di * (ki - 1) + 1
        if i + 2 * pi < span:
            raise ValueError(
                f"input_size {i} plus 2*padding ({2 * pi}) is smaller than the dilated kernel "
                f"({span}): the output would be empty"
            )
        out.append((i + 2 * pi - span) // si + 1)
    return out[0] if scalar else tuple(out)


def conv_transpose_output_size(
    input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1
):
    r"""Spatial output size of a transposed convolution, per axis.

    .. math::

        H_\text{out} &= (H_\text{in} - 1)\,\text{stride} - 2\,\text{padding} \\
        &\quad + \text{dilation}\,(\text{kernel_size} - 1) + \text{output_padding} + 1

    ``output_padding`` does not add zeros: it picks one of the ``stride`` input sizes that
    a convolution with the same settings maps to ``H_in``, so it must be smaller than
    ``stride`` or ``dilation``.

    Examples
    --------
    >>> conv_transpose_output_size(8, kernel_size=3, stride=2, padding=1)
    15
    >>> conv_transpose_output_size(8, kernel_size=3, stride=2, padding=1, output_padding=1)
    16
    """
    sizes, scalar = _per_axis(input_size)
    n = len(sizes)
    k = _expand(kernel_size, "kernel_size", n)
    s = _expand(stride, "stride", n)
    p = _expand(padding, "padding", n)
    op = _expand(output_padding, "output_padding", n)
    d = _expand(dilation, "dilation", n)
    _check_ranges(sizes, k, s, p, d)
    check_output_padding(op, s, d)
    out = tuple(
        (i - 1) * si - 2 * pi + di * (ki - 1) + opi + 1
        for i, ki, si, pi, opi, di in zip(sizes, k, s, p, op, d, strict=True)
    )
    if min(out) < 1:
        raise ValueError(
            f"input_size {tuple(sizes)} gives output size {out}, which is too small: "
            "reduce padding or increase stride or kernel_size"
        )
    return out[0] if scalar else out


def output_padding_for_size(input_size, output_size, kernel_size, stride=1, padding=0, dilation=1):
    r"""The ``output_padding`` that makes a transposed convolution return ``output_size``.

    What ``nn.ConvTranspose2d(...)(x, output_size=...)`` computes before it runs: the
    smallest size the layer can return is ``conv_transpose_output_size(input_size, ...)``
    with ``output_padding=0``; ``output_size`` may exceed it by at most ``stride - 1``, and
    the excess is the ``output_padding``. One axis; the message is PyTorch's.

    Raises
    ------
    ValueError
        If ``output_size`` is not between the smallest size and ``stride - 1`` more.

    Examples
    --------
    >>> output_padding_for_size(8, 16, kernel_size=3, stride=2, padding=1)
    1
    >>> output_padding_for_size(8, 17, kernel_size=3, stride=2, padding=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: requested an output size of 17, but valid sizes range from 15 to 16 (for an ...
    """
    for name, value in (("input_size", input_size), ("output_size", output_size)):
        if not _args._is_int(value):
            raise TypeError(f"{name} must be an int, got {value!r}")
    smallest = conv_transpose_output_size(input_size, kernel_size, stride, padding, 0, dilation)
    largest = smallest + int(stride) - 1
    if not smallest <= output_size <= largest:
        raise ValueError(
            f"requested an output size of {output_size}, but valid sizes range from "
            f"{smallest} to {largest} (for an input of {input_size})"
        )
    return int(output_size) - smallest


def check_output_padding(output_padding, stride, dilation) -> None:
    """PyTorch's rule: each ``output_padding`` < its ``stride`` or its ``dilation``."""
    for op, s, d in zip(output_padding, stride, dilation, strict=True):
        if op < 0:
            raise ValueError(f"output_padding must be non-negative, got {tuple(output_padding)}")
        if not (op < s or op < d):
            raise ValueError(
                f"output_padding ({op}) must be smaller than stride ({s}) or dilation ({d})"
            )


def _check_ranges(sizes, kernel_size, stride, padding, dilation) -> None:
    for name, values, low in (
        ("input_size", sizes, 1),
        ("kernel_size", kernel_size, 1),
        ("stride", stride, 1),
        ("dilation", dilation, 1),
        ("padding", padding, 0),
    ):
        if min(values) < low:
            rule = "positive" if low else "non-negative"
            raise ValueError(f"{name} must be {rule}, got {values}")
