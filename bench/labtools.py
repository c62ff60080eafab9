"""Shared by the benchmarks: a lab of their own, started and always removed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cli(*args: str, timeout: float = 1800) -> str:
    result = subprocess.run([sys.executable, "-m", "gluu_cluster.cli.main", *args],
                            capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise SystemExit(f"gluu-cluster {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout


@contextmanager
def lab(nodes: int, entries: int, base: str, engine: str = "openldap",
        front: bool = False) -> Iterator[Path]:
    """Yield the lab directory (its inventory is cluster.yaml inside); ``front``: with the
    load balancer's and the cache's hosts."""
    with tempfile.TemporaryDirectory() as tmp:
        lab_dir = Path(tmp) / "lab"
        cli("lab", "up", "--nodes", str(nodes), "--entries", str(entries),
            "--base-address", base, "--lab-dir", str(lab_dir), "--engine", engine,
            *(["--front"] if front else []))
        try:
            yield lab_dir
        finally:
            cli("lab", "down", "--lab-dir", str(lab_dir))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
