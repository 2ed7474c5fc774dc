"""The README and docs/*.md hold: their code runs as written, their paths exist, nothing points outside the repo."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_course as tc

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS, *sorted((ROOT / "bench").glob("*.md"))]

PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)
# A backticked path into the repository: `tinygrad_course/autograd/engine.py`, `bench/ops.py`, …
CODE_PATH = re.compile(r"`((?:tinygrad_course|tests|bench|docs|examples)/[\w./-]*)`")


def python_blocks(page: Path) -> list[str]:
    return PYTHON_BLOCK.findall(page.read_text())


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.fixture(autouse=True)
def _restore_engine():
    """A page's code may switch the engine or grad mode; the next test gets the defaults back."""
    engine = tc.autograd.get_engine()
    yield
    tc.autograd.set_engine(engine)
    tc.set_grad_enabled(True)


def test_readme_python_blocks_run(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the tour saves model.npz
    blocks = python_blocks(README)
    assert len(blocks) >= 2
    tour: dict = {}
    exec(compile(blocks[0], "README tour", "exec"), tour)
    np.testing.assert_array_equal(tour["x"].grad._array, [2.0, 4.0, 6.0])
    np.testing.assert_allclose(tour["h"]._array, 6 * tour["x"]._array)
    assert (tmp_path / "model.npz").exists()
    custom: dict = {}
    exec(compile(blocks[1], "README custom Function", "exec"), custom)
    custom["test_cube"]()
    for k, block in enumerate(blocks[2:], start=2):  # any later block runs too
        exec(compile(block, f"README block {k}", "exec"), {})


@pytest.mark.parametrize("page", DOCS, ids=page_id)
def test_docs_python_blocks_run(page: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for k, block in enumerate(python_blocks(page)):
        exec(compile(block, f"{page_id(page)} block {k}", "exec"), {})


def test_the_autograd_walkthrough_exists() -> None:
    assert (ROOT / "docs" / "how-autograd-works.md") in DOCS
    assert python_blocks(ROOT / "docs" / "how-autograd-works.md")


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_links_and_paths_exist(page: Path) -> None:
    text = page.read_text()
    missing = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        path = target.split("#")[0]
        if path and not (page.parent / path).resolve().exists():
            missing.append(f"link ({target})")
    for path in CODE_PATH.findall(text):
        if not (ROOT / path.rstrip("/")).exists():
            missing.append(f"`{path}`")
    assert not missing, f"{page_id(page)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_nothing_points_outside_the_repository(page: Path) -> None:
    text = page.read_text()
    assert not re.search(r"(?<![\w-])shared/", text), f"{page_id(page)} mentions a shared/ path"
    for target in LINK.findall(text):
        if not re.match(r"[a-z]+:", target):
            resolved = (page.parent / target.split("#")[0]).resolve()
            assert resolved.is_relative_to(ROOT), f"{page_id(page)} links outside the repository: {target}"
