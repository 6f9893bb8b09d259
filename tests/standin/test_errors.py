"""An error shape words and renders every answer the same way: the service's words, the service's body."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from standin.errors import InvalidRequestError, ServiceError
from tests.standin.toy import SHAPE


def _body(response: Response) -> Any:
    return json.loads(bytes(response.body))


def test_an_answer_without_a_message_takes_the_services_words_for_its_status() -> None:
    named, unnamed = SHAPE.answer(404), SHAPE.answer(418)
    assert (named.status_code, _body(named)) == (404, {"problem": "nothing here"})
    assert _body(unnamed) == {"problem": "trouble"}


def test_an_answer_keeps_its_message_and_headers() -> None:
    response = SHAPE.answer(429, "slow down", headers={"Retry-After": "3"})
    assert _body(response) == {"problem": "slow down"}
    assert response.headers["Retry-After"] == "3"


def test_a_bug_is_a_500_that_names_the_stand_in_and_the_exception() -> None:
    response = SHAPE.bug(KeyError("lost"))
    assert response.status_code == 500
    assert _body(response) == {"problem": "toy bug: KeyError: 'lost'"}


def test_an_invalid_request_is_a_400_service_error() -> None:
    error = InvalidRequestError("name is required")
    assert isinstance(error, ServiceError)
    assert (error.status, error.message, error.headers, error.extra) == (400, "name is required", {}, {})
