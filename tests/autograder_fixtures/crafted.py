"""Crafted submissions for docs/autograder-catalogue.md, on ``03_transposed_conv``.

Each entry: student id -> (how to make the submission, expected per-test statuses). The
submissions are made from the released notebook by :func:`course.make_submission`; the
``{course}`` placeholder in code is replaced by the course root (so the cheats aim at the
real files).
"""

from __future__ import annotations

import json

import nbformat

A = "03_transposed_conv"
SCATTER = "transposed-answer-conv_transpose2d_scatter"
CONV = "transposed-answer-conv_transpose2d"
MATRIX = "transposed-answer-conv_matrix"
MATRIX_T = "transposed-answer-conv_transpose2d_matrix"
TESTS = [
    "transposed-scatter",
    "transposed-stride",
    "transposed-output-padding",
    "transposed-channels",
    "transposed-zero-insertion",
    "transposed-matrix",
    "transposed-matrix-transpose",
]
CONV_TESTS = ["transposed-stride", "transposed-output-padding", "transposed-channels"]

WRONG_SCATTER = """
def conv_transpose2d_scatter(input, weight):
    return np.zeros((input.shape[0] + weight.shape[0] - 1, input.shape[1] + weight.shape[1] - 1))
"""


def expect(**changes):
    """Every test passes except the ones named (grade_id with '-' as '_')."""
    statuses = {t: "passed" for t in TESTS}
    for key, value in changes.items():
        statuses[key.replace("_", "-")] = value
    return statuses


def everything(status):
    return {t: status for t in TESTS}


def add_cell(code, where=None):
    def edit(nb):
        cell = nbformat.v4.new_code_cell(code)
        nb.cells.insert(len(nb.cells) if where is None else where, cell)

    return edit


def drop_test(grade_id):
    def edit(nb):
        nb.cells = [
            c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id
        ]

    return edit


def edit_test(grade_id, source):
    def edit(nb):
        for c in nb.cells:
            if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                c.source = source

    return edit


def strip_metadata(nb):
    for c in nb.cells:
        c.metadata.pop("nbgrader", None)


def rename_grade_id(grade_id, new):
    def edit(nb):
        for c in nb.cells:
            if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                c.metadata["nbgrader"]["grade_id"] = new

    return edit


def duplicate_test(grade_id):
    def edit(nb):
        for i, c in enumerate(nb.cells):
            if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                nb.cells.insert(i + 1, nbformat.from_dict(json.loads(json.dumps(c))))
                nb.cells[i + 1]["id"] = "duplicate-cell"
                return

    return edit


def fake_grade_cell(nb):
    cell = nbformat.v4.new_code_cell("assert True  # bonus")
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": "bonus-points",
        "points": 100,
        "schema_version": 3,
    }
    nb.cells.append(cell)


def wrong_version(nb):
    nb["nbformat"] = 99


ALT_CONV = '''
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Scatter-add over input positions (not the solution's algorithm)."""
    (sh, sw), (ph, pw), (oh, ow) = pair(stride), pair(padding), pair(output_padding)
    n, cin, h, w = input.shape
    cout, kh, kw = weight.shape[1:]
    full = np.zeros((n, cout, (h - 1) * sh + kh + oh, (w - 1) * sw + kw + ow))
    for i in range(h):
        for j in range(w):
            full[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += np.einsum(
                "nc,cokl->nokl", input[:, :, i, j], weight)
    out = full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out
'''


def submissions(solutions: dict) -> dict:
    """student -> dict(answers=..., edit=..., raw=..., expect=..., plus extras)."""
    S = solutions

    def correct(gid, prelude="", epilogue=""):
        return prelude + "\n" + S[gid] + "\n" + epilogue

    subs = {
        "honest": dict(expect=expect()),
        # 10. An honest mistake: a syntax error costs only what depends on that cell.
        "typo": dict(
            answers={MATRIX: S[MATRIX].replace("def conv_matrix(", "def conv_matrix(:", 1)},
            expect=expect(transposed_matrix="failed", transposed_matrix_transpose="crashed"),
        ),
        # 1. Monkeypatching the comparison.
        "monkeypatch": dict(
            answers={
                SCATTER: "import numpy as np\n"
                "np.allclose = lambda *a, **k: True\n"
                "np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n"
                "np.array_equal = lambda *a, **k: True\n"
                "np.testing.assert_allclose = lambda *a, **k: None\n"
                "np.core.numeric.allclose = lambda *a, **k: True\n" + WRONG_SCATTER
            },
            expect=expect(transposed_scatter="failed"),
        ),
        # 2. An ndarray subclass that lies in comparisons.
        "subclass": dict(
            answers={
                SCATTER: WRONG_SCATTER.replace("def conv_transpose2d_scatter", "def _wrong")
                + "\nclass Liar(np.ndarray):\n"
                "    def __eq__(self, other): return True\n"
                "    def __array_ufunc__(self, *a, **k): return np.True_\n"
                "    def __array_function__(self, *a, **k): return True\n"
                "def conv_transpose2d_scatter(input, weight):\n"
                "    return _wrong(input, weight).view(Liar)\n"
            },
            expect=expect(transposed_scatter="failed"),
            reason={"transposed-scatter": "subclass"},
        ),
        # 3. IPython tricks.
        "ipython": dict(
            answers={SCATTER: WRONG_SCATTER},
            edit=add_cell(
                "import builtins, sys\n"
                "ip = get_ipython()\n"
                "ip.input_transformers_cleanup.append(lambda lines: ['try:\\n'] + "
                "['    ' + l for l in lines] + ['except BaseException:\\n    pass\\n'])\n"
                "ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
                "ip.showtraceback = lambda *a, **k: None\n"
                "sys.excepthook = lambda *a: None\n"
                "builtins.AssertionError = type('AssertionError', (Exception,), {})\n",
                where=2,
            ),
            expect=expect(transposed_scatter="failed"),
        ),
        # 4. Reading what must stay hidden (reference outputs, solutions, environment).
        "reader": dict(
            answers={
                SCATTER: "import glob, os, json\n"
                "def conv_transpose2d_scatter(input, weight):\n"
                "    found = []\n"
                "    for pattern in ['{course}/**/*.npz', '{course}/solutions/**/*.ipynb',\n"
                "                    '/work/**/*.npz', '/root/**/*.npz', '/tmp/**/*']:\n"
                "        found += glob.glob(pattern, recursive=True)\n"
                "    secrets = [k for k in os.environ if 'REFERENCE' in k or 'COURSE' in k]\n"
                "    ref = np.load('{course}/autograder/reference/03_transposed_conv.npz')\n"
                "    return ref['transposed-scatter/seed001/expected']\n"
            },
            expect=expect(transposed_scatter="crashed"),
            reason={"transposed-scatter": "FileNotFoundError"},
        ),
        # 5. Writing where it must not.
        "writer": dict(
            answers={
                SCATTER: "import os\n"
                "def _try(path, data='pwned'):\n"
                "    try:\n"
                "        os.makedirs(os.path.dirname(path), exist_ok=True)\n"
                "        with open(path, 'a') as f: f.write(data)\n"
                "    except OSError:\n"
                "        pass\n"
                + S[SCATTER].replace(
                    "def conv_transpose2d_scatter(input, weight):",
                    "def conv_transpose2d_scatter(input, weight):\n"
                    "    for p in ['{course}/gradebook.db', '{course}/grades.csv',\n"
                    "              '{course}/submitted/honest/03_transposed_conv/pwned',\n"
                    "              '{course}/autograded/writer/'\n"
                    "              '03_transposed_conv/autograder.json',\n"
                    "              '{course}/feedback/honest/03_transposed_conv/pwned.html',\n"
                    "              '/tmp/../pwned']:\n"
                    "        _try(p)\n",
                    1,
                )
            },
            expect=expect(),
        ),
        # 6. Calling the library instead of implementing.
        "torch": dict(
            answers={
                SCATTER: "import torch\n"
                "def conv_transpose2d_scatter(input, weight):\n"
                "    x = torch.tensor(input)[None, None]\n"
                "    w = torch.tensor(weight)[None, None]\n"
                "    return torch.nn.functional.conv_transpose2d(x, w)[0, 0].numpy()\n"
            },
            expect=expect(transposed_scatter="failed"),  # the import fails: no function
            flagged=["transposed-scatter"],
            reason={"transposed-scatter": "torch"},
        ),
        "library": dict(
            answers={
                CONV: "def conv_transpose2d(input, weight, bias=None, stride=1, padding=0,\n"
                "                     output_padding=0):\n"
                "    from upsampling import conv_transpose2d as reference\n"
                "    return reference(input, weight, bias, stride, padding, output_padding)\n"
            },
            expect=expect(
                transposed_stride="crashed",
                transposed_output_padding="crashed",
                transposed_channels="crashed",
            ),
            flagged=CONV_TESTS,
        ),
        # 7. Ending the process; a fault hits only its own test.
        "exits": dict(
            answers={
                SCATTER: "import os\ndef conv_transpose2d_scatter(input, weight):\n"
                "    os._exit(0)\n",
                MATRIX: "import sys\ndef conv_matrix(weight, input_size, stride=1, padding=0):\n"
                "    sys.exit(0)\n",
                MATRIX_T: "import os, signal\n"
                "def conv_transpose2d_matrix(input, weight, stride=1, padding=0):\n"
                "    os.kill(os.getpid(), signal.SIGKILL)\n",
            },
            expect=expect(
                transposed_scatter="crashed",
                transposed_matrix="crashed",
                transposed_matrix_transpose="crashed",
            ),
        ),
        # 8. Resource abuse.
        "hog": dict(
            answers={
                SCATTER: "import signal\ndef conv_transpose2d_scatter(input, weight):\n"
                "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "    while True:\n        pass\n",
                MATRIX: "def conv_matrix(weight, input_size, stride=1, padding=0):\n"
                "    hoard = []\n    while True:\n"
                "        hoard.append(np.empty(10**8))\n",
                MATRIX_T: "import os\n"
                "def conv_transpose2d_matrix(input, weight, stride=1, padding=0):\n"
                "    while True:\n        os.fork()\n",
            },
            expect=expect(
                transposed_scatter="timed_out",
                transposed_matrix="over_limit",
                transposed_matrix_transpose="over_limit",
            ),
        ),
        "spammer": dict(
            answers={
                SCATTER: correct(
                    SCATTER,
                    epilogue=(
                        "import subprocess, os\n"
                        "_plain = conv_transpose2d_scatter\n"
                        "def conv_transpose2d_scatter(input, weight):\n"
                        "    subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
                        "    if os.fork() == 0:\n"
                        "        os.setsid()\n"
                        "        import time\n"
                        "        time.sleep(1000)\n"
                        "    return _plain(input, weight)\n"
                    ),
                ),
                MATRIX: correct(
                    MATRIX,
                    epilogue=(
                        "_plain_matrix = conv_matrix\n"
                        "def conv_matrix(weight, input_size, stride=1, padding=0):\n"
                        "    print('x' * 20_000_000)\n"
                        "    return _plain_matrix(weight, input_size, stride, padding)\n"
                    ),
                ),
                MATRIX_T: "def conv_transpose2d_matrix(input, weight, stride=1, padding=0):\n"
                "    with open('/tmp/huge', 'wb') as f:\n"
                "        for _ in range(200):\n"
                "            f.write(b'0' * (1 << 20))\n",
            },
            expect=expect(transposed_matrix_transpose="over_limit"),
        ),
        # 9. Broken or tampered notebooks.
        "corrupt": dict(
            raw=b'{"cells": [ this is not json', expect=everything("failed"), status="unreadable"
        ),
        "version": dict(edit=wrong_version, expect=everything("failed"), status="unreadable"),
        "deleted": dict(
            edit=drop_test("transposed-scatter"), expect=expect(transposed_scatter="tampered")
        ),
        "edited": dict(
            edit=edit_test("transposed-stride", '"""Always passes."""\npass'),
            expect=expect(transposed_stride="tampered"),
        ),
        "stripped": dict(edit=strip_metadata, expect=everything("tampered")),
        "renamed": dict(
            edit=rename_grade_id("transposed-matrix", "my-own-id"),
            expect=expect(transposed_matrix="tampered"),
        ),
        "fakegrade": dict(edit=fake_grade_cell, expect=expect(), status="flagged"),
        "duplicated": dict(
            edit=duplicate_test("transposed-channels"),
            expect=expect(transposed_channels="tampered"),
        ),
        "missing": dict(missing=True, expect=everything("failed"), status="missing"),
        "extrafiles": dict(
            extra_files={
                "numpy.py": "raise SystemExit('shadowed numpy')\n",
                "sitecustomize.py": "import os; os._exit(1)\n",
            },
            expect=expect(),
        ),
        # 10. Honest code that must not be punished.
        "noisy": dict(
            answers={
                SCATTER: correct(
                    SCATTER,
                    epilogue=(
                        "import warnings, sys\n_quiet = conv_transpose2d_scatter\n"
                        "def conv_transpose2d_scatter(input, weight):\n"
                        "    warnings.warn('this is only a warning')\n"
                        "    print('debug output', input.shape)\n"
                        "    print('to stderr', file=sys.stderr)\n"
                        "    return _quiet(input, weight)\n"
                    ),
                )
            },
            expect=expect(),
        ),
        "float32": dict(
            answers={
                MATRIX_T: correct(
                    MATRIX_T,
                    epilogue=(
                        "_double = conv_transpose2d_matrix\n"
                        "def conv_transpose2d_matrix(input, weight, stride=1, padding=0):\n"
                        "    return _double(input, weight, stride, padding).astype(np.float32)\n"
                    ),
                )
            },
            expect=expect(),
        ),
        "otheralgo": dict(answers={CONV: ALT_CONV}, expect=expect()),
        "exitafter": dict(edit=add_cell("import sys\nsys.exit()"), expect=expect()),
        # 11. Trying to smuggle hidden inputs out through error messages.
        "leaker": dict(
            answers={
                SCATTER: "def conv_transpose2d_scatter(input, weight):\n"
                "    raise ValueError('LEAK' + repr(np.round(input, 6).tolist()))\n"
            },
            expect=expect(transposed_scatter="crashed"),
        ),
        # 12. Student ids that CSV files get wrong.
        "Doe, Jane": dict(expect=expect()),
        "ünïcødé Ström": dict(expect=expect()),
        'quote"d id': dict(expect=expect()),
    }
    return subs


def catalogue_course(root):
    """A course of 03_transposed_conv with one submission per crafted item:
    ``(root, submissions)``."""
    from tests.autograder_fixtures.course import make_submission, real_course, solution_code

    root = real_course(root, [A])
    subs = submissions(solution_code(root, A))
    for student, spec in subs.items():
        answers = {k: v.replace("{course}", str(root)) for k, v in spec.get("answers", {}).items()}
        if spec.get("missing"):
            folder = root / "submitted" / student / A
            folder.mkdir(parents=True)
            (folder / "notes.txt").write_text("forgot the notebook")
            continue
        make_submission(
            root, A, student, answers=answers, edit=spec.get("edit"), raw=spec.get("raw")
        )
        for name, text in spec.get("extra_files", {}).items():
            (root / "submitted" / student / A / name).write_text(text)
    return root, subs
