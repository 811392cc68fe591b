"""to_filter(): query text → MongoDB filter tables for every field type and combination."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from storage.query import InvalidQuery, QueryContext, parse, to_filter
from storage.query.fields import all_fields

CTX = QueryContext(now=datetime(2024, 6, 15, tzinfo=UTC))
NEVER: dict[str, Any] = {"_id": {"$in": []}}
PAIRS = "_search.pairs"
LABELS = "_search.labels"


def prefix(text: str) -> dict[str, str]:
    """What a prefix value on an image field becomes: the range of strings starting with it."""
    if not text:
        return {"$gte": ""}
    return {"$gte": text, "$lt": text[:-1] + chr(ord(text[-1]) + 1)}


def _pairs(**cond: Any) -> dict[str, Any]:
    return {PAIRS: {"$elemMatch": cond}}


def _vuln(**cond: Any) -> dict[str, Any]:
    return {PAIRS: {"$elemMatch": {"v": True, **cond}}}


def _unlisted(*keys: str) -> dict[str, Any]:
    """No original kept for these keys: the row's string is lower-case already."""
    return {"$regex": "^" + "".join(f"(?!.*,{k},)" for k in keys)}


def _listed(key: str) -> dict[str, Any]:
    return {"$regex": f"^(?=.*,{key},)"}


def _f(text: str) -> dict[str, Any]:
    return to_filter(parse(text), CTX)


IMAGE_STRING_CASES: list[tuple[str, Any]] = [
    ("", {}),
    ("Image:docker.io/library/nginx", {"_search.full": prefix("docker.io/library/nginx")}),
    ("Image:Docker.IO", {"_search.full": prefix("docker.io")}),
    ("Image:r/.*nginx.*", {"_search.full": {"$regex": ".*nginx.*"}}),
    ("Image:r/NGINX", {"_search.full": {"$regex": "nginx"}}),
    ("Image:!stackrox.io", {"$nor": [{"_search.full": prefix("stackrox.io")}]}),
    ("Image:!r/^quay", {"$nor": [{"_search.full": {"$regex": "^quay"}}]}),
    # exact: the indexed lower-cased copy and the original, which decides (case-sensitive)
    (
        'Image:"docker.io/library/nginx:1.25"',
        {
            "_search.full": "docker.io/library/nginx:1.25",
            "name.fullName": "docker.io/library/nginx:1.25",
        },
    ),
    ('Image:"Docker.io/X"', {"_search.full": "docker.io/x", "name.fullName": "Docker.io/X"}),
    (
        'Image:!"docker.io/X"',
        {"$nor": [{"_search.full": "docker.io/x", "name.fullName": "docker.io/X"}]},
    ),
    ('Image:""', {"_search.full": ""}),  # "" on the copy: unset counts as empty there
    ('Image:!""', {"$nor": [{"_search.full": ""}]}),
    ('Image Sha:"sha256:AB"', {"_search.sha": "sha256:ab", "_id": "sha256:AB"}),
    ('Image OS:"Alpine"', {"_search.os": "alpine", "scan.operatingSystem": "Alpine"}),
    (
        'Image Tag:"V1","v1"',
        {
            "$or": [
                {"_search.tag": "v1", "name.tag": "V1"},
                {"_search.tag": "v1", "name.tag": "v1"},
            ]
        },
    ),
    ("Image:*", {"_search.full": {"$exists": True, "$ne": None}}),
    ("Image:-", {"$nor": [{"_search.full": {"$exists": True, "$ne": None}}]}),
    ("Image Sha:sha256:4645", {"_search.sha": prefix("sha256:4645")}),
    ("Image Registry:quay.io", {"_search.registry": prefix("quay.io")}),
    ("Image Remote:rhacs-eng/qa", {"_search.remote": prefix("rhacs-eng/qa")}),
    ("Image User:root", {"_search.user": prefix("root")}),
    ("Image OS:debian", {"_search.os": prefix("debian")}),
    ("Operating System:Alpine:3", {"_search.os": prefix("alpine:3")}),
    (
        "Image Tag:busybox-1-31,busybox-1-32",
        {
            "$or": [
                {"_search.tag": prefix("busybox-1-31")},
                {"_search.tag": prefix("busybox-1-32")},
            ]
        },
    ),
    (
        "Image Tag:a,",  # the trailing empty value matches every non-null tag
        {"$or": [{"_search.tag": prefix("a")}, {"_search.tag": prefix("")}]},
    ),
    (
        "Image Registry:quay.io+Image Remote:rhacs-eng/qa-multi-arch",
        {
            "_search.registry": prefix("quay.io"),
            "_search.remote": prefix("rhacs-eng/qa-multi-arch"),
        },
    ),
    # user text is escaped, never an operator
    ("Image:a.b*c(d)[e]$f^g|h+", {"_search.full": prefix("a.b*c(d)[e]$f^g|h+")}),
    ("Image:$where", {"_search.full": prefix("$where")}),
    (
        "Image:a+image:b",  # differently cased repeats are ANDed
        {"_search.full": prefix("a"), "$and": [{"_search.full": prefix("b")}]},
    ),
]

STRING_ARRAY_CASES: list[tuple[str, Any]] = [
    ("Image Command:nginx", {"_search.cmd": {"$elemMatch": {"$regex": "^nginx"}}}),
    ("Image Command:!nginx", {"_search.cmd": {"$elemMatch": {"$regex": "^(?!nginx)"}}}),
    ('Image Command:"-G"', {"metadata.v1.command": {"$elemMatch": {"$eq": "-G"}}}),
    ('Image Command:!"-g"', {"metadata.v1.command": {"$elemMatch": {"$ne": "-g"}}}),
    ('Image Command:""', {"_search.cmd": {"$elemMatch": {"$eq": ""}}}),
    ("Image Entrypoint:r/entry", {"_search.ep": {"$elemMatch": {"$regex": "entry"}}}),
    (
        "Image Volumes:!r/data",
        {"_search.vol": {"$elemMatch": {"$regex": r"^(?![\s\S]*?(?:data))"}}},
    ),
    ("Image Volumes:*", {"$nor": [{"_search.vol": {"$size": 0}}]}),
    ("Image Volumes:-", {"_search.vol": {"$size": 0}}),
]

MAP_CASES: list[tuple[str, Any]] = [
    ("Image Label:*", {}),
    (
        "Image Label:maintainer=NGINX",
        {LABELS: {"$elemMatch": {"k": {"$regex": "^maintainer"}, "v": {"$regex": "^nginx"}}}},
    ),
    ("Image Label:app", {LABELS: {"$elemMatch": {"k": {"$regex": "^app"}}}}),
    ("Image Label:App=", {LABELS: {"$elemMatch": {"k": "app", "k_o": "App"}}}),
    ("Image Label:!app=", {"$nor": [{LABELS: {"$elemMatch": {"k": "app", "o": _unlisted("k")}}}]}),
    (
        'Image Label:"app"="Web"',
        {LABELS: {"$elemMatch": {"k": "app", "o": _unlisted("k"), "v": "web", "v_o": "Web"}}},
    ),
    (
        'Image Label:"app"="web"',  # two lookaheads on the originals list join into one pattern
        {LABELS: {"$elemMatch": {"k": "app", "v": "web", "o": _unlisted("k", "v")}}},
    ),
    (
        'Image Label:app=!"web"',  # a lower-case original differs, or an original is kept
        {
            "$or": [
                {LABELS: {"$elemMatch": {"k": {"$regex": "^app"}, "v": {"$ne": "web"}}}},
                {LABELS: {"$elemMatch": {"k": {"$regex": "^app"}, "o": _listed("v")}}},
            ]
        },
    ),
    (
        "Image Label:!app=,!b=",
        {
            "$or": [
                {"$nor": [{LABELS: {"$elemMatch": {"k": "app", "o": _unlisted("k")}}}]},
                {"$nor": [{LABELS: {"$elemMatch": {"k": "b", "o": _unlisted("k")}}}]},
            ]
        },
    ),
    ("Image Label:!app", {"$nor": [{LABELS: {"$elemMatch": {"k": {"$regex": "^app"}}}}]}),
    ("Image Label:=web", {LABELS: {"$elemMatch": {"v": {"$regex": "^web"}}}}),
    ("Image Label:=", {"$nor": [{LABELS: {"$size": 0}}]}),
    (
        "Image Label:app=!web",
        {LABELS: {"$elemMatch": {"k": {"$regex": "^app"}, "v": {"$regex": "^(?!web)"}}}},
    ),
    (
        'Image Label:"app"=r/w.b',
        {LABELS: {"$elemMatch": {"k": "app", "o": _unlisted("k"), "v": {"$regex": "w.b"}}}},
    ),
    ("Image Label:-", {LABELS: {"$elemMatch": {"k": {"$regex": r"^\-"}}}}),
    ("Image Label:*,app", {}),
]

IMAGE_NUMBER_CASES: list[tuple[str, Any]] = [
    ("Image Top CVSS:>=9", {"topCvss": {"$gte": 9.0}}),
    ("Image CVE Count:5", {"cves": 5.0}),
    ("Component Count:0-3", {"components": {"$gt": 0.0, "$lt": 3.0}}),
    ("Fixable CVE Count:>0", {"fixableCves": {"$gt": 0.0}}),
    ("Image Risk Score:<= 1.234", {"riskScore": {"$lte": 1.23}}),
    ("Image Top CVSS:*", {"topCvss": {"$exists": True, "$ne": None}}),
    ("Image Top CVSS:-", {"$nor": [{"topCvss": {"$exists": True, "$ne": None}}]}),
    ("Image Top CVSS:<1,>9", {"$or": [{"topCvss": {"$lt": 1.0}}, {"topCvss": {"$gt": 9.0}}]}),
    ("Image Scan Time:*", {"_search.scanned": {"$exists": True, "$ne": None}}),
    (
        "Image Signature Fetched Time:-",
        {"$nor": [{"_search.sigFetched": {"$exists": True, "$ne": None}}]},
    ),
]

PAIR_CASES: list[tuple[str, Any]] = [
    ("Component:openssl", _pairs(c={"$regex": "^openssl"})),
    ("Component:!openssl", _pairs(c={"$regex": "^(?!openssl)"})),
    ("Component:r/ssl$", _pairs(c={"$regex": "ssl$"})),
    ("Component:!r/ssl", _pairs(c={"$regex": r"^(?![\s\S]*?(?:ssl))"})),
    ('Component Version:"3.0.11-1"', _pairs(cv="3.0.11-1", o=_unlisted("cv"))),
    ('Component:"OpenSSL"', _pairs(c="openssl", c_o="OpenSSL")),
    ("Component:*", _pairs(c={"$exists": True, "$ne": None})),
    ("Component:-", {PAIRS: {"$size": 0}}),
    ("Component Location:/usr", _pairs(cl={"$regex": "^/usr"})),
    ("Component ID:openssl#3", _pairs(cid={"$regex": "^openssl\\#3"})),
    ("Component Top CVSS:>7", _pairs(ctc={"$gt": 7.0})),
    ("Component Risk Score:1.5", _pairs(crs=1.5)),
    ("Component Risk Priority:<=2", _pairs(cp={"$lte": 2.0})),
    ("Component Source:OS", _pairs(cs=0)),
    ("Component Source:!OS", _pairs(cs={"$gte": 1, "$lte": 7})),
    ("Component Source:PYTHON,GO", {"$or": [_pairs(cs=1), _pairs(cs=7)]}),
    ("Component Layer Type:BASE_IMAGE", _pairs(lt=1)),
    ("Component Source:*", _pairs(cs={"$exists": True, "$ne": None})),
    ("CVE:CVE-2023-5678", _vuln(cve={"$regex": r"^cve\-2023\-5678"})),
    ('CVE:"CVE-2023-5678"', _vuln(cve="cve-2023-5678", cve_o="CVE-2023-5678")),
    ('CVE:"cve-2023-5678"', _vuln(cve="cve-2023-5678", o=_unlisted("cve"))),
    ('CVE:!"CVE-1"', _vuln(cve_o={"$ne": "CVE-1"})),
    ('CVE:!"cve-1"', {"$or": [_vuln(cve={"$ne": "cve-1"}), _vuln(o=_listed("cve"))]}),
    ('CVE ID:"CVE-1#a#1"', _vuln(vid="cve-1#a#1", vid_o="CVE-1#a#1")),
    ("CVE:!CVE-1", _vuln(cve={"$regex": r"^(?!cve\-1)"})),
    ("CVE:!r/^cve", _vuln(cve={"$regex": r"^(?![\s\S]*?(?:^cve))"})),
    (
        "CVE:CVE-2021-1234,CVE-2022-1",  # prefixes of one clause: one anchored alternation
        _vuln(cve={"$regex": r"^(?:cve\-2021\-1234|cve\-2022\-1)"}),
    ),
    (
        'CVE:CVE-1,"CVE-2"',  # ORed values of a row clause: one $elemMatch each
        {"$or": [_vuln(cve={"$regex": r"^cve\-1"}), _vuln(cve="cve-2", cve_o="CVE-2")]},
    ),
    ("CVE:*", _vuln(cve={"$exists": True, "$ne": None})),
    ("CVE:-", {"$nor": [{PAIRS: {"$elemMatch": {"v": True}}}]}),
    ("CVSS:-", {"$nor": [{PAIRS: {"$elemMatch": {"v": True}}}]}),
    ("CVSS:>7", _vuln(cvss={"$gt": 7.0})),
    ("CVSS:7.5", _vuln(cvss=7.5)),
    ("CVSS:5-8", _vuln(cvss={"$gt": 5.0, "$lt": 8.0})),
    ("CVSS:<1,>9", {"$or": [_vuln(cvss={"$lt": 1.0}), _vuln(cvss={"$gt": 9.0})]}),
    ("Severity:CRITICAL", _vuln(sev=4)),
    ("Severity:IMPORTANT,CRITICAL", _vuln(sev={"$gte": 3, "$lte": 4})),
    ("Severity:>=IMPORTANT", _vuln(sev={"$gte": 3, "$lte": 4})),
    ("Severity:>IMPORTANT", _vuln(sev=4)),
    ("Severity:<MODERATE", _vuln(sev={"$gte": 0, "$lte": 1})),
    ("Severity:LOW,CRITICAL", {"$or": [_vuln(sev=1), _vuln(sev=4)]}),  # a run each
    ("Severity:r/low|crit", {"$or": [_vuln(sev=1), _vuln(sev=4)]}),
    (
        "Severity:!MODERATE",
        {"$or": [_vuln(sev={"$gte": 0, "$lte": 1}), _vuln(sev={"$gte": 3, "$lte": 4})]},
    ),
    ("Severity:*,LOW", _vuln(sev={"$exists": True, "$ne": None})),
    ("Severity:zzz", NEVER),  # no name matches: the query matches nothing
    ("Severity:zzz,LOW", _vuln(sev=1)),
    ("Vulnerability State:!OBSERVED", _vuln(st={"$gte": 1, "$lte": 2})),
    ("Fixable:true", _vuln(fix=True)),
    ("Fixable:f", _vuln(fix=False)),
    ("Fixable:*", _vuln(fix={"$exists": True, "$ne": None})),
    ("CISA KEV:true", _vuln(kev=True)),
    ("CVE Snoozed:false", _vuln(snz=False)),
    ("Fixed By:3.0", _vuln(fb={"$regex": r"^3\.0"})),
    ("Impact Score:>=3.6", _vuln(imp={"$gte": 3.6})),
    ("NVD CVSS:>9", _vuln(nvd={"$gt": 9.0})),
    ("EPSS Probability:>0.5", _vuln(epss={"$gt": 0.5})),
    ("Advisory Name:RHSA", _vuln(an={"$regex": "^rhsa"})),
    ("Advisory Link:https", _vuln(al={"$regex": "^https"})),
    ("CVE ID:cve-1#openssl", _vuln(vid={"$regex": r"^cve\-1\#openssl"})),
    (
        "CVE Published On:*",
        _vuln(pub={"$exists": True, "$ne": None}),
    ),
]

COMBINATION_CASES: list[tuple[str, Any]] = [
    (
        "Component:openssl+CVE:CVE-2023-5678",  # same (component, vulnerability) row
        _vuln(c={"$regex": "^openssl"}, cve={"$regex": r"^cve\-2023\-5678"}),
    ),
    ("CVSS:>7+Fixable:true", _vuln(cvss={"$gt": 7.0}, fix=True)),
    ("CVE:CVE-2019-11068+Fixable:true", _vuln(cve={"$regex": r"^cve\-2019\-11068"}, fix=True)),
    (
        "Component:openssl+Component Version:!3",
        _pairs(c={"$regex": "^openssl"}, cv={"$regex": "^(?!3)"}),
    ),
    (
        "CVSS:>5+cvss:<9",  # two clauses on one key share its operator document
        _vuln(cvss={"$gt": 5.0, "$lt": 9.0}),
    ),
    (
        "CVSS:<1,>9+Severity:LOW,CRITICAL+CVE:!a,b",  # ORs multiply out of the $elemMatch
        {
            "$or": [
                _vuln(cvss=cvss, sev=sev, cve=cve)
                for cvss in ({"$lt": 1.0}, {"$gt": 9.0})
                for sev in (1, 4)
                for cve in ({"$regex": "^(?!a)"}, {"$regex": "^b"})
            ]
        },
    ),
    (
        'Component:"openssl"+Component Version:"1.0"+CVE:"CVE-1"',
        _vuln(c="openssl", cv="1.0", o=_unlisted("c", "cv"), cve="cve-1", cve_o="CVE-1"),
    ),
    (
        'Dockerfile Instruction Keyword:"RUN"+Dockerfile Instruction Value:!"apt"',
        {
            "$or": [
                {
                    "_search.layers": {
                        "$elemMatch": {"ins": "run", "ins_o": "RUN", "val": {"$ne": "apt"}}
                    }
                },
                {
                    "_search.layers": {
                        "$elemMatch": {"ins": "run", "ins_o": "RUN", "o": _listed("val")}
                    }
                },
            ]
        },
    ),
    (
        "Image:docker.io+CVE:-",
        {
            "_search.full": prefix("docker.io"),
            "$nor": [{PAIRS: {"$elemMatch": {"v": True}}}],
        },
    ),
    (
        "Component:openssl+CVE:-",  # no vulnerability at all, and some openssl component
        {
            "$nor": [{PAIRS: {"$elemMatch": {"v": True}}}],
            PAIRS: {"$elemMatch": {"c": {"$regex": "^openssl"}}},
        },
    ),
    (
        "Image:!a+Image Tag:!b+CVE:-",  # negations merge into one $nor
        {
            "$nor": [
                {"_search.full": prefix("a")},
                {"_search.tag": prefix("b")},
                {PAIRS: {"$elemMatch": {"v": True}}},
            ]
        },
    ),
    (
        "Dockerfile Instruction Keyword:RUN+Dockerfile Instruction Value:apt-get",
        {
            "_search.layers": {
                "$elemMatch": {"ins": {"$regex": "^run"}, "val": {"$regex": r"^apt\-get"}}
            }
        },
    ),
    ("Dockerfile Instruction Keyword:-", {"_search.layers": {"$size": 0}}),
    (
        "Dockerfile Instruction Value:a,b+Component:c",
        {
            "_search.layers": {"$elemMatch": {"val": {"$regex": "^(?:a|b)"}}},
            PAIRS: {"$elemMatch": {"c": {"$regex": "^c"}}},
        },
    ),
    ("Image:x+Severity:zzz", NEVER),
    (
        "Component:-+CVE:x",  # contradictory but well-formed
        {PAIRS: {"$size": 0, "$elemMatch": {"v": True, "cve": {"$regex": "^x"}}}},
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    IMAGE_STRING_CASES
    + STRING_ARRAY_CASES
    + MAP_CASES
    + IMAGE_NUMBER_CASES
    + PAIR_CASES
    + COMBINATION_CASES,
)
def test_to_filter(text: str, expected: dict[str, Any]) -> None:
    assert _f(text) == expected


ALLOWED_OPERATORS = {
    "$regex", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$exists", "$elemMatch",
    "$size", "$nor", "$or", "$and",
}  # fmt: skip
ELEMENT_KEYS = (
    {"v", "k", "ins", "val", "o", "k_o", "v_o"}
    | {f.path for f in all_fields()}
    | {f.original for f in all_fields() if f.original}
)
PATHS = {f.full_path for f in all_fields()} | {"_id", PAIRS, "_search.layers"}


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


HOSTILE = [
    "Image:$where",
    'Image:"$gt"',
    "Image:r/$ne",
    "Image Label:$where=$gt",
    "Image Label:r/$or=!$and",
    "CVE:$expr,!$nor",
    "Component:{'$gt': ''}",
]


@pytest.mark.parametrize(
    "text",
    [text for text, _ in IMAGE_STRING_CASES + MAP_CASES + PAIR_CASES + COMBINATION_CASES] + HOSTILE,
)
def test_only_allow_listed_operators_and_registry_paths(text: str) -> None:
    keys = _keys(_f(text))
    operators = {k for k in keys if k.startswith("$")}
    assert operators <= ALLOWED_OPERATORS
    assert keys - operators <= PATHS | ELEMENT_KEYS


def _ors_beside_others(node: Any) -> list[Any]:
    """Documents where a ``$or`` shares the document with other conditions."""
    if isinstance(node, list):
        return [d for v in node for d in _ors_beside_others(v)]
    if not isinstance(node, dict):
        return []
    found = [node] if "$or" in node and len(node) > 1 else []
    return found + [d for v in node.values() for d in _ors_beside_others(v)]


@pytest.mark.parametrize(
    "text",
    [
        "Image Top CVSS:7.5+Image Risk Score:2,*",
        "Image Registry:quay.io,ghcr.io+Image Tag:a,b+Image OS:debian",
        "Severity:LOW,CRITICAL+Image:docker.io",
        "Image Label:a=b,c=d+CVE:x",
    ],
)
def test_a_disjunction_is_alone_in_its_document(text: str) -> None:
    """nx-27017's count command joins a ``$or`` to its neighbours without parentheses."""
    flt = _f(text)
    assert "$or" in str(flt)
    assert _ors_beside_others(flt) == []


def test_a_disjunction_next_to_a_condition_goes_under_and() -> None:
    assert _f("Image Top CVSS:7.5+Image Risk Score:2,*") == {
        "topCvss": 7.5,
        "$and": [{"$or": [{"riskScore": 2.0}, {"riskScore": {"$exists": True, "$ne": None}}]}],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a row label typed twice (in other cases): both tests in one operator document
        ("CVSS:>5+cvss:<7", _vuln(cvss={"$gt": 5.0, "$lt": 7.0})),
        ("CVSS:>5+cvss:>6", _vuln(cvss={"$gt": 6.0})),
        ("CVSS:<=5+cvss:<=4,7", _vuln(cvss={"$lte": 4.0})),
        ("CVSS:5+cvss:>=5", _vuln(cvss={"$eq": 5.0, "$gte": 5.0})),
        ("CVSS:5+cvss:6", NEVER),
        ("CVSS:*+cvss:*", _vuln(cvss={"$exists": True, "$ne": None})),
        ("Component:open+component:open", _pairs(c={"$regex": "^open"})),
        ("Severity:LOW,CRITICAL+severity:>=IMPORTANT", _vuln(sev={"$eq": 4, "$gte": 3, "$lte": 4})),
    ],
)
def test_two_tests_of_one_row_key_join(text: str, expected: dict[str, Any]) -> None:
    assert _f(text) == expected


def test_two_patterns_on_one_row_key_are_refused() -> None:
    with pytest.raises(InvalidQuery, match='"Component" .*typed twice'):
        _f("Component:open+component:r/ssl")
