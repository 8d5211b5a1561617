"""Training one model per seed at once (upsampling.stacked) is training each alone."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from upsampling.stacked import build_seeded, cosine_schedule, train_stacked

torch.set_num_threads(1)


def _small_net():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False),
        nn.GroupNorm(2, 4),
        nn.ReLU(),
        nn.ConvTranspose2d(4, 1, 2, stride=2),
    )


def _data(seeds, steps):
    generator = torch.Generator().manual_seed(7)
    x = torch.randn(steps, len(seeds), 3, 1, 6, 6, generator=generator)
    y = torch.randn(steps, len(seeds), 3, 1, 12, 12, generator=generator)
    return x, y


def _mse(outputs, targets):
    return ((outputs - targets) ** 2).flatten(1).mean(dim=1)


def test_build_seeded_gives_each_seed_its_own_weights():
    """Same seed, same weights; different seeds, different weights."""
    a, b, again = build_seeded(_small_net, (0, 1, 0))
    assert torch.equal(a[0].weight, again[0].weight)
    assert not torch.equal(a[0].weight, b[0].weight)


def test_cosine_schedule_by_hand_and_as_pytorch_anneals():
    """Warm-up 1/4, 2/4, ..., then half a cosine; without warm-up, PyTorch's
    CosineAnnealingLR (to 0) step by step."""
    schedule = cosine_schedule(12, warmup=4)
    assert [schedule(i) for i in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert schedule(4) == 1.0 and abs(schedule(8) - 0.5) < 1e-12 and schedule(11) > 0
    optimiser = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    annealing = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=10)
    plain = cosine_schedule(10)
    for i in range(10):
        assert abs(optimiser.param_groups[0]["lr"] - plain(i)) < 1e-12
        optimiser.step()
        annealing.step()
    with pytest.raises(ValueError, match=r"warmup \(10\) must lie between 0 and steps - 1"):
        cosine_schedule(10, warmup=10)


@pytest.mark.parametrize("annealed", [False, True])
def test_train_stacked_equals_training_each_model_alone(annealed):
    """Three Adam steps of the stacked models give each model's own three Adam steps
    (with a cosine schedule: PyTorch's CosineAnnealingLR on the model alone)."""
    seeds, steps = (0, 1, 2), 3
    x, y = _data(seeds, steps)
    models = build_seeded(_small_net, seeds)
    initial = [{k: v.clone() for k, v in m.state_dict().items()} for m in models]
    saved = train_stacked(
        models,
        lambda step: (x[step], y[step]),
        _mse,
        steps,
        (0, steps),
        lr=0.05,
        schedule=cosine_schedule(steps) if annealed else None,
    )
    for m, model in enumerate(models):
        for name, value in model.state_dict().items():  # the inputs are left alone
            assert torch.equal(value, initial[m][name])
        alone = build_seeded(_small_net, (seeds[m],))[0]
        optimiser = torch.optim.Adam(alone.parameters(), lr=0.05)
        annealing = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
        for step in range(steps):
            loss = F.mse_loss(alone(x[step, m]), y[step, m])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if annealed:
                annealing.step()
        for name, value in alone.state_dict().items():
            torch.testing.assert_close(saved[steps][m].state_dict()[name], value)
            torch.testing.assert_close(saved[0][m].state_dict()[name], initial[m][name])
        assert not saved[steps][m].training


def test_on_step_sees_every_step_and_the_current_models():
    """on_step runs at steps 0..steps; its forward gives the checkpointed models' outputs."""
    seeds, steps = (0, 1), 4
    x, y = _data(seeds, steps)
    seen = {}

    def on_step(step, forward):
        seen[step] = forward(x[0])
        assert not seen[step].requires_grad

    models = build_seeded(_small_net, seeds)
    saved = train_stacked(
        models, lambda step: (x[step], y[step]), _mse, steps, (0, 2), on_step=on_step
    )
    assert sorted(seen) == [0, 1, 2, 3, 4]
    for step in (0, 2):
        for m in range(len(seeds)):
            with torch.no_grad():
                torch.testing.assert_close(seen[step][m], saved[step][m](x[0, m]))
    assert not torch.equal(seen[0], seen[4])


def test_train_stacked_refuses_checkpoints_outside_the_training():
    """A checkpoint after the last step names the rule."""
    with pytest.raises(ValueError, match=r"checkpoints must lie between 0 and steps \(2\)"):
        train_stacked([_small_net()], lambda step: None, _mse, 2, (3,))
    with pytest.raises(ValueError, match="at least one model"):
        train_stacked([], lambda step: None, _mse, 2)
