"""The Dask client of a national run: a local cluster sized to the machine, or an
existing cluster's scheduler.

Owns :func:`make_client`. A local cluster has one single-threaded worker process per
core by default (the partitions are pandas/scipy work that holds the GIL, so processes,
not threads, run them side by side) and a memory limit per worker; ``scheduler``
(``tcp://host:8786``) connects to a running cluster instead. The workers of an external
cluster need this package installed (same version) and the data mirror and the cache at
paths they all see (``ACCESSIBILITY_DATA`` / ``ACCESSIBILITY_CACHE``, see
docs/national.md): each worker reads the national inputs from the cache once.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from accessibility.core.errors import AccessibilityError

log = logging.getLogger(__name__)


class ClusterError(AccessibilityError):
    """The Dask scheduler cannot be reached or the cluster cannot start."""


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def make_client(
    scheduler: str | None = None,
    *,
    n_workers: int | None = None,
    memory_limit: str = "auto",
    timeout_s: float = 30.0,
) -> Any:
    """A :class:`distributed.Client`: on a new local cluster (``n_workers`` single-threaded
    processes; one per core by default), or connected to ``scheduler``.

    Closing the client closes the local cluster it started (``client.close()``, or use it
    as a context manager).
    """
    from distributed import Client, LocalCluster

    quiet = logging.getLogger("distributed")
    if quiet.getEffectiveLevel() > logging.DEBUG:  # -vv keeps Dask's own log lines
        quiet.setLevel(logging.ERROR)  # (closing workers' "still alive, killing" etc.)
    if scheduler:
        try:
            return Client(scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"--scheduler {scheduler}: cannot connect to a Dask scheduler ({exc}); "
                "expected the address of a running one, e.g. tcp://host:8786"
            ) from None
    n = n_workers or default_workers()
    if n < 1:
        raise ClusterError(f"--workers {n}: expected at least 1")
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        # a free port (":0"): several clusters on one machine never collide; None
        # would still open the default 8787
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    client._accessibility_owns_cluster = True  # closed with the client (see close_client)
    return client


def close_client(client: Any) -> None:
    """Close ``client`` and the local cluster :func:`make_client` started for it."""
    cluster = client.cluster if getattr(client, "_accessibility_owns_cluster", False) else None
    client.close()
    if cluster is not None:
        cluster.close()


def dashboard_address(client: Any) -> str | None:
    """The address of the cluster's dashboard (None without one)."""
    try:
        return client.dashboard_link
    except Exception:  # no dashboard (bokeh missing or disabled)
        return None
