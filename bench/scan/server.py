"""The server under test: `image-service serve` as a child process, and the per-layer read times
it logs."""

from __future__ import annotations

import re
from pathlib import Path

from bench.common import PYTHON

# `image-service serve` (app.cli.main), with the layer reader's logger at DEBUG so the server
# logs how long each layer took to read; everything else logs at IMAGE_SERVICE_LOG_LEVEL.
SERVE_COMMAND = [
    PYTHON,
    "-c",
    "import logging, sys; from app.cli import main; "
    "logging.getLogger('app.services.layer_reading').setLevel(logging.DEBUG); "
    "sys.exit(main(['serve']))",
]
_LAYER_READ = re.compile(r"layer (sha256:[0-9a-f]{64}) of (\S+) read in ([0-9.]+)s")
# the span from the first layer opened to the last one read (layers are read concurrently)
_LAYERS_READ = re.compile(r"layers of (\S+) read in ([0-9.]+)s")
ALL_LAYERS = "all"


class LayerLog:
    """Per-layer read times the server logged since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new_reads(self, name: str) -> dict[str, float]:
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            text = log.read().decode(errors="replace")
            self.offset = log.tell()
        reads = {
            match.group(1): float(match.group(3))
            for match in _LAYER_READ.finditer(text)
            if match.group(2) == name
        }
        for match in _LAYERS_READ.finditer(text):
            if match.group(1) == name:
                reads[ALL_LAYERS] = float(match.group(2))
        return reads


def server_env(uri: str, port: int, registry_host: str) -> dict[str, str]:
    return {
        "MONGODB_URI": uri,
        "IMAGE_SERVICE_PORT": str(port),
        "IMAGE_SERVICE_INSECURE_REGISTRIES": registry_host,
        "IMAGE_SERVICE_REPROCESS_INTERVAL": "0",  # no rescan loop during the measurement
        "IMAGE_SERVICE_LOG_LEVEL": "WARNING",
    }
