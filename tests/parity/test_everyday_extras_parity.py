"""Everyday training-script names against PyTorch: the new lr schedulers (lr and momentum sequences),
ParameterList/ParameterDict, trunc_normal_/orthogonal_/eye_/dirac_, parameters_to_vector."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn, optim
from tinygrad_course.optim import lr_scheduler as S

torch = pytest.importorskip("torch")
TS = torch.optim.lr_scheduler
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of:UserWarning")


def _opts(kind: str, lrs=(0.1, 0.02)):
    """The same optimizer in both libraries, one param group per lr."""
    ours = [tc.zeros(2, requires_grad=True) for _ in lrs]
    theirs = [torch.zeros(2, requires_grad=True) for _ in lrs]
    if kind == "sgd":
        return (optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ours, lrs)], lr=0.1, momentum=0.9),
                torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(theirs, lrs)], lr=0.1, momentum=0.9))
    return (optim.Adam([{"params": [p], "lr": lr} for p, lr in zip(ours, lrs)], lr=0.1),
            torch.optim.Adam([{"params": [p], "lr": lr} for p, lr in zip(theirs, lrs)], lr=0.1))


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _run(make_ours, make_theirs, steps, kind="sgd", check_momentum=False, lrs=(0.1, 0.02)):
    o, t = _opts(kind, lrs)
    so, st = make_ours(o), make_theirs(t)
    for k in range(steps + 1):
        assert so.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12, abs=1e-15), k
        assert [g["lr"] for g in o.param_groups] == pytest.approx([g["lr"] for g in t.param_groups], abs=1e-15)
        if check_momentum:
            assert _momenta(o) == pytest.approx(_momenta(t), rel=1e-12, abs=1e-15), k
        if k < steps:
            o.step()
            t.step()
            so.step()
            st.step()
    return so, st, o, t


ONECYCLE = [
    dict(max_lr=1.0, total_steps=50),
    dict(max_lr=[0.5, 2.0], total_steps=37, pct_start=0.25, anneal_strategy="linear"),
    dict(max_lr=0.3, epochs=4, steps_per_epoch=9, three_phase=True),
    dict(max_lr=0.3, total_steps=20, three_phase=True, anneal_strategy="linear", div_factor=10.0,
         final_div_factor=100.0, base_momentum=[0.8, 0.7], max_momentum=0.99),
    dict(max_lr=0.1, total_steps=13, cycle_momentum=False),
    dict(max_lr=0.1, total_steps=10, pct_start=0.0),
    dict(max_lr=0.1, total_steps=10, pct_start=1.0, anneal_strategy="linear"),
]


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("kw", ONECYCLE)
def test_onecycle_lr_and_momentum_match_torch(kind, kw):
    steps = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
    _run(lambda o: S.OneCycleLR(o, **kw), lambda t: TS.OneCycleLR(t, **kw), steps - 1, kind,
         check_momentum=kw.get("cycle_momentum", True))


def test_onecycle_step_past_total_raises_like_torch():
    o, t = _opts("sgd")
    so, st = S.OneCycleLR(o, max_lr=0.1, total_steps=3), TS.OneCycleLR(t, max_lr=0.1, total_steps=3)
    for _ in range(3):
        so.step()
        st.step()
    with pytest.raises(ValueError) as theirs:
        st.step()
    with pytest.raises(ValueError) as ours:
        so.step()
    assert str(ours.value) == str(theirs.value) == "Tried to step 4 times. The specified number of total steps is 3"


SIMPLE = [
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=7)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=4)),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.25, total_iters=3)),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=8, power=2.0)),
    ("PolynomialLR", dict(total_iters=6, power=0.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.001)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=[0.01, 0.001], max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn=lambda x: 0.5**x, scale_mode="iterations")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, cycle_momentum=False)),
]


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize(("name", "kw"), SIMPLE)
def test_schedules_match_torch(name, kw, kind):
    _run(lambda o: getattr(S, name)(o, **kw), lambda t: getattr(TS, name)(t, **kw), 40, kind,
         check_momentum=name == "CyclicLR" and kw.get("cycle_momentum", True))


@pytest.mark.parametrize(("T_0", "T_mult"), [(4, 1), (3, 2), (2, 3)])
def test_warm_restarts_fractional_epochs_match_torch(T_0, T_mult):
    o, t = _opts("sgd")
    so, st = S.CosineAnnealingWarmRestarts(o, T_0, T_mult, 0.01), TS.CosineAnnealingWarmRestarts(t, T_0, T_mult, 0.01)
    for epoch in range(12):
        for i in range(5):
            e = epoch + i / 5
            so.step(e)
            st.step(e)
            assert so.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12)
            assert (so.last_epoch, so.T_i) == (st.last_epoch, st.T_i)
            assert so.T_cur == pytest.approx(st.T_cur, rel=1e-12, abs=1e-15)


def _seq(mod, opt):
    return mod.SequentialLR(
        opt,
        [mod.LinearLR(opt, 0.1, total_iters=4), mod.ExponentialLR(opt, 0.9), mod.CosineAnnealingLR(opt, 6, 0.001),
         mod.StepLR(opt, 2, 0.5)],
        milestones=[4, 9, 20],
    )


def _chain(mod, opt):
    return mod.ChainedScheduler([mod.ConstantLR(opt, 0.5, 3), mod.ExponentialLR(opt, 0.95),
                                 mod.MultiStepLR(opt, [5, 9, 9], 0.3)])


@pytest.mark.parametrize("build", [_seq, _chain])
def test_composite_schedulers_match_torch(build):
    _run(lambda o: build(S, o), lambda t: build(TS, t), 30)


def test_sequential_with_polynomial_and_constant_match_torch():
    def build(mod, opt):
        return mod.SequentialLR(opt, [mod.ConstantLR(opt, 0.2, 3), mod.PolynomialLR(opt, 10, 2.0)], [5])

    _run(lambda o: build(S, o), lambda t: build(TS, t), 25)


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("OneCycleLR", dict(max_lr=0.1, total_steps=30)),
        ("LinearLR", dict(start_factor=0.2, total_iters=9)),
        ("ConstantLR", dict(factor=0.5, total_iters=7)),
        ("PolynomialLR", dict(total_iters=12, power=1.5)),
        ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2)),
        ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2")),
    ],
)
def test_state_dict_round_trip_continues_like_torch(name, kw):
    o, t = _opts("sgd")
    so, st = getattr(S, name)(o, **kw), getattr(TS, name)(t, **kw)
    for _ in range(5):
        so.step()
        st.step()
    state = so.state_dict()
    o2, _ = _opts("sgd")
    fresh = getattr(S, name)(o2, **kw)
    fresh.load_state_dict(state)
    o2.load_state_dict(o.state_dict())
    assert fresh.state_dict() == state
    for k in range(15):
        fresh.step()
        st.step()
        assert fresh.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12), k
    # every key we save is one torch saves too
    assert set(state) <= set(TS.__dict__[name].state_dict(st)) | {"_scale_fn_custom"}


@pytest.mark.parametrize(
    ("call"),
    [
        lambda m, o: m.OneCycleLR(o, max_lr=0.1),
        lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=0),
        lambda m, o: m.OneCycleLR(o, max_lr=0.1, epochs=0, steps_per_epoch=2),
        lambda m, o: m.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=-1),
        lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=5, pct_start=1),
        lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=5, anneal_strategy="exp"),
        lambda m, o: m.OneCycleLR(o, max_lr=[0.1], total_steps=5),
        lambda m, o: m.LinearLR(o, start_factor=0.0),
        lambda m, o: m.LinearLR(o, end_factor=1.5),
        lambda m, o: m.ConstantLR(o, factor=1.5),
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="x"),
        lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="sine"),
        lambda m, o: m.SequentialLR(o, [], []),
        lambda m, o: m.SequentialLR(o, [m.ConstantLR(o), m.ConstantLR(o)], []),
        lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], []),
        lambda m, o: m.ChainedScheduler([]),
    ],
)
def test_errors_match_torch(call):
    o, t = _opts("sgd")
    with pytest.raises(Exception) as theirs:
        call(TS, t)
    with pytest.raises(type(theirs.value)) as ours:
        call(S, o)
    assert str(ours.value) == str(theirs.value)


def test_cycle_momentum_needs_momentum_like_torch():
    o = optim.Adagrad([tc.zeros(2, requires_grad=True)], lr=0.1)
    t = torch.optim.Adagrad([torch.zeros(2, requires_grad=True)], lr=0.1)
    for mod, opt in ((TS, t), (S, o)):
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1 with `cycle_momentum`"):
            mod.OneCycleLR(opt, max_lr=0.1, total_steps=5)
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            mod.CyclicLR(opt, 0.01, 0.1)


def test_warm_restarts_negative_epoch_raises_like_torch():
    o, _ = _opts("sgd")
    with pytest.raises(ValueError, match="^Expected non-negative epoch, but got -1$"):
        S.CosineAnnealingWarmRestarts(o, 2).step(-1)


# ---------------------------------------------------------------- ParameterList / ParameterDict


def _pair(n=3):
    arrays = [np.arange(k + 1, 2 * k + 3, dtype=np.float32).reshape(1, -1) for k in range(n)]
    return [tc.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def test_parameter_list_behaves_like_torch():
    ours_t, theirs_t = _pair(3)
    ours, theirs = nn.ParameterList(ours_t[:2]), torch.nn.ParameterList(theirs_t[:2])
    ours.append(ours_t[2])
    theirs.append(theirs_t[2])
    ours.extend([nn.Parameter(tc.ones(2))])
    theirs.extend([torch.nn.Parameter(torch.ones(2))])
    assert len(ours) == len(theirs) == 4
    assert all(isinstance(p, nn.Parameter) for p in ours)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["0", "1", "2", "3"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    np.testing.assert_array_equal(ours[-1].detach().numpy(), theirs[-1].detach().numpy())
    assert isinstance(ours[1:3], nn.ParameterList) and len(ours[1:3]) == 2 and ours[1:3][0] is ours[1]
    assert repr(ours) == repr(theirs)
    ours[0] = tc.zeros(3)
    theirs[0] = torch.zeros(3)
    assert isinstance(ours[0], nn.Parameter)
    assert repr(ours) == repr(theirs)
    assert repr(nn.ParameterList([ours_t[0]])) == repr(torch.nn.ParameterList([theirs_t[0]]))
    assert repr(nn.ParameterList()) == repr(torch.nn.ParameterList()) == "ParameterList()"


def test_parameter_list_in_a_model_trains_and_converts():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([tc.ones(2), tc.ones(3)])

    class TM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = torch.nn.ParameterList([torch.ones(2), torch.ones(3)])

    m, tm = M(), TM()
    assert list(m.state_dict()) == list(tm.state_dict()) == ["ws.0", "ws.1"]
    loss = (m.ws[0] * 2).sum() + (m.ws[1] ** 2).sum()
    loss.backward()
    np.testing.assert_array_equal(m.ws[1].grad.numpy(), [2.0, 2.0, 2.0])
    m.zero_grad()
    assert m.ws[1].grad is None
    m.to(tc.float64)
    assert m.ws[0].dtype == tc.float64
    assert repr(m).replace("float64", "float32").split("\n")[1:] == repr(tm).split("\n")[1:]
    m2 = M()
    m2.load_state_dict({k: tc.tensor(v.numpy()) for k, v in tm.state_dict().items()})


def test_parameter_list_errors_like_torch():
    for mod, t in ((nn, tc.ones(2)), (torch.nn, torch.ones(2))):
        pl = mod.ParameterList([t])
        with pytest.raises(IndexError, match="^index 1 is out of range$"):
            pl[1]
        with pytest.raises(TypeError, match="^ParameterList.extend should be called with an iterable, but got "):
            pl.extend(t)
        with pytest.raises(RuntimeError, match="^ParameterList should not be called.$"):
            pl(t)


def test_parameter_dict_behaves_like_torch():
    ours_t, theirs_t = _pair(3)
    ours = nn.ParameterDict({"b": ours_t[0], "a": ours_t[1]})  # a plain dict is sorted, as torch
    theirs = torch.nn.ParameterDict({"b": theirs_t[0], "a": theirs_t[1]})
    ours["c"] = ours_t[2]
    theirs["c"] = theirs_t[2]
    ours.update([("z", tc.ones(2))])
    theirs.update([("z", torch.ones(2))])
    assert list(ours.keys()) == list(theirs.keys()) == ["a", "b", "c", "z"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(isinstance(v, nn.Parameter) for v in ours.values())
    assert [k for k, _ in ours.items()] == list(theirs) == list(ours)
    assert "a" in ours and "q" not in ours and len(ours) == 4
    assert repr(ours) == repr(theirs)
    assert ours.get("q", 5) == 5 and ours.get("a") is ours["a"]
    assert ours.pop("z") is not None and theirs.pop("z") is not None
    assert ours.popitem()[0] == theirs.popitem()[0] == "c"
    assert list(ours.keys()) == list(theirs.keys())
    merged = ours | nn.ParameterDict({"y": tc.zeros(1)})
    assert list(merged.keys()) == ["a", "b", "y"] and list(ours.keys()) == ["a", "b"]
    del ours["a"]
    assert list(ours.state_dict()) == ["b"]
    ours.clear()
    assert len(ours) == 0 and list(ours.parameters()) == []


def test_parameter_dict_errors_like_torch():
    for mod, t in ((nn, tc.ones(2)), (torch.nn, torch.ones(2))):
        pd = mod.ParameterDict()
        with pytest.raises(TypeError) as e:
            pd[1] = t
        assert str(e.value).startswith("Index given to ParameterDict cannot be used as a key as it is not a string")
        with pytest.raises(TypeError, match="^ParametersDict.update should be called with an iterable"):
            pd.update(3)
        with pytest.raises(ValueError, match="^ParameterDict update sequence element #0 has length 3; 2 is required$"):
            pd.update([("a", t, 1)])
        with pytest.raises(KeyError):
            pd["a.b"] = t


# ---------------------------------------------------------------- init


@pytest.mark.parametrize(("mean", "std", "a", "b"), [(0.0, 1.0, -2.0, 2.0), (1.0, 0.5, 0.5, 3.0), (0.0, 0.02, -0.04, 0.04)])
def test_trunc_normal_bounds_and_statistics(mean, std, a, b):
    tc.manual_seed(0)
    w = nn.init.trunc_normal_(tc.empty(200, 250, dtype=tc.float64), mean, std, a, b)
    x = w.numpy()
    assert x.min() >= a and x.max() <= b
    t = torch.empty(200, 250, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.trunc_normal_(t, mean, std, a, b)
    y = t.numpy()
    # the truncated normal's exact mean and std
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    Z = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    m = mean + std * (phi(alpha) - phi(beta)) / Z
    s = std * math.sqrt(1 + (alpha * phi(alpha) - beta * phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z) ** 2)
    for v in (x, y):
        assert v.mean() == pytest.approx(m, abs=4 * s / math.sqrt(v.size))
        assert v.std() == pytest.approx(s, rel=0.02)


def test_trunc_normal_generator_and_warning():
    g = tc.Generator().manual_seed(3)
    a = nn.init.trunc_normal_(tc.empty(50), generator=g).numpy()
    b = nn.init.trunc_normal_(tc.empty(50), generator=tc.Generator().manual_seed(3)).numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\] in nn.init.trunc_normal_"):
        nn.init.trunc_normal_(tc.empty(5), mean=10.0)


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (8, 2), (4, 3, 2, 2), (6, 2, 3)])
def test_orthogonal_is_orthonormal(shape):
    tc.manual_seed(1)
    w = nn.init.orthogonal_(tc.empty(*shape, dtype=tc.float64), gain=2.0).numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-12)
    t = torch.nn.init.orthogonal_(torch.empty(*shape, dtype=torch.float64), gain=2.0).reshape(shape[0], -1).numpy()
    gram_t = t @ t.T if rows <= cols else t.T @ t
    np.testing.assert_allclose(gram_t, gram, atol=1e-12)


def test_orthogonal_sign_correction_is_torchs():
    # same Gaussian input -> the same Q as torch's QR + sign(diag R)
    g = np.random.default_rng(5).standard_normal((6, 4))
    q, r = torch.linalg.qr(torch.tensor(g))
    want = (q * torch.diag(r).sign()).numpy()
    gen = tc.Generator().manual_seed(9)
    state = gen.get_state()
    w = nn.init.orthogonal_(tc.empty(6, 4, dtype=tc.float64), generator=gen).numpy()
    flat = tc.randn(6, 4, dtype=tc.float64, generator=tc.Generator().set_state(state)).numpy()
    q2, r2 = torch.linalg.qr(torch.tensor(flat))
    np.testing.assert_allclose(w, (q2 * torch.diag(r2).sign()).numpy(), atol=1e-12)
    assert np.all(np.diag(want.T @ g) > 0)


def test_eye_and_dirac_equal_torch():
    for shape in [(3, 5), (4, 2)]:
        np.testing.assert_array_equal(nn.init.eye_(tc.empty(*shape)).numpy(), torch.nn.init.eye_(torch.empty(*shape)).numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 3, 2, 5), 1), ((4, 1, 3), 4)]:
        np.testing.assert_array_equal(
            nn.init.dirac_(tc.empty(*shape), groups).numpy(), torch.nn.init.dirac_(torch.empty(*shape), groups).numpy()
        )
    for f, arg, msg in [
        (lambda m, t: m.eye_(t), (2, 2, 2), "Only tensors with 2 dimensions are supported"),
        (lambda m, t: m.dirac_(t), (2, 2), "Only tensors with 3, 4, or 5 dimensions are supported"),
        (lambda m, t: m.dirac_(t, 2), (3, 2, 2), "dim 0 must be divisible by groups"),
        (lambda m, t: m.orthogonal_(t), (4,), "Only tensors with 2 or more dimensions are supported"),
    ]:
        for mod, lib in ((torch.nn.init, torch), (nn.init, tc)):
            with pytest.raises(ValueError, match=f"^{msg}$"):
                f(mod, lib.empty(*arg))


# ---------------------------------------------------------------- parameters_to_vector


def test_parameters_to_vector_round_trip_like_torch():
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    v = nn.utils.parameters_to_vector(m.parameters())
    tv = torch.nn.utils.parameters_to_vector(tm.parameters())
    np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
    new = np.arange(v.shape[0], dtype=np.float32) / 10
    nn.utils.vector_to_parameters(tc.tensor(new), m.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tm.parameters())
    for (k, a), (k2, b) in zip(m.state_dict().items(), tm.state_dict().items()):
        assert k == k2 and a.shape == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(m.parameters()).detach().numpy(), new)
    # differentiable, as torch's view + cat
    (nn.utils.parameters_to_vector(m.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(m[0].weight.grad.numpy(), 2 * m[0].weight.detach().numpy())


def test_vector_to_parameters_errors_like_torch():
    for lib, utils in ((torch, torch.nn.utils), (tc, nn.utils)):
        p = lib.zeros(2, 2)
        with pytest.raises(TypeError, match="^expected torch.Tensor, but got: list$"):
            utils.vector_to_parameters([1.0], [p])
        with pytest.raises(TypeError, match="^expected torch.Tensor, but got: numpy.ndarray$"):
            utils.vector_to_parameters(np.zeros(4), [p])
        with pytest.raises(RuntimeError, match=r"^shape '\[2, 2\]' is invalid for input of size 3$"):
            utils.vector_to_parameters(lib.zeros(3), [p])
        with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
            utils.parameters_to_vector([])
