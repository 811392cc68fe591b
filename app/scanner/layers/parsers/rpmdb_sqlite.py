"""rpm's SQLite database (rpm ≥ 4.16: RHEL/UBI 9, Fedora 33+): `rpmdb.sqlite`.

Table `Packages (hnum INTEGER PRIMARY KEY, blob BLOB)` holds one header per installed package;
the other tables are indexes rebuilt from the headers. Read in memory with SQLite itself
(`deserialize`), never from a file.
"""

from __future__ import annotations

import sqlite3

SQLITE_MAGIC = b"SQLite format 3\x00"
# file format write/read versions in the database header: 2 means WAL mode
_WAL_VERSION_OFFSETS = (18, 19)


def sqlite_headers(data: bytes) -> list[bytes]:
    """The header blobs in `Packages`. Raises ValueError for anything SQLite cannot read.

    rpm keeps the database in WAL mode, which SQLite refuses to open from memory; the header
    is switched to rollback-journal mode in the copy (the pages themselves do not change).
    Changes still in a `-wal` file next to it are not seen (the caller notes such a file).
    """
    if not data.startswith(SQLITE_MAGIC) or len(data) < 100:
        raise ValueError("not an SQLite database")
    image = bytearray(data)
    for offset in _WAL_VERSION_OFFSETS:
        if image[offset] == 2:
            image[offset] = 1
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(image)
        rows = connection.execute("SELECT blob FROM Packages ORDER BY hnum").fetchall()
    except sqlite3.Error as exc:
        raise ValueError(f"SQLite cannot read it: {exc}") from None
    finally:
        connection.close()
    return [bytes(blob) for (blob,) in rows]
