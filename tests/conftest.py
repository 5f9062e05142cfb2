"""Shared test fixtures: where the real v6.1 tree is, and the rule that real tests must not skip in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def require_real(reason: str) -> None:
    """Skip with a reason, or fail when LIMA_REQUIRE_REAL=1 (set by run.sh test and so by CI)."""
    if os.environ.get("LIMA_REQUIRE_REAL") == "1":
        pytest.fail(f"required real-environment test cannot run: {reason}")
    pytest.skip(reason)


def lima_index(src: Path, db: Path, only: Iterable[str] = (), *options: str,
               timeout: float | None = 600) -> Path:
    """Run `lima-index SRC --db DB --quiet [--only X ...] [OPTIONS]` and fail the test with its stderr when it
    fails; returns DB."""
    cmd = [sys.executable, "-m", "lima.analyzer.cli", str(src), "--db", str(db), "--quiet", *options]
    for target in only:
        cmd += ["--only", str(target)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"lima-index failed ({r.returncode}): {r.stderr[-2000:]}"
    return db


@pytest.fixture(scope="session")
def kernel_src() -> Path:
    """The real Linux v6.1 tree ($LIMA_KERNEL_SRC, else .cache/linux-source-6.1 unpacked by run.sh)."""
    p = Path(os.environ.get("LIMA_KERNEL_SRC") or ROOT / ".cache" / "linux-source-6.1")
    if not (p / "Makefile").is_file():
        require_real(f"no v6.1 source tree at {p} (bash run.sh setup unpacks it)")
    return p
