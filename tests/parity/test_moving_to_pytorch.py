"""docs/moving-to-pytorch.md holds: its code runs with PyTorch, and models move both ways by safetensors
with the same outputs (1e-6 float32, 1e-12 float64) and bit-exact parameters."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

DOC = Path(__file__).resolve().parents[2] / "docs" / "moving-to-pytorch.md"
BLOCK = re.compile(r"```(python|py|bash)\n(.*?)```", re.S)
TOL = {np.float32: 1e-6, np.float64: 1e-12}


def blocks():
    return BLOCK.findall(DOC.read_text())


def test_the_doc_runs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    ran = 0
    for lang, code in blocks():
        if lang == "bash" or code.startswith("# train_ddp.py"):
            continue  # the torchrun recipe: test_the_torchrun_recipe
        if "mlp-ddp.safetensors" in code:
            continue  # needs the recipe's output
        exec(compile(code, f"moving-to-pytorch block {ran}", "exec"), scope)
        ran += 1
    assert ran == 4
    # 20 steps here, then 20 in PyTorch = 40 steps here (plain SGD: nothing is lost in the move)
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    model.load_state_dict(tc.load("mlp.safetensors"))
    opt = tc.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(20):
        opt.zero_grad()
        tc.nn.functional.cross_entropy(model(scope["x"]), scope["y"]).backward()
        opt.step()
    for name, p in scope["torch_model"].state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name].numpy(), p.numpy(), rtol=0, atol=1e-5)


@pytest.mark.slow
def test_the_torchrun_recipe(tmp_path):
    """Two gloo processes on the CPU give the one-process, full-batch result; the file loads back here."""
    (script,) = [code for lang, code in blocks() if code.startswith("# train_ddp.py")]
    (command,) = [code.strip() for lang, code in blocks() if lang == "bash" and "torchrun" in code]
    assert command == "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node=2 train_ddp.py"
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    tc.save(model.state_dict(), tmp_path / "mlp.safetensors")
    (tmp_path / "train_ddp.py").write_text(script)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    for _attempt in range(3):
        run = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "train_ddp.py"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
        )
        # gloo's process group can abort while setting up on a loaded 2-core machine ("terminate
        # called without an active exception", seen once in a full run); that start is retried,
        # any other failure is not.
        if run.returncode == 0 or "terminate called without an active exception" not in run.stderr:
            break
    assert run.returncode == 0, run.stderr[-3000:]
    model.load_state_dict(tc.load(tmp_path / "mlp-ddp.safetensors"), strict=True)
    # the same 20 steps in one process on the whole batch
    one = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    one.load_state_dict(safetensors_torch.load_file(tmp_path / "mlp.safetensors"), strict=True)
    opt = torch.optim.SGD(one.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(256, 4, generator=gen), torch.randint(0, 3, (256,), generator=gen)
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(one(x), y).backward()
        opt.step()
    for name, p in one.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name].numpy(), p.numpy(), rtol=0, atol=1e-5)


# ----------------------------------------------------------------------------- three models, both ways
def mlp(lib):
    return lib.Sequential(lib.Linear(5, 8), lib.Tanh(), lib.Linear(8, 3))


def cnn(lib):
    return lib.Sequential(
        lib.Conv2d(2, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(4, 6, 3, stride=2), lib.Flatten(), lib.Linear(6, 3),
    )


def embed(lib):
    return lib.Sequential(lib.Embedding(11, 8), lib.LayerNorm(8), lib.Linear(8, 4))


def inputs(kind, dtype):
    rng = np.random.default_rng(7)
    if kind == "embed":
        return rng.integers(0, 11, (3, 5))
    shape = (4, 5) if kind == "mlp" else (3, 2, 6, 6)
    return rng.standard_normal(shape).astype(dtype)


MODELS = {"mlp": mlp, "cnn": cnn, "embed": embed}


def build(kind, dtype):
    tc.set_default_dtype(dtype)
    try:
        ours = MODELS[kind](nn)
    finally:
        tc.set_default_dtype(tc.float32)
    theirs = MODELS[kind](torch.nn)
    return ours, theirs.double() if dtype == np.float64 else theirs


def outputs(ours, theirs, x):
    with tc.no_grad(), torch.no_grad():
        return ours(tc.tensor(x)).numpy(), theirs(torch.from_numpy(x)).numpy()


def bits(sd):
    return {k: (v.dtype, v.shape, v._array.tobytes()) for k, v in sd.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_tc_to_torch_and_back_is_exact(kind, dtype, tmp_path):
    tc.manual_seed(3)
    ours, theirs = build(kind, dtype)
    x = inputs(kind, dtype)
    ours(tc.tensor(x))  # training mode: BatchNorm's running statistics move
    ours.eval()
    theirs.eval()
    tc.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs.load_state_dict(safetensors_torch.load_file(tmp_path / "ours.safetensors"), strict=True)
    a, b = outputs(ours, theirs, x)
    assert a.dtype == b.dtype == dtype
    np.testing.assert_allclose(b, a, rtol=0, atol=TOL[dtype])
    # torch → safetensors → tc: every parameter and buffer bit for bit
    safetensors_torch.save_file(theirs.state_dict(), tmp_path / "theirs.safetensors")
    back = tc.load(tmp_path / "theirs.safetensors")
    assert bits(back) == bits(ours.state_dict())
    assert all(not t.requires_grad for t in back.values())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_torch_to_tc_gives_the_same_outputs(kind, dtype, tmp_path):
    torch.manual_seed(4)
    ours, theirs = build(kind, dtype)
    x = inputs(kind, dtype)
    theirs(torch.from_numpy(x))  # training mode: running statistics move
    theirs.eval()
    safetensors_torch.save_file(theirs.state_dict(), tmp_path / "theirs.safetensors")
    ours.load_state_dict(tc.load(tmp_path / "theirs.safetensors"), strict=True)
    ours.eval()
    a, b = outputs(ours, theirs, x)
    np.testing.assert_allclose(a, b, rtol=0, atol=TOL[dtype])
    tc.save(ours.state_dict(), tmp_path / "ours.safetensors")
    again = safetensors_torch.load_file(tmp_path / "ours.safetensors")
    assert all(torch.equal(again[k], v) and again[k].dtype == v.dtype for k, v in theirs.state_dict().items())
