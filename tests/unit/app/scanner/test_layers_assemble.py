"""assemble: layers stacked in order, whiteouts applied, each package traced to its layer."""

from __future__ import annotations

import json

from app.scanner.layers import LayerFindings, assemble, read_layer
from app.scanner.model import InstalledPackage, Inventory, OperatingSystem
from tests.support.oci.tarballs import (
    DIGEST,
    OCI_GZIP,
    Entry,
    chunked,
    directory,
    file,
    gzip_bytes,
    opaque,
    symlink,
    tar_bytes,
    whiteout,
)

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
ALPINE = "ID=alpine\nVERSION_ID=3.19.1\n"
STATUS = "var/lib/dpkg/status"
SITE = "usr/lib/python3/dist-packages"


def dpkg(*packages: tuple[str, str]) -> Entry:
    stanzas = [
        f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n"
        for name, version in packages
    ]
    return file(STATUS, "\n".join(stanzas))


def dist_info(name: str, version: str) -> Entry:
    return file(
        f"{SITE}/{name}-{version}.dist-info/METADATA", f"Name: {name}\nVersion: {version}\n"
    )


def npm(path: str, name: str, version: str) -> Entry:
    return file(f"{path}/package.json", json.dumps({"name": name, "version": version}))


async def layer(*entries: Entry) -> LayerFindings:
    blob = gzip_bytes(tar_bytes(entries))
    return await read_layer(chunked(blob, 1000), media_type=OCI_GZIP, digest=DIGEST)


async def inventory(*layers: list[Entry]) -> Inventory:
    return assemble([await layer(*entries) for entries in layers])


def found(inv: Inventory) -> dict[str, tuple[str, int]]:
    return {p.name: (p.version, p.layer) for p in inv.packages}


async def test_dpkg_status_rewritten_in_later_layers() -> None:
    inv = await inventory(
        [file("etc/os-release", DEBIAN), dpkg(("a", "1"), ("b", "1"), ("c", "1"))],
        [file("usr/bin/tool", "#!/bin/sh\n")],  # leaves the database alone
        [dpkg(("a", "1"), ("c", "2"), ("d", "1"))],  # b removed, c upgraded, d added
    )
    assert found(inv) == {"a": ("1", 0), "c": ("2", 2), "d": ("1", 2)}
    assert inv.os == OperatingSystem("debian", "12", "Debian GNU/Linux 12 (bookworm)")
    assert inv.notes == []
    assert inv.packages[0] == InstalledPackage(
        kind="dpkg",
        name="a",
        version="1",
        source_name="a",
        layer=0,
        location=STATUS,
        arch="amd64",
    )


async def test_a_package_removed_then_installed_again_counts_from_its_return() -> None:
    inv = await inventory(
        [file("etc/os-release", DEBIAN), dpkg(("a", "1"), ("b", "1"))],
        [dpkg(("b", "1"))],
        [dpkg(("a", "1"), ("b", "1"))],
    )
    assert found(inv) == {"a": ("1", 2), "b": ("1", 0)}


async def test_status_and_status_d_are_merged_without_duplicates() -> None:
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            file("var/lib/dpkg/status.d/base-files", "Package: base-files\nVersion: 12.4\n"),
            file("var/lib/dpkg/status.d/libssl3", "Package: libssl3\nArchitecture: amd64\n"
                 "Source: openssl\nVersion: 3.0.11-1~deb12u2\n"),
        ],
        [dpkg(("libssl3", "3.0.11-1~deb12u2"), ("tzdata", "2024a"))],
    )  # fmt: skip
    assert found(inv) == {
        "base-files": ("12.4", 0),
        "libssl3": ("3.0.11-1~deb12u2", 0),
        "tzdata": ("2024a", 1),
    }
    # the first location in path order is kept
    assert {p.name: p.location for p in inv.packages}["libssl3"] == STATUS


async def test_whited_out_dist_info_removes_the_python_package() -> None:
    inv = await inventory(
        [file("etc/os-release", DEBIAN), dist_info("requests", "2.31.0"), dist_info("six", "1")],
        [whiteout(f"{SITE}/requests-2.31.0.dist-info")],
    )
    assert found(inv) == {"six": ("1", 0)}


async def test_python_version_change_and_same_version_rewrite() -> None:
    inv = await inventory(
        [file("etc/os-release", DEBIAN), dist_info("six", "1"), dist_info("idna", "3.4")],
        # pip reinstalling the same version rewrites METADATA: the package is still layer 0's
        [dist_info("idna", "3.4")],
        # an upgrade writes a new dist-info dir and removes the old one
        [whiteout(f"{SITE}/six-1.dist-info"), dist_info("six", "2")],
    )
    assert found(inv) == {"idna": ("3.4", 0), "six": ("2", 2)}
    six = next(p for p in inv.packages if p.name == "six")
    assert (six.kind, six.source, six.location) == (
        "python",
        "PYTHON",
        f"{SITE}/six-2.dist-info/METADATA",
    )


async def test_egg_info_file_and_directory() -> None:
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            file(f"{SITE}/zope.interface-5.4.0.egg-info", "Name: zope.interface\nVersion: 5.4.0\n"),
            directory(f"{SITE}/six-1.16.0.egg-info"),
            file(f"{SITE}/six-1.16.0.egg-info/PKG-INFO", "Name: six\nVersion: 1.16.0\n"),
        ]
    )
    assert {p.name: p.source_name for p in inv.packages} == {
        "six": "six",
        "zope.interface": "zope-interface",
    }


async def test_a_file_replacing_a_directory_hides_its_contents() -> None:
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            file(f"{SITE}/six-1.0.egg-info/PKG-INFO", "Name: six\nVersion: 1.0\n"),
        ],
        [file(f"{SITE}/six-1.0.egg-info", "Name: six\nVersion: 1.0\n")],
    )
    assert [(p.location, p.layer) for p in inv.packages] == [(f"{SITE}/six-1.0.egg-info", 1)]


async def test_npm_scoped_nested_and_opaque_node_modules() -> None:
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            npm("app/node_modules/left-pad", "left-pad", "1.3.0"),
            npm("app/node_modules/@babel/core", "@babel/core", "7.23.0"),
            npm("usr/lib/node_modules/npm", "npm", "10.2.0"),
            npm("usr/lib/node_modules/npm/node_modules/semver", "semver", "7.5.4"),
        ],
        # `npm ci` in a later layer: node_modules replaced wholesale
        [opaque("app/node_modules"), npm("app/node_modules/lodash", "lodash", "4.17.21")],
    )
    assert found(inv) == {
        "lodash": ("4.17.21", 1),
        "npm": ("10.2.0", 0),
        "semver": ("7.5.4", 0),
    }
    assert {p.source for p in inv.packages} == {"NODEJS"}


async def test_root_opaque_dir_hides_everything_below() -> None:
    inv = await inventory(
        [file("etc/os-release", DEBIAN), dpkg(("a", "1"))],
        [opaque(""), file("etc/os-release", ALPINE)],
    )
    assert inv.packages == []
    assert inv.os == OperatingSystem("alpine", "3.19.1")


async def test_os_release_symlink_resolved_across_layers() -> None:
    inv = await inventory(
        [symlink("etc/os-release", "../usr/lib/os-release"), file("usr/lib/os-release", ALPINE)],
        [file("usr/lib/os-release", DEBIAN)],
    )
    assert inv.os is not None
    assert (inv.os.id, inv.os.version_id) == ("debian", "12")


async def test_etc_os_release_wins_then_usr_lib_is_the_fallback() -> None:
    first = await layer(file("etc/os-release", ALPINE), file("usr/lib/os-release", DEBIAN))
    assert assemble([first]).os == OperatingSystem("alpine", "3.19.1")
    removed = await layer(whiteout("etc/os-release"))
    assert assemble([first, removed]).os == OperatingSystem(
        "debian", "12", "Debian GNU/Linux 12 (bookworm)"
    )
    # a link to somewhere never read still leaves usr/lib/os-release to fall back on
    dangling = await layer(symlink("etc/os-release", "/etc/os-release.d/current"))
    assert assemble([first, dangling]).os is not None


async def test_no_os_release_with_an_os_package_database() -> None:
    inv = await inventory([dpkg(("a", "1"), ("b", "2"))])
    assert inv.os is None
    assert inv.notes == [
        "operating system could not be determined: no os-release file",
        "2 dpkg packages were found but the operating system is unknown,"
        " so they cannot be matched against distribution advisories",
    ]


async def test_os_release_symlink_loop_and_dangling_link_are_noted() -> None:
    inv = await inventory([symlink("etc/os-release", "os-release")])
    assert inv.notes == ["operating system could not be determined: no os-release file"]
    inv = await inventory([symlink("etc/os-release", "/opt/os-release")])
    assert inv.notes == [
        "operating system could not be determined: etc/os-release links to opt/os-release,"
        " which was not read"
    ]


async def test_unreadable_databases_are_noted() -> None:
    inv = await inventory(
        [
            file("etc/os-release", ALPINE),
            file("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\no:musl\n"),
            file("app/node_modules/bad/package.json", "{oops"),
        ]
    )
    assert found(inv) == {"musl": ("1.2.4-r2", 0)}
    assert len(inv.notes) == 1
    assert inv.notes[0].startswith("app/node_modules/bad/package.json could not be parsed: ")


async def test_layer_notes_are_carried_into_the_inventory() -> None:
    blob = tar_bytes([file("etc/os-release", DEBIAN)])
    findings = await read_layer(chunked(blob), media_type=OCI_GZIP, digest=DIGEST)
    assert assemble([findings]).notes == [
        "no OS package database found: OS packages cannot be listed",
        f"layer {DIGEST} is labelled gzip but holds uncompressed tar data;"
        " read as uncompressed tar",
    ]


def test_no_layers_at_all() -> None:
    inv = assemble([])
    assert (inv.os, inv.packages) == (None, [])
    assert inv.notes == ["operating system could not be determined: no os-release file"]
