"""The reference outputs' generator (PyTorch): ``python -m tools.reference`` (see
:mod:`tools.reference.engine`)."""
