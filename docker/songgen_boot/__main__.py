"""The boot: configuration, privileges, the data dir and the weights, then the Studio until it exits or idles."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence

from .config import Settings
from .console import log
from .errors import ConfigError, HubError, InsufficientSpaceError, StopRequestedError, WeightsError
from .fill import Filler
from .idle_policy import make_idle_policy
from .layout import lay_out, mark_models_verified
from .mounts import use_mounted_weights
from .overlays import apply_overlays
from .privileges import drop_privileges
from .statefiles import StateMirror, restore_state_files
from .supervisor import Supervisor


def prepare(settings: Settings, stop: threading.Event) -> None:
    if settings.data_bucket:
        restore_state_files(settings)
    lay_out(settings)
    if settings.weights_dir is not None:
        use_mounted_weights(settings, stop)
    else:
        fill_volume(settings, stop)
    if settings.data_bucket:
        StateMirror(settings).sync()  # what the boot recorded reaches the bucket before the Studio runs


def fill_volume(settings: Settings, stop: threading.Event) -> None:
    filler = Filler(settings, stop)
    if settings.download:
        manifests = filler.run()
        mark_models_verified(settings, manifests)
    else:
        log("SONGGEN_DOWNLOAD=0: using what the volume holds, fetching nothing")
    apply_overlays(settings, filler)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m songgen_boot",
        description="Prepare the volume, then run the SongGeneration Studio (configured by environment).",
    )
    parser.add_argument("--prepare-only", action="store_true", help="lay out and fill the volume, then exit")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(os.environ if env is None else env)
        policy = make_idle_policy(settings)
    except ConfigError as err:
        log(str(err))
        return 2
    log(settings.describe())

    stop = threading.Event()
    supervisor = Supervisor(settings, stop, policy)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, supervisor.handle_signal)

    try:
        drop_privileges(settings)
        prepare(settings, stop)
    except StopRequestedError:
        received = supervisor.received or signal.SIGTERM
        log(f"stopped by {signal.Signals(received).name} while preparing; partial downloads resume next boot")
        return 128 + received
    except InsufficientSpaceError as err:
        log(f"ERROR: {err}")
        return 3
    except (HubError, ConfigError, WeightsError, OSError) as err:
        log(f"ERROR: {err}")
        return 1
    if args.prepare_only:
        return 0
    if supervisor.received is not None:
        return 128 + supervisor.received
    return run_studio(settings, supervisor)


def run_studio(settings: Settings, supervisor: Supervisor) -> int:
    """The Studio until it exits; with a bucket, its state files mirrored all along and once after."""
    if not settings.data_bucket:
        return supervisor.run()
    mirror = StateMirror(settings)
    mirror.start()
    try:
        return supervisor.run()
    finally:
        mirror.close()


if __name__ == "__main__":
    sys.exit(main())
