"""Widgets for the book's demos, interactive with a kernel and in the static HTML.

Live demos (:mod:`upsampling.widgets.live`) compute the real operation in the page with
``ops.js``, for any input the reader types; :func:`frame_demo` switches between figures
drawn beforehand (for what needs training).
"""

from upsampling.widgets.frames import Control, FrameDemo, figure_bytes, figure_of, frame_demo
from upsampling.widgets.live import LiveDemo, bundle
from upsampling.widgets.transposed import ConvMatrixDemo, ScatterAddDemo, ShapeExplorerDemo

__all__ = [
    "Control",
    "ConvMatrixDemo",
    "FrameDemo",
    "LiveDemo",
    "ScatterAddDemo",
    "ShapeExplorerDemo",
    "bundle",
    "figure_bytes",
    "figure_of",
    "frame_demo",
]
