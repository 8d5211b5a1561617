"""The similarity check's calibrated defaults, apart from :mod:`autograder.similarity` so
that the command line can show them without importing numpy and nbformat."""

# Calibrated on tests/autograder/fixtures/honest_solutions.py: five honest notebooks of
# 03_transposed_conv in different styles score at most 0.28 against each other, disguised
# copies 0.75 and more (tests/autograder/test_similarity.py keeps a 0.15 margin each side).
DEFAULT_THRESHOLD = 0.5
# k: the length of the token k-grams hashed (copydetect's "noise threshold": shorter
# matches are ignored). copydetect's default, 25, suits these short numpy answers.
DEFAULT_K = 25
