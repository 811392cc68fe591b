"""`image-service import`: load NDJSON images, validating every line before writing any."""

from __future__ import annotations

import gzip
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import IO, Any

import bson
import orjson
from bson.codec_options import CodecOptions
from marshmallow import ValidationError
from schemas.image import normalize_image

from app.config import Settings
from app.resources import build_image_service
from storage.mongo import ensure_indexes, open_client

_CODEC = CodecOptions(tz_aware=True, tzinfo=UTC)
_MAX_REPORTED = 50


@dataclass
class Validation:
    valid: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _open(path: str) -> IO[bytes]:
    if path == "-":
        stream: IO[bytes] = sys.stdin.buffer
        return gzip.GzipFile(fileobj=stream) if path.endswith(".gz") else stream
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")  # noqa: SIM115 - closed by the caller


def image_from_line(line: bytes) -> dict[str, Any]:
    """The storage.Image in one line: a bare image or an export line.

    Raises:
        ValueError: the line is not JSON, is an export error line, or holds no image.
    """
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if "error" in data and "result" not in data:
        raise ValueError(f"export error line: {orjson.dumps(data['error']).decode()[:200]}")
    if "result" in data:
        image = (data.get("result") or {}).get("image")
        if not isinstance(image, dict):
            raise ValueError("export line without result.image")
        return image
    return data


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
        spool.write(bson.encode(image))
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
    """Exit status: 0 imported, 2 invalid lines (nothing written) or unreadable input."""
    from tqdm import tqdm

    try:
        source = _open(path)
    except OSError as exc:
        print(f"image-service import: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    with source, tempfile.TemporaryFile() as spool:
        validation = validate_to_spool(source, spool)
        if validation.errors:
            _report(validation.errors)
            if not skip_invalid:
                print(
                    f"{len(validation.errors)} invalid lines; nothing imported "
                    "(use --skip-invalid to import the valid ones)",
                    file=sys.stderr,
                )
                return 2
        client = open_client(settings.mongodb_uri, timeout_ms=settings.mongo_connect_timeout_ms)
        try:
            db = client[settings.database]
            await ensure_indexes(db)
            service = build_image_service(db, settings)
            inserted = updated = 0
            progress = tqdm(
                total=validation.valid, unit="img", disable=not sys.stderr.isatty(), file=sys.stderr
            )
            for batch in _spooled(spool, max(1, batch_size)):
                result = await service.upsert(batch, keep_last_updated=True)
                inserted += result.inserted
                updated += result.updated
                progress.update(len(batch))
            progress.close()
        finally:
            await client.close()
    print(f"imported: {inserted} inserted, {updated} updated, {len(validation.errors)} skipped")
    return 0
