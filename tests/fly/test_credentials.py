"""Where the URL and token come from, and how the token is sent."""

from __future__ import annotations

import pytest
from pulumi.dynamic import Config

from components.dynamic.api_error import Subject
from components.fly import credentials
from components.fly.errors import Category, FlyApiError

SUBJECT = Subject("app", "songgen-dev")


def stack_config(**values: str) -> Config:
    return Config({f"songgen-studio:{k}": v for k, v in values.items()}, project_name="project")


def test_macaroon_tokens_use_the_flyv1_scheme_and_others_bearer() -> None:
    assert credentials.authorization("fm2_abc") == "FlyV1 fm2_abc"
    assert credentials.authorization("fm1r_abc") == "FlyV1 fm1r_abc"
    assert credentials.authorization("fm1a_abc") == "FlyV1 fm1a_abc"
    assert credentials.authorization("oauth-token") == "Bearer oauth-token"


def test_tokens_pasted_with_their_scheme_or_as_a_list_are_accepted() -> None:
    # `fly tokens create` prints "FlyV1 fm2_...", often comma-joined with discharge tokens.
    assert credentials.authorization("FlyV1 fm2_abc,fm2_def") == "FlyV1 fm2_abc,fm2_def"
    assert credentials.authorization("Bearer  xyz\n") == "Bearer xyz"


def test_environment_wins_over_stack_config_and_fly_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert credentials.base_url() == credentials.DEFAULT_API_URL
    credentials.remember_stack_config(stack_config(flyApiUrl="http://127.0.0.1:4280/v1/", flyApiToken="cfg"))
    assert credentials.base_url() == "http://127.0.0.1:4280/v1"
    assert credentials.token(SUBJECT) == "cfg"
    monkeypatch.setenv(credentials.URL_ENV, "http://127.0.0.1:9/v1")
    monkeypatch.setenv(credentials.TOKEN_ENV, "env-token")
    assert credentials.base_url() == "http://127.0.0.1:9/v1"
    assert credentials.token(SUBJECT) == "env-token"


def test_missing_token_says_how_to_set_one() -> None:
    with pytest.raises(FlyApiError) as caught:
        credentials.token(SUBJECT)
    text = str(caught.value)
    assert caught.value.category == Category.AUTH
    assert "export FLY_API_TOKEN=$(fly tokens create deploy)" in text
    assert "pulumi config set --secret flyApiToken" in text
    assert "\n" not in text
