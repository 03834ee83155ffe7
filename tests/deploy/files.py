"""Readers for the deployment files the tests check: Dockerfile, README blocks, pip commands.

No Docker engine runs where the tests run, so the files are checked statically.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: `RUN`, its argument text, its stage index."""

    keyword: str
    args: str
    stage: int


def dockerfile(path: Path = ROOT / "Dockerfile") -> list[Instruction]:
    """The instructions, continuation lines joined, comments dropped."""
    out: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        keyword, _, args = text.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, args.strip(), stage))
    return out


def arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    """`ARG NAME=default` values, wherever they are declared."""
    defaults: dict[str, str] = {}
    for i in instructions:
        if i.keyword == "ARG" and "=" in i.args:
            name, _, value = i.args.partition("=")
            defaults[name.strip()] = value.strip()
    return defaults


def substitute(text: str, variables: dict[str, str]) -> str:
    """`${NAME}` and `$NAME` replaced by their values (unknown names are left alone)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return variables.get(name, match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, text)


def shell_commands(text: str) -> list[list[str]]:
    """A shell line split on `&&` into argument lists (quotes removed)."""
    return [shlex.split(part) for part in text.split("&&") if part.strip()]


_QUIET = {"--quiet", "-q", "--no-cache-dir", "--upgrade-strategy=only-if-needed"}


def pip_installs(commands: list[list[str]]) -> list[tuple[str, ...]]:
    """The arguments of every `pip install` (after `install`), in order, noise flags dropped.

    `.venv/bin/pip`, `/opt/venv/bin/pip`, `python -m pip` and `$(PY) -m pip` all count as pip.
    """
    found = []
    for argv in commands:
        for i, word in enumerate(argv[:-1]):
            if (word == "pip" or word.endswith("/pip")) and argv[i + 1] == "install":
                args = [a for a in argv[i + 2 :] if a not in _QUIET]
                found.append(tuple(args))
                break
    return found


def marked_block(text: str, name: str) -> str:
    """The text between `<!-- NAME:start -->` and `<!-- NAME:end -->`."""
    match = re.search(rf"<!-- {name}:start -->(.*?)<!-- {name}:end -->", text, re.S)
    if match is None:
        raise AssertionError(f"README.md has no <!-- {name}:start/end --> block")
    return match.group(1)


def torch_pin() -> str:
    """The exact torch version pyproject.toml pins."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    pins = [d for d in project["dependencies"] if re.match(r"torch\s*==", d)]
    assert len(pins) == 1, f"pyproject.toml must pin torch exactly once, found {pins}"
    return pins[0].split("==", 1)[1].strip()
