"""Java archives (.jar, .war, .ear), nested ones included, read within the layer limits.

A zip is read from its end (the central directory), so an archive in the tar stream is first
copied to a temporary file: in memory while small, on disk beyond. Every member is inflated in
bounded reads, so a zip bomb stops at `max_java_member_bytes` whatever sizes it declares.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO

from app.scanner.layers.findings import FileFinding, PackageFile, PackageRecord, Unreadable
from app.scanner.layers.limits import KiB, LayerLimits, MiB, format_size
from app.scanner.layers.parsers.java_metadata import (
    manifest_record,
    parse_manifest,
    parse_properties,
    pom_record,
)
from app.scanner.layers.paths import is_java_archive

_SPOOL_IN_MEMORY = 8 * MiB
_COPY_STEP = 1 * MiB
_POM_PROPERTIES = re.compile(r"META-INF/maven/[^/]+/[^/]+/pom\.properties")
_MANIFEST = "META-INF/MANIFEST.MF"
# what the zipfile module raises on damaged or unsupported archives and members
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
_EOCD = b"PK\x05\x06"
_EOCD_BYTES = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_ZIP64_EOCD_BYTES = 56
_ZIP64_LOCATOR_BYTES = 20
# an entry's central directory record: 46 bytes and its name (a class name in a deep package)
_DIRECTORY_BYTES_PER_ENTRY = 160
_MAX_PROBLEMS_SAID = 3


class _Skip(Exception):
    """This part of the archive is not read; the message says why."""


def read_java_archive(fileobj: IO[bytes], path: str, size: int, limits: LayerLimits) -> FileFinding:
    """The packages in the archive at `path` (its `size` bytes read from `fileobj`) and in the
    archives nested in it; what could not be read is said in `partial`, or the whole archive is
    Unreadable when its outer level cannot be read."""
    if size > limits.max_java_archive_bytes:
        return Unreadable(
            "java",
            f"{path} was not read: it is {format_size(size)}, over the"
            f" {format_size(limits.max_java_archive_bytes)} limit (max_java_archive_bytes)",
        )
    walk = _Walk(limits)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        shutil.copyfileobj(fileobj, spool, _COPY_STEP)
        try:
            walk.archive(spool, posixpath.basename(path), within="", depth=0)
        except _Skip as exc:
            return Unreadable("java", f"{path} could not be read: {exc}")
    partial = ""
    if walk.problems:
        said = "; ".join(walk.problems[:_MAX_PROBLEMS_SAID])
        more = len(walk.problems) - _MAX_PROBLEMS_SAID
        partial = f"{path}: {said}" + (f" (and {more} more)" if more > 0 else "")
    return PackageFile("java", tuple(walk.records), partial=partial)


class _Walk:
    """One outer archive and everything nested in it, within one set of budgets."""

    def __init__(self, limits: LayerLimits) -> None:
        self._limits = limits
        self.records: list[PackageRecord] = []
        self.problems: list[str] = []
        self._seen: set[tuple[str, str, str]] = set()
        self._members_read = 0
        self._inflated = 0

    def archive(self, file: IO[bytes], file_name: str, *, within: str, depth: int) -> None:
        """Read one archive level. Raises _Skip when it cannot be opened at all."""
        _check_directory(file, self._limits)
        try:
            archive = zipfile.ZipFile(file)
        except (*_ZIP_ERRORS, OSError, ValueError, struct.error) as exc:
            raise _Skip(f"not a readable zip archive ({exc})") from None
        with archive:
            members = archive.infolist()
            found = self._own_records(archive, members, file_name)
            for record in found:
                key = (record.name, record.version, within)
                if key not in self._seen:
                    self._seen.add(key)
                    self.records.append(_placed(record, within))
            for member in _nested_archives(members):
                self._nested(archive, member, within=within, depth=depth + 1)

    def _own_records(
        self, archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], file_name: str
    ) -> list[PackageRecord]:
        """pom.properties of this level (a shaded jar holds several); else its manifest."""
        found: list[PackageRecord] = []
        for member in members:
            if not _POM_PROPERTIES.fullmatch(member.filename):
                continue
            text = self._text(archive, member)
            record = None if text is None else pom_record(parse_properties(text), member.filename)
            if record is not None:
                found.append(record)
        if found:
            return found
        manifest = next((m for m in members if m.filename == _MANIFEST), None)
        text = None if manifest is None else self._text(archive, manifest)
        record = None if text is None else manifest_record(parse_manifest(text), file_name)
        return [] if record is None else [record]

    def _nested(
        self, archive: zipfile.ZipFile, member: zipfile.ZipInfo, *, within: str, depth: int
    ) -> None:
        place = f"{within}!/{member.filename}" if within else member.filename
        if depth > self._limits.max_java_nesting:
            self.problems.append(
                f"{place} is nested deeper than {self._limits.max_java_nesting} archives"
                " (max_java_nesting)"
            )
            return
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
            try:
                for piece in self._inflate(archive, member, place):
                    spool.write(piece)
                self.archive(spool, member.filename, within=place, depth=depth)
            except _Skip as exc:
                self.problems.append(f"{place} was not read: {exc}")

    def _text(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str | None:
        try:
            data = b"".join(self._inflate(archive, member, member.filename))
        except _Skip as exc:
            self.problems.append(f"{member.filename} was not read: {exc}")
            return None
        return data.decode("utf-8", errors="replace")

    def _inflate(
        self, archive: zipfile.ZipFile, member: zipfile.ZipInfo, place: str
    ) -> Iterator[bytes]:
        """The member's bytes in bounded pieces. Raises _Skip past a limit or on bad data."""
        limits = self._limits
        self._members_read += 1
        if self._members_read > limits.max_java_members_read:
            raise _Skip(
                f"more than {limits.max_java_members_read:,} members read from one archive"
                " (max_java_members_read)"
            )
        inflated = 0
        try:
            with archive.open(member) as stream:
                while piece := stream.read(min(_COPY_STEP, limits.max_java_member_bytes + 1)):
                    inflated += len(piece)
                    self._inflated += len(piece)
                    if inflated > limits.max_java_member_bytes:
                        raise _Skip(
                            f"it inflates to more than {format_size(limits.max_java_member_bytes)}"
                            " (max_java_member_bytes)"
                        )
                    if self._inflated > limits.max_java_inflated_bytes:
                        raise _Skip(
                            "the archive inflates to more than"
                            f" {format_size(limits.max_java_inflated_bytes)}"
                            " (max_java_inflated_bytes)"
                        )
                    yield piece
        except (*_ZIP_ERRORS, OSError, ValueError) as exc:
            raise _Skip(f"damaged or unsupported data ({exc})") from None


def _nested_archives(members: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    return [m for m in members if not m.is_dir() and is_java_archive(m.filename)]


def _placed(record: PackageRecord, within: str) -> PackageRecord:
    if not within:
        return record
    return PackageRecord(
        kind=record.kind,
        name=record.name,
        version=record.version,
        source_name=record.source_name,
        within=within,
    )


def _check_directory(file: IO[bytes], limits: LayerLimits) -> None:
    """Refuse an archive whose central directory is too big before the zipfile module parses it
    (it builds an object per entry, whatever count the end record claims). Raises _Skip."""
    end = file.seek(0, 2)
    file.seek(max(0, end - (_EOCD_BYTES + 64 * KiB)))
    tail = file.read()
    file.seek(0)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_BYTES:
        raise _Skip("not a zip archive (no end of central directory record)")
    entries, directory_bytes = struct.unpack_from("<HI", tail, at + 10)
    # Zip64: the real counts are in the record just before the locator that precedes this one
    locator = at - _ZIP64_LOCATOR_BYTES
    record = locator - _ZIP64_EOCD_BYTES
    zip64 = record >= 0 and tail[locator : locator + 4] == _ZIP64_LOCATOR
    if zip64 and tail[record : record + 4] == _ZIP64_EOCD:
        entries, directory_bytes = struct.unpack_from("<QQ", tail, record + 32)
    if (
        entries > limits.max_java_archive_entries
        or directory_bytes > limits.max_java_archive_entries * _DIRECTORY_BYTES_PER_ENTRY
    ):
        raise _Skip(
            f"its central directory lists {entries:,} entries in {format_size(directory_bytes)},"
            f" over the {limits.max_java_archive_entries:,} entries limit"
            " (max_java_archive_entries)"
        )
