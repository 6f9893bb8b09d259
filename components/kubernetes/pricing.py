"""What a Kubernetes stack costs: the GPU node while the Studio runs, the claim's disk all month.

A GPU node pool that scales from zero runs a node only while the Studio's pod needs it, so the node's hourly
price is the running cost; the claim's disk is billed per provisioned GB whether a pod runs or not. The price
comes from the catalog's node type (`gpuNodeType`) or from `nodePricePerHour` and `diskPricePerGbMonth`; without
either, the figure is unknown rather than guessed. The cluster's control plane (GKE, EKS: $0.10 an hour) is
shared with whatever else the cluster runs and is not counted.
"""

from __future__ import annotations

from components.cost import CostEstimate

from .catalog import NODE_TYPES, PRICES_AS_OF, PRICES_SOURCE
from .settings import KubernetesSettings

USER_SOURCE = "prices set in the stack (nodePricePerHour, diskPricePerGbMonth)"


def estimate(settings: KubernetesSettings) -> CostEstimate:
    node = NODE_TYPES.get(settings.gpu_node_type) if settings.gpu_node_type else None
    node_hour = settings.node_price_per_hour
    disk_gb_month = settings.disk_price_per_gb_month
    if node is not None:
        node_hour = node.price_per_hour if node_hour is None else node_hour
        disk_gb_month = node.disk_gb_month if disk_gb_month is None else disk_gb_month
    claim_month = None if disk_gb_month is None else settings.claim_gb * disk_gb_month
    breakdown = {}
    if node_hour is not None:
        breakdown["node_hour"] = node_hour
    if claim_month is not None:
        breakdown["claim_month"] = claim_month
    catalog = node is not None and (
        settings.node_price_per_hour is None or settings.disk_price_per_gb_month is None
    )
    if catalog and node is not None:
        source = f"{node.cloud} {node.machine} ({node.gpu}), disk {node.disk_class}: {PRICES_SOURCE}"
        as_of = PRICES_AS_OF.isoformat()
    elif node_hour is None and claim_month is None:
        source = "unknown: set gpuNodeType (a catalog entry) or nodePricePerHour and diskPricePerGbMonth"
        as_of = "unknown"
    else:
        source = USER_SOURCE
        as_of = "as set in the stack"
    return CostEstimate(
        per_running_hour=node_hour,
        per_idle_month=claim_month,
        busy_hours_per_month=settings.busy_hours_per_month,
        prices_as_of=as_of,
        source=source,
        breakdown=breakdown,
    )
