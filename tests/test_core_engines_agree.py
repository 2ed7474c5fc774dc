"""The two engines: selecting them, and the same numbers from both on every op with an array path."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from conftest import random_leaf

import tinygrad_course as tc
from tinygrad_course import autograd, nn
from tinygrad_course.autograd.function import Function
from tinygrad_course.nn import functional as F
from tinygrad_course.ops import conv, elementwise, fused


def test_set_engine_switches_and_get_engine_tells(engine) -> None:
    assert autograd.get_engine() == engine
    other = "reference" if engine == "fast" else "fast"
    autograd.set_engine(other)
    try:
        assert autograd.get_engine() == other
    finally:
        autograd.set_engine(engine)


def test_unknown_engine_is_refused_with_the_accepted_names() -> None:
    with pytest.raises(ValueError, match=r"set_engine: unknown engine 'slow'; accepted: 'fast', 'reference'"):
        autograd.set_engine("slow")


@pytest.mark.parametrize("name", ["reference", "fast"])
def test_environment_variable_selects_the_engine_at_import(name: str) -> None:
    code = "import tinygrad_course as tc; print(tc.autograd.get_engine())"
    env = {**os.environ, "TINYGRAD_COURSE_ENGINE": name}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.strip() == name, done.stderr


def test_a_graph_recorded_by_one_engine_backpropagates_on_the_other() -> None:
    x = random_leaf(3, 4, seed=1)
    autograd.set_engine("reference")
    try:
        y = (x.exp() * x).sum()
    finally:
        autograd.set_engine("fast")
    y.backward()
    np.testing.assert_allclose(x.grad._array, np.exp(x._array) * (1 + x._array), rtol=1e-14)


def array_backward_ops() -> list[type[Function]]:
    """Every op class of ops/ whose backward also runs on numpy arrays."""
    found = []
    for module in (elementwise, fused, conv):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Function) and value.array_backward:
                found.append(value)
    return found


def inputs_for(op: type[Function]) -> tuple[tuple[tc.Tensor, ...], dict]:
    """Arguments that exercise `op` (positive values where its domain needs them)."""
    rng = np.random.default_rng(7)
    pos = lambda *s: tc.tensor(rng.uniform(0.5, 2.0, s), requires_grad=True)  # noqa: E731
    if op is fused.Linear:
        return (random_leaf(5, 3, seed=1), random_leaf(4, 3, seed=2), random_leaf(4, seed=3)), {}
    if op is fused.SoftmaxCrossEntropy:
        return (random_leaf(5, 4, seed=4),), {"labels": np.array([0, 3, 1, 1, 2]), "scale": 0.2}
    if op is conv.Conv2d:
        return (random_leaf(2, 2, 6, 5, seed=5), random_leaf(4, 1, 3, 2, seed=6), random_leaf(4, seed=7)), \
            {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}
    if op.broadcasts:
        return (pos(3, 4), pos(1, 4)), {}
    return (pos(3, 4),), {}


def test_every_op_with_an_array_path_is_covered() -> None:
    names = {op.__name__ for op in array_backward_ops()}
    assert names >= {"Add", "Sub", "Mul", "Div", "Exp", "Log", "Relu", "Linear", "SoftmaxCrossEntropy", "Conv2d"}


@pytest.mark.parametrize("op", array_backward_ops(), ids=lambda op: op.__name__)
def test_arrays_tensors_and_the_reference_engine_give_the_same_gradients(op: type[Function]) -> None:
    # The fast engine's plain backward runs the formula on arrays, create_graph runs it on
    # Tensors, and the reference engine always on Tensors: the same numbers, bit for bit or nearly.
    args, kwargs = inputs_for(op)
    weights = tc.tensor(np.random.default_rng(8).standard_normal(op.apply(*args, **kwargs).shape))

    def gradients(create_graph: bool) -> list[np.ndarray]:
        out = (op.apply(*args, **kwargs) * weights).sum()
        return [g._array for g in tc.grad(out, args, create_graph=create_graph)]

    on_arrays = gradients(create_graph=False)
    on_tensors = gradients(create_graph=True)
    autograd.set_engine("reference")
    try:
        reference = gradients(create_graph=False)
    finally:
        autograd.set_engine("fast")
    for a, t, r in zip(on_arrays, on_tensors, reference):
        assert type(a) is np.ndarray and a.dtype == t.dtype == r.dtype == np.float64
        np.testing.assert_allclose(a, t, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(a, r, rtol=1e-13, atol=1e-15)
    assert tc.gradcheck(lambda *xs: op.apply(*xs, **kwargs), args)


def test_a_training_run_is_the_same_on_both_engines() -> None:
    def train(name: str) -> list[np.ndarray]:
        autograd.set_engine(name)
        tc.set_default_dtype(tc.float64)
        try:
            tc.manual_seed(3)
            model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
            opt = tc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            x, y = tc.randn(8, 1, 6, 6, dtype=tc.float64), tc.randint(0, 5, (8,))
            for _ in range(5):
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
            return [p._array.copy() for p in model.parameters()]
        finally:
            tc.set_default_dtype(tc.float32)
            autograd.set_engine("fast")

    for a, b in zip(train("fast"), train("reference")):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_grad_mode_is_per_thread() -> None:
    # A no_grad block in one thread must not stop another thread from recording its graph.
    inside, recorded = threading.Event(), []

    def quiet() -> None:
        with tc.no_grad():
            inside.set()
            finished.wait(10)

    def busy() -> None:
        inside.wait(10)
        x = tc.tensor([1.0, 2.0], requires_grad=True)
        recorded.append((x * x).sum().requires_grad)

    finished = threading.Event()
    a, b = threading.Thread(target=quiet), threading.Thread(target=busy)
    a.start()
    b.start()
    b.join(10)
    finished.set()
    a.join(10)
    assert recorded == [True] and tc.is_grad_enabled()


def test_set_grad_enabled_as_call_context_and_decorator() -> None:
    with tc.set_grad_enabled(False):
        assert not tc.is_grad_enabled()
    assert tc.is_grad_enabled()

    @tc.set_grad_enabled(False)
    def f() -> bool:
        return tc.is_grad_enabled()

    assert tc.is_grad_enabled() and f() is False and tc.is_grad_enabled()
    tc.set_grad_enabled(False)
    try:
        assert not tc.is_grad_enabled()
    finally:
        tc.set_grad_enabled(True)
    assert tc.is_grad_enabled()
