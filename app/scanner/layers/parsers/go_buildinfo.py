"""Go: the build information the Go linker writes into every executable, found as it streams by.

Go 1.18 and later write a 32-byte header, `\\xff Go buildinf:`, pointer size, flags (bit 2:
strings inline), 16 zero bytes, aligned to 16 bytes in the `.go.buildinfo` section, followed by
two varint-length-prefixed strings: the toolchain version (`go1.21.5`) and the module
information (`path`, `mod`, `dep` and `=>` lines between two 16-byte sentinels). Older linkers
store pointers to the strings instead: reading them needs the ELF's address map, so such
binaries are reported unreadable rather than read.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.scanner.layers.findings import FileFinding, PackageFile, PackageRecord, Unreadable
from app.scanner.layers.limits import LayerLimits, MiB, format_size

ELF_MAGIC = b"\x7fELF"
_MAGIC = b"\xff Go buildinf:"
_HEADER_BYTES = 32
_ALIGN = 16
_FLAG_INLINE = 0x2
_READ_STEP = 1 * MiB
# the two strings together; real module information is a few KiB, a huge program's ~100 KiB
_MAX_STRINGS_BYTES = 4 * MiB
_SENTINEL_BYTES = 16
# the ELF note `Go\0\0` of type 4 (the Go build ID) that the Go linker puts in the first page
_BUILD_ID_NOTE = re.compile(rb"\x04\x00\x00\x00.{4}\x04\x00\x00\x00Go\x00\x00", re.DOTALL)
_TOOLCHAIN = re.compile(r"go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(beta|rc)(\d+))?")
NOT_GO = PackageFile("go", ())


class _NeedMore(Exception):
    """The candidate header's strings run past the bytes read so far."""


def read_go_binary(
    read: Callable[[int], bytes], path: str, size: int, limits: LayerLimits
) -> FileFinding:
    """The Go modules an executable was built from, searching its bytes as `read` yields them.

    `read(n)` returns up to n bytes, b"" at the end. Not an ELF file, or an ELF without Go build
    information: an empty PackageFile (it still replaces what a lower layer had at its path).
    """
    budget = limits.max_go_binary_bytes
    head = read(min(_READ_STEP, budget))
    if not head.startswith(ELF_MAGIC):
        return NOT_GO
    search = _Search(head, read, budget)
    found = search.run()
    if isinstance(found, tuple):
        return PackageFile("go", go_records(*found))
    if found == "pointers":
        return Unreadable(
            "go",
            f"{path} was built by a Go toolchain older than 1.18: its build information"
            " (stored as pointers) is not read",
        )
    if size > budget and _BUILD_ID_NOTE.search(head, 0, 64 * 1024):
        return Unreadable(
            "go",
            f"{path} is a Go binary of {format_size(size)}: only its first"
            f" {format_size(budget)} were searched for build information (max_go_binary_bytes)",
        )
    return NOT_GO


class _Search:
    """Walks the file's bytes once, keeping only the piece being searched (plus what a header
    found at its end needs)."""

    def __init__(self, head: bytes, read: Callable[[int], bytes], budget: int) -> None:
        self._buffer = head
        self._base = 0  # file offset of _buffer[0]
        self._read = read
        self._budget = budget
        self._ended = False

    def run(self) -> tuple[str, str] | str | None:
        """(version, module information), "pointers" (only a pre-1.18 header), or None."""
        pointers_seen = False
        start = 0
        while True:
            index = self._buffer.find(_MAGIC, start)
            if index < 0:
                if not self._more(keep_from=max(len(self._buffer) - len(_MAGIC) + 1, 0)):
                    return "pointers" if pointers_seen else None
                start = 0
                continue
            start = index + 1
            if (self._base + index) % _ALIGN:
                continue
            try:
                verdict = _header_at(self._buffer, index)
            except _NeedMore:
                if self._more(keep_from=index):
                    start = 0
                    continue
                return "pointers" if pointers_seen else None
            if verdict == "pointers":
                pointers_seen = True  # the bytes may be a string constant: look further
            elif verdict is not None:
                return verdict

    def _more(self, *, keep_from: int) -> bool:
        """Drop the buffer before `keep_from` and read the next piece; False at the end."""
        if self._ended or self._base + len(self._buffer) >= self._budget:
            return False
        piece = self._read(min(_READ_STEP, self._budget - self._base - len(self._buffer)))
        if not piece:
            self._ended = True
            return False
        self._base += keep_from
        self._buffer = self._buffer[keep_from:] + piece
        return True


def _header_at(data: bytes, index: int) -> tuple[str, str] | str | None:
    """The strings after a header at `index`; "pointers" for the old format; None: not one."""
    header = data[index : index + _HEADER_BYTES]
    if len(header) < _HEADER_BYTES:
        raise _NeedMore
    pointer_size, flags = header[len(_MAGIC)], header[len(_MAGIC) + 1]
    if pointer_size not in (4, 8) or flags & ~0x3:
        return None
    if not flags & _FLAG_INLINE:
        return "pointers"
    if any(header[16:]):
        return None
    try:
        version, offset = _string_at(data, index + _HEADER_BYTES, index)
        modinfo, _ = _string_at(data, offset, index)
    except ValueError:
        return None
    if not version.startswith(("go", "devel")):
        return None
    return version, modinfo


def _string_at(data: bytes, offset: int, header: int) -> tuple[str, int]:
    length, shift = 0, 0
    while True:
        if offset >= len(data):
            raise _NeedMore
        byte = data[offset]
        offset += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 35:
            raise ValueError("varint too long")
    if offset + length - header > _MAX_STRINGS_BYTES:
        raise ValueError("build information strings too long")
    if offset + length > len(data):
        raise _NeedMore
    return data[offset : offset + length].decode("utf-8", errors="replace"), offset + length


def go_records(version: str, modinfo: str) -> tuple[PackageRecord, ...]:
    """`stdlib` at the toolchain's version, the main module, and every dependency.

    A dependency replaced by another module (`=>` with a version) is that module at its version:
    it is the code compiled in, and advisories are filed under its path. One replaced by a local
    directory (`=> ./dir`) keeps its path with version `(devel)`: its code has no version.
    """
    toolchain = version.split()[0] if version.split() else version
    records = [
        PackageRecord(
            kind="go",
            name="stdlib",
            version=toolchain,
            source_name="stdlib",
            source_version=go_toolchain_semver(toolchain),
        )
    ]
    for path, module_version in _modules(_strip_sentinels(modinfo)):
        records.append(
            PackageRecord(
                kind="go",
                name=path,
                version=module_version,
                source_name=path,
                source_version=module_version.removeprefix("v"),
            )
        )
    return tuple(records)


def go_toolchain_semver(version: str) -> str:
    """`go1.21.5` → `1.21.5`, `go1.20` → `1.20.0`, `go1.21rc2` → `1.21.0-rc.2` (OSV's `stdlib`
    versions); "" for a development build."""
    found = _TOOLCHAIN.fullmatch(version)
    if found is None:
        return ""
    major, minor, patch, pre, number = found.groups()
    semver = f"{major}.{minor or 0}.{patch or 0}"
    return f"{semver}-{pre}.{number}" if pre else semver


def _strip_sentinels(modinfo: str) -> str:
    # the Go runtime's own rule: 16 bytes each side, the text ending in a newline
    if len(modinfo) >= 2 * _SENTINEL_BYTES + 1 and modinfo[-_SENTINEL_BYTES - 1] == "\n":
        return modinfo[_SENTINEL_BYTES:-_SENTINEL_BYTES]
    return ""


def _modules(text: str) -> list[tuple[str, str]]:
    """(path, version) of the main module and each dependency, replacements applied."""
    modules: list[tuple[str, str]] = []
    for line in text.splitlines():
        fields = line.split("\t")
        if fields[0] in ("mod", "dep") and len(fields) >= 3 and fields[1]:
            modules.append((fields[1], fields[2] or "(devel)"))
        elif fields[0] == "=>" and len(fields) >= 2 and modules:
            replaced_path = modules[-1][0]
            replacement_version = fields[2] if len(fields) >= 3 else ""
            if replacement_version and replacement_version != "(devel)":
                modules[-1] = (fields[1], replacement_version)
            else:
                modules[-1] = (replaced_path, "(devel)")
    return modules
