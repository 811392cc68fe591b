"""The benchmark image: five layers (~120 MB compressed) built from a seed, same seed same
digests, cached under bench/.work/scan."""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.scan import MB
from bench.scan.corpus import Corpus, hex_string
from bench.scan.debian import DebPackage, debian_packages, dpkg_status
from bench.scan.languages import NODE, node_modules_layer, site_packages_layer
from bench.scan.layer import Layer
from tests.support.oci.layers import Blob, layer_from_tar
from tests.support.oci.samples import DEBIAN_OS_RELEASE

RECIPE_VERSION = 1  # bump when the image recipe changes: cached blobs are rebuilt


@dataclass
class LayerInfo:
    name: str
    compression: str
    compressed: int
    inflated: int
    entries: int
    packages: str


@dataclass
class ImageRecipe:
    """What was built: the layers (bottom first) and the names a feed can refer to."""

    layers: list[Blob]
    info: list[LayerInfo]
    debian: list[DebPackage]
    python: list[tuple[str, str]]  # (name, version) still present after the whiteouts
    npm: list[tuple[str, str]]
    expected_components: int


def build_image(seed: int) -> ImageRecipe:
    """The benchmark image: same seed, same bytes (and digests)."""
    rng = random.Random(seed)
    corpus = Corpus(rng)
    blobs: list[Blob] = []
    info: list[LayerInfo] = []

    def finish(name: str, layer: Layer, compression: str, packages: str) -> None:
        tar = layer.builder.tar()
        blob = layer_from_tar(tar, compression)  # type: ignore[arg-type]
        blobs.append(blob)
        entries = layer.files + len(layer.dirs)
        info.append(LayerInfo(name, compression, blob.size, len(tar), entries, packages))

    # 1. Debian base: os-release, dpkg database, docs and libraries of every package
    debian = debian_packages(corpus, 400)
    base = Layer()
    base.file("etc/os-release", DEBIAN_OS_RELEASE)
    base.file("etc/debian_version", b"12.5\n")
    base.file("var/lib/dpkg/status", dpkg_status(corpus, debian))
    sizes = corpus.sizes(len(debian), 72 * MB, sigma=1.4)
    for package, size in zip(debian, sizes, strict=True):
        listed: list[str] = []
        doc = f"usr/share/doc/{package.name}"
        base.file(f"{doc}/copyright", corpus.text(rng.randint(800, 20000)))
        base.file(f"{doc}/changelog.Debian.gz", corpus.compressed(rng.randint(300, 30000)))
        listed += [f"/{doc}/copyright", f"/{doc}/changelog.Debian.gz"]
        if package.name.startswith("lib"):
            real = f"usr/lib/x86_64-linux-gnu/{package.name}.so.{package.version.split('-')[0]}"
            real = real.replace(":", "_")
            base.file(real, corpus.binary(size))
            base.symlink(f"usr/lib/x86_64-linux-gnu/{package.name}.so.1", real.rsplit("/")[-1])
            listed.append("/" + real)
        else:
            half = size // 2
            base.file(f"usr/bin/{package.name}", corpus.binary(half), mode=0o755)
            base.file(f"usr/share/{package.name}/data.txt", corpus.text(size - half))
            listed += [f"/usr/bin/{package.name}", f"/usr/share/{package.name}/data.txt"]
            if rng.random() < 0.3:
                base.file(f"usr/share/man/man1/{package.name}.1.gz", corpus.compressed(3000))
        base.file(f"var/lib/dpkg/info/{package.name}.list", "\n".join(listed).encode() + b"\n")
        sums = "".join(f"{hex_string(rng, 32)}  {path[1:]}\n" for path in listed)
        base.file(f"var/lib/dpkg/info/{package.name}.md5sums", sums.encode())
    finish("Debian base", base, "gzip", f"{len(debian)} dpkg")

    # 2. Python distributions
    python_layer, dists = site_packages_layer(corpus, 300, 52 * MB)
    finish("Python site-packages", python_layer, "gzip", f"{len(dists)} Python")

    # 3. node_modules
    npm_layer, npm = node_modules_layer(corpus, 320, 34 * MB)
    finish("node_modules", npm_layer, "gzip", f"{len(npm)} npm")

    # 4. zstd: apt-get install of a few more packages (status rewritten) and the application
    extra = [
        DebPackage(f"{corpus.name(2)}-tools", "bench-extra", "2.4.1-3", "2.4.1-3") for _ in range(6)
    ]
    app = Layer()
    app.file("var/lib/dpkg/status", dpkg_status(corpus, debian + extra))
    for package in extra:
        app.file(f"usr/bin/{package.name}", corpus.binary(rng.randint(200_000, 2_000_000)))
    app.file("srv/app/bin/server", corpus.binary(24 * MB), mode=0o755)
    for index in range(60):
        app.file(
            f"srv/app/static/{corpus.word()}{index}.js", corpus.text(rng.randint(5000, 200_000))
        )
        app.file(f"srv/app/static/img{index}.png", corpus.compressed(rng.randint(2000, 90_000)))
    finish("app (zstd)", app, "zstd", f"{len(debian) + len(extra)} dpkg (rewritten)")

    # 5. whiteouts: pip uninstall, npm prune, an emptied directory
    removed_python = rng.sample(dists, k=8)
    removed_npm = rng.sample([p for p in npm if "/node_modules/" not in p[2][len(NODE) :]], k=6)
    cleanup = Layer()
    for _, _, dist_dir, module_dir in removed_python:
        cleanup.whiteout(dist_dir)
        cleanup.whiteout(module_dir)
    for _, _, directory in removed_npm:
        cleanup.whiteout(directory)
    cleanup.opaque("var/cache/apt")
    cleanup.file("etc/app/app.conf", corpus.text(600))
    removed = f"{len(removed_python)} Python and {len(removed_npm)} npm removed"
    finish("whiteouts", cleanup, "gzip", removed)

    gone_python = {(n, v) for n, v, _, _ in removed_python}
    # nested copies of a removed package's directory go with it
    gone_dirs = tuple(d + "/" for _, _, d in removed_npm)
    python_left = [(n, v) for n, v, _, _ in dists if (n, v) not in gone_python]
    npm_left = [
        (n, v) for n, v, d in npm if d not in {x[2] for x in removed_npm}
        and not d.startswith(gone_dirs)
    ]  # fmt: skip
    return ImageRecipe(
        layers=blobs,
        info=info,
        debian=debian + extra,
        python=python_left,
        npm=npm_left,
        expected_components=len(debian) + len(extra) + len(python_left) + len(npm_left),
    )


def cached_image(seed: int, cache_root: Path) -> tuple[ImageRecipe, float, bool]:
    """The image from `cache_root` when built before with this seed and recipe, else built."""
    directory = cache_root / f"image-s{seed}-v{RECIPE_VERSION}"
    meta_path = directory / "meta.json"
    started = time.perf_counter()
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        blobs = []
        for entry in meta["layers"]:
            data = (directory / entry["digest"].replace(":", "_")).read_bytes()
            blobs.append(Blob(data=data, **{k: entry[k] for k in entry if k != "file"}))
        recipe = ImageRecipe(
            layers=blobs,
            info=[LayerInfo(**i) for i in meta["info"]],
            debian=[DebPackage(**d) for d in meta["debian"]],
            python=[tuple(p) for p in meta["python"]],  # type: ignore[misc]
            npm=[tuple(p) for p in meta["npm"]],  # type: ignore[misc]
            expected_components=meta["expected_components"],
        )
        return recipe, time.perf_counter() - started, True
    recipe = build_image(seed)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for blob in recipe.layers:
        (directory / blob.digest.replace(":", "_")).write_bytes(blob.data)
    meta = {
        "layers": [
            {"digest": b.digest, "media_type": b.media_type, "diff_id": b.diff_id, "size": b.size}
            for b in recipe.layers
        ],
        "info": [asdict(i) for i in recipe.info],
        "debian": [asdict(d) for d in recipe.debian],
        "python": recipe.python,
        "npm": recipe.npm,
        "expected_components": recipe.expected_components,
    }
    meta_path.write_text(json.dumps(meta))
    return recipe, time.perf_counter() - started, False
