"""Model folders before any weights are read: safety checks, family, limits, fingerprints.

Everything here reads only small files (``model_index.json``, ``sora_vfx.json``, the file
list), so a farm driver can plan a render with the same limits and fingerprints as the nodes
that load the weights.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sora_vfx.errors import ModelError
from sora_vfx.models.families import LIMIT_KEYS, SORA_VFX_JSON, Family, family_of
from sora_vfx.models.tiny import TINY_PIPELINES, ensure_tiny_model
from sora_vfx.models.tiny_inpaint import TINY_INPAINT_NAME, ensure_tiny_inpaint_model

TINY_NAMES = {"tiny": "t2v", "tiny-i2v": "i2v"}
#: The trained models that ship inside the package, by name: their folder under ``SHAPES_DIR``.
SHAPES_NAMES = {"shapes": "t2v", "shapes-i2v": "i2v", "shapes-outpaint": "outpaint"}
SHAPES_DIR = Path(__file__).parent / "shapes" / "weights"
#: Names ``--model`` takes besides a folder.
BUILTIN_NAMES = (*TINY_NAMES, *SHAPES_NAMES)
#: A built-in text-to-video model's image-to-video twin: shots that give a reference image
#: render with it, the others with the model named.
IMAGE_VARIANTS = {"tiny": "tiny-i2v", "shapes": "shapes-i2v"}
#: A built-in model's video outpainting twin: ``extend --model shapes`` fills borders with it.
OUTPAINT_VARIANTS = {"shapes": "shapes-outpaint"}
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
_SAFE_LIBRARIES = ("diffusers", "transformers")

# A folder's sora_vfx.json overrides any of its family's LIMIT_KEYS and may also set
# max_sequence_length (prompt tokens), vae_tiling (false turns VAE tiling off) and default_steps.
_OVERRIDE_KEYS = (*LIMIT_KEYS, "max_sequence_length", "vae_tiling", "default_steps")


@dataclass(frozen=True)
class ModelFolder:
    """A checked pipeline folder: what ``load_model`` and ``describe_model`` build on."""

    name: str  # a BUILTIN_NAMES entry or the folder as given
    folder: Path
    class_name: str
    family: Family
    kind: str  # "t2v", "i2v" or "outpaint"
    limits: dict[str, Any]


def resolve_model(model: str, *, cache_dir: Path | None = None, check_diffusers: bool = True,
                  plate: bool = False) -> ModelFolder:
    """Find and check a model's folder (saving the tiny model first if needed).

    Args:
        plate: a model that extends plates: ``tiny`` is the tiny image inpainting model, a
            built-in's outpainting twin stands in for it (``OUTPAINT_VARIANTS``), and image
            inpainting pipelines are known too (``family_of``'s ``images``).
    Raises:
        ModelError: missing folder, not a supported pipeline, pickle weights, bad
            ``sora_vfx.json``.
    """
    if plate:
        model = OUTPAINT_VARIANTS.get(model, model)
    if plate and model == TINY_INPAINT_NAME:
        folder, name = ensure_tiny_inpaint_model(cache_dir), model
    elif model in TINY_NAMES:
        folder = ensure_tiny_model(cache_dir, kind=TINY_NAMES[model])
        name = model
    else:
        name, folder = named_folder(model)
    class_name = check_model_folder(folder)
    family = family_of(class_name, check_diffusers=check_diffusers, images=plate)
    kind = family.kind_of(class_name)
    limits = {**family.limits(), **read_model_overrides(folder)}
    return ModelFolder(name, folder, class_name, family, kind, limits)


def builtin_models() -> list[dict[str, Any]]:
    """The names ``--model`` takes besides a folder, each with its family and kind, and
    whether it is here (the tiny models are built on first use; the shapes ones ship)."""
    rows = []
    for name, kind in TINY_NAMES.items():
        family = family_of(TINY_PIPELINES[kind], check_diffusers=False)
        rows.append({"name": name, "family": family.name, "kind": kind, "present": True})
    for name, kind in SHAPES_NAMES.items():
        index = SHAPES_DIR / SHAPES_NAMES[name] / "model_index.json"
        try:
            family = family_of(json.loads(index.read_text())["_class_name"], check_diffusers=False).name
        except (OSError, ValueError, KeyError, ModelError):
            family = ""
        rows.append({"name": name, "family": family, "kind": kind, "present": index.is_file()})
    return rows


def named_folder(model: str) -> tuple[str, Path]:
    """The name and folder of a shipped ``shapes`` model (``SHAPES_NAMES``) or of a folder given
    as a path; the tiny models live in the cache and are saved by their own loaders.

    Raises:
        ModelError: a shipped model whose weights are not in this install.
    """
    if model not in SHAPES_NAMES:
        folder = Path(model).expanduser()
        return str(folder), folder
    folder = SHAPES_DIR / SHAPES_NAMES[model]
    if not (folder / "model_index.json").is_file():
        raise ModelError(f"model {model}: its weights are not in this install ({folder}); train them with "
                         "`python -m sora_vfx.models.shapes.train --out sora_vfx/models/shapes/weights`")
    return model, folder


def folder_fingerprint(folder: Path) -> str:
    """The folder's file names and sizes: tells weights apart without hashing gigabytes."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            digest.update(f"{path.relative_to(folder)}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:16]


def check_model_folder(folder: Path) -> str:
    """Check a pipeline folder before any weights are read; return its pipeline class name."""
    if not folder.is_dir():
        raise ModelError(f"model folder not found: {folder}")
    index_path = folder / "model_index.json"
    if not index_path.is_file():
        raise ModelError(f"{folder} is not a diffusers pipeline folder (no model_index.json)")
    for component in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = [p for p in component.rglob("*") if p.is_file()]
        pickles = sorted(p for p in files if p.suffix in _PICKLE_SUFFIXES)
        if pickles and not any(p.suffix == ".safetensors" for p in files):
            raise ModelError(
                f"{pickles[0]} holds pickle weights; only safetensors are loaded: "
                f"convert {component.name} to .safetensors"
            )
    try:
        index = json.loads(index_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {index_path}: {exc}") from exc
    class_name = index.get("_class_name") if isinstance(index, dict) else None
    if not isinstance(class_name, str):
        # A [module, class] pair names pipeline code shipped in the folder: never run it.
        raise ModelError(f"{index_path}: `_class_name` has to name a diffusers pipeline, not {class_name!r}")
    for key, value in index.items():
        if isinstance(value, list) and len(value) == 2 and value[0] not in (None, *_SAFE_LIBRARIES) \
                and not _is_diffusers_pipeline_module(value[0]):
            raise ModelError(
                f"{index_path}: component {key} comes from {value[0]!r}; only "
                f"{' and '.join(_SAFE_LIBRARIES)} components are loaded"
            )
    def null(key: str) -> bool:
        """Given, but as null (absent components are the pipeline's own business)."""
        return key in index and (index[key] is None or (isinstance(index[key], list) and None in index[key]))

    required, denoisers = _required_components(class_name)
    missing = [key for key in required if null(key) and key not in denoisers]
    present = [key for key in denoisers if key in index]
    if present and all(null(key) for key in present):
        missing.append(" or ".join(denoisers))
    if missing:
        raise ModelError(f"{index_path}: {class_name} needs {', '.join(missing)}, which the folder gives as "
                         f"null; a pipeline folder names each component's library and class")
    return class_name


def _is_diffusers_pipeline_module(library: Any) -> bool:
    """Whether a component's library is a pipeline folder of diffusers itself: diffusers saves
    a component defined beside its pipeline (LTX-2's text connectors) as ``["ltx2", class]``.
    Any other name would make diffusers look for code in the model folder."""
    import importlib.util

    if not isinstance(library, str) or not library.isidentifier():
        return False
    try:
        return importlib.util.find_spec(f"diffusers.pipelines.{library}") is not None
    except (ImportError, ValueError):
        return False


def _required_components(class_name: str) -> tuple[list[str], list[str]]:
    """The components a diffusers pipeline class cannot be built without (its constructor's
    parameters without a default, less its optional components), and the denoisers it takes
    (``transformer``, ``transformer_2``, ``unet``), one of which it needs; nothing for classes
    diffusers does not know."""
    import inspect

    import diffusers

    pipeline = getattr(diffusers, class_name, None)
    if pipeline is None:
        return [], []
    optional = set(getattr(pipeline, "_optional_components", ()))
    parameters = inspect.signature(pipeline.__init__).parameters
    required = [name for name, parameter in parameters.items()
                if name != "self" and parameter.default is inspect.Parameter.empty
                and parameter.kind is parameter.POSITIONAL_OR_KEYWORD and name not in optional]
    return required, [name for name in ("transformer", "transformer_2", "unet") if name in parameters]


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def read_model_overrides(folder: Path) -> dict[str, Any]:
    """The limits a folder's ``sora_vfx.json`` overrides, checked."""
    path = folder / SORA_VFX_JSON
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path} has to hold a JSON object")
    overrides = {k: v for k, v in data.items() if k in _OVERRIDE_KEYS}
    for key, value in overrides.items():
        if key == "default_size":
            ok = isinstance(value, list) and len(value) == 2 and all(_is_int(v, 1) for v in value)
        elif key == "vae_tiling":
            ok = isinstance(value, bool)
        else:
            ok = _is_int(value, 0 if key == "frame_offset" else 1)
        if not ok:
            raise ModelError(f"{path}: bad value for {key}: {value!r}")
    return overrides
