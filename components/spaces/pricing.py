"""What a Spaces stack costs: the Hub's dated hardware prices and the estimate derived from the settings.

A Space bills its hardware per minute while it starts or runs; builds are free, and a sleeping (STOPPED) or
paused Space bills nothing. The bucket holding songs is private storage: free within the account's included
private storage (100 GB on a free account, 1 TB on PRO or per Enterprise seat), then $25 per TB-month in 1 TB
steps. A Studio's songs are a few MB each, so the estimate counts the bucket at $0 and says where that ends.
Busy hours are billed hours: each stretch of work also pays its start (the container boots with the weights
mounted) and the idleStopMinutes the Space stays awake after the last song before it sleeps.
"""

from __future__ import annotations

from datetime import date

from components.cost import CostEstimate

from .catalog import FLAVORS
from .settings import SpacesSettings

PRICES_AS_OF = date(2026, 11, 1)
PRICES_SOURCE = (
    "https://huggingface.co/docs/hub/spaces-gpus (hardware per hour, billed per minute while starting or "
    "running) and https://huggingface.co/docs/hub/storage-limits (private storage: included up to 100 GB, "
    "1 TB with PRO, then $25/TB-month)"
)
# Counted at $0: songs stay far below the private storage every account includes.
BUCKET_MONTH_USD = 0.0


def hourly(flavor: str) -> float:
    return FLAVORS[flavor].usd_per_hour


def estimate(settings: SpacesSettings) -> CostEstimate:
    """Running: the flavor's hourly price. Idle: the Space sleeps after idleStopMinutes and bills nothing."""
    per_hour = hourly(settings.space_hardware)
    return CostEstimate(
        per_running_hour=per_hour,
        per_idle_month=BUCKET_MONTH_USD,
        busy_hours_per_month=settings.busy_hours_per_month,
        prices_as_of=PRICES_AS_OF.isoformat(),
        source=PRICES_SOURCE,
        breakdown={"space_hour": per_hour, "bucket_month": BUCKET_MONTH_USD},
    )
