"""The reading thread's side: one layer's tar stream walked entry by entry."""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Callable
from typing import IO, cast

import zstandard

from app.scanner.errors import LayerFormatError, LayerLimitExceeded
from app.scanner.layers.compression import SNIFF_BYTES, sniff_compression
from app.scanner.layers.findings import (
    Compression,
    Directory,
    FileFinding,
    FileKind,
    LayerFindings,
    PackageFile,
    Symlink,
    Unreadable,
)
from app.scanner.layers.inflate import ChunkReader, GzipInflater, InflatedStream, zstd_inflater
from app.scanner.layers.limits import LayerLimits, format_size
from app.scanner.layers.parsers import parse_file
from app.scanner.layers.parsers.go_buildinfo import NOT_GO, read_go_binary
from app.scanner.layers.parsers.java_archive import read_java_archive
from app.scanner.layers.paths import classify, link_target, normalize_path, whiteout
from app.scanner.layers.tar_headers import decode_header

_DESCRIPTION = {"gzip": "gzip", "zstd": "zstd", "none": "uncompressed tar"}
_ANY_EXECUTE_BIT = 0o111


class _StrictTarInfo(tarfile.TarInfo):
    """Refuses a damaged header mid-archive, where tarfile would quietly end the archive;
    decodes plain headers faster (same result: see tar_headers)."""

    @classmethod
    def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> _StrictTarInfo:
        decoded = decode_header(cls, bytes(buf), encoding, errors)
        return decoded if decoded is not None else super().frombuf(buf, encoding, errors)

    @classmethod
    def fromtarfile(cls, tarfile_: tarfile.TarFile) -> _StrictTarInfo:
        try:
            return super().fromtarfile(tarfile_)
        except (tarfile.InvalidHeaderError, tarfile.TruncatedHeaderError) as exc:  # type: ignore[attr-defined]
            raise tarfile.ReadError(
                f"damaged tar header at offset {tarfile_.offset}: {exc}"
            ) from None


def scan_layer(
    receive: Callable[[], bytes],
    *,
    declared: Compression | None,
    digest: str,
    limits: LayerLimits,
) -> LayerFindings:
    """Read a layer blob delivered by `receive` (b"" at its end) and keep what matters.

    Runs in a worker thread. Raises LayerFormatError, LayerLimitExceeded, or whatever
    `receive` raises.
    """
    source = ChunkReader(receive)
    findings = LayerFindings(digest=digest)
    try:
        findings.compression = _compression(source, declared, findings)
        read: Callable[[int], bytes] = {
            "gzip": lambda: GzipInflater(source).read,
            "zstd": lambda: zstd_inflater(source),
            "none": lambda: source.read,
        }[findings.compression]()
        stream = InflatedStream(read, lambda: source.received, digest=digest, limits=limits)
        _walk(stream, findings, limits)
    except (tarfile.TarError, zlib.error, zstandard.ZstdError, EOFError) as exc:
        raise LayerFormatError(f"layer {digest} is not a readable tar stream: {exc}") from exc
    findings.inflated_bytes = stream.tell()
    return findings


def _compression(
    source: ChunkReader, declared: Compression | None, findings: LayerFindings
) -> Compression:
    """Trust the magic bytes over the media type, and say so when they disagree."""
    sniffed = sniff_compression(source.peek(SNIFF_BYTES))
    if sniffed in ("xz", "bzip2"):
        raise LayerFormatError(f"layer {findings.digest} is {sniffed}-compressed: not supported")
    actual = cast("Compression", sniffed)
    if declared is not None and declared != actual:
        findings.notes.append(
            f"layer {findings.digest} is labelled {_DESCRIPTION[declared]}"
            f" but holds {_DESCRIPTION[actual]} data; read as {_DESCRIPTION[actual]}"
        )
    return actual


def _walk(stream: InflatedStream, findings: LayerFindings, limits: LayerLimits) -> None:
    if not stream.peek(tarfile.BLOCKSIZE):
        if stream.tell() == 0 and findings.compression == "none":
            return  # a zero-byte blob: a layer with nothing in it
        # compressed data that inflates to nothing is damaged (an empty tar is 1 KiB of zeros)
        raise LayerFormatError(f"layer {findings.digest} inflates to no data at all")
    # "r:" is plain random-access mode: tarfile seeks (forward only, here) past contents
    fileobj = cast("IO[bytes]", stream)
    with tarfile.open(fileobj=fileobj, mode="r:", tarinfo=_StrictTarInfo) as archive:
        _walk_members(archive, findings, limits)


def _walk_members(archive: tarfile.TarFile, findings: LayerFindings, limits: LayerLimits) -> None:
    while (member := archive.next()) is not None:
        # keep no TarInfo for entries already passed (`members` is real, but not in the stubs)
        archive.members.clear()  # type: ignore[attr-defined]
        findings.file_count += 1
        if findings.file_count > limits.max_files:
            raise LayerLimitExceeded(
                f"layer {findings.digest} has more than {limits.max_files:,} entries (max_files)"
            )
        path = normalize_path(member.name)
        if not path:
            continue
        removal = whiteout(path)
        if removal is not None:
            what, removed = removal
            (findings.opaque_dirs if what == "opaque" else findings.whiteouts).append(removed)
            continue
        kind = classify(path)
        if kind is None and _executable(member):
            kind = "go"  # searched for Go build information; most turn out to be something else
        if kind is not None:
            findings.files[path] = _finding(archive, member, path, kind, findings, limits)


def _executable(member: tarfile.TarInfo) -> bool:
    return (member.isreg() or member.islnk()) and bool(member.mode & _ANY_EXECUTE_BIT)


def _finding(
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    path: str,
    kind: FileKind,
    findings: LayerFindings,
    limits: LayerLimits,
) -> FileFinding:
    if member.isreg() and kind in ("go", "java"):
        # read as the stream passes, within their own limits, never whole in memory
        fileobj = archive.extractfile(member)
        assert fileobj is not None  # a regular file always has one
        if kind == "go":
            return read_go_binary(fileobj.read, path, member.size, limits)
        return read_java_archive(fileobj, path, member.size, limits)
    if member.isreg():
        if member.size > limits.max_interesting_file_bytes:
            return Unreadable(
                kind,
                f"{path} was not read: it is {format_size(member.size)}, over the"
                f" {format_size(limits.max_interesting_file_bytes)} limit",
            )
        fileobj = archive.extractfile(member)
        assert fileobj is not None  # a regular file always has one
        return parse_file(kind, path, fileobj.read())
    if member.issym():
        return Symlink(link_target(path, member.linkname))
    if member.islnk():
        # a hard link's data came with an earlier entry of this same layer
        target = normalize_path(member.linkname)
        earlier = findings.files.get(target)
        if kind == "go":
            go = isinstance(earlier, PackageFile | Unreadable) and earlier.kind == "go"
            return earlier if go and earlier is not None else NOT_GO
        if earlier is not None and classify(target) == kind:
            return earlier
        return Unreadable(kind, f"{path} is a hard link to {target}, which was not read")
    if member.isdir():
        return Directory()
    return Unreadable(kind, f"{path} is not a regular file")
