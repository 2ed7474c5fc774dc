"""The lesson notebooks: stored without outputs, and each runs top to bottom (quick sizes) in a fresh kernel."""

from __future__ import annotations

import os
import pathlib
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIME_BUDGET_S = 30  # each notebook at its QUICK sizes; all together stay well under a minute

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e .[dev])")


def test_there_is_one_notebook_per_lesson():
    assert len(NOTEBOOKS) == 7
    assert [p.name[:3] for p in NOTEBOOKS] == [f"{k:02d}_" for k in range(1, 8)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: clear the outputs before committing"
            )
    params = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "QUICK = True" in params[0].source
    prose = " ".join(c.source for c in book.cells if c.cell_type == "markdown")
    assert "notebooks/" not in prose and "docs/" not in prose  # cite the lecture, not paths


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e .[dev])")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e .[dev])")
    pytest.importorskip("matplotlib", reason="the notebooks draw with matplotlib (pip install -e .[examples])")
    book = nbformat.read(path, as_version=4)
    env_backend = os.environ.pop("MPLBACKEND", None)  # the kernel draws inline
    start = time.perf_counter()
    try:
        client = nbclient.NotebookClient(
            book, timeout=TIME_BUDGET_S * 2, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        )
        client.execute()
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
    seconds = time.perf_counter() - start
    assert seconds < TIME_BUDGET_S, f"{path.name} took {seconds:.1f} s (budget {TIME_BUDGET_S} s)"
    images = [
        o
        for c in book.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("output_type") in ("display_data", "execute_result")
        and (
            "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}) or "text/html" in o.get("data", {})
        )
    ]
    assert images, f"{path.name} shows no picture"
