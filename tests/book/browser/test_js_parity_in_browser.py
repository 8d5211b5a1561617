"""ops.js once more, inside Chromium on the built book: the shipped module is the tested one.

tests/upsampling/test_js_parity.py compares upsampling/widgets/ops.js with the package in Node.js.
Here the same comparison runs in the page where the live demos compute: the chapter is
opened from the built site (served on 127.0.0.1, every other request refused), the
module the demos' bundle linked (``globalThis.upsamplingOps``, set by live_ui.js) runs
the first cases of every operation's seeded sequence, and each answer is compared with
the package's exactly as in Node: shapes, values within 1e-12, the same rejections with
the same messages. The page must also hold ops.js's text as it is in the repository, so
that a stale or altered copy in the book cannot pass.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CASES_PER_OP = 100
# The first chapter with a live demo; any page whose demos load ops.js would do.
PAGE = "03_transposed_convolution.html"


def _parity_module():
    """tests/upsampling/test_js_parity.py, for its seeded cases and its comparison."""
    spec = importlib.util.spec_from_file_location(
        "js_parity", ROOT / "tests" / "upsampling" / "test_js_parity.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# Decodes the cases as tests/upsampling/js/run_ops.mjs does (tensors as base64 float64),
# runs them on the page's module and encodes the answers the same way.
RUN_IN_PAGE = """
(payload) => {
  const ops = globalThis.upsamplingOps;
  const fromBase64 = (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Float64Array(bytes.buffer);
  };
  const toBase64 = (data) => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let text = "";
    for (let k = 0; k < bytes.length; k += 0x8000) {
      text += String.fromCharCode(...bytes.subarray(k, k + 0x8000));
    }
    return btoa(text);
  };
  const decode = (v) => {
    if (Array.isArray(v)) return v.map(decode);
    if (v !== null && typeof v === "object") {
      if ("__float__" in v) return Number(v.__float__);
      if ("__tensor__" in v) return { shape: v.__tensor__, data: fromBase64(v.b64) };
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
    }
    return v;
  };
  const encode = (v) => {
    if (typeof v === "number" && !Number.isFinite(v)) return { __float__: String(v) };
    if (Array.isArray(v)) return v.map(encode);
    if (v !== null && typeof v === "object") {
      if (v.data instanceof Float64Array) return { __tensor__: v.shape, b64: toBase64(v.data) };
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
    }
    return v;
  };
  const results = JSON.parse(payload).cases.map(({ op, args, kwargs }) => {
    try {
      return { ok: encode(ops[op](...decode(args), decode(kwargs))) };
    } catch (error) {
      if (!(error instanceof ops.PackageError)) {
        return { crash: { name: error.name, message: error.message } };
      }
      return { error: { name: error.name, message: error.message } };
    }
  });
  return JSON.stringify(results);
}
"""


@pytest.fixture(scope="module")
def parity():
    return _parity_module()


@pytest.fixture
def demo_page(open_page):
    page, log = open_page(PAGE)
    page.wait_for_function("() => globalThis.upsamplingOps !== undefined", timeout=30_000)
    yield page
    assert log.problems() == []


def test_the_page_links_the_repositorys_ops_js(demo_page, parity):
    texts = demo_page.evaluate(
        "() => [...(globalThis.__upsamplingLiveModules ?? new Map()).keys()]"
    )
    source = (ROOT / "upsampling" / "widgets" / "ops.js").read_text(encoding="utf-8")
    assert source in texts, "the built page does not hold upsampling/widgets/ops.js as it is"
    exported = set(demo_page.evaluate("() => Object.keys(globalThis.upsamplingOps)"))
    assert set(parity.GENERATORS) <= exported


def test_ops_js_in_the_page_agrees_with_the_package(demo_page, parity):
    cases = {
        op: list(itertools.islice(parity.cases_of(op), CASES_PER_OP)) for op in parity.GENERATORS
    }
    flat = [case for op in parity.GENERATORS for case in cases[op]]
    payload = json.dumps(
        {
            "cases": [
                {"op": c.op, "args": parity.to_js(c.args), "kwargs": parity.to_js(c.kwargs)}
                for c in flat
            ]
        }
    )
    results = iter(json.loads(demo_page.evaluate(RUN_IN_PAGE, payload)))
    problems, counts = [], {}
    for op in parity.GENERATORS:
        accepted = rejected = 0
        for case in cases[op]:
            outcome = parity.compare(case, next(results))
            accepted += outcome.accepted
            rejected += outcome.rejected
            problems += [f"{parity.describe(case)}: {f}" for f in outcome.failures]
        counts[op] = {"accepted": accepted, "rejected": rejected}
    artifact = ROOT / "test-artifacts" / "browser" / "js_parity_in_browser.json"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_text(json.dumps(counts, indent=2) + "\n")
    assert not problems, f"{len(problems)} mismatches, first ones:\n" + "\n".join(problems[:5])
    assert all(c["accepted"] + c["rejected"] == CASES_PER_OP for c in counts.values())
    assert all(c["accepted"] >= CASES_PER_OP // 3 for c in counts.values()), counts
