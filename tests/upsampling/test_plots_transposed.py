"""The static number-grid and image-row figures: what each one draws."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from upsampling.plots.transposed import draw_number_grid, plot_image_row, plot_number_grids


def texts(ax):
    return [t.get_text() for t in ax.texts]


def image_data(ax):
    return np.asarray(ax.get_images()[0].get_array())


def test_draw_number_grid_writes_every_value_and_makes_no_figure_with_pyplot():
    """One text per cell, the values as the image; the figure is not pyplot's."""
    ax = Figure().add_subplot()
    draw_number_grid(ax, [[1, 2.5], [-3, 40]], title="t")
    assert texts(ax) == ["1", "2.5", "-3", "40"]
    np.testing.assert_array_equal(image_data(ax), [[1, 2.5], [-3, 40]])
    assert ax.get_title() == "t"
    assert ax.figure.canvas.manager is None
    with pytest.raises(ValueError, match="2-D"):
        draw_number_grid(ax, [1, 2])


def test_number_grids_and_image_rows_use_given_axes():
    """Given axes are drawn into; a wrong number of axes or titles raises ValueError."""
    fig = Figure()
    axes = fig.subplots(1, 2)
    out = plot_number_grids([np.eye(2), np.ones((3, 3))], ["a", "b"], axes=axes)
    assert list(out) == list(axes)
    assert [ax.get_title() for ax in axes] == ["a", "b"]
    assert len(axes[1].texts) == 9
    row = plot_image_row([np.zeros((4, 4)), np.ones((2, 2))], ["x", "y"])
    assert [ax.get_title() for ax in row] == ["x", "y"]
    assert not row[0].axison
    with pytest.raises(ValueError, match="titles"):
        plot_image_row([np.zeros((2, 2))], ["a", "b"])
    with pytest.raises(ValueError, match="axes"):
        plot_number_grids([np.eye(2)], ["a"], axes=axes)
