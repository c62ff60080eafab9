"""A fact script: one fixed shell script per area, sent once, printing named sections.

Reading a node costs an SSH channel per command, so each area reads everything it needs
in one round trip: a fixed script (values only as positional arguments, never spliced
into the text) whose ``section NAME command...`` lines each print one line

    @@gluu-section NAME EXIT-CODE BASE64(stdout) BASE64(stderr)

``parse_sections`` turns that output into :class:`Section` objects; each area's pure
parser turns those into its frozen facts (``<area>/facts.py``).  Base64 keeps binary
output (tar streams, key stores) and newlines intact.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

from ..errors import CommandFailedError
from ..transport import Transport
from ..transport.base import CommandResult

MARK = "@@gluu-section"
FACT_PREFIX = "gluu-facts-"  # $0 of a fact script: names it in ps and to the fake transport

# What every fact script runs besides its own commands (the preflight checks for them).
SCRIPT_TOOLS = ("sh", "mktemp", "base64")

PROLOGUE = r"""
export LC_ALL=C
_gluu_tmp=$(mktemp -d) || exit 90
trap 'rm -rf -- "$_gluu_tmp"' EXIT
section() {
  _gluu_name=$1; shift
  "$@" > "$_gluu_tmp/out" 2> "$_gluu_tmp/err" < /dev/null
  _gluu_rc=$?
  printf '\n%s %s %s ' '""" + MARK + r"""' "$_gluu_name" "$_gluu_rc"
  base64 -w0 < "$_gluu_tmp/out"; printf ' '
  base64 -w0 < "$_gluu_tmp/err"; printf '\n'
}
"""


# A section is read like the result of the command it ran (its argv: the section's name).
Section = CommandResult

# A section the script never reached (it died first): reads as a failed command.
MISSING = Section(("missing",), 255, b"", b"the fact script ended before this section")


class Sections(Mapping[str, Section]):
    """The sections of one run by name; a missing one reads as :data:`MISSING`."""

    def __init__(self, found: dict[str, Section]) -> None:
        self._found = found

    def __getitem__(self, name: str) -> Section:
        return self._found.get(name, MISSING)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._found)

    def __len__(self) -> int:
        return len(self._found)

    def __contains__(self, name: object) -> bool:
        return name in self._found

    def named(self, prefix: str) -> list[tuple[str, Section]]:
        """Sections NAME.<suffix> in the order the script printed them."""
        return [(n[len(prefix) + 1:], s) for n, s in self._found.items() if n.startswith(prefix + ".")]


def render_section(name: str, exit_code: int, stdout: bytes = b"", stderr: bytes = b"") -> bytes:
    """One section line as the script prints it (for fakes and tests)."""
    return (f"{MARK} {name} {exit_code} ".encode() + base64.b64encode(stdout) + b" "
            + base64.b64encode(stderr) + b"\n")


def parse_sections(output: bytes) -> Sections:
    """Pure: the sections of a fact script's standard output (other lines are ignored)."""
    found: dict[str, Section] = {}
    for raw in output.split(b"\n"):
        if not raw.startswith(MARK.encode()):
            continue
        parts = raw.decode("ascii", "replace").split(" ")
        if len(parts) != 5 or not parts[2].lstrip("-").isdigit():
            continue
        try:
            out, err = (base64.b64decode(parts[3], validate=True),
                        base64.b64decode(parts[4], validate=True))
        except (binascii.Error, ValueError):
            continue
        found[parts[1]] = Section((parts[1],), int(parts[2]), out, err)
    return Sections(found)


async def run_script(transport: Transport, name: str, body: str, args: Sequence[str],
                     timeout: float) -> Sections:
    """Run one fact script on the node (one round trip) and return its sections."""
    result = await transport.run(["sh", "-c", PROLOGUE + body, FACT_PREFIX + name, *args],
                                 timeout=timeout, check=False)
    sections = parse_sections(result.stdout)
    if not sections:
        raise CommandFailedError(transport.node, f"the {name} fact script failed (exit "
                                 f"{result.exit_code}): {result.first_error_line()}")
    return sections
