"""Review fixtures: the sample edit rendered once (tiny model, 32x32, 2 steps, no handles) and a
C2PA signing chain made for the tests (root CA -> intermediate CA -> signer, ES256)."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.render import RenderSettings, render_edit
from tests.conftest import ROOT, SAMPLES

EDL = SAMPLES / "sequence_24fps.edl"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, tiny_model) -> Path:
    """The sample edit rendered once for every review test; copy it before changing it."""
    out = tmp_path_factory.mktemp("review_render") / "out"
    reading = read_edit(EDL, EditOptions(handles=0))
    report = render_edit(reading, out, RenderSettings(steps=2, size=(32, 32)), model=tiny_model, progress=False)
    assert not report.failed
    return out


@pytest.fixture
def render_copy(rendered, tmp_path) -> Path:
    """A private copy of the sample render (without any review) that a test may change."""
    copy = tmp_path / "out"
    shutil.copytree(rendered, copy, ignore=shutil.ignore_patterns("review", ".review*"))
    return copy


@pytest.fixture(scope="session")
def reviewed(rendered, tmp_path_factory):
    """An unsigned review of a copy of the sample render: (out folder, ReviewReport)."""
    from sora_vfx.review import ReviewSettings, build_review

    out = tmp_path_factory.mktemp("reviewed") / "out"
    shutil.copytree(rendered, out, ignore=shutil.ignore_patterns("review"))
    return out, build_review(out, ReviewSettings(), progress=False)


@dataclass
class Certificates:
    chain: Path  # signer + intermediate, PEM
    key: Path  # the signer's private key, PKCS#8 PEM
    root: Path  # the root CA, the tests' trust anchor
    other_root: Path  # an unrelated root CA


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sora_vfx tests")])


def _certificate(subject: str, issuer: str, public_key, signing_key, issuer_public_key, *, ca: bool):
    """An X.509 v3 certificate as C2PA wants it: CAs with keyCertSign, the signer with
    digitalSignature, emailProtection, not a CA; key identifiers on both."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject)).issuer_name(_name(issuer)).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=1 if ca else None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False)
    )
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture(scope="session")
def certificates(tmp_path_factory) -> Certificates:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder = tmp_path_factory.mktemp("certs")
    root_key, inter_key, signer_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(4))
    root = _certificate("Test Root CA", "Test Root CA", root_key.public_key(), root_key, root_key.public_key(), ca=True)
    inter = _certificate("Test Intermediate CA", "Test Root CA", inter_key.public_key(), root_key,
                         root_key.public_key(), ca=True)
    signer = _certificate("sora_vfx dailies", "Test Intermediate CA", signer_key.public_key(), inter_key,
                          inter_key.public_key(), ca=False)
    other = _certificate("Other Root CA", "Other Root CA", other_key.public_key(), other_key,
                         other_key.public_key(), ca=True)

    def pem(*certs) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)

    paths = Certificates(folder / "chain.pem", folder / "signer.key", folder / "root.pem", folder / "other_root.pem")
    paths.chain.write_bytes(pem(signer, inter))
    paths.key.write_bytes(signer_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    paths.root.write_bytes(pem(root))
    paths.other_root.write_bytes(pem(other))
    return paths


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run Debian's headless Chromium with a new empty profile and no background networking."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium (Debian package chromium) is missing: run `make sysdeps`")
    with tempfile.TemporaryDirectory(prefix="sora_vfx-chromium-") as profile:
        return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)
