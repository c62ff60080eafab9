"""Certificate sets without nodes: parsing, truststore planning, status rules, rotation."""

from __future__ import annotations

import datetime
import io
import tarfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gluu_cluster.errors import UsageError
from gluu_cluster.inventory import check_inventory, load_inventory
from gluu_cluster.lab.keys import self_signed
from gluu_cluster.pki.certset import (
    SetFile,
    certificates,
    fingerprint,
    load_certificate,
    parse_properties,
    parse_set_tar,
)
from gluu_cluster.pki.checks import _NodeFacts, evaluate
from gluu_cluster.pki.keytool import TrustOp, parse_rfc_listing
from gluu_cluster.pki.rotate import parse_key_type, renew
from gluu_cluster.pki.trust import desired_entries, trust_ops
from gluu_cluster.problems import REGISTRY, define

INVENTORY = """\
cluster: lab
nodes:
  - {name: n1, address: 10.9.0.1}
  - {name: n2, address: 10.9.0.2}
certificates:
  sets:
    - name: gluu
      masks: ["httpd.*", "shibIDP.*"]
      truststore: {path: /etc/ssl/certs/java/cacerts, password: {env: STOREPASS}}
"""


def _set_files(common_name: str = "n1 httpd", days: int = 365) -> dict[str, SetFile]:
    pair = self_signed(common_name, "n1", "10.9.0.1", days=days)
    return {
        "httpd.crt": SetFile("httpd.crt", pair.cert_pem, 0o644, "root:root"),
        "httpd.key": SetFile("httpd.key", pair.key_pem, 0o600, "root:root"),
        "shibIDP.jks": SetFile("shibIDP.jks", pair.pkcs12("shibidp", "pw"), 0o600, "root:root"),
    }


@pytest.fixture
def inventory(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "cluster.yaml"
    path.write_text(INVENTORY)
    return load_inventory(path)


def _tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uname, info.gname = len(data), mode, "root", "gluu"
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_set_tar_keeps_matching_regular_files_with_mode_and_owner() -> None:
    stream = _tar({"httpd.key": (b"KEY-BYTES", 0o600), "other.txt": (b"x", 0o644),
                   "shibIDP.jks": (b"j", 0o640)})
    files = parse_set_tar(stream, ["httpd.*", "shibIDP.*"])
    assert sorted(files) == ["httpd.key", "shibIDP.jks"]
    assert files["httpd.key"].mode == 0o600 and files["httpd.key"].owner == "root:gluu"
    assert files["shibIDP.jks"].is_keystore and not files["httpd.key"].is_keystore
    assert parse_set_tar(b"", ["*"]) == {}
    assert "KEY-BYTES" not in repr(files["httpd.key"])  # key bytes never in a repr


def test_certificates_pair_keys_by_stem_and_detect_a_mismatch() -> None:
    files = _set_files()
    info = certificates(files)["httpd.crt"]
    assert info.key_matches is True and info.key == "RSA 2048"
    assert "n1 httpd" in info.subject and 360 <= info.days_left() <= 365
    other = self_signed("x", "n1", "10.9.0.1")
    files["httpd.key"] = SetFile("httpd.key", other.key_pem, 0o600, "root:root")
    assert certificates(files)["httpd.crt"].key_matches is False
    del files["httpd.key"]
    assert certificates(files)["httpd.crt"].key_matches is None


def test_der_certificates_are_read_too() -> None:
    pair = self_signed("n1 httpd", "n1", "10.9.0.1")
    der = pair.cert.public_bytes(serialization.Encoding.DER)
    cert = load_certificate(der)
    assert cert is not None and fingerprint(cert) == fingerprint(pair.cert)
    assert load_certificate(b"not a certificate") is None


def test_properties_as_java_writes_them() -> None:
    text = "#c\nldapPass=se=cret\nshibJksPass : abc\nurl=https\\://x\n! other\nnoval\n"
    assert parse_properties(text) == {"ldapPass": "se=cret", "shibJksPass": "abc",
                                      "url": "https://x"}


def test_rfc_listing_fingerprints_match_cryptography() -> None:
    a, b = self_signed("a", "a", "10.0.0.1"), self_signed("b", "b", "10.0.0.2")
    text = (
        "Keystore type: JKS\n\nYour keystore contains 2 entries\n\n"
        f"Alias name: Node1_HTTPD\nEntry type: trustedCertEntry\n\n{a.cert_pem.decode()}\n"
        "*******************************************\n\n"
        f"Alias name: key\nEntry type: PrivateKeyEntry\nCertificate chain length: 2\n"
        f"{b.cert_pem.decode()}{a.cert_pem.decode()}\n"
    )
    assert parse_rfc_listing(text) == {"node1_httpd": fingerprint(a.cert),
                                       "key": fingerprint(b.cert)}


def test_trust_ops_add_missing_replace_changed_leave_the_rest(inventory) -> None:  # type: ignore[no-untyped-def]
    cert_set = inventory.certificates.sets[0]
    files = _set_files()
    desired = desired_entries(cert_set, "n2", files, None)
    assert [e.alias for e in desired] == ["n2_httpd"]  # key and key store are not trusted
    ops, why = trust_ops({"unrelated": "AA"}, desired)
    assert ops == [TrustOp("n2_httpd", desired[0].pem)] and "import httpd.crt" in why[0]
    ops, why = trust_ops({"n2_httpd": "BB", "unrelated": "AA"}, desired)
    assert [op.arg for op in ops] == ["del:n2_httpd", "add:n2_httpd"]
    assert trust_ops({"n2_httpd": desired[0].fingerprint}, desired) == ([], [])


def test_cluster_ca_is_trusted_under_its_own_alias(inventory) -> None:  # type: ignore[no-untyped-def]
    ca = self_signed("ca", "ca", "10.0.0.9")
    entries = desired_entries(inventory.certificates.sets[0], "n1", _set_files(), ca.cert_pem)
    assert [e.alias for e in entries] == ["n1_httpd", "n1_gluu-cluster-ca"]


def test_alias_template_and_keystore_defaults_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(INVENTORY.replace("password: {env: STOREPASS}",
                                      "password: {env: STOREPASS}, alias: '{host}_x'"))
    inv, problems = check_inventory(path)
    assert inv is None and "alias" in problems[0] and "{stem}" in problems[0]
    path.write_text(INVENTORY)
    keystores = load_inventory(path).certificates.sets[0].keystores
    assert [(k.file, k.password_from.key) for k in keystores] == [
        ("shibIDP.jks", "shibJksPass"), ("asimbaIDP.jks", "asimbaJksPass")]


def _facts(files: dict[str, SetFile], trust: dict[str, str] | None = None) -> _NodeFacts:
    return _NodeFacts(files, trust, [])


def test_status_consistent_set_has_no_problems(inventory) -> None:  # type: ignore[no-untyped-def]
    cert_set = inventory.certificates.sets[0]
    files = _set_files()
    trust = {"n1_httpd": fingerprint(files_cert(files)), "n2_httpd": fingerprint(files_cert(files))}
    result = evaluate(inventory, cert_set, "n1", {"n1": _facts(files, trust),
                                                  "n2": _facts(dict(files), trust)}, None)
    assert result.problems == [] and result.consistent
    assert all(row.same_as_source and row.in_truststore is not False
               for node in result.nodes for row in node.files)


def files_cert(files: dict[str, SetFile]) -> x509.Certificate:
    cert = load_certificate(files["httpd.crt"].data)
    assert cert is not None
    return cert


def test_status_finds_drift_expiry_and_missing_trust(inventory) -> None:  # type: ignore[no-untyped-def]
    cert_set = inventory.certificates.sets[0]
    source = _set_files(days=10)
    other = _set_files("n2 httpd")
    del other["shibIDP.jks"]
    facts = {"n1": _facts(source, {}), "n2": _facts(other, None)}
    result = evaluate(inventory, cert_set, "n1", facts, None)
    codes = {(p.code, p.node) for p in result.problems}
    assert ("CERT-EXPIRING", "n1") in codes and ("CERT-TRUST-MISSING", "n1") in codes
    assert ("CERT-FILE-DIFFERS", "n2") in codes and ("CERT-FILE-MISSING", "n2") in codes
    assert not result.consistent
    expired = evaluate(inventory, cert_set, "n1", facts, None,
                       now=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=11))
    assert any(p.code == "CERT-EXPIRED" and p.severity == "error" for p in expired.problems)


def test_a_code_defined_twice_is_refused_and_the_first_kept() -> None:
    first = REGISTRY["CERT-EXPIRED"]
    with pytest.raises(ValueError, match="defined twice"):
        define("CERT-EXPIRED", "warning", "x")
    assert REGISTRY["CERT-EXPIRED"] is first and first.severity == "error"


@pytest.mark.parametrize("text", ["rsa:1024", "rsa:2048", "dsa", "rsa:x"])
def test_weak_or_unknown_key_types_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="--key-type"):
        parse_key_type(text)


def test_renew_keeps_subject_and_sans_with_a_new_key() -> None:
    old = self_signed("n1 httpd", "n1", "10.9.0.1", days=5).cert
    key_type = parse_key_type("ec:p256")
    key = key_type.generate()
    new = renew(old, key, 365)
    assert new.subject == old.subject and new.issuer == new.subject
    sans = x509.SubjectAlternativeName
    assert (new.extensions.get_extension_for_class(sans).value
            == old.extensions.get_extension_for_class(sans).value)
    assert fingerprint(new) != fingerprint(old)
    assert (new.not_valid_after_utc - datetime.datetime.now(datetime.UTC)).days >= 364
    assert str(parse_key_type("RSA:4096")) == "rsa:4096"
