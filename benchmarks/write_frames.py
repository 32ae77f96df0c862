"""Our side of the EXR comparison: read source frames and write them through ``FrameWriter``.

    python write_frames.py SRC_DIR OUT_DIR --frames 1-100 --compression zip

Reads ``SRC_DIR/src.####.exr`` with OpenImageIO (as ``oiiotool`` does on the other side) and
writes ``OUT_DIR/out.####.exr`` as half RGBA with sora_vfx's writer pool, the one the
renderer uses (atomic rename, header attributes, parallel encode).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sora_vfx.imaging import FrameWriter, read_exr_pixels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--frames", default="1-100", help="FIRST-LAST, inclusive")
    parser.add_argument("--compression", default="zip")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    first, last = (int(v) for v in args.frames.split("-"))
    args.out.mkdir(parents=True, exist_ok=True)
    with FrameWriter(max_workers=args.workers, compression=args.compression) as writer:
        for frame in range(first, last + 1):
            pixels = read_exr_pixels(args.src / f"src.{frame:04d}.exr")
            writer.submit(args.out / f"out.{frame:04d}.exr", pixels, {"oiio:ColorSpace": "ACEScg"})


if __name__ == "__main__":
    main()
