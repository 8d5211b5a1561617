"""upsampling/widgets/ops.js, the live demos' JavaScript, held to the numpy package.

For every operation the module mirrors, at least 1,000 random cases (seeded numpy RNG):
odd and non-square sizes, every argument in every form (an int, ``[v]``, ``[h, w]``),
invalid combinations included. Node.js runs the module on all cases in one process
(tests/upsampling/js/run_ops.mjs); each answer is compared with the package's: the same shape,
values within 1e-12 of the largest magnitude in the expected array (float64; exact for
integer results such as indices and counts; for ``local_phase_means``, residual means
that cancel by design, of the input's largest magnitude; scores, which are ratios of
order 1, within 1e-12 relative or absolute), and every case the package rejects rejected
with the same exception class and the same message. The counts of accepted and rejected
cases per operation go to ``test-artifacts/js_parity.json``. A few cases are checked
against numbers worked out by hand (the course's worked examples), so that the module is
not only compared with another implementation.

JS numbers have no int/float distinction: ``2.0`` is an int there. The cases therefore
never pass an integer-valued float where the package tells ints from floats (a float
``1.5`` is passed, and rejected by both).
"""

from __future__ import annotations

import base64
import functools
import json
import math
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import upsampling
from upsampling import _args, checkerboard, pooling, shuffle
from upsampling.conv_transpose import conv_transpose2d
from upsampling.interpolate import linear_source_weights, nearest_source_index

ROOT = Path(__file__).resolve().parents[2]
OPS_JS = ROOT / "upsampling" / "widgets" / "ops.js"
DRIVER = ROOT / "tests" / "upsampling" / "js" / "run_ops.mjs"
ARTIFACT = ROOT / "test-artifacts" / "js_parity.json"
CASES_PER_OP = 1200
MIN_CASES = 1000
RTOL = 1e-12


# -- Transport --------------------------------------------------------------------------


def to_js(value):
    """A Python argument as the driver's JSON: arrays as float64 bytes, the rest as is."""
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value, dtype="<f8")
        return {"__tensor__": list(value.shape), "b64": base64.b64encode(data).decode()}
    if isinstance(value, (list, tuple)):
        return [to_js(v) for v in value]
    if isinstance(value, dict):
        return {k: to_js(v) for k, v in value.items()}
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]}
    return value


def from_js(value):
    if isinstance(value, list):
        return [from_js(v) for v in value]
    if isinstance(value, dict):
        if "__tensor__" in value:
            data = np.frombuffer(base64.b64decode(value["b64"]), dtype="<f8")
            return data.reshape(value["__tensor__"])
        if "__float__" in value:
            return float(value["__float__"].replace("Infinity", "inf"))
        return {k: from_js(v) for k, v in value.items()}
    return value


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail(
            "Node.js (`node`, version 20 or later) is needed to test upsampling/widgets/ops.js "
            "against the package and was not found on PATH: install it (apt-get install nodejs)",
            pytrace=False,
        )
    return path


def run_js(cases: list[dict]) -> list[dict]:
    """Runs ops.js on ``cases`` ({"op", "args", "kwargs"}) in one Node process."""
    payload = json.dumps({"cases": cases})
    done = subprocess.run(
        [node(), str(DRIVER), str(OPS_JS)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"the Node driver failed:\n{done.stderr}"
    return json.loads(done.stdout)["results"]


# -- Cases ------------------------------------------------------------------------------


@dataclass
class Case:
    op: str
    args: list
    kwargs: dict = field(default_factory=dict)


def pair_arg(rng, low, high):
    """An int, a one-element list or a pair, in [low, high]."""
    form = rng.integers(3)
    if form == 0:
        return int(rng.integers(low, high + 1))
    if form == 1:
        return [int(rng.integers(low, high + 1))]
    return [int(v) for v in rng.integers(low, high + 1, 2)]


BAD_PAIRS = [-1, 0, 1.5, None, True, [1, 2, 3], [], [2, 1.5], "2", [-1, 2]]


def bad_pair(rng):
    return BAD_PAIRS[rng.integers(len(BAD_PAIRS))]


def maybe(rng, kwargs, name, value, p=0.7):
    if rng.random() < p:
        kwargs[name] = value


def batch_shape(rng, channels, h, w):
    """``(C, H, W)`` (unbatched) a third of the time, else ``(N, C, H, W)``."""
    if rng.random() < 1 / 3:
        return (channels, h, w)
    return (int(rng.integers(1, 3)), channels, h, w)


def gen_conv_transpose2d(rng, op="conv_transpose2d", size=6, batch=True, groups=3) -> Case:
    groups = int(rng.integers(1, groups + 1))
    c_in, c_out_g = groups * int(rng.integers(1, 3)), int(rng.integers(1, 3))
    h, w = (int(v) for v in rng.integers(1, size + 1, 2))
    kh, kw = (int(v) for v in rng.integers(1, 6, 2))
    shape = batch_shape(rng, c_in, h, w) if batch else (c_in, h, w)
    x = rng.standard_normal(shape)
    weight = rng.standard_normal((c_in, c_out_g, kh, kw))
    kwargs = {}
    maybe(rng, kwargs, "stride", pair_arg(rng, 1, 4))
    maybe(rng, kwargs, "padding", pair_arg(rng, 0, 3), 0.5)
    maybe(rng, kwargs, "output_padding", pair_arg(rng, 0, 2), 0.4)
    maybe(rng, kwargs, "dilation", pair_arg(rng, 1, 3), 0.4)
    if groups > 1 or rng.random() < 0.2:
        kwargs["groups"] = groups
    if rng.random() < 0.3:
        kwargs["bias"] = rng.standard_normal(c_out_g * groups)
    if rng.random() < 0.2:  # one invalid argument
        match int(rng.integers(7)):
            case 0:
                kwargs[str(rng.choice(["stride", "padding", "output_padding", "dilation"]))] = (
                    bad_pair(rng)
                )
            case 1:
                weight = rng.standard_normal((c_in + 1, c_out_g, kh, kw))
            case 2:
                x = rng.standard_normal(x.shape[-2:] if rng.random() < 0.5 else (1, *x.shape))
            case 3:
                kwargs["bias"] = rng.standard_normal(c_out_g * groups + 1)
            case 4:
                kwargs["groups"] = [0, -1, 1.5, None, 4][rng.integers(5)]
            case 5:
                x = rng.standard_normal((*x.shape[:-2], 0, w))
            case 6:
                weight = rng.standard_normal((c_in, c_out_g, kh))
    return Case(op, [x, weight], kwargs)


def gen_conv2d(rng) -> Case:
    groups = int(rng.integers(1, 4))
    c_in_g, c_out = int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    h, w = (int(v) for v in rng.integers(1, 9, 2))
    kh, kw = (int(v) for v in rng.integers(1, 6, 2))
    x = rng.standard_normal(batch_shape(rng, c_in_g * groups, h, w))
    weight = rng.standard_normal((c_out, c_in_g, kh, kw))
    kwargs = {}
    maybe(rng, kwargs, "stride", pair_arg(rng, 1, 3), 0.5)
    padding = rng.random()
    if padding < 0.15:
        kwargs["padding"] = str(rng.choice(["same", "valid", "full"]))
    elif padding < 0.6:
        kwargs["padding"] = pair_arg(rng, 0, 2)
    maybe(rng, kwargs, "dilation", pair_arg(rng, 1, 2), 0.4)
    if groups > 1 or rng.random() < 0.2:
        kwargs["groups"] = groups
    if rng.random() < 0.3:
        kwargs["bias"] = rng.standard_normal(c_out)
    if rng.random() < 0.15:
        match int(rng.integers(4)):
            case 0:
                kwargs[str(rng.choice(["stride", "padding", "dilation"]))] = bad_pair(rng)
            case 1:
                weight = rng.standard_normal((c_out + 1, c_in_g, kh, kw))
            case 2:
                weight = rng.standard_normal((c_out, c_in_g + 1, kh, kw))
            case 3:
                kwargs["bias"] = rng.standard_normal((c_out, 1))
    return Case("conv2d", [x, weight], kwargs)


def gen_conv_matrix(rng) -> Case:
    groups = int(rng.integers(1, 3))
    c_in_g, c_out = int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    weight = rng.standard_normal((c_out, c_in_g, kh, kw))
    input_size = pair_arg(rng, 1, 6)
    kwargs = {}
    maybe(rng, kwargs, "stride", pair_arg(rng, 1, 3), 0.5)
    maybe(rng, kwargs, "padding", pair_arg(rng, 0, 2), 0.5)
    maybe(rng, kwargs, "dilation", pair_arg(rng, 1, 2), 0.3)
    if groups > 1 or rng.random() < 0.2:
        kwargs["groups"] = groups
    if rng.random() < 0.15:
        match int(rng.integers(4)):
            case 0:
                kwargs[str(rng.choice(["stride", "padding", "dilation"]))] = bad_pair(rng)
            case 1:
                input_size = bad_pair(rng)
            case 2:
                kwargs["groups"] = 3
            case 3:
                weight = weight[0]
    return Case("conv_matrix", [weight, input_size], kwargs)


def size_arg(rng, n, low, high):
    """An int (every axis) or a list of ``n`` ints."""
    if rng.random() < 0.5:
        return int(rng.integers(low, high + 1))
    return [int(v) for v in rng.integers(low, high + 1, n)]


BAD_SIZES = [0, -1, [1], 1.5, None, "3", [2.5, 2], True, []]


def gen_size_case(rng, op) -> Case:
    n = int(rng.integers(1, 4))
    if rng.random() < 0.4:
        input_size = int(rng.integers(1, 40))
        n = 1
    else:
        input_size = [int(v) for v in rng.integers(1, 40, n)]
    kernel = size_arg(rng, n, 1, 7)
    kwargs = {}
    maybe(rng, kwargs, "stride", size_arg(rng, n, 1, 4), 0.8)
    maybe(rng, kwargs, "padding", size_arg(rng, n, 0, 4), 0.6)
    if op == "conv_transpose_output_size":
        maybe(rng, kwargs, "output_padding", size_arg(rng, n, 0, 2), 0.4)
    maybe(rng, kwargs, "dilation", size_arg(rng, n, 1, 3), 0.4)
    if rng.random() < 0.25:  # one invalid argument
        name = str(rng.choice(["input_size", "kernel_size", "stride", "padding", "dilation"]))
        bad = BAD_SIZES[rng.integers(len(BAD_SIZES))]
        if name == "input_size":
            input_size = bad
        elif name == "kernel_size":
            kernel = bad
        else:
            kwargs[name] = bad
    return Case(op, [input_size, kernel], kwargs)


def gen_overlap_counts(rng) -> Case:
    one_d = rng.random() < 0.4

    def setting(low, high):
        return int(rng.integers(low, high + 1)) if one_d else pair_arg(rng, low, high)

    input_size = setting(1, 6)
    kernel = setting(1, 6)
    kwargs = {}
    maybe(rng, kwargs, "stride", setting(1, 4), 0.8)
    maybe(rng, kwargs, "padding", setting(0, 2), 0.3)
    maybe(rng, kwargs, "dilation", setting(1, 2), 0.2)
    if rng.random() < 0.4:
        kwargs["layers"] = int(rng.integers(1, 4))
    elif rng.random() < 0.8:
        keys = {"kernel_size": (1, 6), "stride": (1, 4), "padding": (0, 2), "dilation": (1, 2)}
        kwargs["layers"] = [
            {key: setting(*keys[key]) for key in keys if rng.random() < 0.4}
            for _ in range(rng.integers(1, 4))
        ]
    if rng.random() < 0.15:
        match int(rng.integers(6)):
            case 0:
                kwargs["layers"] = [0, -1, [], "2", [1, 2], True, [{}, 3]][rng.integers(7)]
            case 1:
                kwargs["layers"] = [{}, {"strides": 2}]
            case 2:
                kwargs["layers"] = [{"stride": bad_pair(rng)}]
            case 3:
                kwargs[str(rng.choice(["stride", "padding", "dilation"]))] = bad_pair(rng)
            case 4:
                kernel = bad_pair(rng)
            case 5:
                input_size = bad_pair(rng)
    return Case("overlap_counts", [input_size, kernel], kwargs)


def gen_phase_sums(rng) -> Case:
    lead = tuple(int(v) for v in rng.integers(1, 3, rng.integers(0, 3)))
    weight = rng.standard_normal((*lead, *rng.integers(1, 9, 2)))
    stride = pair_arg(rng, 1, 4)
    if rng.random() < 0.1:
        weight = rng.standard_normal(rng.integers(1, 5, rng.integers(0, 2)))
    elif rng.random() < 0.1:
        stride = bad_pair(rng)
    return Case("phase_sums", [weight, stride])


def image(rng, max_size):
    """An image with leading axes, sometimes all zeros or a periodic pattern plus noise."""
    lead = tuple(int(v) for v in rng.integers(1, 3, rng.integers(0, 3)))
    shape = (*lead, *(int(v) for v in rng.integers(1, max_size + 1, 2)))
    kind = rng.random()
    if kind < 0.05:
        return np.zeros(shape)
    if kind < 0.4:
        period = rng.standard_normal((3, 3)) + 2
        tiled = np.tile(period, (shape[-2] // 3 + 1, shape[-1] // 3 + 1))[: shape[-2], : shape[-1]]
        return tiled + 0.1 * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def gen_checkerboard(rng, op) -> Case:
    local = op.startswith("local")
    x = image(rng, 24 if local else 16)
    stride = pair_arg(rng, 1, 3 if local else 4)
    kwargs = {}
    maybe(rng, kwargs, "border", pair_arg(rng, 0, 3), 0.4)
    if local:
        maybe(rng, kwargs, "window", pair_arg(rng, 1, 4), 0.6)
    if rng.random() < 0.1:
        match int(rng.integers(3)):
            case 0:
                x = rng.standard_normal(rng.integers(1, 5, rng.integers(0, 2)))
            case 1:
                stride = bad_pair(rng)
            case 2:
                kwargs[str(rng.choice(["border", "window"] if local else ["border"]))] = bad_pair(
                    rng
                )
    return Case(op, [x, stride], kwargs)


def pool_input(rng, shape):
    """Values with ties (small integers) or not, sometimes a NaN or -inf among them."""
    if rng.random() < 0.5:
        x = rng.integers(0, 4, shape).astype(float)
    else:
        x = rng.standard_normal(shape)
    if x.size and rng.random() < 0.15:
        x.flat[rng.integers(x.size, size=rng.integers(1, 3))] = [np.nan, -np.inf][rng.integers(2)]
    return x


def pool_settings(rng):
    kernel = pair_arg(rng, 1, 4)
    kwargs = {}
    if rng.random() < 0.6:
        kwargs["stride"] = None if rng.random() < 0.2 else pair_arg(rng, 1, 3)
    maybe(rng, kwargs, "padding", pair_arg(rng, 0, 2), 0.4)
    return kernel, kwargs


def gen_max_pool2d(rng) -> Case:
    x = pool_input(rng, batch_shape(rng, int(rng.integers(1, 3)), *rng.integers(1, 10, 2)))
    kernel, kwargs = pool_settings(rng)
    maybe(rng, kwargs, "dilation", pair_arg(rng, 1, 2), 0.3)
    maybe(rng, kwargs, "ceil_mode", bool(rng.random() < 0.5), 0.4)
    maybe(rng, kwargs, "return_indices", bool(rng.random() < 0.7), 0.8)
    if rng.random() < 0.1:
        match int(rng.integers(3)):
            case 0:
                kernel = bad_pair(rng)
            case 1:
                kwargs[str(rng.choice(["stride", "padding", "dilation"]))] = bad_pair(rng)
            case 2:
                x = rng.standard_normal((*x.shape[:-2], 0, 3))
    return Case("max_pool2d", [x, kernel], kwargs)


def gen_max_unpool2d(rng) -> Case:
    size = tuple(int(v) for v in rng.integers(1, 10, 2))
    x = pool_input(rng, batch_shape(rng, int(rng.integers(1, 3)), *size))
    kernel, kwargs = pool_settings(rng)
    try:
        pooled, indices = pooling.max_pool2d(x, kernel, return_indices=True, **kwargs)
    except ValueError:  # settings max pooling refuses: unpool something of the right shape
        pooled = rng.standard_normal((*x.shape[:-2], *rng.integers(1, 4, 2)))
        indices = rng.integers(0, 9, pooled.shape)
    choice = rng.random()
    if choice < 0.35:  # the size max pooling came from: fine unless off by a stride or more
        kwargs["output_size"] = list(size) if rng.random() < 0.7 else [*x.shape[:2], *size]
    elif choice < 0.55:
        kwargs["output_size"] = [int(v) for v in rng.integers(0, 14, 2)]
    if rng.random() < 0.15:
        match int(rng.integers(5)):
            case 0:
                kwargs["output_size"] = [[3], 4, [1, 2, 3], [2.5, 3], None][rng.integers(5)]
            case 1:
                indices = indices + 0.5
            case 2:
                indices = indices.copy()
                indices.flat[rng.integers(indices.size)] = [-1, 1000][rng.integers(2)]
            case 3:
                indices = indices[..., :-1] if indices.shape[-1] > 1 else indices[..., None]
            case 4:
                kernel = bad_pair(rng)
    return Case("max_unpool2d", [pooled, indices, kernel], kwargs)


def real_factor(rng):
    """A scale factor: an int, or a float that is not a whole number (JS has no 2.0)."""
    if rng.random() < 0.3:
        return int(rng.integers(1, 5))
    f = round(float(rng.uniform(0.3, 4.0)), int(rng.integers(1, 4)))
    return f + 0.05 if f == int(f) else f


def gen_interpolate(rng) -> Case:
    spatial = 2 if rng.random() < 0.8 else int(rng.integers(1, 4))
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3)), *rng.integers(1, 9, spatial))
    x = rng.standard_normal(shape)
    kwargs = {}
    mode = rng.random()
    if mode < 0.5:
        kwargs["mode"] = "bilinear"
        maybe(rng, kwargs, "align_corners", bool(rng.random() < 0.5), 0.8)
    elif mode < 0.75:
        kwargs["mode"] = "nearest-exact"
    elif mode < 0.9:
        kwargs["mode"] = "nearest"
    if rng.random() < 0.6:
        factor = [real_factor(rng) for _ in range(spatial)]
        kwargs["scale_factor"] = factor if rng.random() < 0.4 else factor[0]
        maybe(rng, kwargs, "recompute_scale_factor", bool(rng.random() < 0.5), 0.2)
    else:
        sizes = [int(v) for v in rng.integers(1, 20, spatial)]
        kwargs["size"] = sizes if rng.random() < 0.5 else sizes[0]
    if rng.random() < 0.2:
        match int(rng.integers(8)):
            case 0:
                kwargs["mode"] = ["bicubic", "linear", "area"][rng.integers(3)]
            case 1:
                kwargs["align_corners"] = [True, False, 1][rng.integers(3)]
            case 2:
                kwargs["size"], kwargs["scale_factor"] = 4, 2
            case 3:
                kwargs.pop("size", None), kwargs.pop("scale_factor", None)
            case 4:
                kwargs["scale_factor"] = [math.nan, math.inf, [1.5], "2", 0.01, -2][rng.integers(6)]
                kwargs.pop("size", None)
            case 5:
                kwargs["size"] = [0, [4], [2.5, 3], None, -3][rng.integers(5)]
                kwargs.pop("scale_factor", None)
            case 6:
                kwargs["antialias"] = True
            case 7:
                x = rng.standard_normal(rng.integers(1, 4, int(rng.integers(2, 7))))
    return Case("interpolate", [x], kwargs)


def gen_nearest_source_index(rng) -> Case:
    n, m = int(rng.integers(1, 30)), int(rng.integers(1, 70))
    kwargs = {}
    if rng.random() < 0.5:
        kwargs["scale_factor"] = real_factor(rng)
    maybe(rng, kwargs, "exact", bool(rng.random() < 0.5), 0.7)
    return Case("nearest_source_index", [n, m], kwargs)


def gen_linear_source_weights(rng) -> Case:
    n, m = int(rng.integers(1, 30)), int(rng.integers(1, 70))
    kwargs = {}
    if rng.random() < 0.5:
        kwargs["scale_factor"] = real_factor(rng)
    return Case("linear_source_weights", [n, m, bool(rng.random() < 0.5)], kwargs)


def gen_shuffle(rng, op) -> Case:
    r = int(rng.integers(1, 5))
    lead = tuple(int(v) for v in rng.integers(1, 3, rng.integers(0, 3)))
    c, h, w = (int(v) for v in rng.integers(1, 4, 3))
    if op == "pixel_shuffle":
        shape = (*lead, c * r * r, h, w)
    else:
        shape = (*lead, c, h * r, w * r)
    x = rng.standard_normal(shape)
    if rng.random() < 0.2:
        match int(rng.integers(3)):
            case 0:
                r = [0, -2, 1.5, None, [2]][rng.integers(5)]
            case 1:
                x = rng.standard_normal(rng.integers(1, 5, rng.integers(0, 3)))
            case 2:
                x = rng.standard_normal((*shape[:-3], shape[-3] + 1, shape[-2] + 1, shape[-1]))
    return Case(op, [x, r])


def gen_bilinear_kernel(rng) -> Case:
    if rng.random() < 0.15:
        return Case("bilinear_kernel", [[0, -1, 1.5, None, [2], True][rng.integers(6)]])
    return Case("bilinear_kernel", [int(rng.integers(1, 17))])


def gen_icnr_weight(rng) -> Case:
    weight = rng.standard_normal(rng.integers(1, 4, 4))
    kwargs = {}
    maybe(rng, kwargs, "upscale_factor", int(rng.integers(1, 5)), 0.7)
    if rng.random() < 0.15:
        if rng.random() < 0.5:
            weight = weight[0]
        else:
            kwargs["upscale_factor"] = [0, 1.5, None, [2]][rng.integers(4)]
    return Case("icnr_weight", [weight], kwargs)


GENERATORS: dict[str, Callable[[np.random.Generator], Case]] = {
    "conv_transpose2d": gen_conv_transpose2d,
    "conv_transpose2d_steps": lambda rng: gen_conv_transpose2d(
        # Smaller: every step carries a snapshot of the whole uncropped output.
        rng,
        "conv_transpose2d_steps",
        size=3,
        batch=rng.random() < 0.3,
        groups=2,
    ),
    "conv2d": gen_conv2d,
    "conv_matrix": gen_conv_matrix,
    "conv_output_size": lambda rng: gen_size_case(rng, "conv_output_size"),
    "conv_transpose_output_size": lambda rng: gen_size_case(rng, "conv_transpose_output_size"),
    "overlap_counts": gen_overlap_counts,
    "phase_sums": gen_phase_sums,
    "phase_means": lambda rng: gen_checkerboard(rng, "phase_means"),
    "checkerboard_score": lambda rng: gen_checkerboard(rng, "checkerboard_score"),
    "local_phase_means": lambda rng: gen_checkerboard(rng, "local_phase_means"),
    "local_checkerboard_score": lambda rng: gen_checkerboard(rng, "local_checkerboard_score"),
    "max_pool2d": gen_max_pool2d,
    "max_unpool2d": gen_max_unpool2d,
    "interpolate": gen_interpolate,
    "nearest_source_index": gen_nearest_source_index,
    "linear_source_weights": gen_linear_source_weights,
    "pixel_shuffle": lambda rng: gen_shuffle(rng, "pixel_shuffle"),
    "pixel_unshuffle": lambda rng: gen_shuffle(rng, "pixel_unshuffle"),
    "bilinear_kernel": gen_bilinear_kernel,
    "icnr_weight": gen_icnr_weight,
}


# -- What the package says ---------------------------------------------------------------


PACKAGE = {
    "conv_transpose2d_steps": conv_transpose2d,  # its output; check_steps does the rest
    "nearest_source_index": nearest_source_index,
    "linear_source_weights": linear_source_weights,
    "pixel_unshuffle": shuffle.pixel_unshuffle,
    **{name: getattr(checkerboard, name) for name in checkerboard.__all__},
}


def python_call(case: Case):
    function = PACKAGE.get(case.op) or getattr(upsampling, case.op)
    return function(*case.args, **case.kwargs)


def assert_same(expected, got, where: str, floor: float = 0.0) -> None:
    """``got`` (from JS) equals ``expected`` (from the package): shapes, values, kinds.

    Values agree within ``RTOL`` times the largest magnitude in ``expected``, or in
    ``floor`` if larger (the input's, for results that cancel by design)."""
    if isinstance(expected, np.ndarray):
        got = np.asarray(got, dtype=np.float64)
        assert got.shape == expected.shape, f"{where}: shape {got.shape} != {expected.shape}"
        if expected.dtype.kind in "iub":
            np.testing.assert_array_equal(got, expected, err_msg=where)
            return
        nan = np.isnan(expected)
        assert np.array_equal(np.isnan(got), nan), f"{where}: NaNs at other positions"
        exp, val = expected[~nan], got[~nan]
        inf = np.isinf(exp)
        assert np.array_equal(exp[inf], val[inf]), f"{where}: infinities differ"
        if exp[~inf].size:
            scale = max(float(np.abs(exp[~inf]).max()), floor, np.finfo(float).tiny)
            error = float(np.abs(exp[~inf] - val[~inf]).max())
            assert error <= RTOL * scale, f"{where}: error {error:.3g} > {RTOL} * {scale:.3g}"
    elif isinstance(expected, tuple):
        assert isinstance(got, list) and len(got) == len(expected), f"{where}: {got!r}"
        for k, (e, g) in enumerate(zip(expected, got, strict=True)):
            assert_same(e, g, f"{where}[{k}]")
    elif isinstance(expected, bool | np.bool_):
        assert got is bool(expected), f"{where}: {got!r} != {expected!r}"
    elif isinstance(expected, int | np.integer):
        assert isinstance(got, int) and got == expected, f"{where}: {got!r} != {expected!r}"
    elif isinstance(expected, float | np.floating):
        assert isinstance(got, int | float), f"{where}: {got!r} is not a number"
        # The float results are the scores, ratios of order 1: absolute 1e-12 too.
        assert math.isclose(got, expected, rel_tol=RTOL, abs_tol=RTOL), (
            f"{where}: {got} != {expected}"
        )
    else:
        raise AssertionError(f"{where}: no comparison for {type(expected).__name__}")


def check_steps(case: Case, got: dict) -> None:
    """The step-by-step scatter-add against the package's conv_transpose2d."""
    x, weight = (np.asarray(a, dtype=np.float64) for a in case.args)
    kwargs = case.kwargs
    expected = conv_transpose2d(x, weight, **kwargs)
    assert_same(expected, got["output"], "output")
    stride = _args.pair(kwargs.get("stride", 1), "stride")
    padding = _args.pair(kwargs.get("padding", 0), "padding")
    dilation = _args.pair(kwargs.get("dilation", 1), "dilation")
    unbiased = {k: v for k, v in kwargs.items() if k not in ("bias", "padding")}
    full = conv_transpose2d(x, weight, **unbiased)
    assert_same(full, got["full"], "full")
    height, width = expected.shape[-2:]
    assert got["crop"] == {"top": padding[0], "left": padding[1], "height": height, "width": width}

    batched = x if x.ndim == 4 else x[None]
    n, c_in, h, w = batched.shape
    kh, kw = weight.shape[2:]
    c_out_g, groups = weight.shape[1], kwargs.get("groups", 1)
    order = [
        (b, c, i, j) for b in range(n) for c in range(c_in) for i in range(h) for j in range(w)
    ]
    steps = got["steps"]
    assert [(s["n"], s["c_in"], s["i"], s["j"]) for s in steps] == order
    for s in steps:
        b, c, i, j = s["n"], s["c_in"], s["i"], s["j"]
        assert s["value"] == batched[b, c, i, j]
        assert s["rows"] == [i * stride[0], i * stride[0] + dilation[0] * (kh - 1) + 1]
        assert s["cols"] == [j * stride[1], j * stride[1] + dilation[1] * (kw - 1) + 1]
        group = c // (c_in // groups)
        assert s["c_out"] == [group * c_out_g, (group + 1) * c_out_g]
    # The partial sums of a few steps: the input with only the values up to that step.
    rng = np.random.default_rng(len(order))
    for t in {len(order) - 1, *rng.integers(len(order), size=3).tolist()}:
        kept = np.zeros(batched.size)
        kept[: t + 1] = batched.ravel()[: t + 1]
        partial = conv_transpose2d(kept.reshape(batched.shape), weight, **unbiased)
        assert_same(partial if x.ndim == 4 else partial[0], steps[t]["partial"], f"step {t}")


@dataclass
class Outcome:
    accepted: int = 0
    rejected: int = 0
    failures: list[str] = field(default_factory=list)


def compare(case: Case, result: dict) -> Outcome:
    outcome = Outcome()
    try:
        expected = python_call(case)
    except (TypeError, ValueError, NotImplementedError) as exc:
        outcome.rejected = 1
        wanted = {"name": type(exc).__name__, "message": str(exc)}
        if result.get("error") != wanted:
            outcome.failures.append(f"package raised {wanted}, ops.js gave {result}")
        return outcome
    outcome.accepted = 1
    if "ok" not in result:
        outcome.failures.append(f"package accepted it, ops.js gave {result}")
        return outcome
    got = from_js(result["ok"])
    try:
        if case.op == "conv_transpose2d_steps":
            check_steps(case, got)
        elif case.op == "local_phase_means":
            # Means of the residuals of a plane fit: they cancel to rounding noise where
            # the content is a plane, so the input's magnitude is the scale.
            assert_same(expected, got, case.op, floor=float(np.abs(case.args[0]).max()))
        else:
            assert_same(expected, got, case.op)
    except AssertionError as exc:
        outcome.failures.append(str(exc))
    return outcome


def describe(case: Case) -> str:
    def short(v):
        return f"array{v.shape}" if isinstance(v, np.ndarray) else repr(v)

    kwargs = ", ".join(f"{k}={short(v)}" for k, v in case.kwargs.items())
    return f"{case.op}({', '.join(map(short, case.args))}{', ' if kwargs else ''}{kwargs})"


def cases_of(op: str) -> Iterator[Case]:
    rng = np.random.default_rng([16, sorted(GENERATORS).index(op)])
    for _ in range(CASES_PER_OP):
        yield GENERATORS[op](rng)


@functools.cache
def parity() -> dict[str, tuple[Outcome, list[str]]]:
    """Every operation's cases, run once in Node, compared with the package."""
    cases = {op: list(cases_of(op)) for op in GENERATORS}
    flat = [c for op in GENERATORS for c in cases[op]]
    results = iter(
        run_js([{"op": c.op, "args": to_js(c.args), "kwargs": to_js(c.kwargs)} for c in flat])
    )
    report = {}
    for op in GENERATORS:
        total, problems = Outcome(), []
        for case in cases[op]:
            one = compare(case, next(results))
            total.accepted += one.accepted
            total.rejected += one.rejected
            problems += [f"{describe(case)}: {f}" for f in one.failures]
        report[op] = (total, problems)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    counts = {
        op: {
            "cases": o.accepted + o.rejected,
            "accepted": o.accepted,
            "rejected": o.rejected,
            "mismatches": len(p),
        }
        for op, (o, p) in report.items()
    }
    ARTIFACT.write_text(json.dumps(counts, indent=2) + "\n")
    return report


# Operations that reject so few random cases (or none) that a lower floor applies.
MIN_REJECTED = {"nearest_source_index": 0, "linear_source_weights": 0}


@pytest.mark.parametrize("op", list(GENERATORS))
def test_ops_js_agrees_with_the_package(op):
    outcome, problems = parity()[op]
    assert not problems, f"{len(problems)} mismatches, first ones:\n" + "\n".join(problems[:5])
    assert outcome.accepted + outcome.rejected >= MIN_CASES
    # Both sides of the contract are exercised: real results and the package's errors.
    assert outcome.accepted >= MIN_CASES // 2, outcome
    assert outcome.rejected >= MIN_REJECTED.get(op, 100), outcome


# -- Worked by hand (/work/shared/COURSE.md) ---------------------------------------------


def js(op, *args, **kwargs):
    (result,) = run_js([{"op": op, "args": to_js(list(args)), "kwargs": to_js(kwargs)}])
    assert "ok" in result, result
    return from_js(result["ok"])


def test_worked_examples_of_the_transposed_convolution():
    x = [[[[2.0, 0.0], [4.0, 1.0]]]]
    k = [[[[4.0, 2.0, 1.0], [1.0, 0.0, 3.0], [0.0, 5.0, 2.0]]]]
    np.testing.assert_array_equal(
        js("conv_transpose2d", [[[[0, 1], [2, 3]]]], [[[[0, 1], [2, 3]]]])[0, 0],
        [[0, 0, 1], [0, 4, 6], [4, 12, 9]],
    )
    np.testing.assert_array_equal(
        js("conv_transpose2d", x, k)[0, 0],
        [[8, 4, 2, 0], [18, 12, 12, 1], [4, 11, 16, 3], [0, 20, 13, 2]],
    )
    np.testing.assert_array_equal(
        js("conv_transpose2d", x, k, stride=2)[0, 0],
        [[8, 4, 2, 0, 0], [2, 0, 6, 0, 0], [16, 18, 12, 2, 1], [4, 0, 13, 0, 3], [0, 20, 8, 5, 2]],
    )
    np.testing.assert_array_equal(
        js("conv_transpose2d", x, k, stride=2, padding=1)[0, 0],
        [[0, 6, 0], [18, 12, 2], [0, 13, 0]],
    )
    np.testing.assert_array_equal(
        js("conv_transpose2d", x, k, stride=2, padding=1, output_padding=1)[0, 0],
        [[0, 6, 0, 0], [18, 12, 2, 1], [0, 13, 0, 3], [20, 8, 5, 2]],
    )
    # The matrix view (d2l): Y = conv(X, K), and the transposed convolution of Y.
    X, K = np.arange(9.0).reshape(1, 1, 3, 3), [[[[1.0, 2.0], [3.0, 4.0]]]]
    np.testing.assert_array_equal(js("conv2d", X, K)[0, 0], [[27, 37], [57, 67]])
    C = js("conv_matrix", K, [3, 3])
    np.testing.assert_array_equal(C @ np.arange(9.0), [27, 37, 57, 67])
    np.testing.assert_array_equal(
        js("conv_transpose2d", [[[[27.0, 37.0], [57.0, 67.0]]]], K)[0, 0],
        [[27, 91, 74], [138, 400, 282], [171, 429, 268]],
    )
    # Seed 001: the Laplacian, forwards and back.
    image = [[0, 1, 0, 1, 1], [0, 0, 1, 1, 0], [1, 1, 0, 1, 0], [0, 1, 0, 0, 1], [0, 0, 1, 1, 0]]
    laplacian = [[[[0, 1, 0], [1, -4, 1], [0, 1, 0]]]]
    y = js("conv2d", [[image]], laplacian)
    np.testing.assert_array_equal(y[0, 0], [[3, -3, -1], [-2, 3, -3], [-3, 2, 3]])
    np.testing.assert_array_equal(
        js("conv_transpose2d", y, laplacian)[0, 0],
        [
            [0, 3, -3, -1, 0],
            [3, -17, 17, -2, -1],
            [-2, 11, -18, 17, -3],
            [-3, 12, -5, -13, 3],
            [0, -3, 2, 3, 0],
        ],
    )


def test_worked_examples_of_the_output_sizes():
    # 16 -> conv(k=3, s=2, p=1) -> 8 -> transposed conv -> 15, or 16 with output_padding=1.
    assert js("conv_output_size", 16, 3, stride=2, padding=1) == 8
    assert js("conv_transpose_output_size", 8, 3, stride=2, padding=1) == 15
    assert js("conv_transpose_output_size", 8, 3, stride=2, padding=1, output_padding=1) == 16
    # Seed 004: a 3x3 input, 1x1 kernel, stride 2 gives 5x5 (6x6 with output_padding=1).
    assert js("conv_transpose_output_size", [3, 3], 1, stride=2) == [5, 5]
    assert js("conv_transpose_output_size", [3, 3], 1, stride=2, output_padding=1) == [6, 6]


def test_the_scatter_add_step_by_step_by_hand():
    """Seed 002 at stride 2: the second copy (input value 0) adds nothing, the third
    (value 4) lands two rows down; the crop of padding 1 keeps the middle 3x3."""
    got = js(
        "conv_transpose2d_steps",
        [[[2.0, 0.0], [4.0, 1.0]]],
        [[[[4.0, 2.0, 1.0], [1.0, 0.0, 3.0], [0.0, 5.0, 2.0]]]],
        stride=2,
        padding=1,
    )
    first, second, third = (s["partial"][0] for s in got["steps"][:3])
    np.testing.assert_array_equal(first[:3, :3], [[8, 4, 2], [2, 0, 6], [0, 10, 4]])
    assert not first[3:].any() and not first[:, 3:].any()
    np.testing.assert_array_equal(second, first)
    np.testing.assert_array_equal(third[2:, :3], [[16, 18, 8], [4, 0, 12], [0, 20, 8]])
    assert got["steps"][2]["rows"] == [2, 5] and got["steps"][2]["cols"] == [0, 3]
    assert got["crop"] == {"top": 1, "left": 1, "height": 3, "width": 3}
    np.testing.assert_array_equal(got["output"][0], [[0, 6, 0], [18, 12, 2], [0, 13, 0]])


def test_messages_are_the_packages_word_for_word():
    (result,) = run_js(
        [{"op": "conv_transpose_output_size", "args": [8, 3], "kwargs": {"output_padding": 1}}]
    )
    assert result == {
        "error": {
            "name": "ValueError",
            "message": "output_padding (1) must be smaller than stride (1) or dilation (1)",
        }
    }
    (result,) = run_js([{"op": "conv2d", "args": [[[[1.0]]], [[[[1.0]]]]], "kwargs": {"strid": 2}}])
    assert result["error"] == {
        "name": "TypeError",
        "message": "conv2d() got an unexpected keyword argument 'strid'",
    }


def test_worked_examples_of_unpooling_and_interpolation():
    x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    pooled, indices = js("max_pool2d", x, 2, return_indices=True)
    np.testing.assert_array_equal(pooled[0, 0], [[6, 8], [14, 16]])
    np.testing.assert_array_equal(indices[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(
        js("max_unpool2d", pooled, indices, 2)[0, 0],
        [[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]],
    )
    # Ties: the first maximum in scan order wins.
    _, tied = js("max_pool2d", [[[[3.0, 3.0], [3.0, 1.0]]]], 2, return_indices=True)
    assert tied[0, 0, 0, 0] == 0
    # An odd size: 5x5 pools to 2x2 with indices into a 5-wide plane (6, 8, 16, 18); the
    # default unpooled size is 4x4, where 16 does not fit: output_size=[5, 5] is needed.
    odd = np.arange(25.0).reshape(1, 1, 5, 5)
    pooled, indices = js("max_pool2d", odd, 2, return_indices=True)
    np.testing.assert_array_equal(indices[0, 0], [[6, 8], [16, 18]])
    back = js("max_unpool2d", pooled, indices, 2, output_size=[5, 5])
    assert back.shape == (1, 1, 5, 5)
    np.testing.assert_array_equal(back[0, 0][[1, 1, 3, 3], [1, 3, 1, 3]], [6, 8, 16, 18])
    assert back.sum() == 6 + 8 + 16 + 18
    without, too_large = run_js(
        [
            {"op": "max_unpool2d", "args": to_js([pooled, indices, 2]), "kwargs": kwargs}
            for kwargs in ({}, {"output_size": [6, 6]})
        ]
    )
    assert without["error"]["message"] == (
        "indices contains 16, outside the output plane of size 4x4 (valid indices are 0 to 15)"
    )
    assert too_large["error"]["message"] == (
        "output_size (6, 6) must lie strictly between (2, 2) and (6, 6) "
        "(the default size (4, 4) ± stride (2, 2))"
    )
    # Bilinear x2 of [[1, 2], [3, 4]], first row, with and without align_corners.
    four = [[[[1.0, 2.0], [3.0, 4.0]]]]
    row = js("interpolate", four, scale_factor=2, mode="bilinear")[0, 0, 0]
    np.testing.assert_allclose(row, [1, 1.25, 1.75, 2], rtol=0, atol=1e-15)
    row = js("interpolate", four, scale_factor=2, mode="bilinear", align_corners=True)[0, 0, 0]
    np.testing.assert_allclose(row, [1, 4 / 3, 5 / 3, 2], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(
        js("interpolate", four, size=[2, 3])[0, 0], [[1, 1, 2], [3, 3, 4]]
    )
    # Corners against centres: 3 -> 4 copies 0, 0, 1, 2 ("nearest") or 0, 1, 1, 2 (exact).
    np.testing.assert_array_equal(js("nearest_source_index", 3, 4), [0, 0, 1, 2])
    np.testing.assert_array_equal(js("nearest_source_index", 3, 4, exact=True), [0, 1, 1, 2])
    np.testing.assert_array_equal(
        js("pixel_shuffle", [[[0.0]], [[1.0]], [[2.0]], [[3.0]]], 2), [[[0, 1], [2, 3]]]
    )


def test_worked_examples_of_chapter_4():
    # k=3, s=2: copies start two apart and cover three positions each.
    np.testing.assert_array_equal(js("overlap_counts", 4, 3, stride=2), [1, 1, 2, 1, 2, 1, 2, 1, 1])
    np.testing.assert_array_equal(
        js("overlap_counts", 4, 4, stride=2), [1, 1, 2, 2, 2, 2, 2, 2, 1, 1]
    )
    counts = js("overlap_counts", [5, 5], 3, stride=2)
    assert set(np.unique(counts[2:-2, 2:-2])) == {1, 2, 4}
    # Two layers with their own kernel sizes (worked in tests/upsampling/test_overlap.py).
    np.testing.assert_array_equal(
        js("overlap_counts", 2, 3, stride=2, layers=[{}, {"kernel_size": 4}]),
        [1, 1, 2, 2, 3, 3, 3, 3, 2, 2, 1, 1],
    )
    tent = np.outer([0.5, 1, 0.5], [0.5, 1, 0.5])
    np.testing.assert_array_equal(js("phase_sums", tent, 2), [[1, 1], [1, 1]])
    np.testing.assert_array_equal(js("phase_sums", np.ones((3, 3)), 2), [[4, 2], [2, 1]])
    np.testing.assert_array_equal(js("bilinear_kernel", 2)[0], np.array([1, 3, 3, 1]) / 16)
    np.testing.assert_allclose(
        js("phase_sums", js("bilinear_kernel", 3), 3), np.ones((3, 3)), rtol=1e-15
    )
    # Phase means 1 : 2 : 2 : 4, std 1.0897 over mean 2.25.
    pattern = np.tile([[1.0, 2.0], [2.0, 4.0]], (3, 3))
    assert js("checkerboard_score", pattern, 2) == pytest.approx(math.sqrt(1.1875) / 2.25)
    assert js("checkerboard_score", np.ones((6, 6)), 2) == 0
    # A pure pattern (-1)**(i + j) scores 1 locally; a plane scores 0.
    i, j = np.mgrid[:16, :16]
    assert js("local_checkerboard_score", (-1.0) ** (i + j), 2) == pytest.approx(1.0)
    assert js("local_checkerboard_score", 1.0 + i + 2 * j, 2) == pytest.approx(0.0, abs=1e-12)
    weight = np.arange(8.0).reshape(2, 1, 2, 2)
    icnr = js("icnr_weight", weight, upscale_factor=2)
    assert icnr.shape == (8, 1, 2, 2)
    np.testing.assert_array_equal(icnr[:4], np.broadcast_to(weight[0], (4, 1, 2, 2)))


def test_float_reprs_are_pythons():
    """Messages quote floats as Python does (``1e-05``, ``1e+16``, ``0.1``, ``nan``)."""
    rng = np.random.default_rng(7)
    values = [0.0, -0.0, 1.0, -2.5, 0.1, 1e-5, 1e-4, 1e16, 1e15, 123456789012345.6, 5e-324]
    values += [math.nan, math.inf, -math.inf]
    values += list(rng.standard_normal(500) * 10.0 ** rng.integers(-30, 30, 500).astype(float))
    values += [
        round(float(v), int(d))
        for v, d in zip(rng.uniform(0, 10, 500), rng.integers(0, 6, 500), strict=True)
    ]
    got = run_js([{"op": "pyFloat", "args": [to_js(float(v))]} for v in values])
    assert [r["ok"] for r in got] == [repr(float(v)) for v in values]
