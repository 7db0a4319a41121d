"""The App manifest (`app.yml`) as a plain mapping, for `python -m bot setup`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


class ManifestError(ValueError):
    """The manifest cannot be read or is not a mapping; the message names the file."""


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ManifestError(f"cannot read the App manifest {path}: {error.strerror}") from error
    try:
        manifest = YAML(typ="safe", pure=True).load(text)
    except YAMLError as error:
        raise ManifestError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from error
    if not isinstance(manifest, dict) or not manifest.get("name"):
        raise ManifestError(f"{path} is not an App manifest (a mapping with at least `name`)")
    return manifest
