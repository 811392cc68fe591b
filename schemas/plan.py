"""Fast normalizer compiled from the declared schema fields (same result as ``Schema.load``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NamedTuple

from marshmallow import Schema, ValidationError

from schemas.base import Converter, ProtoField
from schemas.naming import alias_map

_REQUIRED = "Missing data for required field."


class _Step(NamedTuple):
    """How one field of a message is read, converted and defaulted."""

    key: str  # wire key (camelCase)
    alias: str | None  # proto (snake_case) spelling, when different
    out: str  # key in the canonical dict
    convert: Converter
    null: Callable[[], Any]
    oneof: bool
    required: bool
    validate: Callable[[Any], None] | None


def _steps(schema_cls: type[Schema]) -> tuple[_Step, ...]:
    schema = schema_cls()
    aliases = {wire: alias for alias, wire in alias_map(schema_cls).items()}
    steps = []
    for name, field in schema.load_fields.items():
        if not isinstance(field, ProtoField):
            raise TypeError(f"{schema_cls.__name__}.{name} is not a ProtoField")
        wire = field.data_key or name
        validate = field._validate if field.validators else None
        convert = field.converter()
        if validate is not None:
            convert = _validated(convert, validate)
        step = _Step(
            key=wire,
            alias=aliases.get(wire),
            out=name,
            convert=convert,
            null=field.null,
            oneof=field.oneof,
            required=field.required,
            validate=validate,
        )
        steps.append(step)
    return tuple(steps)


def _validated(convert: Converter, validate: Callable[[Any], None]) -> Converter:
    def run(value: Any) -> Any:
        out = convert(value)
        validate(out)
        return out

    return run


def _unset(
    step: _Step, given: bool, out: dict[str, Any], errors: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Fill the default of an absent (``given`` False) or ``null`` field; return the errors."""
    if step.oneof:
        return errors
    if step.required and not given:
        errors = errors or {}
        errors[step.key] = [_REQUIRED]
        return errors
    value = step.null()
    if value is not None and step.validate is not None:
        try:
            step.validate(value)
        except ValidationError as err:
            errors = errors or {}
            errors[step.key] = err.messages
            return errors
    out[step.out] = value
    return errors


@cache
def message_normalizer(schema_cls: type[Schema]) -> Converter:
    """The conversion of one JSON object into the canonical dict of ``schema_cls``.

    Equivalent to ``schema_cls().load(obj)`` for a mapping, error messages included, and
    an order of magnitude faster: the field walk is planned once per schema class.
    """
    steps = _steps(schema_cls)
    # The hot loop touches only what a present value needs; unset values take _unset().
    reads = tuple((s.key, s.alias, s.out, s.convert) for s in steps)
    unset = {s.out: s for s in steps}

    def normalize(raw: Any) -> dict[str, Any]:
        if raw.__class__ is not dict and not isinstance(raw, Mapping):
            raise ValidationError("Invalid input type.")
        get = raw.get
        out: dict[str, Any] = {}
        errors: dict[str, Any] | None = None
        for key, alias, name, convert in reads:
            value = get(key)
            if value is None:
                if alias is not None and key not in raw:
                    value = get(alias)
                if value is None:
                    errors = _unset(unset[name], key in raw or alias in raw, out, errors)
                    continue
            try:
                out[name] = convert(value)
            except ValidationError as err:
                errors = errors or {}
                errors[key] = err.messages
        if errors:
            raise ValidationError(errors)
        return out

    return normalize


def schema_normalizer(schema_cls: type[Schema]) -> Callable[[Any], dict[str, Any]]:
    """Like :func:`message_normalizer`, with top-level errors shaped as ``Schema.load`` does."""
    message = message_normalizer(schema_cls)

    def normalize(raw: Any) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            raise ValidationError({"_schema": ["Invalid input type."]})
        result: dict[str, Any] = message(raw)
        return result

    return normalize
