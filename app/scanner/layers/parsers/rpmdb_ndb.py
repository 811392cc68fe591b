"""rpm's ndb `Packages.db` (SUSE and openSUSE since 2020): slots pointing at header blobs.

The on-disk format (all integers little-endian, as rpm's lib/backend/ndb writes it):
- bytes 0–31 are the file header: magic "RpmP" at 0, format version 0 at 4, generation at 8,
  the number of 4096-byte slot pages at 12;
- the slot pages follow the header: 16-byte slots, each magic "Slot", package index,
  block offset and block count (blocks are 16 bytes; block offset 0 marks a free slot);
- a used slot's blocks hold one blob: a 16-byte head (magic "BlbS", package index,
  timestamp, length), the header itself, zero padding, and a 12-byte tail (Adler-32 of
  everything before the tail, length, magic "BlbE").
Each blob is checked as rpm checks it (magics, index, lengths, checksum) and must lie inside
the file after the slot pages: damaged input raises ValueError.
"""

from __future__ import annotations

import struct
import zlib

NDB_MAGIC = b"RpmP"
_FORMAT_VERSION = 0
_FILE_HEADER = 32
_PAGE = 4096
_SLOT = struct.Struct("<4sIII")
_BLOCK = 16
_BLOB_HEAD = struct.Struct("<4sIII")
_BLOB_TAIL = struct.Struct("<II4s")


def ndb_blobs(data: bytes) -> list[bytes]:
    """The header blobs of a `Packages.db`. Raises ValueError when it is not one or damaged."""
    if len(data) < _FILE_HEADER or not data.startswith(NDB_MAGIC):
        raise ValueError("not an ndb package database")
    version, _, slot_pages = struct.unpack_from("<III", data, 4)
    if version != _FORMAT_VERSION:
        raise ValueError(f"ndb format version {version} is not supported")
    slots_end = slot_pages * _PAGE
    if slot_pages == 0 or slots_end > len(data):
        raise ValueError(f"ndb file is shorter than its {slot_pages} slot pages")
    blobs: list[bytes] = []
    claimed = 0
    for magic, index, block, blocks in _SLOT.iter_unpack(data[_FILE_HEADER:slots_end]):
        if magic != b"Slot":
            raise ValueError("ndb slot without its magic")
        if block:
            claimed += blocks * _BLOCK
            if claimed > len(data):  # slots sharing blocks: bounded work even then
                raise ValueError("ndb slots claim more blocks than the file has")
            blobs.append(_blob(data, index, block * _BLOCK, blocks * _BLOCK, slots_end))
    return blobs


def _blob(data: bytes, index: int, start: int, size: int, slots_end: int) -> bytes:
    end = start + size
    if start < slots_end or end > len(data) or size < _BLOB_HEAD.size + _BLOB_TAIL.size:
        raise ValueError(f"ndb slot of package {index} points outside the blob area")
    magic, owner, _, length = _BLOB_HEAD.unpack_from(data, start)
    if magic != b"BlbS" or owner != index:
        raise ValueError(f"ndb blob of package {index} has a damaged head")
    needed = _BLOB_HEAD.size + length + _BLOB_TAIL.size
    if (needed + _BLOCK - 1) // _BLOCK * _BLOCK != size:
        raise ValueError(f"ndb blob of package {index} does not fill its blocks")
    checksum, tail_length, tail_magic = _BLOB_TAIL.unpack_from(data, end - _BLOB_TAIL.size)
    if tail_magic != b"BlbE" or tail_length != length:
        raise ValueError(f"ndb blob of package {index} has a damaged tail")
    if zlib.adler32(data[start : end - _BLOB_TAIL.size]) != checksum:
        raise ValueError(f"ndb blob of package {index} fails its checksum")
    return data[start + _BLOB_HEAD.size : start + _BLOB_HEAD.size + length]
