"""fit: history, validation, metrics, schedulers, progress output; EarlyStopping restoring the best weights."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn, optim
from tinygrad_course.data import DataLoader, TensorDataset
from tinygrad_course.training import EarlyStopping, accuracy, evaluate, fit


def line_data(n: int = 64, slope: float = 2.0) -> TensorDataset:
    x = tc.linspace(0, 1, n, dtype=tc.float64).reshape(n, 1)
    return TensorDataset(x, slope * x)


def linear_model() -> nn.Linear:
    model = nn.Linear(1, 1, bias=False, dtype=tc.float64)
    nn.init.zeros_(model.weight)
    return model


def test_fit_learns_a_line_and_records_every_epoch():
    tc.manual_seed(0)
    model = linear_model()
    history = fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.5),
        DataLoader(line_data(), 16, shuffle=True),
        epochs=40,
        verbose=False,
    )
    assert list(history) == ["epoch", "train_loss", "lr"]
    assert history["epoch"] == list(range(1, 41)) and history["lr"] == [0.5] * 40
    assert history["train_loss"][0] > 0.1 and history["train_loss"][-1] < 1e-6
    assert model.weight.item() == pytest.approx(2.0, abs=1e-3)


def test_train_loss_is_the_sample_weighted_mean_of_the_batch_losses():
    model = linear_model()  # lr = 0: the weights stay 0, so every batch loss is known in closed form
    data = line_data(10)
    history = fit(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), DataLoader(data, 4), epochs=1, verbose=False
    )
    y = data.tensors[1]._array[:, 0]
    assert history["train_loss"][0] == pytest.approx(np.mean(y**2), rel=1e-12)


def test_validation_loss_and_metrics():
    tc.manual_seed(1)
    x = tc.randn(200, 2)
    y = (x[:, 0] + x[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=0.05),
        DataLoader(TensorDataset(x[:150], y[:150]), 25, shuffle=True),
        DataLoader(TensorDataset(x[150:], y[150:]), 50),
        epochs=15,
        metrics={"accuracy": accuracy},
        verbose=False,
    )
    assert set(history) == {"epoch", "train_loss", "lr", "train_accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 15 for v in history.values())
    assert history["val_accuracy"][-1] > 0.9 and history["val_loss"][-1] < history["val_loss"][0]
    final = evaluate(
        model, nn.CrossEntropyLoss(), DataLoader(TensorDataset(x[150:], y[150:]), 7), {"accuracy": accuracy}
    )
    assert final["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5)
    assert model.training  # evaluate restored training mode


def test_accuracy_for_class_scores_and_single_logits():
    assert accuracy(tc.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), tc.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    assert accuracy(tc.tensor([0.3, -2.0, 1.0, -0.1]), tc.tensor([1.0, 0.0, 0.0, 0.0])) == 0.75


def test_scheduler_steps_once_per_epoch():
    model = linear_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(
        model, nn.MSELoss(), optimizer, DataLoader(line_data(), 32), epochs=3, scheduler=scheduler, verbose=False
    )
    assert history["lr"] == [0.1, 0.05, 0.025]


def test_reduce_on_plateau_gets_the_monitored_loss():
    model = linear_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    # nothing can improve: the data are all zeros and w starts at 0, so every loss is 0
    zeros = TensorDataset(tc.zeros(8, 1, dtype=tc.float64), tc.zeros(8, 1, dtype=tc.float64))
    history = fit(
        model,
        nn.MSELoss(),
        optimizer,
        DataLoader(zeros, 8),
        DataLoader(zeros, 8),
        epochs=4,
        scheduler=scheduler,
        verbose=False,
    )
    assert history["val_loss"] == [0.0] * 4
    assert history["lr"] == [0.1, 0.1, 0.05, 0.025]  # epoch 1 sets the best; every later epoch fails to improve


def test_early_stopping_restores_the_best_weights():
    # Training pulls w towards +2 while the validation data follow y = −2x: the validation loss
    # rises from the first epoch on, so epoch 1 stays the best and training stops after patience.
    def train(epochs: int, early_stopping: EarlyStopping | None = None) -> tuple[nn.Linear, dict]:
        model = linear_model()
        history = fit(
            model,
            nn.MSELoss(),
            optim.SGD(model.parameters(), lr=0.1),
            DataLoader(line_data(), 64),
            DataLoader(line_data(slope=-2.0), 64),
            epochs=epochs,
            early_stopping=early_stopping,
            verbose=False,
        )
        return model, history

    after_one_epoch, _ = train(1)
    stopper = EarlyStopping(patience=2)
    model, history = train(20, stopper)
    assert history["epoch"] == [1, 2, 3]
    assert history["val_loss"][0] < history["val_loss"][1] < history["val_loss"][2]
    assert (stopper.best_epoch, stopper.stopped_epoch) == (1, 3)
    assert model.weight.item() == after_one_epoch.weight.item() != 0.0
    without_restoring = EarlyStopping(patience=2, restore_best_weights=False)
    model, _ = train(20, without_restoring)
    assert model.weight.item() > after_one_epoch.weight.item()


def test_early_stopping_min_delta_and_train_loss_monitor():
    stopper = EarlyStopping(patience=2, min_delta=0.1, monitor="train_loss")
    model = linear_model()
    # 0.95 and 0.92 are not 0.1 below the best (1.0): two epochs without improvement stop training
    assert [stopper.step(v, e, model) for e, v in enumerate([1.0, 0.95, 0.92], start=1)] == [False, False, True]
    assert stopper.best == 1.0 and stopper.stopped_epoch == 3
    assert stopper.step(0.5, 4, model) is False and stopper.best == 0.5 and stopper.wait == 0


def test_early_stopping_bad_arguments():
    with pytest.raises(ValueError, match="EarlyStopping: patience must be an int >= 1, got 0"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="min_delta must be a number >= 0, got -1"):
        EarlyStopping(min_delta=-1)
    with pytest.raises(ValueError, match="monitor must be 'val_loss' or 'train_loss', got 'accuracy'"):
        EarlyStopping(monitor="accuracy")


def test_fit_bad_arguments():
    model = linear_model()
    loader = DataLoader(line_data(), 8)
    sgd = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="fit: epochs must be an int >= 0, got -1"):
        fit(model, nn.MSELoss(), sgd, loader, epochs=-1)
    with pytest.raises(TypeError, match="fit: optimizer must be a tinygrad_course.optim.Optimizer, got str"):
        fit(model, nn.MSELoss(), "sgd", loader)
    with pytest.raises(ValueError, match="EarlyStopping\\(monitor='val_loss'\\) needs a val_loader"):
        fit(model, nn.MSELoss(), sgd, loader, early_stopping=EarlyStopping())
    with pytest.raises(ValueError, match="each batch must be a pair \\(input, target\\), got tuple of length 3"):
        fit(model, nn.MSELoss(), sgd, [(tc.zeros(1, 1), tc.zeros(1, 1), tc.zeros(1))])
    with pytest.raises(ValueError, match="the train_loader yielded no samples"):
        fit(model, nn.MSELoss(), sgd, DataLoader(line_data(4), 8, drop_last=True))


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_quietly(verbose, stream) -> None:
    model = linear_model()
    fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.1),
        DataLoader(line_data(), 16),
        epochs=2,
        verbose=verbose,
        stream=stream,
    )


def test_progress_is_silent_unless_a_terminal_or_asked():
    for verbose, stream in ((None, io.StringIO()), (False, FakeTerminal())):
        run_quietly(verbose, stream)
        assert stream.getvalue() == ""
    for verbose, stream in ((None, FakeTerminal()), (True, io.StringIO())):
        run_quietly(verbose, stream)
        assert "epoch 1/2" in stream.getvalue() and "epoch 2/2" in stream.getvalue()


def test_plain_progress_line_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    stream = io.StringIO()
    run_quietly(True, stream)
    lines = stream.getvalue().split("\n")
    assert lines[0].startswith("\repoch 1/2 [#####...............] 1/4 loss ")
    assert "\repoch 1/2 4/4 loss " in lines[0] and lines[1].startswith("\repoch 2/2")
    assert lines[-1] == ""  # each epoch ends its line


def test_tqdm_bar_when_installed():
    pytest.importorskip("tqdm")  # an optional extra: the plain line above covers its absence
    stream = io.StringIO()
    run_quietly(True, stream)
    assert "epoch 2/2: 100%" in stream.getvalue() and "4/4" in stream.getvalue()
