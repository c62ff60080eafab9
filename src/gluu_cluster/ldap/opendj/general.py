"""The guide's ldapGeneralConfigInstall.py for OpenDJ, with dsconfig: pre-encoded passwords
allowed (Gluu writes hashed passwords), single-structural-objectclass behaviour 'accept',
no size or lookthrough limit, no idle time limit (Gluu's pooled connections), and, beyond
the guide, replication traffic encrypted with the node's key pair from the cluster CA (the
crypto manager's ssl-encryption and ssl-cert-nickname, read at start: a restart). After
ldap-replication, whose source addresses the same restart puts in force, and before
ldap-init, so the initialisation already travels encrypted with those keys."""

from __future__ import annotations

from dataclasses import dataclass

from ...connection import NodeHandle
from ...plan import Change, NoOp, Outcome, Payload, Run, Step
from .facts import OPENDJ_FACTS, OpenDJFacts
from .tls import ALIAS
from .tools import STEP_TOOLS, dsconfig_batch, restart

# (dsconfig sub-command and its target, property, wanted value).
GLOBAL = ("set-global-configuration-prop",)
POLICY = ("set-password-policy-prop", "--policy-name", '"Default Password Policy"')
CRYPTO = ("set-crypto-manager-prop",)
WANTED: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (POLICY, "allow-pre-encoded-passwords", "true"),
    (GLOBAL, "single-structural-objectclass-behavior", "accept"),
    (GLOBAL, "size-limit", "0"),
    (GLOBAL, "lookthrough-limit", "0"),
    (GLOBAL, "idle-time-limit", "0 s"),
    (CRYPTO, "ssl-encryption", "true"),
    # Replication's key pair: the one ldap-tls put in cn=ads-truststore, from the CA.
    (CRYPTO, "ssl-cert-nickname", ALIAS),
)


def _same(have: str | None, want: str) -> bool:
    if have is None:
        return False
    # Durations read back with their unit spelt out ("0 seconds" for "0 s").
    return have.split()[0].lower() == want.split()[0].lower()


def missing(facts: OpenDJFacts) -> list[tuple[tuple[str, ...], str, str]]:
    return [w for w in WANTED if not _same(facts.setting(w[1]), w[2])]


def restart_pending(facts: OpenDJFacts) -> bool:
    """Whether this step will restart the node: its crypto manager is not as wanted."""
    return any(command is CRYPTO for command, _name, _value in missing(facts))


def batch(changes: list[tuple[tuple[str, ...], str, str]]) -> str:
    """One dsconfig batch line per sub-command, every property it changes set there."""
    by_command: dict[tuple[str, ...], list[str]] = {}
    for command, name, value in changes:
        by_command.setdefault(command, []).append(f'--set "{name}:{value}"')
    return "\n".join(" ".join([*command, *sets]) for command, sets in by_command.items())


@dataclass(frozen=True)
class GeneralPayload(Payload):
    batch: str
    restart: bool  # the crypto manager changed: OpenDJ reads it only at start



class OpenDJGeneralStep(Step):
    name = "ldap-general"
    title = "LDAP general config (dsconfig)"
    tools = STEP_TOOLS
    reads = touches = (OPENDJ_FACTS,)

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        facts: OpenDJFacts = await run.facts.of(OPENDJ_FACTS, handle)
        todo = missing(facts)
        if not todo:
            return NoOp(handle.name, self.name, "pre-encoded passwords, object class behaviour, "
                        "limits and encrypted replication (cluster CA key) are set")
        restarts = restart_pending(facts)
        return Change(handle.name, self.name, "set the guide's general configuration",
                      tuple(f"{name}: {facts.setting(name) or 'unset'} -> {value}"
                            for _cmd, name, value in todo)
                      + (("then restart OpenDJ (it reads the crypto manager at start)",)
                         if restarts else ()),
                      payload=GeneralPayload(batch(todo), restarts))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, GeneralPayload)
        facts: OpenDJFacts = await run.facts.of(OPENDJ_FACTS, handle)
        await dsconfig_batch(handle, run.inventory, facts.admin_cert, change.payload.batch)
        if change.payload.restart:
            await restart(handle, run.inventory)
