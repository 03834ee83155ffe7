"""The generator of `.env.example` and the README's settings table."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import AliasChoices, Field

from backend import settings_doc
from backend.config import Settings


def test_env_names_follow_the_prefix_or_the_alias() -> None:
    names = settings_doc.env_names()
    assert names["database_url"] == "T2B_DATABASE_URL"
    assert names["hf_token"] == "HF_TOKEN"
    assert list(names) == list(Settings.model_fields)


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (True, "true"), (False, "false"), ([2, 5], "[2, 5]"), (0.5, "0.5"), ("x", "x")],
)
def test_values_are_written_as_pydantic_settings_reads_them(value: Any, text: str) -> None:
    assert settings_doc.env_value(value) == text


def test_the_table_has_a_row_per_setting_and_escapes_pipes() -> None:
    table = settings_doc.settings_table().splitlines()
    assert table[0] == "| Variable | Default | What it does |"
    assert len(table) == 2 + len(Settings.model_fields)
    row = next(r for r in table if r.startswith("| `T2B_MAP_DIMS`"))
    assert "| `[2, 5]` |" in row
    assert next(r for r in table if r.startswith("| `T2B_ADMIN_TOKEN`")).split("|")[2].strip() == (
        "(unset)"
    )


def test_every_group_starts_at_a_real_setting() -> None:
    assert set(settings_doc.GROUPS) <= set(Settings.model_fields)


def test_the_table_replaces_only_the_marked_block() -> None:
    readme = f"intro\n{settings_doc.TABLE_START}\nold\n{settings_doc.TABLE_END}\noutro\n"
    out = settings_doc.readme_with_table(readme)
    assert out.startswith("intro\n") and out.endswith(f"{settings_doc.TABLE_END}\noutro\n")
    assert "old" not in out and "| `T2B_LOG_LEVEL` |" in out
    with pytest.raises(ValueError, match="needs the markers"):
        settings_doc.readme_with_table("no markers here")


def test_a_setting_without_a_description_is_refused() -> None:
    field = Field("x")  # no description
    with pytest.raises(ValueError, match="needs a description"):
        settings_doc._description(field)  # type: ignore[arg-type]


def test_check_mode_passes_on_this_checkout(capsys: pytest.CaptureFixture[str]) -> None:
    assert settings_doc.main(["--check"]) == 0, capsys.readouterr().out


def test_alias_choices_take_the_first_name() -> None:
    field = Field(None, validation_alias=AliasChoices("HF_TOKEN", "T2B_HF_TOKEN"))
    assert settings_doc.env_name("hf_token", field) == "HF_TOKEN"  # type: ignore[arg-type]
