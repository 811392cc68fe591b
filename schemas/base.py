"""Proto-typed fields: protojson-lenient loading, every-field-present dumping."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from marshmallow import ValidationError, fields, missing

from schemas import convert
from schemas.enums import ProtoEnum

if TYPE_CHECKING:
    from schemas.message import ProtoSchema

Converter = Callable[[Any], Any]


def _const(value: Any) -> Callable[[], Any]:
    """A C-level zero-argument callable returning ``value`` (cheap default factory)."""
    return itertools.repeat(value).__next__


class ProtoField(fields.Field):
    """A field with proto3 semantics.

    Unset (absent or ``null``) loads as the proto default; a ``oneof`` member is omitted
    instead. Dumping emits the default for a missing value, except for ``oneof`` members.
    """

    #: The proto default of an immutable type; containers override :meth:`null_factory`.
    proto_default: ClassVar[Any] = None

    def __init__(self, *args: Any, oneof: bool = False, **kwargs: Any) -> None:
        self.oneof = oneof
        self.null: Callable[[], Any] = self.null_factory()
        if not oneof and not kwargs.get("required"):
            kwargs.setdefault("load_default", self.null)
            kwargs.setdefault("dump_default", self.null)
        if oneof:
            kwargs.setdefault("metadata", {}).setdefault("x-oneof", True)
        super().__init__(*args, **kwargs)

    def null_factory(self) -> Callable[[], Any]:
        """A zero-argument callable making the default value (a new one for containers)."""
        return _const(self.proto_default)

    def converter(self) -> Converter:
        """The conversion of a present, non-null value; shared with the fast normalizer."""
        raise NotImplementedError

    def deserialize(
        self,
        value: Any,
        attr: str | None = None,
        data: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if value is None:
            if self.oneof:
                return missing
            value = self.null()
            if value is not None:
                self._validate(value)
            return value
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return self.converter()(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return missing if self.oneof else self.null()
        return value


def _with_format(kwargs: dict[str, Any], proto_format: str) -> dict[str, Any]:
    kwargs.setdefault("metadata", {}).setdefault("format", proto_format)
    return kwargs


class ProtoString(ProtoField, fields.String):
    """string."""

    proto_default = ""

    def converter(self) -> Converter:
        return convert.to_string


class ProtoBool(ProtoField, fields.Boolean):
    """bool: JSON true/false only."""

    proto_default = False

    def converter(self) -> Converter:
        return convert.to_bool


class Int32(ProtoField, fields.Integer):
    """int32: a JSON number (strings of digits accepted on input)."""

    proto_default = 0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with_format(kwargs, "int32"))

    def converter(self) -> Converter:
        return convert.to_int32


class UInt32(Int32):
    """uint32: a JSON number."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with_format(kwargs, "uint32"))

    def converter(self) -> Converter:
        return convert.to_uint32


class Int64(ProtoField, fields.String):
    """int64: canonical form and wire form are a decimal JSON string."""

    proto_default = "0"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with_format(kwargs, "int64"))

    def converter(self) -> Converter:
        return convert.to_int64

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        out = super()._serialize(value, attr, obj, **kwargs)
        return out if out is missing else str(out)


class UInt64(Int64):
    """uint64: a decimal JSON string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with_format(kwargs, "uint64"))

    def converter(self) -> Converter:
        return convert.to_uint64


class Float32(ProtoField, fields.Float):
    """float: a finite JSON number (numeric strings accepted on input)."""

    proto_default = 0.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with_format(kwargs, "float"))

    def converter(self) -> Converter:
        return convert.to_float32


class Bytes(ProtoField, fields.String):
    """bytes: standard base64 with padding (URL-safe and unpadded accepted on input)."""

    proto_default = ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with_format(kwargs, "byte"))

    def converter(self) -> Converter:
        return convert.to_bytes


class Enum(ProtoField, fields.String):
    """A proto enum: name or number on input, name on output."""

    def __init__(self, enum: ProtoEnum, **kwargs: Any) -> None:
        self.enum = enum
        kwargs.setdefault("metadata", {}).setdefault("enum", list(enum.names))
        super().__init__(**kwargs)

    def null_factory(self) -> Callable[[], Any]:
        return _const(self.enum.default)

    def converter(self) -> Converter:
        return self.enum.convert


class Timestamp(ProtoField, fields.DateTime):
    """google.protobuf.Timestamp: an aware UTC datetime; RFC 3339 with ``Z`` on the wire."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)

    def converter(self) -> Converter:
        return convert.to_timestamp

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        out = super()._serialize(value, attr, obj, **kwargs)
        return convert.format_timestamp(out) if isinstance(out, datetime) else out


class StringMap(ProtoField, fields.Dict):
    """map<string, string>."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)

    def null_factory(self) -> Callable[[], Any]:
        return dict

    def converter(self) -> Converter:
        return convert.to_string_map

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return {} if value is None else dict(value)


class AnyObject(ProtoField, fields.Dict):
    """A free-form JSON object (``google.protobuf.Any`` in error details)."""

    def null_factory(self) -> Callable[[], Any]:
        return dict

    def converter(self) -> Converter:
        return convert.to_object

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return {} if value is None else dict(value)


class Message(ProtoField, fields.Nested):
    """A sub-message: ``null`` when unset, a dict with every field when set."""

    def __init__(self, nested: type[ProtoSchema], **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(nested, **kwargs)

    def converter(self) -> Converter:
        from schemas.plan import message_normalizer  # the plan is built from these fields

        return message_normalizer(type(self.schema))

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, partial: Any = None, **kwargs: Any
    ) -> Any:
        if not isinstance(value, Mapping):
            raise ValidationError("Invalid input type.")
        # Nested's own loading (marshmallow all the way down), not ProtoField's fast converter.
        return fields.Nested._deserialize(self, value, attr, data, partial=partial, **kwargs)

    # marshmallow itself names the first parameter differently in Field and Nested.
    def _serialize(self, nested_obj: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if nested_obj is None:
            return missing if self.oneof else None
        return self.schema.dump(nested_obj)


class Repeated(ProtoField, fields.List):
    """A repeated field: ``[]`` when unset; ``null`` items are refused like protojson does."""

    def __init__(self, inner: fields.Field, **kwargs: Any) -> None:
        inner.allow_none = False  # items are never null, and OpenAPI should say so
        super().__init__(inner, **kwargs)

    def null_factory(self) -> Callable[[], Any]:
        return list

    def converter(self) -> Converter:
        if not isinstance(self.inner, ProtoField):
            raise TypeError("Repeated needs a ProtoField inside")
        return convert.to_list(self.inner.converter())

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return convert.to_list(lambda item: self.inner.deserialize(item, **kwargs))(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return []
        return [self.inner._serialize(item, attr, obj, **kwargs) for item in value]
