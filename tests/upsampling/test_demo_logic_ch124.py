"""The logic of chapters 1, 2 and 4's live demos, run in Node, against the package.

Each demo computes in the page with ``upsampling/widgets/ops.js`` (held to the package
by ``tests/upsampling/test_js_parity.py``) and with its own logic in ``upsampling/widgets/demos/``.
This file holds that logic to the package: the JavaScript is run by Node on hundreds of
random settings, and every field it returns, or the error it throws, must equal what
the package gives.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from upsampling.checkerboard import bilinear_kernel, phase_sums
from upsampling.interpolate import MODES
from upsampling.plots.resolution import pool_and_restore
from upsampling.plots.sizes import FIXES, size_plan
from upsampling.plots.unpooling import METHODS, upsample
from upsampling.sizes import output_padding_for_size

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ROOT / "upsampling" / "widgets"
RUNNER = ROOT / "tests" / "upsampling" / "js" / "run_demo_logic.mjs"


def run_js(module: str, cases: list[dict], tmp_path: Path) -> list[dict]:
    """Runs ``cases`` ({"fn", "args"}) through ``upsampling/widgets/demos/<module>`` in Node.

    The front-end files are copied unchanged beside a package.json that makes them ES
    modules, so their relative imports resolve as in the page."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to test the demos' JavaScript", pytrace=False)
    copy = tmp_path / "widgets"
    if not copy.exists():
        (copy / "demos").mkdir(parents=True)
        for path in [*WIDGETS.glob("*.js"), *(WIDGETS / "demos").glob("*.js")]:
            shutil.copy(path, copy / path.relative_to(WIDGETS))
        (copy / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    done = subprocess.run(
        [node, str(RUNNER), str(copy / "demos" / module)],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def outcome(function, *args, **kwargs) -> dict:
    """What the package does: {"ok": result} or {"error": {"name", "message"}}."""
    try:
        return {"ok": function(*args, **kwargs)}
    except (ValueError, TypeError) as exc:
        return {"error": {"name": type(exc).__name__, "message": str(exc)}}


# --- chapter 1: the size tracker ------------------------------------------------------


def plan_as_json(plan) -> dict:
    data = dataclasses.asdict(plan)
    for name in ("kernel_size", "stride", "padding"):
        data[name] = list(data[name])
    for step in data["decoder"]:
        step["fixes"] = list(step["fixes"])
    data["output"] = plan.output
    return data


def random_size_settings(rng, count):
    """Random tracker settings over the demo's whole range, and past it."""
    settings = []
    for _ in range(count):
        depth = int(rng.integers(1, 7))
        per_level = rng.random() < 0.7
        levels = depth if per_level else 1

        def values(low, high, levels=levels, per_level=per_level):
            drawn = [int(v) for v in rng.integers(low, high + 1, levels)]
            return drawn if per_level else drawn[0]

        size = int(rng.choice([rng.integers(1, 1025), rng.integers(1, 40)]))
        settings.append(
            {
                "input_size": size,
                "depth": depth,
                "kernel_size": values(1, 7),
                "stride": values(1, 4),
                "padding": values(0, 3),
                "fix": str(rng.choice(FIXES)),
            }
        )
    return settings


def test_size_plan_js_equals_the_package_on_random_settings(tmp_path):
    rng = np.random.default_rng(2026)
    settings = random_size_settings(rng, 1200)
    settings += [  # the chapter's cases and the instructors' answer
        {"input_size": n, "depth": 4, "kernel_size": k, "stride": 2, "padding": p, "fix": f}
        for n in (64, 65, 100, 101)
        for k, p in ((2, 0), (3, 1))
        for f in FIXES
    ]
    cases, expected = [], []
    for s in settings:
        args = dict(s)
        n, depth = args.pop("input_size"), args.pop("depth")
        cases.append({"fn": "size_plan", "args": [n, depth, args]})
        result = outcome(size_plan, n, depth, **args)
        if "ok" in result:
            result = {"ok": plan_as_json(result["ok"])}
        expected.append(result)
    got = run_js("size_plan.js", cases, tmp_path)
    for setting, want, have in zip(settings, expected, got, strict=True):
        assert have == want, setting
    planned = sum("ok" in e for e in expected)
    refused = len(expected) - planned
    mismatched = sum(
        any(not step["fixes"] == [] for step in e["ok"]["decoder"]) for e in expected if "ok" in e
    )
    # The random settings reach every branch: plans, refusals, skips that need a fix.
    assert planned > 500 and refused > 50 and mismatched > 300


def test_output_padding_for_size_js_equals_the_package(tmp_path):
    rng = np.random.default_rng(7)
    cases, expected = [], []
    for _ in range(600):
        n, k, s = (int(v) for v in (rng.integers(1, 40), rng.integers(1, 8), rng.integers(1, 5)))
        p, d = int(rng.integers(0, 4)), int(rng.integers(1, 3))
        smallest = (n - 1) * s - 2 * p + d * (k - 1) + 1
        target = smallest + int(rng.integers(-2, s + 2))  # around the valid range
        cases.append(
            {
                "fn": "output_padding_for_size",
                "args": [n, target, k, {"stride": s, "padding": p, "dilation": d}],
            }
        )
        expected.append(
            outcome(output_padding_for_size, n, target, k, stride=s, padding=p, dilation=d)
        )
    got = run_js("size_plan.js", cases, tmp_path)
    assert got == expected
    assert 50 < sum("ok" in e for e in expected) < 550


def test_output_padding_for_size_is_pytorchs_rule():
    torch = pytest.importorskip("torch")
    for n, k, s, p in [(8, 3, 2, 1), (7, 4, 3, 0), (5, 2, 2, 0), (12, 5, 4, 2)]:
        layer = torch.nn.ConvTranspose2d(1, 1, k, s, p)
        x = torch.zeros(1, 1, n, n)
        for size in range(1, 4 * n + 8):
            try:
                shape = layer(x, output_size=[size, size]).shape[-1]
            except ValueError as exc:
                with pytest.raises(ValueError) as ours:
                    output_padding_for_size(n, size, k, stride=s, padding=p)
                low, high = re.search(r"from (\d+) to (\d+)", str(ours.value)).groups()
                assert f"from [{low}, {low}] to [{high}, {high}]" in str(exc)
                assert str(ours.value).startswith(f"requested an output size of {size}, but")
            else:
                assert shape == size
                op = output_padding_for_size(n, size, k, stride=s, padding=p)
                assert op == size - layer(x).shape[-1]


def test_size_plan_fixes_are_what_pytorch_layers_do():
    """Each fix the plan lists, applied with real layers, gives the size it says."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    plan = size_plan(100, 4, kernel_size=[3, 3, 2, 3], stride=2, padding=[1, 1, 0, 1], fix="crop")
    checked = 0
    for step in plan.decoder:
        x = torch.zeros(1, 1, step.input, step.input)
        up = torch.nn.ConvTranspose2d(1, 1, step.kernel_size, step.stride, step.padding)
        assert up(x).shape[-1] == step.raw
        for fix in step.fixes:
            if fix.name == "output_size" and fix.error is None:
                assert up(x, output_size=[fix.value] * 2).shape[-1] == fix.size
            if fix.name == "pad":
                padded = F.pad(up(x), [fix.before, fix.after] * 2)
                assert padded.shape[-1] == fix.size == step.skip
            if fix.name == "crop":
                skip = torch.zeros(1, 1, step.skip, step.skip)
                cropped = skip[..., fix.before : step.skip - fix.after, :]
                assert cropped.shape[-2] == fix.size == step.raw
            checked += 1
    assert checked >= 8
    assert plan.output < 100  # cropping leaves the decoder's output smaller than the input


# --- chapter 1: what pooling throws away ---------------------------------------------------


def random_pool_settings(rng):
    """Random pool_and_restore arguments: odd and non-square images, every mode, depths
    past what the image allows, and arguments the package refuses."""
    h, w = (int(v) for v in rng.integers(1, 41, 2))
    depth = int(rng.integers(0, 7))
    mode = str(rng.choice(MODES)) if rng.random() < 0.95 else "bicubic"
    align_corners = [None, False, True][int(rng.integers(3))]
    if mode != "bilinear" and rng.random() < 0.8:
        align_corners = None  # a nearest mode with align_corners set is refused
    if rng.random() < 0.04:
        depth = [-1, 1.5, True, None][int(rng.integers(4))]
    return h, w, depth, mode, align_corners


def test_pool_and_restore_js_equals_the_package(tmp_path):
    rng = np.random.default_rng(1)
    cases, expected = [], []
    for _ in range(1200):
        h, w, depth, mode, align_corners = random_pool_settings(rng)
        image = rng.random((h, w))
        kwargs = {"mode": mode, "align_corners": align_corners}
        tensor = {"__tensor__": [h, w], "data": image.ravel().tolist()}
        cases.append({"fn": "pool_and_restore", "args": [tensor, depth, kwargs]})
        expected.append(outcome(pool_and_restore, image, depth, **kwargs))
    got = run_js("pool_restore.js", cases, tmp_path)
    refused = 0
    for case, want, have in zip(cases, expected, got, strict=True):
        where = case["args"][1:]
        if "error" in want:
            assert have == want, where
            refused += 1
            continue
        assert "ok" in have, (where, have)
        for array, result in zip(want["ok"], have["ok"], strict=True):
            assert result["shape"] == list(array.shape), where
            shown = np.reshape(result["data"], array.shape)
            np.testing.assert_allclose(shown, array, rtol=1e-12, atol=1e-12, err_msg=str(where))
    assert len(cases) >= 1000 and 200 < refused < len(cases) - 500, refused


# --- chapter 2: the photograph, upsampled by any factor ------------------------------------


def test_upsample_js_equals_the_package_for_every_method_and_factor(tmp_path):
    rng = np.random.default_rng(2)
    cases, expected = [], []
    for _ in range(500):
        h, w = (int(v) for v in rng.integers(1, 13, 2))
        image = rng.random((h, w))
        method = str(rng.choice(METHODS))
        # continuous factors from 1 to 4, with whole numbers often (bed of nails needs them)
        factor = float(rng.integers(1, 5)) if rng.random() < 0.3 else round(rng.uniform(1, 4), 2)
        cases.append(
            {
                "fn": "upsample",
                "args": [{"__tensor__": [h, w], "data": image.ravel().tolist()}, method, factor],
            }
        )
        expected.append(outcome(upsample, image, method, factor))
    got = run_js("upsample.js", cases, tmp_path)
    refused = 0
    for case, want, have in zip(cases, expected, got, strict=True):
        if "error" in want:
            assert have == want, case["args"][1:]
            refused += 1
            continue
        assert "ok" in have, (case["args"][1:], have)
        assert have["ok"]["shape"] == list(want["ok"].shape), case["args"][1:]
        np.testing.assert_allclose(
            np.reshape(have["ok"]["data"], want["ok"].shape), want["ok"], rtol=1e-12, atol=1e-12
        )
    assert 20 < refused < 150  # bed of nails at a fractional factor: the package's message


# --- chapter 4: the overlap demo's kernel presets -------------------------------------------


def tent_kernel(stride):
    tent = 1 - np.abs(np.arange(2 * stride - 1) - (stride - 1)) / stride
    return np.outer(tent, tent)


def test_overlap_presets_are_the_chapters_kernels(tmp_path):
    settings = [
        (preset, k, s, seed)
        for preset in ("ones", "random", "tent", "bilinear", "icnr")
        for k in range(1, 9)
        for s in range(1, 5)
        for seed in (0, 7)
    ]
    cases = [{"fn": "presetKernel", "args": list(setting)} for setting in settings]
    got = {
        setting: np.array(r["ok"])
        for setting, r in zip(settings, run_js("overlap.js", cases, tmp_path), strict=True)
    }
    for (preset, k, s, seed), kernel in got.items():
        if preset == "ones":
            np.testing.assert_array_equal(kernel, np.ones((k, k)))
        elif preset == "tent":
            np.testing.assert_allclose(kernel, tent_kernel(s), rtol=1e-15)
            assert np.allclose(phase_sums(kernel, s), 1)
        elif preset == "bilinear":
            np.testing.assert_allclose(kernel, bilinear_kernel(s), rtol=1e-15)
        elif preset == "random":
            assert kernel.shape == (k, k) and np.abs(kernel).max() <= 1
            np.testing.assert_array_equal(kernel, np.round(kernel, 2))
            assert np.array_equal(kernel, got[preset, k, s, 7 - seed]) == (k * k == 0)
        else:  # ICNR: a random kernel with every tap repeated over an s x s block
            m = kernel.shape[0] // s
            assert kernel.shape == (m * s, m * s) and 1 <= m * s <= 8
            small = kernel[::s, ::s]
            np.testing.assert_array_equal(kernel, np.kron(small, np.ones((s, s))))
            np.testing.assert_allclose(phase_sums(kernel, s), small.sum(), atol=1e-12)


# --- the Python declarations -----------------------------------------------------------


def test_size_tracker_settings_are_completed_per_level_and_checked():
    from upsampling.widgets.live_demos_ch124 import SizeTrackerDemo

    demo = SizeTrackerDemo(input_size=65, kernel_size=[3, 2], stride=2)
    assert demo.settings["kernel_size"] == [3, 2, 2, 2, 2, 2]
    assert demo.settings["stride"] == [2] * 6
    assert demo.settings["input_size"] == 65
    assert demo.initial == demo.settings  # reset goes back to what the chapter chose
    for bad in ({"input_size": 0}, {"input_size": 1025}, {"depth": 7}, {"fix": "trim"}):
        with pytest.raises(ValueError):
            SizeTrackerDemo(**bad)


def test_max_unpool_and_overlap_settings_are_checked():
    from upsampling.widgets.live_demos_ch124 import MaxUnpoolDemo, OverlapDemo

    demo = MaxUnpoolDemo(input=np.arange(6.0).reshape(2, 3), kernel_size=2)
    assert demo.settings["input"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    with pytest.raises(ValueError, match="2-D list"):
        MaxUnpoolDemo(input=[[1, 2], [3]])
    overlap = OverlapDemo(kernel_size=4, stride=2)
    assert overlap.settings["weight"] == [[1] * 4] * 4 and overlap.settings["stride"] == [2] * 3
    with pytest.raises(ValueError, match="kernel_size"):
        OverlapDemo(preset="typed", kernel_size=[4, 3, 3])  # a 3 x 3 weight is not 4 x 4


def test_photo_demo_carries_a_small_grey_crop():
    from upsampling.plots.unpooling import sample_image
    from upsampling.widgets.live_demos_ch124 import UpsamplePhotoDemo

    demo = UpsamplePhotoDemo()
    np.testing.assert_array_equal(demo.settings["image"], np.round(sample_image(48), 3))
    assert len(json.dumps(demo.settings)) < 20_000  # the page carries the pixels
    with pytest.raises(ValueError, match="scale_factor"):
        UpsamplePhotoDemo(scale_factor=5)
    with pytest.raises(ValueError, match="mode"):
        UpsamplePhotoDemo(mode="bicubic")


def test_pool_restore_demo_carries_a_64_pixel_crop_and_checks_its_settings():
    from upsampling.plots.unpooling import sample_image
    from upsampling.widgets.live_demos_ch124 import PoolRestoreDemo

    demo = PoolRestoreDemo(depth=0, mode="nearest-exact")
    np.testing.assert_array_equal(demo.settings["image"], np.round(sample_image(64), 3))
    assert demo.settings["depth"] == 0 and demo.settings["mode"] == "nearest-exact"
    assert len(json.dumps(demo.settings)) < 40_000  # the page carries the pixels
    for bad, match in (
        ({"depth": 6}, "depth"),
        ({"mode": "bicubic"}, "mode"),
        ({"align_corners": None}, "align_corners"),
        ({"zoom": [61, 0]}, "zoom"),
        ({"image": np.ones((16, 16))}, "32 to 128"),
    ):
        with pytest.raises(ValueError, match=match):
            PoolRestoreDemo(**bad)
