"""The speed paths of issue 18 keep PyTorch's semantics; a float64 training step does not page-fault.

Not timed: page faults are counted (getrusage's ru_minflt), and the buffer reuse is checked for
what PyTorch promises about ``.grad`` (identity, values, accumulation, no aliasing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn, optim

ROOT = Path(__file__).resolve().parents[1]

# 20 steady-state SGD steps of a float64 MLP whose arrays are above glibc's 128 KiB mmap
# threshold (W1 is 256×784×8 B = 1.6 MB), in a fresh process with glibc's default malloc.
_FAULTS_SCRIPT = textwrap.dedent(
    """
    import os, resource, sys
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    import numpy as np
    import tinygrad_course as tc
    from tinygrad_course import nn, optim
    from tinygrad_course.nn import functional as F
    rng = np.random.default_rng(0)
    x = tc.from_numpy(rng.standard_normal((128, 784)))
    y = tc.from_numpy(rng.integers(0, 10, 128))
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)).double()
    opt = optim.SGD(model.parameters(), lr=0.01)
    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    for _ in range(10):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        step()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and ru_minflt: Linux")
def test_float64_mlp_step_has_no_page_faults_in_steady_state():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = str(ROOT)
    env["OPENBLAS_NUM_THREADS"] = "1"  # the BLAS threads' own stacks are not what is measured
    done = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    per_step = float(done.stdout.split()[-1])
    assert per_step <= 10, f"{per_step} minor page faults per step (was ~900 before issue 18)"


def _mlp(dtype=tc.float64):
    tc.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)).to(dtype=dtype)


def _loss(model):
    tc.manual_seed(1)
    x = tc.randn(4, 6, dtype=tc.float64)
    return (model(x) ** 2).sum()


@pytest.mark.parametrize("zero", ["optimizer", "module"])
def test_zero_grad_keeps_the_grad_tensor_and_zeroes_it(zero):
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    _loss(model).backward()
    grads = [p.grad for p in model.parameters()]
    refs = [weakref.ref(g._array) for g in grads]  # (a reference would make zero_grad leave the array alone)
    (opt if zero == "optimizer" else model).zero_grad(set_to_none=False)
    for p, g, ref in zip(model.parameters(), grads, refs):
        assert p.grad is g  # PyTorch: the same .grad tensor, zeroed in place
        assert p.grad._array is ref()  # the same buffer: nothing allocated
        assert not p.grad._array.any()
    arrays = [p.grad._array for p in model.parameters()]
    # the arrays are distinct: zeroing one never touched another parameter's gradient
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)


def test_zero_grad_then_backward_gives_the_same_values_as_set_to_none():
    fresh, reused = _mlp(), _mlp()
    _loss(fresh).backward()
    _loss(reused).backward()
    _loss(reused).backward()
    for p, q in zip(fresh.parameters(), reused.parameters()):
        np.testing.assert_allclose(q.grad._array, 2 * p.grad._array, rtol=1e-12)  # two backwards accumulate
    optim.SGD(reused.parameters(), lr=0.1).zero_grad(set_to_none=False)
    _loss(reused).backward()
    for p, q in zip(fresh.parameters(), reused.parameters()):
        np.testing.assert_array_equal(q.grad._array, p.grad._array)


def test_zero_grad_leaves_memory_that_something_else_holds():
    a = tc.tensor([1.0, 2.0], requires_grad=True)
    b = tc.tensor([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward()
    kept = a.grad._array  # someone holds the array (a numpy view of the gradient)
    view = b.grad._array[:1]
    optim.SGD([a, b], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(kept, [3.0, 4.0])  # not written: a fresh array went to a.grad
    np.testing.assert_array_equal(view, [1.0])
    assert not a.grad._array.any() and not b.grad._array.any()
    shared = tc.tensor([5.0, 6.0])
    a.grad = shared
    b.grad = shared  # one Tensor as two .grads: zeroing stays PyTorch's (both see zeros)
    optim.SGD([a, b], lr=0.1).zero_grad(set_to_none=False)
    assert not a.grad._array.any() and not b.grad._array.any()


def test_plain_sgd_step_is_the_formula_and_reuses_no_gradient():
    model = _mlp()
    before = [p._array.copy() for p in model.parameters()]
    _loss(model).backward()
    grads = [p.grad._array.copy() for p in model.parameters()]
    optim.SGD(model.parameters(), lr=0.1).step()
    for p, w, g in zip(model.parameters(), before, grads):
        np.testing.assert_array_equal(p._array, w - 0.1 * g)
        np.testing.assert_array_equal(p.grad._array, g)  # the gradient is only read


def test_ops_under_no_grad_make_no_node_and_give_the_same_values():
    rng = np.random.default_rng(0)
    x = tc.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    c = tc.tensor(rng.standard_normal((3, 4)))
    with tc.no_grad():
        y = ((x * c + c - x).relu() ** 3).exp()
        z = x.sum(dim=0, keepdim=True)
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert not z.requires_grad and z.grad_fn is None
    want = np.exp(np.maximum(x._array * c._array + c._array - x._array, 0) ** 3)
    np.testing.assert_allclose(y._array, want, rtol=1e-12)
    with tc.no_grad():
        s = tc.tensor(2.0) * tc.tensor(3.0)  # 0-d: numpy's scalar result is wrapped as an array
    assert type(s._array) is np.ndarray and s.item() == 6.0
    with tc.no_grad(), pytest.raises(ValueError, match="mul: shapes"):
        tc.ones(2, 3) * tc.ones(4, 3)
    with tc.no_grad(), pytest.raises(ValueError, match="shapes"):
        tc.ones(2, 3).maximum(tc.ones(4, 3))
