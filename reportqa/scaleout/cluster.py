"""Joining a Ray cluster, or starting one on this machine when no address is given."""

from __future__ import annotations

from typing import Any

LOOPBACK = "127.0.0.1"


def require_ray() -> Any:
    """The ray module, or a clear error naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("the Ray backend needs the ray extra: pip install 'reportqa[ray]'") from exc
    return ray


def connect(address: str | None, num_cpus: int | None = None) -> bool:
    """Connect this process to the cluster at `address`, or start a local one; True when this call started or
    joined it (the caller then shuts it down), False when it was already connected."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, logging_level="WARNING", log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="WARNING", log_to_driver=False,
                 _node_ip_address=LOOPBACK)
    quiet_data()
    return True


def quiet_data() -> None:
    """Ray Data without progress bars and plan banners; results in input order."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.execution_options.preserve_order = True
