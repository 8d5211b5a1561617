"""Checking graded functions against their PyTorch reference outputs.

The parts, each with one responsibility (``docs/grading-contract.md`` has the contract):

- :mod:`~upsampling.grading.reference`: where the reference ``.npz`` files are and the one
  reader of their format;
- :mod:`~upsampling.grading.verdict`: :func:`check_output`, the verdict on one case, a
  pure function of plain data (:mod:`~upsampling.grading.values` reads those data);
- :mod:`~upsampling.grading.misconceptions`: the deliberately wrong variants of each
  operation that name a student's likely mistake;
- :mod:`~upsampling.grading.notebook`: :func:`check_cases`, the notebooks' wrapper.

:mod:`upsampling.checking` gathers their public names.
"""
