"""RPM databases read as `rpm -qa` lists them, and damaged ones refused.

The databases are made in the test run (tests/support/rpm_fixtures.py): Debian's rpmbuild
builds the packages, rpm 4.18 installs them into rpmdb.sqlite, db5.3_load (Berkeley DB 5.3)
loads the same headers into a hash `Packages` file that rpm's bdb_ro backend reads back, and
the ndb `Packages.db` is assembled by the test from rpm's headers (no tool here writes ndb).
The oracle is `rpm -qa` / `rpm -qal` on the database rpm wrote.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from app.scanner.layers.findings import PackageFile, PackageRecord, Unreadable
from app.scanner.layers.parsers import parse_file
from app.scanner.layers.parsers.rpm import parse_rpm_database
from app.scanner.layers.parsers.rpm_header import parse_header
from app.scanner.layers.parsers.rpmdb_bdb import bdb_hash_values
from app.scanner.layers.parsers.rpmdb_ndb import ndb_blobs
from app.scanner.layers.parsers.rpmdb_sqlite import sqlite_headers
from app.scanner.layers.paths import classify
from tests.support.rpm_fixtures import (
    SITE,
    URLLIB3_EGG,
    Listed,
    RpmFixtures,
    bdb_database,
    ndb_database,
    rpm_fixtures,
    rpm_query,
)

FORMATS = ("sqlite", "bdb", "ndb")


@pytest.fixture(scope="module")
def rpms() -> RpmFixtures:
    return rpm_fixtures()


def database(rpms: RpmFixtures, form: str) -> bytes:
    path: Path = getattr(rpms, form)
    return path.read_bytes()


def as_listed(record: PackageRecord, listed: dict[str, Listed]) -> Listed:
    source = listed[record.name].source_rpm  # the only field the record does not keep whole
    return Listed(record.name, record.version, record.arch, source, record.license)


@pytest.mark.parametrize("form", FORMATS)
def test_every_format_lists_what_rpm_lists(rpms: RpmFixtures, form: str) -> None:
    records, owned = parse_rpm_database(database(rpms, form))
    by_name = {entry.name: entry for entry in rpms.listed}
    assert {as_listed(r, by_name) for r in records} == {
        entry for entry in rpms.listed if entry.name != "gpg-pubkey"
    }
    assert owned == rpms.files
    for record in records:
        assert by_name[record.name].source_rpm.startswith(f"{record.source_name}-")


def test_signing_keys_are_not_packages(rpms: RpmFixtures) -> None:
    records, _ = parse_rpm_database(database(rpms, "sqlite"))
    assert "gpg-pubkey" in {entry.name for entry in rpms.listed}
    assert "gpg-pubkey" not in {r.name for r in records}


def test_records_carry_source_epoch_arch_and_license(rpms: RpmFixtures) -> None:
    records, _ = parse_rpm_database(database(rpms, "sqlite"))
    found = {r.name: r for r in records}
    assert found["openssl-libs"] == PackageRecord(
        kind="rpm",
        name="openssl-libs",
        version="1:3.0.7-16.el9",
        source_name="openssl",
        license="ASL 2.0",
        arch="x86_64",
    )
    # a subpackage named apart from its source; the version is the binary's (epoch included)
    assert (found["python3-urllib3"].source_name, found["python3-urllib3"].source_version) == (
        "python-urllib3",
        "",
    )
    assert found["toolbox"].version == "0.0.99.5^20240101git3d2a-1.el9"  # epoch 0 not shown


def test_header_fields_and_file_names(rpms: RpmFixtures) -> None:
    headers = {h.name: h for h in map(parse_header, rpms.headers)}
    urllib3 = headers["python3-urllib3"]
    assert (urllib3.version, urllib3.release, urllib3.epoch, urllib3.arch) == (
        "1.26.5",
        "3.el9",
        None,
        "noarch",
    )
    assert urllib3.source_rpm == "python-urllib3-1.26.5-3.el9.src.rpm"
    assert set(urllib3.files) == {
        f"{SITE}/urllib3",
        f"{SITE}/urllib3/__init__.py",
        URLLIB3_EGG,
        f"{URLLIB3_EGG}/PKG-INFO",
    }
    assert headers["openssl"].epoch == 1
    assert headers["openssl"].evr == "1:3.0.7-16.el9"
    assert len(headers["bash"].files) == 401


def test_a_big_header_is_read_across_berkeley_db_overflow_pages(rpms: RpmFixtures) -> None:
    data = database(rpms, "bdb")
    page_types = {data[start + 25] for start in range(0, len(data), 4096)}
    assert 7 in page_types  # overflow pages: bash's header is larger than a page
    assert sorted(map(len, bdb_hash_values(data))) == sorted(map(len, rpms.headers))


def test_a_big_endian_berkeley_db_file(rpms: RpmFixtures, tmp_path: Path) -> None:
    """As RHEL 8 on s390x writes it: db5.3_load with the other byte order."""
    numbered = list(enumerate(rpms.headers, 1))
    data = bdb_database(tmp_path, numbered, byte_order=4321).read_bytes()
    assert data[12:16] == b"\x00\x06\x15\x61"
    assert sorted(bdb_hash_values(data)) == sorted(rpms.headers)


def test_ndb_with_several_slot_pages(rpms: RpmFixtures) -> None:
    data = ndb_database(rpms.headers, slot_pages=3)
    assert ndb_blobs(data) == list(rpms.headers)


def test_sqlite_database_in_wal_mode_is_read_from_memory(rpms: RpmFixtures) -> None:
    data = database(rpms, "sqlite")
    assert data[18:20] == b"\x02\x02"  # rpm keeps it in WAL mode
    assert sqlite_headers(data) == list(rpms.headers)


def test_paths_of_rpm_databases() -> None:
    for directory in ("var/lib/rpm", "usr/lib/sysimage/rpm"):
        for name in ("rpmdb.sqlite", "Packages", "Packages.db"):
            assert classify(f"{directory}/{name}") == "rpm"
        assert classify(f"{directory}/rpmdb.sqlite-wal") == "rpm-wal"
        for other in ("rpmdb.sqlite-shm", "Name", "Index.db", ".rpm.lock", "__db.001"):
            assert classify(f"{directory}/{other}") is None
    assert classify("srv/backup/var/lib/rpm/Packages") is None


def test_a_wal_file_with_changes_makes_the_scan_partial() -> None:
    path = "var/lib/rpm/rpmdb.sqlite-wal"
    assert parse_file("rpm-wal", path, b"") == PackageFile("rpm", ())
    found = parse_file("rpm-wal", path, b"\x37\x7f\x06\x82" + bytes(4000))
    assert isinstance(found, Unreadable)
    assert found.reason.startswith(f"{path} holds 4,004 bytes of changes")
    assert "var/lib/rpm/rpmdb.sqlite:" in found.reason


def test_a_damaged_database_is_unreadable_with_the_reason(rpms: RpmFixtures) -> None:
    data = database(rpms, "sqlite")
    found = parse_file("rpm", "var/lib/rpm/rpmdb.sqlite", data[: len(data) // 2])
    assert isinstance(found, Unreadable)
    assert found.reason.startswith("var/lib/rpm/rpmdb.sqlite could not be parsed: ")
    for junk in (b"", b"\x00" * 8192, b"not a database at all"):
        assert isinstance(parse_file("rpm", "var/lib/rpm/Packages", junk), Unreadable)


def _u32(data: bytearray, offset: int, value: int) -> None:
    struct.pack_into("<I", data, offset, value)


def _overflow_pages(data: bytes | bytearray) -> list[int]:
    return [page for page in range(len(data) // 4096) if data[page * 4096 + 25] == 7]


def test_berkeley_db_overflow_chain_that_loops_is_refused(rpms: RpmFixtures) -> None:
    data = bytearray(database(rpms, "bdb"))
    chained = [p for p in _overflow_pages(data) if struct.unpack_from("<I", data, p * 4096 + 16)[0]]
    _u32(data, chained[0] * 4096 + 16, chained[0])  # next page: itself
    with pytest.raises(ValueError, match="overflow chain holds"):
        bdb_hash_values(bytes(data))


def test_berkeley_db_damage_is_refused(rpms: RpmFixtures) -> None:
    original = database(rpms, "bdb")
    hash_page = next(p for p in range(1, len(original) // 4096) if original[p * 4096 + 25] == 13)
    too_many = bytearray(original)
    struct.pack_into("<H", too_many, hash_page * 4096 + 20, 4000)
    misplaced = bytearray(original)
    struct.pack_into("<H", misplaced, hash_page * 4096 + 26, 5000)
    wrong_page = bytearray(original)
    overflow = _overflow_pages(original)[0]
    wrong_page[overflow * 4096 + 25] = 13
    for damaged in (too_many, misplaced, wrong_page, original[:8192]):
        with pytest.raises(ValueError):
            parse_rpm_database(bytes(damaged))


def test_ndb_damage_is_refused(rpms: RpmFixtures) -> None:
    original = ndb_database(rpms.headers)
    checksum = bytearray(original)
    checksum[-20] ^= 0xFF  # inside the last header
    outside = bytearray(original)
    _u32(outside, 32 + 8, len(original))  # first slot's block offset past the end
    shared = bytearray(original)
    for slot in range(len(rpms.headers)):  # every slot points at the first blob
        shared[32 + 16 * slot + 8 : 32 + 16 * slot + 16] = original[40:48]
    cases = {
        "fails its checksum": checksum,
        "points outside": outside,
        "has a damaged head": shared,
        "ndb file is shorter": original[:4000],
    }
    for message, damaged in cases.items():
        with pytest.raises(ValueError, match=message):
            ndb_blobs(bytes(damaged))


def test_ndb_slots_claiming_more_than_the_file_are_refused(rpms: RpmFixtures) -> None:
    one = ndb_database(rpms.headers[:1])
    data = bytearray(one)
    for slot in range(1, (4096 - 32) // 16):  # every free slot claims the first blob again
        data[32 + 16 * slot : 48 + 16 * slot] = one[32:48]
    with pytest.raises(ValueError, match="more blocks than the file has"):
        ndb_blobs(bytes(data))


def _header(entries: list[tuple[int, int, int, int]], store: bytes) -> bytes:
    index = b"".join(struct.pack(">iIiI", *entry) for entry in entries)
    return struct.pack(">II", len(entries), len(store)) + index + store


def test_damaged_headers_are_refused() -> None:
    nevr = [(1000, 6, 0, 1), (1001, 6, 2, 1), (1002, 6, 4, 1)]
    store = b"a\x001\x001\x00"
    assert parse_header(_header(nevr, store)).evr == "1-1"
    # one file: basename "f" at 6, dirname "/d/" at 8, its directory index at 12
    files = [(1117, 8, 6, 1), (1118, 8, 8, 1), (1116, 4, 12, 1)]
    with_files = store + b"f\x00/d/\x00"
    assert parse_header(_header(nevr + files, with_files + bytes(4))).files == ("d/f",)
    cases = {
        "preamble": b"\x00\x00",
        "claims": struct.pack(">II", 0x10000, 0),
        "truncated": _header(nevr, store)[:-1],
        "outside the data store": _header([*nevr[:2], (1002, 6, 99, 1)], store),
        "not terminated": _header(nevr, store[:-1] + b"x"),
        "has type": _header([*nevr[:2], (1002, 4, 4, 1)], store),
        "without a name": _header(nevr[1:], store),
        "string array 1117 is truncated": _header([*nevr, (1117, 8, 6, 5)], with_files),
        "integer array 1116 is truncated": _header(nevr + files, with_files + bytes(3)),
        "points a file at a directory": _header(nevr + files, with_files + struct.pack(">I", 7)),
        "different number": _header(
            [*nevr, files[0], files[1], (1116, 4, 12, 2)], with_files + bytes(8)
        ),
    }
    for message, blob in cases.items():
        with pytest.raises(ValueError, match=message):
            parse_header(blob)


Mutation = Callable[[random.Random, bytearray], None]


def _flip(rng: random.Random, data: bytearray) -> None:
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)


def _truncate(rng: random.Random, data: bytearray) -> None:
    del data[rng.randrange(len(data)) :]


@pytest.mark.parametrize("form", FORMATS)
def test_random_damage_never_escapes_as_anything_but_value_error(
    rpms: RpmFixtures, form: str
) -> None:
    """Every damaged copy either still reads (a byte that did not matter) or is refused."""
    rng = random.Random(f"rpm-{form}")
    original = database(rpms, form)
    refused = 0
    for attempt in range(120):
        data = bytearray(original)
        (_flip if attempt % 3 else _truncate)(rng, data)
        try:
            records, _ = parse_rpm_database(bytes(data))
        except ValueError:
            refused += 1
        else:
            assert all(r.name for r in records)
    assert refused > 0


def test_rpm_reads_the_berkeley_db_fixture_like_the_sqlite_one(rpms: RpmFixtures) -> None:
    """The Berkeley DB copy is one rpm itself accepts (its bdb_ro backend)."""
    assert rpm_query(rpms.bdb.parent, backend="bdb_ro") == rpms.listed
