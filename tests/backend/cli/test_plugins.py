"""Plugins of `task2box`: the benchmarks arrive through an entry point, never an import."""

from __future__ import annotations

import tomllib
from importlib.metadata import EntryPoint, entry_points

import typer
from typer.testing import CliRunner

from backend.cli.app import BENCH, PLUGIN_GROUP, build_cli
from tests.deploy.files import ROOT

# A plugin of this test module, named by an entry point the way an installed one would be.
fake_app = typer.Typer()


@fake_app.command()
def hello(name: str = "world") -> None:
    typer.echo(f"hello {name}")


def _entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=PLUGIN_GROUP)


def test_pyproject_declares_the_bench_plugin_and_the_install_registers_it() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    declared = pyproject["project"]["entry-points"][PLUGIN_GROUP]
    assert declared == {BENCH: "benchmarks.cli:bench_app"}
    # The install that declares the plugin ships its package (the editable one maps only
    # the listed packages), so the entry point never names a module that is not there.
    assert "benchmarks*" in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    installed = {ep.name: ep.value for ep in entry_points(group=PLUGIN_GROUP)}
    # Fails on a checkout installed before the entry point existed: `pip install -e .` again.
    assert installed == declared


def test_bench_mounts_every_benchmark_command() -> None:
    result = CliRunner().invoke(build_cli(), ["bench", "--help"])
    assert result.exit_code == 0, result.output
    for name in ("api", "hierarchy", "speed", "transfer", "crawl", "page", "targets"):
        assert name in result.output


def test_a_missing_bench_plugin_says_how_to_get_it() -> None:
    app = build_cli(plugins=[])
    result = CliRunner().invoke(app, ["bench", "hierarchy", "--quick", "--dims", "2", "3"])
    assert result.exit_code == 1
    assert "no benchmark commands are installed" in result.output
    assert "pip install -e ." in result.output
    listing = CliRunner().invoke(app, ["--help"])
    assert listing.exit_code == 0 and "Not available here" in listing.output
    # The built-in commands do not depend on it.
    assert CliRunner().invoke(app, ["crawl", "--help"]).exit_code == 0


def test_a_plugin_that_cannot_load_answers_with_its_error() -> None:
    broken = [
        _entry_point(BENCH, "no_such_package.cli:bench_app"),
        _entry_point("notyper", "tests.backend.cli.test_plugins:hello"),
    ]
    app = build_cli(plugins=broken)
    result = CliRunner().invoke(app, ["bench", "api"])
    assert result.exit_code == 1
    assert "no_such_package.cli:bench_app" in result.output
    assert "No module named 'no_such_package'" in result.output
    result = CliRunner().invoke(app, ["notyper"])
    assert result.exit_code == 1 and "not a typer.Typer" in result.output
    assert CliRunner().invoke(app, ["migrate", "--help"]).exit_code == 0


def test_a_plugin_is_mounted_under_its_entry_point_name() -> None:
    plugin = _entry_point("greet", "tests.backend.cli.test_plugins:fake_app")
    result = CliRunner().invoke(build_cli(plugins=[plugin]), ["greet", "hello", "--name", "box"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "hello box"
