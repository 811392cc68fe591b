"""A layer of the benchmark image: parent directories added once, files and bytes counted."""

from __future__ import annotations

from tests.support.oci.layers import LayerBuilder


class Layer:
    """A LayerBuilder that adds each parent directory once, before its first entry."""

    def __init__(self) -> None:
        self.builder = LayerBuilder()
        self.dirs: set[str] = set()
        self.files = 0
        self.payload = 0

    def _parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directory = "/".join(parts[:depth])
            if directory not in self.dirs:
                self.dirs.add(directory)
                self.builder.add_dir(directory)

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self._parents(path)
        self.builder.add_file(path, data, mode)
        self.files += 1
        self.payload += len(data)

    def symlink(self, path: str, target: str) -> None:
        self._parents(path)
        self.builder.add_symlink(path, target)

    def whiteout(self, path: str) -> None:
        self._parents(path)
        self.builder.add_whiteout(path)

    def opaque(self, directory: str) -> None:
        self._parents(directory + "/x")
        self.builder.add_opaque(directory)
