"""Chapter 4's figures: what each one draws, checked against the package."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from upsampling import overlap_counts
from upsampling.checkerboard import (
    DECODER_KINDS,
    checkerboard_score,
    power_spectrum,
    random_decoder,
)
from upsampling.plots.checkerboard import (
    overlap_map,
    plot_random_decoders,
    plot_spectrum,
)


def image_data(ax):
    return np.asarray(ax.get_images()[0].get_array())


def test_overlap_map_of_one_layer_k3_s2():
    """Counts 1..4, score 0.48 on the interior left by a (k-1)-pixel border."""
    counts, score, border = overlap_map(3, 2, layers=1, input_size=4)
    np.testing.assert_array_equal(counts, overlap_counts((4, 4), 3, 2))
    assert border == 2
    assert score == pytest.approx(checkerboard_score(counts, 2, border=2))
    assert score == pytest.approx(0.4843, abs=1e-4)


def test_overlap_map_of_stacked_layers_looks_for_the_stack_period():
    """Two layers of k=3, s=2: period 4, border 2 * (1 + 2); even overlap scores 0."""
    counts, score, border = overlap_map(3, 2, layers=2, input_size=4)
    assert border == 6
    assert score == pytest.approx(checkerboard_score(counts, 4, border=6))
    assert overlap_map(4, 2, layers=3)[1] == 0.0
    assert overlap_map(5, 1, layers=3)[1] == 0.0  # stride 1: no phases
    assert np.isnan(overlap_map(5, 3, layers=1, input_size=2)[1])


def test_plot_random_decoders_panels_are_the_decoders_outputs():
    """One panel per kind, showing random_decoder's output with its score in the title."""
    kinds = ("transposed", "resize")
    axes = plot_random_decoders(2, kinds=kinds, layers=2, channels=4, size=4)
    assert len(axes) == 2
    for ax, kind in zip(axes, kinds, strict=True):
        image = random_decoder(kind, 2, layers=2, channels=4, size=4)
        np.testing.assert_allclose(image_data(ax), image)
        score = checkerboard_score(image, 2, border=2)
        assert ax.get_title() == f"{DECODER_KINDS[kind]}\nscore {score:.2f}"
    assert len(plot_random_decoders(0, layers=1, size=4)) == len(DECODER_KINDS)


def test_plot_spectrum_shows_the_log_power_and_rings_at_stride_frequencies():
    """The image is log10 of the centred power; s=2 gives 3 rings, s=4 gives 15."""
    x = np.random.default_rng(0).standard_normal((2, 16, 16))
    fig = Figure()
    ax = plot_spectrum(x, stride=2, ax=fig.add_subplot())
    np.testing.assert_allclose(
        image_data(ax), np.log10(power_spectrum(x) + 1e-12 * power_spectrum(x).max())
    )
    rings = [p for p in ax.patches if isinstance(p, Circle)]
    assert sorted(c.center for c in rings) == [(-0.5, -0.5), (-0.5, 0.0), (0.0, -0.5)]
    assert len([p for p in plot_spectrum(x, 4).patches if isinstance(p, Circle)]) == 15
    assert plot_spectrum(x, 2, title="t").get_title() == "t"
