"""Machine config validation and normalisation, the way Fly checks a create or update body.

Sources: the OpenAPI spec's fly.MachineConfig family, fly-go machine_types.go (guest presets and memory
bounds: 256-2048 MB per shared CPU, 2048-8192 MB per performance CPU, in 256 MB steps), FACTS.md section 2
(GPU end of life, GPU regions, autostop echoed as a boolean, suspend not possible with GPUs).

Fly decodes the config into a Go struct, so unknown top-level keys are dropped silently and never echoed
back; the emulator does the same, which is how a client learns that a field it sent does not exist.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

from emulator.errors import FlyError, bad_request
from emulator.regions import GPU_REGIONS
from standin.jsonbody import JSON, opt_bool, opt_int, opt_list, opt_obj, opt_str, str_list, str_map

KNOWN_KEYS = frozenset(
    {
        "auto_destroy", "cache_drive", "checks", "containers", "disable_machine_autostart", "dns", "env",
        "files", "guest", "image", "init", "metadata", "metrics", "mounts", "processes", "restart", "rootfs",
        "schedule", "services", "size", "spot", "standbys", "statics", "stop_config", "volumes",
    }
)  # fmt: skip

SHARED_CPUS = (1, 2, 4, 6, 8)
PERFORMANCE_CPUS = (1, 2, 4, 6, 8, 10, 12, 14, 16)
MEMORY_PER_CPU = {"shared": (256, 2048), "performance": (2048, 8192)}
PRESETS: dict[str, JSON] = {
    **{f"shared-cpu-{n}x": {"cpu_kind": "shared", "cpus": n, "memory_mb": 256 * n} for n in SHARED_CPUS},
    **{
        f"performance-{n}x": {"cpu_kind": "performance", "cpus": n, "memory_mb": 2048 * n}
        for n in PERFORMANCE_CPUS
    },
    "a10": {"cpu_kind": "performance", "cpus": 8, "memory_mb": 32768, "gpu_kind": "a10", "gpus": 1},
    "l40s": {"cpu_kind": "performance", "cpus": 8, "memory_mb": 32768, "gpu_kind": "l40s", "gpus": 1},
    "a100-40gb": {
        "cpu_kind": "performance",
        "cpus": 8,
        "memory_mb": 32768,
        "gpu_kind": "a100-pcie-40gb",
        "gpus": 1,
    },
    "a100-80gb": {
        "cpu_kind": "performance",
        "cpus": 8,
        "memory_mb": 32768,
        "gpu_kind": "a100-sxm4-80gb",
        "gpus": 1,
    },
}
GPU_END_OF_LIFE = (
    "GPU Machines are no longer available: Fly.io stopped offering GPUs on 2026-08-01. "
    "Remove guest.gpu_kind and guest.gpus to run on CPUs"
)

RESTART_POLICIES = ("no", "always", "on-failure", "spot-price")
SIGNALS = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM")
PROTOCOLS = ("tcp", "udp")
HANDLERS = ("http", "tls", "pg_tls", "proxy_proto", "edge_http")
AUTOSTOP = ("off", "stop", "suspend")
CONCURRENCY_TYPES = ("connections", "requests")
CHECK_TYPES = ("tcp", "http")
SCHEDULES = ("hourly", "daily", "weekly", "monthly")
ROOTFS_PERSIST = ("never", "always", "restart")
GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")


def _fail(message: str) -> FlyError:
    return bad_request(f"invalid config: {message}")


def _enum(value: str | None, allowed: tuple[str, ...], field: str) -> None:
    if value is not None and value not in allowed:
        raise _fail(f"{field} {value!r} is not one of {', '.join(allowed)}")


def _port(value: int | None, field: str, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise _fail(f"{field} is required")
        return
    if not 1 <= value <= 65535:
        raise _fail(f"{field} {value} is not a port number (1-65535)")


def check_duration(obj: JSON, key: str, where: str) -> None:
    """fly.Duration accepts a Go duration string ("15s") or a number of nanoseconds."""
    if key not in obj or obj[key] is None:
        return
    value = obj[key]
    if isinstance(value, bool):
        raise _fail(f'{where}{key} must be a duration such as "10s"')
    if isinstance(value, int | float):
        if value < 0:
            raise _fail(f"{where}{key} must not be negative")
        return
    if not isinstance(value, str) or not GO_DURATION.fullmatch(value):
        raise _fail(f'{where}{key} {json.dumps(value)} is not a duration such as "10s"')


def normalize_guest(config: JSON, *, gpus_offered: bool, region: str) -> JSON:
    size = opt_str(config, "size")
    guest = opt_obj(config, "guest", "config.")
    if guest is None:
        if size is not None:
            if size not in PRESETS:
                raise _fail(f"size {size!r} is not a machine preset")
            guest = dict(PRESETS[size])
        else:
            guest = dict(PRESETS["shared-cpu-1x"])
    guest = dict(guest)
    where = "guest."
    cpu_kind = opt_str(guest, "cpu_kind", where) or "shared"
    cpus = opt_int(guest, "cpus", where) or 1
    memory = opt_int(guest, "memory_mb", where)
    gpu_kind = opt_str(guest, "gpu_kind", where)
    gpus = opt_int(guest, "gpus", where) or 0
    opt_int(guest, "max_memory_mb", where)
    opt_str(guest, "host_dedication_id", where)
    str_list(guest, "kernel_args", where)

    if cpu_kind not in MEMORY_PER_CPU:
        raise _fail(f"guest.cpu_kind {cpu_kind!r} is not one of shared, performance")
    allowed_cpus = SHARED_CPUS if cpu_kind == "shared" else PERFORMANCE_CPUS
    if cpus not in allowed_cpus:
        raise _fail(f"guest.cpus {cpus} is not valid for {cpu_kind} CPUs (one of {allowed_cpus})")
    low, high = MEMORY_PER_CPU[cpu_kind]
    if memory is None:
        memory = low * cpus
    if memory % 256:
        raise _fail(f"guest.memory_mb {memory} must be a multiple of 256")
    if not low * cpus <= memory <= high * cpus:
        raise _fail(
            f"guest.memory_mb {memory} is out of range for {cpus} {cpu_kind} CPU(s): "
            f"{low * cpus}-{high * cpus} MB ({low}-{high} MB per CPU)"
        )

    if gpu_kind or gpus > 0:
        if not gpus_offered:
            raise bad_request(GPU_END_OF_LIFE)
        if not gpu_kind:
            raise _fail("guest.gpu_kind is required when guest.gpus is set")
        if gpu_kind not in GPU_REGIONS:
            raise _fail(f"guest.gpu_kind {gpu_kind!r} is not one of {', '.join(GPU_REGIONS)}")
        gpus = gpus or 1
        if region not in GPU_REGIONS[gpu_kind]:
            # Fly's capacity answer: the status code tells clients the whole region is out, not one host.
            raise FlyError(
                422,
                f"insufficient resources available to fulfill request: no {gpu_kind} GPUs in region {region} "
                f"(offered in {', '.join(sorted(GPU_REGIONS[gpu_kind]))})",
                code="insufficient_capacity",
            )
        guest["gpu_kind"] = gpu_kind
        guest["gpus"] = gpus
    guest.update(cpu_kind=cpu_kind, cpus=cpus, memory_mb=memory)
    return guest


def _check(check: JSON, where: str) -> None:
    _enum(opt_str(check, "type", where), CHECK_TYPES, f"{where}type")
    _port(opt_int(check, "port", where), f"{where}port")
    for key in ("interval", "timeout", "grace_period"):
        check_duration(check, key, where)
    opt_str(check, "path", where)
    opt_str(check, "method", where)
    opt_str(check, "protocol", where)
    opt_bool(check, "tls_skip_verify", where)
    opt_str(check, "kind", where)
    opt_list(check, "headers", where)


def _autostop(service: JSON, where: str) -> None:
    """Accept "off"/"stop"/"suspend" or the old booleans; keep the string form internally."""
    if "autostop" not in service or service["autostop"] is None:
        return
    value = service["autostop"]
    if isinstance(value, bool):
        service["autostop"] = "stop" if value else "off"
    elif isinstance(value, str) and value in AUTOSTOP:
        pass
    else:
        raise _fail(f"{where}autostop {json.dumps(value)} is not one of off, stop, suspend (or a boolean)")


def _service(raw: Any, where: str) -> JSON:
    if not isinstance(raw, dict):
        raise _fail(f"{where[:-1]} must be an object")
    service = dict(raw)
    protocol = opt_str(service, "protocol", where)
    if protocol is None:
        raise _fail(f"{where}protocol is required")
    _enum(protocol, PROTOCOLS, f"{where}protocol")
    _port(opt_int(service, "internal_port", where), f"{where}internal_port", required=True)
    _autostop(service, where)
    opt_bool(service, "autostart", where)
    minimum = opt_int(service, "min_machines_running", where)
    if minimum is not None and minimum < 0:
        raise _fail(f"{where}min_machines_running must not be negative")
    for i, raw_port in enumerate(opt_list(service, "ports", where) or []):
        pw = f"{where}ports[{i}]."
        if not isinstance(raw_port, dict):
            raise _fail(f"{pw[:-1]} must be an object")
        port = opt_int(raw_port, "port", pw)
        start, end = opt_int(raw_port, "start_port", pw), opt_int(raw_port, "end_port", pw)
        if port is None and start is None and end is None:
            raise _fail(f"{pw}port (or start_port/end_port) is required")
        for value, name in ((port, "port"), (start, "start_port"), (end, "end_port")):
            _port(value, f"{pw}{name}")
        for handler in str_list(raw_port, "handlers", pw) or []:
            _enum(handler, HANDLERS, f"{pw}handlers")
        opt_bool(raw_port, "force_https", pw)
        opt_obj(raw_port, "tls_options", pw)
        opt_obj(raw_port, "http_options", pw)
    concurrency = opt_obj(service, "concurrency", where)
    if concurrency is not None:
        cw = f"{where}concurrency."
        _enum(opt_str(concurrency, "type", cw), CONCURRENCY_TYPES, f"{cw}type")
        soft, hard = opt_int(concurrency, "soft_limit", cw), opt_int(concurrency, "hard_limit", cw)
        if (soft is not None and soft < 1) or (hard is not None and hard < 1):
            raise _fail(f"{cw}limits must be positive")
        if soft is not None and hard is not None and soft > hard:
            raise _fail(f"{cw}soft_limit {soft} is above hard_limit {hard}")
    for j, raw_check in enumerate(opt_list(service, "checks", where) or []):
        if not isinstance(raw_check, dict):
            raise _fail(f"{where}checks[{j}] must be an object")
        _check(raw_check, f"{where}checks[{j}].")
    return service


def _mounts(config: JSON) -> list[JSON]:
    mounts = opt_list(config, "mounts", "config.") or []
    if len(mounts) > 1:
        raise _fail("a machine can mount at most one volume")
    out = []
    for i, raw in enumerate(mounts):
        where = f"mounts[{i}]."
        if not isinstance(raw, dict):
            raise _fail(f"mounts[{i}] must be an object")
        volume = opt_str(raw, "volume", where)
        path = opt_str(raw, "path", where)
        if not volume:
            raise _fail(f"{where}volume is required")
        if not path or not path.startswith("/"):
            raise _fail(f"{where}path must be an absolute path")
        for key in ("size_gb", "extend_threshold_percent", "add_size_gb", "size_gb_limit"):
            opt_int(raw, key, where)
        out.append(dict(raw))
    return out


def normalize(raw: Any, *, gpus_offered: bool, region: str) -> JSON:
    """The config as Fly stores it; raises FlyError for what Fly would reject."""
    if not isinstance(raw, dict):
        raise bad_request("config is required")
    config: JSON = {k: copy.deepcopy(v) for k, v in raw.items() if k in KNOWN_KEYS and v is not None}

    image = opt_str(config, "image", "config.")
    if not image or not image.strip():
        raise _fail("image is required")

    guest = normalize_guest(config, gpus_offered=gpus_offered, region=region)
    config["guest"] = guest
    config.pop("size", None)
    has_gpu = "gpu_kind" in guest

    str_map(config, "env", "config.")
    str_map(config, "metadata", "config.")
    config["mounts"] = _mounts(config)
    if not config["mounts"]:
        del config["mounts"]

    services = [
        _service(s, f"services[{i}].") for i, s in enumerate(opt_list(config, "services", "config.") or [])
    ]
    if services:
        config["services"] = services
        if has_gpu and any(s.get("autostop") == "suspend" for s in services):
            raise _fail('autostop "suspend" is not supported for machines with GPUs; use "stop"')
    else:
        config.pop("services", None)

    checks = opt_obj(config, "checks", "config.")
    for name, check in (checks or {}).items():
        if not isinstance(check, dict):
            raise _fail(f"checks.{name} must be an object")
        _check(check, f"checks.{name}.")

    restart = opt_obj(config, "restart", "config.")
    if restart is not None:
        _enum(opt_str(restart, "policy", "restart."), RESTART_POLICIES, "restart.policy")
        retries = opt_int(restart, "max_retries", "restart.")
        if retries is not None and retries < 0:
            raise _fail("restart.max_retries must not be negative")

    stop_config = opt_obj(config, "stop_config", "config.")
    if stop_config is not None:
        _enum(opt_str(stop_config, "signal", "stop_config."), SIGNALS, "stop_config.signal")
        check_duration(stop_config, "timeout", "stop_config.")

    init = opt_obj(config, "init", "config.") or {}
    for key in ("exec", "entrypoint", "cmd", "kernel_args"):
        str_list(init, key, "init.")
    opt_bool(init, "tty", "init.")
    config["init"] = init

    opt_bool(config, "auto_destroy", "config.")
    _enum(opt_str(config, "schedule", "config."), SCHEDULES, "schedule")
    rootfs = opt_obj(config, "rootfs", "config.")
    if rootfs is not None:
        _enum(opt_str(rootfs, "persist", "rootfs."), ROOTFS_PERSIST, "rootfs.persist")
        size = opt_int(rootfs, "size_gb", "rootfs.")
        if size is not None and size < 1:
            raise _fail("rootfs.size_gb must be at least 1")
        if size is not None and has_gpu and size > 50:
            raise _fail("rootfs.size_gb must be at most 50 for GPU machines")
    return config


def render(config: JSON) -> JSON:
    """The config as the API returns it: "off"/"stop" autostop go back out as booleans (OpenAPI spec)."""
    out = copy.deepcopy(config)
    for service in out.get("services", []):
        value = service.get("autostop")
        if value in ("off", "stop"):
            service["autostop"] = value == "stop"
    return out


def image_ref(image: str) -> JSON:
    """Split an image reference the way Fly reports it in `image_ref`."""
    digest = ""
    rest = image
    if "@" in rest:
        rest, digest = rest.split("@", 1)
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = "registry-1.docker.io", rest if "/" in rest else f"library/{rest}"
    tag = "latest"
    if ":" in path.rsplit("/", 1)[-1]:
        path, tag = path.rsplit(":", 1)
    if not digest:
        digest = "sha256:" + hashlib.sha256(image.encode()).hexdigest()
    return {"registry": registry, "repository": path, "tag": tag, "digest": digest, "labels": {}}
