"""Wall time of `gluu-cluster lab up` with the seed's 36,000 entries.

Baseline, measured in the same run: the same lab with no users (base tree only), so the
ratio shows what loading the directory costs on top of making the fake hosts.

    .venv/bin/python bench/lab_up.py [--nodes 3] [--entries 36000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "gluu_cluster.cli.main", *args], check=True,
                   capture_output=True, text=True, timeout=1800)


def lab_up_seconds(nodes: int, entries: int, base: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        lab_dir = str(Path(tmp) / "lab")
        started = time.perf_counter()
        cli("lab", "up", "--nodes", str(nodes), "--entries", str(entries),
            "--base-address", base, "--lab-dir", lab_dir)
        took = time.perf_counter() - started
        cli("lab", "down", "--lab-dir", lab_dir)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--entries", type=int, default=36000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base-address", default="127.0.5.11")
    args = parser.parse_args()
    full, empty = [], []
    for _ in range(args.rounds):
        empty.append(lab_up_seconds(args.nodes, 0, args.base_address))
        full.append(lab_up_seconds(args.nodes, args.entries, args.base_address))
    base, loaded = statistics.median(empty), statistics.median(full)
    print(f"lab up, {args.nodes} nodes, 0 entries (baseline): median {base:.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in empty)})")
    print(f"lab up, {args.nodes} nodes, {args.entries} entries: median {loaded:.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in full)})")
    print(f"ratio loaded/baseline: {loaded / base:.2f}x")


if __name__ == "__main__":
    main()
