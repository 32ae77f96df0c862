"""The shot sheet: a TOML file whose entries override what the edit says about each shot.

```toml
[shots.sh010]
name = "ABC_0010"            # rename the shot
prompt = "a lighthouse at dusk, waves"
negative_prompt = "text, watermark"
style = "film"
seed = 42
reference = "refs/sh010.png"  # relative to the shot sheet
continues = "sh005"          # starts from that shot's last frames (a cut that continues)
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ..errors import ShotSheetError

SHEET_FIELDS = ("name", "prompt", "negative_prompt", "style", "seed", "reference", "continues")


def read_shot_sheet(path: Path) -> dict[str, dict[str, Any]]:
    """Entries by shot name. References are made absolute against the sheet's folder."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShotSheetError(f"{path}: no such shot sheet") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ShotSheetError(f"{path}: cannot read shot sheet: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ShotSheetError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"shots"}
    if unknown:
        raise ShotSheetError(
            f"{path}: unknown table(s) {', '.join(sorted(unknown))}; a shot sheet has only [shots.NAME]"
        )
    shots = data.get("shots", {})
    if not isinstance(shots, dict):
        raise ShotSheetError(f"{path}: 'shots' must be a table of [shots.NAME] entries")
    entries: dict[str, dict[str, Any]] = {}
    for name, entry in shots.items():
        if not isinstance(entry, dict):
            raise ShotSheetError(f"{path}: [shots.{name}] must be a table, not {type(entry).__name__}")
        bad = set(entry) - set(SHEET_FIELDS)
        if bad:
            raise ShotSheetError(
                f"{path}: [shots.{name}] has unknown key(s) {', '.join(sorted(bad))}; "
                f"valid: {', '.join(SHEET_FIELDS)}"
            )
        for key, value in entry.items():
            if key == "seed":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ShotSheetError(f"{path}: [shots.{name}] seed must be a whole number, not {value!r}")
            elif not isinstance(value, str):
                raise ShotSheetError(f"{path}: [shots.{name}] {key} must be a string, not {value!r}")
        entry = dict(entry)
        if entry.get("reference"):
            entry["reference"] = str((path.parent / entry["reference"]).resolve())
        entries[str(name)] = entry
    return entries
