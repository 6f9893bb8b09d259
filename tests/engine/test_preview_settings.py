"""`pulumi preview` under the real engine: valid settings resolve, broken ones fail per key."""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from tests.engine.conftest import StackFactory

pytestmark = pytest.mark.engine

BROKEN = """\
config:
  songgen-studio:appName: Not_A_Fly_Name
  songgen-studio:memoryMb: 4096
  songgen-studio:volumeSizeGb: 10
  songgen-studio:gpuKind: h100
"""


def test_preview_of_the_sandbox_stack_runs_under_the_real_engine(make_stack: StackFactory) -> None:
    stack = make_stack("sandbox")
    lines: list[str] = []
    result = stack.preview(on_output=lines.append)
    assert result.change_summary.get(auto.OpType.CREATE, 0) >= 1
    assert "error" not in "".join(lines).lower()


def test_preview_of_a_broken_stack_fails_with_one_line_per_key_and_no_traceback(
    make_stack: StackFactory,
) -> None:
    stack = make_stack("broken", stack_file=BROKEN)
    with pytest.raises(auto.CommandError) as caught:
        stack.preview()
    output = str(caught.value)
    assert "Pulumi.broken.yaml has 4 invalid setting(s)" in output
    for key in ("appName", "memoryMb", "volumeSizeGb", "gpuKind"):
        assert f"- songgen-studio:{key}: " in output
    assert "Traceback" not in output
