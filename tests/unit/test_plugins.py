"""A plugin the program needs and cannot have is said in one line, with the ways on, before the engine fails."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from components import plugins


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path


def test_a_missing_plugin_with_downloads_off_stops_with_one_line_naming_it_and_the_ways_on(
    empty_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    with pytest.raises(pulumi.RunError) as caught:
        plugins.require(
            "docker", "pulumi-docker", needed_for="imageBuilder 'local'", instead="use a prebuilt image"
        )
    message = str(caught.value)
    version = plugins.sdk_version("pulumi-docker")
    assert "\n" not in message
    assert f"pulumi-resource-docker v{version}" in message
    assert f"pulumi plugin install resource docker {version}" in message
    assert message.endswith("or use a prebuilt image.")


def test_an_installed_plugin_is_found_under_pulumi_home(
    empty_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    version = plugins.sdk_version("pulumi-docker")
    (empty_home / "plugins" / f"resource-docker-v{version}").mkdir(parents=True)
    plugins.require(
        "docker", "pulumi-docker", needed_for="imageBuilder 'local'", instead="use a prebuilt image"
    )


def test_a_missing_plugin_that_the_engine_may_download_is_a_warning(
    empty_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", raising=False)
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: said.append(message))
    plugins.require(
        "command", "pulumi-command", needed_for="imageBuilder 'fly-remote'", instead="use prebuilt"
    )
    (line,) = said
    assert "the engine will download it" in line
    assert "pulumi plugin install resource command" in line
