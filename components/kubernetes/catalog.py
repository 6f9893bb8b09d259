"""Facts the Kubernetes platform relies on: object names, the ownership marker, and common GPU node types
with dated prices.

Prices are on-demand list prices (Linux, per hour) as published on the sources named below on PRICES_AS_OF:
Google Compute Engine's "VM instance pricing" and "GPU pricing" pages (us-central1), and Amazon EC2 On-Demand
pricing (us-east-1). A managed control plane costs extra (GKE and EKS: $0.10 per cluster-hour; GKE credits one
zonal or Autopilot cluster per billing account); disks are billed per provisioned GB-month whether a pod runs
or not. Your cluster may differ: set `nodePricePerHour` for your own nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"
# What GPU node pools carry (GKE adds it to every GPU node; EKS and NVIDIA's operator docs recommend it).
DEFAULT_TOLERATIONS = ({"key": DEFAULT_GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"},)

# The marker every object of a stack carries: the owner id (organization/project/stack) as an annotation
# (label values cannot hold '/'), and labels a person can select by.
OWNER_ANNOTATION = "songgen.studio/owner"
OWNER_LABEL = "songgen.studio/owner-digest"
PART_OF = "songgen-studio"

# The entrypoint's own SIGTERM grace (SONGGEN_STOP_GRACE_SECONDS) plus a margin for the kubelet.
STOP_GRACE_SECONDS = 20
TERMINATION_MARGIN_SECONDS = 10

PRICES_AS_OF = date(2026, 11, 1)
PRICES_SOURCE = (
    "https://cloud.google.com/compute/vm-instance-pricing, https://cloud.google.com/compute/gpus-pricing "
    "(us-central1); https://aws.amazon.com/ec2/pricing/on-demand/ (us-east-1)"
)


@dataclass(frozen=True)
class NodeType:
    """One GPU node a cluster's pool is commonly made of."""

    cloud: str
    machine: str
    gpu: str
    gpu_vram_gb: int
    cpus: int
    memory_gb: int
    # Memory the kubelet leaves to pods on this node (the cloud's reservations and eviction threshold).
    allocatable_memory_gb: int
    price_per_hour: float
    # Persistent disk per provisioned GB-month (the cloud's default class for a claim).
    disk_gb_month: float
    disk_class: str


NODE_TYPES: dict[str, NodeType] = {
    "gke-g2-standard-16": NodeType(
        cloud="GKE",
        machine="g2-standard-16",
        gpu="NVIDIA L4",
        gpu_vram_gb=24,
        cpus=16,
        memory_gb=64,
        allocatable_memory_gb=58,
        price_per_hour=1.1472,
        disk_gb_month=0.10,
        disk_class="pd-balanced (standard-rwo)",
    ),
    "eks-g6.4xlarge": NodeType(
        cloud="EKS",
        machine="g6.4xlarge",
        gpu="NVIDIA L4",
        gpu_vram_gb=24,
        cpus=16,
        memory_gb=64,
        allocatable_memory_gb=57,
        price_per_hour=1.3232,
        disk_gb_month=0.08,
        disk_class="gp3",
    ),
    "eks-g5.4xlarge": NodeType(
        cloud="EKS",
        machine="g5.4xlarge",
        gpu="NVIDIA A10G",
        gpu_vram_gb=24,
        cpus=16,
        memory_gb=64,
        allocatable_memory_gb=57,
        price_per_hour=1.624,
        disk_gb_month=0.08,
        disk_class="gp3",
    ),
}

# KEDA HTTP add-on: where its interceptor answers by default (Helm chart `keda-add-ons-http`, namespace keda).
KEDA_INTERCEPTOR = "keda/keda-add-ons-http-interceptor-proxy:8080"
# KEDA only wakes the Studio; the Studio puts itself to sleep when truly idle (never during a song). So the
# add-on's own request-based scale-down is pushed out of the way.
KEDA_SCALEDOWN_SECONDS = 7 * 24 * 3600
