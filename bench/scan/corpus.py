"""Seeded file contents of three kinds: prose/code-like text, ELF-like binaries, compressed data."""

from __future__ import annotations

import random


class Corpus:
    """Seeded file contents of three kinds: prose/code-like text, binaries, compressed data."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        syllables = [
            "al", "an", "ar", "be", "ca", "co", "de", "di", "el", "en", "er", "es", "fi", "ga",
            "in", "is", "ka", "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "no",
            "or", "pa", "pe", "po", "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te",
            "ti", "to", "tr", "un", "va", "ve", "vi", "xa", "ze", "st", "th", "ch", "qu",
        ]  # fmt: skip
        self.syllables = syllables
        vocab = sorted({"".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(6000)})
        rng.shuffle(vocab)
        weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(vocab))]
        self.vocab = vocab
        cumulative: list[float] = []
        total = 0.0
        for weight in weights:
            total += weight
            cumulative.append(total)
        punctuation = ["", "", "", ",", "(", ")", " =", ":", ";", "->", "{", "}", "_"]
        sentences = []
        for _ in range(80_000):
            words = rng.choices(vocab, cum_weights=cumulative, k=rng.randint(4, 16))
            words = [w + rng.choice(punctuation) for w in words]
            indent = " " * rng.choice((0, 0, 4, 8, 12))
            sentences.append(indent + " ".join(words).capitalize() + ".")
        self.sentences = sentences

    def word(self) -> str:
        return self.rng.choice(self.vocab)

    def name(self, parts: int = 2) -> str:
        return "".join(self.rng.choices(self.syllables, k=parts + self.rng.randint(0, 1)))

    def text(self, size: int) -> bytes:
        picks = self.rng.choices(self.sentences, k=size // 50 + 2)
        data = "\n".join(picks).encode()
        while len(data) < size:
            data += b"\n" + "\n".join(self.rng.choices(self.sentences, k=64)).encode()
        return data[:size]

    def binary(self, size: int) -> bytes:
        """ELF-like: random code/data runs, zero padding, string tables (compresses ~2x)."""
        parts: list[bytes] = []
        total = 0
        rng = self.rng
        while total < size:
            roll = rng.random()
            length = rng.randint(512, 16384)
            if roll < 0.45:
                parts.append(rng.randbytes(length))
            elif roll < 0.6:
                parts.append(bytes(length))
            else:
                parts.append(self.text(length))
            total += length
        return b"".join(parts)[:size]

    def compressed(self, size: int) -> bytes:
        """Already compressed data (.gz, .png, .woff2): incompressible."""
        return self.rng.randbytes(size)

    def sizes(self, count: int, total: int, sigma: float = 1.2) -> list[int]:
        """`count` lognormal sizes summing to about `total` (at least 64 bytes each)."""
        raw = [self.rng.lognormvariate(0.0, sigma) for _ in range(count)]
        scale = total / sum(raw)
        return [max(64, int(value * scale)) for value in raw]


def hex_string(rng: random.Random, length: int) -> str:
    return rng.randbytes(length // 2).hex()
