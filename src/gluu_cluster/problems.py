"""Problems found by status checks: a stable code, a severity, the node, the detail, the fix.

Every kind of problem is defined once with :func:`define`; a code defined twice fails at
import, so codes stay unique across the LDAP, certificate and file-sync checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str
    node: str
    detail: str
    fix: str


@dataclass(frozen=True)
class Check:
    code: str
    severity: Severity
    fix: str

    def at(self, node: str, detail: str, fix: str | None = None) -> Problem:
        return Problem(self.code, self.severity, node, detail, fix or self.fix)


REGISTRY: dict[str, Check] = {}


def define(code: str, severity: Severity, fix: str) -> Check:
    if code in REGISTRY:
        raise ValueError(f"problem code {code} is defined twice")
    check = Check(code, severity, fix)
    REGISTRY[code] = check
    return check


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)
