"""Java archives in layers: pom.properties first, the manifest as a fallback, nested archives with
their place in the location, and every limit (size, entries, members, nesting, zip bombs)."""

from __future__ import annotations

import io
import random
import tarfile
import zipfile

import pytest

from app.scanner.layers import LayerLimits, assemble
from app.scanner.layers.findings import LayerFindings, PackageFile, Unreadable
from app.scanner.layers.parsers.java_metadata import (
    manifest_record,
    parse_manifest,
    parse_properties,
)
from app.scanner.layers.tar_scan import scan_layer
from app.scanner.model import InstalledPackage
from tests.support.java_archives import LOG4J, jar, log4j_core_jar, manifest
from tests.support.oci.tarballs import DIGEST

KiB = 1024
MiB = 1024 * KiB
SPRING = ("org.springframework", "spring-core", "5.3.20")
JACKSON = ("com.fasterxml.jackson.core", "jackson-databind", "2.13.2.2")


def scan(*files: tuple[str, bytes], limits: LayerLimits | None = None) -> LayerFindings:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data in files:
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    pieces = iter([data[start : start + 65536] for start in range(0, len(data), 65536)] + [b""])
    return scan_layer(
        lambda: next(pieces), declared="none", digest=DIGEST, limits=limits or LayerLimits()
    )


def java(*layers: LayerFindings) -> list[tuple[str, str, str]]:
    packages: list[InstalledPackage] = assemble(list(layers)).packages
    return sorted((p.name, p.version, p.location) for p in packages if p.kind == "java")


def coordinates(group: str, artifact: str, version: str) -> tuple[str, str]:
    return f"{group}:{artifact}", version


def test_a_jar_is_named_by_its_pom_properties() -> None:
    found = java(scan(("usr/share/app/log4j-core-2.14.1.jar", log4j_core_jar())))
    assert found == [
        (*coordinates(*LOG4J), "usr/share/app/log4j-core-2.14.1.jar"),
    ]


def test_a_shaded_jar_lists_every_pom_properties_it_holds() -> None:
    found = java(scan(("opt/app.jar", jar(SPRING, JACKSON))))
    assert found == sorted(
        [(*coordinates(*SPRING), "opt/app.jar"), (*coordinates(*JACKSON), "opt/app.jar")]
    )
    assert next(iter(assemble([scan(("opt/app.jar", jar(SPRING)))]).packages)).source == "JAVA"


def test_nested_archives_are_read_and_placed_in_the_location() -> None:
    war = jar(
        headers={"Implementation-Title": "shop", "Implementation-Version": "3.1"},
        nested=[
            ("WEB-INF/lib/log4j-core-2.14.1.jar", log4j_core_jar()),
            ("WEB-INF/lib/jackson-databind-2.13.2.2.jar", jar(JACKSON)),
        ],
    )
    ear = jar(nested=[("lib/spring-core-5.3.20.jar", jar(SPRING)), ("shop.war", war)])
    found = java(scan(("srv/shop.ear", ear)))
    assert found == sorted(
        [
            (*coordinates(*SPRING), "srv/shop.ear!/lib/spring-core-5.3.20.jar"),
            ("shop", "3.1", "srv/shop.ear!/shop.war"),
            (*coordinates(*LOG4J), "srv/shop.ear!/shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar"),
            (
                *coordinates(*JACKSON),
                "srv/shop.ear!/shop.war!/WEB-INF/lib/jackson-databind-2.13.2.2.jar",
            ),
        ]
    )


def test_a_spring_boot_jar_with_a_launch_script_before_the_zip() -> None:
    boot = jar(SPRING, nested=[("BOOT-INF/lib/log4j-core-2.14.1.jar", log4j_core_jar())])
    launcher = b'#!/bin/bash\n# launch script of a fully executable jar\nexec java -jar "$0"\n'
    found = java(scan(("app/app.jar", launcher + boot)))
    assert [name for name, _, _ in found] == [coordinates(*LOG4J)[0], coordinates(*SPRING)[0]]


@pytest.mark.parametrize(
    ("headers", "file_name", "expected"),
    [
        # Maven's archiver wrote the groupId as the vendor id: coordinates as OSV files them
        (
            {"Implementation-Vendor-Id": "commons-io", "Implementation-Version": "2.6"},
            "commons-io-2.6.jar",
            ("commons-io:commons-io", "2.6"),
        ),
        (
            {"Bundle-SymbolicName": "org.example.tool;singleton:=true", "Bundle-Version": "1.2.0"},
            "tool.jar",
            ("org.example.tool", "1.2.0"),
        ),
        (
            {"Implementation-Title": "Widget", "Implementation-Version": "4.0"},
            "widget-4.0.jar",
            ("Widget", "4.0"),
        ),
        ({"Implementation-Version": "7"}, "guava-32.1.2-jre.jar", ("guava", "7")),
        ({"Implementation-Title": "no version"}, "x.jar", None),
    ],
)
def test_without_pom_properties_the_manifest_names_the_jar(
    headers: dict[str, str], file_name: str, expected: tuple[str, str] | None
) -> None:
    record = manifest_record(parse_manifest(manifest(headers)), file_name)
    assert (None if record is None else (record.name, record.version)) == expected
    found = java(scan((f"opt/{file_name}", jar(headers=headers))))
    assert [(name, version) for name, version, _ in found] == ([expected] if expected else [])


def test_manifest_continuation_lines_are_joined() -> None:
    long_name = "org.example." + "very.long.package.name." * 4 + "bundle"
    headers = parse_manifest(manifest({"Bundle-SymbolicName": long_name}))
    assert headers["bundle-symbolicname"] == long_name
    assert parse_manifest("A: 1\r\n\r\nName: section\r\nA: 2\r\n") == {"a": "1"}


def test_properties_files_as_java_reads_them() -> None:
    text = "# comment\n! also\ngroupId = org.example\nartifactId:tool\nversion 1.0\\\n  .2\n"
    assert parse_properties(text) == {
        "groupId": "org.example",
        "artifactId": "tool",
        "version": "1.0.2",
    }


def test_an_archive_over_the_size_limit_is_unreadable() -> None:
    data = jar(SPRING, extra=[("blob.bin", bytes(200 * KiB))])
    found = scan(("opt/big.jar", data), limits=LayerLimits(max_java_archive_bytes=len(data) - 1))
    unreadable = found.files["opt/big.jar"]
    assert isinstance(unreadable, Unreadable)
    assert "max_java_archive_bytes" in unreadable.reason
    assert assemble([found]).unreadable == [unreadable.reason]


def test_an_archive_listing_too_many_entries_is_not_opened() -> None:
    data = jar(SPRING, extra=[(f"com/example/C{i}.class", b"") for i in range(50)])
    limits = LayerLimits(max_java_archive_entries=20)
    unreadable = scan(("opt/a.jar", data), limits=limits).files["opt/a.jar"]
    assert isinstance(unreadable, Unreadable)
    assert "max_java_archive_entries" in unreadable.reason


def test_a_zip_bomb_nested_member_is_skipped_and_said() -> None:
    bomb = zipfile.ZipInfo("WEB-INF/lib/bomb.jar")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "META-INF/maven/a/b/pom.properties", "groupId=a\nartifactId=b\nversion=1\n"
        )
        archive.writestr(bomb, bytes(8 * MiB), zipfile.ZIP_DEFLATED)  # 8 KiB compressed
        archive.writestr("WEB-INF/lib/log4j-core-2.14.1.jar", log4j_core_jar())
    limits = LayerLimits(max_java_member_bytes=1 * MiB)
    found = scan(("srv/app.war", buffer.getvalue()), limits=limits)
    kept = found.files["srv/app.war"]
    assert isinstance(kept, PackageFile)
    assert [r.name for r in kept.records] == ["a:b", coordinates(*LOG4J)[0]]
    assert "WEB-INF/lib/bomb.jar was not read" in kept.partial
    assert "max_java_member_bytes" in kept.partial
    assert assemble([found]).unreadable == [kept.partial]


def test_the_total_inflated_by_one_archive_is_bounded() -> None:
    noise = random.Random(10)  # incompressible: each nested jar is 300 KiB to read
    nested = [
        (f"lib/l{i}.jar", jar((f"g{i}", "a", "1"), extra=[("x", noise.randbytes(300 * KiB))]))
        for i in range(4)
    ]
    limits = LayerLimits(max_java_inflated_bytes=700 * KiB)
    kept = scan(("opt/app.ear", jar(nested=nested)), limits=limits).files["opt/app.ear"]
    assert isinstance(kept, PackageFile)
    assert "max_java_inflated_bytes" in kept.partial
    assert 0 < len(kept.records) < 4


def test_nesting_deeper_than_the_limit_is_said() -> None:
    war = jar(nested=[("WEB-INF/lib/log4j-core-2.14.1.jar", log4j_core_jar())])
    ear = jar(SPRING, nested=[("shop.war", war)])
    kept = scan(("srv/shop.ear", ear), limits=LayerLimits(max_java_nesting=1)).files["srv/shop.ear"]
    assert isinstance(kept, PackageFile)
    assert [r.name for r in kept.records] == [coordinates(*SPRING)[0]]
    assert "shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar is nested deeper than 1" in kept.partial


def test_members_read_are_bounded() -> None:
    nested = [(f"lib/l{i}.jar", jar((f"g{i}", "a", "1"))) for i in range(10)]
    limits = LayerLimits(max_java_members_read=8)
    kept = scan(("opt/app.ear", jar(nested=nested)), limits=limits).files["opt/app.ear"]
    assert isinstance(kept, PackageFile)
    assert "max_java_members_read" in kept.partial
    assert len(kept.records) < 10


def test_a_damaged_archive_is_unreadable_and_a_damaged_nested_one_is_skipped() -> None:
    unreadable = scan(("opt/broken.jar", b"PK\x03\x04 not really a zip")).files["opt/broken.jar"]
    assert isinstance(unreadable, Unreadable)
    assert "opt/broken.jar could not be read" in unreadable.reason
    war = jar(nested=[("WEB-INF/lib/x.jar", b"garbage"), ("WEB-INF/lib/y.jar", jar(SPRING))])
    kept = scan(("srv/app.war", war)).files["srv/app.war"]
    assert isinstance(kept, PackageFile)
    assert [r.name for r in kept.records] == [coordinates(*SPRING)[0]]
    assert "WEB-INF/lib/x.jar was not read" in kept.partial


def test_a_jar_an_os_package_installed_is_reported_as_that_package() -> None:
    status = b"Package: liblog4j2-java\nStatus: install ok installed\nVersion: 2.19.0-2\n"
    found = scan(
        ("var/lib/dpkg/status", status),
        (
            "var/lib/dpkg/info/liblog4j2-java.list",
            b"/.\n/usr/share/java\n/usr/share/java/log4j-core-2.19.0.jar\n",
        ),
        ("usr/share/java/log4j-core-2.19.0.jar", log4j_core_jar()),
        ("opt/app/log4j-core-2.14.1.jar", log4j_core_jar()),
    )
    assert [location for _, _, location in java(found)] == ["opt/app/log4j-core-2.14.1.jar"]
    assert any("java packages installed by OS packages" in n for n in assemble([found]).notes)


def test_a_jar_removed_by_a_later_layer_is_gone() -> None:
    base = scan(("opt/app.jar", jar(SPRING)))
    remove = scan(("opt/.wh.app.jar", b""))
    assert java(base, remove) == []
