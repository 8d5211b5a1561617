"""The capstone's tiny U-Net (PyTorch) and its synthetic segmentation task.

Small enough to train on a laptop CPU in seconds: small grey images, two down-sampling
steps, 4-8-16 channels. Only the decoder's upsampler changes between variants
(``UPSAMPLERS``), so that their accuracy and artifacts can be compared with everything
else held fixed; :mod:`upsampling.capstone` trains and measures them. Also the small
decoder of chapter 5's photograph experiment (:func:`photo_decoder`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "UPSAMPLERS",
    "make_upsampler",
    "bilinear_init_",
    "icnr_init_",
    "TinyUNet",
    "make_shapes",
    "iou",
    "photo_decoder",
]

UPSAMPLERS = {
    "transposed": "transposed conv (k=2, s=2, as in U-Net)",
    "transposed_k3": "transposed conv (k=3, s=2)",
    "transposed_bilinear": "transposed conv (k=4, s=2), bilinear init",
    "resize": "resize-conv (nearest, then 3×3 conv)",
    "bilinear": "bilinear, then 3×3 conv",
    "subpixel_icnr": "sub-pixel conv (3×3, pixel shuffle), ICNR init",
}


def bilinear_init_(layer: nn.ConvTranspose2d) -> nn.ConvTranspose2d:
    """Gives a stride-2, 4x4 transposed convolution FCN's bilinear starting point, in place.

    Each ``(C_in, C_out)`` kernel of the layer's default random weight is replaced by the
    bilinear kernel ``[1, 3, 3, 1]^T [1, 3, 3, 1] / 16`` scaled to the same sum ``S``, so
    that at initialisation the layer is a random 1x1 mixing of the channels (weights
    ``S / 4``) followed by bilinear x2 upsampling: every kernel has four equal phase sums,
    and a constant input gives a flat interior. (FCN maps class scores to themselves, an
    identity mixing; a U-Net's decoder changes the number of channels, so the mixing stays
    random.)
    """
    if layer.kernel_size != (4, 4) or layer.stride != (2, 2):
        raise ValueError(
            f"bilinear_init_ needs kernel_size (4, 4) and stride (2, 2), "
            f"got {layer.kernel_size} and {layer.stride}"
        )
    tent = torch.tensor([1.0, 3.0, 3.0, 1.0]) / 4
    with torch.no_grad():
        sums = layer.weight.sum(dim=(-2, -1), keepdim=True)
        layer.weight.copy_(sums * torch.outer(tent, tent) / 4)  # the outer product sums to 4
    return layer


def icnr_init_(conv: nn.Conv2d, upscale_factor: int = 2) -> nn.Conv2d:
    """ICNR initialisation (Aitken et al. 2017) of the convolution before a pixel shuffle,
    in place.

    The ``C_out * r**2`` filters are replaced by ``C_out`` filters of the layer's default
    initialisation, each repeated ``r**2`` times (and so is the bias): the ``r x r``
    sub-pixels that ``pixel_shuffle`` gathers into one block then come from one filter,
    and at initialisation the layer is a convolution followed by nearest-neighbour
    upsampling (``upsampling.checkerboard.icnr_weight`` is the numpy version).
    """
    r2 = upscale_factor**2
    if conv.out_channels % r2:
        raise ValueError(
            f"out_channels ({conv.out_channels}) must be divisible by upscale_factor**2 ({r2})"
        )
    with torch.no_grad():
        weight = conv.weight[: conv.out_channels // r2].clone()
        conv.weight.copy_(weight.repeat_interleave(r2, dim=0))
        if conv.bias is not None:
            bias = conv.bias[: conv.out_channels // r2].clone()
            conv.bias.copy_(bias.repeat_interleave(r2))
    return conv


def make_upsampler(kind: str, in_channels: int, out_channels: int) -> nn.Module:
    """A x2 upsampling layer of the given ``kind`` (a key of ``UPSAMPLERS``)."""
    if kind == "transposed":
        return nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
    if kind == "transposed_k3":
        return nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size=3, stride=2, padding=1, output_padding=1
        )
    if kind == "transposed_bilinear":
        return bilinear_init_(
            nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1)
        )
    if kind == "subpixel_icnr":
        conv = nn.Conv2d(in_channels, 4 * out_channels, kernel_size=3, padding=1)
        return nn.Sequential(icnr_init_(conv), nn.PixelShuffle(2))
    if kind in ("resize", "bilinear"):
        mode = "nearest" if kind == "resize" else "bilinear"
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode=mode),
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        )
    raise ValueError(f"kind must be one of {sorted(UPSAMPLERS)}, got {kind!r}")


def _double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.GroupNorm(4, out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.GroupNorm(4, out_channels),
        nn.ReLU(inplace=True),
    )


class TinyUNet(nn.Module):
    """A two-level U-Net: encoder (double conv, max-pool) x2, bottleneck, decoder
    (upsample, concatenate the skip connection, double conv) x2, 1x1 head to logits.
    Each double conv is two 3x3 convolutions with group normalisation (4 groups) and ReLU;
    group rather than batch normalisation, so that a model behaves the same in training
    and in evaluation after a few hundred small batches.

    Parameters
    ----------
    upsampler : str
        The decoder's upsampling layer, a key of ``UPSAMPLERS``.
    channels : tuple of 3 ints
        Channels at full, half and quarter resolution.
    """

    def __init__(self, upsampler: str = "transposed", channels=(4, 8, 16), in_channels=1):
        super().__init__()
        c1, c2, c3 = channels
        self.upsampler = upsampler
        self.enc1 = _double_conv(in_channels, c1)
        self.enc2 = _double_conv(c1, c2)
        self.bottleneck = _double_conv(c2, c3)
        self.up2 = make_upsampler(upsampler, c3, c2)
        self.dec2 = _double_conv(2 * c2, c2)
        self.up1 = make_upsampler(upsampler, c2, c1)
        self.dec1 = _double_conv(2 * c1, c1)
        self.head = nn.Conv2d(c1, 1, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = self.enc1(x)
        s2 = self.enc2(F.max_pool2d(s1, 2))
        b = self.bottleneck(F.max_pool2d(s2, 2))
        d2 = self.dec2(torch.cat([self.up2(b), s2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), s1], dim=1))
        return self.head(d1)


def make_shapes(n: int, size: int = 32, seed: int = 0, noise: float = 0.2):
    """A synthetic segmentation set: find the discs among squares, in noise.

    Each image holds 1-3 filled discs (the class to segment) and 1-3 filled squares
    (distractors with the same brightness, so only shape tells them apart) on a dark
    background with a random brightness gradient, plus Gaussian noise.

    Returns
    -------
    images : float32 ndarray, shape (n, 1, size, size)
    masks : float32 ndarray of 0/1, shape (n, 1, size, size)
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    images = np.zeros((n, 1, size, size), np.float32)
    masks = np.zeros((n, 1, size, size), np.float32)
    for i in range(n):
        image = np.zeros((size, size), np.float32)
        mask = np.zeros((size, size), bool)
        for _ in range(rng.integers(1, 4)):
            side = rng.integers(size // 6, size // 3)
            top, left = rng.integers(0, size - side, 2)
            image[top : top + side, left : left + side] = 1
        for _ in range(rng.integers(1, 4)):
            radius = rng.uniform(size / 12, size / 5)
            cy, cx = rng.uniform(radius, size - radius, 2)
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
            image[disc] = 1
            mask |= disc
        gradient = rng.uniform(-0.3, 0.3, 2) @ np.stack([yy, xx]).reshape(2, -1) / size
        image += gradient.reshape(size, size)
        image += noise * rng.standard_normal((size, size)).astype(np.float32)
        images[i, 0] = image
        masks[i, 0] = mask
    return images, masks


def iou(predicted, target) -> float:
    """Intersection over union of two boolean masks, pooled over all pixels (1.0 if both
    are empty)."""
    predicted = np.asarray(predicted, bool)
    target = np.asarray(target, bool)
    union = np.logical_or(predicted, target).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(predicted, target).sum() / union)


def photo_decoder(kind: str, hidden: int = 8) -> nn.Sequential:
    """A x4 decoder for one grey image: a 3x3 convolution to ``hidden`` channels, then two
    x2 upsamplers of the given ``kind`` (a key of ``UPSAMPLERS``) with ReLUs between."""
    return nn.Sequential(
        nn.Conv2d(1, hidden, kernel_size=3, padding=1),
        nn.ReLU(),
        make_upsampler(kind, hidden, hidden),
        nn.ReLU(),
        make_upsampler(kind, hidden, 1),
    )
