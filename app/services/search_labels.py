"""The search language's labels, with the values an enum or bool label takes: what a search bar
offers to complete."""

from __future__ import annotations

from functools import cache
from typing import Any

from storage.query.fields import FIELDS, Kind


@cache
def search_labels() -> tuple[dict[str, Any], ...]:
    """Every label, sorted, as ``{"label", "kind", "values"}``; ``values`` lists what an enum
    label's values may be (proto names, matched case-insensitively) or ``true``/``false``."""
    labels = []
    for field in sorted(FIELDS.values(), key=lambda f: f.label):
        values: list[str] = []
        if field.kind is Kind.ENUM and field.enum is not None:
            values = list(field.enum.numbers)
        elif field.kind is Kind.BOOL:
            values = ["true", "false"]
        labels.append({"label": field.label, "kind": field.kind.value, "values": values})
    return tuple(labels)
