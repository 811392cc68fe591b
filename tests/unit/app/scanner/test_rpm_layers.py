"""RPM databases in image layers (read by the real tar reader): packages and their layers,
Python packages that RPMs installed, the WAL file, a removed database. The databases are
rpm's own, made in the test run (tests/support/rpm_fixtures.py)."""

from __future__ import annotations

import pytest

from app.scanner.model import Inventory
from tests.support.oci.tarballs import Entry, file, whiteout
from tests.support.rpm_fixtures import (
    URLLIB3_EGG,
    URLLIB3_PKG_INFO,
    RpmFixtures,
    rpm_fixtures,
    sqlite_without,
)
from tests.unit.app.scanner.test_layers_assemble import inventory

ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3"\n'
DB = "var/lib/rpm/rpmdb.sqlite"
PIP_SITE = "usr/local/lib/python3.9/site-packages"


@pytest.fixture(scope="module")
def rpms() -> RpmFixtures:
    return rpm_fixtures()


def base(rpms: RpmFixtures, *extra: Entry) -> list[Entry]:
    return [
        file("etc/os-release", ROCKY),
        file(DB, rpms.sqlite.read_bytes()),
        file(f"{DB}-shm", bytes(32768)),
        file(f"{DB}-wal", b""),
        file(f"{URLLIB3_EGG}/PKG-INFO", URLLIB3_PKG_INFO),
        *extra,
    ]


def kinds(inv: Inventory) -> dict[str, str]:
    return {p.name: p.kind for p in inv.packages}


async def test_python_packages_installed_by_rpm_are_the_rpm_package(rpms: RpmFixtures) -> None:
    pip = file(
        f"{PIP_SITE}/urllib3-1.26.17.dist-info/METADATA", "Name: urllib3\nVersion: 1.26.17\n"
    )
    inv = await inventory(base(rpms), [pip])
    expected = {entry.name: "rpm" for entry in rpms.listed if entry.name != "gpg-pubkey"}
    assert kinds(inv) == {**expected, "urllib3": "python"}
    [pip_urllib3] = [p for p in inv.packages if p.kind == "python"]
    assert (pip_urllib3.version, pip_urllib3.layer) == ("1.26.17", 1)
    assert "1 python packages installed by OS packages are not reported as such" in inv.notes
    assert inv.os_databases == [DB]
    assert inv.unreadable == []
    openssl = next(p for p in inv.packages if p.name == "openssl-libs")
    assert (openssl.location, openssl.arch, openssl.source_name) == (DB, "x86_64", "openssl")


async def test_a_later_database_decides_and_unchanged_packages_keep_their_layer(
    rpms: RpmFixtures,
) -> None:
    inv = await inventory(base(rpms), [file(DB, sqlite_without("tzdata"))])
    layers = {p.name: p.layer for p in inv.packages}
    assert "tzdata" not in layers
    assert layers["bash"] == 0
    assert layers["openssl"] == 0


async def test_changes_left_in_the_wal_file_make_the_result_partial(rpms: RpmFixtures) -> None:
    inv = await inventory(base(rpms), [file(f"{DB}-wal", b"\x37\x7f\x06\x82" + bytes(60))])
    assert len(inv.unreadable) == 1
    assert inv.unreadable[0].startswith(f"{DB}-wal holds 64 bytes of changes")
    assert "bash" in kinds(inv)  # what rpmdb.sqlite holds is still listed
    assert inv.os_databases == [DB]


async def test_a_removed_database_is_noticed(rpms: RpmFixtures) -> None:
    inv = await inventory(base(rpms), [whiteout("var/lib/rpm")])
    assert inv.os_databases == []
    assert "no OS package database found: OS packages cannot be listed" in inv.notes
    # with the database gone nothing says RPM installed urllib3 any more
    assert kinds(inv) == {"urllib3": "python"}


async def test_berkeley_db_and_ndb_databases_in_layers(rpms: RpmFixtures) -> None:
    for path, data in (
        ("var/lib/rpm/Packages", rpms.bdb.read_bytes()),
        ("usr/lib/sysimage/rpm/Packages.db", rpms.ndb.read_bytes()),
    ):
        inv = await inventory([file("etc/os-release", ROCKY), file(path, data)])
        assert len(inv.packages) == len(rpms.listed) - 1, path
        assert inv.os_databases == [path]
        assert {p.location for p in inv.packages} == {path}
