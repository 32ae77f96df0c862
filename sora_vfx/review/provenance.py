"""C2PA content credentials (``c2pa-python``): sign previews, read and verify any file's manifest.

Each signed preview states that it was made by a trained model ("trainedAlgorithmicMedia", the
IPTC digital source type) in a ``c2pa.created`` action, and carries what made it (shot, model,
seed, prompt, style, ...) in an ``org.sora_vfx.generation`` assertion.

The signing certificate must be a C2PA-usable end-entity certificate (digitalSignature key
usage, an extended key usage such as emailProtection or documentSigning, not a CA) and the PEM
file holds the chain: the signing certificate first, then any intermediates, without the root.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ReviewError
from ..files import write_atomically
from ..text import printable

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
GENERATION_LABEL = "org.sora_vfx.generation"
SIGNING_ALGORITHM = "es256"
MIME_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
              ".png": "image/png"}
# Codes that say the signer is not on a trust list; everything else in "failure" means the
# file or its manifest no longer matches what was signed.
_TRUST_CODES = {"signingCredential.untrusted"}
# Never reach the network from a review or a verify: no remote manifests, no OCSP.
_OFFLINE = {"remote_manifest_fetch": False, "ocsp_fetch": False}
_SIGN_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}, "verify": {**_OFFLINE, "verify_trust": False}}


def _read_pem(path: Path, what: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReviewError(f"{what} {path}: cannot read: {exc.strerror or exc}") from None
    if b"-----BEGIN " not in data:
        raise ReviewError(f"{what} {path}: not a PEM file (expected -----BEGIN ...-----)")
    return data


#: Version of the ``verify --json`` document (docs/schemas/verify.schema.json).
JSON_VERSION = 1

@dataclass
class SigningIdentity:
    """A certificate chain and its private key, checked by signing a probe image."""

    certificate: Path
    key: Path
    chain_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)
    signer: str = ""  # "common name (issuer)" as a reader of the signed files will see it

    def _context(self):
        import c2pa

        info = c2pa.C2paSignerInfo(SIGNING_ALGORITHM, self.chain_pem, self.key_pem, None)
        return c2pa.Context.from_dict(_SIGN_SETTINGS, signer=c2pa.Signer.from_info(info))


def load_signing_identity(*, certificate: Path, key: Path) -> SigningIdentity:
    """Read the PEM chain and key and prove they can sign, before any preview is made.

    Raises:
        ReviewError: a file that cannot be read, is not PEM, or that c2pa cannot sign with
            (wrong key for the certificate, a certificate not fit for C2PA signing).
    """
    import c2pa
    from PIL import Image

    identity = SigningIdentity(Path(certificate), Path(key), _read_pem(certificate, "certificate"),
                               _read_pem(key, "private key"))
    if b"PRIVATE KEY-----" not in identity.key_pem or b"ENCRYPTED PRIVATE KEY" in identity.key_pem:
        raise ReviewError(f"private key {key}: expected an unencrypted PEM private key")
    probe = io.BytesIO()
    Image.new("RGB", (8, 8)).save(probe, format="JPEG")
    signed = io.BytesIO()
    try:
        builder = c2pa.Builder(manifest_definition(title="probe", generation={}), context=identity._context())
        builder.sign("image/jpeg", io.BytesIO(probe.getvalue()), signed)
        signed.seek(0)
        reader = c2pa.Reader("image/jpeg", signed, context=_reader_context(None))
        info = (reader.get_active_manifest() or {}).get("signature_info") or {}
    except (c2pa.C2paError, ValueError, TypeError) as exc:
        raise ReviewError(f"cannot sign with certificate {certificate} and key {key}: {_c2pa_message(exc)}") from None
    name, issuer = info.get("common_name"), info.get("issuer")
    identity.signer = f"{name} ({issuer})" if name and issuer else (name or issuer or "unknown signer")
    return identity


def manifest_definition(*, title: str, generation: dict[str, Any], extra_actions: list[dict] | None = None) -> dict:
    """A C2PA manifest: created by a trained model, then ``extra_actions``; ``generation`` as an
    ``org.sora_vfx.generation`` assertion."""
    agent = {"name": "sora_vfx", "version": __version__}
    created = {"action": "c2pa.created", "digitalSourceType": DIGITAL_SOURCE_TYPE, "softwareAgent": agent}
    if generation.get("model"):
        created["parameters"] = {"description": _describe(generation)}
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2",
             "data": {"actions": [created, *({**a, "softwareAgent": agent} for a in extra_actions or [])]}},
            {"label": GENERATION_LABEL, "data": generation},
        ],
    }


def _describe(generation: dict[str, Any]) -> str:
    parts = [f"{key} {generation[key]}" for key in ("model", "seed", "style") if generation.get(key) is not None]
    return "generated by " + ", ".join(parts)


def sign_file(identity: SigningIdentity, path: Path, manifest: dict) -> None:
    """Embed a signed manifest in ``path`` (MP4, JPEG or PNG), replacing the file atomically.

    Raises:
        ReviewError: the format is not one c2pa can sign, or signing failed.
    """
    import c2pa

    path = Path(path)
    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        raise ReviewError(f"cannot sign {path}: only {', '.join(sorted(MIME_TYPES))} files are signed")
    try:
        builder = c2pa.Builder(manifest, context=identity._context())
    except (c2pa.C2paError, ValueError) as exc:
        raise ReviewError(f"cannot sign {path}: {_c2pa_message(exc)}") from None

    def sign(temporary: Path) -> None:
        with open(path, "rb") as source, open(temporary, "w+b") as dest:
            builder.sign(mime, source, dest)

    try:
        write_atomically(path, sign, what="signed preview", error=ReviewError)
    except ReviewError as exc:  # "cannot sign" tells the user which step failed; the cause says why
        raise ReviewError(f"cannot sign {path}: {_c2pa_message(exc.__cause__ or exc)}") from None


@dataclass
class Credentials:
    """What a file's C2PA manifest says, and whether it holds."""

    path: Path
    present: bool
    valid: bool = False  # the signature and every hash match: the file is as it was signed
    trusted: bool | None = None  # None: no trust anchors were given, so trust was not checked
    state: str | None = None  # c2pa's validation state: Invalid, Valid or Trusted
    failures: list[dict[str, str]] = field(default_factory=list)
    signer: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    generator: str | None = None
    source_type: str | None = None
    actions: list[str] = field(default_factory=list)
    generation: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def holds(self) -> bool:
        """Valid, and trusted whenever trust anchors were given."""
        return self.present and self.valid and self.trusted is not False

    def to_dict(self) -> dict[str, Any]:
        """The ``verify --json`` document."""
        return {
            "version": JSON_VERSION,
            "file": str(self.path), "manifest": self.present, "valid": self.valid, "trusted": self.trusted,
            "holds": self.holds, "validation_state": self.state, "failures": self.failures,
            "signer": self.signer, "title": self.title, "claim_generator": self.generator,
            "digital_source_type": self.source_type, "actions": self.actions, "generation": self.generation,
        }


def _reader_context(trust_anchors: bytes | None):
    import c2pa

    settings: dict[str, Any] = {"verify": {**_OFFLINE, "verify_trust": trust_anchors is not None}}
    if trust_anchors is not None:
        settings["trust"] = {"user_anchors": trust_anchors.decode("utf-8", "replace")}
    return c2pa.Context.from_dict(settings)


def read_credentials(path: Path, *, trust_anchors: Path | None = None) -> Credentials:
    """Read and validate the C2PA manifest of ``path`` (offline).

    Raises:
        ReviewError: the file cannot be read or is not a format c2pa knows; bad trust anchors.
    """
    import c2pa

    path = Path(path)
    if not path.is_file():
        raise ReviewError(f"{path}: no such file")
    anchors = _read_pem(trust_anchors, "trust anchors") if trust_anchors is not None else None
    if anchors is not None and b"-----BEGIN CERTIFICATE-----" not in anchors:
        raise ReviewError(f"trust anchors {trust_anchors}: no PEM certificate in it")
    try:
        reader = c2pa.Reader(path, context=_reader_context(anchors))
        store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        if _holds_manifest_store(path):
            return _unreadable(path, "a C2PA manifest store is in the file, but no manifest can be found in it")
        return Credentials(path, present=False)
    except (c2pa.C2paError, OSError, ValueError) as exc:
        if not isinstance(exc, OSError) and _holds_manifest_store(path):
            # The file carries credentials, but they are damaged: a verdict on the file (it
            # does not hold), not a failure to look.
            return _unreadable(path, f"its C2PA manifest cannot be read: {_c2pa_message(exc)}")
        raise ReviewError(f"{path}: cannot read its content credentials: {_c2pa_message(exc)}") from None
    manifest = store.get("manifests", {}).get(store.get("active_manifest"), {})
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [{"code": f.get("code", ""), "explanation": f.get("explanation", "")}
                for f in results.get("failure", [])]
    if not results and store.get("validation_status"):  # older readers report a flat list
        failures = [{"code": s.get("code", ""), "explanation": s.get("explanation", "")}
                    for s in store["validation_status"]]
    broken = [f for f in failures if f["code"] not in _TRUST_CODES]
    state = store.get("validation_state")
    credentials = Credentials(path, present=bool(manifest), state=state, failures=failures, manifest=manifest)
    credentials.valid = bool(manifest) and not broken and state in ("Valid", "Trusted")
    if anchors is not None:
        credentials.trusted = credentials.valid and state == "Trusted"
    credentials.signer = dict(manifest.get("signature_info") or {})
    credentials.title = manifest.get("title")
    generators = manifest.get("claim_generator_info") or []
    credentials.generator = " ".join(str(generators[0].get(k, "")) for k in ("name", "version")).strip() \
        if generators else manifest.get("claim_generator")
    for assertion in manifest.get("assertions", []):
        label, data = assertion.get("label", ""), assertion.get("data") or {}
        if label.startswith("c2pa.actions"):
            for action in data.get("actions", []):
                credentials.actions.append(action.get("action", ""))
                if action.get("digitalSourceType") and credentials.source_type is None:
                    credentials.source_type = action["digitalSourceType"]
        elif label == GENERATION_LABEL:
            credentials.generation = data
    return credentials


#: JUMBF's box type and C2PA's manifest store label, both in every file that carries one.
_STORE_MARKERS = (b"jumb", b"c2pa")


def _holds_manifest_store(path: Path, *, block: int = 1 << 20) -> bool:
    """Whether ``path``'s bytes hold a JUMBF box labelled ``c2pa`` (read in blocks)."""
    seen = {marker: False for marker in _STORE_MARKERS}
    tail = b""
    with open(path, "rb") as handle:
        while not all(seen.values()):
            chunk = handle.read(block)
            if not chunk:
                break
            window = tail + chunk
            for marker in _STORE_MARKERS:
                seen[marker] = seen[marker] or marker in window
            tail = chunk[-8:]
    return all(seen.values())


def _unreadable(path: Path, explanation: str) -> Credentials:
    """Credentials that are present but cannot be read: they do not hold."""
    return Credentials(path, present=True, state="Invalid",
                       failures=[{"code": "manifest.unreadable", "explanation": explanation}])


def _c2pa_message(exc: BaseException) -> str:
    """c2pa's reason on one line, escaped: it can quote the bytes of a damaged file, and the
    message is printed on a terminal (:func:`sora_vfx.text.printable`)."""
    return printable(" ".join(str(exc).split())) or type(exc).__name__
