"""Pure LDAP planning: server IDs, syncrepl lines, agreement of contextCSNs, config changes."""

from __future__ import annotations

from gluu_cluster.inventory import LDAPSettings, SecretRef
from gluu_cluster.ldap.agreement import SyncPoint, behind
from gluu_cluster.ldap.openldap.desired import (
    assign_server_ids,
    parse_indexes,
    parse_syncrepl,
    redact_syncrepl,
    syncrepl_value,
)
from gluu_cluster.ldap.openldap.directory import Entry
from gluu_cluster.ldap.openldap.facts import Database, LDAPFacts
from gluu_cluster.ldap.openldap.general import general_changes
from gluu_cluster.ldap.openldap.provider import provider_changes

SETTINGS = LDAPSettings(admin_password=SecretRef(env="X"))


def csn(t: str, sid: int) -> str:
    return f"20261124{t}.000000Z#000000#{sid:03x}#000000"


def test_server_ids_are_kept_and_new_nodes_get_free_ones() -> None:
    assert assign_server_ids({"a": None, "b": None}, ["a", "b"]) == {"a": 1, "b": 2}
    assert assign_server_ids({"a": 2, "b": None, "c": 1}, ["a", "b", "c"]) == {"a": 2, "b": 3, "c": 1}
    # A duplicate (e.g. a cloned VM) keeps the first and renumbers the second.
    assert assign_server_ids({"a": 1, "b": 1}, ["a", "b"]) == {"a": 1, "b": 2}
    # Removing a node does not renumber the others.
    assert assign_server_ids({"a": 1, "c": 3}, ["a", "c"]) == {"a": 1, "c": 3}


def test_syncrepl_line_verifies_tls_and_uses_delta() -> None:
    line = syncrepl_value(2, "ldaps://10.0.0.2:1636", SETTINGS, "o=gluu", "s3cret")
    parsed = parse_syncrepl(line)
    assert parsed["rid"] == "002" and parsed["provider"] == "ldaps://10.0.0.2:1636"
    assert parsed["tls_reqcert"] == "demand" and parsed["binddn"] == "cn=replicator,o=gluu"
    assert parsed["syncdata"] == "accesslog" and parsed["logbase"] == "cn=accesslog"
    assert "s3cret" not in redact_syncrepl(line)
    plain = syncrepl_value(2, "ldaps://x:1636", SETTINGS.model_copy(update={"delta_syncrepl": False}),
                           "o=gluu", "p")
    assert "syncdata" not in plain


def test_index_parsing() -> None:
    assert parse_indexes(["entryCSN,entryUUID eq", "cn eq,sub"]) == {
        ("entrycsn", "eq"), ("entryuuid", "eq"), ("cn", "eq"), ("cn", "sub")}


def test_agreement_allows_own_sid_artefacts_only() -> None:
    same = (csn("100000", 1), csn("100001", 2))
    assert behind({"a": SyncPoint(10, same, 1), "b": SyncPoint(10, same, 2)}) == {}
    # b restarted and holds an older CSN for its own SID than a learnt: still in sync.
    older_own = (csn("100000", 1), csn("090000", 2))
    assert behind({"a": SyncPoint(10, same, 1), "b": SyncPoint(10, older_own, 2)}) == {}
    # a lacks b's newest change: a is behind.
    got = behind({"a": SyncPoint(10, older_own, 1), "b": SyncPoint(10, same, 2)})
    assert list(got) == ["a"] and "server 2" in got["a"]
    # Different counts are always a difference.
    assert list(behind({"a": SyncPoint(9, same, 1), "b": SyncPoint(10, same, 2)})) == ["a"]


def facts(databases: tuple[Database, ...], modules: tuple[str, ...] = ("{0}back_mdb",),
          server_ids: tuple[str, ...] = ()) -> LDAPFacts:
    return LDAPFacts("n1", server_ids, modules, "cn=module{0},cn=config", {}, databases, None, ())


def main_db(**attrs: list[str]) -> Database:
    entry = Entry("olcDatabase={1}mdb,cn=config",
                  {k.lower(): [v.encode() for v in vals] for k, vals in attrs.items()})
    return Database(entry.dn, "mdb", "o=gluu", "/opt/gluu/data/main_db", entry)


def test_general_config_adds_only_what_is_missing() -> None:
    notes, ldif_text = general_changes(facts((main_db(olcDbIndex=["objectClass eq"]),)), SETTINGS)
    assert "load modules syncprov, accesslog" in notes
    assert "olcDbIndex: entryCSN eq" in ldif_text and "olcDbIndex: entryUUID eq" in ldif_text
    assert 'olcLimits: {0}dn.exact="cn=replicator,o=gluu" size=unlimited time=unlimited' in ldif_text
    assert "olcDbMaxSize: 4294967296" in ldif_text
    assert "olcDatabase: monitor" in ldif_text
    # No sync per entry while the new index is built: on first, off again last.
    assert ldif_text.index("olcDbNoSync: TRUE") < ldif_text.index("olcDbIndex: entryCSN eq")
    assert ldif_text.rstrip().endswith("olcDbNoSync: FALSE\n-")
    ready = main_db(
        olcDbIndex=["entryCSN,entryUUID eq"],
        olcLimits=['{0}dn.exact="cn=replicator,o=gluu" size=unlimited time=unlimited'],
        olcAccess=['{0}to * by dn.exact="cn=replicator,o=gluu" read by * break'],
        olcDbMaxSize=["8589934592"])
    monitor = Database("olcDatabase={2}monitor,cn=config", "monitor", "", "", Entry("x", {}))
    notes, ldif_text = general_changes(
        facts((ready, monitor), ("{0}back_mdb", "{1}syncprov.la", "{2}accesslog")), SETTINGS)
    assert notes == [] and ldif_text.strip() == ""


def test_provider_changes_in_dependency_order() -> None:
    notes, records = provider_changes(facts((main_db(),)), SETTINGS, 3)
    text = "\n".join(records)
    assert notes[0] == "server ID 3"
    assert text.index("olcSuffix: cn=accesslog") < text.index("olcOverlay=syncprov,olcDatabase={2}mdb")
    assert text.index("olcOverlay=syncprov,olcDatabase={1}mdb") < text.index("olcOverlay=accesslog")


def test_schema_digest_ignores_order_and_names_but_not_definitions() -> None:
    from gluu_cluster.ldap.openldap.facts import schema_digest

    def schema(dn: str, *types: str) -> Entry:
        return Entry(dn, {"olcattributetypes": [t.encode() for t in types]})

    a = [schema("cn={0}core,cn=schema,cn=config", "{0}( 1.1 NAME 'x' )", "{1}( 1.2 NAME 'y' )")]
    b = [schema("cn={3}core,cn=schema,cn=config", "{0}( 1.2  NAME 'y' )", "{1}( 1.1 NAME 'x' )")]
    c = [schema("cn={0}core,cn=schema,cn=config", "{0}( 1.1 NAME 'x' SINGLE-VALUE )",
                "{1}( 1.2 NAME 'y' )")]
    assert schema_digest(a) == schema_digest(b)
    assert schema_digest(a) != schema_digest(c)
