"""The base of every wire message (its fields are the types in schemas/base.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, pre_load

from schemas.naming import alias_map


class ProtoSchema(Schema):
    """Base of every wire message: camelCase or snake_case keys in, unknown keys ignored."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _accept_proto_names(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        aliases = alias_map(type(self))
        extra = {w: data[a] for a, w in aliases.items() if a in data and w not in data}
        return {**data, **extra} if extra else data
