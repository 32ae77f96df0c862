"""ProRes 422 HQ dailies (``review --prores``): movies an editor cuts with, placed by the
source timecode and reel in their QuickTime timecode track."""

from __future__ import annotations

import json

import av
import numpy as np
from click.testing import CliRunner

from sora_vfx.cli.main import main
from sora_vfx.imaging import read_exr_header
from sora_vfx.render import read_manifest


def probe(path):
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        timecodes = [stream for stream in container.streams if stream.type == "data"]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        return {"codec": video.codec_context.name, "profile": video.codec_context.profile,
                "pix_fmt": video.format.name, "size": (video.width, video.height), "rate": video.average_rate,
                "timecode": video.metadata.get("timecode"),
                "track": [dict(stream.metadata) for stream in timecodes], "frames": frames}


def test_each_shot_gets_a_prores_hq_daily_at_its_source_timecode(render_copy):
    result = CliRunner().invoke(main, ["review", str(render_copy), "--prores", "--json"])
    assert result.exit_code == 0, result.output
    shots = {shot["name"]: shot for shot in json.loads(result.stdout)["shots"]}
    manifest = read_manifest(render_copy)
    for entry in manifest.shots:
        daily = render_copy / "review" / shots[entry.name]["prores"]
        assert daily.suffix == ".mov" and shots[entry.name]["movie"].endswith(".mp4")
        movie = probe(daily)
        assert movie["codec"] == "prores" and movie["profile"] == "HQ" and movie["pix_fmt"] == "yuv422p10le"
        assert movie["size"] == (entry.spec.width, entry.spec.height) and movie["rate"] == 24
        # Every frame, handles too, without burn-ins; it starts at the first frame's timecode.
        assert len(movie["frames"]) == entry.frames.count
        first = read_exr_header(render_copy / entry.name / f"{entry.name}.{entry.frames.first:04d}.exr")
        assert movie["timecode"] == first["timeCode"]
        assert movie["track"] and movie["track"][0]["timecode"] == first["timeCode"]
        assert movie["track"][0]["reel_name"] == entry.job.reel
        # The picture is the shot's, not a slate: frames differ from one another.
        assert np.abs(movie["frames"][0].astype(int) - movie["frames"][-1].astype(int)).mean() > 0.5
    page = (render_copy / "review" / "index.html").read_text()
    assert "ProRes 422 HQ" in page and 'href="movies/LHT_0010.mov"' in page


def test_dailies_are_off_unless_asked_and_the_config_can_ask(render_copy, tmp_path):
    assert CliRunner().invoke(main, ["review", str(render_copy)]).exit_code == 0
    assert not list((render_copy / "review" / "movies").glob("*.mov"))
    config = tmp_path / "sora_vfx.toml"
    config.write_text("[review]\nprores = true\n")
    assert CliRunner().invoke(main, ["review", str(render_copy), "--config", str(config)]).exit_code == 0
    assert len(list((render_copy / "review" / "movies").glob("*.mov"))) == 4
    config.write_text('[review]\nprores = "yes"\n')
    bad = CliRunner().invoke(main, ["review", str(render_copy), "--config", str(config)])
    assert bad.exit_code == 2 and "prores" in bad.output


def test_signed_dailies_carry_credentials_too(rendered, certificates, tmp_path):
    import shutil

    from sora_vfx.review import ReviewSettings, build_review
    from sora_vfx.review.provenance import read_credentials

    out = tmp_path / "out"
    shutil.copytree(rendered, out, ignore=shutil.ignore_patterns("review"))
    build_review(out, ReviewSettings(certificate=certificates.chain, key=certificates.key, prores=True),
                 progress=False)
    dailies = sorted((out / "review" / "movies").glob("*.mov"))
    assert len(dailies) == 4
    for path in dailies:
        credentials = read_credentials(path, trust_anchors=certificates.root)
        assert credentials.present and credentials.valid and credentials.trusted, (path, credentials.failures)
        assert credentials.generation["shot"] == path.stem


def test_a_tape_name_with_line_breaks_is_one_reel_name_line(render_copy):
    """An AAF tape name holding line breaks and EDL text is the daily's reel name as one line."""
    manifest = render_copy / "manifest.json"
    document = json.loads(manifest.read_text())
    tape = "A001\n002  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\r\n* SHOT: X\x00"
    for shot in document["shots"]:
        shot["job"]["reel"] = tape
    manifest.write_text(json.dumps(document))
    result = CliRunner().invoke(main, ["review", str(render_copy), "--prores", "--json"])
    assert result.exit_code == 0, result.output
    movie = probe(render_copy / "review" / "movies" / "LHT_0010.mov")
    assert movie["track"][0]["reel_name"] == \
        "A001 002  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00 * SHOT: X"
