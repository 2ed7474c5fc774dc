"""Mutation, PyTorch's way: in-place ops, the leaf rule, rebased histories, version counters,
`.data`, user Functions in PyTorch's form, leaf hooks, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import float64_leaf as leaf
from conftest import random_leaf

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")

MODIFIED = "modified by an inplace operation"


# ----------------------------------------------------------------- in-place ops and the leaf rule
def test_in_place_operators_keep_the_object_and_change_its_values() -> None:
    x = tc.tensor([1.0, 2.0, 4.0])
    same = x
    x += 1
    x -= tc.tensor([0.5, 0.5, 0.5])
    x *= 2
    x /= 4
    x **= 2
    assert x is same
    np.testing.assert_allclose(x.numpy(), ((np.array([1.0, 2.0, 4.0]) + 0.5) * 2 / 4) ** 2)
    y = tc.tensor([[1.0, 2.0], [3.0, 4.0]])
    y @= tc.eye(2) * 2
    assert y.tolist() == [[2.0, 4.0], [6.0, 8.0]]


def test_underscore_methods_compute_what_their_names_say() -> None:
    a = np.array([-1.5, 0.25, 2.0])
    cases = {
        "neg_": -a, "abs_": np.abs(a), "exp_": np.exp(a), "sigmoid_": 1 / (1 + np.exp(-a)),
        "tanh_": np.tanh(a), "relu_": np.maximum(a, 0),
    }
    for name, want in cases.items():
        t = tc.tensor(a)
        assert getattr(t, name)() is t
        np.testing.assert_allclose(t.numpy(), want, rtol=1e-15)
    b = np.array([0.5, 2.0, 4.0])
    for name, want in {"log_": np.log(b), "sqrt_": np.sqrt(b)}.items():
        t = tc.tensor(b)
        np.testing.assert_allclose(getattr(t, name)().numpy(), want, rtol=1e-15)
    assert tc.tensor(a).clamp_(-1.0, 1.0).tolist() == [-1.0, 0.25, 1.0]
    assert tc.tensor(a).clamp_min_(0.0).tolist() == [0.0, 0.25, 2.0]
    assert tc.tensor(a).clamp_max_(0.0).tolist() == [-1.5, 0.0, 0.0]
    assert tc.tensor(a).add_(tc.tensor(a), alpha=2).tolist() == (3 * a).tolist()
    assert tc.tensor(a).sub_(1.0, alpha=0.5).tolist() == (a - 0.5).tolist()
    assert tc.tensor(a).pow_(2).tolist() == (a**2).tolist()
    assert tc.tensor(a).masked_fill_(tc.tensor([True, False, True]), 7.0).tolist() == [7.0, 0.25, 7.0]
    assert tc.zeros(2, 3).index_fill_(1, tc.tensor([0, 2]), 5.0).tolist() == [[5, 0, 5], [5, 0, 5]]
    got = tc.zeros(3, 2).index_add_(0, tc.tensor([0, 2, 0]), tc.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    assert got.tolist() == [[6.0, 8.0], [0.0, 0.0], [3.0, 4.0]]
    scattered = tc.zeros(2, 3).scatter_(1, tc.tensor([[2], [0]]), tc.tensor([[1.0], [2.0]]))
    assert scattered.tolist() == [[0.0, 0.0, 1.0], [2.0, 0.0, 0.0]]


def test_random_fills_are_seeded_and_in_range() -> None:
    tc.manual_seed(0)
    u = tc.zeros(1000).uniform_(-2.0, 3.0)
    assert -2.0 <= u.numpy().min() and u.numpy().max() < 3.0 and abs(u.numpy().mean() - 0.5) < 0.1
    n = tc.zeros(4000).normal_(1.0, 2.0)
    assert abs(n.numpy().mean() - 1.0) < 0.1 and abs(n.numpy().std() - 2.0) < 0.1
    assert set(np.unique(tc.zeros(100).bernoulli_(0.3).numpy())) <= {0.0, 1.0}
    assert tc.zeros(100, dtype=tc.int64).random_(0, 5).numpy().max() <= 4
    assert tc.zeros(1000).exponential_(2.0).numpy().min() >= 0.0
    tc.manual_seed(0)
    np.testing.assert_array_equal(tc.zeros(1000).uniform_(-2.0, 3.0).numpy(), u.numpy())


def test_a_leaf_that_requires_grad_refuses_in_place_ops_in_grad_mode() -> None:
    w = leaf([1.0, 2.0])
    for write in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.fill_(3.0), lambda: w.copy_(tc.ones(2)),
                  lambda: w.mul_(2), lambda: w.__setitem__(0, 5.0), lambda: w.uniform_()):
        with pytest.raises(RuntimeError, match=r"a leaf Variable that requires grad is being used in an in-place operation \(shape \(2,\)\)"):
            write()
    assert w.tolist() == [1.0, 2.0] and w._version == 0


def test_manual_sgd_under_no_grad_keeps_identity_requires_grad_and_grad() -> None:
    w = leaf([1.0, -2.0])
    (w * w).sum().backward()
    grad = w.grad
    with tc.no_grad():
        w -= 0.1 * w.grad
    assert w.requires_grad and w.is_leaf and w.grad is grad
    assert w.tolist() == pytest.approx([0.8, -1.6]) and w._version == 1


def test_the_pytorch_polynomial_loop_trains_over_model_parameters() -> None:
    # pytorch.org "polynomial_nn": a Linear(3, 1) on (x, x², x³), manual SGD over parameters()
    x = tc.linspace(-np.pi, np.pi, 200, dtype=tc.float64)
    y = x.sin()
    xx = tc.stack([x, x**2, x**3], 1)
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1, dtype=tc.float64), nn.Flatten(0, 1))
    loss_fn = nn.MSELoss(reduction="sum")
    losses = []
    for _ in range(300):
        loss = loss_fn(model(xx), y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with tc.no_grad():
            for param in model.parameters():
                param -= 1e-6 * param.grad
    assert losses[-1] < 0.05 * losses[0]
    # the same numbers as the update written on the arrays: an independent numpy fit
    a = np.stack([x.numpy(), x.numpy() ** 2, x.numpy() ** 3], 1)
    tc.manual_seed(0)
    ref = nn.Linear(3, 1, dtype=tc.float64)
    w, b = ref.weight.detach().numpy().copy(), ref.bias.detach().numpy().copy()
    for _ in range(300):
        r = a @ w.T + b - y.numpy()[:, None]
        w, b = w - 1e-6 * 2 * r.T @ a, b - 1e-6 * 2 * r.sum(0)
    np.testing.assert_allclose(model[0].weight.detach().numpy(), w, rtol=1e-10)


def test_p_data_updates_train_and_do_not_bump_the_version() -> None:
    w = leaf([1.0, -2.0])
    y = (w * w).sum()
    y.backward(retain_graph=True)
    w.data -= 0.1 * w.grad.data
    assert w.tolist() == pytest.approx([0.8, -1.6]) and w._version == 0
    assert isinstance(w.data, tc.Tensor) and not w.data.requires_grad
    y.backward()  # the escape hatch: no version error (the gradient uses the new values, as in PyTorch)
    assert w.grad.tolist() == pytest.approx([2.0 + 1.6, -4.0 - 3.2])
    w.data = tc.tensor([5.0, 6.0, 7.0], dtype=tc.float64)
    assert w.shape == (3,) and w.requires_grad and w.data.norm().item() == pytest.approx(np.sqrt(110.0))


# ----------------------------------------------------------------- rebased histories
def test_in_place_on_a_non_leaf_rebases_its_history() -> None:
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    y += 1
    assert y.grad_fn.name() == "AddBackward" and not y.is_leaf
    y[0] = 0.0
    y.mul_(x)
    y.sum().backward()
    # y = (2x + 1) x except y₀ = 0 · x₀ (its first factor is the constant 0): ∂/∂x = 4x + 1, and 0
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 9.0, 13.0])
    # y.mul_(y) saves y as the other factor and then overwrites it: PyTorch refuses that too
    y = x * 2
    y.mul_(y)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


def test_setitem_with_a_value_that_requires_grad_records_the_write() -> None:
    w = leaf([3.0, 4.0])
    x = tc.zeros(4, dtype=tc.float64)
    x[1:3] = w * 2
    assert x.requires_grad and x.grad_fn.name() == "SetItemBackward"
    (x * tc.tensor([1.0, 10.0, 100.0, 1000.0], dtype=tc.float64)).sum().backward()
    assert w.grad.tolist() == [20.0, 200.0]


def test_copy_and_fill_from_tensors_that_require_grad_pass_the_gradient() -> None:
    b = leaf([1.0, 2.0])
    a = tc.zeros(3, 2, dtype=tc.float64)
    a.copy_(b)  # broadcast (2,) → (3, 2)
    a.sum().backward()
    assert b.grad.tolist() == [3.0, 3.0]
    s = leaf(2.0)
    c = tc.zeros(4, dtype=tc.float64).fill_(s)
    (c * c).sum().backward()
    assert s.grad.item() == 16.0


@pytest.mark.parametrize("write", ["add_", "mul_", "setitem", "masked_fill_", "exp_", "clamp_"])
def test_gradcheck_and_gradgradcheck_through_in_place_ops(write: str) -> None:
    def f(x: tc.Tensor, v: tc.Tensor) -> tc.Tensor:
        y = x * 1.5 + 0.0  # a non-leaf to write into
        if write == "add_":
            y.add_(v)
        elif write == "mul_":
            y.mul_(v)
        elif write == "setitem":
            y[1] = v[0] * v[1]
        elif write == "masked_fill_":
            y.masked_fill_(tc.tensor([True, False, True]), v.sum())
        elif write == "exp_":
            y.exp_()
            y = y * v.sum()
        else:
            y.clamp_(-0.5, 0.9)
            y = y * v.sum()
        return y

    x = random_leaf(3, seed=1)
    v = random_leaf(3, seed=2) if write != "setitem" else random_leaf(2, seed=2)
    if write == "masked_fill_" or write == "exp_" or write == "clamp_":
        v = random_leaf(2, seed=2)
    assert tc.gradcheck(f, (x, v))
    assert tc.gradgradcheck(f, (x, v))


def test_in_place_write_into_a_view_while_recording_is_refused() -> None:
    y = leaf([1.0, 2.0, 3.0]) * 2
    with pytest.raises(RuntimeError, match=r"add_: in-place write into a view of another tensor \(shape \(2,\)\)"):
        y[0:2].add_(1.0)


def test_in_place_results_that_do_not_fit_are_refused() -> None:
    x = tc.zeros(3)
    with pytest.raises(RuntimeError, match=r"add_: output with shape \(3,\) doesn't match the broadcast shape \(2, 3\)"):
        x.add_(tc.ones(2, 3))
    n = tc.zeros(3, dtype=tc.int64)
    with pytest.raises(RuntimeError, match="div_: result type float32 can't be cast to the desired output type int64"):
        n /= 2
    e = tc.zeros(1).expand(3)
    with pytest.raises(RuntimeError, match="read-only view"):
        e.fill_(1.0)


def test_inplace_flags_of_activations_and_dropout() -> None:
    x = tc.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    z = tc.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(z) is z and z.tolist() == [0.0, 2.0]
    q = tc.tensor([-1.0, 2.0])
    assert F.leaky_relu(q, 0.5, inplace=True) is q and q.tolist() == [-0.5, 2.0]
    tc.manual_seed(0)
    d = tc.ones(1000)
    assert F.dropout(d, 0.5, training=True, inplace=True) is d
    assert set(np.unique(d.numpy())) == {0.0, 2.0}
    # in a graph: relu_ on a non-leaf differentiates like relu
    w = leaf([-1.0, 3.0])
    h = w * 2
    nn.ReLU(inplace=True)(h).sum().backward()
    assert w.grad.tolist() == [0.0, 2.0]


# ----------------------------------------------------------------- version counters
def _saved_then(write) -> None:
    a = leaf([1.0, 2.0])
    y = a * 2
    z = (y * y).sum()  # saves y
    with tc.no_grad():
        write(y)
    z.backward()


@pytest.mark.parametrize("name,write", [
    ("setitem", lambda y: y.__setitem__(0, 100.0)),
    ("zero_", lambda y: y.zero_()),
    ("fill_", lambda y: y.fill_(3.0)),
    ("copy_", lambda y: y.copy_(tc.ones(2, dtype=tc.float64))),
    ("a view", lambda y: y[0:1].add_(5.0)),
    ("+=", lambda y: y.__iadd__(1.0)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_saved_value_written_in_place_makes_backward_raise(name, write) -> None:
    with pytest.raises(RuntimeError, match=rf"{MODIFIED}: \[float64 \[2\]\], saved value 0 of MulBackward, is at version 1; expected version 0"):
        _saved_then(write)


def test_an_optimizer_step_or_a_load_between_forward_and_backward_raises() -> None:
    tc.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = tc.optim.SGD(model.parameters(), lr=0.1)
    x = tc.randn(4, 3)
    model(x).sum().backward()
    loss = model(x).sum()
    opt.step()
    with pytest.raises(RuntimeError, match=rf"{MODIFIED}: \[float32 \[2, 3\]\], saved value 1 of LinearBackward"):
        loss.backward()
    loss = model(x).sum()
    model.load_state_dict(nn.Linear(3, 2).state_dict())
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_a_saved_output_written_in_place_and_a_stale_view_raise() -> None:
    x = leaf([1.0, 2.0, 3.0])
    y = x.exp()
    y.add_(1.0)  # exp saved its output
    with pytest.raises(RuntimeError, match=rf"{MODIFIED}: \[float64 \[3\]\], its output of ExpBackward, is at version 1"):
        y.sum().backward()
    y = x * 2
    v = y[0:2]
    y.mul_(3.0)  # v's values changed under its history
    with pytest.raises(RuntimeError, match=rf"{MODIFIED}: \[float64 \[2\]\], its output of GetItemBackward"):
        v.sum().backward()


def test_values_read_from_the_context_are_version_checked_too() -> None:
    # relu keeps its output for the mask, where keeps its condition: writes to them are refused
    x = leaf([-1.0, 2.0])
    h = x * 1.0
    r = h.relu()
    r.add_(5.0)
    with pytest.raises(RuntimeError, match=rf"{MODIFIED}: \[float64 \[2\]\], its output of ReluBackward"):
        r.sum().backward()
    cond = tc.tensor([True, False])
    w = tc.where(cond, x, 0.0)
    cond.fill_(True)
    with pytest.raises(RuntimeError, match=rf"{MODIFIED}: \[bool \[2\]\], saved value 0 of WhereBackward"):
        w.sum().backward()


def test_versions_are_shared_by_views_and_detach_and_count_every_write() -> None:
    t = tc.zeros(4)
    view, det = t[1:3], t.detach()
    assert t._version == view._version == det._version == 0
    view.add_(1.0)
    det.mul_(2.0)
    t.zero_()
    assert t._version == view._version == det._version == 3
    t.data.add_(1.0)  # through .data: not counted
    assert t._version == 3 and t.tolist() == [1.0] * 4


def test_no_error_when_nothing_saved_was_written() -> None:
    x = leaf([1.0, 2.0])
    y = x * 3
    z = y + 1  # Add saves nothing
    with tc.no_grad():
        y.zero_()  # y is not saved by anything z needs
    z.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


# ----------------------------------------------------------------- Functions in PyTorch's form
class LegendrePolynomial3(tc.Function):
    """pytorch.org's example: P₃(x) = ½(5x³ − 3x)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


def test_the_tutorial_legendre_fit_runs_unchanged() -> None:
    dtype = tc.float64
    x = tc.linspace(-np.pi, np.pi, 2000, dtype=dtype)
    y = x.sin()
    a = tc.full((), 0.0, dtype=dtype, requires_grad=True)
    b = tc.full((), -1.0, dtype=dtype, requires_grad=True)
    c = tc.full((), 0.0, dtype=dtype, requires_grad=True)
    d = tc.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    first = None
    for _ in range(2000):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        first = loss.item() if first is None else first
        loss.backward()
        with tc.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    assert loss.item() < 0.3 * first
    # the same loop written out in numpy: P₃(t) = ½(5t³ − 3t), P₃′(t) = 1.5(5t² − 1)
    xs, ys, (pa, pb, pc, pd) = x.numpy(), y.numpy(), (0.0, -1.0, 0.0, 0.3)
    for _ in range(2000):
        t = pc + pd * xs
        r = 2 * (pa + pb * 0.5 * (5 * t**3 - 3 * t) - ys)
        dp = 1.5 * (5 * t**2 - 1)
        ga, gb, gc, gd = r.sum(), (r * 0.5 * (5 * t**3 - 3 * t)).sum(), (r * pb * dp).sum(), (r * pb * dp * xs).sum()
        pa, pb, pc, pd = pa - learning_rate * ga, pb - learning_rate * gb, pc - learning_rate * gc, pd - learning_rate * gd
    np.testing.assert_allclose([a.item(), b.item(), c.item(), d.item()], [pa, pb, pc, pd], rtol=1e-9, atol=1e-15)
    v = leaf([0.3, -0.7])
    assert tc.gradcheck(LegendrePolynomial3.apply, (v,)) and tc.gradgradcheck(LegendrePolynomial3.apply, (v,))


def test_function_context_protocol() -> None:
    class ScaleBy(tc.Function):
        @staticmethod
        def forward(ctx, x, k):  # a non-Tensor argument
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            assert ctx.needs_input_grad == (True, False)
            return g * ctx.k, None

    x = leaf([1.0, 2.0])
    y = ScaleBy.apply(x, 3.0)
    assert y.grad_fn.name() == "ScaleByBackward"
    assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"
    assert y.grad_fn.next_functions[0][0].variable is x and y.grad_fn.next_functions[1] == (None, 0)
    z = ScaleBy.apply(y, 2.0)
    assert z.grad_fn.next_functions[0][0] is y.grad_fn
    z.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]

    class ArgMax(tc.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.argmax()
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, g):
            return None

    assert not ArgMax.apply(x).requires_grad


def test_mark_dirty_function_writes_its_input_in_place() -> None:
    class AddOne_(tc.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1.0)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = leaf([1.0, 2.0])
    y = x * 3
    out = AddOne_.apply(y)
    assert out is y and y.grad_fn.name() == "AddOne_Backward" and y.tolist() == [4.0, 7.0]
    (y * y).sum().backward()
    assert x.grad.tolist() == [2 * 4.0 * 3, 2 * 7.0 * 3]
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place operation"):
        AddOne_.apply(leaf([1.0]))


def test_once_differentiable_refuses_a_second_derivative() -> None:
    class Square(tc.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @tc.autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return tc.tensor(2 * x.detach().numpy() * g.detach().numpy())  # numpy inside: not differentiable

    x = leaf([1.5])
    Square.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0]
    # As in PyTorch: when the incoming gradient requires grad, the result is marked, and a
    # second backward through it raises (with a constant seed it simply does not require grad).
    v = leaf([2.0])
    (gx,) = tc.grad(Square.apply(x), x, grad_outputs=v, create_graph=True)
    assert gx.tolist() == [6.0] and gx.requires_grad
    with pytest.raises(RuntimeError, match="Square.backward is once_differentiable: it cannot be differentiated again"):
        gx.sum().backward()


# ----------------------------------------------------------------- hooks and threads
def test_a_leaf_hook_runs_once_on_the_summed_gradient() -> None:
    x = leaf([3.0])
    seen = []
    x.register_hook(lambda g: (seen.append(g.item()), tc.ones_like(g))[1])
    (x * x).sum().backward()
    assert seen == [6.0] and x.grad.tolist() == [1.0]


def test_training_threads_and_an_inference_thread_do_not_disturb_each_other() -> None:
    def run(model: nn.Module, x: tc.Tensor, y: tc.Tensor, steps: int) -> np.ndarray:
        opt = tc.optim.SGD(model.parameters(), lr=0.05)
        for _ in range(steps):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            opt.step()
        return np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])

    def fresh(seed: int) -> tuple[nn.Module, tc.Tensor, tc.Tensor]:
        tc.manual_seed(seed)
        return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)), tc.randn(32, 4), tc.randn(32, 1)

    jobs = [fresh(1), fresh(2)]
    alone = [run(*fresh(1), 200), run(*fresh(2), 200)]
    results: list = [None, None]
    stop = threading.Event()

    def inference() -> None:
        model, x, _ = fresh(3)
        while not stop.is_set():
            with tc.no_grad():
                model(x)

    def trainer(k: int) -> None:
        results[k] = run(*jobs[k], 200)

    threads = [threading.Thread(target=trainer, args=(k,)) for k in (0, 1)]
    reader = threading.Thread(target=inference)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    reader.join(10)
    for got, want in zip(results, alone):
        np.testing.assert_array_equal(got, want)
