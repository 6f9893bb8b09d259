"""The README's runnable blocks: a fenced shell block right after a `<!-- readme-walk: MODE -->` line.

Found wherever they are, so the README can be reorganised freely; a marker that is not followed by a
shell block, or names an unknown mode, is an error rather than a block silently skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# local: runs as written and needs no account; sandbox: needs a Fly account, so it runs against the
# emulator instead of Fly.
MODES = ("local", "sandbox")
MARKER = re.compile(r"^<!--\s*readme-walk:\s*(?P<mode>[\w-]+)\s*-->\s*$")
FENCE = re.compile(r"^\s*(?P<fence>```|~~~)\s*(?P<lang>[\w-]*)\s*$")
SHELLS = ("sh", "bash", "shell")


@dataclass(frozen=True)
class Block:
    mode: str
    code: str
    line: int  # 1-based line of the marker
    section: str  # the nearest heading above it, for test names

    @property
    def name(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.section.lower()).strip("-") or "top"
        return f"{self.mode}-{slug}-line{self.line}"


class MarkerError(ValueError):
    """A readme-walk marker that does not mark a runnable block."""


def fenced_body(lines: list[str], start: int, fence: str) -> tuple[str, int]:
    """The lines from `start` up to the closing fence, and the index after it."""
    for end in range(start, len(lines)):
        if lines[end].strip() == fence:
            return "\n".join(lines[start:end]) + "\n", end + 1
    raise MarkerError(f"line {start}: a fenced block is never closed")


def marked_blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    section = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        unmarked = FENCE.match(line)
        if unmarked:  # skipped whole, so that comments inside are not taken for headings
            _, index = fenced_body(lines, index + 1, unmarked["fence"])
            continue
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        index += 1
        marker = MARKER.match(line)
        if not marker:
            continue
        marker_line = index
        if marker["mode"] not in MODES:
            raise MarkerError(
                f"line {marker_line}: unknown readme-walk mode {marker['mode']!r} (known: {', '.join(MODES)})"
            )
        while index < len(lines) and not lines[index].strip():
            index += 1
        opening = FENCE.match(lines[index]) if index < len(lines) else None
        if not opening or opening["lang"] not in SHELLS:
            raise MarkerError(
                f"line {marker_line}: a readme-walk marker must come right before a ```sh block"
            )
        body, index = fenced_body(lines, index + 1, opening["fence"])
        blocks.append(Block(marker["mode"], body, marker_line, section))
    return blocks
