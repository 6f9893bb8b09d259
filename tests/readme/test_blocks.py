"""Finding the README's runnable blocks: by their marker, in any section, and never silently skipped."""

from __future__ import annotations

import pytest

from tests.readme.blocks import MarkerError, marked_blocks

README = """\
# Project

```sh
# a comment in an unmarked block, not a heading
make something-unmarked
```

## Later, renamed section

<!-- readme-walk: local -->

```sh
make sandbox
```

### Deep inside

<!-- readme-walk: sandbox -->
```bash
pulumi up -s dev
pulumi destroy -s dev
```
"""


def test_marked_blocks_are_found_in_any_section_with_their_mode_and_code() -> None:
    local, sandbox = marked_blocks(README)
    assert (local.mode, local.code, local.section) == ("local", "make sandbox\n", "Later, renamed section")
    assert (sandbox.mode, sandbox.section) == ("sandbox", "Deep inside")
    assert sandbox.code == "pulumi up -s dev\npulumi destroy -s dev\n"
    assert local.name == f"local-later-renamed-section-line{local.line}"
    assert README.splitlines()[local.line - 1] == "<!-- readme-walk: local -->"


def test_unmarked_blocks_are_not_walked() -> None:
    assert all("unmarked" not in block.code for block in marked_blocks(README))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("<!-- readme-walk: cloud -->\n```sh\nls\n```\n", "unknown readme-walk mode 'cloud'"),
        ("<!-- readme-walk: local -->\nSome prose.\n```sh\nls\n```\n", "must come right before"),
        ("<!-- readme-walk: local -->\n```yaml\nkey: value\n```\n", "must come right before"),
        ("<!-- readme-walk: local -->\n", "must come right before"),
        ("<!-- readme-walk: local -->\n```sh\nls\n", "never closed"),
    ],
)
def test_a_marker_that_marks_no_runnable_block_is_an_error(text: str, complaint: str) -> None:
    with pytest.raises(MarkerError, match=complaint):
        marked_blocks(text)
