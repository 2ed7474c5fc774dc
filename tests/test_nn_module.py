"""nn.Module, Parameter and the containers: registration, traversal, modes, state_dict, repr."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import autograd, nn, serialization


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.act = nn.ReLU()

    def forward(self, x: tc.Tensor) -> tc.Tensor:
        return self.act(self.bn(self.fc(x)))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(4, 2), nn.Tanh())
        self.scale = nn.Parameter(tc.ones(1))
        self.register_buffer("offset", tc.zeros(2))
        self.register_buffer("scratch", tc.zeros(5), persistent=False)

    def forward(self, x: tc.Tensor) -> tc.Tensor:
        return self.head(self.block(x)) * self.scale + self.offset


def test_parameter_is_a_leaf_tensor_that_requires_grad_and_ops_return_plain_tensors():
    p = nn.Parameter(tc.tensor([1.0, 2.0]))
    assert isinstance(p, tc.Tensor) and p.requires_grad and p.is_leaf
    out = p * 2
    assert type(out) is tc.Tensor and type(p.detach()) is tc.Tensor
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.]")
    t = tc.tensor([3.0])
    assert nn.Parameter(t)._array is t._array  # shares the array, like PyTorch
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype"):
        nn.Parameter(tc.tensor([1, 2]))


def test_named_parameters_buffers_and_children_use_dotted_pytorch_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "block.fc.weight", "block.fc.bias", "block.bn.weight", "block.bn.bias",
        "head.0.weight", "head.0.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "offset", "scratch", "block.bn.running_mean", "block.bn.running_var", "block.bn.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.bn", "block.act", "head", "head.0", "head.1"]
    assert len(list(net.modules())) == 8 and len(list(net.children())) == 2
    assert len(list(net.parameters())) == 7
    assert [n for n, _ in net.block.named_parameters(prefix="block")] == ["block.fc.weight", "block.fc.bias", "block.bn.weight", "block.bn.bias"]
    assert len(list(net.parameters(recurse=False))) == 1


def test_shared_parameters_and_modules_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.parameters())) == 2
    # state_dict keeps every path, as PyTorch does
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_setattr_registers_reassigns_and_deletes():
    m = nn.Module()
    m.w = nn.Parameter(tc.zeros(2))
    m.sub = nn.Linear(1, 1)
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"] and m.plain == 3
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'w'"):
        m.w = tc.zeros(2)
    with pytest.raises(TypeError, match="cannot assign int as child module 'sub'"):
        m.sub = 1
    m.w = None
    assert list(m.parameters()) == list(m.sub.parameters())
    del m.sub
    assert m._modules == {} and not hasattr(m, "sub")
    m.register_buffer("b", tc.ones(1))
    with pytest.raises(TypeError, match="cannot assign str as buffer 'b'"):
        m.b = "x"
    with pytest.raises(KeyError, match="can't contain '.'"):
        m.register_parameter("a.b", None)


def test_assigning_before_super_init_says_to_call_it():
    class Bad(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(1, 1)
            super().__init__()

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Bad()


def test_train_eval_zero_grad_apply_and_requires_grad():
    net = Net()
    assert net.training and net.block.bn.training
    assert net.eval() is net and not net.block.bn.training and not net.head[1].training
    net.train()
    assert all(m.training for m in net.modules())
    net(tc.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad._array == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Tanh", "Linear", "Sequential", "ReLU", "BatchNorm1d", "Linear", "Block", "Net"]
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_call_runs_forward_inside_module_scope():
    net = nn.Sequential(nn.Linear(2, 2))
    out = net(tc.ones(1, 2))
    assert out.grad_fn._modules == (net, net[0])
    assert autograd.graph.module_stack == []


def test_state_dict_keys_match_pytorch_and_roundtrip_reproduces_outputs_exactly():
    tc.manual_seed(0)
    net = Net()
    net(tc.randn(8, 3))  # moves BatchNorm's running statistics
    state = net.state_dict()
    assert list(state) == [
        "scale", "offset", "block.fc.weight", "block.fc.bias", "block.bn.weight", "block.bn.bias",
        "block.bn.running_mean", "block.bn.running_var", "block.bn.num_batches_tracked",
        "head.0.weight", "head.0.bias",
    ]
    assert state["block.bn.num_batches_tracked"].dtype == np.int64 and state["block.bn.num_batches_tracked"].item() == 1
    x = tc.randn(5, 3)
    net.eval()
    expected = net(x)._array.copy()
    tc.manual_seed(99)
    other = Net().eval()
    assert not np.array_equal(other(x)._array, expected)
    saved = {k: v._array.copy() for k, v in state.items()}
    result = other.load_state_dict(saved)
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(other(x)._array, expected)
    assert other.block.bn.num_batches_tracked.item() == 1


def test_state_dict_round_trip_through_save_and_load(tmp_path):
    tc.manual_seed(3)
    net = Net()
    net(tc.randn(6, 3))
    net.eval()
    x = tc.randn(4, 3)
    path = tmp_path / "net.ckpt"
    serialization.save(net.state_dict(), path)
    tc.manual_seed(4)
    other = Net().eval()
    other.load_state_dict(serialization.load(path))
    np.testing.assert_array_equal(other(x)._array, net(x)._array)


def test_load_state_dict_strict_lists_every_problem_and_loads_nothing():
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = net[0].weight._array.copy()
    state = {k: v._array.copy() for k, v in net.state_dict().items()}
    state["0.weight"] = np.zeros((5, 3), dtype=np.float32)
    state["1.running_var"] = np.zeros(7, dtype=np.float32)
    del state["0.bias"], state["1.num_batches_tracked"]
    state["extra.weight"] = np.zeros(1)
    state["1.bias"] = np.full(2, 9.0, dtype=np.float32)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(state)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "0.bias", "1.num_batches_tracked".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert "size mismatch for 0.weight: copying a param with shape (5, 3) from checkpoint, the shape in current model is (2, 3)." in msg
    assert "size mismatch for 1.running_var: copying a param with shape (7,) from checkpoint, the shape in current model is (2,)." in msg
    assert "nothing was loaded" in msg
    np.testing.assert_array_equal(net[0].weight._array, before)
    assert np.all(net[1].bias._array == 0)


def test_load_state_dict_non_strict_returns_missing_and_unexpected_keys():
    net = nn.Sequential(nn.Linear(3, 2))
    result = net.load_state_dict({"0.weight": np.ones((2, 3)), "foo": np.zeros(1)}, strict=False)
    assert isinstance(result, nn.IncompatibleKeys)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["foo"]
    assert np.all(net[0].weight._array == 1) and net[0].weight.dtype == np.float32
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        net.load_state_dict({"0.weight": np.ones((3, 3))}, strict=False)
    with pytest.raises(TypeError, match="expected a dict of tensors, got list"):
        net.load_state_dict([1, 2])


def test_repr_is_pytorch_style_and_nested():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.1), nn.Linear(3, 1, bias=False)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1, inplace=False)\n"
        "    (1): Linear(in_features=3, out_features=1, bias=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.BatchNorm2d(4)) == "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert repr(nn.Conv2d(1, 8, 3, padding=1)) == "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"


def test_sequential_indexing_slicing_and_ordered_dict():
    from collections import OrderedDict

    a, b, c = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c and len(seq) == 3 and list(seq) == [a, b, c]
    assert list(seq[1:]) == [b, c]
    with pytest.raises(IndexError, match="index 3 is out of range for length 3"):
        seq[3]
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    x = tc.randn(4, 2)
    np.testing.assert_allclose(seq(x)._array, c(b(a(x)))._array)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    with pytest.raises(TypeError, match="argument 0 is a int, not an nn.Module"):
        nn.Sequential(1)


def test_module_list_and_module_dict_register_their_items():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    holder = nn.Module()
    holder.layers = layers
    assert [n for n, _ in holder.named_parameters()][:2] == ["layers.0.weight", "layers.0.bias"]
    assert len(layers) == 3 and layers[-1] is list(layers)[2]
    del layers[0]
    assert list(layers._modules) == ["0", "1"]
    layers.insert(0, nn.ReLU())
    assert isinstance(layers[0], nn.ReLU) and len(layers) == 3
    d = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert d.keys() == ["enc", "dec"] and "enc" in d and len(d) == 2
    assert [n for n, _ in d.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    d.pop("enc")
    assert d.keys() == ["dec"]
    with pytest.raises(KeyError, match="no module 'enc'"):
        d["enc"]


def test_forward_missing_says_so():
    with pytest.raises(NotImplementedError, match='Module \\[Module\\] is missing the required "forward" function'):
        nn.Module()(1)
