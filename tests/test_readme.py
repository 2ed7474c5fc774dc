"""The README's code runs as written (and its gradient-test example passes)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the tour saves model.npz
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    tour: dict = {}
    exec(compile(blocks[0], "README tour", "exec"), tour)
    np.testing.assert_array_equal(tour["x"].grad.data, [2.0, 4.0, 6.0])
    np.testing.assert_allclose(tour["h"].data, 6 * tour["x"].data)
    assert (tmp_path / "model.npz").exists()
    custom: dict = {}
    exec(compile(blocks[1], "README custom Function", "exec"), custom)
    custom["test_cube"]()
