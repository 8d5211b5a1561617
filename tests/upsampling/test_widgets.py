"""upsampling.widgets: frame_demo precomputes one figure per combination of controls."""

import base64
import doctest
import io
import itertools
import json
from pathlib import Path

import ipywidgets.embed
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from upsampling import widgets
from upsampling.widgets import Control, FrameDemo, figure_bytes, figure_of, frame_demo
from upsampling.widgets import frames as frames_module

WIDGETS_DIR = Path(widgets.__file__).parent


def plot_square(size, color="red", ax=None):
    """A filled square of side ``size`` (of 4) in ``color``: easy to recognise in pixels."""
    if size < 0:
        raise ValueError(f"size must be non-negative, got {size}")
    ax = ax if ax is not None else Figure(figsize=(2, 2)).add_subplot()
    ax.add_patch(plt.Rectangle((0, 0), size, size, color=color))
    ax.set_xlim(0, 4)
    ax.set_ylim(0, 4)
    ax.set_axis_off()
    return ax


def decode(frame: str) -> np.ndarray:
    header, data = frame.split(",", 1)
    assert header == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


def red_fraction(frame: str) -> float:
    pixels = decode(frame).astype(int)
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    return red.mean()


def test_one_frame_per_combination_in_row_major_order():
    """Frames follow itertools.product over the controls, as the front-end indexes them."""
    demo = frame_demo(
        plot_square,
        {"size": [1, 2, 3], "color": ["red", "blue"]},
        describe=lambda size, color: f"{size}-{color}",
    )
    expected = [f"{s}-{c}" for s, c in itertools.product([1, 2, 3], ["red", "blue"])]
    assert demo.captions == expected
    assert len(demo.frames) == 6
    # What each frame shows: a red square grows with size, a blue one has no red.
    reds = [red_fraction(f) for f in demo.frames]
    assert reds[1] == reds[3] == reds[5] == 0
    assert 0 < reds[0] < reds[2] < reds[4]


def test_frames_have_one_size_and_differ():
    demo = frame_demo(plot_square, {"size": [1, 2, 3]})
    shapes = {decode(f).shape for f in demo.frames}
    assert shapes == {(200, 200, 3)}
    assert len(set(demo.frames)) == 3


def test_controls_resolved_for_the_front_end():
    demo = frame_demo(
        plot_square,
        {
            "size": Control([1, 2], label="side"),
            "color": ["red", "green", "blue", "black", "gray", "orange"],
        },
    )
    size, color = demo.controls
    assert size == {"name": "size", "label": "side", "labels": ["1", "2"], "kind": "slider"}
    assert color["kind"] == "dropdown" and color["labels"][0] == "red"
    assert (
        frame_demo(plot_square, {"color": ["red", "blue"]}, size=2).controls[0]["kind"] == "buttons"
    )


def test_initial_selection_value_and_frame_index():
    demo = frame_demo(
        plot_square,
        {"size": [1, 2, 3], "color": ["red", "blue"]},
        initial={"size": 3, "color": "blue"},
    )
    assert demo.selection == {"size": 2, "color": 1}
    assert demo.value == {"size": 3, "color": "blue"}
    assert demo.frame_index == 5
    demo.selection = {"size": 0, "color": 1}
    assert demo.value == {"size": 1, "color": "blue"} and demo.frame_index == 1


def test_array_values_and_fixed_arguments():
    """Controls may offer arrays (with labels); fixed arguments reach every call."""
    calls = []

    def plot(x, scale, ax=None):
        calls.append((x.sum(), scale))
        return plot_square(1)

    arrays = [np.ones((2, 2)), np.zeros((3, 3))]
    demo = frame_demo(
        plot, {"x": Control(arrays, labels=["ones", "zeros"])}, scale=5, initial={"x": arrays[1]}
    )
    assert calls == [(4.0, 5), (0.0, 5)]
    assert demo.selection == {"x": 1}


def test_value_error_becomes_an_error_frame():
    demo = frame_demo(plot_square, {"size": [-1, 2]})
    assert red_fraction(demo.frames[0]) < red_fraction(demo.frames[1])
    pixels = decode(demo.frames[0])
    assert pixels.shape[1] == 600  # the error figure, 6 inches at 100 dpi
    assert (pixels < 100).any()  # the message is drawn


def test_other_exceptions_propagate():
    def broken(size, ax=None):
        raise KeyError(size)

    with pytest.raises(KeyError):
        frame_demo(broken, {"size": [1]})


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"controls": {"size": [1]}, "colour": "red"}, TypeError, "takes no parameter"),
        ({"controls": {"size": [1]}, "size": 2}, ValueError, "both as controls and as fixed"),
        (
            {"controls": {"size": list(range(5)), "color": ["a"] * 1}, "max_frames": 4},
            ValueError,
            "more than max_frames \\(4\\)",
        ),
        ({"controls": {"size": [1, 2]}, "initial": {"size": 3}}, ValueError, "not one of"),
        (
            {"controls": {"size": [1, 2]}, "initial": {"color": "red"}},
            ValueError,
            "without a control",
        ),
        ({"controls": {"size": [1]}, "image_format": "gif"}, ValueError, "image_format"),
        ({"controls": {"size": Control([1], kind="knob")}}, ValueError, "kind must be"),
        ({"controls": {"size": Control([1, 2], labels=["a"])}}, ValueError, "labels has 1"),
        ({"controls": {"size": Control([1, 2], labels=["a", "a"])}}, ValueError, "distinct"),
        ({"controls": {"size": []}}, ValueError, "no values"),
        ({"controls": {}}, ValueError, "at least one"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        frame_demo(plot_square, **kwargs)


def test_pyplot_figures_are_closed():
    def plot_with_pyplot(size):
        fig, ax = plt.subplots()
        ax.plot([0, size])
        return ax

    before = plt.get_fignums()
    frame_demo(plot_with_pyplot, {"size": [1, 2, 3]})
    assert plt.get_fignums() == before


def test_figure_of_accepts_figures_axes_and_arrays():
    fig = Figure()
    axes = fig.subplots(1, 2)
    assert figure_of(fig) is fig
    assert figure_of(axes[1]) is fig
    assert figure_of(axes) is fig
    assert figure_of(list(axes)) is fig
    with pytest.raises(TypeError, match="must return the Figure"):
        figure_of(42)


def test_figure_bytes_formats():
    fig = plot_square(2).figure
    png = figure_bytes(fig, image_format="png")
    assert png.startswith(b"\x89PNG")
    png8 = Image.open(io.BytesIO(figure_bytes(fig, image_format="png8")))
    assert png8.mode == "P" and len(png8.getcolors()) <= 256
    assert Image.open(io.BytesIO(figure_bytes(fig, image_format="jpeg"))).format == "JPEG"
    assert Image.open(io.BytesIO(figure_bytes(fig, image_format="webp"))).format == "WEBP"
    grey = Figure(figsize=(1, 1))
    grey.add_subplot().imshow(np.linspace(0, 1, 64).reshape(8, 8), cmap="gray")
    assert Image.open(io.BytesIO(figure_bytes(grey))).mode == "L"  # grey stays exact
    with pytest.raises(ValueError, match="image_format"):
        figure_bytes(fig, image_format="bmp")


def test_widget_state_is_json_and_embeds_the_frames():
    """What the book saves: the whole state, frames included, as plain JSON."""
    demo = frame_demo(plot_square, {"size": [1, 2]}, title="Squares")
    state = ipywidgets.embed.dependency_state([demo], drop_defaults=False)
    text = json.dumps(state)
    assert all(frame in text for frame in demo.frames)
    model = state[demo.model_id]
    assert model["model_module"] == "anywidget"
    assert model["state"]["title"] == "Squares"
    assert "export default" in model["state"]["_esm"]


def test_mimebundle_has_a_still_fallback():
    demo = frame_demo(plot_square, {"size": [1, 2]}, initial={"size": 2})
    data, _ = demo._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "data:image/png;base64," + data["image/png"] == demo.frames[1]


def test_front_end_files():
    js = (WIDGETS_DIR / "frame_demo.js").read_text()
    assert "export default { render }" in js
    assert "dataset.responseMs" in js  # read by the browser tests
    assert (WIDGETS_DIR / "frame_demo.css").read_text().count("{") > 5
    config = (WIDGETS_DIR / "require_config.js").read_text()
    assert "anywidget" in config and "http" not in config
    assert FrameDemo._esm is not None


def test_docstring_examples():
    result = doctest.testmod(frames_module, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0
