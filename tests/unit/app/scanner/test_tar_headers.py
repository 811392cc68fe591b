"""The fast tar header decoder gives what tarfile gives, header by header: on archives of every
format tarfile writes, on every block of them (data blocks included), and on damaged headers."""

from __future__ import annotations

import io
import random
import tarfile
from typing import Any

import pytest

from app.scanner.layers.tar_headers import decode_header

FIELDS = (
    "name", "mode", "uid", "gid", "size", "mtime", "chksum", "type", "linkname", "uname",
    "gname", "devmajor", "devminor", "pax_headers", "_sparse_structs",
)  # fmt: skip
ENCODING, ERRORS = "utf-8", "surrogateescape"


def tarfile_says(buf: bytes) -> Any:
    try:
        info = tarfile.TarInfo.frombuf(buf, ENCODING, ERRORS)
    except Exception as exc:  # the outcome compared is the exception's type and text
        return ("raises", type(exc).__name__, str(exc))
    return {field: getattr(info, field, None) for field in FIELDS}


def we_say(buf: bytes) -> Any:
    try:
        info = decode_header(tarfile.TarInfo, buf, ENCODING, ERRORS)
        if info is None:
            return tarfile_says(buf)  # left to tarfile, as the layer reader does
    except Exception as exc:
        return ("raises", type(exc).__name__, str(exc))
    return {field: getattr(info, field, None) for field in FIELDS}


def decoded_fast(buf: bytes) -> bool:
    try:
        return decode_header(tarfile.TarInfo, buf, ENCODING, ERRORS) is not None
    except tarfile.TarError:
        return False


def member(name: str, kind: bytes = tarfile.REGTYPE, **fields: Any) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def archive(tar_format: int, rng: random.Random) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tar_format) as tar:
        long_dir = "/".join(f"dir{i:03d}" for i in range(30))
        entries = [
            (member("etc/os-release", size=11, mode=0o644, uid=0, gid=0), b"ID=debian\n"),
            (member("usr/bin/tool", size=3, mode=0o755, uname="root", gname="wheel"), b"abc"),
            (member("usr/lib", tarfile.DIRTYPE, mode=0o755), None),
            (member("usr/lib64", tarfile.SYMTYPE, linkname="lib"), None),
            (member("usr/bin/hard", tarfile.LNKTYPE, linkname="usr/bin/tool"), None),
            (member("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3), None),
            (member("run/fifo", tarfile.FIFOTYPE), None),
            (member(f"{long_dir}/file.txt", size=2), b"hi"),  # prefix, or a long name
            (member("über/naïve-файл.txt", size=1, mtime=1_700_000_000), b"x"),
            (member("big/uid", uid=2_000_000, gid=7, size=0), b""),
        ]
        if tar_format == tarfile.GNU_FORMAT:
            entries.append((member("gnu/huge-uid", uid=2**40, size=0), b""))  # base-256
        for info, data in entries:
            if info.isreg():
                info.size = len(data or b"")
            tar.addfile(info, io.BytesIO(data) if data else None)
        for i in range(20):
            payload = rng.randbytes(rng.randrange(0, 3000))
            tar.addfile(member(f"random/{i}.bin", size=len(payload)), io.BytesIO(payload))
    return out.getvalue()


@pytest.mark.parametrize(
    "tar_format", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]
)
def test_every_block_of_every_format_decodes_as_tarfile_decodes_it(tar_format: int) -> None:
    data = archive(tar_format, random.Random(tar_format))
    blocks = [data[i : i + 512] for i in range(0, len(data), 512)]
    assert sum(decoded_fast(block) for block in blocks) > 10  # the fast path is taken

    for offset, block in enumerate(blocks):
        assert we_say(block) == tarfile_says(block), f"block {offset}"


def test_damaged_and_odd_headers_decode_as_tarfile_decodes_them() -> None:
    rng = random.Random(7)
    data = archive(tarfile.GNU_FORMAT, rng)
    header = data[:512]
    odd = [
        b"",
        header[:100],
        bytes(512),
        header[:148] + b"       \x00" + header[156:],  # checksum of blanks
        header[:124] + b"\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x00" + header[136:],
        header[:100] + b"0000x44\x00" + header[108:],  # not octal
        header[:100] + "0000٤44\x00".encode()[:8] + header[108:],  # a non-ASCII digit
        header[:156] + b"0" + header[157:],  # another type: checksum no longer matches
        header[:108] + b"\x80" + header[109:],  # base-256 marker in uid
    ]
    for _ in range(300):  # random damage to a valid header
        damaged = bytearray(header)
        for _ in range(rng.randrange(1, 4)):
            damaged[rng.randrange(512)] = rng.randrange(256)
        odd.append(bytes(damaged))
    for buf in odd:
        assert we_say(buf) == tarfile_says(buf), buf[:160]


NUMERIC_FIELDS = [
    (100, 108),
    (108, 116),
    (116, 124),
    (124, 136),
    (136, 148),
    (329, 337),
    (337, 345),
]
TEXT_FIELDS = [(0, 100), (157, 257), (265, 297), (297, 329), (345, 500)]


def with_checksum(buf: bytearray) -> bytes:
    """The header with its checksum made right again, so that what is compared is decoded."""
    buf[148:156] = b" " * 8
    buf[148:156] = b"%06o\x00 " % sum(buf)
    return bytes(buf)


def test_every_field_written_oddly_decodes_as_tarfile_decodes_it() -> None:
    rng = random.Random(11)
    header = archive(tarfile.USTAR_FORMAT, rng)[:512]
    variants: list[bytes] = []
    for start, end in NUMERIC_FIELDS:
        width = end - start
        for value in (
            b"7" * width,  # every byte a digit, no terminator
            b" " * (width - 4) + b"123\x00",
            b"\x00" * width,
            b" " * width,
            b"12 34\x00\x00\x00"[:width].ljust(width, b"\x00"),
            b"\x1c\x1d17\x00".ljust(width, b"\x00"),
            b"0o17\x00".ljust(width, b"\x00"),
            b"1_7\x00".ljust(width, b"\x00"),
            b"\x80" + bytes(width - 2) + b"\x05",  # base-256
        ):
            buf = bytearray(header)
            buf[start:end] = value
            variants.append(with_checksum(buf))
    for start, end in TEXT_FIELDS:
        for value in (b"a" * (end - start), "é/ü\udcff".encode(errors="surrogatepass"), b"x/"):
            buf = bytearray(header)
            buf[start:end] = value[: end - start].ljust(end - start, b"\x00")
            variants.append(with_checksum(buf))
    for kind in (b"0", b"\x00", b"5", b"L", b"K", b"x", b"g", b"S", b"7", b"Z"):
        buf = bytearray(header)
        buf[156:157] = kind
        variants.append(with_checksum(buf))
    for _ in range(500):  # random bytes anywhere, the checksum made right
        buf = bytearray(header)
        for _ in range(rng.randrange(1, 6)):
            buf[rng.randrange(512)] = rng.choice(
                [0, 0x20, 0x2F, 0x30, 0x37, 0x38, rng.randrange(256)]
            )
        variants.append(with_checksum(buf))
    for buf in variants:
        assert we_say(buf) == tarfile_says(buf), buf[:160]


def test_a_v7_directory_and_a_signed_checksum() -> None:
    v7 = tarfile.TarInfo("old/dir/")
    v7.type = tarfile.AREGTYPE
    buf = v7.tobuf(tarfile.USTAR_FORMAT, ENCODING, ERRORS)
    assert we_say(buf) == tarfile_says(buf)
    assert we_say(buf)["name"] == "old/dir"
    # a header whose checksum only the signed sum matches (written by old tars)
    high = tarfile.TarInfo("x")
    high.uname = "\xe9\xe9"
    raw = bytearray(high.tobuf(tarfile.USTAR_FORMAT, "latin-1", "strict"))
    signed = 256 + sum(b - 256 if b > 127 else b for i, b in enumerate(raw) if not 148 <= i < 156)
    raw[148:156] = b"%06o\x00 " % signed
    assert decode_header(tarfile.TarInfo, bytes(raw), ENCODING, ERRORS) is None
    assert we_say(bytes(raw)) == tarfile_says(bytes(raw))
