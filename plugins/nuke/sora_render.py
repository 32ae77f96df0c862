# Render the Sora nodes of a Nuke script without a GUI, then save the script:
#
#     nuke -t /path/to/plugins/nuke/sora_render.py comp.nk [NODE ...]
#
# NODE: names of SoraGenerate / SoraExtend nodes (e.g. SoraExtend1, or Group1.SoraExtend1);
# none: all of them. Each renders as its Render button does (a new version unless the last one
# is up to date) and prints its status; the exit code is 1 when any failed, 2 for bad arguments.
import sys

import nuke
from sora_vfx_nuke import runs
from sora_vfx_nuke.process import ShimError


def main(argv):
    if not argv or not argv[0].endswith(".nk"):
        print("usage: nuke -t sora_render.py SCRIPT.nk [NODE ...]", file=sys.stderr)
        return 2
    nuke.scriptOpen(argv[0])
    try:
        failed = runs.render_all(argv[1:] or None)
    except ShimError as exc:
        print(f"sora_vfx: error: {exc}", file=sys.stderr)
        return 2
    nuke.scriptSave(argv[0])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
