"""The backward engine: accumulation, retain_grad, hooks, retain_graph, create_graph, grad(),
grad modes, freeing of the graph, very deep graphs, anomaly detection and custom Functions."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import autograd

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")


def leaf(values, dtype=tc.float64) -> tc.Tensor:
    return tc.tensor(values, dtype=dtype, requires_grad=True)


def test_a_plus_a_accumulates() -> None:
    a = leaf([1.0, -2.0])
    (a + a).sum().backward()
    np.testing.assert_array_equal(a.grad._array, [2.0, 2.0])


def test_diamond_graph() -> None:
    # x → (x², 3x) → product: d/dx (x² · 3x) = 9x²
    x = leaf([2.0, -1.0])
    a, b = x * x, x * 3
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad._array, 9 * x._array**2)


def test_reused_intermediate_node() -> None:
    x = leaf([0.5, 1.5])
    y = x.exp()
    (y * y + y).sum().backward()
    np.testing.assert_allclose(x.grad._array, 2 * np.exp(2 * x._array) + np.exp(x._array))


def test_grad_accumulates_across_backward_calls() -> None:
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad._array, [3 + 2, 3 + 4])


def test_backward_on_leaf_and_with_gradient() -> None:
    x = leaf([1.0, 2.0])
    x.backward(tc.tensor([3.0, 4.0], dtype=tc.float64))
    np.testing.assert_array_equal(x.grad._array, [3.0, 4.0])
    y = leaf([[1.0, 2.0], [3.0, 4.0]])
    (y * 2).backward(gradient=tc.ones(2, 2, dtype=tc.float64))
    np.testing.assert_array_equal(y.grad._array, np.full((2, 2), 2.0))


def test_broadcast_gradients_are_summed_to_input_shape() -> None:
    a = leaf([[1.0], [2.0], [3.0]])  # (3, 1)
    b = leaf([10.0, 20.0, 30.0, 40.0])  # (4,)
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad._array, [[100.0], [100.0], [100.0]])
    np.testing.assert_array_equal(b.grad._array, [6.0, 6.0, 6.0, 6.0])


def test_float32_stays_float32() -> None:
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    assert x.dtype == np.float32
    y = (x * 2.5 + 1).exp().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_retain_grad_on_intermediate() -> None:
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    z = (y * y).sum()
    z.backward()
    np.testing.assert_array_equal(y.grad._array, 2 * y._array)
    assert (x * 2).grad is None  # non-leaves get no grad unless asked


def test_hook_on_leaf_can_replace_gradient() -> None:
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g._array.copy()))
    remove = x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(seen[0], [2.0, 2.0])
    np.testing.assert_array_equal(x.grad._array, [20.0, 20.0])
    remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad._array, [2.0, 2.0])


def test_hook_on_intermediate_changes_upstream_gradient() -> None:
    x = leaf([1.0, 2.0])
    y = x * x
    y.register_hook(lambda g: g * 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._array, x._array)  # 2x · 0.5


def test_second_backward_raises_and_names_retain_graph() -> None:
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_second_backward_raises_even_without_saved_tensors() -> None:
    x = leaf([1.0, 2.0])
    y = (x + 1).sum()  # Add and Sum save no tensors
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_second_backward() -> None:
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad._array, 4 * x._array)


def test_create_graph_gives_higher_derivatives() -> None:
    x = leaf([0.3, -1.2])
    y = (x**3).sum()
    (g,) = tc.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g._array, 3 * x._array**2)
    (h,) = tc.grad(g.sum(), x, create_graph=True)
    np.testing.assert_allclose(h._array, 6 * x._array)
    (t,) = tc.grad(h.sum(), x)
    np.testing.assert_allclose(t._array, [6.0, 6.0])


def test_backward_create_graph_then_backward_through_grad() -> None:
    x = leaf([0.5, 2.0])
    (x.sin() * x).sum().backward(create_graph=True)
    g = x.grad  # sin x + x cos x, with a graph
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad._array, 2 * np.cos(x._array) - x._array * np.sin(x._array))


def test_grad_does_not_touch_dot_grad_and_handles_many_inputs() -> None:
    x, y = leaf([1.0, 2.0]), leaf([3.0])
    z = (x * y).sum()
    gx, gy = tc.grad(z, [x, y])
    np.testing.assert_array_equal(gx._array, [3.0, 3.0])
    np.testing.assert_array_equal(gy._array, [3.0])
    assert x.grad is None and y.grad is None


def test_grad_with_respect_to_intermediate() -> None:
    x = leaf([1.0, 2.0])
    h = x * 2
    out = (h * h).sum()
    (gh,) = tc.grad(out, h)
    np.testing.assert_array_equal(gh._array, 2 * h._array)


def test_grad_unused_input() -> None:
    x, y = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        tc.grad((x * 2).sum(), [x, y], retain_graph=True)
    gx, gy = tc.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None and gx.item() == 2.0


def test_no_grad_and_enable_grad() -> None:
    x = leaf([1.0])
    with tc.no_grad():
        y = x * 2
        assert not tc.is_grad_enabled()
        with tc.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @tc.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert tc.is_grad_enabled()


def test_detach_shares_data_and_cuts_graph() -> None:
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * d).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad._array, d._array)


def test_comparisons_and_argmax_do_not_require_grad() -> None:
    x = leaf([1.0, 3.0, 2.0])
    for t in (x > 1, x == 3, x.argmax(), x.argmin(0), x.sign(), x.max(0).indices):
        assert not t.requires_grad


def test_dropped_graph_is_freed_by_reference_counting() -> None:
    gc.disable()
    try:
        x = leaf(np.ones(3))
        h1 = x * 2
        h2 = h1.exp()
        h3 = h2.sum()
        refs = [weakref.ref(t) for t in (h1, h2, h3)]
        node_refs = [weakref.ref(t.grad_fn) for t in (h1, h2, h3)]
        h3.backward()
        del h1, h2, h3
        assert all(r() is None for r in refs + node_refs)
    finally:
        gc.enable()


def test_graph_with_saved_output_is_freed_without_gc() -> None:
    gc.disable()
    try:
        x = leaf(np.ones(3))
        y = x.sigmoid()  # saves its output
        z = y.tanh().sum()
        ry, rz, rn = weakref.ref(y), weakref.ref(z), weakref.ref(y.grad_fn)
        del y, z
        assert ry() is None and rz() is None and rn() is None
    finally:
        gc.enable()


def test_deep_chain_backpropagates_without_recursion() -> None:
    x = tc.tensor([1.0], requires_grad=True, dtype=tc.float64)
    y = x
    for _ in range(100_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad._array, [1.0001**100_000], rtol=1e-9)
    del y  # freeing 100k nodes by reference counting must not overflow the C stack either


def test_topological_order_visits_each_node_once_before_its_inputs() -> None:
    x = leaf([1.0])
    a = x * 2
    b = a + a
    c = b * a
    order = autograd.topological_order([c.grad_fn])
    names = [n.name() for n in order]
    assert names == ["MulBackward", "AddBackward", "MulBackward"]
    assert order[-1] is a.grad_fn


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_detect_anomaly_names_the_op_and_the_forward_line() -> None:
    x = leaf([0.0, 1.0])
    with tc.detect_anomaly():
        y = x.sqrt()  # d√x/dx = inf at 0
        with pytest.raises(RuntimeError, match=r"SqrtBackward.*inf.*\n.*forward call.*\n(.|\n)*test_core_engine.py"):
            y.sum().backward()


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_detect_anomaly_nan() -> None:
    x = leaf([-1.0])
    with tc.detect_anomaly():
        y = x.log()  # forward gives nan already; its gradient 1/x is finite — then multiply by nan
        z = y * y
        with pytest.raises(RuntimeError, match="MulBackward.*nan"):
            z.sum().backward()


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_without_detect_anomaly_nan_flows_silently() -> None:
    x = leaf([0.0])
    x.sqrt().sum().backward()
    assert np.isinf(x.grad._array[0])


class Cube(tc.Function):
    """y = x³; ∂c/∂x = 3x² · g."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class ScaledExp(tc.Function):
    """y = a·eˣ with the output saved; ∂c/∂x = g·y, ∂c/∂a = g·eˣ."""

    @staticmethod
    def forward(ctx, x, a):
        e = x.exp()  # forward gets Tensors (recorded nothing), as in PyTorch
        out = a * e
        ctx.save_for_backward(out, a)
        return out

    @staticmethod
    def backward(ctx, g):
        out, a = ctx.saved_tensors
        return g * out, g * out / a


def test_user_defined_function() -> None:
    x = leaf([0.5, -1.0, 2.0])
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    assert tc.gradcheck(Cube.apply, (x,))
    assert tc.gradgradcheck(Cube.apply, (x,))
    a = leaf([1.5])
    assert tc.gradcheck(ScaledExp.apply, (x, a))
    assert tc.gradgradcheck(ScaledExp.apply, (x, a))


class WrongCount(tc.Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g


def test_backward_returning_wrong_number_of_grads_is_explained() -> None:
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="WrongCountBackward: backward returned 1 gradients for 2 inputs"):
        WrongCount.apply(x, x).sum().backward()


def test_gradcheck_reports_input_element_and_values() -> None:
    class BadSquare(tc.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2x

    x = leaf([1.0, 2.0])
    with pytest.raises(tc.GradcheckError, match=r"input 0 .*element \(0,\).*analytical .*1\.0.* numerical .*2\.0"):
        tc.gradcheck(BadSquare.apply, (x,))
    assert tc.gradcheck(BadSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_requires_float64() -> None:
    x = tc.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="float32.*needs float64"):
        tc.gradcheck(lambda t: t * 2, (x,))
    with pytest.raises(ValueError, match="no input requires grad"):
        tc.gradcheck(lambda t: t * 2, (tc.tensor([1.0], dtype=tc.float64),))


def test_record_backward_reports_order_and_edge_gradients() -> None:
    x = leaf([1.0, 2.0])
    y = (x * 3).exp().sum()
    with autograd.record_backward() as rec:
        y.backward()
    assert [n.name() for n, _, _ in rec.steps] == ["SumBackward", "ExpBackward", "MulBackward"]
    node, g_out, g_in = rec.steps[2]
    np.testing.assert_allclose(g_in[0]._array, 3 * np.exp(3 * x._array))
    assert rec.order()[id(y.grad_fn)] == 1


def test_leaf_gradients_never_share_memory_and_are_writable() -> None:
    # Add hands the same gradient to both inputs, and Sum's backward is a read-only broadcast
    # view: .grad must still be each leaf's own, writable array (optimizers update it in place).
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward()
    assert not np.shares_memory(x.grad._array, y.grad._array)
    x.grad._array *= 10
    np.testing.assert_array_equal(y.grad._array, [1.0, 1.0])
    assert x.grad._array.flags.writeable


def test_gradients_sharing_memory_through_views_are_copied() -> None:
    # Reshape's backward gives a view of the same gradient Add hands to `a`.
    a, b = leaf([1.0, 2.0, 3.0, 4.0]), leaf([[1.0, 2.0], [3.0, 4.0]])
    (a + b.reshape(4)).sum().backward()
    assert not np.shares_memory(a.grad._array, b.grad._array)
    seed = tc.tensor([1.0, 1.0], dtype=tc.float64)
    x = leaf([0.0, 0.0])
    x.backward(seed)
    x.grad._array += 1
    np.testing.assert_array_equal(seed._array, [1.0, 1.0])  # the caller's seed is untouched


@pytest.mark.fast_engine_only
def test_large_gradients_are_not_copied_needlessly() -> None:
    w = leaf(np.ones((3, 4)))
    x = tc.tensor(np.ones((2, 3)), dtype=tc.float64)
    y = x @ w
    # MatMul's gradient for w is a fresh array: it becomes w.grad as it is, uncopied
    with autograd.record_backward() as rec:
        y.sum().backward()
    g_seen = rec.steps[-1][2][1]
    assert np.shares_memory(w.grad._array, g_seen._array)
