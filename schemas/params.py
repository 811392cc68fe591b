"""Query-string binding like grpc-gateway's: parameter fields and the QuerySchema base.

Every key is accepted with each dotted segment in its JSON (camelCase) or proto (snake_case)
spelling; unknown keys are ignored; a known key given twice is an error (grpc-gateway: "too
many values"). Errors name the key as the client spelled it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load

from schemas.convert import INT32_MAX, INT32_MIN
from schemas.enums import ProtoEnum
from schemas.naming import alias_map

_INT_RE = re.compile(r"[+-]?[0-9]{1,11}")
_TRUE = frozenset({"1", "t", "true"})
_FALSE = frozenset({"0", "f", "false"})


class QueryString(fields.String):
    """A string parameter."""


class QueryBool(fields.Boolean):
    """A bool parameter: ``true/false/1/0/t/f`` in any case (Go's strconv.ParseBool, relaxed)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            text = value.lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise ValidationError(f"Not a valid boolean: {value!r}.")


class QueryInt32(fields.Integer):
    """An int32 parameter: optional sign and decimal digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("format", "int32")
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _INT_RE.fullmatch(value):
            number = int(value)
        else:
            raise ValidationError(f"Not a valid int32 integer: {value!r}.")
        if INT32_MIN <= number <= INT32_MAX:
            return number
        raise ValidationError(f"Number out of int32 range: {value!r}.")


class QueryEnum(fields.String):
    """An enum parameter: a value name (case-sensitive) or its number; loads to the name."""

    def __init__(self, enum: ProtoEnum, **kwargs: Any) -> None:
        self.enum = enum
        kwargs.setdefault("load_default", enum.default)
        kwargs.setdefault("metadata", {}).update(enum=list(enum.names), default=enum.default)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and _INT_RE.fullmatch(value):
            value = int(value)
        return self.enum.convert(value)


class QuerySchema(Schema):
    """Base of the query-string schemas."""

    class Meta:
        unknown = EXCLUDE

    def load_query(self, query: Mapping[str, Any]) -> dict[str, Any]:
        """``load(query)``; an empty query (the usual GET) gets the defaults, loaded once."""
        if query:
            return self.load(query)  # type: ignore[no-any-return]
        defaults: dict[str, Any] | None = getattr(self, "_defaults", None)
        if defaults is None:
            defaults = self.load({})
            self._defaults = defaults
        return dict(defaults)

    @pre_load
    def _canonical_keys(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        aliases = alias_map(type(self))
        known = {field.data_key or name for name, field in self.load_fields.items()}
        out: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        getall = getattr(data, "getall", None)  # multidicts iterate over distinct keys
        for key in data:
            wire = aliases.get(key) or key
            repeated = wire in out or (getall is not None and len(getall(key)) > 1)
            if repeated and wire in known:
                errors[key] = ["Given more than once."]
            else:
                out[wire] = data[key]
        if errors:
            raise ValidationError(errors)
        return out

    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kwargs: Any) -> None:
        renamed = client_spelling(type(self), error, data)
        if renamed is not None:
            raise renamed


def client_spelling(
    schema_cls: type[Schema], error: ValidationError, data: Any
) -> ValidationError | None:
    """Re-key ``error`` by the spelling the client used (``include_snoozed``), if it differs."""
    if not isinstance(data, Mapping) or not isinstance(error.messages, dict):
        return None
    aliases = alias_map(schema_cls)
    spelled: dict[str, str] = {}
    for key in data:
        wire = aliases.get(key) or key
        spelled[wire] = wire if wire in data else key
    renamed = {spelled.get(key, key): value for key, value in error.messages.items()}
    if renamed == error.messages:
        return None
    return ValidationError(renamed, data=error.data, valid_data=error.valid_data)
