"""Java: what a jar says about itself, in `META-INF/maven/**/pom.properties` or its manifest."""

from __future__ import annotations

import posixpath
import re

from app.scanner.layers.findings import PackageRecord

# a version at the end of a jar's file name: log4j-core-2.14.1.jar, guava-32.1.2-jre.jar
_FILE_VERSION = re.compile(r"-\d[^-]*(?:-[^-]+)*$")
_SEPARATOR = re.compile(r"\s*[=:]\s*|\s+")


def parse_properties(text: str) -> dict[str, str]:
    """A Java properties file's keys and values (`=`, `:` or blanks between them; `#`/`!`
    comments; an odd number of trailing backslashes continues the line)."""
    values: dict[str, str] = {}
    logical = ""
    for raw in text.splitlines():
        line = raw.lstrip()
        if not logical and (not line or line.startswith(("#", "!"))):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2:
            logical += line[:-1]
            continue
        logical += line
        separator = _SEPARATOR.search(logical)
        if separator is None:
            values[logical] = ""
        else:
            values[logical[: separator.start()]] = logical[separator.end() :].strip()
        logical = ""
    return values


def parse_manifest(text: str) -> dict[str, str]:
    """The main section of a `META-INF/MANIFEST.MF`: header names lowercased, continuation lines
    (starting with one space) joined."""
    headers: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if not line.strip():
            break  # the main section ends at the first blank line
        if line.startswith(" ") and name:
            headers[name] += line[1:]
            continue
        name, colon, value = line.partition(":")
        if not colon:
            name = ""
            continue
        name = name.strip().lower()
        headers[name] = value.strip()
    return headers


def pom_record(properties: dict[str, str], pom_path: str) -> PackageRecord | None:
    """`groupId:artifactId` at `version`; the directories of `pom_path` name the group and
    artifact when the file leaves them out. None without a version."""
    parts = pom_path.split("/")
    group = properties.get("groupId") or (parts[-3] if len(parts) >= 3 else "")
    artifact = properties.get("artifactId") or (parts[-2] if len(parts) >= 2 else "")
    version = properties.get("version", "")
    if not group or not artifact or not version or "${" in version:
        return None
    name = f"{group}:{artifact}"
    return PackageRecord(kind="java", name=name, version=version, source_name=name)


def manifest_record(headers: dict[str, str], archive_name: str) -> PackageRecord | None:
    """A jar without pom.properties, from its manifest.

    Version: Implementation-Version, else Bundle-Version. Name: `<Implementation-Vendor-Id>:<the
    file name without its version>` when the manifest gives a vendor id (Maven's archiver wrote
    the groupId there); else Bundle-SymbolicName, else Implementation-Title, else the file name
    without its version. None without a version.
    """
    version = headers.get("implementation-version") or headers.get("bundle-version", "")
    if not version:
        return None
    stem = posixpath.basename(archive_name).rsplit(".", 1)[0]
    artifact = _FILE_VERSION.sub("", stem) or stem
    vendor = headers.get("implementation-vendor-id", "")
    symbolic = headers.get("bundle-symbolicname", "").split(";", 1)[0].strip()
    if vendor:
        name = f"{vendor}:{artifact}"
    else:
        name = symbolic or headers.get("implementation-title", "") or artifact
    return PackageRecord(kind="java", name=name, version=version, source_name=name)
