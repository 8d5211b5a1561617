"""Chapter 3's figures: what each one draws, checked against the package and PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from upsampling import conv_matrix
from upsampling.plots.transposed import (
    HIGHLIGHT,
    draw_number_grid,
    plot_conv_matrix,
    plot_image_row,
    plot_number_grids,
    plot_scatter_add,
    plot_transposed_size,
)

X = np.array([[2.0, 0.0], [4.0, 1.0]])
K = np.array([[4.0, 2.0, 1.0], [1.0, 0.0, 3.0], [0.0, 5.0, 2.0]])


def texts(ax):
    return [t.get_text() for t in ax.texts]


def image_data(ax):
    return np.asarray(ax.get_images()[0].get_array())


def outlines(ax, color=HIGHLIGHT):
    """Unfilled rectangles drawn in ``color``: (x, y, width, height) of each."""
    from matplotlib.colors import to_rgba

    return [
        (p.get_x(), p.get_y(), p.get_width(), p.get_height())
        for p in ax.patches
        if isinstance(p, Rectangle) and not p.get_fill() and p.get_edgecolor() == to_rgba(color)
    ]


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


@pytest.mark.parametrize("stride", [1, 2])
def test_scatter_add_final_step_is_pytorchs_transposed_convolution(stride):
    """After all copies the output panel is F.conv_transpose2d; counts are overlap counts."""
    axes = plot_scatter_add(X, K, step=4, stride=stride)
    assert len(axes) == 4
    expected = F.conv_transpose2d(
        torch.tensor(X)[None, None], torch.tensor(K)[None, None], stride=stride
    )
    np.testing.assert_allclose(image_data(axes[2]), expected[0, 0].numpy())
    ones = F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3), stride=stride)
    np.testing.assert_array_equal(image_data(axes[3]), ones[0, 0].numpy())
    assert axes[2].get_title() == "output after 4 of 4 copies"
    assert len(texts(axes[2])) == expected[0, 0].numel()


def test_scatter_add_intermediate_step_shows_the_copy_and_its_place():
    """Step 3 uses x[1, 0] = 4: the copy is 4 * kernel, outlined at (2, 0) for stride 2."""
    axes = plot_scatter_add(X, K, step=3, stride=2)
    assert axes[0].get_title() == "input: x[1, 0] = 4"
    np.testing.assert_array_equal(image_data(axes[1]), 4 * K)
    assert axes[1].get_title() == "4 × kernel"
    assert outlines(axes[2]) == [(-0.5, 1.5, 3, 3)]
    partial = X * np.array([[1, 1], [1, 0]])
    expected = F.conv_transpose2d(
        torch.tensor(partial)[None, None], torch.tensor(K)[None, None], stride=2
    )
    np.testing.assert_allclose(image_data(axes[2]), expected[0, 0].numpy())
    assert image_data(axes[3]).max() == 3  # the centre, reached by three of the copies


def test_scatter_add_step_zero_is_empty_and_bad_steps_raise():
    """Step 0 shows the kernel and a zero output; steps past the input raise ValueError."""
    axes = plot_scatter_add(X, K, step=0)
    assert not image_data(axes[2]).any()
    assert axes[1].get_title() == "kernel"
    with pytest.raises(ValueError, match="step"):
        plot_scatter_add(X, K, step=5)
    with pytest.raises(ValueError, match="2-D"):
        plot_scatter_add(X[None], K, step=1)


@pytest.mark.parametrize(
    "i, k, s, p, op, d",
    [
        (3, 3, 2, 1, 1, 1),
        (2, 2, 3, 0, 0, 1),
        (3, 3, 2, 1, 0, 2),
        (2, 3, 1, 1, 0, 1),
        (3, 2, 2, 0, 1, 1),
    ],
)
def test_transposed_size_title_bracket_and_counts_match_pytorch(i, k, s, p, op, d):
    """The title's size, the width of the kept range and the counts row agree with PyTorch."""
    ax = plot_transposed_size(i, k, s, p, op, d)
    expected = F.conv_transpose2d(
        torch.ones(1, 1, 1, i),
        torch.ones(1, 1, 1, k),
        stride=(1, s),
        padding=(0, p),
        output_padding=(0, op),
        dilation=(1, d),
    )
    out = expected.shape[-1]
    assert ax.get_title().split("=")[-1].split("(")[0].strip() == str(out)
    ((x, _, width, height),) = outlines(ax)
    assert (x, width, height) == (p - 0.5, out, i + 1)
    full = (
        F.conv_transpose2d(
            torch.ones(1, 1, 1, i), torch.ones(1, 1, 1, k), stride=(1, s), dilation=(1, d)
        )[0, 0, 0]
        .int()
        .tolist()
    )
    count_texts = [t.get_text() for t in ax.texts if t.get_position()[1] == i]
    assert count_texts[: len(full)] == [str(c) for c in full]
    taps = [t.get_text() for t in ax.texts if t.get_text().startswith("w")]
    assert len(taps) == i * k


def test_transposed_size_refuses_invalid_output_padding_in_its_title():
    """output_padding >= stride and dilation: no drawing, the rule in the title."""
    ax = plot_transposed_size(3, 3, 1, 0, 1, 1)
    assert "output_padding (1) must be smaller than stride (1)" in ax.get_title()
    assert not ax.get_images()


def test_conv_matrix_panels_are_c_and_its_transpose():
    """The two heat maps are conv_matrix and its transpose, with their shapes in the titles."""
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]])
    ax_c, ax_ct = plot_conv_matrix(kernel, (3, 3))
    C = conv_matrix(kernel[None, None], (3, 3))
    np.testing.assert_array_equal(image_data(ax_c), C)
    np.testing.assert_array_equal(image_data(ax_ct), C.T)
    assert ax_c.get_title().startswith("C: 4×9") and ax_ct.get_title().startswith("Cᵀ: 9×4")
    assert len(ax_c.texts) == np.count_nonzero(C) == 16


def test_conv_matrix_stride_and_padding():
    """With stride 2 and padding 1 on a 4x4 input, C is 4 x 16 (no numbers when large)."""
    ax_c, _ = plot_conv_matrix(np.ones((3, 3)), (4, 4), stride=2, padding=1)
    np.testing.assert_array_equal(
        image_data(ax_c), conv_matrix(np.ones((1, 1, 3, 3)), (4, 4), 2, 1)
    )
    ax_big, _ = plot_conv_matrix(np.ones((2, 2)), (5, 5))
    assert not ax_big.texts


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
