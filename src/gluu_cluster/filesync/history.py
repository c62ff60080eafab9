"""Versions of a synced file that sync overwrote or deleted on a node, and restoring one.

csync2 keeps them in the group's backup-directory under the file's own path (the newest
without suffix, older ones as PATH.2, PATH.3, ...); a restore first keeps the current
version there too (PATH.restore-<time>), so nothing is lost either way.
"""

from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass

from ..errors import UsageError
from ..inventory import FileSync, SyncGroup
from ..transport import Transport

_LIST_SCRIPT = r"""
for f in "$1" "$1".*; do
  [ -f "$f" ] || continue
  printf '%s\t%s\t%s\t%s\n' "$(stat -c %Y -- "$f")" "$(stat -c %s -- "$f")" \
    "$(sha256sum < "$f" | cut -c1-64)" "$f"
done
"""

_KEEP_SCRIPT = r"""
[ -f "$1" ] || exit 0
mkdir -p -- "$(dirname -- "$2")"
cp -p -- "$1" "$2"
"""


@dataclass(frozen=True)
class Version:
    number: int  # 1 is the newest
    saved_at: int
    size: int
    sha256: str
    backup_path: str


def group_of(settings: FileSync, path: str) -> SyncGroup:
    clean = posixpath.normpath(path)
    for group in settings.groups:
        if any(clean == p or clean.startswith(p.rstrip("/") + "/") for p in group.paths):
            return group
    raise UsageError(f"{path} is not in a synced directory "
                     f"({', '.join(p for g in settings.groups for p in g.paths)})")


def parse_versions(output: str) -> list[Version]:
    rows = []
    for line in output.splitlines():
        parts = line.split("\t", 3)
        if len(parts) == 4 and parts[0].isdigit() and parts[1].isdigit():
            rows.append((int(parts[0]), int(parts[1]), parts[2], parts[3]))
    rows.sort(key=lambda r: (r[0], r[3]), reverse=True)
    return [Version(i + 1, *row) for i, row in enumerate(rows)]


async def versions(container: Transport, settings: FileSync, path: str) -> list[Version]:
    group = group_of(settings, path)
    backup = group.backup.directory.rstrip("/") + posixpath.normpath(path)
    result = await container.run(["sh", "-c", _LIST_SCRIPT, "gluu-history", backup])
    return parse_versions(result.out)


async def restore_version(container: Transport, settings: FileSync, path: str,
                          number: int) -> Version:
    found = {v.number: v for v in await versions(container, settings, path)}
    if number not in found:
        raise UsageError(f"{container.node}: {path} has no version {number} "
                         f"(known: {', '.join(map(str, sorted(found))) or 'none'})")
    chosen = found[number]
    data = await container.read_file(chosen.backup_path)
    assert data is not None
    group = group_of(settings, path)
    keep = f"{group.backup.directory.rstrip('/')}{posixpath.normpath(path)}.restore-{int(time.time())}"
    await container.run(["sh", "-c", _KEEP_SCRIPT, "gluu-keep", path, keep])
    stat = await container.run(["stat", "-c", "%a %U:%G", path], check=False)
    mode, owner = (stat.out.split() if stat.ok else ["644", "root:root"])
    # Written as a local edit: the trigger sends it to every peer.
    await container.write_file(path, data, mode=int(mode, 8), owner=owner)
    return chosen
