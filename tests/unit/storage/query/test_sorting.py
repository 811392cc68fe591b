"""sort_plan(): defaults, exact-case rewrites, nulls last, joined fields, aggregates, errors."""

from __future__ import annotations

from typing import Any

import pytest

from storage.query import InvalidQuery, SortPlan, sort_plan


def _null_flag(expr: Any) -> dict[str, Any]:
    return {"$cond": [{"$eq": [{"$ifNull": [expr, None]}, None]}, 1, 0]}


def _non_null(source: str) -> dict[str, Any]:
    return {
        "$filter": {"input": {"$ifNull": [source, []]}, "as": "x", "cond": {"$ne": ["$$x", None]}}
    }


@pytest.mark.parametrize(
    ("field", "reversed_", "find_sort"),
    [
        (None, False, [("lastUpdated", 1), ("_search.sha", 1)]),
        ("", True, [("lastUpdated", 1), ("_search.sha", 1)]),
        ("_id", False, [("_id", 1)]),
        ("_id", True, [("_id", -1)]),
        (
            "Image",
            False,
            [("name.registry", 1), ("name.remote", 1), ("name.tag", 1), ("_search.sha", 1)],
        ),
        (
            "Image",
            True,
            [("name.registry", -1), ("name.remote", -1), ("name.tag", -1), ("_search.sha", -1)],
        ),
        (
            "image",
            False,
            [("name.fullName", 1), ("_search.sha", 1)],
        ),  # no rewrite unless exact case
        ("IMAGE", True, [("name.fullName", -1), ("_search.sha", -1)]),
        ("Image Tag", False, [("name.tag", 1), ("_search.sha", 1)]),
        ("Image Sha", True, [("_id", -1)]),
        ("Last Updated", True, [("lastUpdated", -1), ("_search.sha", -1)]),
        ("Image Risk Score", False, [("riskScore", 1), ("_search.sha", 1)]),
        ("Image Risk Priority", False, [("riskScore", -1), ("_search.sha", -1)]),  # inverted
        ("Image Risk Priority", True, [("riskScore", 1), ("_search.sha", 1)]),
        (
            "image risk priority",
            False,
            [("riskScore", -1), ("_search.sha", -1)],
        ),  # live rank either way
        ("Image OS", False, [("scan.operatingSystem", 1), ("_search.sha", 1)]),
        ("Operating System", False, [("scan.operatingSystem", 1), ("_search.sha", 1)]),
        ("Image User", False, [("metadata.v1.user", 1), ("_search.sha", 1)]),
        ("Image Command", True, [("metadata.v1.command", -1), ("_search.sha", -1)]),
    ],
)
def test_plain_find_sorts(field: str | None, reversed_: bool, find_sort: list[Any]) -> None:
    plan = sort_plan(field, reversed_)
    assert plan == SortPlan(None, dict(find_sort))
    assert plan.pipeline() == [{"$sort": dict(find_sort)}]


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("Image Top CVSS", "topCvss"),
        ("Image Created Time", "metadata.v1.created"),
        ("Image Scan Time", "scan.scanTime"),
        ("Image Signature Fetched Time", "signature.fetched"),
        ("Image CVE Count", "cves"),
        ("Component Count", "components"),
        ("Fixable CVE Count", "fixableCves"),
    ],
)
@pytest.mark.parametrize("reversed_", [False, True])
def test_nullable_image_fields_sort_nulls_last(field: str, path: str, reversed_: bool) -> None:
    direction = -1 if reversed_ else 1
    plan = sort_plan(field, reversed_)
    assert plan.add_fields == {"_sortNullRank0": _null_flag("$" + path)}
    assert plan.sort == {"_sortNullRank0": 1, path: direction, "_search.sha": direction}
    assert list(plan.sort) == ["_sortNullRank0", path, "_search.sha"]  # key order matters for $sort
    assert plan.pipeline() == [{"$addFields": plan.add_fields}, {"$sort": plan.sort}]


@pytest.mark.parametrize(
    ("field", "reversed_", "op", "source", "direction"),
    [
        ("CVSS", False, "$min", "$_search.pairs.cvss", 1),
        ("CVSS", True, "$max", "$_search.pairs.cvss", -1),
        ("cve", False, "$min", "$_search.pairs.cve", 1),
        ("Severity", True, "$max", "$_search.pairs.sev", -1),
        ("CVE Published On", False, "$min", "$_search.pairs.pub", 1),
        ("Component Top CVSS", True, "$max", "$_search.pairs.ctc", -1),
        ("component risk priority", False, "$min", "$_search.pairs.cp", 1),
        ("Component Risk Priority", False, "$max", "$_search.pairs.crs", -1),  # rewrite, inverted
        ("Dockerfile Instruction Keyword", False, "$min", "$_search.layers.ins", 1),
    ],
)
def test_joined_fields_sort_by_min_ascending_max_descending(
    field: str, reversed_: bool, op: str, source: str, direction: int
) -> None:
    value = {op: source}
    assert sort_plan(field, reversed_) == SortPlan(
        {"_sortNullRank0": _null_flag(value), "_sortKey0": value},
        {"_sortNullRank0": 1, "_sortKey0": direction, "_search.sha": direction},
    )


def test_component_rewrite_sorts_name_then_version() -> None:
    plan = sort_plan("Component", True)
    assert plan.add_fields == {
        "_sortNullRank0": _null_flag({"$max": "$_search.pairs.c"}),
        "_sortKey0": {"$max": "$_search.pairs.c"},
        "_sortNullRank1": _null_flag({"$max": "$_search.pairs.cv"}),
        "_sortKey1": {"$max": "$_search.pairs.cv"},
    }
    assert list(plan.sort.items()) == [
        ("_sortNullRank0", 1),
        ("_sortKey0", -1),
        ("_sortNullRank1", 1),
        ("_sortKey1", -1),
        ("_search.sha", -1),
    ]


@pytest.mark.parametrize(
    ("field", "aggr", "distinct", "value"),
    [
        ("CVE", "COUNT", False, {"$size": _non_null("$_search.pairs.cve")}),
        ("CVE", "count", True, {"$size": {"$setUnion": [_non_null("$_search.pairs.cve"), []]}}),
        ("component", "COUNT", True, {"$size": {"$setUnion": [_non_null("$_search.pairs.c"), []]}}),
        ("Image Command", "COUNT", False, {"$size": _non_null("$metadata.v1.command")}),
        (
            "Image Top CVSS",
            "COUNT",
            False,
            {"$cond": [{"$eq": [{"$ifNull": ["$topCvss", None]}, None]}, 0, 1]},
        ),
    ],
)
def test_count_aggregates(field: str, aggr: str, distinct: bool, value: Any) -> None:
    plan = sort_plan(field, False, aggr, distinct)
    assert plan.add_fields == {"_sortKey0": value}
    assert plan.sort == {"_sortKey0": 1, "_search.sha": 1}


@pytest.mark.parametrize(
    ("field", "aggr", "reversed_", "value"),
    [
        ("CVSS", "MAX", False, {"$max": "$_search.pairs.cvss"}),  # the aggregate, not direction
        ("CVSS", "MIN", True, {"$min": "$_search.pairs.cvss"}),
        ("Image Volumes", "MAX", False, {"$max": "$metadata.v1.volumes"}),
    ],
)
def test_min_max_aggregates(field: str, aggr: str, reversed_: bool, value: Any) -> None:
    plan = sort_plan(field, reversed_, aggr)
    assert plan.add_fields == {"_sortNullRank0": _null_flag(value), "_sortKey0": value}
    direction = -1 if reversed_ else 1
    assert plan.sort == {"_sortNullRank0": 1, "_sortKey0": direction, "_search.sha": direction}


def test_min_max_of_an_image_scalar_is_the_scalar() -> None:
    assert sort_plan("Image Risk Score", True, "MAX") == sort_plan("Image Risk Score", True)


@pytest.mark.parametrize(
    ("field", "aggr", "fragment"),
    [
        ("Labl", "UNSET", 'unknown sort field "Labl": valid fields are '),
        ("Namespace", "UNSET", 'sort field "Namespace" is not supported: no deployment inventory'),
        ("Image Label", "UNSET", 'sort field "Image Label" is not sortable'),
        ("CVE", "AVG", 'unknown aggregation "AVG"'),
    ],
)
def test_sort_errors(field: str, aggr: str, fragment: str) -> None:
    with pytest.raises(InvalidQuery) as err:
        sort_plan(field, False, aggr)
    assert fragment in err.value.message
