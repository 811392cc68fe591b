"""sort_plan(): stored paths only, one direction, nulls last, rewrites, aggregates, errors."""

from __future__ import annotations

from typing import Any

import pytest

from storage.query import InvalidQuery, sort_plan
from storage.query.fields import all_fields
from storage.query.sort_keys import sort_paths
from storage.query.sorting import AGGREGATIONS, TIE_BREAKER

SHA = TIE_BREAKER


@pytest.mark.parametrize(
    ("field", "reversed_", "keys"),
    [
        (None, False, [("_sort.lu", 1)]),
        ("", True, [("_sort.lu", 1)]),  # no field: the default, whatever the direction
        ("_id", False, []),
        ("_id", True, []),
        ("Image Sha", True, []),
        ("Image", False, [("_sort.reg", 1), ("_sort.rem", 1), ("_sort.tag", 1)]),
        ("Image", True, [("_sort.reg", -1), ("_sort.rem", -1), ("_sort.tag", -1)]),
        ("image", False, [("_sort.full", 1)]),  # no rewrite unless spelled exactly so
        ("IMAGE", True, [("_sort.full", -1)]),
        ("Image Tag", False, [("_sort.tag", 1)]),
        ("Last Updated", True, [("_sort.lu", -1)]),
        ("Image Risk Score", False, [("_sort.risk", 1)]),
        ("Image Risk Priority", False, [("_sort.risk", -1)]),  # riskiest first
        ("Image Risk Priority", True, [("_sort.risk", 1)]),
        ("image risk priority", False, [("_sort.risk", -1)]),  # a live rank either way
        ("Image OS", False, [("_sort.os", 1)]),
        ("Operating System", False, [("_sort.os", 1)]),
        ("Image User", True, [("_sort.user", -1)]),
    ],
)
def test_scalar_sorts(field: str | None, reversed_: bool, keys: list[Any]) -> None:
    direction = keys[-1][1] if keys else (-1 if reversed_ else 1)
    assert sort_plan(field, reversed_).sort == [*keys, (SHA, direction)]


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ("Image Top CVSS", "top"),
        ("Image Created Time", "ctime"),
        ("Image Scan Time", "stime"),
        ("Image Signature Fetched Time", "sigt"),
        ("Image CVE Count", "cves"),
        ("Component Count", "comps"),
        ("Fixable CVE Count", "fixc"),
    ],
)
def test_nullable_fields_put_nulls_last_both_ways(field: str, key: str) -> None:
    # ascending: the null flag (stored on nulls only) first; descending: nulls sort last anyway
    assert sort_plan(field, False).sort == [(f"_sort.{key}_z", 1), (f"_sort.{key}", 1), (SHA, 1)]
    assert sort_plan(field, True).sort == [(f"_sort.{key}", -1), (SHA, -1)]


@pytest.mark.parametrize(
    ("field", "reversed_", "keys"),
    [
        ("CVSS", False, [("_sort.cvss_z", 1), ("_sort.cvss_lo", 1)]),  # MIN ascending
        ("CVSS", True, [("_sort.cvss_hi", -1)]),  # MAX descending
        ("cve", False, [("_sort.cve_z", 1), ("_sort.cve_lo", 1)]),
        ("Severity", True, [("_sort.sev_hi", -1)]),
        ("CVE Published On", False, [("_sort.pub_z", 1), ("_sort.pub_lo", 1)]),
        ("Component Top CVSS", True, [("_sort.ctc_hi", -1)]),
        ("component risk priority", False, [("_sort.cp_z", 1), ("_sort.cp_lo", 1)]),
        ("Component Risk Priority", False, [("_sort.crs_hi", -1)]),  # rewrite, inverted
        ("Dockerfile Instruction Keyword", False, [("_sort.ins_z", 1), ("_sort.ins_lo", 1)]),
        ("Image Command", True, [("_sort.cmd_hi", -1)]),  # a string array: like joined rows
        (
            "Component",
            True,
            [("_sort.c_hi", -1), ("_sort.cv_hi", -1)],  # name, then version
        ),
    ],
)
def test_multi_valued_fields_sort_by_min_ascending_max_descending(
    field: str, reversed_: bool, keys: list[Any]
) -> None:
    assert sort_plan(field, reversed_).sort == [*keys, (SHA, keys[-1][1])]


@pytest.mark.parametrize(
    ("field", "aggr", "distinct", "reversed_", "keys"),
    [
        ("CVE", "COUNT", False, False, [("_sort.cve_n", 1)]),
        ("CVE", "count", True, True, [("_sort.cve_d", -1)]),
        ("Component Version", "COUNT", False, False, [("_sort.cv_n", 1)]),
        ("CVSS", "MAX", False, False, [("_sort.cvss_z", 1), ("_sort.cvss_hi", 1)]),
        ("CVSS", "MIN", False, True, [("_sort.cvss_lo", -1)]),
        ("CVSS", "MIN", True, False, [("_sort.cvss_z", 1), ("_sort.cvss_lo", 1)]),
        ("Image Volumes", "MAX", False, False, [("_sort.vol_z", 1), ("_sort.vol_hi", 1)]),
        # COUNT of an image-level field: 1 when set, so ascending = null flag descending (ties
        # still in the direction asked for)
        ("Image Top CVSS", "COUNT", False, False, [("_sort.top_z", -1)]),
        ("Image Top CVSS", "COUNT", False, True, [("_sort.top_z", 1)]),
        ("Image Tag", "COUNT", False, False, []),  # never null: every image counts 1
    ],
)
def test_aggregates(
    field: str, aggr: str, distinct: bool, reversed_: bool, keys: list[Any]
) -> None:
    direction = -1 if reversed_ else 1
    assert sort_plan(field, reversed_, aggr, distinct).sort == [*keys, (SHA, direction)]


def test_min_max_of_an_image_scalar_is_the_scalar() -> None:
    assert sort_plan("Image Risk Score", True, "MAX") == sort_plan("Image Risk Score", True)


def test_component_rewrite_keeps_each_key_once() -> None:
    paths = sort_plan("Component", False, "COUNT").paths
    assert paths == ("_sort.c_n", "_sort.cv_n", SHA)


def test_every_option_sorts_on_stored_keys_in_one_direction() -> None:
    labels = [f.label for f in all_fields() if f.sortable] + ["Image", "Component", "_id"]
    stored = set(sort_paths())
    for label in labels:
        for reversed_ in (False, True):
            for aggr in AGGREGATIONS:
                for distinct in (False, True):
                    plan = sort_plan(label, reversed_, aggr, distinct)
                    assert plan.paths[-1] == SHA, label
                    assert all(path in stored for path in plan.paths[:-1]), label
                    if aggr == "COUNT" and plan.paths[0].endswith("_z"):
                        continue  # COUNT of an image-level field: see test_aggregates
                    # one direction: an ascending index serves it (backwards when descending)
                    assert len({key.direction for key in plan.keys}) == 1, label


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
