"""LDIF for cn=config and data changes, written by python-ldap (escaping, base64)."""

from __future__ import annotations

import io
from collections.abc import Iterable

import ldif


def _b(values: Iterable[str | bytes]) -> list[bytes]:
    return [v if isinstance(v, bytes) else v.encode("utf-8") for v in values]


class Modify:
    """One modify operation on one DN, built step by step, rendered as LDIF."""

    def __init__(self, dn: str) -> None:
        self.dn = dn
        self.ops: list[tuple[int, str, list[bytes]]] = []

    def add(self, attr: str, *values: str | bytes) -> Modify:
        self.ops.append((0, attr, _b(values)))
        return self

    def delete(self, attr: str, *values: str | bytes) -> Modify:
        self.ops.append((1, attr, _b(values)))
        return self

    def replace(self, attr: str, *values: str | bytes) -> Modify:
        self.ops.append((2, attr, _b(values)))
        return self

    def __bool__(self) -> bool:
        return bool(self.ops)

    def ldif(self) -> str:
        out = io.StringIO()
        ldif.LDIFWriter(out, cols=10000).unparse(self.dn, self.ops)
        return out.getvalue()


def add_entry(dn: str, attrs: dict[str, list[str]]) -> str:
    out = io.StringIO()
    ldif.LDIFWriter(out, cols=10000).unparse(dn, {k: _b(v) for k, v in attrs.items()})
    return out.getvalue()


def join(*parts: str) -> str:
    """Several LDIF records in one ldapmodify input."""
    return "\n".join(p.rstrip("\n") + "\n" for p in parts if p)
