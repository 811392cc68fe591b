"""Tar member names as image paths, and which paths hold something worth reading."""

from __future__ import annotations

import posixpath
from typing import Literal

from app.scanner.layers.findings import FileKind

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")
_DPKG_STATUS = "var/lib/dpkg/status"
_DPKG_STATUS_DIR = "var/lib/dpkg/status.d"
# dpkg's list of each installed package's files: info/<package>[:<arch>].list
_DPKG_INFO_DIR = "var/lib/dpkg/info"
# usr-merged Alpine keeps the database under usr/, with lib/apk a symlink to it
_APK_INSTALLED = ("lib/apk/db/installed", "usr/lib/apk/db/installed")
# RPM's database: rpmdb.sqlite (RHEL 9, Fedora), Berkeley DB Packages (RHEL 8, CentOS 7) or ndb
# Packages.db (SUSE); newer systems keep it under usr/ with var/lib/rpm a symlink to it
_RPM_DIRS = ("var/lib/rpm", "usr/lib/sysimage/rpm")
_RPM_DATABASES = frozenset({"rpmdb.sqlite", "Packages", "Packages.db"})
_RPM_SQLITE_WAL = "rpmdb.sqlite-wal"

# Java archives, read by extension wherever they are (nested ones too)
_JAVA_ARCHIVE_SUFFIXES = (".jar", ".war", ".ear")

_WHITEOUT_PREFIX = ".wh."
_OPAQUE_MARKER = ".wh..wh..opq"


def normalize_path(name: str) -> str:
    """`./usr/lib/` → `usr/lib`; the root is ``""``."""
    path = posixpath.normpath("/" + name.lstrip("/"))
    return path.lstrip("/")


def link_target(path: str, linkname: str) -> str:
    """Where a symlink at `path` points, resolved lexically against the image root."""
    return normalize_path(posixpath.join(posixpath.dirname(path), linkname))


def whiteout(path: str) -> tuple[Literal["path", "opaque"], str] | None:
    """What a whiteout marker removes: ("path", removed) or ("opaque", dir); None otherwise."""
    parent, _, name = path.rpartition("/")
    if name == _OPAQUE_MARKER:
        return "opaque", parent
    if not name.startswith(_WHITEOUT_PREFIX):
        return None
    if name.startswith(_WHITEOUT_PREFIX * 2):
        return None  # other AUFS bookkeeping (.wh..wh.plnk and the like): not a removal
    removed = name[len(_WHITEOUT_PREFIX) :]
    return "path", f"{parent}/{removed}" if parent else removed


def classify(path: str) -> FileKind | None:
    """The parser for a normalized path, or None when its content is of no interest."""
    if path in OS_RELEASE_PATHS:
        return "os-release"
    if path == _DPKG_STATUS:
        return "dpkg"
    if path in _APK_INSTALLED:
        return "apk"
    parent, _, name = path.rpartition("/")
    if parent in _RPM_DIRS:
        if name in _RPM_DATABASES:
            return "rpm"
        return "rpm-wal" if name == _RPM_SQLITE_WAL else None
    if parent == _DPKG_INFO_DIR:
        return "dpkg-files" if name.endswith(".list") else None
    if parent == _DPKG_STATUS_DIR:
        # distroless keeps one stanza file per package, next to its .md5sums (its file list)
        if name.startswith("."):
            return None
        return "dpkg-files" if name.endswith(".md5sums") else "dpkg"
    if name == "METADATA" and parent.endswith(".dist-info"):
        return "python"
    if name == "PKG-INFO" and parent.endswith(".egg-info"):
        return "python"
    if name.endswith(".egg-info"):
        return "python"  # a bare egg-info file is itself in PKG-INFO format
    if name == "package.json" and _is_npm_package_dir(parent):
        return "npm"
    if is_java_archive(name):
        return "java"
    return None


def is_java_archive(name: str) -> bool:
    return name.lower().endswith(_JAVA_ARCHIVE_SUFFIXES)


def _is_npm_package_dir(path: str) -> bool:
    """`…/node_modules/<name>` or `…/node_modules/@scope/<name>`."""
    parts = path.split("/")
    name = parts[-1]
    if not name or name.startswith((".", "@")) or name == "node_modules":
        return False
    if len(parts) >= 2 and parts[-2] == "node_modules":
        return True
    return len(parts) >= 3 and parts[-3] == "node_modules" and parts[-2].startswith("@")
