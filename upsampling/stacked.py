"""Training one small PyTorch model per seed, all seeds at once.

A tiny network on a CPU spends most of a training step in per-operation overhead, not in
arithmetic. Stacking the models of several seeds (``torch.func.stack_module_state``) and
running them with ``torch.func.vmap`` turns every layer of every model into one batched
operation, so five seeds cost about as much as two. The result is the same as training
the models one after the other: the loss is the sum of the models' own losses, so each
model's gradient is its own, and Adam updates every weight on its own statistics.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

__all__ = ["build_seeded", "cosine_schedule", "train_stacked"]


def build_seeded(build: Callable[[], nn.Module], seeds: Sequence[int]) -> list[nn.Module]:
    """One model per seed: ``build()`` after ``torch.manual_seed(seed)``."""
    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(build())
    return models


def cosine_schedule(steps: int, warmup: int = 0) -> Callable[[int], float]:
    """The learning rate's factor at each update: a linear warm-up from ``1 / warmup`` to 1
    over the first ``warmup`` updates, then half a cosine from 1 down to 0 at update
    ``steps`` (Loshchilov & Hutter's SGDR without restarts).

    ``schedule(i)`` is the factor of update ``i`` (0, 1, ..., steps - 1).
    """
    if not 0 <= warmup < steps:
        raise ValueError(f"warmup ({warmup}) must lie between 0 and steps - 1 ({steps - 1})")

    def schedule(i: int) -> float:
        if i < warmup:
            return (i + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (i - warmup) / (steps - warmup)))

    return schedule


def train_stacked(
    models: Sequence[nn.Module],
    batches: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    steps: int,
    checkpoints: Sequence[int] = (),
    lr: float = 0.01,
    schedule: Callable[[int], float] | None = None,
    on_step: Callable[[int, Callable[[torch.Tensor], torch.Tensor]], None] | None = None,
) -> dict[int, list[nn.Module]]:
    """Trains ``models`` (same architecture, one per seed) side by side with Adam.

    Parameters
    ----------
    models : sequence of S modules
        Their initial weights; they are not modified.
    batches : callable
        ``batches(step)`` (step 0, 1, ...) gives ``(inputs, targets)`` with a leading axis
        of length S: model ``m`` trains on ``inputs[m]`` against ``targets[m]``.
    loss : callable
        ``loss(outputs, targets)`` gives one loss per model, shape ``(S,)``.
    steps : int
        Number of Adam updates.
    checkpoints : sequence of int
        Numbers of updates after which to keep a copy of the models (0: the start).
    lr : float
        Adam's learning rate (its peak, with a ``schedule``).
    schedule : callable, optional
        ``schedule(i)`` multiplies ``lr`` for update ``i`` (see :func:`cosine_schedule`);
        constant by default.
    on_step : callable, optional
        ``on_step(step, forward)`` after every update (and with step 0 before the first):
        ``forward(inputs)`` runs the S current models without gradient, model ``m`` on
        ``inputs[m]``. Cheaper than a checkpoint for a number measured often (a learning
        curve), since nothing is copied.

    Returns
    -------
    dict
        checkpoint -> list of S modules in eval mode, copies holding the weights then.
    """
    if not models:
        raise ValueError("models must hold at least one model")
    bad = [c for c in checkpoints if not 0 <= c <= steps]
    if bad:
        raise ValueError(f"checkpoints must lie between 0 and steps ({steps}), got {bad}")
    params, buffers = stack_module_state(list(models))
    skeleton = copy.deepcopy(models[0]).to("meta")

    def run(p, b, x):
        return functional_call(skeleton, (p, b), (x,))

    forward = vmap(run)
    # fused: one kernel for every weight instead of a Python loop of small operations
    optimiser = torch.optim.Adam(params.values(), lr=lr, fused=True)
    scheduler = None if schedule is None else torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
    saved = {}

    @torch.no_grad()
    def current(inputs):
        return forward(params, buffers, inputs)

    def save(step):
        if step in checkpoints:
            saved[step] = []
            for m, model in enumerate(models):
                snapshot = copy.deepcopy(model)
                state = {name: value[m].detach() for name, value in {**params, **buffers}.items()}
                snapshot.load_state_dict(state)
                saved[step].append(snapshot.eval())

    save(0)
    if on_step is not None:
        on_step(0, current)
    for step in range(steps):
        inputs, targets = batches(step)
        total = loss(forward(params, buffers, inputs), targets).sum()
        optimiser.zero_grad()
        total.backward()
        optimiser.step()
        if scheduler is not None:
            scheduler.step()
        save(step + 1)
        if on_step is not None:
            on_step(step + 1, current)
    return saved
