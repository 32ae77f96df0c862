"""A stand-in for the ``sora-vfx`` program, for what the real one does not do today.

It writes a manifest of a version the plugins may not know, and frames where the default layout
would not put them (``elsewhere/FK_0010.v1.####.exr``), so the tests can check that the plugins
read the manifest's ``version`` and each shot's ``frames.pattern`` instead of assuming them.
One shot, ``FK_0010``, frames 1001-1003, no handles, at the start of the edit.

    fake_sora_vfx.py shots EDIT ... --json
    fake_sora_vfx.py render EDIT -o OUT ... --json

Environment: ``FAKE_SORA_VFX_MANIFEST_VERSION`` (default 1) is the manifest's version;
``FAKE_SORA_VFX_FRAME``, a file copied as every frame (default: empty files).
"""

import json
import os
import shutil
import sys

SHOT = {"name": "FK_0010", "index": 1, "head_in": 1001, "tail_out": 1003, "cut_in": 1001, "cut_out": 1003,
        "record_in": "00:00:00:00", "fps": 24.0, "drop_frame": False}
PATTERN = "elsewhere/FK_0010.v1.####.exr"


def render(out: str) -> dict:
    frames = {"first": SHOT["head_in"], "last": SHOT["tail_out"], "count": 3, "cut_in": SHOT["cut_in"],
              "cut_out": SHOT["cut_out"], "pattern": PATTERN}
    os.makedirs(os.path.join(out, os.path.dirname(PATTERN)), exist_ok=True)
    source = os.environ.get("FAKE_SORA_VFX_FRAME")
    for frame in range(frames["first"], frames["last"] + 1):
        path = os.path.join(out, PATTERN.replace("####", f"{frame:04d}"))
        if source:
            shutil.copyfile(source, path)
        else:
            open(path, "wb").close()
    manifest = {
        "version": int(os.environ.get("FAKE_SORA_VFX_MANIFEST_VERSION", "1")),
        "software": "sora_vfx fake",
        "settings": {"colorspace": "ACEScg"},
        "shots": [{"name": SHOT["name"], "status": "rendered", "error": None, "seed": 7, "frames": frames,
                   "record_in": SHOT["record_in"], "job": SHOT}],
    }
    path = os.path.join(out, "manifest.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle)
    return {"manifest": path, "shots": [{"name": SHOT["name"], "status": "rendered", "error": None}]}


def main(args: list[str]) -> None:
    if args[0] == "shots":
        print(json.dumps([SHOT]))
    elif args[0] == "render":
        print(json.dumps(render(os.path.abspath(args[args.index("-o") + 1]))))
    else:
        sys.exit(f"sora-vfx: error: the fake knows no command {args[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
