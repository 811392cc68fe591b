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
from app.scanner.layers.paths import OS_RELEASE_PATHS, classify
from app.scanner.model import OS_KINDS, InstalledPackage, Inventory, OperatingSystem

# path → (what is there, index of the layer that wrote it)
_View = dict[str, tuple[FileFinding, int]]
# what "the same package" means across layers: see _identity
_Identity = tuple[str, ...]

_MAX_SYMLINK_HOPS = 16
# Python metadata that names its package's directory (the metadata file's parent)
_PYTHON_METADATA_DIRS = (".dist-info", ".egg-info")
# where packages keep copies of others (setuptools, pkg_resources, bleach, pip)
_VENDOR_DIRS = frozenset({"_vendor", "_vendored"})


def assemble(layers: Sequence[LayerFindings]) -> Inventory:
    """Apply `layers` in order (index 0 is the base) and list what the final view holds.

    A package's `layer` is the first layer from which it stayed present without a break up to
    the final view: for OS packages the first database that listed that name, version and
    arch; for language packages the first layer that wrote that file with that version.

    Language packages are left out when an OS package installed them (their file is in an OS
    package's file list: the OS package is what gets matched), and Python distributions
    vendored inside another one (see `_vendored`); the notes count both.
    """
    view: _View = {}
    since: dict[_Identity, int] = {}
    for index, layer in enumerate(layers):
        _apply_layer(view, layer, index)
        since = {identity: since.get(identity, index) for identity, _, _ in _records(view)}
    owned = _owned_paths(view)
    roots = _python_install_roots(view)
    packages: list[InstalledPackage] = []
    seen: set[_Identity] = set()
    skipped: Counter[str] = Counter()
    for identity, path, record in _records(view):
        if identity in seen:
            continue  # e.g. one dpkg package listed in both status and status.d
        seen.add(identity)
        if record.kind not in OS_KINDS:
            if _installed_by_os(path, record.kind, owned):
                skipped[f"{record.kind} packages installed by OS packages"] += 1
                continue
            if record.kind == "python" and _vendored(path, roots):
                skipped["Python distributions vendored inside another one"] += 1
                continue
        packages.append(
            InstalledPackage(
                kind=record.kind,
                name=record.name,
                version=record.version,
                source_name=record.source_name,
                layer=since[identity],
                location=f"{path}!/{record.within}" if record.within else path,
                license=record.license,
                source_version=record.source_version,
                arch=record.arch,
            )
        )
    os, notes = _operating_system(view)
    unreadable = _unreadable(view)
    notes += unreadable + _package_notes(os, packages)
    notes += [f"{count} {what} are not reported as such" for what, count in sorted(skipped.items())]
    databases = _os_databases(view)
    if os is not None and not databases:
        notes.append("no OS package database found: OS packages cannot be listed")
    for layer in layers:
        notes += layer.notes
    return Inventory(
        os=os, packages=packages, notes=notes, unreadable=unreadable, os_databases=databases
    )


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
    if record.kind in OS_KINDS:
        return (record.kind, record.name, record.version, record.arch)
    return (record.kind, path, record.name, record.version)


def _owned_paths(view: _View) -> set[str]:
    """Every path an OS package database of the final view says a package installed."""
    owned: set[str] = set()
    for found, _ in view.values():
        if isinstance(found, PackageFile) and found.owned:
            owned |= found.owned
    return owned


def _installed_by_os(path: str, kind: str, owned: set[str]) -> bool:
    """Whether the file a language package was found in (or, for Python metadata, the
    `.dist-info`/`.egg-info` directory holding it) belongs to an OS package."""
    if path in owned:
        return True
    parent = path.rpartition("/")[0]
    return kind == "python" and parent.endswith(_PYTHON_METADATA_DIRS) and parent in owned


def _python_install_roots(view: _View) -> set[str]:
    """Directories holding Python metadata directly (site-packages and the like)."""
    roots: set[str] = set()
    for path, (found, _) in view.items():
        if isinstance(found, PackageFile) and found.kind == "python":
            parent = path.rpartition("/")[0]
            if parent.endswith(_PYTHON_METADATA_DIRS):
                parent = parent.rpartition("/")[0]
            roots.add(parent)
    return roots


def _vendored(path: str, roots: set[str]) -> bool:
    """Python metadata in a `_vendor`/`_vendored` directory below another install directory,
    as `site-packages/bleach/_vendor/html5lib-1.1.dist-info`: a copy shipped inside an
    installed package, not an installed distribution of its own."""
    parent = path.rpartition("/")[0]
    if parent.endswith(_PYTHON_METADATA_DIRS):
        parent = parent.rpartition("/")[0]
    between: list[str] = []
    while "/" in parent:
        parent, _, name = parent.rpartition("/")
        between.append(name)
        if parent in roots and _VENDOR_DIRS.intersection(between):
            return True
    return False


def _os_databases(view: _View) -> list[str]:
    """The OS package databases in the final view, read or not (file lists do not count)."""
    return sorted(
        path
        for path, (found, _) in view.items()
        if classify(path) in OS_KINDS and not isinstance(found, Directory | Symlink)
    )


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
        found.reason if isinstance(found, Unreadable) else found.partial
        for path, (found, _) in sorted(view.items())
        if (isinstance(found, Unreadable) and path not in OS_RELEASE_PATHS)
        or (isinstance(found, PackageFile) and found.partial)
    ]


def _package_notes(os: OperatingSystem | None, packages: list[InstalledPackage]) -> list[str]:
    notes: list[str] = []
    if os is None:
        counts = Counter(package.kind for package in packages if package.kind in OS_KINDS)
        for kind, count in sorted(counts.items()):
            notes.append(
                f"{count} {kind} packages were found but the operating system is unknown,"
                " so they cannot be matched against distribution advisories"
            )
    return notes
