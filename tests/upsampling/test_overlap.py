"""overlap_counts with stacked layers, each with its own settings, against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upsampling import overlap_counts


def torch_paths(size, layers):
    """Ones pushed through each layer's transposed convolution with a ones kernel."""
    x = torch.ones(1, 1, *size, dtype=torch.float64)
    for kernel, stride, padding, dilation in layers:
        ones = torch.ones(1, 1, *kernel, dtype=torch.float64)
        x = F.conv_transpose2d(x, ones, stride=stride, padding=padding, dilation=dilation)
    return x[0, 0].numpy()


def random_layer(rng):
    return {
        "kernel_size": tuple(int(v) for v in rng.integers(1, 6, 2)),
        "stride": tuple(int(v) for v in rng.integers(1, 5, 2)),
        "padding": tuple(int(v) for v in rng.integers(0, 2, 2)),
        "dilation": tuple(int(v) for v in rng.integers(1, 3, 2)),
    }


@pytest.mark.parametrize("seed", range(60))
def test_each_layer_with_its_own_settings_is_the_paths_through_them(seed):
    rng = np.random.default_rng(seed)
    size = tuple(int(v) for v in rng.integers(1, 6, 2))
    layers = [random_layer(rng) for _ in range(rng.integers(1, 4))]
    # Each layer names some of its settings; the others come from the arguments.
    given = [{k: v for k, v in layer.items() if rng.random() < 0.7} for layer in layers]
    defaults = random_layer(rng)
    settings = [tuple(entry.get(key, defaults[key]) for key in defaults) for entry in given]
    try:
        expected = torch_paths(size, settings)
    except RuntimeError:  # padding crops a layer's output to nothing
        with pytest.raises(ValueError, match="which is too small"):
            overlap_counts(size, **defaults, layers=given)
        return
    counts = overlap_counts(size, **defaults, layers=given)
    np.testing.assert_array_equal(counts, expected)
    assert counts.dtype == np.int64


def test_one_dimensional_layers_by_hand():
    # k=3, s=2 on 2 inputs: [1, 1, 2, 1, 1]; then k=4, s=2: each of those five values
    # spreads over 4 positions, starting 2 apart.
    first = [1, 1, 2, 1, 1]
    expected = np.zeros(12, dtype=int)
    for i, v in enumerate(first):
        expected[2 * i : 2 * i + 4] += v
    got = overlap_counts(2, 3, stride=2, layers=[{}, {"kernel_size": 4}])
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got, [1, 1, 2, 2, 3, 3, 3, 3, 2, 2, 1, 1])


def test_an_int_is_that_many_identical_layers():
    for layers in (1, 2, 3):
        np.testing.assert_array_equal(
            overlap_counts((3, 4), 3, stride=2, layers=layers),
            overlap_counts((3, 4), 3, stride=2, layers=[{}] * layers),
        )
        np.testing.assert_array_equal(
            overlap_counts(5, 3, stride=2, padding=1, layers=layers),
            overlap_counts(5, 3, stride=2, padding=1, layers=[{}] * layers),
        )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (dict(layers=0), ValueError, "layers must be positive, got 0"),
        (dict(layers=[]), ValueError, "layers must hold at least one layer, got an empty sequence"),
        (
            dict(layers="2"),
            TypeError,
            "layers must be an int or a sequence of mappings (one per layer, with keys among "
            "kernel_size, stride, padding, dilation), got '2'",
        ),
        (
            dict(layers=[{}, {"strides": 2}]),
            TypeError,
            "layers[1] has the key 'strides'; the keys of a layer are kernel_size, stride, "
            "padding, dilation",
        ),
        (
            dict(layers=[{}, {"stride": 0}]),
            ValueError,
            "stride of layers[1] must be positive, got 0",
        ),
        (
            dict(layers=[{"kernel_size": (3, 3)}]),
            TypeError,
            "kernel_size of layers[0] must be an int for a 1-D count, got (3, 3)",
        ),
        (dict(stride=0), ValueError, "stride must be positive, got 0"),
        (dict(padding=5), ValueError, "input_size (1, 4) gives output size"),
    ],
)
def test_bad_layers_are_named(call, error, message):
    with pytest.raises(error) as info:
        overlap_counts(4, 3, **call)
    assert str(info.value).startswith(message)
