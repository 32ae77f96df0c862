"""Annotations read straight off OTIO clips, whatever metadata keys a clip carries."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from sora_vfx.editorial.annotations import read_annotations


def _clip(metadata: dict, markers: tuple[str, ...] = ()) -> otio.schema.Clip:
    clip = otio.schema.Clip(name="A001C001", metadata=metadata)
    for name in markers:
        clip.markers.append(otio.schema.Marker(name=name))
    return clip


EDL_ONLY = {"cmx_3600": {"reel": "A001", "comments": ["PROMPT: a quiet harbour", "  prompt: at dawn ",
                                                      "SEED: 42", "FROM A VFX EDITOR"]}}


@pytest.mark.parametrize(
    ("metadata", "prompt", "seed", "reel", "comments"),
    [
        (EDL_ONLY, "a quiet harbour at dawn", "42", "A001", ["FROM A VFX EDITOR"]),
        ({**EDL_ONLY, "sora_vfx": {"prompt": "a storm", "seed": 7}}, "a storm", "7", "A001", ["FROM A VFX EDITOR"]),
        ({"sora_vfx": {"prompt": "a storm"}}, "a storm", None, "", []),
        ({"cmx_3600": {"reel": "B002"}}, None, None, "B002", []),
        ({"vendor": {"x": 1}}, None, None, "", []),
        ({"cmx_3600": "not a dictionary"}, None, None, "", []),
        ({"cmx_3600": {"comments": "PROMPT: one comment, not a list"}}, "one comment, not a list", None, "", []),
        ({"cmx_3600": {"comments": {"PROMPT": "a mapping"}}}, None, None, "", []),
        ({}, None, None, "", []),
    ],
)
def test_annotations_from_any_metadata(metadata, prompt, seed, reel, comments):
    found = read_annotations(_clip(metadata))
    assert found.values.get("prompt") == prompt
    assert found.values.get("seed") == seed
    assert found.reel == reel
    assert found.comments == comments


def test_markers_name_the_shot_and_add_notes():
    found = read_annotations(_clip(EDL_ONLY, markers=("SH_0100", "check the sky edge", "SH_0200")))
    assert found.values["shot"] == "SH_0100"
    assert found.origin["shot"] == "loc marker"
    assert found.notes == ["check the sky edge", "SH_0200"]
