"""`status` on 1 node vs 5 nodes of the same converged lab (target: 5 nodes <= 1.5x one),
and the SSH commands one status read sends each node (target <= 4).

Facts are read from all nodes in parallel, so more nodes should cost little more. The
baseline, measured in the same run, is the 1-node inventory (node1 of the same cluster).

    .venv/bin/python bench/status_scale.py [--nodes 5] [--entries 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.inventory import load_inventory
from gluu_cluster.status.gather import gather_status
from gluu_cluster.transport import Transport, in_container
from gluu_cluster.transport.base import CommandResult


def cli(*args: str) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "gluu_cluster.cli.main", *args],
                            capture_output=True, text=True, timeout=3600, check=False)
    return time.perf_counter() - started, result.returncode


class Counting(Transport):
    """Counts the commands sent through a node's SSH transport."""

    def __init__(self, inner: Transport) -> None:
        self.inner, self.node, self.count = inner, inner.node, 0

    async def _exec(self, argv: Sequence[str], stdin: bytes | None,
                    timeout: float | None) -> CommandResult:
        self.count += 1
        return await self.inner._exec(argv, stdin, timeout)

    async def close(self) -> None:
        await self.inner.close()


def commands_per_node(inventory_path: Path) -> dict[str, int]:
    async def go() -> dict[str, int]:
        async with ClusterConnection(load_inventory(inventory_path)) as cluster:
            counters = {}
            for handle in cluster.nodes:
                counters[handle.name] = handle.host = Counting(handle.host)
                handle.container = in_container(handle.host, handle.container_root)
            status = await gather_status(cluster)
            assert status.healthy, status.problems
            return {name: c.count for name, c in counters.items()}

    return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base-address", default="127.0.17.11")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp) / "lab"
        full = lab / "cluster.yaml"
        took, code = cli("lab", "up", "--nodes", str(args.nodes), "--entries", str(args.entries),
                         "--base-address", args.base_address, "--lab-dir", str(lab))
        assert code == 0, "lab up failed"
        try:
            took, code = cli("apply", "-i", str(full), "--yes")
            assert code == 0, "apply failed"
            data = yaml.safe_load(full.read_text())
            data["nodes"] = data["nodes"][:1]
            one = lab / "one.yaml"
            one.write_text(yaml.safe_dump(data))
            single, many = [], []
            for _ in range(args.rounds):  # interleaved: both see the same machine load
                single.append(cli("status", "-i", str(one))[0])
                t, code = cli("status", "-i", str(full))
                assert code == 0, "the full cluster is not converged"
                many.append(t)
            counts = commands_per_node(full)
        finally:
            cli("lab", "down", "--lab-dir", str(lab))
    s, m = statistics.median(single), statistics.median(many)
    print(f"status, 1 node (baseline): median {s:.2f} s (runs: {', '.join(f'{t:.2f}' for t in single)})")
    print(f"status, {args.nodes} nodes: median {m:.2f} s (runs: {', '.join(f'{t:.2f}' for t in many)})")
    print(f"ratio {args.nodes} nodes / 1 node: {m / s:.2f}x (target <= 1.5x)")
    print(f"SSH commands per node in one status read: {sorted(set(counts.values()))} "
          f"({', '.join(f'{n} {c}' for n, c in counts.items())}; target <= 4)")


if __name__ == "__main__":
    main()
