"""``to_filter``: a parsed ``Query`` → a MongoDB filter on the ``images`` collection."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.query import patterns
from storage.query.dates import epoch_millis
from storage.query.fields import Field, Kind, Level
from storage.query.nodes import (
    BoolIs,
    Clause,
    Compare,
    DateBound,
    DateCmp,
    EnumIn,
    Exists,
    LabelMatch,
    MatchAll,
    Predicate,
    Query,
    Text,
    TextMode,
)
from storage.query.priority import priority_condition
from storage.query.row_alternatives import elem_match
from storage.query.search_keys import (
    HAS_VULN,
    LABELS,
    LAYERS,
    ORIGINALS,
    PAIRS,
    LabelKey,
    original_key,
)
from storage.query.truth import Cond, Outcome, Truth, all_of, any_of

_VULN_ROW: Cond = {HAS_VULN: True}


@dataclass(frozen=True)
class QueryContext:
    """What translation needs besides the query: the clock and the live risk ranking.

    ``risk_scores_desc`` holds the distinct image riskScores, highest first; it is needed only
    when ``Query.uses_priority`` is true.
    """

    now: datetime
    risk_scores_desc: Sequence[float] = ()


def to_filter(query: Query, ctx: QueryContext) -> dict[str, Any]:
    """Translate a parsed query: clauses ANDed, values of one clause ORed.

    All component and CVE clauses go into one ``$elemMatch`` on the flat pairs so that they hold
    for the same (component, vulnerability) row; the Dockerfile clauses likewise on the layers.
    Only operators from a fixed set are emitted; user text appears only as values.
    """
    now = ctx.now if ctx.now.tzinfo else ctx.now.replace(tzinfo=UTC)
    top: list[Outcome] = []
    rows: dict[str, list[Outcome]] = {PAIRS: [], LAYERS: []}
    vuln = False
    for clause in query.clauses:
        array = clause.field.array
        if array is None:
            top.append(_image_clause(clause, now, ctx.risk_scores_desc))
        elif all(v == Exists(False) for v in clause.values):
            top.append(_no_rows(clause.field))
        else:
            rows[array].append(_row_clause(clause, now))
            vuln = vuln or clause.field.level is Level.CVE
    for array, conds in rows.items():
        if conds:
            head: list[Outcome] = [dict(_VULN_ROW)] if vuln and array == PAIRS else []
            # ALWAYS here only if every row condition is vacuous; none of the kinds yields that.
            top.append(elem_match(array, all_of(head + conds)))
    result = all_of(top)
    if result is Truth.NEVER:
        return {"_id": {"$in": []}}  # no document satisfies it
    return {} if result is Truth.ALWAYS else _or_alone(result)


def _or_alone(cond: Cond) -> Cond:
    """The same condition with every ``$or`` alone in its document (moved under ``$and``).

    nx-27017: its ``count`` command joins a ``$or`` to the conditions beside it without
    parentheses (``a AND b OR c``), counting images that match neither; MongoDB would take
    them side by side.
    """
    out = {
        key: [_or_alone(c) for c in value] if key in ("$and", "$or", "$nor") else value
        for key, value in cond.items()
    }
    if "$or" in out and len(out) > 1:
        out["$and"] = [*out.get("$and", []), {"$or": out.pop("$or")}]
    return out


def _no_rows(field: Field) -> Cond:
    """``-`` on a joined field: the image has no row of that level at all."""
    if field.level is Level.CVE:
        return {"$nor": [{PAIRS: {"$elemMatch": dict(_VULN_ROW)}}]}
    return {LAYERS if field.level is Level.LAYER else PAIRS: {"$size": 0}}


def _image_clause(clause: Clause, now: datetime, scores: Sequence[float]) -> Outcome:
    field = clause.field
    outcomes: list[Outcome] = []
    for pred in clause.values:
        if field.ranked and isinstance(pred, Compare):
            outcomes.append(priority_condition(pred, scores))
        else:
            outcomes.append(_condition(field, field.full_path, pred, now, inner=False))
    return any_of(outcomes)


def _row_clause(clause: Clause, now: datetime) -> Outcome:
    field, values = clause.field, clause.values
    if field.kind is Kind.ENUM:
        values = _merge_enum_values(values)
    plain = [v for v in values if isinstance(v, Text) and v.mode is TextMode.PREFIX]
    if len(values) > 1 and len(plain) == len(values) and not any(t.negated for t in plain):
        # nx-27017: `$or` inside `$elemMatch` matches nothing there, so one anchored alternation
        # with the same meaning; MongoDB would take the `$or` of the prefix regexes.
        return {field.path: {"$regex": patterns.any_prefix([t.text for t in plain])}}
    return any_of([_condition(field, field.path, v, now, inner=True) for v in values])


def _merge_enum_values(values: tuple[Predicate, ...]) -> tuple[Predicate, ...]:
    """OR of enum values = union of their number sets (``*`` covers every set)."""
    if Exists(True) in values:
        return (Exists(True),)
    numbers: frozenset[int] = frozenset()
    for value in values:
        if isinstance(value, EnumIn):
            numbers |= value.numbers
    return (EnumIn(numbers),)


def _condition(field: Field, path: str, pred: Predicate, now: datetime, *, inner: bool) -> Outcome:
    """One value as a condition on ``path`` (relative to the row when ``inner``)."""
    match pred:
        case Exists(present=present):
            return _exists(path, present, array=field.kind is Kind.STRINGS)
        case MatchAll():
            return Truth.ALWAYS
        case Text():
            return _text(path, field.original, pred, inner=inner, array=field.kind is Kind.STRINGS)
        case LabelMatch():
            return _label(pred)
        case Compare(ops=ops):
            return _compare(path, dict(ops))
        case BoolIs(value=value):
            return {path: value}
        case EnumIn(numbers=numbers):
            return _enum(path, numbers)
        case DateCmp(bounds=bounds):  # `_search` keeps dates in epoch milliseconds
            return _compare(path, {b.op: _millis(_instant(b, now)) for b in bounds})
    raise TypeError(f"unexpected predicate {pred!r}")  # pragma: no cover - exhaustive match


def _instant(bound: DateBound, now: datetime) -> datetime:
    return bound.at if bound.at is not None else now - timedelta(days=bound.days_ago or 0)


def _millis(at: datetime) -> float:
    """An instant in epoch milliseconds, with the microseconds a relative age may carry."""
    whole = epoch_millis(at)
    return whole + at.microsecond % 1000 / 1000


def _compare(path: str, ops: dict[str, Any]) -> Cond:
    if list(ops) == ["$eq"]:
        return {path: ops["$eq"]}
    return {path: ops}


def _exists(path: str, present: bool, *, array: bool) -> Cond:
    if array:  # string arrays are always stored; "set" means non-empty
        empty = {path: {"$size": 0}}
        return {"$nor": [empty]} if present else empty
    is_set = {path: {"$exists": True, "$ne": None}}
    return is_set if present else {"$nor": [is_set]}


def _text(path: str, original: str | None, text: Text, *, inner: bool, array: bool) -> Cond:
    """String match: prefix and regex on the lower-cased copy, exact on the original spelling.

    Negated prefix/regex matches use ``$nor`` on scalar image fields. Inside ``$elemMatch`` and
    on string arrays they become a negative-lookahead ``$regex`` instead: the same meaning on
    these always-string values.
    nx-27017: ``$not``/``$nor`` inside ``$elemMatch`` match nothing there; MongoDB would take
    ``{"$not": {"$regex": …}}``.
    """
    if text.mode is TextMode.EXACT:
        if original is None:  # pragma: no cover - registry invariant: string fields name it
            raise TypeError(f"no original spelling recorded for {path}")
        if inner:
            return _exact_in_row(path, original, text)
        return _exact(path, original, text, array=array)
    if text.mode is TextMode.PREFIX and not (inner or array):
        in_range = {path: patterns.prefix_range(text.text)}
        return {"$nor": [in_range]} if text.negated else in_range
    lookahead = text.negated and (inner or array)
    if text.mode is TextMode.PREFIX:
        pattern = patterns.not_prefix(text.text) if lookahead else patterns.prefix(text.text)
    else:
        pattern = patterns.not_regex(text.text) if lookahead else text.text
    if array:
        return {path: {"$elemMatch": {"$regex": pattern}}}
    if text.negated and not lookahead:
        return {"$nor": [{path: {"$regex": pattern}}]}
    return {path: {"$regex": pattern}}


def _exact(path: str, original: str, text: Text, *, array: bool) -> Cond:
    """Case-sensitive equality on an image field whose original (wire path) is in the document.

    A scalar matches its indexed lower-cased copy and the original, so an index serves it. The
    empty value is compared on the copy alone: it is ``""`` for an empty and for an unset value.
    nx-27017: its ``count`` command misses documents where ``$ne`` meets a dotted path through a
    null or missing sub-document (``scan: null``), so a negated scalar is the ``$nor`` of the
    match; MongoDB would take ``{original: {"$ne": value}}``.
    """
    value = text.text
    on_copy = value == ""
    if array:  # one element equal (or, negated, one element not equal)
        element = {"$ne": value} if text.negated else {"$eq": value}
        return {path if on_copy else original: {"$elemMatch": element}}
    match = {path: ""} if on_copy else {path: value.lower(), original: value}
    return {"$nor": [match]} if text.negated else match


def _exact_in_row(key: str, original: str, text: Text) -> Cond:
    """Case-sensitive equality inside ``$elemMatch``: a row keeps its original spelling under
    ``original`` only where it differs from the lower-cased copy under ``key``, and lists the
    keys it keeps one for under ``ORIGINALS``.

    A lower-case value therefore equals a row's string when the copy equals it and no original
    is listed; any other value, when the original equals it. Only a negated lower-case value
    needs an ``$or`` (``elem_match`` lifts it out of the ``$elemMatch``).
    """
    value, lowered = text.text, text.text.lower()
    if value == lowered:
        if text.negated:
            return {"$or": [{key: {"$ne": value}}, _originals(key, listed=True)]}
        return {key: value, **_originals(key, listed=False)}
    if text.negated:
        return {original: {"$ne": value}}
    return {key: lowered, original: value}


def _originals(key: str, *, listed: bool) -> Cond:
    """Whether a row lists ``key`` under ``ORIGINALS``: one lookahead at the start, so that
    several such tests of one row join into one pattern (see ``_both``)."""
    return {ORIGINALS: {"$regex": f"^(?{'=' if listed else '!'}.*,{re.escape(key)},)"}}


def _label(match: LabelMatch) -> Outcome:
    """Image Label: one map entry ``{k, v}`` matching both the key and the value parts."""
    if match.key is None and match.value is None:  # "=": any label at all
        return {"$nor": [{LABELS: {"$size": 0}}]}
    entry: list[Outcome] = []
    for key, text in ((LabelKey.KEY, match.key), (LabelKey.VALUE, match.value)):
        if text is not None:
            entry.append(_text(key, original_key(key), text, inner=True, array=False))
    cond = elem_match(LABELS, all_of(entry))
    if not match.absent or isinstance(cond, Truth):
        return cond
    return {"$nor": cond["$or"] if list(cond) == ["$or"] else [cond]}


def _enum(path: str, numbers: frozenset[int]) -> Outcome:
    """A set of enum numbers: one number or one range per contiguous run, ORed.

    nx-27017: ``$in`` inside ``$elemMatch`` (where every enum field is) matches nothing there, so
    runs (``Severity:LOW,CRITICAL`` is two), whose ``$or`` ``elem_match`` lifts out; MongoDB
    would take ``$in`` for every set.
    """
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and runs[-1][1] + 1 == number:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return any_of(
        [{path: low} if low == high else {path: {"$gte": low, "$lte": high}} for low, high in runs]
    )
