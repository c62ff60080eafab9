"""Initialise a replica from a source node: slapcat on the source, slapadd on the target.

The fast path measured for the issue: export keeps entryUUID, entryCSN and contextCSN;
the target imports into a fresh database while stopped, then its syncrepl consumer
resumes from the exported contextCSN, so writes made on the source during the export
still arrive.  The target's old database is moved aside, never deleted.
"""

from __future__ import annotations

import re
import time

from ...connection import NodeHandle
from ...errors import NodeCheckError
from ...inventory import LDAPSettings
from ..agreement import by_server_id
from ..engine import InitResult
from .directory import NodeDirectory
from .service import start_slapd, stop_slapd

# Move each database directory aside (kept as a backup) and make an empty one.
_FRESH_DIRS = r"""
set -e
stamp=$1; owner=$2; shift 2
for dir in "$@"; do
  if [ -d "$dir" ]; then mv -- "$dir" "$dir.before-init-$stamp"; fi
  mkdir -p -- "$dir"
  chmod 700 -- "$dir"
  if [ -n "$owner" ]; then chown "$owner" "$dir"; fi
done
"""


def exported_context(export: bytes) -> tuple[int, tuple[str, ...]]:
    text = export.decode("utf-8", "replace")
    count = len(re.findall(r"^dn:", text, re.MULTILINE))
    # contextCSN lives on the suffix entry, the first one slapcat writes.
    first = text.split("\n\n", 1)[0]
    csns = tuple(sorted(re.findall(r"^contextCSN: (\S+)", first, re.MULTILINE)))
    return count, csns


async def export_suffix(source: NodeHandle, settings: LDAPSettings) -> bytes:
    result = await source.container.run(
        ["slapcat", "-F", settings.config_dir, "-b", settings.suffix, "-o", "ldif-wrap=no"],
        timeout=1800, check=False,
    )
    if not result.ok:
        raise NodeCheckError(source.name, f"slapcat of {settings.suffix} failed: "
                                          f"{result.first_error_line()}")
    return result.stdout


async def initialise(
    source: NodeHandle, target: NodeHandle, settings: LDAPSettings, data_dirs: list[str]
) -> InitResult:
    started = time.monotonic()
    export = await export_suffix(source, settings)
    entries, csns = exported_context(export)
    if entries == 0:
        raise NodeCheckError(source.name, f"{settings.suffix} is empty: nothing to initialise from")
    stamp = time.strftime("%Y%m%d%H%M%S")
    await stop_slapd(target, settings)
    try:
        await target.container.run(
            ["sh", "-c", _FRESH_DIRS, "fresh-dirs", stamp, settings.run_as or "", *data_dirs])
        result = await target.container.run(
            ["slapadd", "-q", "-F", settings.config_dir, "-b", settings.suffix],
            stdin=export, timeout=1800, check=False,
        )
        if not result.ok:
            raise NodeCheckError(
                target.name, f"slapadd failed: {result.first_error_line()}; the previous "
                f"database is kept beside the new one with suffix .before-init-{stamp}"
            )
        if settings.run_as:
            await target.container.run(["chown", "-R", settings.run_as, *data_dirs])
    finally:
        await start_slapd(target, settings)
    directory = NodeDirectory(target.container, settings.ldapi_socket)
    count = await directory.count(settings.suffix)
    suffix = await directory.entry(settings.suffix, ["contextCSN"])
    got = tuple(sorted(suffix.get("contextCSN"))) if suffix else ()
    # A live replica may already have caught up past the export: only older is wrong.
    if count == 0 or _older(got, csns):
        raise NodeCheckError(
            target.name, f"after import it has {count} entries and contextCSN {got}; the export "
            f"from {source.name} had {entries} and {csns}"
        )
    return InitResult(source.name, target.name, entries, csns, time.monotonic() - started,
                      f".before-init-{stamp}")


def _older(got: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """True when some server's CSN in got is older than in wanted (catch-up may add newer)."""
    have = by_server_id(got)
    return any(have.get(sid, "") < csn for sid, csn in by_server_id(wanted).items())
