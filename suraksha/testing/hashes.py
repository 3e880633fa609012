"""Synthetic hash values for tests: random, reproducible, and nothing but random."""

from __future__ import annotations

import hashlib
import random


def pdq_like(rng: random.Random) -> str:
    """A random 256-bit value with exactly 128 bits set, as PDQ's median threshold makes them."""
    bits = [1] * 128 + [0] * 128
    rng.shuffle(bits)
    return f"{int(''.join(map(str, bits)), 2):064x}"


def flip_bits(hex_value: str, count: int, rng: random.Random) -> str:
    """The hash with ``count`` distinct bits flipped: exactly ``count`` away in Hamming distance."""
    value = int(hex_value, 16)
    for bit in rng.sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


def md5_of(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
