"""Wall time of `plan` + `apply` from a fresh 3-node lab to converged, and of the no-op second run.

Baseline, measured in the same run: one `status` read of the converged cluster (what it
costs just to read every node once), so the ratios show what apply adds to reading. The
fresh run is also broken down per step from apply's own journal.

    .venv/bin/python bench/apply_time.py [--nodes 3] [--entries 36000] [--rounds 3] [--engine opendj]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cli(*args: str, ok: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "gluu_cluster.cli.main", *args],
                            capture_output=True, text=True, timeout=3600, check=False)
    took = time.perf_counter() - started
    if result.returncode not in ok:
        raise SystemExit(f"{' '.join(args)} exited {result.returncode}: {result.stderr[-2000:]}")
    return took


def per_step(journal: Path) -> dict[str, float]:
    """Seconds per step: from each change's start to its done, summed over nodes."""
    events = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    open_at: dict[tuple[str, str], float] = {}
    out: dict[str, float] = {}
    for e in events:
        key = (e.get("node", ""), e.get("step", ""))
        if e["event"] == "change-start":
            open_at[key] = e["at"]
        elif e["event"] == "change-done" and key in open_at:
            out[key[1]] = out.get(key[1], 0.0) + e["at"] - open_at.pop(key)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--entries", type=int, default=36000)
    parser.add_argument("--rounds", type=int, default=3, help="no-op applies and status reads")
    parser.add_argument("--base-address", default="127.0.16.11")
    parser.add_argument("--engine", choices=["openldap", "opendj"], default="openldap")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp) / "lab"
        inv = str(lab / "cluster.yaml")
        cli("lab", "up", "--nodes", str(args.nodes), "--entries", str(args.entries),
            "--base-address", args.base_address, "--lab-dir", str(lab), "--engine", args.engine)
        try:
            planned = cli("plan", "-i", inv)
            fresh = cli("apply", "-i", inv, "--yes")
            steps = per_step(lab / ".gluu-cluster" / "gluu-lab.journal")
            noop = [cli("apply", "-i", inv, "--yes") for _ in range(args.rounds)]
            status = [cli("status", "-i", inv) for _ in range(args.rounds)]
        finally:
            cli("lab", "down", "--lab-dir", str(lab))
    base = statistics.median(status)
    print(f"engine: {args.engine}")
    print(f"status read, {args.nodes} nodes (baseline): median {base:.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in status)})")
    print(f"apply, fresh lab -> converged ({args.entries} entries on the primary): {fresh:.2f} s "
          f"= {fresh / base:.1f}x a status read")
    print(f"plan + apply, fresh lab: {planned + fresh:.2f} s (plan {planned:.2f} s)")
    for step, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
        print(f"  {step:<20} {seconds:7.2f} s (summed over nodes)")
    print(f"apply, no-op second run: median {statistics.median(noop):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in noop)}) = "
          f"{statistics.median(noop) / base:.1f}x a status read")


if __name__ == "__main__":
    main()
