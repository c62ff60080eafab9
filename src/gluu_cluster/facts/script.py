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
from dataclasses import dataclass, field

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
section() { _gluu_section "$@" < /dev/null; }
# The command reads the script's standard input (a secret: never an argument).
section_in() { _gluu_section "$@"; }
_gluu_section() {
  _gluu_name=$1; shift
  "$@" > "$_gluu_tmp/out" 2> "$_gluu_tmp/err"
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


def _checked(node: str, name: str, sections: Sections, exit_code: int, error: str) -> Sections:
    if not sections:
        raise CommandFailedError(node, f"the {name} fact script failed (exit {exit_code}): {error}")
    return sections


async def run_script(transport: Transport, name: str, body: str, args: Sequence[str],
                     timeout: float, stdin: bytes | None = None) -> Sections:
    """Run one fact script on the node (one round trip) and return its sections."""
    result = await transport.run(["sh", "-c", PROLOGUE + body, FACT_PREFIX + name, *args],
                                 stdin=stdin, timeout=timeout, check=False)
    return _checked(transport.node, name, parse_sections(result.stdout), result.exit_code,
                    result.first_error_line())


@dataclass(frozen=True)
class Script:
    """One area's fact script with its arguments, and where it runs: in the container
    (``root``, through chroot) or on the host (``root`` empty)."""

    name: str
    body: str
    args: tuple[str, ...]
    root: str = ""
    stdin: bytes = field(default=b"", repr=False)  # may be a secret


AREA_MARK = "@@gluu-area"
ERROR_MARK = "@@gluu-err"  # then the first 300 bytes of a batched script's stderr, one line

# Several areas' scripts in one round trip (POSIX sh on the host: a second bash would
# read root's ~/.bashrc again): argv is, per script, NAME ROOT N LEN BODY and its N
# arguments; the batch's stdin is the scripts' stdin, LEN bytes each, in order (kept
# 0600 in a 0700 folder while they run). They run at once; each one's output follows a
# line "@@gluu-area NAME EXIT-CODE", in argv order. (eval sees only "${1}"-style
# references to the arguments, never their values.)
BATCH = r"""
umask 077
_gluu_batch=$(mktemp -d) || exit 90
trap 'rm -rf -- "$_gluu_batch"' EXIT
prefix=$1 i=0
shift
run_one() {
  name=$1 root=$2 body=$3
  shift 3
  if [ -n "$root" ]; then
    chroot "$root" sh -c "$body" "$prefix$name" "$@"
  else
    sh -c "$body" "$prefix$name" "$@"
  fi
}
while [ "$#" -ge 5 ]; do
  name=$1 root=$2 n=$3 len=$4 body=$5
  shift 5
  i=$((i + 1))
  printf '%s' "$name" > "$_gluu_batch/$i.name"
  : > "$_gluu_batch/$i.in"
  # dd with 1-byte blocks reads exactly LEN bytes and leaves the rest for the next one.
  [ "$len" -gt 0 ] && dd bs=1 count="$len" status=none of="$_gluu_batch/$i.in"
  refs="" j=1
  while [ "$j" -le "$n" ]; do refs="$refs \"\${$j}\""; j=$((j + 1)); done
  (
    eval "run_one \"\$name\" \"\$root\" \"\$body\" $refs" > "$_gluu_batch/$i.out" \
      2> "$_gluu_batch/$i.err" < "$_gluu_batch/$i.in"
    echo "$?" > "$_gluu_batch/$i.rc"
  ) &
  shift "$n"
done
wait
j=1
while [ "$j" -le "$i" ]; do
  rc=$(cat "$_gluu_batch/$j.rc" 2>/dev/null || echo 255)
  printf '\n%s %s %s\n' '""" + AREA_MARK + r"""' "$(cat "$_gluu_batch/$j.name")" "$rc"
  cat "$_gluu_batch/$j.out"
  printf '\n%s %s\n' '""" + ERROR_MARK + r"""' "$(head -c 300 "$_gluu_batch/$j.err" | tr '\n' ' ')"
  j=$((j + 1))
done
"""


def parse_batch(node: str, scripts: Sequence[Script],
                output: bytes) -> dict[str, Sections | CommandFailedError]:
    """Pure: each script's sections from a batch's output (a script that printed none
    is its own failure, naming the area)."""
    chunks: dict[str, tuple[int, list[bytes]]] = {}
    current: list[bytes] | None = None
    for raw in output.split(b"\n"):
        if raw.startswith(AREA_MARK.encode() + b" "):
            parts = raw.decode("ascii", "replace").split(" ")
            code = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 255
            current = []
            chunks[parts[1] if len(parts) > 1 else ""] = (code, current)
        elif current is not None:
            current.append(raw)
    found: dict[str, Sections | CommandFailedError] = {}
    for script in scripts:
        code, lines = chunks.get(script.name, (255, []))
        errors = [ln[len(ERROR_MARK) + 1:].decode("utf-8", "replace") for ln in lines
                  if ln.startswith(ERROR_MARK.encode() + b" ")]
        try:
            found[script.name] = _checked(node, script.name, parse_sections(b"\n".join(lines)),
                                          code, (errors[0].strip() if errors else "")
                                          or "no output")
        except CommandFailedError as exc:
            found[script.name] = exc
    return found


async def run_batch(host: Transport, scripts: Sequence[Script],
                    timeout: float) -> dict[str, Sections | CommandFailedError]:
    """Run several areas' fact scripts in one round trip through the node's host
    transport; a transport failure (the node is gone) raises for all of them."""
    argv = ["sh", "-c", BATCH, FACT_PREFIX + "batch", FACT_PREFIX]
    for s in scripts:
        argv += [s.name, s.root, str(len(s.args)), str(len(s.stdin)), PROLOGUE + s.body, *s.args]
    result = await host.run(argv, stdin=b"".join(s.stdin for s in scripts), timeout=timeout,
                            check=False)
    return parse_batch(host.node, scripts, result.stdout)
