"""Reference operations for the course "Upsampling in CNNs", in numpy.

Every operation follows PyTorch's ``torch.nn.functional`` exactly: the same names,
argument names, defaults, shapes and NCHW layout, so that the book, the graded
notebooks and the autograder share one source of truth that is tested against PyTorch.
"""

from upsampling.checkerboard import checkerboard_score, resize_conv2d  # noqa: F401
from upsampling.conv import conv2d, conv_matrix  # noqa: F401
from upsampling.conv_transpose import conv_transpose2d  # noqa: F401
from upsampling.interpolate import interpolate  # noqa: F401
from upsampling.overlap import overlap_counts  # noqa: F401
from upsampling.pooling import max_pool2d, max_unpool2d  # noqa: F401
from upsampling.shuffle import pixel_shuffle, pixel_unshuffle  # noqa: F401
from upsampling.sizes import conv_output_size, conv_transpose_output_size  # noqa: F401
