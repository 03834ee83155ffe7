"""docker-compose.yml, read statically, and by Debian's `docker-compose config` when installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.files import ROOT, arg_defaults, dockerfile

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_one_app_service_built_here_serving_port_8000(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    assert "profiles" not in app  # `docker compose up` starts it
    assert app["build"]["context"] == "."
    assert app["ports"] == ["8000:8000"]
    assert app["restart"] == "unless-stopped"
    # The CPU build: the same index as the Dockerfile's default.
    assert app["build"]["args"]["TORCH_INDEX"] == arg_defaults(dockerfile())["TORCH_INDEX"]


def test_data_lives_in_a_named_volume(compose: dict[str, Any]) -> None:
    for name in ("app", "app-gpu"):
        assert compose["services"][name]["volumes"] == ["atlas-data:/data"]
    assert "atlas-data" in compose["volumes"]


def test_settings_come_from_an_optional_env_file(compose: dict[str, Any]) -> None:
    assert compose["services"]["app"]["env_file"] == [{"path": ".env", "required": False}]
    # No `environment:` block: it would override what people put in .env.
    assert "environment" not in compose["services"]["app"]


def test_the_healthcheck_is_the_images(compose: dict[str, Any]) -> None:
    check = compose["services"]["app"]["healthcheck"]
    image = next(i for i in dockerfile() if i.keyword == "HEALTHCHECK").args
    assert check["test"] == ["CMD", *json.loads(image.partition(" CMD ")[2])]
    assert "/healthz" in check["test"][-1]
    assert {"interval", "timeout", "start_period", "retries"} <= set(check)


def test_the_gpu_profile_reserves_an_nvidia_device(compose: dict[str, Any]) -> None:
    gpu = compose["services"]["app-gpu"]
    assert gpu["profiles"] == ["gpu"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert device.get("count", 1) >= 1
    assert "/whl/cu" in gpu["build"]["args"]["TORCH_INDEX"]
    assert gpu["image"] != compose["services"]["app"]["image"]  # two builds, two tags
    assert (
        gpu["ports"] == ["8000:8000"]
        and gpu["healthcheck"] == compose["services"]["app"]["healthcheck"]
    )


def _v1_copy(tmp_path: Path) -> Path:
    """The file as Compose v1 can read it: v1 predates `env_file: [{path, required}]`
    (Compose v2.24), so that one entry is written in the short form and `.env` is made."""
    data = yaml.safe_load(COMPOSE.read_text("utf-8"))
    for service in data["services"].values():
        assert service["env_file"] == [{"path": ".env", "required": False}]
        service["env_file"] = [".env"]
    target = tmp_path / "docker-compose.yml"
    target.write_text(yaml.safe_dump(data), "utf-8")
    (tmp_path / ".env").write_text("T2B_LOG_LEVEL=DEBUG\n", "utf-8")
    return target


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (Debian: apt-get install docker-compose)",
)
def test_docker_compose_config_accepts_it(tmp_path: Path) -> None:
    target = _v1_copy(tmp_path)
    run = ["docker-compose", "-f", str(target), "--project-directory", str(tmp_path)]
    result = subprocess.run([*run, "config"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert resolved["services"]["app"]["environment"] == {"T2B_LOG_LEVEL": "DEBUG"}
    assert resolved["services"]["app-gpu"]["build"]["args"]["TORCH_INDEX"].endswith("/cu128")
    services = subprocess.run(
        [*run, "--profile", "gpu", "config", "--services"], capture_output=True, text=True
    )
    assert services.returncode == 0, services.stderr
    assert sorted(services.stdout.split()) == ["app", "app-gpu"]
