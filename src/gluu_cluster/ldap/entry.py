"""An LDAP entry as every engine's tools print it (LDIF), parsed into bytes per attribute."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import ldif


@dataclass(frozen=True)
class Entry:
    dn: str
    # Attribute names lower-cased; values as bytes, as LDAP has them.
    attrs: dict[str, list[bytes]] = field(default_factory=dict)

    def get(self, name: str) -> list[str]:
        return [v.decode("utf-8", "replace") for v in self.attrs.get(name.lower(), [])]

    def first(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[0] if values else default


def parse_entries(data: bytes) -> list[Entry]:
    records = ldif.LDIFRecordList(io.BytesIO(data), process_url_schemes=[])
    records.parse()
    return [
        Entry(dn, {k.lower(): v for k, v in attrs.items()})
        for dn, attrs in records.all_records
    ]
