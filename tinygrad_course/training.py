"""A training loop helper: `fit` runs the lecture's pseudocode for many epochs and keeps a history.

One epoch, as `fit` runs it::

    for each mini-batch 𝓑:  forward pass, cost C_𝓑, backpropagation, optimizer step
    then: validation cost (no gradients), scheduler step, early-stopping check

Example::

    >>> import tinygrad_course as tc
    >>> from tinygrad_course import nn, optim
    >>> from tinygrad_course.data import DataLoader, TensorDataset
    >>> from tinygrad_course.training import fit
    >>> _ = tc.manual_seed(0)
    >>> x = tc.rand(64, 1); y = 2 * x
    >>> model = nn.Linear(1, 1)
    >>> history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5),
    ...               DataLoader(TensorDataset(x, y), batch_size=16), epochs=50)
    >>> history["train_loss"][-1] < 1e-3
    True
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

import numpy as np

from tinygrad_course import autograd
from tinygrad_course.nn import Module
from tinygrad_course.optim import Optimizer
from tinygrad_course.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from tinygrad_course.tensor import Tensor

Metric = Callable[[Tensor, Tensor], float]


def accuracy(output: Tensor, target: Tensor) -> float:
    """Fraction of samples whose arg-max class (or, for one logit per sample, logit > 0) equals the target."""
    out = output._array
    predicted = (out.reshape(-1) > 0).astype(np.int64) if out.ndim == 1 or out.shape[-1] == 1 else out.argmax(axis=-1)
    return float(np.mean(predicted == target._array.reshape(predicted.shape)))


class EarlyStopping:
    """Stop when the monitored loss has not improved for `patience` epochs; restore the best weights.

    The lecture's guard against overfitting: the validation cost falls while the model learns
    the signal and rises once it starts fitting the noise. "Improved" means
    value < best − min_delta. The best weights are a copy of ``model.state_dict()``, loaded
    back at the end of `fit` when `restore_best_weights`.
    """

    def __init__(
        self, patience: int = 5, min_delta: float = 0.0, monitor: str = "val_loss", restore_best_weights: bool = True
    ) -> None:
        """Check the arguments (ValueError naming the bad one) and start with no best value."""
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an int >= 1, got {patience!r}")
        if not isinstance(min_delta, (int, float)) or not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be a number >= 0, got {min_delta!r}")
        if monitor not in ("val_loss", "train_loss"):
            raise ValueError(f"EarlyStopping: monitor must be 'val_loss' or 'train_loss', got {monitor!r}")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.monitor = monitor
        self.restore_best_weights = restore_best_weights
        self.best = math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_state: dict[str, np.ndarray] | None = None

    def step(self, value: float, epoch: int, model: Module) -> bool:
        """Record this epoch's `value`; True when training should stop."""
        if value < self.best - self.min_delta:
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            # state_dict shares memory with the model: copy, or the snapshot would keep training.
            self._best_state = {k: v._array.copy() for k, v in model.state_dict().items()}
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def restore(self, model: Module) -> None:
        """Load the best weights seen back into `model` (if any were recorded)."""
        if self.restore_best_weights and self._best_state is not None:
            model.load_state_dict(self._best_state)


class _Progress:
    """One progress line per epoch: tqdm when installed, else a plain line rewritten with \\r."""

    def __init__(self, total: int, epoch: int, epochs: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.prefix = f"epoch {epoch}/{epochs}"
        self.stream = stream
        self.start = time.perf_counter()
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total, desc=self.prefix, file=stream, leave=True, dynamic_ncols=True)

    def update(self, loss: float) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
            return
        width = 20
        filled = width * self.done // max(self.total, 1)
        self.stream.write(
            f"\r{self.prefix} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} loss {loss:.4g}"
        )
        self.stream.flush()

    def close(self, summary: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(summary)
            self.bar.close()
            return
        seconds = time.perf_counter() - self.start
        self.stream.write(f"\r{self.prefix} {self.done}/{self.total} {summary} ({seconds:.1f}s)\n")
        self.stream.flush()


def _batch(batch: Any) -> tuple[Any, Tensor]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(
            f"fit: each batch must be a pair (input, target), got {type(batch).__name__}"
            + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
        )
    return batch[0], batch[1]


def evaluate(
    model: Module,
    loss_fn: Callable[[Any, Tensor], Tensor],
    loader: Iterable[Any],
    metrics: Mapping[str, Metric] | None = None,
) -> dict[str, float]:
    """Mean loss (and metrics) over all batches of `loader`, weighted by batch size, in eval mode without gradients."""
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {"loss": 0.0, **{name: 0.0 for name in metrics or {}}}
    count = 0
    with autograd.no_grad():
        for batch in loader:
            inputs, target = _batch(batch)
            output = model(inputs)
            n = len(target)
            sums["loss"] += float(loss_fn(output, target).item()) * n
            for name, metric in (metrics or {}).items():
                sums[name] += metric(output, target) * n
            count += n
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no samples")
    return {name: value / count for name, value in sums.items()}


def fit(
    model: Module,
    loss_fn: Callable[[Any, Tensor], Tensor],
    optimizer: Optimizer,
    train_loader: Iterable[Any],
    val_loader: Iterable[Any] | None = None,
    epochs: int = 1,
    scheduler: LRScheduler | None = None,
    early_stopping: EarlyStopping | None = None,
    metrics: Mapping[str, Metric] | None = None,
    verbose: bool | None = None,
    stream: TextIO | None = None,
) -> dict[str, list[float]]:
    """Train `model` for `epochs` epochs; returns the history ``{"epoch", "train_loss", "lr", …}``.

    Each step: output = model(x), C_𝓑 = loss_fn(output, y), backward, ``optimizer.step()``.
    The history has one entry per epoch: ``train_loss`` (the mean of the batch losses, weighted
    by batch size), ``train_<metric>``, and with a `val_loader` ``val_loss`` and ``val_<metric>``
    (computed in eval mode, without gradients), and ``lr`` (the first group's η during the
    epoch). `scheduler` steps once per epoch (ReduceLROnPlateau with the monitored loss).
    `early_stopping` may end training early and restores the best weights.

    Progress: one bar per epoch on `stream` (default stderr) — tqdm when installed, else a plain
    line. ``verbose=None`` shows it only when the stream is a terminal; True always; False never.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be a tinygrad_course.optim.Optimizer, got {type(optimizer).__name__}")
    if early_stopping is not None and early_stopping.monitor == "val_loss" and val_loader is None:
        raise ValueError("fit: EarlyStopping(monitor='val_loss') needs a val_loader (or use monitor='train_loss')")
    stream = sys.stderr if stream is None else stream
    show = verbose if verbose is not None else bool(getattr(stream, "isatty", lambda: False)())
    metrics = dict(metrics or {})
    history: dict[str, list[float]] = {"epoch": [], "train_loss": [], "lr": []}
    for name in metrics:
        history[f"train_{name}"] = []
    if val_loader is not None:
        history["val_loss"] = []
        for name in metrics:
            history[f"val_{name}"] = []
    try:
        total = len(train_loader)  # type: ignore[arg-type]
    except TypeError:
        total = 0
    for epoch in range(1, epochs + 1):
        model.train()
        lr = optimizer.param_groups[0]["lr"]
        progress = _Progress(total, epoch, epochs, stream) if show else None
        sums = {"loss": 0.0, **{name: 0.0 for name in metrics}}
        count = 0
        for batch in train_loader:
            inputs, target = _batch(batch)
            output = model(inputs)
            loss = loss_fn(output, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = len(target)
            value = float(loss.item())
            sums["loss"] += value * n
            for name, metric in metrics.items():
                sums[name] += metric(output.detach(), target) * n
            count += n
            if progress is not None:
                progress.update(value)
        if count == 0:
            raise ValueError("fit: the train_loader yielded no samples (is drop_last dropping the only batch?)")
        history["epoch"].append(epoch)
        history["lr"].append(lr)
        history["train_loss"].append(sums["loss"] / count)
        for name in metrics:
            history[f"train_{name}"].append(sums[name] / count)
        summary = f"loss {history['train_loss'][-1]:.4g}"
        if val_loader is not None:
            result = evaluate(model, loss_fn, val_loader, metrics)
            history["val_loss"].append(result["loss"])
            for name in metrics:
                history[f"val_{name}"].append(result[name])
            summary += f" val_loss {result['loss']:.4g}"
        if progress is not None:
            progress.close(summary)
        monitored = history["val_loss"][-1] if val_loader is not None else history["train_loss"][-1]
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(monitored)
        elif scheduler is not None:
            scheduler.step()
        if early_stopping is not None:
            value = history[early_stopping.monitor][-1]
            if early_stopping.step(value, epoch, model):
                break
    if early_stopping is not None:
        early_stopping.restore(model)
    return history
