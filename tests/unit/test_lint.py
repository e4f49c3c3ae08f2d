"""The suite runs the linter and the type checker too, so style drift or a broken
annotation fails the build."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUFF = [sys.executable, "-m", "ruff"]
MYPY = [sys.executable, "-m", "mypy"]
PATHS = ["services", "tests", "bench"]


def test_ruff_finds_nothing():
    result = subprocess.run([*RUFF, "check", *PATHS], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted():
    result = subprocess.run(
        [*RUFF, "format", "--check", *PATHS], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_types_check():
    # what mypy checks, and how strictly, is set in pyproject.toml ([tool.mypy])
    result = subprocess.run(MYPY, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
