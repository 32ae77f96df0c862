"""A small ShotGrid schema for mockgun, made in code.

mockgun (``shotgun_api3.lib.mockgun``) plays a site from two pickles: what ``sg.schema_read()``
and ``sg.schema_entity_read()`` return on a real site (``mockgun.generate_schema`` writes them
from one). No site is reachable here, so this writes the same shapes for the entities and
fields that publishing uses, with the names, data types and defaults of a standard site.
Anything the publisher asks for beyond these fails in mockgun as it would on a site without
the field.
"""

from __future__ import annotations

import pickle
from pathlib import Path

# entity -> {field: (data type, display name, default value, linked entity types)}
FIELDS: dict[str, dict[str, tuple]] = {
    "EventLogEntry": {  # mockgun writes one when it starts
        "id": ("number", "Id", None, None),
        "event_type": ("text", "Event Type", None, None),
        "description": ("text", "Event Summary", None, None),
    },
    "Project": {
        "id": ("number", "Id", None, None),
        "name": ("text", "Project Name", None, None),
    },
    "Sequence": {
        "id": ("number", "Id", None, None),
        "code": ("text", "Sequence", None, None),
        "project": ("entity", "Project", None, ["Project"]),
        "description": ("text", "Description", None, None),
    },
    "Shot": {
        "id": ("number", "Id", None, None),
        "code": ("text", "Shot Code", None, None),
        "project": ("entity", "Project", None, ["Project"]),
        "sg_sequence": ("entity", "Sequence", None, ["Sequence"]),
        "description": ("text", "Description", None, None),
        "sg_head_in": ("number", "Head In", None, None),
        "sg_cut_in": ("number", "Cut In", None, None),
        "sg_cut_out": ("number", "Cut Out", None, None),
        "sg_tail_out": ("number", "Tail Out", None, None),
        "sg_cut_duration": ("number", "Cut Duration", None, None),
        "sg_working_duration": ("number", "Working Duration", None, None),
        "sg_status_list": ("status_list", "Status", "wtg", None),
    },
    "Version": {
        "id": ("number", "Id", None, None),
        "code": ("text", "Version Name", None, None),
        "project": ("entity", "Project", None, ["Project"]),
        "entity": ("entity", "Link", None, ["Asset", "Sequence", "Shot"]),
        "description": ("text", "Description", None, None),
        "sg_path_to_frames": ("text", "Path to Frames", None, None),
        "sg_path_to_movie": ("text", "Path to Movie", None, None),
        "sg_first_frame": ("number", "First Frame", None, None),
        "sg_last_frame": ("number", "Last Frame", None, None),
        "frame_count": ("number", "Frame Count", None, None),
        "frame_range": ("text", "Frame Range", None, None),
        "sg_uploaded_movie": ("url", "Uploaded Movie", None, None),
        "sg_status_list": ("status_list", "Status", "rev", None),
    },
}


def _field(entity: str, data_type: str, name: str, default, valid_types) -> dict:
    """One field as ``schema_read()`` describes it."""
    properties = {"default_value": {"value": default, "editable": False},
                  "summary_default": {"value": "none", "editable": True}}
    if valid_types is not None:
        properties["valid_types"] = {"value": list(valid_types), "editable": True}
    return {"name": {"value": name, "editable": True}, "description": {"value": "", "editable": True},
            "entity_type": {"value": entity, "editable": False}, "data_type": {"value": data_type, "editable": False},
            "editable": {"value": True, "editable": False}, "mandatory": {"value": False, "editable": False},
            "unique": {"value": False, "editable": False}, "visible": {"value": True, "editable": False},
            "properties": properties}


def schema(fields: dict[str, dict[str, tuple]] = FIELDS) -> tuple[dict, dict]:
    """``(schema_read(), schema_entity_read())`` of a site with ``fields``."""
    read = {entity: {name: _field(entity, *spec) for name, spec in entity_fields.items()}
            for entity, entity_fields in fields.items()}
    entities = {entity: {"name": {"value": entity, "editable": False}, "visible": {"value": True, "editable": False}}
                for entity in fields}
    return read, entities


def write_schema(folder: Path, fields: dict[str, dict[str, tuple]] = FIELDS) -> tuple[str, str]:
    """Write the two pickles into ``folder``; returns their paths for ``Shotgun.set_schema_paths``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "schema.pickle", folder / "schema_entity.pickle")
    for path, data in zip(paths, schema(fields), strict=True):
        path.write_bytes(pickle.dumps(data, protocol=2))  # the protocol generate_schema writes
    return str(paths[0]), str(paths[1])
