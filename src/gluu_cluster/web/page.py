"""The status page: one view of the latest snapshot, served as HTML (``/``, readable with
scripts off) and as JSON (``/page.json``, which the page's script polls to update in place).

Both come from ``view()``: the cells are the one column spec's (status/columns.py), the
same as ``status`` and its JSON; the HTML here and static/page.js only lay them out, each
with the same element ids, classes and ``data-tone`` attributes. State is shown in colour
and in words. Nothing is loaded from elsewhere: the script and the style are served by
``serve`` itself (static/).
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from importlib import resources
from typing import Any

from ..problems import Problem
from ..status import ClusterStatus
from ..status.cell import Cell, Tone
from ..status.columns import COLUMNS, SERVICE_HEADERS, cells, service_cells, taken, verdict
from ..status.history import Summary

HISTORY_MINUTES = 60
_LEVELS = 4  # block heights for replication lag: 0 (none) .. 4 (the hour's worst)


def _cell(cell: Cell) -> dict[str, str]:
    return {"text": cell.text, "tone": cell.tone.value}


def _groups(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    """Problems grouped by code, errors first; in a group each node once."""
    groups: dict[str, dict[str, Any]] = {}
    for p in problems:
        group = groups.setdefault(p.code, {
            "code": p.code, "severity": p.severity,
            "tone": (Tone.BAD if p.severity == "error" else Tone.WARN).value,
            "fix": p.fix, "items": {}})
        items: dict[str, dict[str, str]] = group["items"]
        item = items.setdefault(p.node, {"node": p.node, "detail": p.detail,
                                         "fix": "" if p.fix == group["fix"] else p.fix})
        if p.detail not in item["detail"]:
            item["detail"] += "; " + p.detail
    out = sorted(groups.values(), key=lambda g: (g["severity"] != "error", g["code"]))
    for group in out:
        group["items"] = sorted(group["items"].values(), key=lambda i: i["node"])
    return out


def _history(summaries: Sequence[Summary], nodes: Sequence[str], now: float) -> list[dict[str, Any]]:
    """Per node (and the cluster), one block per minute of the last hour: its colour and
    words say healthy or not, its height the worst replication lag in that minute."""
    start = now - HISTORY_MINUTES * 60
    minutes: list[list[Summary]] = [[] for _ in range(HISTORY_MINUTES)]
    for s in summaries:
        if start <= s.at <= now:
            minutes[min(HISTORY_MINUTES - 1, int((s.at - start) // 60))].append(s)
    worst_lag = max((n.lag_seconds or 0.0 for s in summaries if s.at >= start
                     for n in s.nodes.values()), default=0.0)
    rows = []
    for name in ("cluster", *nodes):
        blocks = []
        healthy_minutes = seen_minutes = 0
        lag_max = 0.0
        dirty_max = 0
        for index, bucket in enumerate(minutes):
            label = time.strftime("%H:%M", time.localtime(start + index * 60))
            if name == "cluster":
                states = [(s.healthy, 0.0, 0) for s in bucket]
            else:
                states = [(n.healthy, n.lag_seconds or 0.0, n.dirty or 0)
                          for s in bucket if (n := s.nodes.get(name)) is not None]
            if not states:
                blocks.append({"tone": "none", "level": 0, "title": f"{label}: no reading"})
                continue
            seen_minutes += 1
            ok = all(h for h, _, _ in states)
            healthy_minutes += ok
            lag = max(lag for _, lag, _ in states)
            dirty = max(d for _, _, d in states)
            lag_max, dirty_max = max(lag_max, lag), max(dirty_max, dirty)
            level = 0 if lag <= 0 or worst_lag <= 0 else max(1, round(_LEVELS * lag / worst_lag))
            words = "healthy" if ok else "NOT healthy"
            extra = "" if name == "cluster" else f", lag {lag:g} s, dirty {dirty}"
            blocks.append({"tone": "good" if ok else "bad", "level": level,
                           "title": f"{label}: {words}{extra}"})
        summary = (f"healthy {healthy_minutes} of {seen_minutes} min" if seen_minutes
                   else "no reading yet")
        if name != "cluster" and seen_minutes:
            summary += f"; lag max {lag_max:g} s; dirty max {dirty_max}"
        rows.append({"node": name, "summary": summary, "blocks": blocks})
    return rows


def view(status: ClusterStatus | None, recent: Sequence[Summary], now: float,
         interval: float, stale: str | None = None) -> dict[str, Any]:
    """What the page shows, as data: the HTML below and page.js render exactly this."""
    if status is None:
        return {"cluster": "", "interval": interval,
                "verdict": _cell(Cell(f"no status yet: {stale}", Tone.BAD) if stale
                                 else Cell("reading the cluster ...")), "taken": "",
                "nodes": {"headers": [c.header for c in COLUMNS], "rows": []},
                "services": {"headers": list(SERVICE_HEADERS), "rows": []},
                "problems": [], "history": []}
    state = Cell(f"not up to date: {stale}", Tone.BAD) if stale else verdict(status)
    return {
        "cluster": status.cluster,
        "interval": interval,
        "verdict": _cell(state),
        "taken": taken(status),
        "nodes": {"headers": [c.header for c in COLUMNS],
                  "rows": [{"key": r.node, "cells": [_cell(c) for c in cells(r, status.taken_at)]}
                           for r in status.nodes]},
        "services": {"headers": list(SERVICE_HEADERS),
                     "rows": [{"key": s.name, "cells": [_cell(c) for c in service_cells(s)]}
                              for s in status.services]},
        "problems": _groups(status.problems),
        "history": _history(recent, [r.node for r in status.nodes], now),
    }


# --- HTML (the same elements page.js builds) -------------------------------------------

def _e(text: object) -> str:
    return html.escape(str(text))


def _td(cell: dict[str, str]) -> str:
    return f'<td class="{cell["tone"]}" data-tone="{cell["tone"]}">{_e(cell["text"])}</td>'


def _table(table_id: str, table: dict[str, Any]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in table["headers"])
    body = "".join(f'<tr data-key="{_e(r["key"])}">' + "".join(_td(c) for c in r["cells"])
                   + "</tr>" for r in table["rows"])
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _problems(groups: list[dict[str, Any]]) -> str:
    if not groups:
        return '<p class="good" data-tone="good">no problems</p>'
    out = []
    for g in groups:
        items = "".join(
            f'<li data-node="{_e(i["node"])}"><b>{_e(i["node"])}</b>: {_e(i["detail"])}'
            + (f'<br><span class="fix">fix: {_e(i["fix"])}</span>' if i["fix"] else "") + "</li>"
            for i in g["items"])
        out.append(f'<div class="group {g["tone"]}" data-code="{_e(g["code"])}" '
                   f'data-tone="{g["tone"]}"><h3>{_e(g["severity"])} {_e(g["code"])} '
                   f'({len(g["items"])})</h3><ul>{items}</ul>'
                   f'<p class="fix">fix: {_e(g["fix"])}</p></div>')
    return "".join(out)


def _history_html(rows: list[dict[str, Any]]) -> str:
    out = []
    for row in rows:
        blocks = "".join(f'<i class="b {b["tone"]} l{b["level"]}" title="{_e(b["title"])}"></i>'
                         for b in row["blocks"])
        out.append(f'<div class="hist" data-key="{_e(row["node"])}"><span class="name">'
                   f'{_e(row["node"])}</span><span class="blocks">{blocks}</span>'
                   f'<span class="sum">{_e(row["summary"])}</span></div>')
    return "".join(out)


def render(page: dict[str, Any]) -> str:
    verdict_cell = page["verdict"]
    tone = verdict_cell["tone"]
    services = page["services"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>gluu-cluster {_e(page["cluster"])}</title>'
        '<link rel="stylesheet" href="/static/page.css">'
        # Scripts off: the page reloads itself instead of updating in place.
        f'<noscript><meta http-equiv="refresh" content="{max(1, int(page["interval"]))}">'
        '</noscript></head>'
        f'<body data-interval="{page["interval"]:g}" data-updates="0">'
        f'<header id="verdict" class="banner {tone}" data-tone="{tone}">'
        f'<h1>cluster {_e(page["cluster"])}: <span id="verdict-text">'
        f'{_e(verdict_cell["text"])}</span></h1>'
        f'<p id="taken">{_e(page["taken"])}</p><p id="live" class="live"></p></header>'
        f'<main><section><h2>Nodes</h2>{_table("nodes", page["nodes"])}</section>'
        f'<section id="services-section"{"" if services["rows"] else " hidden"}>'
        f'<h2>In front of the nodes</h2>{_table("services", services)}</section>'
        f'<section><h2>Problems</h2><div id="problems">{_problems(page["problems"])}</div></section>'
        '<section><h2>Last hour</h2><p class="legend">one block a minute: green healthy, '
        'red not, grey no reading; the taller, the more replication lag (hover for figures)</p>'
        f'<div id="history">{_history_html(page["history"])}</div></section></main>'
        '<script src="/static/page.js" defer></script></body></html>'
    )


def static_file(name: str) -> tuple[bytes, str] | None:
    """page.js and page.css, shipped in the package."""
    types = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8"}
    if name not in types:
        return None
    return resources.files(__package__).joinpath("static", name).read_bytes(), types[name]
