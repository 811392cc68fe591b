"""Each interesting file format parsed on its own, and which paths count as interesting."""

from __future__ import annotations

import json

import pytest

from app.scanner.layers.findings import OsRelease, PackageFile, PackageRecord, Unreadable
from app.scanner.layers.parsers import normalize_python_name, parse_file
from app.scanner.layers.paths import classify, link_target, normalize_path, whiteout
from app.scanner.model import OperatingSystem

DPKG_STATUS = """\
Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 340
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Pre-Depends: awk
Breaks: debian-security-support (<< 2019.04.25), initscripts (<< 2.88dsf-13.3)
Conffiles:
 /etc/debian_version 0ba2c6a1a8ff1f7df8b2d8c8c6c1a2f2
 /etc/host.conf 4eb63731c9f5e30903ac4fc07a7fe3d6
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system, and
 several important miscellaneous files, such as /etc/debian_version,
 /etc/host.conf, /etc/issue, /etc/motd, /etc/profile, and others,
 and the text of several common licenses in use on Debian systems.

Package: libgcc-s1
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 141
Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Depends: gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)
Description: GCC support library
 Shared version of the support library, a library of internal subroutines
 that GCC uses to overcome shortcomings of particular machines, or special
 needs for some languages.
 .
 Package: not-a-package
 Version: 0
Homepage: https://gcc.gnu.org/

Package: libzstd1
Status: install ok installed
Architecture: amd64
Source: libzstd (1.5.4+dfsg2-5)
Version: 1.5.4+dfsg2-5+b1
Description: fast lossless compression algorithm

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: old-tool
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1
Description: removed, only its conffiles remain

Package: never-there
Status: purge ok not-installed
Architecture: amd64
Version: 2.0-1

Package: half-done
Status: install reinstreq half-configured
Architecture: all
Version: 3.0-1
"""

APK_INSTALLED = """\
C:Q1fRsXZw8oQ2tqkXk2NSkQi0lrDOQ=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407278
I:667648
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1705494937
c:5e2d6ad9d0d6f2e3e9ccc1a6c2b0b37ae0fa8f74
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1vHh7t+4ZHljJ6rlD5dX3tO1LvSE=

P:libcrypto3
V:3.1.4-r5
A:x86_64
L:Apache-2.0
o:openssl
F:usr/lib
R:libcrypto.so.3

P:no-origin
V:1-r0
"""

METADATA = """\
Metadata-Version: 2.1
Name: Flask_SQLAlchemy
Version: 3.1.1
Summary: Add SQLAlchemy support to your Flask application.
License: BSD-3-Clause
Classifier: License :: OSI Approved :: BSD License
Requires-Dist: flask>=2.2.5

Name: not-the-name
Version: 0.0

Flask-SQLAlchemy is an extension for Flask that adds support for SQLAlchemy.
"""

PKG_INFO = """\
Metadata-Version: 1.1
Name: zope.interface
Version: 5.4.0
Summary: Interfaces for Python
License: ZPL 2.1
Description: ========
        Overview
        ========

        License: not this one
"""


def records(kind: str, path: str, text: str | bytes) -> tuple[PackageRecord, ...]:
    data = text.encode() if isinstance(text, str) else text
    found = parse_file(kind, path, data)  # type: ignore[arg-type]
    assert isinstance(found, PackageFile), found
    return found.records


def test_dpkg_status() -> None:
    got = {r.name: r for r in records("dpkg", "var/lib/dpkg/status", DPKG_STATUS)}
    # removed packages are gone; a half-configured one still has its files on disk
    assert sorted(got) == ["base-files", "half-done", "libc6", "libgcc-s1", "libzstd1"]
    assert got["base-files"] == PackageRecord(
        "dpkg", "base-files", "12.4+deb12u5", "base-files", arch="amd64"
    )
    # "Source: name (version)" keeps only the name; the source version only when it differs
    assert (got["libgcc-s1"].source_name, got["libgcc-s1"].source_version) == ("gcc-12", "")
    assert (got["libzstd1"].source_name, got["libzstd1"].source_version) == (
        "libzstd",
        "1.5.4+dfsg2-5",
    )
    assert got["libc6"].source_name == "glibc"


def test_dpkg_status_d_file_without_status_counts_as_installed() -> None:
    text = "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\nMaintainer: x\n"
    assert records("dpkg", "var/lib/dpkg/status.d/tzdata", text) == (
        PackageRecord("dpkg", "tzdata", "2024a-0+deb12u1", "tzdata", arch="all"),
    )


def test_dpkg_crlf_and_missing_fields() -> None:
    text = "Package: a\r\nVersion: 1\r\n\r\nPackage: no-version\r\n\r\nVersion: 2\r\n"
    assert [r.name for r in records("dpkg", "var/lib/dpkg/status", text)] == ["a"]


def test_apk_installed() -> None:
    got = records("apk", "lib/apk/db/installed", APK_INSTALLED)
    assert got == (
        PackageRecord("apk", "musl", "1.2.4_git20230717-r4", "musl", license="MIT", arch="x86_64"),
        PackageRecord(
            "apk", "libcrypto3", "3.1.4-r5", "openssl", license="Apache-2.0", arch="x86_64"
        ),
        PackageRecord("apk", "no-origin", "1-r0", "no-origin"),
    )


def test_python_dist_info_metadata() -> None:
    path = "usr/lib/python3/dist-packages/Flask_SQLAlchemy-3.1.1.dist-info/METADATA"
    assert records("python", path, METADATA) == (
        PackageRecord(
            "python", "Flask_SQLAlchemy", "3.1.1", "flask-sqlalchemy", license="BSD-3-Clause"
        ),
    )


def test_python_pkg_info_with_multiline_description() -> None:
    path = "usr/lib/python3/dist-packages/zope.interface-5.4.0.egg-info/PKG-INFO"
    assert records("python", path, PKG_INFO) == (
        PackageRecord("python", "zope.interface", "5.4.0", "zope-interface", license="ZPL 2.1"),
    )


def test_python_license_expression_wins_and_unknown_is_dropped() -> None:
    text = "Name: a\nVersion: 1\nLicense: Apache\nLicense-Expression: MIT OR Apache-2.0\n"
    assert records("python", "a.dist-info/METADATA", text)[0].license == "MIT OR Apache-2.0"
    text = "Name: a\nVersion: 1\nLicense: UNKNOWN\n"
    assert records("python", "a.dist-info/METADATA", text)[0].license == ""
    text = "Name: a\nVersion: 1\nLicense: Copyright (c) someone\n        all the text\n"
    assert records("python", "a.dist-info/METADATA", text)[0].license == "Copyright (c) someone"


def test_python_without_version_lists_nothing() -> None:
    assert records("python", "a.dist-info/METADATA", "Name: a\n") == ()


@pytest.mark.parametrize(
    ("name", "normalized"),
    [("Flask_SQLAlchemy", "flask-sqlalchemy"), ("zope.interface", "zope-interface"),
     ("A-_.b", "a-b"), ("requests", "requests")],
)  # fmt: skip
def test_pep503_names(name: str, normalized: str) -> None:
    assert normalize_python_name(name) == normalized


@pytest.mark.parametrize(
    ("document", "license_"),
    [
        ({"name": "a", "version": "1.0.0", "license": "MIT"}, "MIT"),
        ({"name": "a", "version": "1.0.0", "license": {"type": "ISC", "url": "x"}}, "ISC"),
        ({"name": "a", "version": "1.0.0", "licenses": [{"type": "MIT"}, "GPL-2.0"]},
         "MIT OR GPL-2.0"),
        ({"name": "a", "version": "1.0.0"}, ""),
    ],
)  # fmt: skip
def test_npm_license_shapes(document: dict[str, object], license_: str) -> None:
    path = "app/node_modules/a/package.json"
    assert records("npm", path, json.dumps(document)) == (
        PackageRecord("npm", "a", "1.0.0", "a", license=license_),
    )


def test_npm_without_name_or_version_lists_nothing() -> None:
    path = "app/node_modules/a/package.json"
    assert records("npm", path, '{"name": "a"}') == ()
    assert records("npm", path, '{"version": "1.0.0", "private": true}') == ()


@pytest.mark.parametrize("text", [b"{not json", b"[1, 2]", b"\xff\xfe\xfa"])
def test_npm_invalid_json_is_unreadable_with_a_reason(text: bytes) -> None:
    found = parse_file("npm", "app/node_modules/a/package.json", text)
    assert isinstance(found, Unreadable)
    assert found.reason.startswith("app/node_modules/a/package.json could not be parsed")


def test_os_release_shell_quoting() -> None:
    text = (
        "# comment\n"
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
        "NAME='Debian GNU/Linux'\n"
        'VERSION_ID="12"\n'
        "VERSION_CODENAME=bookworm\n"
        "ID=debian  # trailing comment\n"
        'HOME_URL="https://www.debian.org/"\n'
        'BROKEN="unbalanced\n'
    )
    found = parse_file("os-release", "etc/os-release", text.encode())
    assert found == OsRelease(
        OperatingSystem("debian", "12", "Debian GNU/Linux 12 (bookworm)", "bookworm")
    )


def test_os_release_without_identity_is_unreadable() -> None:
    found = parse_file("os-release", "etc/os-release", b"NAME=x\n")
    assert isinstance(found, Unreadable)
    assert "etc/os-release could not be parsed" in found.reason


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("etc/os-release", "os-release"),
        ("usr/lib/os-release", "os-release"),
        ("usr/etc/os-release", None),
        ("var/lib/dpkg/status", "dpkg"),
        ("var/lib/dpkg/status-old", None),
        ("var/lib/dpkg/status.d/libssl3", "dpkg"),
        ("var/lib/dpkg/status.d/libssl3.md5sums", "dpkg-files"),
        ("var/lib/dpkg/info/libssl3:amd64.list", "dpkg-files"),
        ("var/lib/dpkg/info/libssl3:amd64.md5sums", None),
        ("var/lib/dpkg/status.d/sub/x", None),
        ("lib/apk/db/installed", "apk"),
        ("usr/lib/apk/db/installed", "apk"),
        ("usr/lib/python3.11/site-packages/pip-23.2.dist-info/METADATA", "python"),
        ("usr/lib/python3.11/site-packages/pip-23.2.dist-info/RECORD", None),
        ("usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO", "python"),
        ("usr/lib/python3/dist-packages/six-1.16.0.egg-info", "python"),
        ("opt/METADATA", None),
        ("app/node_modules/lodash/package.json", "npm"),
        ("app/node_modules/@babel/core/package.json", "npm"),
        ("app/node_modules/a/node_modules/b/package.json", "npm"),
        ("app/node_modules/@babel/core/node_modules/semver/package.json", "npm"),
        ("app/node_modules/lodash/fp/package.json", None),
        ("app/node_modules/@babel/package.json", None),
        ("app/node_modules/.bin/package.json", None),
        ("app/node_modules/package.json", None),
        ("app/package.json", None),
    ],
)
def test_classify(path: str, kind: str | None) -> None:
    assert classify(path) == kind


@pytest.mark.parametrize(
    ("name", "path"),
    [("./etc/os-release", "etc/os-release"), ("/usr/lib/", "usr/lib"), ("./", ""),
     ("a//b/./c", "a/b/c"), ("../../etc/passwd", "etc/passwd")],
)  # fmt: skip
def test_normalize_path(name: str, path: str) -> None:
    assert normalize_path(name) == path


def test_links_and_whiteouts() -> None:
    assert link_target("etc/os-release", "../usr/lib/os-release") == "usr/lib/os-release"
    assert link_target("etc/os-release", "/usr/lib/os-release") == "usr/lib/os-release"
    assert whiteout("usr/lib/.wh.python3") == ("path", "usr/lib/python3")
    assert whiteout(".wh.opt") == ("path", "opt")
    assert whiteout("app/node_modules/.wh..wh..opq") == ("opaque", "app/node_modules")
    assert whiteout(".wh..wh..opq") == ("opaque", "")
    assert whiteout("x/.wh..wh.plnk") is None
    assert whiteout("x/wh.y") is None
