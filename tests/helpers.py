"""Shared test helpers: running the real CLI as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence


def run_cli(args: Sequence[str], *, env: dict[str, str] | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gluu_cluster.cli.main", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, check=False,
    )
