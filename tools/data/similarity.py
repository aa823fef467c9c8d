"""Near-duplicate detection: MinHash signatures, LSH bands, and fixed-size hash tables.

The validator streams files of any size, so its indexes are fixed-size open-addressing tables
allocated once (numpy arrays): memory does not grow with the file. When a table is 70% full it
stops taking new keys and the report says from which line on duplicates were only checked against
earlier lines.
"""

from __future__ import annotations

import zlib

import numpy as np

from tools.data.schema import normalize_text

_MERSENNE = np.uint64((1 << 61) - 1)
N_PERM = 64
BANDS = 8  # 8 bands × 8 rows: two lines sharing ≥ 2 bands have estimated Jaccard ≳ 0.8
ROWS = N_PERM // BANDS
MIN_SHARED_BANDS = 2
SHINGLE = 5

_rng = np.random.default_rng(20240611)
_A = _rng.integers(1, (1 << 61) - 1, size=N_PERM, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, size=N_PERM, dtype=np.uint64)


def shingles(text: str, k: int = SHINGLE) -> np.ndarray:
    """Hashes of the byte k-grams of the normalized text, vectorized (stable across processes)."""
    data = np.frombuffer(normalize_text(text).encode("utf-8", "surrogatepass"), dtype=np.uint8).astype(
        np.uint64
    )
    if data.size <= k:
        return np.array([zlib.crc32(data.tobytes()) + 1], dtype=np.uint64)
    n = data.size - k + 1
    h = np.zeros(n, dtype=np.uint64)
    for j in range(k):  # polynomial hash of each window, < 2^40, so no overflow
        h = h * np.uint64(257) + data[j : j + n]
    return np.unique(h & np.uint64(0xFFFFFFFF)) ^ np.uint64(0x9E3779B9)


def minhash(text: str) -> np.ndarray:
    """A 64-value MinHash signature of the text's character shingles."""
    sh = shingles(text)
    # (a*x + b) mod p, with the multiplication kept below 2^64 by using 32-bit shingles and 61-bit a
    # folded: (a mod 2^32) is enough mixing here and never overflows.
    a = _A & np.uint64(0xFFFFFFFF)
    vals = (np.outer(sh, a) + _B) % _MERSENNE
    return vals.min(axis=0)


def band_keys(sig: np.ndarray) -> list[int]:
    """One 64-bit key per LSH band (the band index is mixed in so bands never collide with each other)."""
    keys = []
    for b in range(BANDS):
        chunk = sig[b * ROWS : (b + 1) * ROWS].tobytes()
        keys.append((zlib.crc32(chunk) << 32) | (zlib.crc32(chunk, b + 1) & 0xFFFFFFFF) | 1)
    return keys


def jaccard_estimate(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


class SignatureIndex:
    """MinHash signatures in one growing matrix: the nearest of n kept signatures in one numpy pass.

    Generation checks every candidate input against every input kept so far; a Python loop of
    `jaccard_estimate` calls made that quadratic in interpreter time (≈ 3 µs a pair: 20k examples spent
    tens of minutes in it). Same estimate, same threshold, one vectorised comparison per candidate."""

    def __init__(self, sigs=()):
        self._m = np.empty((64, N_PERM), dtype=np.uint64)
        self._n = 0
        for sig in sigs:
            self.append(sig)

    def append(self, sig: np.ndarray) -> None:
        if self._n == len(self._m):
            grown = np.empty((2 * len(self._m), N_PERM), dtype=np.uint64)
            grown[: self._n] = self._m[: self._n]
            self._m = grown
        self._m[self._n] = sig
        self._n += 1

    def __len__(self) -> int:
        return self._n

    def __iter__(self):
        return iter(self._m[: self._n])

    def max_jaccard(self, sig: np.ndarray) -> float:
        """The highest estimated Jaccard similarity of `sig` to a kept signature (0.0 when none)."""
        if not self._n:
            return 0.0
        return float((self._m[: self._n] == sig).sum(axis=1).max()) / N_PERM


class FixedTable:
    """A fixed-capacity uint64 → (int64, int64) hash table (open addressing, linear probing).

    Key 0 marks an empty slot, so callers must pass non-zero keys (see `nonzero`).
    """

    def __init__(self, capacity_pow2: int = 20, max_load: float = 0.7, *, with_v2: bool = True):
        self.size = 1 << capacity_pow2
        self.mask = self.size - 1
        self.keys = np.zeros(self.size, dtype=np.uint64)
        self.v1 = np.zeros(self.size, dtype=np.uint32)  # line numbers
        self.v2 = np.zeros(self.size if with_v2 else 1, dtype=np.uint64)
        self.count = 0
        self.max_count = int(self.size * max_load)

    @property
    def full(self) -> bool:
        return self.count >= self.max_count

    def _slot(self, key: int) -> int:
        i = (key * 0x9E3779B97F4A7C15 >> 7) & self.mask
        k = np.uint64(key)
        keys = self.keys
        while True:
            cur = keys[i]
            if cur == 0 or cur == k:
                return i
            i = (i + 1) & self.mask

    def get(self, key: int) -> tuple[int, int] | None:
        i = self._slot(key)
        if self.keys[i] == 0:
            return None
        return int(self.v1[i]), int(self.v2[i]) if self.v2.size > 1 else 0

    def setdefault(self, key: int, v1: int, v2: int = 0) -> tuple[int, int] | None:
        """The stored values when the key exists, else store (v1, v2) (if room) and return None."""
        i = self._slot(key)
        if self.keys[i] != 0:
            return int(self.v1[i]), (int(self.v2[i]) if self.v2.size > 1 else 0)
        if not self.full:
            self.keys[i] = np.uint64(key)
            self.v1[i] = v1
            if self.v2.size > 1:
                self.v2[i] = np.uint64(v2)
            self.count += 1
        return None


def nonzero(key: int) -> int:
    key &= (1 << 64) - 1
    return key or 1


class NearDuplicateIndex:
    """Streaming near-duplicate finder over a fixed-size LSH table."""

    def __init__(self, capacity_pow2: int = 21):
        self.table = FixedTable(capacity_pow2, with_v2=False)

    @property
    def full(self) -> bool:
        return self.table.full

    def check_and_add(self, text: str, line: int) -> int | None:
        """The earlier line this text nearly duplicates (≥ MIN_SHARED_BANDS shared bands), else None."""
        votes: dict[int, int] = {}
        for key in band_keys(minhash(text)):
            prev = self.table.setdefault(nonzero(key), line)
            if prev is not None:
                votes[prev[0]] = votes.get(prev[0], 0) + 1
        best = max(votes.items(), key=lambda kv: (kv[1], -kv[0]), default=None)
        if best and best[1] >= MIN_SHARED_BANDS:
            return best[0]
        return None


def near_duplicate_groups(texts: list[str], threshold: float = 0.8) -> list[int]:
    """Group ids (union-find) so that exact or near-duplicate texts share a group. In memory: for splits."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    exact: dict[str, int] = {}
    sigs = []
    buckets: dict[int, list[int]] = {}
    for i, t in enumerate(texts):
        norm = normalize_text(t)
        if norm in exact:
            union(i, exact[norm])
        else:
            exact[norm] = i
        sig = minhash(t)
        sigs.append(sig)
        for key in band_keys(sig):
            for j in buckets.get(key, ()):
                if find(i) != find(j) and jaccard_estimate(sig, sigs[j]) >= threshold:
                    union(i, j)
            buckets.setdefault(key, []).append(i)
    return [find(i) for i in range(len(texts))]


def is_near_duplicate(text: str, others_sigs: list[np.ndarray], threshold: float = 0.8) -> bool:
    sig = minhash(text)
    return any(jaccard_estimate(sig, o) >= threshold for o in others_sigs)
