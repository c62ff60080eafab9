"""A certificate set on one node: read it, install files, keep and restore backups.

All paths are inside the node's container. Backups live in
``<backup_directory>/<id>/`` (0700): the overwritten files under ``files/<their path>``
with mode, owner and times kept (``cp -p``), and a ``manifest.json`` saying what they are.
"""

from __future__ import annotations

import datetime
import json
import posixpath
from dataclasses import dataclass

from ..transport import Transport
from .certset import SetFile

TIMEOUT = 120.0

_BACKUP_SCRIPT = r"""
set -e
umask 077
dest=$1; shift
mkdir -p -- "$dest/files"
chmod 700 -- "$dest"
for f in "$@"; do
  if [ -e "$f" ]; then cp -p --parents -- "$f" "$dest/files"; fi
done
"""

_RESTORE_SCRIPT = r"""
set -e
src=$1; shift
for f in "$@"; do
  # A path the backup lacks did not exist before: restoring means removing it.
  if [ ! -e "$src/files$f" ]; then rm -f -- "$f"; continue; fi
  tmp=$(mktemp "$(dirname -- "$f")/.gluu-cluster.XXXXXX")
  cp -p -- "$src/files$f" "$tmp"
  mv -f -- "$tmp" "$f"
done
"""

_LIST_SCRIPT = r"""
[ -d "$1" ] || exit 0
for m in "$1"/*/manifest.json; do [ -f "$m" ] && cat -- "$m" && printf '\n'; done
exit 0
"""


async def install_file(container: Transport, directory: str, item: SetFile) -> None:
    """Atomically, with the source's mode and owner (a key stays 0600)."""
    await container.write_file(posixpath.join(directory, item.name), item.data,
                               mode=item.mode, owner=item.owner, timeout=TIMEOUT)


@dataclass(frozen=True)
class Backup:
    id: str
    set: str
    created: str
    reason: str
    paths: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "set": self.set, "created": self.created,
                           "reason": self.reason, "paths": list(self.paths)})


def new_backup_id(set_name: str, now: datetime.datetime | None = None) -> str:
    now = now or datetime.datetime.now(datetime.UTC)
    return f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z-{set_name}"


async def backup(container: Transport, root: str, set_name: str, reason: str,
                 paths: list[str]) -> Backup:
    """Copy the files that exist among ``paths`` aside; the manifest lists all of them."""
    made = Backup(new_backup_id(set_name), set_name,
                  datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                  reason, tuple(paths))
    dest = posixpath.join(root, made.id)
    await container.run(["sh", "-c", _BACKUP_SCRIPT, "gluu-certs-backup", dest, *paths],
                        timeout=TIMEOUT)
    await container.write_file(posixpath.join(dest, "manifest.json"), made.to_json(), mode=0o600)
    return made


async def list_backups(container: Transport, root: str) -> list[Backup]:
    result = await container.run(["sh", "-c", _LIST_SCRIPT, "gluu-certs-backups", root],
                                 timeout=TIMEOUT)
    found = []
    for line in result.out.splitlines():
        try:
            data = json.loads(line)
            found.append(Backup(data["id"], data["set"], data["created"], data["reason"],
                                tuple(data["paths"])))
        except (ValueError, KeyError, TypeError):
            continue  # not one of ours
    return sorted(found, key=lambda b: b.id)


async def restore(container: Transport, root: str, made: Backup) -> None:
    await container.run(["sh", "-c", _RESTORE_SCRIPT, "gluu-certs-restore",
                         posixpath.join(root, made.id), *made.paths], timeout=TIMEOUT)
