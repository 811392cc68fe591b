"""`image-service seed`: reproducible synthetic images, stored or written as NDJSON."""

from __future__ import annotations

import sys
from itertools import islice

from app.cli.database import command_database
from app.cli.seed_data import generate_images, write_ndjson
from app.composition import build_images
from app.config import Settings
from schemas.image import normalize_image

_BATCH = {"small": 500, "realistic": 25}


def write_seed(count: int, seed: int, profile: str, out: str) -> int:
    """Write export-style NDJSON lines to a file or (`-`) standard output."""
    images = generate_images(max(count, 0), seed=seed, profile=profile)
    if out == "-":
        written = write_ndjson(images, sys.stdout.buffer, export_lines=True)
    else:
        with open(out, "wb") as handle:
            written = write_ndjson(images, handle, export_lines=True)
    print(f"wrote {written} images", file=sys.stderr)
    return 0


async def run_seed(settings: Settings, count: int, seed: int, profile: str) -> int:
    """Store `count` synthetic images through the image service."""
    images = generate_images(max(count, 0), seed=seed, profile=profile)
    async with command_database(settings) as db:
        service, _ = build_images(db, settings)
        inserted = updated = 0
        while batch := [normalize_image(image) for image in islice(images, _BATCH[profile])]:
            result = await service.upsert(batch)
            inserted += result.inserted
            updated += result.updated
    print(f"seeded: {inserted} inserted, {updated} updated")
    return 0
