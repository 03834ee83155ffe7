"""Runs the page's pure-JS unit tests (`frontend/tests/*.test.js`) with node's own runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_frontend_unit_tests_pass() -> None:
    assert NODE is not None
    result = subprocess.run(
        [NODE, "--test", "frontend/tests/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-6000:]
    # A runner that found no test files also exits 0; make sure the suite actually ran.
    passed = [line for line in report.splitlines() if line.startswith("# pass ")]
    assert passed, report[-2000:]
    assert int(passed[-1].split()[-1]) >= 40, passed[-1]
