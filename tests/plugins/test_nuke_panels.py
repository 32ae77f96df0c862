"""The pictures of the Nuke panels in docs/ are the ones plugins/draw_nuke_panels.py draws from
the knob definitions the nodes are built from (so they cannot drift from the nodes)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

from tests.conftest import ROOT

DRAW = ROOT / "plugins" / "draw_nuke_panels.py"
SVG = "{http://www.w3.org/2000/svg}"


def test_the_docs_show_the_panels_the_knobs_make(tmp_path):
    result = subprocess.run([sys.executable, str(DRAW), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    drawn = sorted(p.name for p in tmp_path.iterdir())
    assert drawn == ["nuke-SoraExtend.svg", "nuke-SoraGenerate.svg"]
    for name in drawn:
        committed = ROOT / "docs" / name
        assert committed.read_text() == (tmp_path / name).read_text(), (
            f"docs/{name} is out of date: python3 plugins/draw_nuke_panels.py docs")


def test_every_visible_knob_is_in_the_picture():
    import importlib.util

    spec = importlib.util.spec_from_file_location("draw_nuke_panels", DRAW)
    draw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(draw)
    knobs = draw.load_knobs()
    for kind, definitions in knobs.KNOBS.items():
        texts = [t.text for t in ET.fromstring(draw.draw(kind, definitions)).iter(f"{SVG}text")]
        for knob in definitions:
            if knob.hidden or not knob.label:  # state knobs: saved in the script, never shown
                continue
            assert knob.label in texts, (kind, knob.name)
        assert f"{kind}1" in texts
