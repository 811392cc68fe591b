"""The Python site-packages and node_modules layers of the benchmark image."""

from __future__ import annotations

import json
import re
from typing import Any

from bench.scan.corpus import Corpus, hex_string
from bench.scan.layer import Layer

SITE = "usr/local/lib/python3.11/site-packages"
NODE = "srv/app/node_modules"


def _dist_metadata(corpus: Corpus, name: str, version: str, requires: list[str]) -> bytes:
    rng = corpus.rng
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {' '.join(corpus.word() for _ in range(rng.randint(4, 10)))}",
        f"Home-page: https://github.com/{corpus.name()}/{name}",
        f"Author: {corpus.word().capitalize()} {corpus.word().capitalize()}",
        f"Author-email: {corpus.word()}@example.org",
        f"License: {rng.choice(['MIT', 'BSD-3-Clause', 'Apache-2.0', 'PSF-2.0', 'MPL-2.0'])}",
        "Platform: any",
        "Classifier: Development Status :: 5 - Production/Stable",
        "Classifier: Intended Audience :: Developers",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: Programming Language :: Python :: 3.11",
        "Requires-Python: >=3.8",
    ]
    lines += [f"Requires-Dist: {r}" for r in requires]
    lines += ["Description-Content-Type: text/markdown", "", ""]
    readme = corpus.text(rng.randint(500, 12000)).decode()
    return ("\n".join(lines) + f"# {name}\n\n" + readme + "\n").encode()


def site_packages_layer(corpus: Corpus, count: int, payload: int) -> tuple[Layer, list[Any]]:
    rng = corpus.rng
    famous = [
        "requests", "urllib3", "certifi", "idna", "charset-normalizer", "six",
        "python-dateutil", "pytz", "PyYAML", "numpy", "pandas", "Jinja2", "MarkupSafe",
        "click", "Flask", "Werkzeug", "itsdangerous", "attrs", "packaging", "pyparsing",
        "setuptools", "wheel", "pip", "cryptography", "cffi", "pycparser", "protobuf",
        "grpcio", "boto3", "botocore", "s3transfer", "jmespath", "aiohttp", "yarl",
        "multidict", "frozenlist", "aiosignal", "async-timeout", "pydantic", "typing_extensions",
        "SQLAlchemy", "greenlet", "psycopg2-binary", "redis", "celery", "kombu", "billiard",
        "Pillow", "lxml", "scipy", "tzdata", "rsa", "pyasn1", "google-auth", "cachetools",
    ]  # fmt: skip
    names = list(famous)
    seen = {n.lower() for n in names}
    while len(names) < count:
        candidate = corpus.name(2) + rng.choice(["", "", "-py", "lib", "_utils", ".core", "-sdk"])
        if candidate.lower() not in seen:
            seen.add(candidate.lower())
            names.append(candidate)
    sizes = corpus.sizes(count, payload, sigma=1.6)
    layer = Layer()
    dists = []
    for name, size in zip(names, sizes, strict=True):
        version = f"{rng.randint(0, 5)}.{rng.randint(0, 30)}.{rng.randint(0, 12)}"
        module = re.sub(r"[-.]", "_", name).lower()
        dist_dir = f"{SITE}/{re.sub(r'[-]', '_', name)}-{version}.dist-info"
        requires = [rng.choice(names) for _ in range(rng.randint(0, 4))]
        files: list[tuple[str, bytes]] = []
        remaining = size
        for index in range(rng.randint(1, 12)):
            if remaining <= 0:
                break
            piece = min(remaining, max(256, int(size * rng.uniform(0.05, 0.5))))
            remaining -= piece
            if rng.random() < 0.2:
                path = f"{SITE}/{module}/_speedups{index}.cpython-311-x86_64-linux-gnu.so"
                files.append((path, corpus.binary(piece)))
            else:
                path = f"{SITE}/{module}/{corpus.word()}{index}.py"
                files.append((path, corpus.text(piece)))
        files.insert(0, (f"{SITE}/{module}/__init__.py", corpus.text(rng.randint(0, 2000))))
        record = "".join(
            f"{path.removeprefix(SITE + '/')},sha256={hex_string(rng, 43)},{len(data)}\n"
            for path, data in files
        )
        layer.file(f"{dist_dir}/METADATA", _dist_metadata(corpus, name, version, requires))
        layer.file(f"{dist_dir}/RECORD", record.encode())
        layer.file(f"{dist_dir}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3\n")
        layer.file(f"{dist_dir}/INSTALLER", b"pip\n")
        layer.file(f"{dist_dir}/top_level.txt", f"{module}\n".encode())
        if rng.random() < 0.5:
            layer.file(f"{dist_dir}/LICENSE", corpus.text(rng.randint(1000, 11000)))
        for path, data in files:
            layer.file(path, data)
        dists.append((name, version, dist_dir, f"{SITE}/{module}"))
    return layer, dists


def _package_json(corpus: Corpus, name: str, version: str, deps: list[str]) -> bytes:
    rng = corpus.rng
    document: dict[str, Any] = {
        "name": name,
        "version": version,
        "description": " ".join(corpus.word() for _ in range(rng.randint(3, 12))),
        "main": "lib/index.js",
        "license": rng.choice(["MIT", "ISC", "Apache-2.0", "BSD-2-Clause"]),
        "repository": {"type": "git", "url": f"git+https://github.com/{corpus.name()}/x.git"},
        "keywords": [corpus.word() for _ in range(rng.randint(0, 6))],
        "scripts": {"test": "mocha", "build": "tsc -p ."},
        "dependencies": {dep: f"^{rng.randint(0, 9)}.{rng.randint(0, 9)}.0" for dep in deps},
        "engines": {"node": ">=14"},
        "_resolved": f"https://registry.npmjs.org/{name}/-/x-{version}.tgz",
        "_integrity": f"sha512-{hex_string(rng, 86)}",
    }
    return json.dumps(document, indent=2).encode()


def node_modules_layer(corpus: Corpus, count: int, payload: int) -> tuple[Layer, list[Any]]:
    rng = corpus.rng
    famous = [
        "lodash", "express", "react", "react-dom", "axios", "debug", "ms", "chalk", "commander",
        "moment", "uuid", "semver", "minimist", "qs", "body-parser", "cookie", "mime",
        "mime-types", "tslib", "rxjs", "yargs", "glob", "minimatch", "inherits", "safe-buffer",
        "readable-stream", "string_decoder", "ws", "follow-redirects", "jsonwebtoken",
    ]  # fmt: skip
    scopes = ["@types", "@babel", "@aws-sdk", "@smithy", "@nestjs", "@emotion"]
    entries: list[tuple[str, str]] = []  # (path of the package dir under NODE, name)
    used: set[str] = set()
    for name in famous:
        entries.append((name, name))
        used.add(name)
    while len(entries) < count:
        roll = rng.random()
        if roll < 0.2:
            name = f"{rng.choice(scopes)}/{corpus.name(2)}"
            where = name
        elif roll < 0.35 and entries:
            parent = rng.choice(entries)[0]
            name = rng.choice(famous) if rng.random() < 0.5 else corpus.name(2)
            where = f"{parent}/node_modules/{name}"
        else:
            name = corpus.name(2) + rng.choice(["", "", "-js", ".js", "-utils", "-core"])
            where = name
        if where in used:
            continue
        used.add(where)
        entries.append((where, name))
    sizes = corpus.sizes(count, payload, sigma=1.5)
    layer = Layer()
    packages = []
    names = [name for _, name in entries]
    for (where, name), size in zip(entries, sizes, strict=True):
        version = f"{rng.randint(0, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 15)}"
        directory = f"{NODE}/{where}"
        deps = rng.sample(names, k=rng.randint(0, 5))
        layer.file(f"{directory}/package.json", _package_json(corpus, name, version, deps))
        layer.file(f"{directory}/README.md", corpus.text(rng.randint(300, 9000)))
        layer.file(f"{directory}/LICENSE", corpus.text(1100))
        remaining = size
        for index in range(rng.randint(1, 8)):
            if remaining <= 0:
                break
            piece = min(remaining, max(128, int(size * rng.uniform(0.05, 0.5))))
            remaining -= piece
            roll = rng.random()
            if roll < 0.1:
                layer.file(f"{directory}/build/Release/addon{index}.node", corpus.binary(piece))
            elif roll < 0.25:
                layer.file(f"{directory}/dist/{corpus.word()}.min.js.map", corpus.text(piece))
            else:
                layer.file(f"{directory}/lib/{corpus.word()}{index}.js", corpus.text(piece))
        layer.file(f"{directory}/lib/index.js", corpus.text(rng.randint(100, 4000)))
        packages.append((name, version, directory))
    return layer, packages
