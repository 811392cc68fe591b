"""A real Go executable, built by the machine's Go toolchain (Debian's golang-go) without network.

The module requires three others, all in a hand-made vendor/ directory built with -mod=vendor,
so the linker records them with versions as it would for downloaded modules:
`example.com/lib v1.2.3` as is, `example.com/old v1.0.0` replaced by the module
`example.com/fork v1.0.1`, and `example.com/local v0.1.0` replaced by the directory `./local`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MAIN_MODULE = "example.com/app"
# (path, version) as the scanner should report them, the main module first
MODULES = [
    (MAIN_MODULE, "(devel)"),
    ("example.com/lib", "v1.2.3"),
    ("example.com/local", "(devel)"),  # replaced by a directory: no version
    ("example.com/fork", "v1.0.1"),  # example.com/old v1.0.0 => example.com/fork v1.0.1
]

_GO_MOD = f"""module {MAIN_MODULE}

go 1.19

require (
\texample.com/lib v1.2.3
\texample.com/local v0.1.0
\texample.com/old v1.0.0
)

replace example.com/old v1.0.0 => example.com/fork v1.0.1

replace example.com/local => ./local
"""
_MODULES_TXT = """# example.com/lib v1.2.3
## explicit; go 1.19
example.com/lib
# example.com/local v0.1.0 => ./local
## explicit; go 1.19
example.com/local
# example.com/old v1.0.0 => example.com/fork v1.0.1
## explicit; go 1.19
example.com/old
# example.com/local => ./local
# example.com/old v1.0.0 => example.com/fork v1.0.1
"""
_MAIN = """package main

import (
\t"os"

\t"example.com/lib"
\t"example.com/local"
\t"example.com/old"
)

func main() { os.Stdout.WriteString(lib.Name() + old.Name() + local.Name() + "\\n") }
"""


@dataclass(frozen=True)
class GoBinary:
    data: bytes
    toolchain: str  # what `go env GOVERSION` says, e.g. "go1.19.8"


def go_command() -> str:
    found = shutil.which("go")
    if found is None:
        raise RuntimeError(
            "the Go toolchain is required by these tests: install Debian's golang-go"
        )
    return found


def build_go_binary(directory: Path) -> GoBinary:
    """Write the module under `directory` and build it; returns the executable's bytes."""
    for package in ("lib", "local", "old"):
        source = f'package {package}\n\nfunc Name() string {{ return "{package}" }}\n'
        _write(directory / "vendor" / "example.com" / package / f"{package}.go", source)
    _write(directory / "local" / "go.mod", "module example.com/local\n")
    _write(
        directory / "local" / "local.go",
        'package local\n\nfunc Name() string { return "local" }\n',
    )
    _write(directory / "vendor" / "modules.txt", _MODULES_TXT)
    _write(directory / "go.mod", _GO_MOD)
    _write(directory / "main.go", _MAIN)
    environment = {
        **os.environ,
        "GOFLAGS": "-mod=vendor",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }
    if "HOME" not in environment and "GOCACHE" not in environment:
        environment["GOCACHE"] = str(directory / "cache")
    go = go_command()
    output = directory / "app"
    subprocess.run(  # noqa: S603
        [go, "build", "-o", str(output), "."],
        cwd=directory,
        env=environment,
        check=True,
        capture_output=True,
    )
    version = subprocess.run(  # noqa: S603
        [go, "env", "GOVERSION"], env=environment, check=True, capture_output=True, text=True
    ).stdout.strip()
    return GoBinary(data=output.read_bytes(), toolchain=version)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
