"""The pinned OpenDJ server distribution: Open Identity Platform's build on Maven Central.

5.0.3 is the newest release there (5.1.x is not published); it fixes the 3+ node
replication stall of 5.0.1-5.0.2 and runs on Java 11+ (this machine's Java 17). The zip is
fetched once with Maven into a cache and checked against the SHA-1 Central publishes
beside it (written here, so a changed file on the mirror is refused).

    python -m gluu_cluster.ldap.opendj.dist      # fetch into the cache (install.sh runs it)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ...errors import DistributionError

GROUP, ARTIFACT, VERSION = "org.openidentityplatform.opendj", "opendj-server-legacy", "5.0.3"
SHA1 = "32bbdba80bed8712e6c32068e9789a9c9a8371bf"  # Central's .sha1 of the zip
CACHE = Path(os.environ.get("GLUU_CLUSTER_CACHE", "/var/cache/gluu-cluster"))
FETCH_TIMEOUT = 900


def zip_path(cache: Path = CACHE) -> Path:
    return cache / f"{ARTIFACT}-{VERSION}.zip"


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()  # noqa: S324 - Central's published checksum, compared, not trusted for secrecy
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_command(output_dir: Path) -> list[str]:
    return ["mvn", "-B", "-q", "-C", "-U", "dependency:copy",
            f"-Dartifact={GROUP}:{ARTIFACT}:{VERSION}:zip", f"-DoutputDirectory={output_dir}"]


def ensure_zip(cache: Path = CACHE) -> Path:
    """The checked zip in the cache, fetched with Maven when it is not there yet."""
    target = zip_path(cache)
    if target.is_file() and _sha1(target) == SHA1:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        command = fetch_command(Path(tmp))
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=FETCH_TIMEOUT, check=False)
        except FileNotFoundError:
            raise DistributionError(
                f"Maven (mvn) is not installed: install it, or put {target.name} "
                f"(SHA-1 {SHA1}) in {cache} yourself") from None
        except subprocess.TimeoutExpired:
            raise DistributionError(f"Maven did not fetch OpenDJ {VERSION} within "
                                    f"{FETCH_TIMEOUT} s; run: {' '.join(command)}") from None
        fetched = Path(tmp) / target.name
        if result.returncode != 0 or not fetched.is_file():
            last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
            raise DistributionError(f"Maven could not fetch OpenDJ {VERSION} ({last[0]}); "
                                    f"run: {' '.join(command)}")
        got = _sha1(fetched)
        if got != SHA1:
            raise DistributionError(f"{target.name} from Maven has SHA-1 {got}, not the "
                                    f"published {SHA1}: refused")
        os.replace(fetched, target)
    return target


def main() -> None:
    try:
        print(ensure_zip())
    except DistributionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
