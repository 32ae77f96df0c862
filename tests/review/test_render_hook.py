"""`sora-vfx render` builds the review when it is done (unless --no-review) and checks the
signing key before it renders anything."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sora_vfx.cli import main

FAST = ["--handles", "0", "--steps", "2", "--size", "32x32"]
EDL = """
    TITLE: hook
    001  A001 V     C        10:00:00:00 10:00:00:06 01:00:00:00 01:00:00:06
    * SHOT: HK_0010
    * PROMPT: a lantern in fog
"""


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_render_writes_the_review_and_keeps_its_json(write_edl, tmp_path, tiny_model):
    edl = write_edl(EDL)
    out = tmp_path / "out"
    result = run("render", edl, "-o", out, *FAST, "--json")
    assert result.exit_code == 0, result.output
    assert [s["name"] for s in json.loads(result.stdout)["shots"]] == ["HK_0010"]
    assert (out / "review" / "index.html").is_file()
    assert (out / "review" / "movies" / "HK_0010.mp4").is_file()
    assert "review: " in result.stderr and "previews unsigned" in result.stderr


def test_no_review(write_edl, tmp_path, tiny_model):
    out = tmp_path / "out"
    result = run("render", write_edl(EDL), "-o", out, *FAST, "--no-review")
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").is_file() and not (out / "review").exists()


def test_bad_key_fails_before_rendering(write_edl, tmp_path, certificates):
    edl = write_edl(EDL)
    (tmp_path / "sora_vfx.toml").write_text(f'[review]\ncertificate = "{certificates.chain}"\nkey = "missing.key"\n')
    out = tmp_path / "out"
    result = run("render", edl, "-o", out, *FAST)
    assert result.exit_code == 2, result.output
    assert f"private key {tmp_path / 'missing.key'}: cannot read" in result.stderr
    assert not out.exists()


def test_a_failing_review_does_not_fail_the_render(write_edl, tmp_path, tiny_model, monkeypatch):
    from sora_vfx.review import build as review_build

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(review_build, "_build", broken)
    out = tmp_path / "out"
    result = run("render", write_edl(EDL), "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    assert "review failed: internal error RuntimeError: disk on fire" in result.stderr
    assert "Traceback" not in result.output
    assert not (out / "review").exists() and not [p for p in out.iterdir() if p.name.startswith(".review")]
