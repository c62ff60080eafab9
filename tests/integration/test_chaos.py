"""The fault-and-load suite, short: bench/chaos.py for 2 minutes on an OpenLDAP lab of
its own (the 10-minute runs on each engine are the benchmark's; seed 9 draws a partition,
a sync-daemon stop, an LDAP kill and a reboot first). Nothing may be lost and the cluster
must converge after every fault with no manual step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "chaos.py"


def test_two_minutes_of_faults_under_load_lose_nothing() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--minutes", "2", "--seed", "9",
                           "--base-address", "127.0.15.11"],
                          capture_output=True, text=True, timeout=1500, check=False)
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\nlost: 0\n" in done.stdout, done.stdout
