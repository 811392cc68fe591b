"""Catalogue of the synthetic world behind seed_data: word lists, packages and advisories."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, Final

from cvss import CVSS2, CVSS3  # type: ignore[import-untyped]

DAY: Final = 86_400
# Advisories are shared by every generated image, so their dates cannot follow the caller's clock.
_HORIZON: Final = int(datetime(2025, 12, 31, tzinfo=UTC).timestamp())

# registry -> (data-source name, remotes). registry.example.com stands for a private registry.
_REGISTRIES: Final[dict[str, tuple[str, str]]] = {
    "docker.io": ("Public DockerHub", "library/nginx library/redis library/postgres library/python "
                  "library/node library/httpd library/memcached bitnami/kafka grafana/grafana"),
    "quay.io": ("Quay", "prometheus/prometheus prometheus/node-exporter keycloak/keycloak "
                "jetstack/cert-manager-controller argoproj/argocd"),
    "gcr.io": ("Google Container Registry", "distroless/base-debian12 kaniko-project/executor "
               "cadvisor/cadvisor"),
    "ghcr.io": ("GitHub Container Registry", "fluxcd/source-controller "
                "open-telemetry/opentelemetry-collector external-secrets/external-secrets"),
    "registry.example.com": ("Internal registry", "payments/api payments/worker platform/gateway "
                             "data/etl-runner web/storefront"),
}  # fmt: skip
REPOSITORIES: Final = tuple(
    (registry, remote)
    for registry, (_, remotes) in _REGISTRIES.items()
    for remote in remotes.split()
)
SOURCES: Final = {registry: source for registry, (source, _) in _REGISTRIES.items()}

_ARM, _X86 = ("amd64", "arm64"), ("x86_64", "aarch64")
_HUB, _BASE = "docker.io/library/", "registry.example.com/base/"
# (operatingSystem, family = package ecosystem, tag suffixes, architectures, base image)
OPERATING_SYSTEMS: Final[tuple[tuple[str, str, tuple[str, ...], tuple[str, str], str], ...]] = (
    ("debian:12", "debian", ("", "-bookworm", "-slim"), _ARM, _HUB + "debian:12-slim"),
    ("debian:11", "debian", ("-bullseye", "-slim-bullseye"), _ARM, _HUB + "debian:11-slim"),
    ("ubuntu:22.04", "ubuntu", ("-jammy", ""), _ARM, _HUB + "ubuntu:22.04"),
    ("ubuntu:24.04", "ubuntu", ("-noble", ""), _ARM, _HUB + "ubuntu:24.04"),
    ("alpine:3.19", "alpine", ("-alpine", "-alpine3.19"), _X86, _HUB + "alpine:3.19"),
    ("alpine:3.20", "alpine", ("-alpine", "-alpine3.20"), _X86, _HUB + "alpine:3.20"),
    ("rhel:9", "rhel", ("-ubi9", "-ubi9-minimal"), _X86, _BASE + "ubi9-minimal:latest"),
    ("rhel:8", "rhel", ("-ubi8",), _X86, _BASE + "ubi8:latest"),
)

_DEB: Final = """adduser apt base-files base-passwd bash bsdutils ca-certificates coreutils curl
dash debconf debian-archive-keyring debianutils diffutils dpkg e2fsprogs findutils gcc-12-base gpgv
grep gzip hostname init-system-helpers libacl1 libapt-pkg6.0 libattr1 libaudit1 libblkid1
libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2 libcom-err2 libcrypt1 libcurl4 libdb5.3 libexpat1
libext2fs2 libffi8 libgcc-s1 libgcrypt20 libgmp10 libgnutls30 libgpg-error0 libgssapi-krb5-2
libhogweed6 libidn2-0 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libldap-2.5-0 liblz4-1
liblzma5 libmd0 libmount1 libncursesw6 libnettle8 libnghttp2-14 libp11-kit0 libpam-modules
libpam-runtime libpam0g libpcre2-8-0 libpsl5 librtmp1 libsasl2-2 libseccomp2 libselinux1
libsmartcols1 libsqlite3-0 libssh2-1 libssl3 libstdc++6 libsystemd0 libtasn1-6 libtinfo6 libudev1
libunistring2 libuuid1 libxml2 libxxhash0 libzstd1 login mawk mount ncurses-base ncurses-bin
openssl passwd perl-base procps sed sensible-utils sysvinit-utils tar tzdata util-linux zlib1g git
libpq5 libjpeg62-turbo libpng16-16 libtiff6 libwebp7 libfreetype6 libreadline8 python3.11
libpython3.11-minimal libpython3.11-stdlib wget gnupg libbrotli1 libevent-2.1-7 libgdbm6
libglib2.0-0 imagemagick ghostscript linux-libc-dev binutils xz-utils"""
_APK: Final = """alpine-baselayout alpine-baselayout-data alpine-keys apk-tools busybox
busybox-binsh ca-certificates ca-certificates-bundle libc-utils libcrypto3 libssl3 musl musl-utils
scanelf ssl_client zlib brotli-libs c-ares curl libcurl libidn2 libunistring nghttp2-libs libexpat
libffi libgcc libstdc++ ncurses-libs ncurses-terminfo-base readline sqlite-libs xz-libs zstd-libs
libbz2 gdbm mpdecimal libuuid libintl icu-libs pcre2 libxml2 libxslt libjpeg-turbo libpng libwebp
tiff freetype fontconfig libx11 libxcb libmd libbsd libevent libsodium lz4-libs openssl tzdata bash
git libpq krb5-libs keyutils-libs libcom_err libldap libsasl libgcrypt libgpg-error gnutls p11-kit
nettle gmp libtasn1 libzip yaml"""
_RPM: Final = """acl audit-libs basesystem bash bzip2-libs ca-certificates coreutils-single
crypto-policies curl-minimal cyrus-sasl-lib expat filesystem gawk gdbm-libs glib2 glibc
glibc-common glibc-minimal-langpack gmp gnupg2 gnutls gpgme grep json-c keyutils-libs krb5-libs
libacl libarchive libattr libblkid libbrotli libcap libcap-ng libcom_err libcurl-minimal libdnf
libffi libgcc libgcrypt libgpg-error libidn2 libksba libmount libnghttp2 librepo libselinux
libsemanage libsepol libsmartcols libsolv libstdc++ libtasn1 libunistring libuuid libverto libxml2
libyaml libzstd lua-libs lz4-libs microdnf ncurses-base ncurses-libs nettle openldap openssl-libs
p11-kit pam pcre pcre2 readline redhat-release rpm rpm-libs sed setup shadow-utils sqlite-libs
systemd-libs tar tzdata xz-libs zlib python3 python3-libs libxcrypt openssl"""
_PYPI: Final = """requests urllib3 certifi idna charset-normalizer setuptools pip wheel six
python-dateutil pyyaml jinja2 markupsafe click flask werkzeug itsdangerous django sqlalchemy
psycopg2-binary cryptography cffi pycparser attrs packaging pydantic pydantic-core
typing-extensions gunicorn uvicorn fastapi starlette anyio sniffio h11 httpx httpcore protobuf
grpcio boto3 botocore s3transfer jmespath numpy pandas pytz tzdata pillow lxml aiohttp multidict
yarl frozenlist redis celery kombu"""
_NPM: Final = """express body-parser cookie debug ms qs send serve-static path-to-regexp accepts
mime mime-types negotiator lodash axios follow-redirects semver minimist ws jsonwebtoken jws jwa
moment uuid chalk commander glob minimatch brace-expansion yargs tar node-fetch tough-cookie ajv
json5 word-wrap ip socks undici cross-spawn postcss nanoid braces micromatch http-proxy-middleware
webpack terser"""
# Stems for made-up library names that pad OS package lists to realistic sizes.
_STEMS: Final = """acorn argon avro bolt cairn delta ember fjord gale harbor iris jasper kestrel
lumen marble nimbus onyx pixel quartz raven sable tundra umber vortex willow xenon yarrow zephyr
aspen birch cedar dune ether flint garnet hazel indigo juniper krait lotus maple nectar"""

# ecosystem -> package names (OS families share names with their package format)
PACKAGES: Final[dict[str, tuple[str, ...]]] = {
    eco: tuple(words.split())
    for eco, words in (("debian", _DEB), ("ubuntu", _DEB), ("alpine", _APK), ("rhel", _RPM),
                       ("pypi", _PYPI), ("npm", _NPM))
}  # fmt: skip
LANGUAGE_SOURCES: Final = {"pypi": "PYTHON", "npm": "NODEJS"}  # -> storage.SourceType
LANGUAGE_PATHS: Final[dict[str, tuple[str, ...]]] = {
    "pypi": ("usr/local/lib/python3.11/site-packages/{name}-{version}.dist-info/METADATA",
             "opt/venv/lib/python3.12/site-packages/{name}-{version}.dist-info/METADATA"),
    "npm": ("usr/src/app/node_modules/{name}/package.json", "app/node_modules/{name}/package.json"),
}  # fmt: skip
# ecosystem -> (version shapes, advisory link, storage.VulnOrigin); in version shapes {up} is the
# upstream version, {r} the revision, {k} the update and {osv} the OS release.
ECOSYSTEMS: Final[dict[str, tuple[tuple[str, ...], str, str]]] = {
    "debian": (("{up}-{r}", "{up}-{r}+deb{osv}u{k}", "1:{up}-{r}", "{up}-{r}~deb{osv}u{k}"),
               "https://security-tracker.debian.org/tracker/{id}", "VULN_ORIGIN_DEBIAN"),
    "ubuntu": (("{up}-{r}ubuntu{k}", "{up}-0ubuntu0.{osv}.{k}", "1:{up}-{r}build{k}"),
               "https://ubuntu.com/security/{id}", "VULN_ORIGIN_UBUNTU"),
    "alpine": (("{up}-r{k}",), "https://security.alpinelinux.org/vuln/{id}", "VULN_ORIGIN_ALPINE"),
    "rhel": (("{up}-{r}.el{osv}", "{up}-{r}.el{osv}_{k}"),
             "https://access.redhat.com/security/cve/{id}", "VULN_ORIGIN_RED_HAT"),
    "pypi": (("{up}",), "https://osv.dev/vulnerability/{id}", "VULN_ORIGIN_OSV"),
    "npm": (("{up}",), "https://osv.dev/vulnerability/{id}", "VULN_ORIGIN_OSV"),
}  # fmt: skip

# CVSS metrics: "key wireField value:ENUM_NAME:weight ..."; weights roughly follow published CVEs.
_CVSS3: Final = (
    "AV attackVector N:ATTACK_NETWORK:60 A:ATTACK_ADJACENT:5 L:ATTACK_LOCAL:32 P:ATTACK_PHYSICAL:3",
    "AC attackComplexity L:COMPLEXITY_LOW:80 H:COMPLEXITY_HIGH:20",
    "PR privilegesRequired N:PRIVILEGE_NONE:60 L:PRIVILEGE_LOW:30 H:PRIVILEGE_HIGH:10",
    "UI userInteraction N:UI_NONE:65 R:UI_REQUIRED:35",
    "S scope U:UNCHANGED:85 C:CHANGED:15",
    "C confidentiality H:IMPACT_HIGH:45 L:IMPACT_LOW:25 N:IMPACT_NONE:30",
    "I integrity H:IMPACT_HIGH:40 L:IMPACT_LOW:25 N:IMPACT_NONE:35",
    "A availability H:IMPACT_HIGH:55 L:IMPACT_LOW:15 N:IMPACT_NONE:30",
)
_CVSS2: Final = (
    "AV attackVector N:ATTACK_NETWORK:70 A:ATTACK_ADJACENT:5 L:ATTACK_LOCAL:25",
    "AC accessComplexity L:ACCESS_LOW:60 M:ACCESS_MEDIUM:30 H:ACCESS_HIGH:10",
    "Au authentication N:AUTH_NONE:80 S:AUTH_SINGLE:18 M:AUTH_MULTIPLE:2",
    "C confidentiality P:IMPACT_PARTIAL:50 C:IMPACT_COMPLETE:20 N:IMPACT_NONE:30",
    "I integrity P:IMPACT_PARTIAL:50 C:IMPACT_COMPLETE:20 N:IMPACT_NONE:30",
    "A availability P:IMPACT_PARTIAL:50 C:IMPACT_COMPLETE:20 N:IMPACT_NONE:30",
)
# storage.VulnerabilitySeverity by ACS score: lower bounds, highest first.
_SEVERITY_BANDS: Final = (
    (9.0, "CRITICAL_VULNERABILITY_SEVERITY"), (7.0, "IMPORTANT_VULNERABILITY_SEVERITY"),
    (4.0, "MODERATE_VULNERABILITY_SEVERITY"),
)  # fmt: skip
# Advisory summaries: "<flaw> in <place> of <package> allows <actor> to <outcome> <trigger>."
_FLAWS, _PLACES, _ACTORS, _OUTCOMES, _TRIGGERS, _TAILS = (
    words.split("|")
    for words in (
        "A heap-based buffer overflow|An integer overflow|A use-after-free|A double free|"
        "A NULL pointer dereference|An out-of-bounds read|An out-of-bounds write|A race condition|"
        "Improper input validation|An uncontrolled recursion|Improper certificate validation|"
        "A path traversal flaw|An infinite loop|Inefficient regular expression complexity",
        "the ASN.1 parser|the HTTP/2 frame handler|the TLS handshake code|the XML parser|"
        "the decompression routine|the URL parser|the cookie handling code|the DNS resolver|"
        "the image decoder|the archive extractor|the header parsing logic|the JSON decoder",
        "a remote attacker|a local user|an unauthenticated attacker|an authenticated user|"
        "a malicious server|a crafted input file",
        "cause a denial of service (application crash)|execute arbitrary code|escalate privileges|"
        "read sensitive information from process memory|bypass access restrictions|"
        "cause excessive CPU consumption|corrupt heap memory|inject arbitrary headers",
        "via a crafted request|via a specially crafted file|via a long header value|"
        "via deeply nested input|via a malformed certificate|via a crafted archive",
        "Upgrading to a fixed package version resolves the issue.|"
        "The highest threat from this vulnerability is to system availability.|"
        "Exploitation requires the affected feature to be enabled in the configuration.|"
        "This flaw exists because of an incorrect length calculation.|"
        "Applications that parse untrusted input are affected.",
    )
)
_GHSA_ALPHABET: Final = "23456789cfghjmpqrvwx"

# Image metadata words.
_OCI: Final = "org.opencontainers.image."
LABELS: Final[dict[str, str]] = {
    "maintainer": "{author}", _OCI + "version": "{version}", _OCI + "revision": "{revision}",
    _OCI + "source": "https://github.com/example/{title}", _OCI + "created": "{created}",
    _OCI + "licenses": "Apache-2.0", _OCI + "title": "{title}", _OCI + "vendor": "Example Org",
    _OCI + "description": "{title} container image", "io.k8s.display-name": "{title}",
    "release": "{release}", "build-date": "{created}",
}  # fmt: skip
AUTHORS: Final = ("", "", "", "Platform Team <platform@example.com>", "builder@example.com")
USERS: Final = ("", "", "root", "1001", "nobody", "app", "65532:65532")
VOLUMES: Final = ("/data", "/var/lib/app", "/var/log/app", "/var/cache/nginx")
# (entrypoint, command)
PROGRAMS: Final[tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = (
    (("/docker-entrypoint.sh",), ("nginx", "-g", "daemon off;")), ((), ("python3", "-m", "app")),
    (("docker-entrypoint.sh",), ("redis-server",)), (("/usr/bin/tini", "--"), ("node", "app.js")),
    ((), ("gunicorn", "-b", "0.0.0.0:8000", "app.wsgi:application")),
    (("/bin/app",), ("--config", "/etc/app/config.yaml")), (("/usr/local/bin/run",), ("serve",)),
)  # fmt: skip
_INSTALL: Final = "apt-get update && apt-get install -y {pkgs} && rm -rf /var/lib/apt/lists/*"
# Dockerfile instruction -> (weight, value templates); only RUN, COPY and ADD make a layer.
LAYER_STEPS: Final[dict[str, tuple[int, tuple[str, ...]]]] = {
    "RUN": (30, ("/bin/sh -c {install}", "/bin/sh -c set -eux; mkdir -p /app; chown {user} /app")),
    "COPY": (15, ("file:{hex} in /app/", "dir:{hex} in /usr/src/app", "file:{hex} in /etc/app/")),
    "ADD": (2, ("file:{hex} in /opt/",)),
    "ENV": (15, ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "LANG=C.UTF-8", "PYTHONUNBUFFERED=1", "NODE_ENV=production", "TZ=UTC")),
    "CMD": (5, ("{command}",)),
    "ENTRYPOINT": (3, ("{entrypoint}",)),
    "LABEL": (8, ("{label}",)),
    "WORKDIR": (6, ("/app", "/usr/src/app")),
    "USER": (4, ("{user}",)),
    "EXPOSE": (5, ("map[8080/tcp:{{}}]", "map[80/tcp:{{}}]", "map[9090/tcp:{{}}]")),
}  # fmt: skip
INSTALL_COMMANDS: Final[dict[str, str]] = {
    "debian": _INSTALL, "ubuntu": _INSTALL, "alpine": "apk add --no-cache {pkgs}",
    "rhel": "microdnf install -y {pkgs} && microdnf clean all",
}  # fmt: skip
# (scannerVersion, data-source id seed, data-source name)
SCANNERS: Final = (
    ("4.6.1", "scanner-v4", "Scanner V4"), ("4.5.3", "scanner-v4", "Scanner V4"),
    ("2.35.0", "stackrox-scanner", "StackRox Scanner"),
)  # fmt: skip


def timestamp(epoch: int) -> str:
    """RFC 3339 UTC timestamp with whole seconds and a `Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@cache
def synthetic_names(family: str) -> tuple[str, ...]:
    """Made-up but plausible library names of an OS family."""
    shape = "lib{stem}{n}" if family in ("debian", "ubuntu") else "{stem}{n}-libs"
    return tuple(shape.format(stem=stem, n=n) for stem in _STEMS.split() for n in range(10))


@lru_cache(maxsize=16_384)
def advisory_ids(package: str, eco: str) -> tuple[str, ...]:
    """Advisories known for a package: the same in every image, so searches find many images."""
    rng = random.Random(f"pool/{eco}/{package}")  # noqa: S311 - synthetic data, not secrets
    if rng.random() < 0.4:
        return ()
    return tuple(advisory_id(rng, eco) for _ in range(min(40, int(2 * rng.paretovariate(1.2)))))


def advisory_id(rng: random.Random, eco: str) -> str:
    """A CVE id, or now and then a GHSA (language packages) or DSA (Debian) id."""
    roll = rng.random()
    if eco in LANGUAGE_SOURCES and roll < 0.3:
        return "GHSA-" + "-".join("".join(rng.choices(_GHSA_ALPHABET, k=4)) for _ in range(3))
    if eco == "debian" and roll < 0.08:
        return f"DSA-{rng.randint(4000, 5999)}-{rng.randint(1, 3)}"
    year = max(2010, 2025 - int(rng.expovariate(0.3)))
    return f"CVE-{year}-{rng.randint(1000, 52999):04d}"


@lru_cache(maxsize=16_384)
def advisory(vid: str, eco: str, package: str) -> dict[str, Any]:
    """The per-advisory part of an EmbeddedVulnerability: a shared template, copy before use."""
    rng = random.Random(f"advisory/{vid}/{eco}/{package}")  # noqa: S311 - synthetic data
    year = int(vid[4:8]) if vid.startswith("CVE-") else rng.randint(2019, 2025)
    published = int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) + rng.randrange(360 * DAY)
    v2 = rng.random() < (0.6 if year < 2016 else 0.04)
    vector = ("" if v2 else "CVSS:3.1/") + "/".join(
        f"{key}:{rng.choices(values, weights)[0]}"
        for key, values, weights in _metric_choices(_CVSS2 if v2 else _CVSS3)
    )
    scores = cvss_object(vector)
    _, link, origin = ECOSYSTEMS[eco]
    info = {"cve": vid, "cvss": scores["score"], "summary": _summary(rng, package)}
    info.update(link=link.format(id=vid), scoreVersion="V2" if v2 else "V3")
    info["cvssV2" if v2 else "cvssV3"] = scores
    info["publishedOn"] = timestamp(published)
    info["lastModified"] = timestamp(min(published + rng.randrange(500 * DAY), _HORIZON))
    info.update(vulnerabilityType="IMAGE_VULNERABILITY", vulnerabilityTypes=["IMAGE_VULNERABILITY"])
    info.update(suppressed=False, severity=severity(scores["score"]), state="OBSERVED")
    info.update(nvdCvss=scores["score"], origin=origin)
    if rng.random() < 0.4:
        info["epss"] = {"epssProbability": round(rng.random() ** 4, 5)}
        info["epss"]["epssPercentile"] = round(rng.random(), 5)
    return info


@cache
def _metric_choices(table: tuple[str, ...]) -> tuple[tuple[str, list[str], list[int]], ...]:
    """Per metric: (vector key, values, weights)."""
    rows = [(row[0], [choice.split(":") for choice in row[2:]]) for row in map(str.split, table)]
    return tuple((key, [c[0] for c in opts], [int(c[2]) for c in opts]) for key, opts in rows)


@cache
def _metric_names(table: tuple[str, ...]) -> dict[tuple[str, str], tuple[str, str]]:
    """(vector key, value) -> (wire field, enum name)."""
    rows = [
        (row[0], row[1], choice.split(":")) for row in map(str.split, table) for choice in row[2:]
    ]
    return {(key, value): (field, name) for key, field, (value, name, _) in rows}


def _summary(rng: random.Random, package: str) -> str:
    text = (
        f"{rng.choice(_FLAWS)} in {rng.choice(_PLACES)} of {package} allows "
        f"{rng.choice(_ACTORS)} to {rng.choice(_OUTCOMES)} {rng.choice(_TRIGGERS)}."
    )
    for tail in rng.sample(_TAILS, 2):
        if len(text) < 130 or (rng.random() < 0.3 and len(text) + len(tail) < 300):
            text += " " + tail
    return text


@cache
def cvss_object(vector: str) -> dict[str, Any]:
    """The storage.CVSSV3 (or CVSSV2) wire object of a vector, scored by the cvss library."""
    if vector.startswith("CVSS:3"):
        v3 = CVSS3(vector)
        parts, names, score = vector.split("/")[1:], _metric_names(_CVSS3), float(v3.base_score)
        exploitability, impact, label = v3.esc, v3.isc, v3.severities()[0].upper()
    else:
        v2 = CVSS2(vector)
        parts, names, score = vector.split("/"), _metric_names(_CVSS2), float(v2.base_score)
        exploitability = 20 * v2.get_value("AV") * v2.get_value("AC") * v2.get_value("Au")
        impact, label = v2.impact_equation(), v2.severities()[0].upper() if score else "UNKNOWN"
    metrics = dict(names[key, value] for key, value in (part.split(":") for part in parts))
    return {
        "vector": vector,
        **metrics,
        "exploitabilityScore": round(float(exploitability), 1),
        "impactScore": max(0.0, round(float(impact), 1)),
        "score": score,
        "severity": label,
    }


def severity(score: float) -> str:
    """storage.VulnerabilitySeverity name of an ACS score."""
    for lower, name in _SEVERITY_BANDS:
        if score >= lower:
            return name
    return "LOW_VULNERABILITY_SEVERITY" if score > 0 else "UNKNOWN_VULNERABILITY_SEVERITY"
