"""``status --check``: the snapshot as one monitoring-plugin line (Nagios, Icinga, Sensu,
Zabbix's agent), with performance data, and the plugin exit code.

Following the Monitoring Plugins guidelines: ``NAME STATE - text | perfdata``, exit 0 OK,
1 WARNING, 2 CRITICAL, 3 UNKNOWN; thresholds in perfdata as ``warn;crit;min`` where
``10`` alerts above 10 and ``30:`` alerts below 30.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .snapshot import ClusterStatus

NAME = "GLUU-CLUSTER"


class PluginState(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


@dataclass(frozen=True)
class Thresholds:
    warn_lag: float = 10.0  # seconds of replication lag
    crit_lag: float = 60.0
    warn_dirty: int = 5  # files waiting to be synced on a node
    crit_dirty: int = 50
    warn_days: int = 30  # days before a certificate expires
    crit_days: int = 7


def _number(value: float) -> str:
    return f"{value:.1f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"


def check(status: ClusterStatus, limits: Thresholds) -> tuple[PluginState, str]:
    """The state and the one line; the worst of the problems and the thresholds decides."""
    state = PluginState.OK
    reasons: list[str] = []

    def worse(to: PluginState, why: str) -> None:
        nonlocal state
        state = max(state, to)
        reasons.append(why)

    for p in status.problems:
        worse(PluginState.CRITICAL if p.severity == "error" else PluginState.WARNING,
              f"{p.code} {p.node}")
    perf: list[str] = []
    days: dict[str, int] = {}
    for e in status.expiries:
        days[e.node] = min(days.get(e.node, e.days_left), e.days_left)
    for row in status.nodes:
        name = row.node
        lag = row.lag_seconds if row.reachable else None
        dirty = row.dirty if row.reachable else None
        if lag is not None:
            if lag > limits.crit_lag:
                worse(PluginState.CRITICAL, f"{name} lag {_number(lag)} s")
            elif lag > limits.warn_lag:
                worse(PluginState.WARNING, f"{name} lag {_number(lag)} s")
        if dirty is not None:
            if dirty > limits.crit_dirty:
                worse(PluginState.CRITICAL, f"{name} {dirty} dirty files")
            elif dirty > limits.warn_dirty:
                worse(PluginState.WARNING, f"{name} {dirty} dirty files")
        left = days.get(name)
        if left is not None:
            if left < limits.crit_days:
                worse(PluginState.CRITICAL, f"{name} a certificate expires in {left} days")
            elif left < limits.warn_days:
                worse(PluginState.WARNING, f"{name} a certificate expires in {left} days")
        perf.append(f"lag_{name}={'U' if lag is None else _number(lag) + 's'}"
                    f";{_number(limits.warn_lag)};{_number(limits.crit_lag)};0")
        perf.append(f"dirty_{name}={'U' if dirty is None else dirty}"
                    f";{limits.warn_dirty};{limits.crit_dirty};0")
        if left is not None:
            perf.append(f"cert_days_{name}={left};{limits.warn_days}:;{limits.crit_days}:")
    healthy = sum(status.node_sound(r.node) for r in status.nodes)
    perf.append(f"nodes_healthy={healthy};;;0;{len(status.nodes)}")
    seen: list[str] = []
    for reason in reasons:  # each once, in the order found
        if reason not in seen:
            seen.append(reason)
    text = (f"cluster {status.cluster}: {len(status.nodes)} nodes converged"
            if not seen else f"cluster {status.cluster}: " + ", ".join(seen[:6])
            + (f" and {len(seen) - 6} more" if len(seen) > 6 else ""))
    return state, f"{NAME} {state.name} - {text} | {' '.join(perf)}"


def unknown(reason: str) -> str:
    return f"{NAME} UNKNOWN - {' '.join(reason.split())}"
