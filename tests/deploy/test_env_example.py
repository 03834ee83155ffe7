""".env.example lists every setting, nothing else, each with a comment and a valid default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend import settings_doc
from backend.config import Settings
from tests.deploy.files import ROOT

ENV_EXAMPLE = ROOT / ".env.example"
_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def _variables() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        match = _LINE.match(line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} is listed twice"
            found[match.group(1)] = match.group(2)
    return found


def _env_names_from_fields() -> set[str]:
    # Read straight from the model (not through settings_doc) so the two can disagree.
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names.add(choices[0] if choices else f"T2B_{name.upper()}")
    return names


def test_every_t2b_variable_is_a_setting_and_every_setting_is_listed() -> None:
    listed = set(_variables())
    t2b = {name for name in listed if name.startswith("T2B_")}
    fields = _env_names_from_fields()
    assert t2b - fields == set(), "in .env.example but not in Settings"
    assert fields - listed == set(), "in Settings but missing from .env.example"
    assert "HF_TOKEN" in listed
    assert listed - fields == set(), "listed, but nothing reads it"


def test_each_variable_has_a_comment_above_it() -> None:
    lines = ENV_EXAMPLE.read_text("utf-8").splitlines()
    for index, line in enumerate(lines):
        if _LINE.match(line):
            above = lines[index - 1]
            assert above.startswith("# ") and not _LINE.match(above), f"no comment above {line}"


def test_the_listed_defaults_are_the_real_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Uncommented, the file must load and change nothing: every value is the default.
    for name in _env_names_from_fields() | {"T2B_HF_TOKEN"}:
        monkeypatch.delenv(name, raising=False)
    values = {k: v for k, v in _variables().items() if v != ""}  # empty: left unset
    env = tmp_path / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in values.items()), "utf-8")
    assert Settings(_env_file=env).model_dump() == Settings(_env_file=None).model_dump()
    assert len(values) >= len(Settings.model_fields) - 2  # only the secrets are blank


def test_the_file_is_generated_from_the_settings() -> None:
    assert ENV_EXAMPLE.read_text("utf-8") == settings_doc.env_example(), "stale: run `make docs`"
