"""What a provider tells the engine changed: a diff that names its changed inputs, and `gone()` for a read that
finds the resource deleted outside Pulumi."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi.dynamic import DiffResult, ReadResult

from . import compare


class KeyedDiff(DiffResult):
    """A DiffResult that also names exactly which properties change.

    The engine is sent `changes`, `replaces` and `delete_before_replace` (the Python dynamic provider protocol
    carries nothing more); `changed_keys` lets callers and tests see the same plan the preview shows.
    """

    def __init__(
        self, changed_keys: Sequence[str], replaces: Sequence[str] = (), delete_before_replace: bool = False
    ) -> None:
        super().__init__(
            changes=bool(changed_keys),
            replaces=list(replaces),
            stables=None,
            delete_before_replace=delete_before_replace if replaces else None,
        )
        self.changed_keys = list(changed_keys)


def diff_inputs(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    keys: Iterable[str],
    replace_on: Iterable[str] = (),
    *,
    delete_before_replace: bool = False,
    equal: Callable[[Any, Any], bool] = compare.same,
) -> KeyedDiff:
    """Compare each input key semantically (`equal`, under its key: a null and an empty value are alike); the
    changed ones in `replace_on` force a replacement."""
    changed = [k for k in keys if not equal({k: olds.get(k)}, {k: news.get(k)})]
    replaces = [k for k in changed if k in set(replace_on)]
    return KeyedDiff(changed, replaces, delete_before_replace)


def gone() -> ReadResult:
    """What `read` returns for a resource deleted outside Pulumi: an empty id tells the engine it is gone."""
    return ReadResult(id_="", outs={})
