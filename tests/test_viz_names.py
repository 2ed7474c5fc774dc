"""Any parameter or module name renders: `dot` never fails on quotes, backslashes, brackets or control characters."""

from __future__ import annotations

import pytest
from test_viz import StandIn

import tinygrad_course as tc
from tinygrad_course import viz
from tinygrad_course.viz import draw, style

NAMES = [
    'we"ird', "back\\slash", "trail\\", "<b>html</b>", "{brace}", "new\nline", "tab\tx", "nul\x00x", "ünï ✓",
    "a:b", "&amp;", "]", "[", "x;y", "\\N", "'q'", "bell\x07", "-->", '\\"', "a\rb", "\u2028", "",
]  # fmt: skip


class Scale(StandIn):
    def forward(self, x):
        return x * self.params["w"]


def graph_named(name: str):
    tc.manual_seed(0)
    inner = Scale({"w": tc.randn(2, requires_grad=True)})
    net = StandIn(children={name: inner})
    with tc.autograd.module_scope(net):
        loss = inner(tc.randn(2)).sum()
    return loss, inner, net


@pytest.mark.skipif(not viz.dot_available(), reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("text_labels", [False, True], ids=["html-labels", "text-labels"])
@pytest.mark.parametrize("name", NAMES, ids=[ascii(n) for n in NAMES])
def test_any_name_renders(name, text_labels, monkeypatch):
    monkeypatch.setattr(draw, "use_text_labels", lambda: text_labels)
    loss, inner, net = graph_named(name)
    for params in ({name: inner.params["w"]}, net):
        svg = viz.draw_graph(loss, params, flow=viz.flow_of(loss)).pipe(format="svg", encoding="utf-8")
        assert "<svg" in svg
        for frame in viz.backprop_frames(loss, params):
            frame.pipe(format="svg")


def test_escapes():
    assert style.printable("a\x00b\nc") == "a\\x00b\\x0ac"
    assert style.dot_text("trail\\") == "trail\\\\"
    assert style.html_text('<"[x]">') == "&lt;&quot;[x]&quot;&gt;" and style.html_text("]") == "&#93;"
