"""What runs inside the sandbox, mounted there as one read-only folder (``/opt/grader``):
``harness.py`` (the child) and ``wire.py`` (the channel, imported by both sides). Only
the standard library and numpy may be imported here (tests/autograder/unit/test_layers.py)."""
