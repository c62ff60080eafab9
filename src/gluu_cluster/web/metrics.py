"""A ClusterStatus in the Prometheus text format (version 0.0.4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..status import ClusterStatus
from ..status.snapshot import ServiceState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_HELP = {
    "gluu_cluster_healthy": ("gauge", "1 when the cluster is converged (no error found)"),
    "gluu_cluster_status_timestamp_seconds": ("gauge", "when the snapshot was taken"),
    "gluu_cluster_status_read_seconds": ("gauge", "how long reading every node took"),
    "gluu_cluster_problems": ("gauge", "problems found, by severity"),
    "gluu_cluster_node_up": ("gauge", "1 when the node answered over SSH"),
    "gluu_cluster_node_healthy": ("gauge", "1 when no error concerns the node"),
    "gluu_cluster_ldap_replication_lag_seconds": (
        "gauge", "span between the newest change the node holds and the newest made"),
    "gluu_cluster_ldap_entries": ("gauge", "entries under the replicated suffix"),
    "gluu_cluster_sync_dirty_files": ("gauge", "changes csync2 has not yet sent to a peer"),
    "gluu_cluster_sync_last_success_timestamp_seconds": (
        "gauge", "last csync2 run that reached every peer"),
    "gluu_cluster_certificate_expiry_days": ("gauge", "days until the certificate expires"),
    "gluu_cluster_node_in_rotation": ("gauge", "1 when the load balancer sends the node requests"),
    "gluu_cluster_service_up": (
        "gauge", "1 when the service in front (load balancer, cache) runs as it should"),
    "gluu_cluster_alert_events_total": (
        "counter", "changes of state handed to an alert hook, by outcome (delivered, "
        "failed after every retry, dropped from a full queue)"),
}


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _sample(name: str, value: float | int, **labels: str) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}} {value}" if inner else f"{name} {value}"


def _samples(status: ClusterStatus) -> Iterable[tuple[str, str]]:
    yield "gluu_cluster_healthy", _sample("gluu_cluster_healthy", int(status.healthy))
    yield ("gluu_cluster_status_timestamp_seconds",
           _sample("gluu_cluster_status_timestamp_seconds", round(status.taken_at, 3)))
    yield ("gluu_cluster_status_read_seconds",
           _sample("gluu_cluster_status_read_seconds", round(status.seconds, 3)))
    for severity in ("error", "warning"):
        count = sum(1 for p in status.problems if p.severity == severity)
        yield "gluu_cluster_problems", _sample("gluu_cluster_problems", count, severity=severity)
    for row in status.nodes:
        node = row.node
        yield "gluu_cluster_node_up", _sample("gluu_cluster_node_up", int(row.reachable), node=node)
        yield ("gluu_cluster_node_healthy",
               _sample("gluu_cluster_node_healthy", int(status.node_healthy(node)), node=node))
        optional = {
            "gluu_cluster_node_in_rotation": None if row.in_rotation is None
            else int(row.in_rotation),
            "gluu_cluster_ldap_replication_lag_seconds": row.lag_seconds,
            "gluu_cluster_ldap_entries": row.entries,
            "gluu_cluster_sync_dirty_files": row.dirty,
            "gluu_cluster_sync_last_success_timestamp_seconds": row.last_sync,
        }
        for name, value in optional.items():
            if value is not None:  # unknown is absent, never a made-up 0
                yield name, _sample(name, value, node=node)
    for service in status.services:
        yield ("gluu_cluster_service_up",
               _sample("gluu_cluster_service_up", int(service.state is ServiceState.UP),
                       service=service.name, role=service.role))
    for e in status.expiries:
        yield ("gluu_cluster_certificate_expiry_days",
               _sample("gluu_cluster_certificate_expiry_days", e.days_left,
                       node=e.node, set=e.set, file=e.file))


def render(status: ClusterStatus, alerts: Mapping[tuple[str, str], int] | None = None) -> str:
    """Every metric family once, with HELP and TYPE, its samples together; ``alerts``:
    serve's hook counters by (hook, outcome)."""
    families: dict[str, list[str]] = {}
    for name, line in _samples(status):
        families.setdefault(name, []).append(line)
    for (hook, outcome), count in (alerts or {}).items():
        families.setdefault("gluu_cluster_alert_events_total", []).append(
            _sample("gluu_cluster_alert_events_total", count, hook=hook, outcome=outcome))
    out = []
    for name, lines in families.items():
        kind, text = _HELP[name]
        out += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", *lines]
    return "\n".join(out) + "\n"
