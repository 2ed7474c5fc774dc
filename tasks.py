"""The project's two commands, needing nothing but Python 3.10+:

    python3 tasks.py demo   # the main job: the lecture's experiments
    python3 tasks.py test   # the test suite
    python3 tasks.py bench  # every benchmark of bench/ in one table (bench/run.py; --json PATH)

Each creates .venv and installs the package with its extras on first use (and again when
pyproject.toml changes), then runs inside it. Extra arguments go to the command.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def ensure_venv() -> None:
    """Create .venv and install `.[dev,examples]` unless pyproject.toml is unchanged since."""
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing tinygrad_course[dev,examples] into .venv ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["-e", f"{ROOT}[dev,examples]"], check=True)
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 10):  # noqa: UP036 - say so at once, before pip spends minutes failing
        print(f"tasks.py: tinygrad_course needs Python 3.10 or newer; this is {sys.version.split()[0]}", file=sys.stderr)
        return 2
    if not argv or argv[0] not in ("demo", "test", "bench"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        cmd = [str(PYTHON), "-m", "tinygrad_course", "demo", *rest]
    elif command == "bench":
        cmd = [str(PYTHON), str(ROOT / "bench" / "run.py"), *rest]
    else:
        cmd = [str(PYTHON), "-m", "pytest", "-q", *rest]
    return subprocess.run(cmd, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
