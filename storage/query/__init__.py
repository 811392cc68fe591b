"""StackRox search language → MongoDB filters, sorts and indexes for the ``images`` collection.

Grammar (upstream RHACS semantics; deliberate deviations marked *)::

    query   := clause ("+" clause)*          clauses are ANDed
    clause  := label ":" value ("," value)*  values are ORed
    value   := ["!"] ("r/" regex | '"' exact '"' | prefix) | "*" | "-"
             | comparison | range | date | "key=value" (maps)

* A ``+`` splits clauses only when a ``:`` follows it before any other ``+``; double quotes
  protect ``+ , :``; a ``+`` at position 0 is not a separator. A clause splits at its first
  ``:``; label and value string are trimmed, values are not; empty values are kept. A clause
  without ``:`` or with an empty value is dropped. Labels are case-insensitive; the same label
  typed twice keeps the last one, differently cased repeats are ANDed.
* Strings match a case-insensitive prefix; ``r/re`` an unanchored regex (lower-cased; RE2
  subset; length-capped); ``"v"`` exact and case-sensitive; ``!`` negates; ``*`` = set,
  ``-`` = unset (on a component/CVE/layer field: the image has no such row).
* Numbers: ``< <= > >= = ==`` then a number, a number, or an exclusive range ``a-b``; values
  are rounded to 2 decimals. Bools: Go ParseBool forms or a prefix of true/false.
* Dates: ``tr/<ms>-<ms>`` = [from, to); ``MM/DD/YYYY[ h:mm[:ss] AM|PM][ ZONE]`` = that day
  (or a plain comparison with a prefix); ``Nd`` = an age, so ``>30d`` = older than 30 days;
  ``Ad-Bd`` = between A and B days old.
* Enums: name prefixes (``Severity:CRIT``), ``!``, ``r/``, ``"NAME"``, and comparisons by
  number (``Severity:>=IMPORTANT``). Maps: ``key``, ``key=``, ``=value``, ``key=value``, ``=``.
* Component and CVE clauses hold on the same (component, vulnerability) row.
* *Errors instead of silent drops: unknown labels, deployment-context labels, bad values, and a
  non-empty query without any clause raise ``InvalidQuery``. An empty query matches everything.
"""

from __future__ import annotations

from storage.query.errors import InvalidQuery
from storage.query.fields import FIELDS, Field, Kind, Level
from storage.query.indexes import index_models
from storage.query.nodes import Clause, Query
from storage.query.parser import parse
from storage.query.search_doc import build_search_doc
from storage.query.sorting import DEFAULT_SORT, SortPlan, sort_plan
from storage.query.translate import QueryContext, to_filter

__all__ = [
    "DEFAULT_SORT",
    "FIELDS",
    "Clause",
    "Field",
    "InvalidQuery",
    "Kind",
    "Level",
    "Query",
    "QueryContext",
    "SortPlan",
    "build_search_doc",
    "index_models",
    "parse",
    "sort_plan",
    "to_filter",
]
