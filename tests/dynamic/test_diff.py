"""Diffs of inputs that every platform's providers share: what a preview does not know yet differs."""

from __future__ import annotations

from pulumi.output import UNKNOWN

from components.dynamic.diff import diff_inputs


def test_unknown_values_in_preview_count_as_changes_and_force_replacement_where_they_would() -> None:
    olds = {"app_name": "a", "region": "ord", "size_gb": 5}
    news = {"app_name": "a", "region": UNKNOWN, "size_gb": 5}
    diff = diff_inputs(olds, news, ["app_name", "region", "size_gb"], replace_on=["region"])
    assert diff.changed_keys == ["region"]
    assert diff.replaces == ["region"]
