"""The dailies page: opened in a real headless Chromium, every image loads, every shot is listed
in edit order, nothing links to a file that is not there, and bad input is reported clearly."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from tests.review.conftest import ARTIFACTS, chromium

SHOTS = ["LHT_0010", "LHT_0020", "LHT_0030", "LHT_0040"]
# Appended to a copy of the page: once everything has loaded, mark each image and the movie.
CHECK_SCRIPT = """
<script>
window.addEventListener('load', () => {
  for (const img of document.images) img.dataset.loaded = (img.complete && img.naturalWidth > 0) ? 'yes' : 'no';
  document.body.dataset.images = String(document.images.length);
  const video = document.querySelector('video');
  const done = (state) => { document.body.dataset.video = state; };
  if (!video) done('none');
  else if (video.readyState >= 1) done('ok');
  else {
    video.addEventListener('loadedmetadata', () => done('ok'));
    video.addEventListener('error', () => done('error'));
  }
});
</script>
"""


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.shots: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if tag == "section" and "data-shot" in attrs:
            self.shots.append((attrs["data-shot"], attrs.get("data-status")))


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def test_page_opens_in_chromium_with_every_image_and_shot(reviewed):
    out, report = reviewed
    page = out / "review" / "index.html"
    check = page.with_name("_check.html")
    check.write_text(page.read_text(encoding="utf-8").replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    try:
        dom = chromium("--virtual-time-budget=5000", "--dump-dom", check.as_uri())
    finally:
        check.unlink()
    assert dom.returncode == 0, dom.stderr[-2000:]
    images = re.findall(r"<img [^>]*>", dom.stdout)
    assert len(images) == 3 * len(SHOTS)  # first, middle and last frame of each shot
    assert all('data-loaded="yes"' in img for img in images), [i for i in images if 'data-loaded="yes"' not in i]
    assert re.search(r'<body[^>]* data-video="ok"', dom.stdout), "the edit movie did not load in Chromium"
    assert re.findall(r'data-shot="([^"]+)"', dom.stdout) == SHOTS

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "review-page.png"
    screenshot.unlink(missing_ok=True)
    shot = chromium("--window-size=1280,1400", "--hide-scrollbars", f"--screenshot={screenshot}", page.as_uri())
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.stat().st_size > 10_000


def test_page_lists_what_made_each_shot(reviewed):
    out, report = reviewed
    html = (out / "review" / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["shots"]:
        section = html[html.index(f'data-shot="{entry["name"]}"'):]
        section = section[:section.index("</section>")]
        assert str(entry["seed"]) in section
        assert entry["spec"]["prompt"].split(",")[0] in section
        assert "tiny" in section and "01:00:0" in section
        assert f'{entry["frames"]["first"]}&ndash;{entry["frames"]["last"]}' in section
    assert "Previews are unsigned" in html
    assert "sRGB - Display / ACES 2.0 - SDR 100 nits (Rec.709)" in html
    assert [s.status for s in report.shots] == ["rendered"] * 4


def test_page_links_only_files_that_exist_and_nothing_remote(reviewed):
    out, _ = reviewed
    page = out / "review" / "index.html"
    links = parse(page).links
    assert len(links) == 12 + 4 + 2  # thumbnails, shot movies, edit movie (link and video)
    for link in links:
        assert not re.match(r"^[a-z]+:", link), f"{link} is not a relative file"
        assert (page.parent / link).is_file(), link


def test_missing_and_unreadable_frames_are_shown_as_missing(render_copy):
    out = render_copy
    (out / "LHT_0020" / "LHT_0020.1010.exr").unlink()  # the middle thumbnail's frame
    (out / "LHT_0030" / "LHT_0030.1001.exr").write_bytes(b"not an exr at all")
    result = run("review", out)
    assert result.exit_code == 2, result.output
    assert "frames missing or unreadable (LHT_0020 1010; LHT_0030 1001)" in result.stderr
    assert "Traceback" not in result.output
    page = out / "review" / "index.html"
    parsed = parse(page)
    assert dict(parsed.shots) == {"LHT_0010": "rendered", "LHT_0020": "missing", "LHT_0030": "missing",
                                  "LHT_0040": "rendered"}
    for link in parsed.links:
        assert (page.parent / link).is_file(), link
    html = page.read_text(encoding="utf-8")
    assert "frame 1010<br>missing" in html and "frame 1001<br>missing" in html
    assert not (page.parent / "thumbs" / "LHT_0020.1010.jpg").exists()
    # The movies keep their length: a slate stands in for each missing frame.
    import av

    with av.open(str(page.parent / "movies" / "LHT_0020.mp4")) as movie:
        assert sum(1 for _ in movie.decode(video=0)) == 20


def test_failed_shot_is_shown_failed_with_its_error(render_copy):
    out = render_copy
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["shots"][1].update(status="failed", error="LHT_0020.1010.exr: [Errno 28] No space left on device")
    (out / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(out / "LHT_0020")
    result = run("review", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    failed = summary["shots"][1]
    assert (failed["name"], failed["status"], failed["movie"]) == ("LHT_0020", "failed", None)
    html = (out / "review" / "index.html").read_text(encoding="utf-8")
    assert 'data-status="failed"' in html and "No space left on device" in html
    assert [s["name"] for s in summary["shots"]] == SHOTS


def test_review_json_summary_and_rerun_replaces_the_review(render_copy):
    first = run("review", render_copy, "--json")
    assert first.exit_code == 0, first.output
    (render_copy / "review" / "stale.txt").write_text("left over")
    again = run("review", render_copy, "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["signed"] is False and summary["ai_mark"] is True
    assert [s["name"] for s in summary["shots"]] == SHOTS
    assert Path(summary["page"]) == render_copy / "review" / "index.html"
    assert Path(summary["edit_movie"]).is_file()
    assert not (render_copy / "review" / "stale.txt").exists()
    assert not [p for p in render_copy.iterdir() if p.name.startswith(".review")]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "no manifest.json, so not a sora_vfx render folder"),
        (lambda d: (d / "manifest.json").write_text("{not json"), "manifest.json: not a readable sora_vfx manifest"),
    ],
)
def test_folder_without_a_manifest(tmp_path, setup, message):
    setup(tmp_path)
    result = run("review", tmp_path)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "review").exists()


def test_manifest_that_does_not_decode_names_the_file_and_every_problem(render_copy):
    out = render_copy
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["shots"][1]
    del entry["frames"]["pattern"]
    entry["seed"] = "not a seed"
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = run("review", out)
    assert result.exit_code == 2, result.output
    assert f"{out / 'manifest.json'}: shot LHT_0020: " in result.stderr
    assert "frames.pattern is missing" in result.stderr and "seed has to be int" in result.stderr
    assert "Traceback" not in result.output
    assert not (out / "review").exists()


def test_unknown_view_lists_the_valid_ones(render_copy):
    result = run("review", render_copy, "--view", "Filmic")
    assert result.exit_code == 2
    assert "unknown OCIO view 'Filmic' for display 'sRGB - Display'" in result.stderr
    assert "ACES 2.0 - SDR 100 nits (Rec.709)" in result.stderr
