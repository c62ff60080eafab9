"""What one node holds of every certificate set, read in one round trip.

Per set: its files (a tar stream of every regular file matching a mask); per node: the
truststores and the configuration files that hold key store passwords, as bytes. Key
stores and truststores are then read here in Python (javastore.py): no JVM per read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import NodeCheckError
from ..facts.cache import ScriptArea
from ..facts.script import Sections, run_script
from ..inventory import CertificateSet
from ..transport import Transport
from .certset import SetFile, parse_set_tar

TIMEOUT = 120.0

# Arguments: "set" NAME DIRECTORY MASKS (one per line) ... then "file" PATH ...
FACT_SCRIPT = r"""
readset() (
  cd -- "$1" 2>/dev/null || exit 3
  printf '%s\n' "$2" | while IFS= read -r mask; do
    IFS=''
    for f in $mask; do
      if [ -f "$f" ] && [ ! -L "$f" ]; then printf '%s\0' "$f"; fi
    done
  done | sort -zu | tar --null --no-recursion -T - -cf -
)
present() { [ -e "$1" ] || return 3; cat -- "$1"; }
while [ $# -gt 0 ]; do
  case $1 in
    set) section "set.$2" readset "$3" "$4"; shift 4 ;;
    file) section "file.$2" present "$2"; shift 2 ;;
    *) shift ;;
  esac
done
"""


@dataclass(frozen=True)
class PKIFacts:
    node: str
    sets: dict[str, dict[str, SetFile]]  # set name -> its files here (empty: none match)
    files: dict[str, bytes | None]  # truststores and password files; None: does not exist

    def set_files(self, cert_set: CertificateSet) -> dict[str, SetFile]:
        return self.sets.get(cert_set.name, {})


def fact_args(sets: Sequence[CertificateSet]) -> list[str]:
    args: list[str] = []
    paths: list[str] = []
    for s in sets:
        args += ["set", s.name, s.directory, "\n".join(s.masks)]
        if s.truststore is not None:
            paths.append(s.truststore.path)
        paths += [ref.password_from.file for ref in s.keystores]
    for path in dict.fromkeys(paths):
        args += ["file", path]
    return args


def parse_facts(node: str, cert_sets: Sequence[CertificateSet], sections: Sections) -> PKIFacts:
    """Pure: the node's set files and side files from the fact script's sections."""
    sets: dict[str, dict[str, SetFile]] = {}
    for s in cert_sets:
        section = sections[f"set.{s.name}"]
        if section.exit_code == 3:
            sets[s.name] = {}
        elif not section.ok:
            raise NodeCheckError(node, f"cannot read {s.directory}: {section.first_error_line()}")
        else:
            sets[s.name] = parse_set_tar(section.stdout, s.masks)
    files: dict[str, bytes | None] = {}
    for path, section in sections.named("file"):
        if section.exit_code == 3:
            files[path] = None
        elif not section.ok:
            raise NodeCheckError(node, f"cannot read {path}: {section.first_error_line()}")
        else:
            files[path] = section.stdout
    return PKIFacts(node, sets, files)


async def read_facts(container: Transport, sets: Sequence[CertificateSet]) -> PKIFacts:
    sections = await run_script(container, "pki", FACT_SCRIPT, fact_args(sets), TIMEOUT)
    return parse_facts(container.node, sets, sections)


PKI_FACTS = ScriptArea(
    "pki", FACT_SCRIPT, lambda _handle, inventory, _down: fact_args(inventory.certificates.sets),
    lambda node, inventory, sections: parse_facts(node, inventory.certificates.sets, sections),
    timeout=lambda _inventory: TIMEOUT)
