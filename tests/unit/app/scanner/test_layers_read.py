"""read_layer: compression detection, tar entries kept or skipped, limits, failures both ways."""

from __future__ import annotations

import asyncio
import random
import tarfile
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from app.scanner.errors import LayerFormatError, LayerLimitExceeded
from app.scanner.layers import LayerFindings, LayerLimits, read_layer
from app.scanner.layers.analysis import IN_THREAD, READER_THREAD_PREFIX, LayerAnalyser
from app.scanner.layers.findings import Directory, OsRelease, PackageFile, Symlink, Unreadable
from app.scanner.model import OperatingSystem
from tests.support.oci.tarballs import (
    DIGEST,
    DOCKER_GZIP,
    OCI_GZIP,
    OCI_TAR,
    OCI_ZSTD,
    Entry,
    chunked,
    directory,
    file,
    gzip_bytes,
    hardlink,
    opaque,
    symlink,
    tar_bytes,
    whiteout,
    zeros_layer,
    zstd_bytes,
)

MiB = 1 << 20
Compress = Callable[[bytes], bytes]
DEBIAN = 'ID=debian\nVERSION_ID="12"\n'
STATUS = "Package: a\nStatus: install ok installed\nVersion: 1\n"
ENTRIES = [
    directory("etc"),
    file("etc/os-release", DEBIAN),
    file("var/lib/dpkg/status", STATUS),
    file("usr/share/doc/a/README", "not interesting " * 100),
]


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(READER_THREAD_PREFIX)]


@pytest.fixture
def analyser() -> LayerAnalyser:
    """Where layers are read: here a thread; tests/scanner/test_layers_read_in_workers.py runs
    these same tests with a pool of worker processes."""
    return IN_THREAD


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 5
    while reader_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reader_threads() == []


async def read(
    analyser: LayerAnalyser,
    blob: bytes,
    media_type: str = OCI_GZIP,
    limits: LayerLimits | None = None,
    chunk_size: int = 64 * 1024,
) -> LayerFindings:
    return await read_layer(
        chunked(blob, chunk_size),
        media_type=media_type,
        digest=DIGEST,
        limits=limits or LayerLimits(),
        analyser=analyser,
    )


def expect_basics(found: LayerFindings) -> None:
    assert found.files["etc/os-release"] == OsRelease(OperatingSystem("debian", "12"))
    status = found.files["var/lib/dpkg/status"]
    assert isinstance(status, PackageFile)
    assert [r.name for r in status.records] == ["a"]
    assert found.file_count == 4


@pytest.mark.parametrize(
    ("compress", "media_type", "expected"),
    [
        (lambda b: b, OCI_TAR, "none"),
        (gzip_bytes, OCI_GZIP, "gzip"),
        (gzip_bytes, DOCKER_GZIP, "gzip"),
        (gzip_bytes, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "gzip"),
        (gzip_bytes, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip"),
        (zstd_bytes, OCI_ZSTD, "zstd"),
        (zstd_bytes, "application/octet-stream", "zstd"),
    ],
)
async def test_compressions(
    compress: Compress, media_type: str, expected: str, analyser: LayerAnalyser
) -> None:
    found = await read(analyser, compress(tar_bytes(ENTRIES)), media_type)
    expect_basics(found)
    assert found.compression == expected
    assert found.notes == []
    assert found.inflated_bytes >= 4 * 512


@pytest.mark.parametrize(
    ("compress", "media_type", "note"),
    [
        (lambda b: b, OCI_GZIP, "labelled gzip but holds uncompressed tar data"),
        (gzip_bytes, OCI_TAR, "labelled uncompressed tar but holds gzip data"),
        (zstd_bytes, DOCKER_GZIP, "labelled gzip but holds zstd data"),
        (gzip_bytes, OCI_ZSTD, "labelled zstd but holds gzip data"),
    ],
)
async def test_magic_bytes_beat_a_mislabelled_media_type(
    compress: Compress, media_type: str, note: str, analyser: LayerAnalyser
) -> None:
    found = await read(analyser, compress(tar_bytes(ENTRIES)), media_type)
    expect_basics(found)
    assert len(found.notes) == 1
    assert note in found.notes[0]
    assert DIGEST in found.notes[0]


@pytest.mark.parametrize("chunk_size", [1, 7, 512, 1 << 20])
async def test_concatenated_gzip_members_any_chunking(
    chunk_size: int, analyser: LayerAnalyser
) -> None:
    blob = gzip_bytes(tar_bytes(ENTRIES), members=5) + bytes(100)  # trailing zero padding
    expect_basics(await read(analyser, blob, chunk_size=chunk_size))


async def test_multi_frame_zstd(analyser: LayerAnalyser) -> None:
    data = tar_bytes(ENTRIES)
    blob = zstd_bytes(data[:1000]) + zstd_bytes(data[1000:])
    expect_basics(await read(analyser, blob, OCI_ZSTD, chunk_size=100))


async def test_empty_layers(analyser: LayerAnalyser) -> None:
    for blob in (b"", gzip_bytes(bytes(1024)), zstd_bytes(bytes(1024)), tar_bytes([])):
        found = await read(analyser, blob)
        assert (found.files, found.file_count) == ({}, 0)


async def test_paths_are_normalized_and_contents_of_other_files_skipped(
    analyser: LayerAnalyser,
) -> None:
    entries = [
        file("./etc/os-release", DEBIAN),
        file("/var/lib/dpkg/status", STATUS),
        file("./big/blob.bin", bytes(5 * MiB)),
    ]
    found = await read(analyser, gzip_bytes(tar_bytes(entries)))
    assert sorted(found.files) == ["etc/os-release", "var/lib/dpkg/status"]
    assert found.inflated_bytes > 5 * MiB


async def test_whiteouts_and_opaque_dirs_are_recorded(analyser: LayerAnalyser) -> None:
    entries = [
        whiteout("usr/lib/python3/dist-packages/six-1.16.0.dist-info"),
        whiteout("etc/os-release"),
        opaque("app/node_modules"),
        file("app/.wh..wh.plnk", b""),  # AUFS bookkeeping, not a removal
        file(".wh..wh..opq", b""),
    ]
    found = await read(analyser, gzip_bytes(tar_bytes(entries)))
    assert found.whiteouts == [
        "usr/lib/python3/dist-packages/six-1.16.0.dist-info",
        "etc/os-release",
    ]
    assert found.opaque_dirs == ["app/node_modules", ""]
    assert found.files == {}
    assert found.file_count == 5


async def test_links_directories_and_specials_at_interesting_paths(analyser: LayerAnalyser) -> None:
    entries = [
        file("usr/lib/os-release", DEBIAN),
        symlink("etc/os-release", "../usr/lib/os-release"),
        hardlink("lib/apk/db/installed", "usr/lib/apk/db/installed"),
        hardlink("usr/lib/apk/db/installed", "usr/lib/os-release"),
        directory("site/six-1.16.0.egg-info"),
        file("site/six-1.16.0.egg-info/PKG-INFO", "Name: six\nVersion: 1.16.0\n"),
        Entry("app/node_modules/a/package.json", type="fifo"),
    ]
    found = await read(analyser, gzip_bytes(tar_bytes(entries)))
    assert found.files["etc/os-release"] == Symlink("usr/lib/os-release")
    assert found.files["site/six-1.16.0.egg-info"] == Directory()
    assert isinstance(found.files["site/six-1.16.0.egg-info/PKG-INFO"], PackageFile)
    # a hard link to a file that was not read (or read as something else) is noted
    for path in ("lib/apk/db/installed", "usr/lib/apk/db/installed"):
        assert isinstance(found.files[path], Unreadable)
    assert "not a regular file" in found.files["app/node_modules/a/package.json"].reason  # type: ignore[union-attr]


async def test_hard_link_to_an_interesting_file_shares_its_findings(
    analyser: LayerAnalyser,
) -> None:
    entries = [file("usr/lib/os-release", DEBIAN), hardlink("etc/os-release", "usr/lib/os-release")]
    found = await read(analyser, gzip_bytes(tar_bytes(entries)))
    assert found.files["etc/os-release"] == found.files["usr/lib/os-release"]


async def test_an_interesting_file_over_the_limit_is_noted_not_read(
    analyser: LayerAnalyser,
) -> None:
    entries = [file("var/lib/dpkg/status", STATUS * 1000), file("etc/os-release", DEBIAN)]
    limits = LayerLimits(max_interesting_file_bytes=10_000)
    found = await read(analyser, gzip_bytes(tar_bytes(entries)), limits=limits)
    status = found.files["var/lib/dpkg/status"]
    assert isinstance(status, Unreadable)
    assert status.reason.startswith("var/lib/dpkg/status was not read: it is 49.8 KiB, over")
    assert isinstance(found.files["etc/os-release"], OsRelease)


async def test_gnu_and_ustar_formats(analyser: LayerAnalyser) -> None:
    long_dir = "usr/lib/python3/dist-packages/" + "x" * 120 + ".dist-info"
    entries = [*ENTRIES, file(f"{long_dir}/METADATA", "Name: x\nVersion: 1\n")]
    for tar_format in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        found = await read(analyser, gzip_bytes(tar_bytes(entries, tar_format=tar_format)))
        assert f"{long_dir}/METADATA" in found.files


# -- limits ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    return zeros_layer(128 * MiB)  # about 130 KB


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
async def test_bomb_stops_at_the_inflated_limit_in_small_memory(
    compression: str, gzip_bomb: bytes, analyser: LayerAnalyser
) -> None:
    blob = gzip_bomb if compression == "gzip" else zeros_layer(128 * MiB, compression="zstd")
    assert len(blob) < 200_000
    limits = LayerLimits(max_inflated_bytes=48 * MiB)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(LayerLimitExceeded) as caught:
            await read(analyser, blob, limits=limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert caught.value.message == (
        f"layer {DIGEST} inflates to more than 48 MiB (max_inflated_bytes)"
    )


async def test_bomb_caught_by_compression_ratio(gzip_bomb: bytes, analyser: LayerAnalyser) -> None:
    limits = LayerLimits(max_compression_ratio=200, min_bytes_for_ratio=16 * MiB)
    with pytest.raises(LayerLimitExceeded, match=r"decompression bomb: .* \(max_compression_ratio"):
        await read(analyser, gzip_bomb, limits=limits)


async def test_ordinary_layer_is_not_taken_for_a_bomb(analyser: LayerAnalyser) -> None:
    rng = random.Random(7)
    entries = [file(f"data/{i}", rng.randbytes(20_000)) for i in range(50)]
    limits = LayerLimits(max_compression_ratio=2, min_bytes_for_ratio=1)
    found = await read(analyser, gzip_bytes(tar_bytes(entries)), limits=limits)
    assert found.file_count == 50


async def test_file_count_limit(analyser: LayerAnalyser) -> None:
    entries = [file(f"f/{i}", b"") for i in range(101)]
    with pytest.raises(LayerLimitExceeded, match=r"more than 100 entries \(max_files\)"):
        await read(analyser, gzip_bytes(tar_bytes(entries)), limits=LayerLimits(max_files=100))
    found = await read(
        analyser, gzip_bytes(tar_bytes(entries[:100])), limits=LayerLimits(max_files=100)
    )
    assert found.file_count == 100


async def test_compressed_size_limit(analyser: LayerAnalyser) -> None:
    blob = gzip_bytes(tar_bytes(ENTRIES))
    with pytest.raises(LayerLimitExceeded, match=r"bigger than 100 bytes \(max_compressed_bytes\)"):
        await read(analyser, blob, limits=LayerLimits(max_compressed_bytes=100), chunk_size=10)


async def test_oversized_extended_header_is_refused_before_it_is_read(
    analyser: LayerAnalyser,
) -> None:
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 512 * MiB
    blob = gzip_bytes(header.tobuf(format=tarfile.USTAR_FORMAT) + bytes(8192))
    with pytest.raises(LayerLimitExceeded, match="asks to read 512 MiB at once"):
        await read(analyser, blob)


# -- damaged data --------------------------------------------------------------------------------


NOISY = tar_bytes([*ENTRIES, file("noise", random.Random(4).randbytes(300_000))])


def damaged_second_header() -> bytes:
    data = bytearray(tar_bytes([file("a", b"1"), file("b", b"2"), file("etc/os-release", DEBIAN)]))
    data[1024 + 100 : 1024 + 108] = b"garbage!"  # the mode field of "b": checksum breaks
    return bytes(data)


@pytest.mark.parametrize(
    ("blob", "media_type", "message"),
    [
        (random.Random(1).randbytes(5000), OCI_TAR, "not a readable tar stream"),
        (b"\x1f\x8b" + random.Random(2).randbytes(5000), OCI_GZIP, "not a readable tar stream"),
        (gzip_bytes(NOISY)[:200_000], OCI_GZIP, "gzip data ends early"),
        (zstd_bytes(NOISY)[:200_000], OCI_ZSTD, "unexpected end of data"),
        (gzip_bytes(b""), OCI_GZIP, "inflates to no data at all"),
        (gzip_bytes(tar_bytes(ENTRIES)) + b"junk", OCI_GZIP, None),  # junk after the tar end
        (gzip_bytes(tar_bytes(ENTRIES)[:2000]) + b"junk", OCI_GZIP, "unexpected bytes after"),
        (NOISY[:200_000], OCI_TAR, "unexpected end of data"),
        (tar_bytes(ENTRIES)[:1800], OCI_TAR, "offset 1536: truncated header"),
        (damaged_second_header(), OCI_TAR, "damaged tar header at offset 1024"),
        (gzip_bytes(damaged_second_header()), OCI_GZIP, "damaged tar header at offset 1024"),
        (b"\x28\xb5\x2f\xfd" + bytes(50), OCI_ZSTD, "inflates to no data at all"),
        (b"\xfd7zXZ\x00" + bytes(50), OCI_TAR, "xz-compressed: not supported"),
        (b"BZh91AY&SY" + bytes(50), OCI_TAR, "bzip2-compressed: not supported"),
    ],
)
async def test_damaged_data(
    blob: bytes, media_type: str, message: str | None, analyser: LayerAnalyser
) -> None:
    if message is None:
        expect_basics(await read(analyser, blob, media_type, chunk_size=100))
        return
    with pytest.raises(LayerFormatError, match=message) as caught:
        await read(analyser, blob, media_type, chunk_size=100)
    assert DIGEST in caught.value.message


# -- both sides stop when the other fails ----------------------------------------------------------


async def test_producer_error_propagates_and_stops_the_reader(analyser: LayerAnalyser) -> None:
    blob = gzip_bytes(tar_bytes(ENTRIES))

    async def failing() -> AsyncIterator[bytes]:
        yield blob[:100]
        raise ConnectionResetError("registry went away")

    with pytest.raises(ConnectionResetError, match="registry went away"):
        await read_layer(failing(), media_type=OCI_GZIP, digest=DIGEST, analyser=analyser)


async def test_reader_error_stops_an_endless_producer(analyser: LayerAnalyser) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"\x1f\x8b\x08\x00" + bytes(6) + b"\xff" * 1000  # bad deflate data
        while True:
            sent += 1
            yield bytes(64 * 1024)

    with pytest.raises(LayerFormatError):
        await asyncio.wait_for(
            read_layer(endless(), media_type=OCI_GZIP, digest=DIGEST, analyser=analyser), 10
        )
    assert sent < 20


async def test_cancelling_a_stalled_read_stops_the_thread(analyser: LayerAnalyser) -> None:
    started = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield gzip_bytes(tar_bytes(ENTRIES))[:50]
        started.set()
        await asyncio.Event().wait()
        yield b""  # never reached

    task = asyncio.create_task(
        read_layer(stalled(), media_type=OCI_GZIP, digest=DIGEST, analyser=analyser)
    )
    await started.wait()
    assert len(reader_threads()) == (1 if analyser is IN_THREAD else 0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_cancelling_while_the_producer_waits_for_room(analyser: LayerAnalyser) -> None:
    rng = random.Random(3)
    entries = [file(f"d/{i}", rng.randbytes(50_000)) for i in range(200)]
    blob = gzip_bytes(tar_bytes(entries), level=1)
    enough = asyncio.Event()

    async def fast() -> AsyncIterator[bytes]:
        for given, start in enumerate(range(0, len(blob), 1024)):
            if given == 50:
                enough.set()
            yield blob[start : start + 1024]

    task = asyncio.create_task(
        read_layer(fast(), media_type=OCI_GZIP, digest=DIGEST, analyser=analyser)
    )
    await enough.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_chunks_after_the_tar_end_are_still_consumed(analyser: LayerAnalyser) -> None:
    finished = False

    async def with_tail() -> AsyncIterator[bytes]:
        nonlocal finished
        yield gzip_bytes(tar_bytes(ENTRIES))
        for _ in range(20):  # e.g. a registry padding the blob; a digest check needs them all
            yield bytes(4096)
        finished = True

    found = await read_layer(with_tail(), media_type=OCI_GZIP, digest=DIGEST, analyser=analyser)
    expect_basics(found)
    assert finished


async def test_many_concurrent_reads_whose_chunks_need_the_default_executor(
    analyser: LayerAnalyser,
) -> None:
    blob = gzip_bytes(tar_bytes(ENTRIES))

    async def via_executor() -> AsyncIterator[bytes]:
        for start in range(0, len(blob), 100):
            yield await asyncio.to_thread(lambda s=start: blob[s : s + 100])

    reads = [
        read_layer(via_executor(), media_type=OCI_GZIP, digest=DIGEST, analyser=analyser)
        for _ in range(60)
    ]
    for found in await asyncio.wait_for(asyncio.gather(*reads), 30):
        expect_basics(found)
