"""The Debian packages of the benchmark image: real Debian 12 sources and generated ones, and a
realistic dpkg status database for them."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.scan.corpus import Corpus, hex_string

# Real Debian 12 source packages and some of their binaries; the rest is generated.
DEBIAN_SOURCES: list[tuple[str, list[str]]] = [
    ("base-files", ["base-files"]), ("bash", ["bash"]), ("coreutils", ["coreutils"]),
    ("glibc", ["libc6", "libc-bin"]), ("openssl", ["libssl3", "openssl"]), ("zlib", ["zlib1g"]),
    ("curl", ["curl", "libcurl4"]), ("apt", ["apt", "libapt-pkg6.0"]),
    ("systemd", ["libsystemd0", "libudev1"]),
    ("util-linux", ["util-linux", "libblkid1", "libmount1", "libuuid1", "libsmartcols1", "mount"]),
    ("gcc-12", ["libgcc-s1", "libstdc++6", "gcc-12-base"]),
    ("ncurses", ["libncursesw6", "libtinfo6", "ncurses-base", "ncurses-bin"]),
    ("perl", ["perl-base"]), ("pam", ["libpam0g", "libpam-modules", "libpam-runtime"]),
    ("shadow", ["login", "passwd"]), ("tar", ["tar"]), ("gzip", ["gzip"]),
    ("xz-utils", ["liblzma5"]), ("bzip2", ["libbz2-1.0"]), ("sed", ["sed"]), ("grep", ["grep"]),
    ("findutils", ["findutils"]), ("dpkg", ["dpkg"]), ("debianutils", ["debianutils"]),
    ("libxml2", ["libxml2"]), ("sqlite3", ["libsqlite3-0"]),
    ("krb5", ["libgssapi-krb5-2", "libkrb5-3", "libk5crypto3", "libkrb5support0"]),
    ("openldap", ["libldap-2.5-0"]), ("nghttp2", ["libnghttp2-14"]), ("libssh2", ["libssh2-1"]),
    ("gnutls28", ["libgnutls30"]), ("nettle", ["libnettle8", "libhogweed6"]),
    ("gmp", ["libgmp10"]), ("libidn2", ["libidn2-0"]), ("libunistring", ["libunistring2"]),
    ("p11-kit", ["libp11-kit0"]), ("libtasn1-6", ["libtasn1-6"]), ("libffi", ["libffi8"]),
    ("expat", ["libexpat1"]),
    ("python3.11", ["python3.11", "python3.11-minimal", "libpython3.11-stdlib"]),
    ("readline", ["libreadline8", "readline-common"]), ("libzstd", ["libzstd1"]),
    ("lz4", ["liblz4-1"]), ("libcap2", ["libcap2"]), ("libselinux", ["libselinux1"]),
    ("pcre2", ["libpcre2-8-0"]), ("audit", ["libaudit1", "libaudit-common"]),
    ("acl", ["libacl1"]), ("attr", ["libattr1"]), ("libgcrypt20", ["libgcrypt20"]),
    ("libgpg-error", ["libgpg-error0"]),
    ("e2fsprogs", ["e2fsprogs", "libcom-err2", "libext2fs2", "libss2", "logsave"]),
    ("ca-certificates", ["ca-certificates"]), ("tzdata", ["tzdata"]),
    ("libseccomp", ["libseccomp2"]), ("hostname", ["hostname"]),
    ("sysvinit", ["sysvinit-utils"]), ("libxcrypt", ["libcrypt1"]), ("db5.3", ["libdb5.3"]),
    ("libsemanage", ["libsemanage2", "libsemanage-common"]), ("libsepol", ["libsepol2"]),
    ("diffutils", ["diffutils"]), ("mawk", ["mawk"]), ("dash", ["dash"]),
    ("libbsd", ["libbsd0"]), ("libmd", ["libmd0"]), ("keyutils", ["libkeyutils1"]),
    ("brotli", ["libbrotli1"]), ("libpsl", ["libpsl5"]), ("rtmpdump", ["librtmp1"]),
    ("cyrus-sasl2", ["libsasl2-2", "libsasl2-modules-db"]), ("openssh", ["openssh-client"]),
    ("git", ["git", "git-man"]), ("gnupg2", ["gpgv", "gnupg", "dirmngr", "gpg"]),
    ("icu", ["libicu72"]), ("libyaml", ["libyaml-0-2"]), ("libedit", ["libedit2"]),
    ("libxau", ["libxau6"]), ("libxdmcp", ["libxdmcp6"]), ("libxcb", ["libxcb1"]),
    ("libx11", ["libx11-6", "libx11-data"]), ("freetype", ["libfreetype6"]),
    ("fontconfig", ["fontconfig-config", "libfontconfig1"]), ("libpng1.6", ["libpng16-16"]),
    ("libjpeg-turbo", ["libjpeg62-turbo"]), ("tiff", ["libtiff6"]), ("libwebp", ["libwebp7"]),
    ("jbigkit", ["libjbig0"]), ("lerc", ["liblerc4"]), ("libdeflate", ["libdeflate0"]),
]  # fmt: skip
SECTIONS = ["libs", "utils", "admin", "net", "python", "perl", "devel", "misc", "text", "web"]
MAINTAINERS = [
    "Debian Security Tools <team+pkg-security@tracker.debian.org>",
    "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
    "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>",
    "Debian Python Team <team+python@tracker.debian.org>",
    "Debian X Strike Force <debian-x@lists.debian.org>",
    "Laurent Bigonville <bigon@debian.org>",
    "Michael Stapelberg <stapelberg@debian.org>",
]


@dataclass(frozen=True)
class DebPackage:
    name: str
    source: str
    version: str
    source_version: str  # differs from version for binNMUs ("+b1")


def _deb_version(rng: random.Random) -> str:
    epoch = "1:" if rng.random() < 0.1 else ""
    upstream = f"{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}"
    revision = f"{rng.randint(1, 12)}"
    if rng.random() < 0.25:
        revision += f"+deb12u{rng.randint(1, 6)}"
    elif rng.random() < 0.1:
        revision += f"~deb12u{rng.randint(1, 3)}"
    return f"{epoch}{upstream}-{revision}"


def debian_packages(corpus: Corpus, count: int) -> list[DebPackage]:
    rng = corpus.rng
    sources = list(DEBIAN_SOURCES)
    taken = {name for _, binaries in sources for name in binaries} | {s for s, _ in sources}
    while sum(len(b) for _, b in sources) < count:
        base = corpus.name(2)
        if base in taken or f"lib{base}" in taken:
            continue
        soname = rng.randint(0, 9)
        binaries = [f"lib{base}{soname}"]
        if rng.random() < 0.5:
            binaries.append(f"{base}-common" if rng.random() < 0.5 else f"{base}-bin")
        if rng.random() < 0.3:
            binaries.append(f"{base}-utils")
        if rng.random() < 0.2:
            binaries.append(f"python3-{base}")
        taken.update(binaries)
        taken.add(base)
        sources.append((base, binaries))
    packages: list[DebPackage] = []
    for source, binaries in sources:
        version = _deb_version(rng)
        for binary in binaries:
            binnmu = rng.random() < 0.05
            packages.append(
                DebPackage(binary, source, f"{version}+b1" if binnmu else version, version)
            )
    return packages[:count]


def dpkg_stanza(corpus: Corpus, package: DebPackage, others: list[DebPackage]) -> str:
    rng = corpus.rng
    lines = [
        f"Package: {package.name}",
        "Status: install ok installed",
        f"Priority: {rng.choice(['required', 'important', 'optional', 'optional'])}",
        f"Section: {rng.choice(SECTIONS)}",
        f"Installed-Size: {rng.randint(20, 40000)}",
        f"Maintainer: {rng.choice(MAINTAINERS)}",
        "Architecture: amd64",
    ]
    if package.name.startswith("lib"):
        lines.append("Multi-Arch: same")
    if package.source != package.name:
        if package.source_version != package.version:
            lines.append(f"Source: {package.source} ({package.source_version})")
        else:
            lines.append(f"Source: {package.source}")
    lines.append(f"Version: {package.version}")
    depends = rng.sample(others, k=min(len(others), rng.randint(0, 6)))
    if depends:
        rendered = [
            f"{d.name} (>= {d.version.split('-')[0]})" if rng.random() < 0.6 else d.name
            for d in depends
        ]
        lines.append("Depends: " + ", ".join(rendered))
    if rng.random() < 0.1:
        lines.append(f"Pre-Depends: {rng.choice(others).name}")
    if rng.random() < 0.15:
        lines.append(f"Conffiles:\n /etc/{package.name}/{package.name}.conf {hex_string(rng, 32)}")
    synopsis = " ".join(corpus.word() for _ in range(rng.randint(3, 8)))
    lines.append(f"Description: {synopsis}")
    for paragraph in range(rng.randint(1, 3)):
        if paragraph:
            lines.append(" .")
        for _ in range(rng.randint(1, 5)):
            lines.append(" " + " ".join(corpus.word() for _ in range(rng.randint(8, 12))))
    lines.append(f"Homepage: https://{corpus.name(2)}.example.org/")
    return "\n".join(lines) + "\n"


def dpkg_status(corpus: Corpus, packages: list[DebPackage]) -> bytes:
    return "\n".join(dpkg_stanza(corpus, p, packages) for p in packages).encode()
