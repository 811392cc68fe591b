"""parse(): label resolution, clause structure, deviations that raise, caps."""

from __future__ import annotations

import pytest

from storage.query import InvalidQuery, Kind, Level, parse
from storage.query.fields import DEPLOYMENT_LABELS, FIELDS
from storage.query.nodes import Exists, Text, TextMode
from storage.query.parser import MAX_CLAUSES, MAX_VALUES, MAX_VALUES_PER_CLAUSE

IMAGE_LABELS = [
    "Image", "Image Registry", "Image Remote", "Image Tag", "Image Sha", "Image Created Time",
    "Image User", "Image Command", "Image Entrypoint", "Image Volumes", "Image Label",
    "Dockerfile Instruction Keyword", "Dockerfile Instruction Value", "Image Scan Time",
    "Image OS", "Image Signature Fetched Time", "Component Count", "Image CVE Count",
    "Fixable CVE Count", "Last Updated", "Image Risk Priority", "Image Risk Score",
    "Image Top CVSS",
]  # fmt: skip
COMPONENT_LABELS = [
    "Component", "Component Version", "Component Source", "Component Top CVSS",
    "Component Risk Score", "Component Risk Priority", "Component Location", "Operating System",
    "Component Layer Type", "Component ID",
]  # fmt: skip
CVE_LABELS = [
    "CVE", "CVSS", "Severity", "Fixable", "Fixed By", "Vulnerability State", "Impact Score",
    "NVD CVSS", "CVE Published On", "CVE Created Time", "First Image Occurrence Timestamp",
    "CVE Fix Available Timestamp", "EPSS Probability", "CISA KEV", "Advisory Name",
    "Advisory Link", "CVE ID", "CVE Snoozed",
]  # fmt: skip
ALL_LABELS = IMAGE_LABELS + COMPONENT_LABELS + CVE_LABELS


def test_registry_holds_exactly_the_documented_labels() -> None:
    assert sorted(f.label for f in FIELDS.values()) == sorted(ALL_LABELS)


@pytest.mark.parametrize("label", ALL_LABELS)
def test_every_label_resolves_case_insensitively(label: str) -> None:
    for typed in (label, label.lower(), label.upper()):
        (clause,) = parse(f"{typed}:*").clauses
        assert clause.field.label == label
        assert clause.label == typed


@pytest.mark.parametrize(
    ("label", "level"),
    [
        ("Image", Level.IMAGE),
        ("Operating System", Level.IMAGE),  # image-level copy (upstream copies it per component)
        ("Component", Level.COMPONENT),
        ("Component Layer Type", Level.COMPONENT),
        ("CVE", Level.CVE),
        ("CVE Snoozed", Level.CVE),
        ("Dockerfile Instruction Value", Level.LAYER),
    ],
)
def test_levels(label: str, level: Level) -> None:
    assert FIELDS[label.lower()].level is level


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("Image Command", Kind.STRINGS),
        ("Image Label", Kind.MAP),
        ("Fixable", Kind.BOOL),
        ("CISA KEV", Kind.BOOL),
        ("CVE Snoozed", Kind.BOOL),
        ("Severity", Kind.ENUM),
        ("Vulnerability State", Kind.ENUM),
        ("Component Source", Kind.ENUM),
        ("Component Layer Type", Kind.ENUM),
        ("Image Risk Priority", Kind.NUMBER),
        ("Component Count", Kind.NUMBER),
        ("Last Updated", Kind.DATE),
        ("CVE Fix Available Timestamp", Kind.DATE),
    ],
)
def test_kinds(label: str, kind: Kind) -> None:
    assert FIELDS[label.lower()].kind is kind


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_empty_query_matches_all(text: str) -> None:
    query = parse(text)
    assert query.clauses == ()


@pytest.mark.parametrize("text", ["INVALIDQUERY", "Image:", "Image:  ", "nginx,redis", ":"])
def test_non_empty_query_without_clause_is_rejected(text: str) -> None:
    with pytest.raises(InvalidQuery, match="has no field clause") as err:
        parse(text)
    assert err.value.message.startswith("query ")


def test_clause_without_colon_is_dropped_silently() -> None:
    query = parse("garbage+Image:nginx")
    assert [c.label for c in query.clauses] == ["Image"]


@pytest.mark.parametrize("label", ["Labl", "Label", "Policy", "+Image", "Image  Tag"])
def test_unknown_label_names_it_and_lists_valid_labels(label: str) -> None:
    with pytest.raises(InvalidQuery) as err:
        parse(f"{label}:x")
    message = err.value.message
    assert message.startswith(f'unknown search field "{label}": valid fields are ')
    assert "CVE, CVE Created Time" in message
    assert "Image Risk Priority" in message


@pytest.mark.parametrize("label", sorted(DEPLOYMENT_LABELS))
def test_deployment_labels_are_not_supported(label: str) -> None:
    with pytest.raises(InvalidQuery, match="is not supported: no deployment inventory"):
        parse(f"{label}:x")


def test_deployment_label_message_keeps_the_typed_label() -> None:
    with pytest.raises(InvalidQuery) as err:
        parse("Namespace:payments")
    assert err.value.message == 'search field "Namespace" is not supported: no deployment inventory'


def test_values_are_ored_and_kept_untrimmed() -> None:
    (clause,) = parse("CVE:a, b").clauses
    assert clause.values == (Text(TextMode.PREFIX, "a"), Text(TextMode.PREFIX, " b"))


def test_empty_values_are_kept() -> None:
    (clause,) = parse("Image Tag:,a,b,").clauses
    assert [v.text for v in clause.values if isinstance(v, Text)] == ["", "a", "b", ""]


def test_quotes_protect_plus_comma_and_colon() -> None:
    (clause,) = parse('Image:"a+b:c,d"').clauses
    assert clause.values == (Text(TextMode.EXACT, "a+b:c,d"),)


def test_same_label_as_typed_last_one_wins() -> None:
    (clause,) = parse("CVE:a+CVE:b").clauses
    assert clause.values == (Text(TextMode.PREFIX, "b"),)


def test_last_one_wins_before_values_are_checked() -> None:
    (clause,) = parse("CVSS:abc+CVSS:5").clauses
    assert clause.label == "CVSS"


def test_differently_cased_repeats_are_separate_clauses() -> None:
    query = parse("CVE:a+cve:b")
    assert [c.label for c in query.clauses] == ["CVE", "cve"]


def test_spaces_around_plus_are_tolerated() -> None:
    query = parse("Image:nginx + Image Tag:1.25")
    assert [c.label for c in query.clauses] == ["Image", "Image Tag"]


def test_values_up_to_the_caps_are_accepted() -> None:
    per_clause = ",".join(["cve-1"] * MAX_VALUES_PER_CLAUSE)
    query = parse(f"CVE:{per_clause}+Component:{per_clause}")
    assert [len(c.values) for c in query.clauses] == [MAX_VALUES_PER_CLAUSE] * 2
    assert MAX_VALUES == 2 * MAX_VALUES_PER_CLAUSE


def test_too_many_values_in_one_clause_are_rejected() -> None:
    with pytest.raises(InvalidQuery, match=f'"CVE" has more than {MAX_VALUES_PER_CLAUSE} values'):
        parse("CVE:" + ",".join(["c"] * (MAX_VALUES_PER_CLAUSE + 1)))


def test_too_many_values_in_all_clauses_are_rejected() -> None:
    labels = ["CVE", "Component", "Image", "Image Tag"]
    each = MAX_VALUES // len(labels) + 1  # under the per-clause cap, over the total
    assert each <= MAX_VALUES_PER_CLAUSE
    text = "+".join(f"{label}:" + ",".join(["x"] * each) for label in labels)
    with pytest.raises(InvalidQuery, match=f"more than {MAX_VALUES} values in all its clauses"):
        parse(text)


def test_too_many_clauses_are_rejected() -> None:
    # differently cased labels are separate clauses: "image", "Image", "iMage", …
    labels = [
        "".join(c.upper() if (i >> k) & 1 else c for k, c in enumerate("image"))
        for i in range(MAX_CLAUSES + 1)
    ]
    parse("+".join(f"{label}:x" for label in labels[:MAX_CLAUSES]))
    with pytest.raises(InvalidQuery, match=f"more than {MAX_CLAUSES} clauses"):
        parse("+".join(f"{label}:x" for label in labels))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("CVSS:abc", 'invalid value "abc" for "CVSS": cannot parse "abc" as a number'),
        ("cvss:1-1", 'invalid value "1-1" for "CVSS": invalid range "1-1"'),
        ("Fixable:maybe", 'invalid value "maybe" for "Fixable": cannot parse "maybe" as a boolean'),
        ("Image:r/[", 'invalid value "r/[" for "Image": invalid regular expression "["'),
        ("Image:!!x", 'invalid value "!!x" for "Image": the "!!" modifier is not supported'),
        ("Severity:!zzz", 'no VulnerabilitySeverity name matches "zzz"'),
        ("Last Updated:lol", "invalid time query (prefix: , value: lol)"),
        ("CVE:-,x", '"-" cannot be combined with other values for "CVE"'),
        ("Component:a,-", '"-" cannot be combined with other values for "Component"'),
    ],
)
def test_bad_values_name_the_clause(text: str, fragment: str) -> None:
    with pytest.raises(InvalidQuery) as err:
        parse(text)
    assert fragment in err.value.message


def test_regex_max_length_is_configurable() -> None:
    parse("Image:r/" + "a" * 10, regex_max_length=10)
    with pytest.raises(InvalidQuery, match="longer than 10 characters"):
        parse("Image:r/" + "a" * 11, regex_max_length=10)


def test_dash_alone_on_joined_field_is_allowed() -> None:
    (clause,) = parse("CVE:-").clauses
    assert clause.values == (Exists(False),)


@pytest.mark.parametrize(
    ("text", "uses"),
    [
        ("Image Risk Priority:1", True),
        ("image risk priority:<3+CVE:x", True),
        ("Image Risk Score:>1", False),
        ("Component Risk Priority:1", False),  # stored per component
        ("", False),
    ],
)
def test_uses_priority(text: str, uses: bool) -> None:
    assert parse(text).uses_priority is uses
