"""The API benchmarks that `python -m bench.run_all` runs: GET /v1/images/{id} and the export
stream against bare baselines on the same store, the export's memory, micro-costs, profiles.

Modules run by the benchmarks as their own processes (`python -m bench.api.<name>`): `loadgen`,
`export_client`, `raw_export`, `cursor_memory`, `micro`, `our_server`, `bare_server`;
`profile_report` also summarizes a saved profile on its own.
"""
