"""`image-service import`: load NDJSON images, validating every line before writing any."""

from __future__ import annotations

import gzip
import io
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import IO, Any, cast

import bson
import orjson
from bson.codec_options import CodecOptions
from marshmallow import ValidationError
from pymongo.errors import PyMongoError
from tqdm import tqdm

from app.cli.database import command_database
from app.composition import build_images
from app.config import Settings
from schemas.image import normalize_image
from storage.errors import StorageError

_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
_MAX_REPORTED = 50


@dataclass
class Validation:
    valid: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


_GZIP_MAGIC = b"\x1f\x8b"
# A stored document is limited to 16 MiB; the search copies add up to about two thirds.
MAX_IMAGE_BYTES = 8 << 20


def _open(path: str) -> IO[bytes]:
    """The input, decompressed when it starts with the gzip magic bytes (files or stdin)."""
    raw: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(Any, raw))
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return cast(IO[bytes], gzip.GzipFile(fileobj=buffered))
    return buffered


def image_from_line(line: bytes) -> dict[str, Any]:
    """The storage.Image in one line: a bare image or an export line.

    Raises:
        ValueError: the line is not JSON, is an export error line, or holds no image.
    """
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    match data:
        case {"result": {"image": dict() as image}}:
            return image
        case {"result": _}:
            raise ValueError("export line without result.image")
        case {"error": error}:
            raise ValueError(f"export error line: {orjson.dumps(error).decode()[:200]}")
        case dict():
            return data
    raise ValueError("not a JSON object")


def _reason(error: ValidationError) -> str:
    return orjson.dumps(error.normalized_messages()).decode()[:500]


def validate_to_spool(source: IO[bytes], spool: IO[bytes]) -> Validation:
    """Normalize every line; valid images go to the spool as BSON, errors are collected."""
    result = Validation()
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            image = normalize_image(image_from_line(line))
        except ValueError as exc:
            result.errors.append((number, str(exc)))
            continue
        except ValidationError as exc:
            result.errors.append((number, _reason(exc)))
            continue
        encoded = bson.encode(image)
        if len(encoded) > MAX_IMAGE_BYTES:
            result.errors.append((number, f"image is larger than {MAX_IMAGE_BYTES >> 20} MiB"))
            continue
        spool.write(encoded)
        result.valid += 1
    return result


def _spooled(spool: IO[bytes], batch_size: int) -> Iterator[list[dict[str, Any]]]:
    spool.seek(0)
    batch: list[dict[str, Any]] = []
    for image in bson.decode_file_iter(spool, codec_options=_CODEC):
        batch.append(image)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _report(errors: list[tuple[int, str]]) -> None:
    for number, reason in errors[:_MAX_REPORTED]:
        print(f"line {number}: {reason}", file=sys.stderr)
    if len(errors) > _MAX_REPORTED:
        print(f"... and {len(errors) - _MAX_REPORTED} more invalid lines", file=sys.stderr)


async def run_import(settings: Settings, path: str, skip_invalid: bool, batch_size: int) -> int:
    """Exit status: 0 imported; 1 database error; 2 invalid lines (nothing written) or
    unreadable input."""
    try:
        source = _open(path)
    except OSError as exc:
        print(f"image-service import: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    with source, tempfile.TemporaryFile() as spool:
        try:
            validation = validate_to_spool(source, spool)
        except (OSError, EOFError, zlib.error) as exc:
            print(f"image-service import: cannot read {path}: {exc}", file=sys.stderr)
            return 2
        if validation.errors:
            _report(validation.errors)
            if not skip_invalid:
                print(
                    f"{len(validation.errors)} invalid lines; nothing imported "
                    "(use --skip-invalid to import the valid ones)",
                    file=sys.stderr,
                )
                return 2
        try:
            inserted, updated = await _write(settings, spool, validation.valid, batch_size)
        except (StorageError, PyMongoError) as exc:
            print(f"image-service import: database error: {exc}", file=sys.stderr)
            return 1
    print(f"imported: {inserted} inserted, {updated} updated, {len(validation.errors)} skipped")
    return 0


async def _write(
    settings: Settings, spool: IO[bytes], total: int, batch_size: int
) -> tuple[int, int]:
    """Upsert the spooled images in batches; returns (inserted, updated)."""
    inserted = updated = 0
    progress = tqdm(total=total, unit="img", disable=not sys.stderr.isatty(), file=sys.stderr)
    try:
        async with command_database(settings) as db:
            service, _ = build_images(db, settings)
            for batch in _spooled(spool, max(1, batch_size)):
                result = await service.upsert(batch, keep_last_updated=True)
                inserted += result.inserted
                updated += result.updated
                progress.update(len(batch))
    finally:
        progress.close()
    return inserted, updated
