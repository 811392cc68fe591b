"""Parsers for the files a layer is read for; each turns bytes into findings."""

from __future__ import annotations

from app.scanner.layers.findings import FileFinding, FileKind, OsRelease, PackageFile, Unreadable
from app.scanner.layers.parsers.apk import parse_apk_installed
from app.scanner.layers.parsers.dpkg import parse_dpkg_file_list, parse_dpkg_status
from app.scanner.layers.parsers.npm import parse_package_json
from app.scanner.layers.parsers.os_release import parse_os_release
from app.scanner.layers.parsers.python_metadata import (
    normalize_python_name,
    parse_python_metadata,
)
from app.scanner.layers.parsers.rpm import parse_rpm_database, unapplied_wal

__all__ = ["normalize_python_name", "parse_file"]


def parse_file(kind: FileKind, path: str, data: bytes) -> FileFinding:
    """Parse one interesting file; a file that does not parse becomes Unreadable with a reason."""
    try:
        if kind == "os-release":
            return OsRelease(parse_os_release(_text(data)))
        if kind == "npm":
            return PackageFile("npm", parse_package_json(data))
        if kind == "dpkg":
            return PackageFile("dpkg", parse_dpkg_status(_text(data)))
        if kind == "dpkg-files":
            owned = parse_dpkg_file_list(_text(data), md5sums=path.endswith(".md5sums"))
            return PackageFile("dpkg", (), owned=owned)
        if kind == "apk":
            records, owned = parse_apk_installed(_text(data))
            return PackageFile("apk", records, owned=owned)
        if kind == "rpm":
            records, owned = parse_rpm_database(data)
            return PackageFile("rpm", records, owned=owned)
        if kind == "rpm-wal":
            problem = unapplied_wal(path, data)
            return Unreadable(kind, problem) if problem else PackageFile("rpm", ())
        return PackageFile("python", parse_python_metadata(_text(data)))
    except ValueError as exc:
        return Unreadable(kind, f"{path} could not be parsed: {exc}")


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
