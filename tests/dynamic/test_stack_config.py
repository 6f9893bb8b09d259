"""The stack config a provider process was given: kept in the process, behind the environment."""

from __future__ import annotations

import pytest

from components.dynamic.stack_config import StackConfig

KEY = "songgen-studio:apiUrl"


def test_the_environment_wins_and_the_stack_config_fills_in() -> None:
    config = StackConfig(KEY)
    assert config.setting("SONGGEN_TEST_API_URL", KEY) == ""
    config.remember({KEY: "  http://127.0.0.1:9  ", "songgen-studio:other": "not kept"})
    assert config.setting("SONGGEN_TEST_API_URL", KEY) == "http://127.0.0.1:9"
    assert config.setting("SONGGEN_TEST_OTHER", "songgen-studio:other") == ""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SONGGEN_TEST_API_URL", "http://127.0.0.1:8")
        assert config.setting("SONGGEN_TEST_API_URL", KEY) == "http://127.0.0.1:8"


def test_a_blank_value_in_a_later_configure_is_forgotten_and_forget_clears_all() -> None:
    config = StackConfig(KEY)
    config.remember({KEY: "http://127.0.0.1:9"})
    config.remember({KEY: "  "})
    assert config.setting("SONGGEN_TEST_API_URL", KEY) == ""
    config.remember({KEY: "http://127.0.0.1:9"})
    config.forget()
    assert config.setting("SONGGEN_TEST_API_URL", KEY) == ""
