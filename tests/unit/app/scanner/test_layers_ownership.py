"""Language packages that an OS package installed, vendored copies, and what the OS databases
say about the image (architecture, a database that is gone)."""

from __future__ import annotations

import json

from app.scanner.layers import assemble
from app.scanner.model import Inventory
from tests.support.oci.tarballs import Entry, file, whiteout
from tests.unit.app.scanner.test_layers_assemble import DEBIAN, SITE, STATUS, layer

ALPINE = "ID=alpine\nVERSION_ID=3.19.1\n"
INFO = "var/lib/dpkg/info"


def status(*packages: tuple[str, str]) -> Entry:
    stanzas = [
        f"Package: {name}\nStatus: install ok installed\nArchitecture: arm64\nVersion: {version}\n"
        for name, version in packages
    ]
    return file(STATUS, "\n".join(stanzas))


def file_list(package: str, *paths: str) -> Entry:
    return file(f"{INFO}/{package}.list", "".join(f"/{p}\n" for p in ("usr", *paths)))


def egg_info(root: str, name: str, version: str) -> list[Entry]:
    directory = f"{root}/{name}-{version}.egg-info"
    return [file(f"{directory}/PKG-INFO", f"Name: {name}\nVersion: {version}\n")]


def dist_info(root: str, name: str, version: str) -> Entry:
    return file(
        f"{root}/{name}-{version}.dist-info/METADATA", f"Name: {name}\nVersion: {version}\n"
    )


def package_json(directory: str, name: str, version: str) -> Entry:
    return file(f"{directory}/package.json", json.dumps({"name": name, "version": version}))


async def inventory(*layers: list[Entry]) -> Inventory:
    return assemble([await layer(*entries) for entries in layers])


def names(inv: Inventory) -> dict[str, str]:
    return {p.name: p.kind for p in inv.packages}


async def test_python_packages_of_debian_packages_are_reported_as_the_debian_package() -> None:
    urllib3 = f"{SITE}/urllib3-1.26.12.egg-info"
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            status(("python3-urllib3", "1.26.12-1+deb12u1"), ("python3", "3.11.2-1+b1")),
            file_list("python3-urllib3", urllib3, f"{urllib3}/PKG-INFO", f"{SITE}/urllib3"),
            # the directory is listed, but not what pip put in it later
            file_list("python3", "usr/lib/python3", SITE),
            *egg_info(SITE, "urllib3", "1.26.12"),
        ],
        [dist_info(SITE, "requests", "2.31.0")],  # pip install, not dpkg's
    )
    assert names(inv) == {"python3-urllib3": "dpkg", "python3": "dpkg", "requests": "python"}
    assert "1 python packages installed by OS packages are not reported as such" in inv.notes


async def test_a_dist_info_directory_listed_by_dpkg_owns_its_metadata() -> None:
    idna = f"{SITE}/idna-3.3.dist-info"
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            status(("python3-idna", "3.3-1+deb12u1")),
            file_list("python3-idna", idna),
            dist_info(SITE, "idna", "3.3"),
        ]
    )
    assert names(inv) == {"python3-idna": "dpkg"}


async def test_node_modules_of_debian_packages_are_not_npm_components() -> None:
    shared = "usr/share/nodejs"
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            status(("node-debug", "4.3.4+~cs4.1.7-1"), ("nodejs", "18.19.0+dfsg-6~deb12u1")),
            file_list("node-debug:all", f"{shared}/debug", f"{shared}/debug/package.json"),
            package_json(f"{shared}/debug", "debug", "4.3.4"),
            # vendored by Debian's nodejs package, listed in its own file list
            file_list("nodejs", f"{shared}/acorn/node_modules/acorn-walk/package.json"),
            package_json(f"{shared}/acorn/node_modules/acorn-walk", "acorn-walk", "8.2.0"),
        ],
        [package_json("app/node_modules/debug", "debug", "4.3.1")],
    )
    npm = [p for p in inv.packages if p.kind == "npm"]
    assert [(p.name, p.version, p.location) for p in npm] == [
        ("debug", "4.3.1", "app/node_modules/debug/package.json")
    ]


async def test_a_purged_package_no_longer_owns_files_left_behind() -> None:
    idna = f"{SITE}/idna-3.3.dist-info"
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            status(("python3-idna", "3.3-1"), ("base-files", "12.4")),
            file_list("python3-idna", idna, f"{idna}/METADATA"),
            dist_info(SITE, "idna", "3.3"),
        ],
        # purged: dpkg drops the stanza and the list; a copy of the metadata stays behind
        [status(("base-files", "12.4")), whiteout(f"{INFO}/python3-idna.list")],
    )
    assert names(inv) == {"base-files": "dpkg", "idna": "python"}


async def test_distroless_md5sums_own_files() -> None:
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            file("var/lib/dpkg/status.d/python3-six", "Package: python3-six\nVersion: 1.16.0-4\n"),
            file(
                "var/lib/dpkg/status.d/python3-six.md5sums",
                f"0123456789abcdef0123456789abcdef  {SITE}/six-1.16.0.egg-info/PKG-INFO\n",
            ),
            *egg_info(SITE, "six", "1.16.0"),
        ]
    )
    assert names(inv) == {"python3-six": "dpkg"}


async def test_alpine_packages_own_their_r_entries() -> None:
    site = "usr/lib/python3.11/site-packages"
    db = (
        "P:py3-idna\nV:3.6-r0\nA:aarch64\no:py3-idna\n"
        f"F:{site}/idna-3.6.dist-info\nR:METADATA\nR:RECORD\n\n"
        "P:musl\nV:1.2.4_git20230717-r4\nA:aarch64\nF:lib\nR:ld-musl-aarch64.so.1\n\n"
    )
    inv = await inventory(
        [
            file("etc/os-release", ALPINE),
            file("lib/apk/db/installed", db),
            dist_info(site, "idna", "3.6"),
            dist_info(site, "requests", "2.31.0"),
        ]
    )
    assert names(inv) == {"py3-idna": "apk", "musl": "apk", "requests": "python"}
    assert {p.name: p.arch for p in inv.packages if p.kind == "apk"} == {
        "py3-idna": "aarch64",
        "musl": "aarch64",
    }


async def test_vendored_python_distributions_are_not_installed_packages() -> None:
    venv = "opt/venv/lib/python3.11/site-packages"
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            status(("base-files", "12.4")),
            dist_info(venv, "bleach", "6.0.0"),
            dist_info(f"{venv}/bleach/_vendor", "html5lib", "1.1"),
            dist_info(f"{venv}/setuptools/_vendor", "packaging", "24.0"),
            dist_info(venv, "setuptools", "69.0.0"),
        ]
    )
    assert names(inv) == {"base-files": "dpkg", "bleach": "python", "setuptools": "python"}
    assert "2 Python distributions vendored inside another one are not reported as such" in (
        inv.notes
    )


async def test_a_virtualenv_inside_a_project_is_not_vendored() -> None:
    # `pip install -e .` in /app leaves app/myapp.egg-info; the venv below it is installed
    inv = await inventory(
        [
            file("etc/os-release", DEBIAN),
            status(("base-files", "12.4")),
            *egg_info("app", "myapp", "0.1"),
            dist_info("app/.venv/lib/python3.11/site-packages", "requests", "2.31.0"),
            dist_info("app/_vendor_libs", "six", "1.16.0"),
        ]
    )
    assert set(names(inv)) == {"base-files", "myapp", "requests", "six"}


async def test_dpkg_architecture_is_kept() -> None:
    inv = await inventory([file("etc/os-release", DEBIAN), status(("libc6", "2.36-9"))])
    assert [(p.name, p.arch) for p in inv.packages] == [("libc6", "arm64")]
    assert inv.os_databases == [STATUS]


async def test_an_os_without_a_package_database_is_said_so() -> None:
    inv = await inventory(
        [file("etc/os-release", DEBIAN), status(("libc6", "2.36-9"))],
        [whiteout("var/lib/dpkg")],  # `rm -rf /var/lib/dpkg` in a later layer
    )
    assert inv.packages == []
    assert inv.os_databases == []
    assert "no OS package database found: OS packages cannot be listed" in inv.notes
