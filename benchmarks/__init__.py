"""Speed measurements, run by hand from the repository root:
``.venv/bin/python -m benchmarks.<name>`` (see README.md)."""
