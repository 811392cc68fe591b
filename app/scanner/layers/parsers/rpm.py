"""RPM package databases: which of the three formats a file is, and its packages and files."""

from __future__ import annotations

from app.scanner.layers.findings import PackageRecord
from app.scanner.layers.parsers.rpm_header import RpmHeader, parse_header
from app.scanner.layers.parsers.rpmdb_bdb import bdb_hash_values, is_bdb_hash
from app.scanner.layers.parsers.rpmdb_ndb import NDB_MAGIC, ndb_blobs
from app.scanner.layers.parsers.rpmdb_sqlite import SQLITE_MAGIC, sqlite_headers

# `rpm --import` stores each trusted signing key as a header named gpg-pubkey: not software
_KEY_PSEUDO_PACKAGE = "gpg-pubkey"


def parse_rpm_database(data: bytes) -> tuple[tuple[PackageRecord, ...], frozenset[str]]:
    """The installed packages (as `rpm -qa` lists them, without gpg-pubkey) and every file
    they installed. The format is told by content: SQLite (`rpmdb.sqlite`), Berkeley DB hash
    (`Packages`) or ndb (`Packages.db`). Raises ValueError when one header is damaged: rpm
    itself would not list that database's packages reliably either."""
    if not data:
        raise ValueError("the file is empty")
    if data.startswith(SQLITE_MAGIC):
        blobs = sqlite_headers(data)
    elif data.startswith(NDB_MAGIC):
        blobs = ndb_blobs(data)
    elif is_bdb_hash(data):
        blobs = bdb_hash_values(data)
    else:
        raise ValueError("not an RPM database (SQLite, Berkeley DB hash or ndb)")
    records: list[PackageRecord] = []
    owned: set[str] = set()
    for number, blob in enumerate(blobs, 1):
        try:
            header = parse_header(blob)
        except ValueError as exc:
            raise ValueError(f"header {number} of {len(blobs)}: {exc}") from None
        if header.name == _KEY_PSEUDO_PACKAGE:
            continue
        records.append(_record(header))
        owned.update(header.files)
    owned.discard("")
    return tuple(records), frozenset(owned)


def unapplied_wal(path: str, data: bytes) -> str:
    """Why an `rpmdb.sqlite-wal` file matters; "" for the empty one rpm leaves after a clean
    close. Transactions in it are not in `rpmdb.sqlite` yet, and only `rpmdb.sqlite` is read."""
    if not data:
        return ""
    database = path.removesuffix("-wal")
    return (
        f"{path} holds {len(data):,} bytes of changes that rpm had not yet written to"
        f" {database}: packages they install, update or remove are not seen"
    )


def _record(header: RpmHeader) -> PackageRecord:
    source_name, source_version = _source(header)
    return PackageRecord(
        kind="rpm",
        name=header.name,
        version=header.evr,
        source_name=source_name,
        source_version=source_version,
        license=header.license,
        arch=header.arch,
    )


def _source(header: RpmHeader) -> tuple[str, str]:
    """(name, version) of the source package from `openssl-3.0.7-16.el9.src.rpm`.

    The version is "" when it is the binary package's own (nearly always): advisories are
    then compared with the binary's `epoch:version-release`, as SOURCERPM carries no epoch.
    A subpackage versioned apart from its source gets the source's version-release under the
    binary's epoch.
    """
    stem = header.source_rpm.removesuffix(".rpm").rpartition(".")[0]  # drop ".src"/".nosrc"
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return header.name, ""
    name, version_release = parts[0], f"{parts[1]}-{parts[2]}"
    if version_release == f"{header.version}-{header.release}":
        return name, ""
    return name, f"{header.epoch}:{version_release}" if header.epoch else version_release
