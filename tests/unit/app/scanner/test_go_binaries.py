"""Go executables in layers: build information read from a real binary as the tar stream passes,
replacements, the toolchain as `stdlib`, old formats and the byte bound said, ownership."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from app.scanner.layers import LayerLimits, assemble
from app.scanner.layers.findings import LayerFindings, PackageFile, Unreadable
from app.scanner.layers.limits import MiB
from app.scanner.layers.parsers.go_buildinfo import go_toolchain_semver, read_go_binary
from app.scanner.layers.tar_scan import scan_layer
from app.scanner.model import InstalledPackage
from tests.support.go_build import MODULES, GoBinary
from tests.support.oci.tarballs import DIGEST

APP = "usr/local/bin/app"
_MAGIC = b"\xff Go buildinf:"

# (path, data, mode) for a file; (path, None, target) for a hard link
Member = tuple[str, bytes | None, int | str]


def layer_tar(*members: Member) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data, mode_or_target in members:
            info = tarfile.TarInfo(path)
            if data is None:
                info.type, info.linkname, info.mode = tarfile.LNKTYPE, str(mode_or_target), 0o755
                archive.addfile(info)
            else:
                info.size, info.mode = len(data), int(mode_or_target)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def scan(*members: Member, limits: LayerLimits | None = None) -> LayerFindings:
    data = layer_tar(*members)
    pieces = iter([data[start : start + 65536] for start in range(0, len(data), 65536)] + [b""])
    return scan_layer(
        lambda: next(pieces), declared="none", digest=DIGEST, limits=limits or LayerLimits()
    )


def go_packages(*layers: LayerFindings) -> list[InstalledPackage]:
    return [p for p in assemble(list(layers)).packages if p.kind == "go"]


def test_a_real_binary_lists_its_toolchain_main_module_and_dependencies(
    go_binary: GoBinary,
) -> None:
    found = go_packages(scan((APP, go_binary.data, 0o755)))
    assert [(p.name, p.version) for p in found] == [("stdlib", go_binary.toolchain), *MODULES]
    assert {p.location for p in found} == {APP}
    assert {p.source for p in found} == {"GO"}
    # what advisories are matched with: OSV's Go versions carry no "v"
    by_name = {p.name: p for p in found}
    assert by_name["example.com/lib"].source_version == "1.2.3"
    assert by_name["stdlib"].source_version == go_toolchain_semver(go_binary.toolchain)
    assert by_name["stdlib"].source_version[0].isdigit()


def test_the_build_information_is_found_whatever_the_read_pieces(go_binary: GoBinary) -> None:
    # pieces of 7 bytes split the 14-byte magic and the strings after it everywhere
    stream = io.BytesIO(go_binary.data)
    found = read_go_binary(
        lambda n: stream.read(min(n, 7)), APP, len(go_binary.data), LayerLimits()
    )
    assert isinstance(found, PackageFile)
    assert [r.name for r in found.records] == ["stdlib"] + [m for m, _ in MODULES]


def test_the_go_command_itself_is_read_past_its_copy_of_the_magic() -> None:
    # cmd/go holds the magic bytes twice: its build information and a string constant of
    # debug/buildinfo; the constant is not a valid header
    go = shutil.which("go")
    assert go is not None
    data = Path(go).resolve().read_bytes()
    assert data.count(_MAGIC) >= 2
    found = read_go_binary(io.BytesIO(data).read, "usr/bin/go", len(data), LayerLimits())
    assert isinstance(found, PackageFile)
    assert [r.name for r in found.records][0] == "stdlib"


def test_a_binary_of_the_old_pointer_format_is_unreadable_not_silent(go_binary: GoBinary) -> None:
    at = go_binary.data.index(_MAGIC)
    flags = at + len(_MAGIC) + 1
    old = go_binary.data[:flags] + b"\x00" + go_binary.data[flags + 1 :]  # strings not inline
    found = scan((APP, old, 0o755)).files[APP]
    assert isinstance(found, Unreadable)
    assert "older than 1.18" in found.reason
    inventory = assemble([scan((APP, old, 0o755))])
    assert inventory.unreadable == [found.reason]


def test_a_go_binary_past_the_byte_bound_is_said(go_binary: GoBinary) -> None:
    at = go_binary.data.index(_MAGIC)
    limits = LayerLimits(max_go_binary_bytes=at // 2)
    found = scan((APP, go_binary.data, 0o755), limits=limits).files[APP]
    assert isinstance(found, Unreadable)
    assert "max_go_binary_bytes" in found.reason
    # with the bound past the build information it is read
    limits = LayerLimits(max_go_binary_bytes=at + MiB)
    assert isinstance(scan((APP, go_binary.data, 0o755), limits=limits).files[APP], PackageFile)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("a shell script", lambda go: b"#!/bin/sh\nexec /usr/local/bin/app\n"),
        ("an ELF without Go build information", lambda go: Path("/bin/true").read_bytes()),
    ],
)
def test_other_executables_list_nothing(
    go_binary: GoBinary, name: str, make: Callable[[GoBinary], bytes]
) -> None:
    found = scan(("usr/bin/tool", make(go_binary), 0o755))
    assert go_packages(found) == []
    assert assemble([found]).notes == [
        "operating system could not be determined: no os-release file"
    ]


def test_only_executables_are_searched(go_binary: GoBinary) -> None:
    assert go_packages(scan(("srv/app.bin", go_binary.data, 0o644))) == []


def test_a_hard_link_to_a_binary_is_that_binary(go_binary: GoBinary) -> None:
    found = scan((APP, go_binary.data, 0o755), ("usr/bin/app", None, APP))
    locations = {p.location for p in go_packages(found)}
    assert locations == {APP, "usr/bin/app"}


def test_a_binary_replaced_by_a_script_in_a_later_layer_is_gone(go_binary: GoBinary) -> None:
    base = scan((APP, go_binary.data, 0o755))
    wrapper = scan((APP, b'#!/bin/sh\nexec /opt/app "$@"\n', 0o755))
    assert go_packages(base, wrapper) == []


def test_a_binary_an_os_package_installed_is_reported_as_that_package(go_binary: GoBinary) -> None:
    status = (
        b"Package: golang-app\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n"
    )
    found = scan(
        ("etc/os-release", b'ID=debian\nVERSION_ID="12"\n', 0o644),
        ("var/lib/dpkg/status", status, 0o644),
        ("var/lib/dpkg/info/golang-app.list", b"/.\n/usr\n/usr/bin\n/usr/bin/app\n", 0o644),
        ("usr/bin/app", go_binary.data, 0o755),
        (APP, go_binary.data, 0o755),
    )
    inventory = assemble([found])
    assert {p.location for p in inventory.packages if p.kind == "go"} == {APP}
    assert [p.name for p in inventory.packages if p.kind == "dpkg"] == ["golang-app"]
    assert any("go packages installed by OS packages" in note for note in inventory.notes)


@pytest.mark.parametrize(
    ("toolchain", "semver"),
    [
        ("go1.21.5", "1.21.5"),
        ("go1.20", "1.20.0"),
        ("go1.21rc2", "1.21.0-rc.2"),
        ("go1.18beta1", "1.18.0-beta.1"),
        ("devel go1.22-abcdef", ""),
    ],
)
def test_toolchain_versions_as_osv_writes_them(toolchain: str, semver: str) -> None:
    assert go_toolchain_semver(toolchain) == semver
