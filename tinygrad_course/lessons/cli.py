"""The command line: ``python -m tinygrad_course <command> [--out DIR] [--seed N] [--quick]``.

Also installed as the ``tinygrad-course`` script. Each command is one of the lecture's
experiments: it prints a results table and writes its pictures (PNG plots; ``graph``: SVG and
PNG pictures and an HTML step-through) and ``<command>.json`` into ``--out`` (default
``out/<command>``). ``demo`` runs a quick tour of all of them into ``<out>/<command>`` (default
``out``) and lists the files it wrote. Every file is written whole or not at all (a temporary
file, then a rename); Ctrl-C stops any command with one line and exit status 130.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Callable
from typing import Any

from tinygrad_course.lessons.experiments import backprop, graph, ising, optimizers, oscillators, overfitting, vmc
from tinygrad_course.lessons.experiments.common import OutputDirError, prepare_out_dir

Experiment = Callable[..., dict[str, Any]]

EXPERIMENTS: dict[str, tuple[Experiment, str]] = {
    "overfitting": (overfitting.run, "polynomials of degree 1, 3, 10 on 10, 100, 1,000 points; weight decay"),
    "optimizers": (optimizers.run, "GD, SGD, momentum, Nesterov, RMSprop, Adam on a valley and on two moons"),
    "backprop": (backprop.run, "equations (1)-(4) in numpy next to autograd, max |difference|"),
    "ising": (ising.run, "an MLP finds the Ising critical temperature; finite-size extrapolation"),
    "graph": (graph.run, "the gradient-flow pictures of a small MLP and a deep sigmoid network"),
    "vmc": (vmc.run, "a neural-network wavefunction (RBM) by variational Monte Carlo against exact diagonalisation"),
    "oscillators": (oscillators.run, "VMC in continuous space: coupled oscillators on a ring, kinetic energy by tc.func.laplacian"),
}
# The experiments' own options, beyond --out/--seed/--quick: (flag, keyword of run, type, help).
EXTRA_OPTIONS: dict[str, list[tuple[str, str, Any, str]]] = {
    "vmc": [("--N", "N", int, "number of spins (default 12 for tfim, 10 for heisenberg; --quick: 8 for tfim)"),
            ("--model", "model", str, "tfim (transverse-field Ising, RBM) or heisenberg (complex RBM)")],
    "oscillators": [("--d", "d", int, "number of oscillators (default 20; --quick: 6)")],
}
DEMO_ORDER = ("backprop", "overfitting", "optimizers", "ising", "graph", "vmc", "oscillators")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one sub-command per experiment, plus ``demo``."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-course",
        description="The lecture's experiments. Each prints a table and writes plots and a JSON file of its numbers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (_, summary) in EXPERIMENTS.items():
        command = sub.add_parser(name, help=summary, description=summary)
        command.add_argument(
            "--out",
            type=pathlib.Path,
            default=pathlib.Path("out") / name,
            metavar="DIR",
            help=f"folder for the {'pictures' if name == 'graph' else 'plots'} and {name}.json (default: out/{name})",
        )
        command.add_argument("--seed", type=_seed, default=0, metavar="N", help="random seed (default: 0)")
        command.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")
        for flag, dest, kind, text in EXTRA_OPTIONS.get(name, []):
            command.add_argument(flag, dest=dest, type=kind, default=None, help=text)
    demo = sub.add_parser(
        "demo",
        help="a quick tour of every experiment (quick sizes), then the list of files written",
        description="Run every experiment with its quick sizes into <out>/<experiment>.",
    )
    demo.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path("out"),
        metavar="DIR",
        help="folder for all results, one sub-folder per experiment (default: out)",
    )
    demo.add_argument("--seed", type=_seed, default=0, metavar="N", help="random seed (default: 0)")
    demo.add_argument("--quick", action="store_true", help="accepted for symmetry: the demo always uses quick sizes")
    return parser


def _banner(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 70 - len(text)), flush=True)


def demo(out: pathlib.Path, seed: int) -> list[pathlib.Path]:
    """The tour: the lecture's gradient-descent line fit, then every experiment in quick mode; returns the files."""
    start = time.perf_counter()
    _banner("gradient descent: the lecture's first fit")
    overfitting.linear_fit(seed=seed)
    files: list[pathlib.Path] = []
    for name in DEMO_ORDER:
        experiment, summary = EXPERIMENTS[name]
        _banner(f"{name}: {summary}")
        files += experiment(out / name, quick=True, seed=seed)["files"]
    _banner(f"done in {time.perf_counter() - start:.0f} s; files written")
    for path in files:
        print(f"  {path}")
    return files


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command; returns the exit status (2 for usage errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has printed the usage and the error (or --help)
        return int(stop.code or 0)
    try:
        if args.command == "demo":
            for name in DEMO_ORDER:  # every folder is checked before anything runs
                prepare_out_dir(args.out / name)
        else:
            prepare_out_dir(args.out)
    except OutputDirError as err:
        print(f"{parser.prog} {args.command}: error: {err}", file=sys.stderr)
        return 2
    try:
        if args.command == "demo":
            demo(args.out, args.seed)
        else:
            experiment, _ = EXPERIMENTS[args.command]
            extra = {dest: getattr(args, dest) for _, dest, _, _ in EXTRA_OPTIONS.get(args.command, [])
                     if getattr(args, dest) is not None}
            experiment(args.out, quick=args.quick, seed=args.seed, **extra)
    except KeyboardInterrupt:
        # Every file is written atomically, so what is in --out is whole: finished results only.
        sys.stdout.flush()
        print(f"{parser.prog} {args.command}: interrupted; partial results in {args.out}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
