"""One RPM header as an RPM database stores it: the package's name, version and files.

The stored form (all integers big-endian) is
    il: u32, dl: u32                       index entry count, data store length
    il × (tag: i32, type: u32, offset: i32, count: u32)
    dl bytes of data store                 each entry's value at its offset
Strings are NUL-terminated, string arrays `count` of them back to back, INT32 values 4-byte
aligned. A header written by rpm ≥ 4 opens with a region entry (tag 61–63) covering the
immutable part; entries rpm added at install time follow it and, as in rpm, a later entry
for the same tag wins. Only the tags below are decoded; every offset and count is checked
against the data store, so a damaged header raises ValueError and never reads out of bounds.
"""

from __future__ import annotations

import posixpath
import struct
from dataclasses import dataclass

# rpm refuses headers beyond these (hdrchkTags, hdrchkData)
_MAX_ENTRIES = 0xFFFF
_MAX_DATA = 0x0FFFFFFF
_ENTRY = struct.Struct(">iIiI")

_INT32, _STRING, _STRING_ARRAY, _I18NSTRING = 4, 6, 8, 9

NAME, VERSION, RELEASE, EPOCH = 1000, 1001, 1002, 1003
LICENSE, ARCH, OLDFILENAMES, SOURCERPM = 1014, 1022, 1027, 1044
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
_WANTED = frozenset(
    {NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH, OLDFILENAMES, SOURCERPM}
    | {DIRINDEXES, BASENAMES, DIRNAMES}
)


@dataclass(frozen=True, slots=True)
class RpmHeader:
    """The fields of an installed package the scanner uses; "" / None when absent."""

    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    license: str
    source_rpm: str  # e.g. "openssl-3.0.7-16.el9.src.rpm"
    files: tuple[str, ...]  # normalized, without the leading "/"

    @property
    def evr(self) -> str:
        """`[epoch:]version-release`, the epoch left out when absent or 0 (as `rpm -q` does)."""
        head = f"{self.epoch}:" if self.epoch else ""
        return f"{head}{self.version}-{self.release}"


def parse_header(blob: bytes) -> RpmHeader:
    """Decode a stored header. Raises ValueError when it is damaged or names no package."""
    if len(blob) < 8:
        raise ValueError("RPM header shorter than its 8-byte preamble")
    entries, data_length = struct.unpack_from(">II", blob)
    if entries > _MAX_ENTRIES or data_length > _MAX_DATA:
        raise ValueError(f"RPM header claims {entries} entries and {data_length} data bytes")
    start = 8 + entries * _ENTRY.size
    if len(blob) < start + data_length:
        raise ValueError("RPM header is truncated")
    store = blob[start : start + data_length]
    index: dict[int, tuple[int, int, int]] = {}
    for tag, kind, offset, count in _ENTRY.iter_unpack(blob[8:start]):
        if tag in _WANTED:
            index[tag] = (kind, offset, count)
    fields = _Fields(store, index)
    name, version, release = fields.string(NAME), fields.string(VERSION), fields.string(RELEASE)
    if not name or not version or not release:
        raise ValueError("RPM header without a name, version and release")
    return RpmHeader(
        name=name,
        version=version,
        release=release,
        epoch=fields.int32(EPOCH),
        arch=fields.string(ARCH),
        license=fields.string(LICENSE),
        source_rpm=fields.string(SOURCERPM),
        files=_files(fields),
    )


def _files(fields: _Fields) -> tuple[str, ...]:
    """dirnames[dirindexes[i]] + basenames[i]; headers from before rpm 4.0 list whole names."""
    basenames = fields.strings(BASENAMES)
    if not basenames:
        return tuple(_normalized(path) for path in fields.strings(OLDFILENAMES))
    dirnames = fields.strings(DIRNAMES)
    dirindexes = fields.int32s(DIRINDEXES)
    if len(dirindexes) != len(basenames):
        raise ValueError("RPM header lists a different number of file names and directories")
    try:
        return tuple(
            _normalized(dirnames[i] + base) for i, base in zip(dirindexes, basenames, strict=True)
        )
    except IndexError:
        raise ValueError("RPM header points a file at a directory it does not list") from None


def _normalized(path: str) -> str:
    if "//" in path or "/." in path:
        path = posixpath.normpath("/" + path)
    return path.lstrip("/")


class _Fields:
    """Typed, bounds-checked reads of the wanted entries from the data store."""

    def __init__(self, store: bytes, index: dict[int, tuple[int, int, int]]) -> None:
        self._store = store
        self._index = index

    def _entry(self, tag: int, kinds: tuple[int, ...]) -> tuple[int, int] | None:
        found = self._index.get(tag)
        if found is None:
            return None
        kind, offset, count = found
        if kind not in kinds:
            raise ValueError(f"RPM header tag {tag} has type {kind}")
        if not 0 <= offset < len(self._store) or count > len(self._store):
            raise ValueError(f"RPM header tag {tag} lies outside the data store")
        return offset, count

    def string(self, tag: int) -> str:
        # an I18N string holds one value per locale: the first is the untranslated one
        found = self._entry(tag, (_STRING, _I18NSTRING))
        if found is None:
            return ""
        offset, _ = found
        end = self._store.find(b"\0", offset)
        if end < 0:
            raise ValueError(f"RPM header string {tag} is not terminated")
        return self._store[offset:end].decode("utf-8", errors="replace")

    def strings(self, tag: int) -> list[str]:
        found = self._entry(tag, (_STRING_ARRAY,))
        if found is None:
            return []
        offset, count = found
        parts = self._store[offset:].split(b"\0", count)
        if len(parts) <= count:
            raise ValueError(f"RPM header string array {tag} is truncated")
        return [part.decode("utf-8", errors="replace") for part in parts[:count]]

    def int32s(self, tag: int) -> tuple[int, ...]:
        found = self._entry(tag, (_INT32,))
        if found is None:
            return ()
        offset, count = found
        if offset + 4 * count > len(self._store):
            raise ValueError(f"RPM header integer array {tag} is truncated")
        return struct.unpack_from(f">{count}I", self._store, offset)

    def int32(self, tag: int) -> int | None:
        values = self.int32s(tag)
        return values[0] if values else None
