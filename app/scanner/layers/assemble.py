"""Layers stacked in order, whiteouts applied: the image's final inventory."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator, Sequence

from app.scanner.layers.findings import (
    Directory,
    FileFinding,
    LayerFindings,
    OsRelease,
    PackageFile,
    PackageRecord,
    Symlink,
    Unreadable,
)
from app.scanner.layers.paths import OS_RELEASE_PATHS
from app.scanner.model import InstalledPackage, Inventory, OperatingSystem

# path → (what is there, index of the layer that wrote it)
_View = dict[str, tuple[FileFinding, int]]
# what "the same package" means across layers: see _identity
_Identity = tuple[str, ...]

_MAX_SYMLINK_HOPS = 16
_OS_KINDS = ("dpkg", "apk")


def assemble(layers: Sequence[LayerFindings]) -> Inventory:
    """Apply `layers` in order (index 0 is the base) and list what the final view holds.

    A package's `layer` is the first layer from which it stayed present without a break up to
    the final view: for dpkg/apk the first database that listed that name, version and arch;
    for Python and npm the first layer that wrote that metadata file with that version.
    """
    view: _View = {}
    since: dict[_Identity, int] = {}
    for index, layer in enumerate(layers):
        _apply_layer(view, layer, index)
        since = {identity: since.get(identity, index) for identity, _, _ in _records(view)}
    packages: list[InstalledPackage] = []
    seen: set[_Identity] = set()
    for identity, path, record in _records(view):
        if identity in seen:
            continue  # e.g. one dpkg package listed in both status and status.d
        seen.add(identity)
        packages.append(
            InstalledPackage(
                kind=record.kind,
                name=record.name,
                version=record.version,
                source_name=record.source_name,
                layer=since[identity],
                location=path,
                license=record.license,
                source_version=record.source_version,
            )
        )
    os, notes = _operating_system(view)
    unreadable = _unreadable(view)
    notes += unreadable + _package_notes(os, packages)
    for layer in layers:
        notes += layer.notes
    return Inventory(os=os, packages=packages, notes=notes, unreadable=unreadable)


def _apply_layer(view: _View, layer: LayerFindings, index: int) -> None:
    """Remove what the layer hides of lower layers, then add its own files."""
    removed_paths = list(layer.whiteouts)
    removed_trees = [*layer.whiteouts, *layer.opaque_dirs]
    # a file, symlink or the like replaces a lower directory of the same name with its contents
    removed_trees += [path for path, kept in layer.files.items() if not isinstance(kept, Directory)]
    if "" in layer.opaque_dirs:
        view.clear()
    elif view and (removed_paths or removed_trees):
        lower = sorted(view)
        for path in removed_paths:
            view.pop(path, None)
        for tree in removed_trees:
            prefix = tree + "/"
            start = bisect.bisect_left(lower, prefix)
            for path in lower[start:]:
                if not path.startswith(prefix):
                    break
                view.pop(path, None)
    for path, found in layer.files.items():
        view[path] = (found, index)


def _records(view: _View) -> Iterator[tuple[_Identity, str, PackageRecord]]:
    """Every package record in the view, in path order."""
    for path in sorted(view):
        found = view[path][0]
        if isinstance(found, PackageFile):
            for record in found.records:
                yield _identity(record, path), path, record


def _identity(record: PackageRecord, path: str) -> _Identity:
    # OS databases are rewritten whole by every layer touching them: the package is what counts;
    # a language package's metadata file belongs to it alone, so its path is part of it
    if record.kind in _OS_KINDS:
        return (record.kind, record.name, record.version, record.arch)
    return (record.kind, path, record.name, record.version)


def _operating_system(view: _View) -> tuple[OperatingSystem | None, list[str]]:
    """etc/os-release, symlinks followed within the view, else usr/lib/os-release."""
    problems: list[str] = []
    for path in OS_RELEASE_PATHS:
        resolved, found = _follow(view, path)
        if isinstance(found, OsRelease):
            return found.os, []
        if isinstance(found, Unreadable):
            problems.append(found.reason)
        elif found is None and resolved != path and resolved not in OS_RELEASE_PATHS:
            problems.append(f"{path} links to {resolved}, which was not read")
    if not problems:
        problems.append("no os-release file")
    return None, [f"operating system could not be determined: {'; '.join(problems)}"]


def _follow(view: _View, path: str) -> tuple[str, FileFinding | None]:
    """The path a chain of symlinks ends at, and what is there (None: nothing known)."""
    for _ in range(_MAX_SYMLINK_HOPS):
        entry = view.get(path)
        if entry is None or not isinstance(entry[0], Symlink):
            return path, None if entry is None else entry[0]
        path = entry[0].target
    return path, None


def _unreadable(view: _View) -> list[str]:
    """Package data that was there but could not be read: the result is partial."""
    return [
        found.reason
        for path, (found, _) in sorted(view.items())
        if isinstance(found, Unreadable) and path not in OS_RELEASE_PATHS
    ]


def _package_notes(os: OperatingSystem | None, packages: list[InstalledPackage]) -> list[str]:
    notes: list[str] = []
    if os is None:
        counts = Counter(package.kind for package in packages if package.kind in _OS_KINDS)
        for kind, count in sorted(counts.items()):
            notes.append(
                f"{count} {kind} packages were found but the operating system is unknown,"
                " so they cannot be matched against distribution advisories"
            )
    return notes
