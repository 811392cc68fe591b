"""The scan benchmark: ScanImage of a seeded, realistic image from a local registry.

Run it as `python -m bench.scan` from the repository root (see `bench/scan/__main__.py`).

- `corpus`, `layer`, `debian`, `languages`, `image`: the image, built from a seed and cached
- `feed`: OSV records for what the image holds
- `server`, `measuring`, `baselines`, `rounds`: the server under test and the timed rounds
- `concurrent`: distinct images cold-scanned at once against one by one, workers and threads
- `profiling`: cold scans on a second server under cProfile
- `report`, `report_findings`: the `## Scanning` section of bench/RESULTS.md
- `run`: the whole run (registry, store, feed, rounds), stopping every process by its PID
"""

from __future__ import annotations

MB = 1_000_000
MiB = 1024 * 1024
REPO = "bench/app"
TAG = "1"
