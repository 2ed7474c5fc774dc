"""The command line: usage errors exit with 2, an unwritable --out fails before any work, the demo tour."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from tinygrad_course.lessons import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bogus"], "argument command: invalid choice: 'bogus'"),
        (["backprop", "--bogus"], "unrecognized arguments: --bogus"),
        (["ising", "--seed", "x"], "argument --seed: expected a non-negative integer, got 'x'"),
        (["ising", "--seed", "-2"], "argument --seed: expected a non-negative integer, got -2"),
        ([], "the following arguments are required: command"),
    ],
)
def test_usage_errors_exit_2_with_usage(argv, message, capsys):
    code, out, err = run_main(argv, capsys)
    assert code == 2
    assert "usage: tinygrad-course" in err and message in err
    assert out == ""


def test_help_lists_every_command(capsys):
    code, out, _ = run_main(["--help"], capsys)
    assert code == 0
    for name in ("overfitting", "optimizers", "backprop", "ising", "graph", "demo"):
        assert name in out


@pytest.mark.parametrize("command", ["ising", "overfitting", "demo"])
def test_unwritable_out_fails_before_any_work(command, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, out, err = run_main([command, "--out", str(blocker / "results")], capsys)
    assert code == 2
    assert f"tinygrad-course {command}: error: cannot write results to" in err and "Not a directory" in err
    assert "pass a writable folder with --out DIR" in err
    assert out == ""  # no table: nothing was sampled or trained


def test_module_entry_point_runs_an_experiment(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_course", "backprop", "--quick", "--seed", "3", "--out", str(tmp_path / "bp")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "max |difference|" in done.stdout
    assert json.loads((tmp_path / "bp" / "backprop.json").read_text())["max_abs_diff"] <= 1e-12
    bad = subprocess.run(
        [sys.executable, "-m", "tinygrad_course", "nope"], capture_output=True, text=True, env=env, timeout=60
    )
    assert bad.returncode == 2 and "usage:" in bad.stderr


@pytest.mark.slow
def test_demo_runs_every_experiment_and_lists_its_files(tmp_path, tmp_path_factory, monkeypatch, capsys):
    # the same Ising cache as test_experiments: whichever runs first samples, the other reads
    monkeypatch.setenv("TINYGRAD_COURSE_CACHE", str(tmp_path_factory.getbasetemp() / "ising-cache"))
    code, out, _ = run_main(["demo", "--out", str(tmp_path)], capsys)
    assert code == 0
    for name in ("backprop", "overfitting", "optimizers", "ising"):
        assert (tmp_path / name / f"{name}.json").is_file()
    assert "fitted slope w = " in out  # the lecture's first gradient-descent fit opens the tour
    listing = out.split("files written")[-1].splitlines()[1:]  # after the banner line: one path per line
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert sorted(pathlib.Path(p.strip()) for p in listing) == written
    assert any(p.suffix == ".png" for p in written) and (tmp_path / "graph").is_dir()


def test_ctrl_c_ends_with_one_line_and_status_130(monkeypatch, tmp_path, capsys):
    def interrupted(out_dir, quick=False, seed=0):
        print("half a table")
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.EXPERIMENTS, "backprop", (interrupted, "stand-in"))
    code, out, err = run_main(["backprop", "--out", str(tmp_path / "bp")], capsys)
    assert code == 130
    assert err == f"tinygrad-course backprop: interrupted; partial results in {tmp_path / 'bp'}\n"
    assert out == "half a table\n"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_on_a_real_run_leaves_no_traceback_and_no_temporary_file(tmp_path):
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = tmp_path / "opt"
    child = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_course", "optimizers", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(2.5)  # imports done, training under way (the full run takes far longer)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert stderr == f"tinygrad-course optimizers: interrupted; partial results in {out}\n"
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.parametrize("name", sorted(cli.EXPERIMENTS))
def test_help_promises_the_json_file_each_experiment_writes(name, capsys):
    code, out, _ = run_main([name, "--help"], capsys)
    assert code == 0 and f"{name}.json" in " ".join(out.split())


def test_graph_writes_the_graph_json_its_help_promises(tmp_path, capsys):
    code, _, _ = run_main(["graph", "--quick", "--out", str(tmp_path)], capsys)
    assert code == 0
    data = json.loads((tmp_path / "graph.json").read_text(encoding="utf-8"))
    assert (
        list(data) == ["layers", "weight_std", "deep_grad_norms"] and len(data["deep_grad_norms"]) == data["layers"] + 1
    )
    assert not list(tmp_path.glob(".*.tmp"))
