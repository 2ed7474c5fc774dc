"""The backprop viewer without a browser: captions that name inputs, the Jupyter repr, the page's controls."""

from __future__ import annotations

import html
import re

import pytest
from test_viz import mlp_loss

from tinygrad_course import viz

needs_renderer = pytest.mark.skipif(
    not (viz.dot_available() or viz.wasm_renderer()), reason="Graphviz's dot is not installed"
)


def test_captions_name_each_input_with_the_gradient_it_received():
    loss, net = mlp_loss()
    captions = viz.steps.step_captions(viz.flow_of(loss), net)
    assert len(captions) == 9
    assert captions[0].startswith("DivBackward received ‖∂C/∂out‖ = 1 → SumBackward #2: ‖g‖ = ")
    weights = [c for c in captions if "→ 0.weight: ‖g‖ = " in c]
    assert len(weights) == 1 and weights[0].startswith("MatMulBackward received")
    assert any("→ 2.bias: ‖g‖ = " in c for c in captions)
    assert not any("input (8, 3)" in c for c in captions)  # x needs no gradient: not listed
    unnamed = viz.steps.step_captions(viz.flow_of(loss))  # without params: leaves by shape
    assert any("→ input (3, 4): ‖g‖ = " in c for c in unnamed)


@needs_renderer
def test_viewer_shows_inline_in_jupyter_and_saves_the_same_page(tmp_path):
    loss, net = mlp_loss()
    viewer = viz.BackpropViewer(loss, net)
    assert len(viewer) == 9
    frame = viewer._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert html.unescape(srcdoc) == viewer.html
    path = viewer.save(tmp_path / "v.html")
    assert path.read_text(encoding="utf-8") == viewer.html
    for control in ('id="play"', 'id="next"', 'id="prev"', 'id="fit"', 'id="zoomin"', 'id="stage"'):
        assert control in viewer.html
    # every frame's SVG is sized by the page (scale to fit), not by Graphviz's points
    for head in re.findall(r"<svg[^>]*>", viewer.html):
        assert 'width="100%"' in head and 'height="100%"' in head and "viewBox=" in head
        assert not re.search(r'width="\d+pt"', head)
