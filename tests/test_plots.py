"""Every experiment plot teaches: a title, labelled axes, a legend naming every series, no series
hidden under another (distinct linestyle/marker pairs, no two identical lines), error bars where
the JSON has errors, T_c marked. Rendered with matplotlib's Agg backend from short real runs."""

from __future__ import annotations

import itertools
import pathlib

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the plots need matplotlib (pip install -e .[examples])")
matplotlib.use("Agg")

from tinygrad_course.lessons.experiments import backprop, common, ising, optimizers, overfitting  # noqa: E402


def describe(fig) -> dict:
    """What a reader sees: per axes, its labels, legend texts and drawn lines (data and style)."""
    legends = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    axes = []
    for ax in fig.axes:
        legend = ax.get_legend()
        lines = [
            {
                "label": line.get_label(),
                "xy": np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)]),
                "style": (line.get_linestyle(), line.get_marker(), matplotlib.colors.to_hex(line.get_color())),
            }
            for line in ax.get_lines()
        ]
        axes.append(
            {
                "title": ax.get_title(),
                "xlabel": ax.get_xlabel(),
                "ylabel": ax.get_ylabel(),
                "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
                "lines": lines,
                "images": len(ax.get_images()),
                "errorbars": sum(type(c).__name__ == "ErrorbarContainer" for c in ax.containers),
            }
        )
    return {"suptitle": fig._suptitle.get_text() if fig._suptitle else "", "legends": legends, "axes": axes}


@pytest.fixture
def figures(monkeypatch):
    """Collects every figure an experiment saves, by file name."""
    seen: dict[str, dict] = {}
    original = common.save_figure

    def collect(fig, path, files, **kwargs):
        seen[pathlib.Path(path).name] = describe(fig)
        original(fig, path, files, **kwargs)

    for module in (backprop, ising, optimizers, overfitting):
        monkeypatch.setattr(module, "save_figure", collect)
    return seen


def check_teaches(name: str, fig: dict) -> None:
    # one legend may serve several panels that share their series (as overfitting_fits does)
    legends = set(fig["legends"]).union(*(ax["legend"] for ax in fig["axes"]))
    for k, ax in enumerate(fig["axes"]):
        where = f"{name}, axes {k}"
        assert ax["title"] or fig["suptitle"], f"{where}: no title"
        if ax["images"]:
            continue  # a snapshot: checked by its own test
        assert ax["xlabel"] and ax["ylabel"], f"{where}: unlabelled axis"
        series = [line for line in ax["lines"] if not line["label"].startswith("_")]
        for line in series:
            assert line["label"] in legends, f"{where}: {line['label']!r} is not in a legend"
        drawn = [line for line in series if line["xy"].shape[0] > 1]
        styles = [line["style"][:2] for line in drawn]
        assert len(set(styles)) == len(styles), f"{where}: two series share a linestyle and marker: {styles}"
        for a, b in itertools.combinations(ax["lines"], 2):
            same = a["xy"].shape == b["xy"].shape and np.array_equal(a["xy"], b["xy"], equal_nan=True)
            assert not (same and a["style"] == b["style"]), f"{where}: {a['label']!r} and {b['label']!r} are identical"


def test_overfitting_and_backprop_plots(figures, tmp_path):
    overfitting.run(tmp_path / "o", quick=True)
    backprop.run(tmp_path / "b", quick=True)
    assert set(figures) == {"overfitting_fits.png", "overfitting_mse.png", "backprop.png"}
    for name, fig in figures.items():
        check_teaches(name, fig)
    fits = figures["overfitting_fits.png"]["axes"]
    assert [ax["title"] for ax in fits] == ["N_train = 10", "N_train = 100", "N_train = 1000"]
    assert {"degree 1", "degree 3", "degree 10", "truth y = 2x", "training data"} <= set(fits[0]["legend"])
    train, test = figures["overfitting_mse.png"]["axes"]
    assert train["legend"] == ["degree 1", "degree 3", "degree 10"]
    assert "noise floor Var(s) = 1" in test["legend"] and any("weight decay" in t for t in test["legend"])


def test_optimizer_plots(figures, tmp_path):
    paths, valley, moons = {}, {}, {}
    for name in optimizers.NAMES:
        noise = 0.0 if name == "gd" else optimizers.VALLEY_NOISE
        paths[name], valley[name] = optimizers.descend_valley(optimizers.VALLEY_OPTIMIZERS[name], 200, noise, 0)
        moons[name] = optimizers.train_moons(optimizers.MOONS_OPTIMIZERS[name], 32, 4, 0)
    tmp_path.mkdir(exist_ok=True)
    optimizers._plot(common.pyplot(), paths, valley, moons, tmp_path, [])
    for name, fig in figures.items():
        check_teaches(name, fig)
    trajectories, costs = figures["optimizers_valley.png"]["axes"]
    for ax in (trajectories, costs):
        assert set(optimizers.NAMES) <= set(ax["legend"])
    assert "minimum (1, 1)" in trajectories["legend"] and "start" in trajectories["legend"]
    assert set(optimizers.NAMES) <= set(figures["optimizers_two_moons.png"]["axes"][0]["legend"])


def fake_curve(L: int, rng) -> dict:
    """A phase curve like the real one: p̄(T) falling through ½ a little above T_c, sharper for larger L."""
    t = ising.EVAL_TEMPERATURES
    centre = ising.TC_EXACT + 0.4 / L
    p = 1 / (1 + np.exp((t - centre) * L / 1.5)) + rng.normal(0, 0.01, t.size)
    spins = {float(T): np.sign(rng.normal(0.5 if T < ising.TC_EXACT else 0, 1, (L, L))) for T in t[::10]}
    return {
        "L": L,
        "p_ordered": np.clip(p, 0, 1),
        "tc": ising.crossing(t, p),
        "tc_error": 0.02 / L**0.5,
        "examples": spins,
    }


def test_ising_plots_mark_tc_with_error_bars(figures, tmp_path):
    rng = np.random.default_rng(0)
    curves = [fake_curve(L, rng) for L in (8, 16, 32)]
    fit = ising.extrapolate([8, 16, 32], [c["tc"] for c in curves], [c["tc_error"] for c in curves])
    ising._plot(common.pyplot(), curves, fit, tmp_path, [])
    assert set(figures) == {"ising_phases.png", "ising_configurations.png", "ising_finite_size.png"}
    for name, fig in figures.items():
        check_teaches(name, fig)
    (phases,) = figures["ising_phases.png"]["axes"]
    assert phases["errorbars"] == 3  # each crossing with its bootstrap error
    assert {"L = 8", "L = 16", "L = 32"} <= set(phases["legend"])
    (finite,) = figures["ising_finite_size.png"]["axes"]
    assert finite["errorbars"] == 1
    assert any(t.startswith("extrapolated T_c = ") for t in finite["legend"])
    marked = [line for line in finite["lines"] if line["label"].startswith("extrapolated T_c")]
    assert marked and marked[0]["xy"][0, 0] == 0.0 and marked[0]["xy"][0, 1] == pytest.approx(fit[0])
    snapshots = figures["ising_configurations.png"]
    assert all(ax["images"] == 1 and ax["title"].startswith("L = 32, T = ") for ax in snapshots["axes"])
    assert snapshots["legends"] == ["spin +1", "spin −1"]
