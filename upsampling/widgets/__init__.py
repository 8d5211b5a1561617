"""Widgets for the book's demos, interactive with a kernel and in the static HTML.

:func:`frame_demo` turns a pure plotting function and the values of its controls into
a widget that shows the figure for the chosen values (see its docstring).
"""

from upsampling.widgets.frames import Control, FrameDemo, figure_bytes, figure_of, frame_demo

__all__ = ["Control", "FrameDemo", "figure_bytes", "figure_of", "frame_demo"]
