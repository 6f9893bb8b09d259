"""The Spaces settings: each rule with a bad input and the message a person reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.platforms import load_settings
from components.settings import SettingsError
from components.spaces.platform import PLATFORM as SPACES
from tests.spaces.conftest import spaces_settings
from tests.unit.test_settings import stack_file

ROOT = Path(__file__).resolve().parents[2]
HEX = "0123456789abcdef0123456789abcdef01234567"


def issues_for(
    raw: dict[str, Any], stack: str = "dev", secret: tuple[str, ...] = ("hfToken",)
) -> dict[str, str]:
    config = {"platform": "spaces", "hfNamespace": "alice", "hfToken": "hf_x", **raw}
    config = {key: value for key, value in config.items() if value is not None}
    with pytest.raises(SettingsError) as caught:
        load_settings(stack, config, secret_keys=secret)
    return {issue.key: issue.message for issue in caught.value.issues}


def test_defaults_are_a_private_l40s_space_named_after_the_stack_that_sleeps_after_fifteen_minutes() -> None:
    settings = spaces_settings("dev")
    assert settings.repo_id == "alice/songgen-studio-dev"
    assert (settings.space_hardware, settings.space_private, settings.copy_models) == ("l40sx1", True, False)
    assert settings.sleep_seconds == 15 * 60
    assert settings.revision_of("runtime") == settings.revision_of("base") == "main"
    assert (
        load_settings(
            "dev", {"platform": "spaces", "hfNamespace": "a", "hfToken": "t"}, secret_keys={"hfToken"}
        ).warnings
        == []
    )


def test_a_namespace_and_a_token_are_required_and_say_how_to_set_them() -> None:
    issues = issues_for({"hfNamespace": None, "hfToken": None})
    assert "pulumi config set hfNamespace <name>" in issues["hfNamespace"]
    assert "pulumi config set --secret hfToken <token>" in issues["hfToken"]
    assert "write token" in issues["hfToken"]


def test_a_token_in_plain_text_is_refused() -> None:
    assert "pulumi config set --secret hfToken" in issues_for({}, secret=())["hfToken"]


@pytest.mark.parametrize(
    ("flavor", "reason"),
    [
        ("a10g-small", "a10g-small has 15 GB of RAM; the Studio needs more than 31 GB"),
        ("l4x1", "l4x1 has 30 GB of RAM; the Studio needs more than 31 GB"),
    ],
)
def test_flavors_with_too_little_ram_are_refused_naming_the_ones_that_fit(flavor: str, reason: str) -> None:
    message = issues_for({"spaceHardware": flavor})["spaceHardware"]
    assert message == f"{reason} (it was OOM-killed at 32 GB); use a10g-large or l40sx1 or a100-large"


@pytest.mark.parametrize("flavor", ["t4-small", "cpu-basic", "zero-a10g", "h100"])
def test_a_flavor_without_a_usable_gpu_is_refused(flavor: str) -> None:
    message = issues_for({"spaceHardware": flavor})["spaceHardware"]
    assert (
        message
        == f"{flavor!r} is not a GPU flavor the Studio can use; use one of a10g-large, l40sx1, a100-large"
    )


def test_a10g_large_is_accepted_with_a_warning_that_names_the_large_model_risk() -> None:
    loaded = load_settings(
        "dev",
        {
            "platform": "spaces",
            "hfNamespace": "a",
            "hfToken": "t",
            "spaceHardware": "a10g-large",
            "models": ["large"],
        },
        secret_keys={"hfToken"},
    )
    (warning,) = loaded.warnings
    assert "a10g-large with 46 GB of RAM" in warning
    assert "risky with the large model" in warning


def test_never_sleeping_is_refused_with_what_it_would_cost() -> None:
    message = issues_for({"idleStopMinutes": 0, "spaceHardware": "a100-large"})["idleStopMinutes"]
    assert message.startswith(
        "0 would keep the Space awake for good: a100-large bills $2.50 every hour, $1,825 a month"
    )
    assert "at most 1440" in message


def test_weight_revisions_take_commits_or_main_for_known_repos_only() -> None:
    settings = spaces_settings(weightRevisions={"runtime": HEX, "large": "main"})
    assert settings.revision_of("runtime") == HEX
    assert settings.revision_of("large") == "main"
    unknown = issues_for({"weightRevisions": '{"xl": "main"}'})["weightRevisions"]
    assert unknown == "'xl' is not a weight repo; use runtime, base, base-new, base-full, large"
    tag = issues_for({"weightRevisions": {"runtime": "v1.0"}})["weightRevisions"]
    assert tag == "runtime: 'v1.0' is not a revision: a full 40-character commit SHA, or 'main'"


def test_space_and_namespace_names_follow_the_hubs_rule() -> None:
    issues = issues_for({"spaceName": "my--space", "hfNamespace": "-alice"})
    assert issues["spaceName"].startswith("'my--space' is not valid: a Space name")
    assert issues["hfNamespace"].startswith("'-alice' is not valid: a Hugging Face user or organisation name")


def test_a_fly_key_in_a_spaces_stack_says_whose_it_is() -> None:
    issues = issues_for({"gpuKind": "a10"})
    assert issues["gpuKind"].startswith("is a fly setting, and this stack's platform is 'spaces'")


def test_a_spaces_key_in_a_fly_stack_says_whose_it_is() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", {"spaceHardware": "l40sx1"})
    (issue,) = caught.value.issues
    assert issue.message.startswith("is a spaces setting, and this stack's platform is 'fly'")


def test_every_problem_is_reported_at_once() -> None:
    issues = issues_for(
        {"hfNamespace": None, "spaceHardware": "l4x1", "idleStopMinutes": 0, "spaceName": "-"}
    )
    assert set(issues) == {"hfNamespace", "spaceHardware", "idleStopMinutes", "spaceName"}


def test_the_shipped_spaces_stack_needs_only_the_namespace_and_the_token() -> None:
    raw, secret = stack_file(ROOT, "spaces")
    with pytest.raises(SettingsError) as caught:
        load_settings("spaces", raw, secret_keys=secret)
    assert {issue.key for issue in caught.value.issues} == {"hfNamespace", "hfToken"}
    loaded = load_settings("spaces", {**raw, "hfNamespace": "alice", "hfToken": "t"}, secret_keys={"hfToken"})
    assert loaded.settings.platform.value == "spaces"
    assert loaded.warnings == []


def test_the_sandbox_spaces_stack_is_valid_and_holds_its_token_encrypted() -> None:
    raw, secret = stack_file(ROOT, "sandbox-spaces")
    assert secret == {"hfToken"}
    settings = load_settings("sandbox-spaces", raw, secret_keys=secret).settings
    assert settings.platform.value == "spaces"


def test_notices_say_where_the_stack_points_and_that_main_is_pinned_at_the_first_deploy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    real, following = SPACES.notices(spaces_settings(models=["base", "large"]))
    assert real.startswith("The Space alice/songgen-studio-dev runs on l40sx1 at $1.80 an hour")
    assert "academic, research and education use only" in real
    assert following.startswith("Weights of runtime, base, large are mounted at the commit their main branch")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    pinned = {"runtime": HEX, "base": HEX}
    (stand_in,) = SPACES.notices(spaces_settings(weightRevisions=pinned))
    assert stand_in.startswith("This stack targets a Hugging Face Hub at http://127.0.0.1:9")
