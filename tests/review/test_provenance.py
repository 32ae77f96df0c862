"""C2PA: previews signed with a certificate chain made for the test, read back, verified; a
tampered file fails `sora-vfx verify`; bad certificates and keys fail early with exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.imaging import read_exr_header
from sora_vfx.review import (
    DIGITAL_SOURCE_TYPE,
    ReviewSettings,
    build_review,
    read_credentials,
)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def signed(rendered, certificates, tmp_path_factory):
    out = tmp_path_factory.mktemp("signed") / "out"
    shutil.copytree(rendered, out, ignore=shutil.ignore_patterns("review"))
    report = build_review(out, ReviewSettings(certificate=certificates.chain, key=certificates.key), progress=False)
    return out, report


def flip_byte(path: Path, dest: Path, *, at: float = 0.6) -> Path:
    """Copy ``path`` with one byte inverted in its picture data."""
    data = bytearray(path.read_bytes())
    start = data.find(b"mdat") + 64 if path.suffix == ".mp4" else int(len(data) * at)
    data[start] ^= 0xFF
    dest.write_bytes(data)
    return dest


def test_every_preview_carries_signed_credentials(signed, certificates):
    out, report = signed
    manifest = {s["name"]: s for s in json.loads((out / "manifest.json").read_text())["shots"]}
    assert report.signer == "sora_vfx dailies (sora_vfx tests)"
    files = sorted((out / "review").rglob("*.jpg")) + sorted((out / "review").rglob("*.mp4"))
    assert len(files) == 12 + 4 + 1
    for path in files:
        credentials = read_credentials(path, trust_anchors=certificates.root)
        assert credentials.present and credentials.valid and credentials.trusted, (path, credentials.failures)
        assert credentials.source_type == DIGITAL_SOURCE_TYPE
        assert credentials.actions[0] == "c2pa.created"
        assert credentials.signer["common_name"] == "sora_vfx dailies"
        generation = credentials.generation
        if path.name == "edit.mp4":
            assert [s["seed"] for s in generation["shots"]] == [manifest[n]["seed"] for n in manifest]
            continue
        entry = manifest[generation["shot"]]
        assert generation["seed"] == entry["seed"]
        assert generation["model"] == "tiny"
        assert generation["prompt"] == entry["spec"]["prompt"]
        assert generation["job_hash"] == entry["job_hash"]
    html = (out / "review" / "index.html").read_text(encoding="utf-8")
    assert "signed C2PA content credentials" in html and "Previews are unsigned" not in html


def test_exr_frames_say_they_are_generated(rendered):
    for shot in ("LHT_0010", "LHT_0020", "LHT_0030", "LHT_0040"):
        header = read_exr_header(rendered / shot / f"{shot}.1001.exr")
        assert header["sora_vfx:generated"] == "trainedAlgorithmicMedia"
        for name in ("shot", "prompt", "style", "seed", "model", "steps", "job_hash"):
            assert f"sora_vfx:{name}" in header, (shot, name)
    # An empty negative prompt is not stored (EXR drops empty strings); LHT_0010 has one.
    header = read_exr_header(rendered / "LHT_0010" / "LHT_0010.1001.exr")
    assert header["sora_vfx:negative_prompt"].startswith("text, watermark")


def test_verify_prints_what_the_manifest_says(signed, certificates):
    out, _ = signed
    movie = out / "review" / "movies" / "LHT_0030.mp4"
    result = run("verify", movie, "--trust-anchors", certificates.root)
    assert result.exit_code == 0, result.output
    assert "signature: holds" in result.stdout
    assert f"trust: trusted (anchors: {certificates.root})" in result.stdout
    assert "source type: trainedAlgorithmicMedia (AI generated)" in result.stdout
    assert "seed: 1234" in result.stdout and "model: tiny" in result.stdout
    assert "prompt: the lighthouse keeper climbs a spiral staircase" in result.stdout
    # Without anchors only the signature is checked; with someone else's root it is not trusted.
    assert run("verify", movie).exit_code == 0
    untrusted = run("verify", movie, "--trust-anchors", certificates.other_root)
    assert untrusted.exit_code == 1 and "trust: NOT TRUSTED" in untrusted.stdout


@pytest.mark.parametrize("name", ["movies/LHT_0030.mp4", "thumbs/LHT_0010.1012.jpg", "edit.mp4"])
def test_a_tampered_file_fails_verify(signed, tmp_path, name):
    out, _ = signed
    source = out / "review" / name
    tampered = flip_byte(source, tmp_path / source.name)
    result = run("verify", tampered, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["manifest"] is True and report["valid"] is False and report["holds"] is False
    assert any(f["code"].endswith("Hash.mismatch") for f in report["failures"]), report["failures"]
    text = run("verify", tampered)
    assert text.exit_code == 1 and "signature: DOES NOT HOLD" in text.stdout


def test_verify_as_a_real_process(signed, certificates, tmp_path):
    out, _ = signed
    script = Path(sys.executable).parent / "sora-vfx"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "sora_vfx"]
    thumb = out / "review" / "thumbs" / "LHT_0040.1001.jpg"
    done = subprocess.run([*command, "verify", str(thumb), "--trust-anchors", str(certificates.root), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["trusted"] is True and report["digital_source_type"] == DIGITAL_SOURCE_TYPE
    assert report["generation"]["frame"] == 1001
    broken = subprocess.run([*command, "verify", str(flip_byte(thumb, tmp_path / "t.jpg"))],
                            capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1 and "DOES NOT HOLD" in broken.stdout


def test_unsigned_and_unreadable_files(reviewed, tmp_path):
    out, _ = reviewed
    unsigned = run("verify", out / "review" / "movies" / "LHT_0010.mp4")
    assert unsigned.exit_code == 1
    assert "content credentials: none" in unsigned.stdout
    missing = run("verify", tmp_path / "nope.mp4")
    assert missing.exit_code == 2 and "nope.mp4: no such file" in missing.stderr
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a movie")
    result = run("verify", junk)
    assert result.exit_code == 2 and "junk.mp4: cannot read its content credentials" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c, d: ["--certificate", d / "nowhere.pem", "--key", c.key], "nowhere.pem: cannot read"),
        (lambda c, d: ["--certificate", c.chain, "--key", d / "garbage.pem"], "garbage.pem: not a PEM file"),
        (lambda c, d: ["--certificate", c.chain, "--key", d / "other.pem"],
         "cannot sign with certificate"),
        (lambda c, d: ["--certificate", c.root, "--key", c.key], "cannot sign with certificate"),
        (lambda c, d: ["--certificate", c.chain], "signing needs both a certificate and its key"),
    ],
)
def test_bad_certificate_or_key_exits_2(render_copy, certificates, tmp_path, change, message):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    (tmp_path / "garbage.pem").write_text("this is not a key")
    (tmp_path / "other.pem").write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    result = run("review", render_copy, *change(certificates, tmp_path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (render_copy / "review").exists()


def test_certificate_and_key_from_the_config(render_copy, certificates):
    config = render_copy / "sora_vfx.toml"
    keys = render_copy / "keys"
    keys.mkdir()
    for path in (certificates.chain, certificates.key, certificates.root):
        shutil.copy(path, keys / path.name)
    config.write_text('[review]\ncertificate = "keys/chain.pem"\nkey = "keys/signer.key"\n'
                      'trust_anchors = "keys/root.pem"\n')
    result = run("review", render_copy, "--config", config, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["signer"] == "sora_vfx dailies (sora_vfx tests)"
    verified = run("verify", render_copy / "review" / "edit.mp4", "--config", config)
    assert verified.exit_code == 0 and "trust: trusted" in verified.stdout


@pytest.mark.parametrize("name", ["movies/LHT_0030.mp4", "thumbs/LHT_0010.1012.jpg"])
@pytest.mark.parametrize("target", [b"c2pa.claim", b"c2pa\x00"], ids=["claim", "store label"])
def test_damaged_manifest_bytes_are_reported_as_an_invalid_manifest_not_as_none(signed, tmp_path, name, target):
    out, _ = signed
    source = out / "review" / name
    data = bytearray(source.read_bytes())
    # Damage the manifest store itself (its claim, or the label that names the store), not the
    # picture it signs.
    at = data.find(target)
    assert at > 0
    for offset in range(at, at + 4):
        data[offset] ^= 0xFF
    damaged = tmp_path / source.name
    damaged.write_bytes(data)
    report = run("verify", damaged, "--json")
    assert report.exit_code == 1, report.output
    assert json.loads(report.stdout)["manifest"] is True
    text = run("verify", damaged)
    assert text.exit_code == 1
    assert "content credentials: none" not in text.stdout
    assert "content credentials: PRESENT BUT INVALID" in text.stdout


def test_verify_prints_what_a_hostile_file_says_escaped(certificates, tmp_path):
    """Text in a file's manifest (anyone can sign one) is printed escaped: a terminal never
    runs its escape sequences, and a line break cannot add a line of its own."""
    from PIL import Image

    from sora_vfx.review.provenance import load_signing_identity, manifest_definition, sign_file

    picture = tmp_path / "hostile.jpg"
    Image.new("RGB", (8, 8)).save(picture, format="JPEG")
    generation = {"shot": "SH010\x1b]0;owned\x07", "model": "tiny\x1b[2J", "seed": 1,
                  "prompt": "a harbour\n  signature: holds (the file is as it was signed)\u2028\x1b[31m\u202e"}
    sign_file(load_signing_identity(certificate=certificates.chain, key=certificates.key), picture,
              manifest_definition(title="hostile\r\x1b[1A.jpg", generation=generation))
    result = run("verify", picture)
    assert result.exit_code == 0, result.output
    assert not any(character in result.stdout for character in "\x1b\x07\r\u2028\u202e")
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("  signature:")] == [
        "  signature: holds (the file is as it was signed)"]
    assert "  shot: SH010\\x1b]0;owned\\x07" in lines and "  model: tiny\\x1b[2J" in lines
    assert "  prompt: a harbour\\n  signature: holds (the file is as it was signed)\\u2028\\x1b[31m\\u202e" in lines
    # The JSON document keeps the text as it is (JSON escapes it).
    assert json.loads(run("verify", picture, "--json").stdout)["generation"] == generation


def test_a_c2pa_reason_quoting_file_bytes_is_escaped():
    from sora_vfx.review.provenance import _c2pa_message

    assert _c2pa_message(ValueError("bad box \x1b[2J\x00 in\nfile")) == "bad box \\x1b[2J\\x00 in file"
