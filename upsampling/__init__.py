"""Reference operations for the course "Upsampling in CNNs", in numpy.

Every operation follows PyTorch's ``torch.nn.functional`` exactly: the same names,
argument names, defaults, shapes and NCHW layout, so that the book, the graded
notebooks and the autograder share one source of truth that is tested against PyTorch.
"""

from upsampling.checkerboard import checkerboard_score, resize_conv2d
from upsampling.conv import conv2d, conv_matrix
from upsampling.conv_transpose import conv_transpose2d
from upsampling.interpolate import interpolate
from upsampling.overlap import overlap_counts
from upsampling.pooling import max_pool2d, max_unpool2d
from upsampling.shuffle import pixel_shuffle, pixel_unshuffle
from upsampling.sizes import conv_output_size, conv_transpose_output_size

# The public functions: the operations (as torch.nn.functional), the size formulas, the
# matrix and overlap tools, and the checkerboard measures. The book's API reference
# documents every one of them (tests/book/test_book_build.py checks it).
__all__ = [
    "conv2d",
    "conv_transpose2d",
    "max_pool2d",
    "max_unpool2d",
    "interpolate",
    "pixel_shuffle",
    "pixel_unshuffle",
    "conv_output_size",
    "conv_transpose_output_size",
    "conv_matrix",
    "overlap_counts",
    "checkerboard_score",
    "resize_conv2d",
]
