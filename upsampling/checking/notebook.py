"""The notebooks' wrapper: runs a student's function in-process on named cases."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from upsampling.checking.reference import case_arguments, load_reference
from upsampling.checking.verdict import CheckResult, check_output, describe_call


def run_case(function: Callable, case: Mapping, reference: Mapping[str, np.ndarray]) -> CheckResult:
    """Calls ``function`` on a case's arguments in this process and checks what it returns.

    Warnings and floating-point errors raised inside ``function`` are silenced (honest
    code that warns must not fail); an exception becomes a failed case.
    """
    args, kwargs = case_arguments(case, reference)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            actual = function(*args, **kwargs)
    except NotImplementedError:
        return CheckResult(
            False,
            f"case {case['name']}: not implemented yet (the function raises NotImplementedError)",
        )
    except Exception as exc:  # the student's bug, reported as a failed case
        return CheckResult(
            False,
            f"case {case['name']}: {describe_call(case)}\n  raised {type(exc).__name__}: {exc}",
        )
    return check_output(case, actual, reference)


def check_cases(
    function: Callable, assignment: str, grade_id: str, case_names: Sequence[str]
) -> None:
    """Runs the named cases of one graded test; raises ``AssertionError`` on any failure.

    Prints one line when every case passes. The message of the ``AssertionError`` lists
    every failing case with what is wrong.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    manifest, reference = load_reference(assignment)
    test = manifest["tests"][grade_id]
    cases = {case["name"]: case for case in test["cases"]}
    unknown = [name for name in case_names if name not in cases]
    if unknown:
        where = (
            " (this copy of the reference holds the visible cases only: hidden cases are "
            "run by the instructor's autograder)"
            if manifest.get("visible_only")
            else ""
        )
        raise KeyError(f"{grade_id}: no case named {', '.join(unknown)} in the reference{where}")
    failures = []
    for name in case_names:
        case = dict(cases[name], function=test["function"])
        result = run_case(function, case, reference)
        if not result.passed:
            failures.append(result.message)
    if failures:
        raise AssertionError(
            f"{grade_id}: {len(failures)} of {len(case_names)} cases fail\n\n"
            + "\n\n".join(failures)
        )
    print(f"{grade_id}: {len(case_names)} of {len(case_names)} cases pass")
