"""Certificates and kubeconfigs for the local control plane."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gitops_nb.localcluster import pki


def test_ca_is_a_self_signed_ca() -> None:
    ca = pki.make_ca()
    cert = ca.cert
    assert cert.issuer == cert.subject
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    pub = cert.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))


def test_serving_cert_is_signed_by_ca_with_sans() -> None:
    ca = pki.make_ca()
    leaf = pki.issue(
        ca, "kube-apiserver", dns_names=("localhost",), ip_addresses=("127.0.0.1",), server=True
    ).cert
    assert leaf.issuer == ca.cert.subject
    leaf.verify_directly_issued_by(ca.cert)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_client_cert_carries_groups_as_organizations() -> None:
    ca = pki.make_ca()
    cert = pki.issue(ca, "admin", organizations=("system:masters",), client=True).cert
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "admin"
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert orgs == ["system:masters"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in list(eku)


def test_key_files_are_private(tmp_path: Path) -> None:
    crt, key = pki.make_ca().write(tmp_path, "ca")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert crt.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_kubeconfig_embeds_everything(tmp_path: Path) -> None:
    ca = pki.make_ca()
    client = pki.issue(ca, "admin", client=True)
    cfg = pki.kubeconfig(
        "https://127.0.0.1:6443", ca.cert_pem, user="admin", client=client, namespace="prod"
    )
    path = pki.write_kubeconfig(tmp_path / "kc", cfg)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = yaml.safe_load(path.read_text())
    cluster = loaded["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == ca.cert_pem
    user = loaded["users"][0]["user"]
    assert base64.b64decode(user["client-key-data"]) == client.key_pem
    assert loaded["contexts"][0]["context"]["namespace"] == "prod"
    assert loaded["current-context"] == loaded["contexts"][0]["name"]


def test_kubeconfig_with_token_and_exactly_one_credential() -> None:
    ca = pki.make_ca()
    cfg = pki.kubeconfig("https://x", ca.cert_pem, user="sa", token="abc")
    assert cfg["users"][0]["user"] == {"token": "abc"}
    with pytest.raises(ValueError):
        pki.kubeconfig("https://x", ca.cert_pem, user="sa")


def test_service_account_key_pair_matches() -> None:
    from cryptography.hazmat.primitives import serialization

    private, public = pki.make_service_account_key()
    key = serialization.load_pem_private_key(private, password=None)
    pub = serialization.load_pem_public_key(public)
    assert key.public_key().public_numbers() == pub.public_numbers()  # type: ignore[union-attr]
