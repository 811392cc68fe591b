"""MongoDB repositories (`images`, `watched_images`, `leases`, `vulnerabilities`, `cve_scores`,
`vulndb_state`, `api_tokens`, `roles`, `role_names`) and, in `storage.query`, the search
language: parser, filters, sort plans, keyset ranges, indexes, `_search` copies and `_sort` keys.

Workarounds for the local store nx-27017 (MongoDB wire protocol on SQLite, used by `make run`
and the tests). Each is marked by a comment starting `nx-27017:` that says what MongoDB would
allow instead (`grep -rn "nx-27017:" storage`):

- sort tie-breaker `_search.sha`, not `_id` (compound indexes with `_id`, `_id` ranges):
  query/sorting.py
- dates in `_sort` as epoch milliseconds (a date in a range runs the find in Python):
  query/sort_keys.py
- keyset pages as one find per range instead of one `$or`, equality as `$eq` (a bare dotted
  equality also looks through arrays, unindexed): query/keyset.py
- `_search.pairs` one flat array of (component, vulnerability) rows, no nested `$elemMatch`
  or dotted paths through arrays: query/search_doc.py
- an anchored regex alternation instead of `$or` inside `$elemMatch`, and any other `$or` there
  lifted out as one `$elemMatch` per alternative: query/row_alternatives.py
- flat rows list the keys whose original spelling they keep (`o`), since `$exists` inside
  `$elemMatch` answers wrongly under `$or`/`$and`: query/search_keys.py
- a negated exact match on an image field as the `$nor` of the match, not `$ne` (the `count`
  command misses documents where `$ne` meets a null sub-document): query/translate.py
- negative-lookahead regexes instead of `$not`/`$nor` inside `$elemMatch`: query/translate.py
- a range per contiguous run instead of `$in` inside `$elemMatch` for enum sets:
  query/translate.py
- dates searched on `_search` copies in epoch milliseconds (inside `$elemMatch` dates compare
  as text, elsewhere at whole seconds): query/search_doc.py
- a prefix value on an image field as a range of strings, not an anchored regex (its count reads
  every document for a regex): query/patterns.py
- the `count` command instead of count_documents or `$match`+`$count`: images.py
- a dotted find projection comes back under flat dotted keys: both shapes read by
  query/keyset.py `pick`
- dates kept in sub-documents (a top-level date `$set` becomes a string): watched.py, leases.py;
  tokens inserted whole and revoked by `$set` of the flag alone: tokens.py; feed syncs replaced
  whole: feed_syncs.py
- the feed's generations switched by a pointer in the feed record, renameCollection being a
  no-op; `$push` where `$addToSet` is ignored: vulnerabilities.py
"""
