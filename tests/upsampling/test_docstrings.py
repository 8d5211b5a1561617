"""Every example in the reference operations' docstrings runs and prints what it says."""

import doctest
import importlib

import numpy as np
import pytest

MODULES = [
    "upsampling.conv",
    "upsampling.conv_transpose",
    "upsampling.sizes",
    "upsampling.overlap",
]  # pooling, interpolate and shuffle run theirs in their own test files


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, extraglobs={"np": np}, optionflags=flags)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
