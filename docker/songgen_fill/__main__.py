"""``python -m songgen_fill``: the job (JSON) on stdin, log lines and one result line on stdout.

Exit status: 0 done, 3 not enough space, 1 a Hub or disk failure, 128+signal when stopped. The
token comes from ``HF_TOKEN``; nothing here prints it.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
import traceback
from types import FrameType

from songgen_boot.console import log
from songgen_boot.errors import HubError, InsufficientSpaceError, StopRequestedError
from songgen_boot.filljob import HUB_ERROR, NO_SPACE, OK, STOPPED, FillJob, FillResult

from .fill import Fill
from .partial import DiskError

_QUERY = re.compile(r"\?[^\s'\"]*")


class _NoSignedLinks(logging.Filter):
    """The library's warnings name the URL they retry; a CDN link's query is its signature: leave it out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _QUERY.sub("?...", str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(_QUERY.sub("?...", a) if isinstance(a, str) else a for a in record.args)
        return True


def quiet_signed_links() -> None:
    for handler in logging.getLogger("huggingface_hub").handlers:
        handler.addFilter(_NoSignedLinks())


def main() -> int:
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    quiet_signed_links()
    job = FillJob.from_json(sys.stdin.read())
    fill = Fill(job, stop, os.environ.get("HF_TOKEN") or None)
    try:
        downloaded = fill.run()
    except StopRequestedError:
        log("fill stopped; what it wrote is kept and the next boot resumes it")
        return report(FillResult(STOPPED, downloaded_bytes=fill.downloaded), 128 + (received or [15])[0])
    except InsufficientSpaceError as err:
        return report(FillResult(NO_SPACE, str(err)), 3)
    except (HubError, DiskError) as err:
        return report(FillResult(HUB_ERROR, str(err), fill.downloaded), 1)
    except Exception as err:  # a bug: its traceback goes to the log, the boot fails with its message
        traceback.print_exc()
        return report(FillResult(HUB_ERROR, f"the fill failed: {type(err).__name__}: {err}"), 1)
    return report(FillResult(OK, downloaded_bytes=downloaded), 0)


def report(result: FillResult, code: int) -> int:
    sys.stderr.flush()
    print(result.line(), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
