"""The error every platform's API failures share: one paragraph, secrets scrubbed, rebuilt from its fields."""

from __future__ import annotations

import pickle
from typing import Any, Unpack

from components.dynamic.api_error import ApiError, Category, CommonFields, Subject

TOY_SUGGESTIONS = {Category.NOT_FOUND: "Check the name."}


class ToyError(ApiError):
    service = "Toy API"
    request_id_label = "toy-request"
    suggestions = TOY_SUGGESTIONS

    def __init__(self, subject: Subject, *, route: str = "", **common: Unpack[CommonFields]) -> None:
        self.route = route
        super().__init__(subject, **common)

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), "route": self.route}

    def _request_line(self) -> str:
        return self.route


def test_the_paragraph_names_the_resource_the_call_the_words_the_attempts_and_what_to_do() -> None:
    err = ToyError(
        Subject("item", "a"),
        message="no such\nitem",
        route="GET /items/a",
        status=404,
        request_id="r1",
        category=Category.NOT_FOUND,
        attempts=3,
        elapsed_s=1.25,
    )
    assert str(err) == (
        'Toy API error for item a: GET /items/a answered HTTP 404 "no such item" '
        "(toy-request r1; gave up after 3 attempts over 1.2 s). Check the name."
    )


def test_secrets_are_scrubbed_from_the_words_and_the_advice() -> None:
    err = ToyError(
        Subject("item", "a"), message="bad token tok_12345", suggestion="not tok_12345", redact=["tok_12345"]
    )
    assert "tok_12345" not in str(err)
    assert err.service_message == "bad token [redacted]"


def test_advice_and_pickling_keep_the_subclass_and_its_fields() -> None:
    err = ToyError(Subject("item", "a"), message="gone", route="GET /items/a", status=404, maybe_applied=True)
    advised = err.with_advice("Look elsewhere.", Category.OTHER)
    assert type(advised) is ToyError
    assert (advised.route, advised.status, advised.maybe_applied) == ("GET /items/a", 404, True)
    assert str(advised).endswith("Look elsewhere.")
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - bytes made here
    assert type(copy) is ToyError
    assert str(copy) == str(err)
