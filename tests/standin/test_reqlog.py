"""Redaction of what a request record keeps, and the bounded log."""

from __future__ import annotations

from standin.reqlog import REDACTED, RequestLog, redact_query, redact_text


def test_the_callers_credential_is_scrubbed_from_text() -> None:
    assert redact_text("/api/items/tok-123/x", "tok-123") == f"/api/items/{REDACTED}/x"
    assert redact_text("/api/items", None) == "/api/items"


def test_credential_query_values_are_redacted_by_name_and_by_content() -> None:
    query = "token=abc&Signature=s1&note=has-tok-123-inside&page=2"
    cleaned = redact_query(query, "tok-123")
    assert "abc" not in cleaned
    assert "s1" not in cleaned
    assert "tok-123" not in cleaned
    assert "page=2" in cleaned
    assert redact_query("", "tok") == ""


def test_the_log_keeps_the_newest_records_up_to_its_bound() -> None:
    log: RequestLog[int] = RequestLog(max_records=3)
    for n in range(5):
        log.add(n)
    assert log.all() == [2, 3, 4]
    log.clear()
    assert log.all() == []
