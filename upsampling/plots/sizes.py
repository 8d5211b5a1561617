"""Chapter 1, why upsample: feature-map sizes through an encoder-decoder.

:func:`size_plan` computes, with the package's size formulas, every feature-map size of
a U-Net-like network whose encoder shrinks the input with one convolution per level
and whose decoder grows it back with one transposed convolution per level, and what it
takes for each skip connection to line up. The chapter's live size tracker
(``upsampling/widgets/demos/size_tracker.js``) draws it, computed in the page by
``size_plan.js``, a mirror of :func:`size_plan` tested against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from upsampling import _args
from upsampling.sizes import (
    conv_output_size,
    conv_transpose_output_size,
    output_padding_for_size,
)

__all__ = [
    "FIXES",
    "DecoderStep",
    "SizePlan",
    "SkipFix",
    "describe_size_plan",
    "size_plan",
]


#: The ways to make a skip connection line up, in the order the tracker lists them.
FIXES = ("output_padding", "output_size", "crop", "pad")


@dataclass(frozen=True)
class SkipFix:
    """One way to make a decoder output and its skip connection the same size.

    ``name`` is one of :data:`FIXES`. For ``"output_padding"`` and ``"output_size"``,
    ``value`` is the argument given to the transposed convolution, ``size`` what it then
    returns, and ``error`` the package's message when it refuses the value (``size`` is
    then ``None``). For ``"crop"`` and ``"pad"``, ``target`` says which map changes
    (``"skip"`` or ``"output"``), ``before`` and ``after`` how many rows go or come at its
    start and at its end (U-Net's centred crop: the odd one at the end), and ``size`` is
    the size both maps then have.
    """

    name: str
    value: int
    size: int | None
    error: str | None = None
    target: str = "output"
    before: int = 0
    after: int = 0


@dataclass(frozen=True)
class DecoderStep:
    """One transposed convolution of the decoder and the skip connection it meets.

    ``input`` is the size it starts from, ``raw`` the size it gives with
    ``output_padding=0``, ``skip`` the size of the encoder feature map it is
    concatenated with; ``kernel_size``, ``stride`` and ``padding`` are its level's
    settings. ``fixes`` holds one :class:`SkipFix` per entry of :data:`FIXES` when the two
    sizes differ (none when they agree); ``size`` is the size of the concatenated map,
    after the plan's chosen fix.
    """

    level: int
    input: int
    raw: int
    skip: int
    kernel_size: int
    stride: int
    padding: int
    fixes: tuple[SkipFix, ...]
    size: int

    @property
    def lines_up(self) -> bool:
        return self.raw == self.skip

    @property
    def gap(self) -> int:
        """``skip - raw``: rows the skip has more than the decoder's output."""
        return self.skip - self.raw

    @property
    def output_padding(self) -> int | None:
        return self.gap if self.gap > 0 else None

    @property
    def crop(self) -> int:
        return self.gap

    def fix(self, name: str) -> SkipFix:
        """The fix called ``name`` (one of :data:`FIXES`)."""
        return next(fix for fix in self.fixes if fix.name == name)


@dataclass(frozen=True)
class SizePlan:
    """Every size of the network: ``encoder[0]`` is the input, ``encoder[-1]`` the bottom.

    ``decoder`` runs from the bottom level up; ``output`` is the decoder's final size,
    ``fix`` the fix applied wherever a skip connection does not line up.
    """

    encoder: list[int]
    decoder: list[DecoderStep]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    fix: str

    @property
    def output(self) -> int:
        return self.decoder[-1].size

    def fixes(self) -> list[str]:
        """One line per skip connection that does not line up, saying what fixes it."""
        lines = []
        for step in self.decoder:
            if step.lines_up:
                continue
            head = f"level {step.level}: {step.raw} vs {step.skip}: "
            if step.fix("output_padding").error is None:
                lines.append(
                    head + f"output_padding={step.gap} (or output_size={step.skip}, "
                    "or crop the skip)"
                )
            else:
                crop = step.fix("crop")
                lines.append(head + f"crop the {crop.target} by {crop.before + crop.after}")
        return lines


def _per_level(value, name: str, depth: int) -> tuple[int, ...]:
    if _args._is_int(value):
        return (int(value),) * depth
    if isinstance(value, (tuple, list)) and all(map(_args._is_int, value)):
        if len(value) != depth:
            raise ValueError(f"{name} needs one value per level ({depth}), got {list(value)}")
        return tuple(int(v) for v in value)
    raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}")


def _skip_fixes(input, raw, skip, kernel_size, stride, padding) -> tuple[SkipFix, ...]:
    """The four fixes of :data:`FIXES` for a decoder output of ``raw`` and a ``skip``."""
    gap = skip - raw
    try:
        size, error = (
            conv_transpose_output_size(input, kernel_size, stride, padding, output_padding=gap),
            None,
        )
    except ValueError as exc:
        size, error = None, str(exc)
    by_padding = SkipFix("output_padding", gap, size, error)
    try:
        output_padding_for_size(input, skip, kernel_size, stride, padding)
        by_size = SkipFix("output_size", skip, skip)
    except ValueError as exc:
        by_size = SkipFix("output_size", skip, None, str(exc))
    larger, smaller = ("skip", "output") if gap > 0 else ("output", "skip")
    rows = abs(gap)
    crop = SkipFix("crop", rows, min(raw, skip), None, larger, rows // 2, rows - rows // 2)
    pad = SkipFix("pad", rows, max(raw, skip), None, smaller, rows // 2, rows - rows // 2)
    return by_padding, by_size, crop, pad


def size_plan(
    input_size, depth, kernel_size=3, stride=2, padding=1, fix="output_padding"
) -> SizePlan:
    """Feature-map sizes of an encoder-decoder, per level, and where skips misalign.

    The encoder applies ``depth`` convolutions, level ``l`` with ``kernel_size[l]``,
    ``stride[l]`` and ``padding[l]`` (an int gives every level the same); the decoder
    climbs back with one transposed convolution per level, with that level's settings.
    Where a decoder output and the encoder map it is concatenated with differ in size,
    the step lists every fix (:data:`FIXES`) as the package computes it, and the decoder
    goes on from the size that ``fix`` gives: the skip's size for ``"output_padding"``,
    ``"output_size"`` and ``"pad"``, the smaller size for ``"crop"`` (so the decoder's
    output ends smaller than the input, as in the original U-Net).

    Raises
    ------
    ValueError
        With the package's message, where a level's convolution would be empty or a
        transposed convolution too small; or if ``fix`` is not one of :data:`FIXES`.

    Examples
    --------
    >>> plan = size_plan(101, depth=2)
    >>> plan.encoder
    [101, 51, 26]
    >>> [(step.raw, step.skip) for step in plan.decoder]
    [(51, 51), (101, 101)]
    >>> size_plan(16, depth=1).decoder[0].output_padding  # 16 -> 8 -> 15, not 16
    1
    >>> size_plan(100, depth=2, fix="crop").output  # 100 -> 50 -> 25 -> 49 -> 97
    97
    """
    if fix not in FIXES:
        raise ValueError(f"fix must be one of {FIXES}, got {fix!r}")
    depth = _args.positive_int(depth, "depth")
    kernels = _per_level(kernel_size, "kernel_size", depth)
    strides = _per_level(stride, "stride", depth)
    paddings = _per_level(padding, "padding", depth)
    encoder = [int(input_size)]
    for k, s, p in zip(kernels, strides, paddings, strict=True):
        encoder.append(conv_output_size(encoder[-1], k, s, p))
    decoder = []
    size = encoder[-1]
    for level in range(depth, 0, -1):
        k, s, p = kernels[level - 1], strides[level - 1], paddings[level - 1]
        raw = conv_transpose_output_size(size, k, s, p)
        skip = encoder[level - 1]
        fixes = () if raw == skip else _skip_fixes(size, raw, skip, k, s, p)
        after = skip if raw == skip else next(f.size for f in fixes if f.name == fix)
        decoder.append(DecoderStep(level, size, raw, skip, k, s, p, fixes, after))
        size = after
    return SizePlan(encoder, decoder, kernels, strides, paddings, fix)


def describe_size_plan(input_size, depth, kernel_size=3, stride=2, padding=1) -> str:
    """The sizes of :func:`size_plan` as two lines of text, and the fixes it needs.

    Examples
    --------
    >>> print(describe_size_plan(16, depth=1))
    encoder: 16 → 8
    decoder: 8 → 15 (skip: 16)
    level 1: 15 vs 16: output_padding=1 (or output_size=16, or crop the skip)
    """
    plan = size_plan(input_size, depth, kernel_size, stride, padding)
    decoder = [str(plan.encoder[-1])]
    for step in plan.decoder:
        decoder.append(str(step.raw) if step.lines_up else f"{step.raw} (skip: {step.skip})")
    lines = ["encoder: " + " → ".join(map(str, plan.encoder)), "decoder: " + " → ".join(decoder)]
    return "\n".join(lines + plan.fixes())
