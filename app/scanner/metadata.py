"""Registry metadata in upstream's shape: an image config blob becomes `metadata.v1`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.scanner.model import ResolvedImage

_SHELL_PREFIX = re.compile(r"^/bin/(?:ba)?sh -c\s+")
_NOP = re.compile(r"#\(nop\)\s*")
# Classic builders prefix build-arg runs with "|<n> NAME=value ... "
_BUILD_ARGS = re.compile(r"^\|\d+\s+(?:\S+=\S*\s+)*")
_INSTRUCTION = re.compile(r"^([A-Z]+)(?:\s+|$)")
_BUILDKIT_SUFFIX = " # buildkit"


def split_created_by(created_by: str) -> tuple[str, str]:
    """(`instruction`, `value`) from a history entry's `created_by`, as Dockerfile text.

    `/bin/sh -c #(nop)  CMD ["bash"]` → (`CMD`, `["bash"]`); `/bin/sh -c apt-get update` →
    (`RUN`, `apt-get update`); BuildKit's `RUN /bin/sh -c make # buildkit` → (`RUN`, `make`).
    """
    text = created_by.strip()
    if text.endswith(_BUILDKIT_SUFFIX):
        text = text[: -len(_BUILDKIT_SUFFIX)].rstrip()
    text = _BUILD_ARGS.sub("", text)
    if not text:
        return "", ""
    shell = _SHELL_PREFIX.match(text)
    if shell:
        rest = text[shell.end() :]
        nop = _NOP.match(rest)
        if nop is None:
            return "RUN", rest.strip()
        text = rest[nop.end() :]
    found = _INSTRUCTION.match(text)
    if found is None:
        return "RUN", text
    instruction, value = found.group(1), text[found.end() :].strip()
    if instruction == "RUN":
        value = _SHELL_PREFIX.sub("", value)
    return instruction, value


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def v1_metadata(config: Mapping[str, Any], *, config_digest: str) -> dict[str, Any]:
    """`metadata.v1` from an image config (OCI or Docker); missing parts stay empty."""
    runtime = config.get("config") or config.get("container_config") or {}
    if not isinstance(runtime, Mapping):
        runtime = {}
    layers = []
    for entry in config.get("history") or []:
        if not isinstance(entry, Mapping):
            continue
        instruction, value = split_created_by(str(entry.get("created_by") or ""))
        layer: dict[str, Any] = {
            "instruction": instruction,
            "value": value,
            "author": str(entry.get("author") or ""),
            "empty": bool(entry.get("empty_layer")),
        }
        if entry.get("created"):
            layer["created"] = str(entry["created"])
        layers.append(layer)
    metadata: dict[str, Any] = {
        "digest": config_digest,
        "author": str(config.get("author") or ""),
        "layers": layers,
        "user": str(runtime.get("User") or ""),
        "command": _strings(runtime.get("Cmd")),
        "entrypoint": _strings(runtime.get("Entrypoint")),
        "volumes": sorted(str(v) for v in (runtime.get("Volumes") or {})),
        "labels": _labels(runtime.get("Labels")),
    }
    if config.get("created"):
        metadata["created"] = str(config["created"])
    return metadata


def image_metadata(resolved: ResolvedImage) -> dict[str, Any]:
    """The wire `metadata` of a resolved image: v1 from its config, v2 digest, layer digests."""
    return {
        "v1": v1_metadata(resolved.config_json, config_digest=resolved.config.digest),
        "v2": {"digest": resolved.manifest_digest},
        "layerShas": [layer.digest for layer in resolved.layers],
        "dataSource": {
            "id": resolved.reference.registry,
            "name": resolved.data_source,
            "mirror": "",
        },
    }


def history_index_of_layers(config: Mapping[str, Any], layer_count: int) -> list[int]:
    """For each layer (0 = base), its index in `metadata.v1.layers` (history with empty entries).

    Upstream's `layerIndex` points into the history. Without a history that agrees with the
    layers (as many non-empty entries as layers) the layer's own position is used.
    """
    history = [h for h in config.get("history") or [] if isinstance(h, Mapping)]
    positions = [i for i, entry in enumerate(history) if not entry.get("empty_layer")]
    if len(positions) != layer_count:
        return list(range(layer_count))
    return positions
