"""When do nodes agree? contextCSN per server ID, with slapd's own-ID artefacts allowed.

slapd keeps a contextCSN per server ID (SID). A node can never be behind on changes it
made itself, yet after a restart slapd may carry an older (or invented) CSN for its own
SID than its peers learnt from its cookies. So for every SID, all nodes but its owner
must hold the newest CSN; the owner may hold an older one. Anything else, or different
entry counts, means some node has not received everything yet.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SyncPoint:
    entries: int
    csns: tuple[str, ...]
    server_id: int | None


def by_server_id(csns: Iterable[str]) -> dict[int, str]:
    """Each CSN by the server ID it names (``time#count#sid#mod``, sid in hex)."""
    out = {}
    for csn in csns:
        parts = csn.split("#")
        if len(parts) >= 3:
            out[int(parts[2], 16)] = csn
    return out


def _newest(points: Mapping[str, SyncPoint]) -> tuple[dict[str, dict[int, str]], dict[int, str]]:
    """(each node's CSN per server ID, the newest CSN per server ID over all nodes)."""
    by_node = {n: by_server_id(p.csns) for n, p in points.items()}
    newest: dict[int, str] = {}
    for csns in by_node.values():
        for sid, csn in csns.items():
            newest[sid] = max(newest.get(sid, ""), csn)
    return by_node, newest


def behind(points: Mapping[str, SyncPoint]) -> dict[str, str]:
    """Nodes that lack something, with why; empty when all agree."""
    out: dict[str, str] = {}
    if not points:
        return out
    most = max(p.entries for p in points.values())
    by_node, newest = _newest(points)
    for node, point in points.items():
        reasons = []
        if point.entries != most:
            reasons.append(f"{point.entries} entries, others up to {most}")
        for sid, csn in sorted(newest.items()):
            if sid == point.server_id:
                continue
            have = by_node[node].get(sid, "")
            if have < csn:
                reasons.append(f"server {sid}: has {have or 'nothing'}, newest is {csn}")
        if reasons:
            out[node] = "; ".join(reasons)
    return out


def csn_time(csn: str) -> float | None:
    """Seconds since the epoch of a CSN (``YYYYmmddHHMMSS.ffffffZ#count#sid#mod``)."""
    try:
        stamp = datetime.datetime.strptime(csn.split("#", 1)[0], "%Y%m%d%H%M%S.%fZ")
    except ValueError:
        return None
    return stamp.replace(tzinfo=datetime.UTC).timestamp()


def lag_seconds(points: Mapping[str, SyncPoint], now: float) -> dict[str, float]:
    """Per node: the span between the newest change it holds and the newest change made,
    per server ID, in the writers' clocks (0 when it holds every server's newest CSN; its
    own server ID never counts). With nothing from a server, how long that server's
    newest change has waited."""
    by_node, newest = _newest(points)
    out: dict[str, float] = {}
    for node, point in points.items():
        lag = 0.0
        for sid, csn in newest.items():
            have = by_node[node].get(sid, "")
            if sid == point.server_id or have >= csn:
                continue
            want_t = csn_time(csn) or 0.0
            have_t = csn_time(have) if have else None
            lag = max(lag, want_t - have_t if have_t is not None else max(0.0, now - want_t))
        out[node] = lag
    return out
