"""Validation of JSON values against the definitions of the upstream Image Service swagger."""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import sys
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker, ValidationError

SWAGGER_ENV = "IMAGE_SERVICE_SWAGGER"
_RELATIVE = Path("shared/reference/upstream/image_service.swagger.json")

# Proto oneof members: protojson omits them when unset, so they may be absent.
ONEOF_MEMBERS: dict[str, frozenset[str]] = {
    "storageImage": frozenset({"components", "cves", "fixableCves", "topCvss"}),
    "storageListImage": frozenset({"components", "cves", "fixableCves"}),
    "storageEmbeddedImageScanComponent": frozenset({"layerIndex", "topCvss"}),
    "storageEmbeddedVulnerability": frozenset({"fixedBy"}),
    "storageImageScan": frozenset({"hash"}),
    "storageCVSSScore": frozenset({"cvssv2", "cvssv3"}),
    "storageSignature": frozenset({"cosign"}),
}

_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z")
_INTEGER_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}


def swagger_path() -> Path | None:
    """Where the upstream swagger is: ``$IMAGE_SERVICE_SWAGGER``, else next to the repository."""
    if env := os.environ.get(SWAGGER_ENV):
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        if (parent / _RELATIVE).is_file():
            return parent / _RELATIVE
    return None


def missing_swagger() -> str | None:
    """Why the swagger cannot be read, or None when it is there.

    tests/conftest.py stops the whole run with this message before any test that validates
    against the swagger starts: a missing contract must fail the run, never skip the checks.
    """
    path = swagger_path()
    if path is not None and path.is_file():
        return None
    where = path if path is not None else f"../{_RELATIVE} (searched upwards from the repository)"
    return (
        f"upstream swagger file missing: {where}; set {SWAGGER_ENV} to its path or put shared/ "
        "beside the repository"
    )


def uses_swagger(module: object) -> bool:
    """Whether a test module imported anything from this module (the tests that need the file)."""
    this = sys.modules[__name__]
    return any(
        value is this or getattr(value, "__module__", None) == __name__
        for value in vars(module).values()
    )


@cache
def _definitions() -> dict[str, Any]:
    if problem := missing_swagger():
        raise FileNotFoundError(problem)
    path = swagger_path()
    assert path is not None
    definitions: dict[str, Any] = json.loads(path.read_text())["definitions"]
    return definitions


def resolve_name(name: str) -> str:
    """The definition called ``name``, compared without case (``googlerpcStatus`` works)."""
    definitions = _definitions()
    if name in definitions:
        return name
    for candidate in definitions:
        if candidate.lower() == name.lower():
            return candidate
    raise KeyError(f"no definition {name!r} in the swagger")


def _ref_name(spec: dict[str, Any]) -> str:
    return str(spec["$ref"]).rsplit("/", 1)[-1]


def _is_message(spec: dict[str, Any]) -> bool:
    return "$ref" in spec and _definitions()[_ref_name(spec)].get("type") == "object"


def _nullable_property(spec: dict[str, Any]) -> dict[str, Any]:
    """Upstream emits ``null`` for unset messages and timestamps, which the swagger never says."""
    if _is_message(spec):
        return {"anyOf": [{"$ref": spec["$ref"]}, {"type": "null"}]}
    if spec.get("type") == "string" and spec.get("format") == "date-time":
        return {**spec, "type": ["string", "null"]}
    return spec


@cache
def _nullable_definitions() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, definition in _definitions().items():
        properties = definition.get("properties")
        if properties is not None:
            definition = {
                **definition,
                "properties": {key: _nullable_property(s) for key, s in properties.items()},
            }
        out[name] = definition
    return out


_formats = FormatChecker(formats=())


@_formats.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value[:19])
    except ValueError:
        return False
    return True


def _integer_format(kind: str) -> None:
    low, high = _INTEGER_RANGES[kind]

    @_formats.checks(kind)
    def check(value: object) -> bool:
        if isinstance(value, str):  # 64-bit integers are JSON strings
            if not re.fullmatch(r"-?[0-9]+", value):
                return False
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return low <= value <= high
        return True


for _kind in _INTEGER_RANGES:
    _integer_format(_kind)


@_formats.checks("float")
def _float(value: object) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


@_formats.checks("byte")
def _byte(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return True


@cache
def _validator(name: str) -> Draft4Validator:
    schema = {"definitions": _nullable_definitions(), "allOf": [{"$ref": f"#/definitions/{name}"}]}
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=_formats)


def validate_definition(name: str, instance: Any) -> None:
    """Check a decoded JSON value against swagger definition ``name``.

    ``null`` is allowed for sub-messages and timestamps; ``date-time`` must be RFC 3339 with
    ``Z``; int32/int64/uint64 and float formats are range-checked. Raises AssertionError
    listing every violation.
    """
    errors = [
        leaf for e in _validator(resolve_name(name)).iter_errors(instance) for leaf in _leaves(e)
    ]
    if errors:
        lines = sorted(
            f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors
        )
        raise AssertionError(f"not a valid {name}:\n" + "\n".join(lines))


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors under an ``anyOf`` [message, null], without the uninteresting null branch."""
    if not error.context:
        return [error]
    inner = [
        e for e in error.context if not (e.validator == "type" and e.validator_value == "null")
    ]
    return [leaf for e in inner for leaf in _leaves(e)] or [error]


def missing_fields(name: str, instance: Any) -> list[str]:
    """Paths of properties that definition ``name`` declares but ``instance`` lacks, recursively.

    Oneof members (:data:`ONEOF_MEMBERS`) may be absent.
    """
    return _missing(resolve_name(name), instance, "")


def assert_all_fields_present(name: str, instance: Any) -> None:
    """Assert our "every field present" rule for a decoded JSON value of definition ``name``."""
    missing = missing_fields(name, instance)
    assert not missing, f"{name} lacks fields: {', '.join(missing)}"


def _missing(name: str, instance: Any, path: str) -> list[str]:
    definition = _definitions()[name]
    if not isinstance(instance, dict) or "properties" not in definition:
        return []  # wrong types are validate_definition's business
    out: list[str] = []
    for key, spec in definition["properties"].items():
        where = f"{path}.{key}" if path else key
        if key in instance:
            out.extend(_walk(spec, instance[key], where))
        elif key not in ONEOF_MEMBERS.get(name, ()):
            out.append(where)
    return out


def _walk(spec: dict[str, Any], value: Any, path: str) -> list[str]:
    if "$ref" in spec:
        return _missing(_ref_name(spec), value, path)
    if spec.get("type") == "array" and isinstance(value, list):
        items = spec["items"]
        return [m for i, item in enumerate(value) for m in _walk(items, item, f"{path}.{i}")]
    extra = spec.get("additionalProperties")
    if isinstance(extra, dict) and isinstance(value, dict):
        return [m for k, item in value.items() for m in _walk(extra, item, f"{path}.{k}")]
    return []
