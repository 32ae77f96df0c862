"""Draw the SoraGenerate and SoraExtend property panels as SVG, from the knob definitions.

    python3 plugins/draw_nuke_panels.py docs

No Nuke is needed: the pictures come from ``sora_vfx_nuke.knobs`` (the definitions the nodes are
built from), laid out as Nuke lays out a panel: a row per knob, knobs without ``new_line`` beside
the one before, hidden knobs left out. ``tests/plugins/test_nuke_panels.py`` checks that the
pictures in the docs are the ones this draws. Standard library only.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from html import escape
from pathlib import Path

KNOBS_SOURCE = Path(__file__).resolve().parent / "nuke" / "sora_vfx_nuke" / "knobs.py"
WIDTH, ROW, LABEL, PAD = 640, 26, 128, 10
COLOURS = {"panel": "#3a3a3a", "title": "#2b2b2b", "text": "#e0e0e0", "label": "#c8c8c8",
           "field": "#232323", "edge": "#1a1a1a", "button": "#555555", "tab": "#4a4a4a", "dim": "#8a8a8a"}
#: Widths of the widgets, in pixels.
WIDGET = {"String_Knob": 200, "File_Knob": 260, "Int_Knob": 60, "Double_Knob": 60, "Enumeration_Knob": 130,
          "Boolean_Knob": 14, "PyScript_Knob": 90, "Multiline_Eval_String_Knob": 380}


def load_knobs():
    spec = importlib.util.spec_from_file_location("sora_vfx_nuke_knobs", KNOBS_SOURCE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def rows(definitions) -> list[list]:
    """The knobs as the panel shows them: rows of knobs, hidden ones and the tab left out."""
    laid: list[list] = []
    for knob in definitions:
        if knob.hidden or knob.kind == "Tab_Knob":
            continue
        if knob.new_line or not laid:
            laid.append([knob])
        else:
            laid[-1].append(knob)
    return laid


def _text(x: float, y: float, text: str, colour: str, anchor: str = "start", size: int = 12) -> str:
    return (f'<text x="{x:g}" y="{y:g}" fill="{colour}" font-size="{size}" text-anchor="{anchor}">'
            f"{escape(text)}</text>")


def _box(x: float, y: float, width: float, height: float, fill: str, radius: int = 2) -> str:
    return (f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" rx="{radius}" '
            f'fill="{fill}" stroke="{COLOURS["edge"]}"/>')


def _widget(knob, x: float, y: float) -> tuple[list[str], float]:
    """The SVG of one knob's widget at (x, y), and the x after it."""
    value = "" if knob.default is None else str(knob.default)
    width = WIDGET.get(knob.kind, 200)
    if knob.kind == "PyScript_Knob":
        width = max(width, 8 * len(knob.label) + 16)
        return [_box(x, y + 3, width, ROW - 6, COLOURS["button"], 3),
                _text(x + width / 2, y + 17, knob.label, COLOURS["text"], "middle")], x + width + 8
    if knob.kind == "Boolean_Knob":
        parts = [_box(x, y + 6, 14, 14, COLOURS["field"])]
        if knob.default:
            parts.append(_text(x + 7, y + 18, "✓", COLOURS["text"], "middle"))
        return parts + [_text(x + 20, y + 17, knob.label, COLOURS["label"])], x + 28 + 7 * len(knob.label)
    height = ROW * 2 - 6 if knob.kind == "Multiline_Eval_String_Knob" else ROW - 6
    parts = [_box(x, y + 3, width, height, COLOURS["field"]),
             _text(x + 5, y + 17, value[:40], COLOURS["text"] if value else COLOURS["dim"])]
    if knob.kind == "Enumeration_Knob":
        parts.append(_text(x + width - 10, y + 17, "▾", COLOURS["text"], "middle"))
    if knob.kind == "File_Knob":
        parts.append(_box(x + width + 4, y + 3, 22, ROW - 6, COLOURS["button"]))
        width += 26
    return parts, x + width + 8


def draw(kind: str, definitions) -> str:
    """The SVG of ``kind``'s panel."""
    body, y = [], 58
    for row in rows(definitions):
        first = row[0]
        if first.kind == "Text_Knob" and not first.label:
            body.append(f'<line x1="{PAD}" y1="{y + 13}" x2="{WIDTH - PAD}" y2="{y + 13}" stroke="{COLOURS["dim"]}"/>')
            y += ROW
            continue
        x = PAD + LABEL
        if first.kind not in ("PyScript_Knob", "Boolean_Knob"):
            body.append(_text(x - 8, y + 17, first.label, COLOURS["label"], "end"))
        height = ROW
        for index, knob in enumerate(row):
            if index and knob.kind not in ("PyScript_Knob", "Boolean_Knob"):
                body.append(_text(x, y + 17, knob.label, COLOURS["label"]))
                x += 8 + 7 * len(knob.label)
            if knob.kind == "Text_Knob":
                body.append(_text(x, y + 17, str(knob.default), COLOURS["text"]))
                continue
            parts, x = _widget(knob, x, y)
            body += parts
            if knob.kind == "Multiline_Eval_String_Knob":
                height = ROW * 2
        y += height
    total = y + PAD
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total}" viewBox="0 0 {WIDTH} {total}" '
        'font-family="DejaVu Sans, Arial, sans-serif">',
        f"<title>{kind} properties, drawn from sora_vfx_nuke/knobs.py</title>",
        f'<rect width="{WIDTH}" height="{total}" fill="{COLOURS["panel"]}"/>',
        f'<rect width="{WIDTH}" height="26" fill="{COLOURS["title"]}"/>',
        _text(PAD, 18, f"{kind}1", COLOURS["text"], size=13),
        f'<rect x="{PAD}" y="32" width="80" height="22" fill="{COLOURS["tab"]}"/>',
        _text(PAD + 40, 47, "Sora VFX", COLOURS["text"], "middle"),
        f'<rect x="{PAD + 84}" y="32" width="60" height="22" fill="{COLOURS["title"]}"/>',
        _text(PAD + 114, 47, "Node", COLOURS["dim"], "middle"),
    ]
    return "\n".join(head + body + ["</svg>"]) + "\n"


def pictures() -> dict[str, str]:
    """File name -> SVG text, for both nodes."""
    knobs = load_knobs()
    return {f"nuke-{kind}.svg": draw(kind, definitions) for kind, definitions in knobs.KNOBS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for nuke-SoraGenerate.svg and nuke-SoraExtend.svg")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, svg in pictures().items():
        (args.out / name).write_text(svg, encoding="utf-8")
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
