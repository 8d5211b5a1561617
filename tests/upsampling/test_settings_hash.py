"""The live demos' settings in the URL (upsampling/widgets/settings_hash.js), run in Node.

Hand-written cases: what a demo's part of the hash says for given settings, that every
value comes back as it went in, and that what does not have the type and shape of the
setting it would replace is dropped. The page's side (reading the hash on opening,
writing it on each change, ranges, JupyterLab) is tested in Chromium by
tests/book/browser/test_live_demo_urls.py.
"""

from __future__ import annotations

import pytest
from test_demo_logic_ch124 import run_js

MODULE = "../settings_hash.js"
INITIAL = {
    "input": [[2, 0], [4, 1]],
    "stride": [2, 2],
    "step": 4,
    "mode": "nearest",
    "align_corners": False,
    "layers": 1,
}


def call(tmp_path, fn, *args):
    (result,) = run_js(MODULE, [{"fn": fn, "args": list(args)}], tmp_path)
    assert "ok" in result, result
    return result["ok"]


def test_only_the_settings_that_differ_are_written_readably(tmp_path):
    settings = {
        **INITIAL,
        "input": [[1, -2.5], [0.125, 4], [5, 6]],
        "stride": [2, 3],
        "mode": "bed of nails",
        "align_corners": True,
    }
    text = call(tmp_path, "encodeSettings", settings, INITIAL)
    assert text == "input=1,-2.5/0.125,4/5,6;stride=2,3;mode=bed%20of%20nails;align_corners=true"
    assert call(tmp_path, "encodeSettings", INITIAL, INITIAL) == ""
    back = call(tmp_path, "decodeSettings", text, INITIAL, ["input"])
    assert back == {k: v for k, v in settings.items() if settings[k] != INITIAL[k]}


@pytest.mark.parametrize(
    "text",
    [
        "stride=2",  # a pair needs two values
        "stride=2,3,4",
        "stride=2,x",
        "stride=1e400,1",  # not finite
        "input=1,2/3",  # not rectangular
        "input=",
        "step=4.5.1",
        "step=0x10",
        "step=true",
        "align_corners=1",
        "mode=%E0%A4%A",  # a malformed escape
        "layers=2;layers=3",  # said twice
        "unknown=1",
        "=3;stride;;",
    ],
)
def test_what_does_not_fit_the_setting_is_dropped(tmp_path, text):
    assert call(tmp_path, "decodeSettings", text, INITIAL, ["input"]) == {}


def test_a_2d_list_is_read_only_for_a_grid_the_reader_edits(tmp_path):
    assert call(tmp_path, "decodeSettings", "input=1,2/3,4", INITIAL, []) == {}
    assert call(tmp_path, "decodeSettings", "input=1,2/3,4;step=0", INITIAL, ["input"]) == {
        "input": [[1, 2], [3, 4]],
        "step": 0,
    }


def test_each_demo_owns_its_part_and_other_parts_are_kept(tmp_path):
    h = call(tmp_path, "withPart", "intro", "scatter-add", "stride=2,3")
    assert h == "intro&scatter-add:stride=2,3"
    h = call(tmp_path, "withPart", h, "overlap", "layers=2")
    assert h == "intro&scatter-add:stride=2,3&overlap:layers=2"
    h = call(tmp_path, "withPart", h, "scatter-add", "stride=1,4;padding=1,0")
    assert h == "intro&scatter-add:stride=1,4;padding=1,0&overlap:layers=2"
    assert call(tmp_path, "hashPart", h, "overlap") == "layers=2"
    assert call(tmp_path, "hashPart", h, "shape-explorer") is None
    assert call(tmp_path, "withPart", h, "scatter-add", "") == "intro&overlap:layers=2"
    assert call(tmp_path, "withPart", "", "overlap", "") == ""
    # A part named like no demo (an anchor with a colon) is left as it is.
    assert call(tmp_path, "hashPart", "Fig:1&overlap:x=1", "overlap") == "x=1"
