"""rpm's Berkeley DB `Packages` file (RHEL/UBI 8, CentOS 7 and older): a DB hash database
whose keys are 4-byte header numbers and whose values are the headers.

The on-disk format (Berkeley DB 4.x/5.x, byte order of the machine that wrote it):
- page 0 is the metadata page: magic 0x061561 at byte 12, version at 16, page size at 20,
  metadata flags at 26, last page number at 32;
- every page opens with a 26-byte header: page number at 8, next page at 16, item count at 20,
  `hf_offset` at 22, page type at 25;
- hash pages (type 13, or 2 in old files) hold key/value items in pairs; after the header come
  the items' 2-byte offsets in the page, and item i spans from its offset to the previous
  item's offset (the page end for item 0). An item's first byte is its type: 1 = the bytes
  follow inline, 3 = stored off-page (pgno at byte 4, total length at byte 8 of the item);
- overflow pages (type 7) hold `hf_offset` bytes of one value after the header and chain by
  their next page number.
Every hash page is read in file order, as rpm's own read-only backend does; a free page is
of another type. An overflow chain must give exactly the length its item states and no page
is read twice, so damaged input raises ValueError and the work stays linear in the file size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

BDB_HASH_MAGIC = 0x061561
_PAGE_HEADER = 26
_HASH_PAGE_TYPES = frozenset({2, 13})  # P_HASH_UNSORTED, P_HASH
_HASH_META = 8
_OVERFLOW = 7
_INLINE, _OFF_PAGE = 1, 3
_CHECKSUMMED = 0x01  # DBMETA_CHKSUM: pages carry a checksum, which moves their contents
_COUNTER_KEY = b"\x00\x00\x00\x00"  # rpm keeps its next header number under key 0


def is_bdb_hash(data: bytes) -> bool:
    return len(data) >= 16 and BDB_HASH_MAGIC in (
        struct.unpack_from("<I", data, 12)[0],
        struct.unpack_from(">I", data, 12)[0],
    )


def bdb_hash_values(data: bytes) -> list[bytes]:
    """The header blobs of a `Packages` file. Raises ValueError when it is not one or damaged."""
    return list(_Reader(data).values())


class _Reader:
    def __init__(self, data: bytes) -> None:
        if len(data) < 512 or not is_bdb_hash(data):
            raise ValueError("not a Berkeley DB hash database")
        self.order = "<" if struct.unpack_from("<I", data, 12)[0] == BDB_HASH_MAGIC else ">"
        self.data = data
        self.page_size = self._u32(20)
        if self.page_size not in {512 << shift for shift in range(8)}:
            raise ValueError(f"Berkeley DB page size {self.page_size} is not valid")
        if data[25] != _HASH_META:
            raise ValueError("Berkeley DB file does not start with a hash metadata page")
        if data[26] & _CHECKSUMMED:
            raise ValueError("Berkeley DB pages with checksums are not supported")
        self.pages = min(len(data) // self.page_size, self._u32(32) + 1)
        # overflow pages already read: each belongs to one value, so none is read twice
        self.read: set[int] = set()

    def _u32(self, offset: int) -> int:
        value: int = struct.unpack_from(self.order + "I", self.data, offset)[0]
        return value

    def _u16(self, offset: int) -> int:
        value: int = struct.unpack_from(self.order + "H", self.data, offset)[0]
        return value

    def values(self) -> Iterator[bytes]:
        for page in range(1, self.pages):
            start = page * self.page_size
            if self.data[start + 25] in _HASH_PAGE_TYPES:
                yield from self._page_values(start)

    def _page_values(self, start: int) -> Iterator[bytes]:
        count = self._u16(start + 20)
        if _PAGE_HEADER + 2 * count > self.page_size:
            raise ValueError(f"Berkeley DB hash page at {start} claims {count} items")
        offsets = struct.unpack_from(f"{self.order}{count}H", self.data, start + _PAGE_HEADER)
        for i in range(0, count - 1, 2):
            key = self._item(start, offsets, i)
            if key[0] == _INLINE and key[1:] == _COUNTER_KEY:
                continue
            value = self._item(start, offsets, i + 1)
            if value[0] == _INLINE:
                yield value[1:]
            elif value[0] == _OFF_PAGE and len(value) >= 12:
                pgno, length = struct.unpack_from(self.order + "II", value, 4)
                yield self._overflow(pgno, length)
            else:
                raise ValueError(f"Berkeley DB hash item of type {value[0]} is not supported")

    def _item(self, start: int, offsets: tuple[int, ...], i: int) -> bytes:
        end = self.page_size if i == 0 else offsets[i - 1]
        if not _PAGE_HEADER <= offsets[i] < end <= self.page_size:
            raise ValueError(f"Berkeley DB hash page at {start} has a misplaced item")
        return self.data[start + offsets[i] : start + end]

    def _overflow(self, pgno: int, length: int) -> bytes:
        parts: list[bytes] = []
        have = 0
        for _ in range(self.pages):
            if not 0 < pgno < self.pages or pgno in self.read:
                break
            self.read.add(pgno)
            start = pgno * self.page_size
            if self.data[start + 25] != _OVERFLOW:
                raise ValueError(f"Berkeley DB overflow chain reaches page {pgno} of another type")
            size = self._u16(start + 22)
            if size > self.page_size - _PAGE_HEADER:
                raise ValueError(f"Berkeley DB overflow page {pgno} claims {size} bytes")
            parts.append(self.data[start + _PAGE_HEADER : start + _PAGE_HEADER + size])
            have += size
            if have >= length:
                break
            pgno = self._u32(start + 16)
        if have != length:
            raise ValueError(f"Berkeley DB overflow chain holds {have} of {length} bytes")
        return b"".join(parts)
