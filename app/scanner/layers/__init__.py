"""Layer analysis: stream each layer blob for the files that name packages, then stack them.

`read_layer` reads one blob (no network, no storage: the caller supplies the chunks);
`assemble` applies the layers' findings in order and returns the image's Inventory. What a
layer holds (`LayerFindings` and its file kinds) is in `app.scanner.layers.findings`.
"""

from __future__ import annotations

from app.scanner.layers.assemble import assemble
from app.scanner.layers.ecosystems import operating_system_label, osv_ecosystem
from app.scanner.layers.findings import LayerFindings
from app.scanner.layers.limits import LayerLimits
from app.scanner.layers.reader import read_layer

__all__ = [
    "LayerFindings",
    "LayerLimits",
    "assemble",
    "operating_system_label",
    "osv_ecosystem",
    "read_layer",
]
