"""Each validation rule of the stack settings, with a bad input and the message a person reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.catalog import ModelId, cache_size_needed_gb
from components.fly.catalog import GpuKind
from components.fly.platform import PLATFORM as FLY
from components.fly.settings import Autostop, ImageBuilder
from components.platforms import load_settings, misplaced_keys
from components.settings import DEFAULT_SONGGEN_COMMIT, DEFAULT_STUDIO_COMMIT, PROJECT, SettingsError
from tests.fly_settings import fly_settings


def issues_for(stack: str, raw: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(stack, raw, secret_keys=secret_keys)
    return {issue.key: issue.message for issue in caught.value.issues}


def stack_file(root: Path, stack: str) -> tuple[dict[str, Any], set[str]]:
    """The raw config of a stack file, as the engine hands it to the program (secure values are secrets)."""
    document = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text())
    raw: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in (document.get("config") or {}).items():
        short = key.removeprefix(f"{PROJECT}:")
        if isinstance(value, dict) and "secure" in value:
            secret.add(short)
            raw[short] = "decrypted-value"
        else:
            raw[short] = value
    return raw, secret


def test_defaults_describe_one_a10_machine_in_ord() -> None:
    s = fly_settings("dev", {})
    assert s.app_name == "songgen-studio-dev"
    assert s.machines_per_region == {"ord": 1}
    assert (s.gpu_kind, s.gpus, s.cpu_kind.value, s.cpus, s.memory_mb) == (
        GpuKind.A10,
        1,
        "performance",
        8,
        65536,
    )
    assert s.models == [ModelId.BASE]
    assert s.autostop is Autostop.OFF
    assert (s.studio_commit, s.songgen_commit) == (DEFAULT_STUDIO_COMMIT, DEFAULT_SONGGEN_COMMIT)
    assert s.image_builder is ImageBuilder.LOCAL


def test_values_arrive_as_strings_and_are_converted() -> None:
    s = fly_settings(
        "dev", {"cpus": "4", "memoryMb": "32768", "autostart": "false", "machines": '{"ord": 2}'}
    )
    assert (s.cpus, s.memory_mb, s.autostart) == (4, 32768, False)
    assert s.machine_count == 2


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("appName", "Studio_1", "lowercase letters, digits and hyphens"),
        ("appName", "studio-", "starting and ending with a letter or digit"),
        ("org", "My Org", "organisation slug"),
        ("primaryRegion", "mars", "not a Fly region"),
        ("machines", '{"ord": 0}', "greater than or equal to 1"),
        ("machines", '{"xyz": 1}', "xyz: not a Fly region"),
        ("machines", "{not json", "not valid JSON"),
        ("gpuKind", "h100", "'a10', 'l40s', 'a100-pcie-40gb' or 'a100-sxm4-80gb'"),
        ("gpus", "0", "greater than or equal to 1"),
        ("cpuKind", "turbo", "'performance' or 'shared'"),
        ("cpus", "64", "less than or equal to 16"),
        ("memoryMb", "65000", "multiple of 256"),
        ("models", '["base", "huge"]', "'base', 'base-new', 'base-full' or 'large'"),
        ("models", "[]", "at least 1 item"),
        ("volumeSizeGb", "501", "less than or equal to 500"),
        ("autostop", "sometimes", "'off', 'stop' or 'suspend'"),
        ("minMachinesRunning", "-1", "greater than or equal to 0"),
        ("idleStopMinutes", "-5", "greater than or equal to 0"),
        ("studioCommit", "main", "40-character lowercase hex commit SHA"),
        ("songgenCommit", "10af9dbb", "40-character lowercase hex commit SHA"),
        ("imageBuilder", "kaniko", "'local', 'prebuilt' or 'fly-remote'"),
        ("image", "studio", "with a tag or a digest"),
        ("flyApiUrl", "ftp://example", "not an http(s) URL"),
        ("typo", "1", "unknown setting"),
    ],
)
def test_a_bad_value_is_reported_with_its_key_value_and_what_is_allowed(
    key: str, value: str, expected: str
) -> None:
    issues = issues_for("dev", {key: value})
    assert key in issues, issues
    assert expected in issues[key]
    if key not in {"typo", "machines", "models"}:  # structured values are quoted after parsing
        assert repr(value) in issues[key]


def test_every_problem_is_reported_at_once_one_line_per_key() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", {"appName": "Bad", "cpus": "zero", "gpuKind": "h100", "volumeSizeGb": "10"})
    message = str(caught.value)
    lines = [line for line in message.splitlines() if line.startswith("  - ")]
    assert [line.split(":")[1] for line in lines] == ["appName", "cpus", "gpuKind", "volumeSizeGb"]
    assert message.startswith("Pulumi.dev.yaml has 4 invalid setting(s)")


def test_a_region_without_that_gpu_kind_is_refused() -> None:
    issues = issues_for("dev", {"machines": '{"iad": 1}'})
    assert issues["machines"] == "'iad' never had a10 GPUs; a10 was offered in ord"
    assert fly_settings("dev", {"gpuKind": "a100-sxm4-80gb", "primaryRegion": "ams"}).primary_region == "ams"
    assert "primaryRegion" in issues_for("dev", {"gpuKind": "a100-sxm4-80gb"})


def test_memory_must_fit_the_cpu_kind() -> None:
    issues = issues_for("dev", {"memoryMb": "8192"})
    assert issues["memoryMb"] == (
        "8192 MB does not fit 8 performance CPU(s): Fly allows 2048-8192 MB per CPU, so 16384-65536 MB"
    )
    assert "256-2048 MB per CPU" in issues_for("dev", {"cpuKind": "shared", "memoryMb": "65536"})["memoryMb"]


def test_memory_below_what_the_studio_needs_is_a_warning() -> None:
    loaded = load_settings("dev", {"memoryMb": "32768"})
    assert any("memoryMb is 32768 MB" in w and "65536" in w for w in loaded.warnings)
    assert load_settings("dev", {}).warnings == []


def test_volume_must_hold_the_runtime_bundle_and_chosen_models() -> None:
    needed = cache_size_needed_gb([ModelId.BASE, ModelId.LARGE])
    assert needed == 62  # (15.1 + 11.3 + 20.5) GB * 1.2 headroom + 5 GB workspace = 61.28, rounded up
    issues = issues_for("dev", {"models": '["base", "large"]', "gpuKind": "l40s", "volumeSizeGb": "50"})
    assert issues["volumeSizeGb"] == (
        "50 GB cannot hold the runtime bundle (15.1 GB) and base (11.3 GB), large (20.5 GB) with headroom; "
        f"set at least {needed}"
    )
    ok = fly_settings("dev", {"models": '["base", "large"]', "gpuKind": "l40s", "volumeSizeGb": str(needed)})
    assert ok.volume_size_gb == needed


def test_suspend_is_refused_and_proxy_autostop_warns() -> None:
    assert "does not work with GPU machines" in issues_for("dev", {"autostop": "suspend"})["autostop"]
    loaded = load_settings("dev", {"autostop": "stop"})
    assert any("autostop is 'stop'" in w for w in loaded.warnings)


def test_min_machines_running_cannot_exceed_the_machines_declared() -> None:
    issues = issues_for("dev", {"minMachinesRunning": "2"})
    assert issues["minMachinesRunning"] == "2 is more than the 1 machine(s) declared"


def test_prebuilt_needs_an_image_and_an_image_needs_prebuilt() -> None:
    assert (
        "required when imageBuilder is 'prebuilt'" in issues_for("dev", {"imageBuilder": "prebuilt"})["image"]
    )
    issues = issues_for("dev", {"image": "registry.fly.io/app:v1"})
    assert issues["imageBuilder"] == "is 'local' but image is set; use 'prebuilt' with image"
    digest = "registry.fly.io/app@sha256:" + "a" * 64
    assert fly_settings("dev", {"imageBuilder": "prebuilt", "image": digest}).image == digest


def test_prod_must_pin_both_upstream_commits_in_its_own_file() -> None:
    issues = issues_for("prod", {})
    assert issues == {
        "studioCommit": "must be pinned in Pulumi.prod.yaml (a 40-hex commit SHA)",
        "songgenCommit": "must be pinned in Pulumi.prod.yaml (a 40-hex commit SHA)",
    }


def test_hf_token_must_be_a_secret() -> None:
    issues = issues_for("dev", {"hfToken": "hf_plain"})
    assert (
        issues["hfToken"]
        == "is stored in plain text; set it with `pulumi config set --secret hfToken <value>`"
    )
    loaded = load_settings("dev", {"hfToken": "hf_value"}, secret_keys=("hfToken",))
    assert loaded.settings.hf_token is not None
    assert "hf_value" not in repr(loaded.settings)


def test_a_later_problem_is_not_hidden_by_an_earlier_one_and_not_invented_either() -> None:
    # cpus fails to parse: the memory rule must not judge memory against a default CPU count.
    issues = issues_for("dev", {"cpus": "many", "memoryMb": "16384", "autostop": "suspend"})
    assert set(issues) == {"cpus", "autostop"}


@pytest.mark.parametrize("stack", ["dev", "prod", "sandbox"])
def test_the_stack_files_load_and_validate(project_root: Path, stack: str) -> None:
    raw, secret = stack_file(project_root, stack)
    settings = fly_settings(stack, raw, secret)
    assert settings.stack == stack
    assert settings.app_name == f"songgen-studio-{stack}"


def test_prod_caches_the_large_model_and_sandbox_uses_the_emulator(project_root: Path) -> None:
    raw, secret = stack_file(project_root, "prod")
    prod = fly_settings("prod", raw, secret)
    assert ModelId.LARGE in prod.models
    assert prod.volume_size_gb >= cache_size_needed_gb(prod.models)
    raw, secret = stack_file(project_root, "sandbox")
    sandbox = fly_settings("sandbox", raw, secret)
    assert sandbox.emulated
    assert sandbox.image_builder is ImageBuilder.PREBUILT


def test_a_fly_stack_against_fly_itself_is_told_once_that_gpus_ended_and_where_they_exist() -> None:
    (notice,) = FLY.notices(fly_settings("dev"))
    assert "stopped offering GPU Machines on 2026-08-01" in notice
    assert "set songgen-studio:platform to spaces or kubernetes" in notice
    (emulated,) = FLY.notices(fly_settings("dev", {"flyApiUrl": "http://127.0.0.1:4280/v1"}))
    assert "emulated Fly API at http://127.0.0.1:4280/v1" in emulated


def test_a_key_under_a_misspelt_project_namespace_is_reported() -> None:
    (issue,) = misplaced_keys(["songgen_studio:appName", "songgen-studio:models", "aws:region"])
    assert str(issue) == (
        "songgen-studio:appName: is set under songgen_studio:, which Pulumi does not pass on; "
        "use songgen-studio:appName"
    )


def test_the_fly_token_setting_is_secret_only() -> None:
    issues = issues_for("dev", {"flyApiToken": "fm2_plain"})
    assert issues == {
        "flyApiToken": "is stored in plain text; set it with `pulumi config set --secret flyApiToken <value>`"
    }
    loaded = fly_settings("dev", {"flyApiToken": "fm2_x"}, ("flyApiToken",))
    assert loaded.fly_api_token is not None


def test_an_image_without_a_tag_or_digest_is_refused() -> None:
    issues = issues_for("dev", {"imageBuilder": "prebuilt", "image": "registry.fly.io/app"})
    assert "with a tag or a digest" in issues["image"]


def test_an_unknown_platform_is_refused_with_the_ones_there_are() -> None:
    issues = issues_for("dev", {"platform": "heroku"})
    assert issues == {"platform": "'heroku' is not a platform; use one of 'fly', 'kubernetes', 'spaces'"}
