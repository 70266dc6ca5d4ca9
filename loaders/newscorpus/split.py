"""Split: train / validation / test by cluster, stable across versions.

Near-duplicate articles (MinHash LSH over word shingles) share a cluster and so a split. A new
cluster's split comes from a hash of its smallest article id. An article placed by an earlier
release keeps its split whatever happens to its cluster; a new article joins the split of a
previously placed cluster member. So adding articles never moves an existing one.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.minhash import _fmix  # pinned version; tests/test_split.py fails if it changes


SPLITS = ("train", "validation", "test")
NUM_PERM = 64
SIGNATURE_BATCH = 256
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SplitSettings:
    ratios: dict[str, float]
    threshold: float = 0.8
    shingle_words: int = 5

    @classmethod
    def from_release_settings(cls, settings: dict) -> "SplitSettings":
        return cls(settings["splits"], settings.get("near_duplicate_threshold", 0.8), settings.get("shingle_words", 5))


def split_of_key(key: str, ratios: dict[str, float]) -> str:
    """A split drawn from a hash of the key: the same key gives the same split on every machine."""
    point = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
    total = sum(ratios[s] for s in SPLITS)
    edge = 0.0
    for name in SPLITS:
        edge += ratios[name] / total
        if point < edge:
            return name
    return SPLITS[-1]


def shingle_hashes(text: str, width: int) -> np.ndarray:
    """A 32-bit hash of each distinct run of `width` words (deterministic, unlike hash()).

    Each word is hashed once (crc32) and the runs are combined as a polynomial in numpy, instead
    of building a string per run: this was most of the cost of near-duplicate detection.
    """
    words = WORD.findall(text.lower())
    word_hashes = np.fromiter(map(zlib.crc32, map(str.encode, words)), dtype=np.uint64, count=len(words))
    runs = max(1, len(words) - width + 1)
    combined = np.zeros(runs, dtype=np.uint64)
    for k in range(min(width, len(words))):
        combined = (combined * np.uint64(1_000_003) + word_hashes[k : k + runs]) & np.uint64(0xFFFFFFFF)
    return np.unique(combined).astype(np.uint32)


class Clusters:
    """Union-find over article ids."""

    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        root = item
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def signatures(shingles: np.ndarray, counts: np.ndarray, permutations: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The MinHash signature of each article's shingles (all articles' joined, `counts` each), exactly as datasketch's
    `MinHash.update_batch` computes it (scheme affine32: the hashes mixed by fmix32, then
    a * h + b in uint32, the least per permutation), for many texts in one numpy pass instead of
    a Python call per shingle. tests/test_split.py holds the two equal."""
    a, b = permutations
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return np.minimum.reduceat(_fmix(shingles, 32)[:, None] * a + b, starts, axis=0)


class NearDuplicateIndex:
    """Clusters articles as they stream past (an `on_article` hook of validate), in order: each
    article is compared with those before it. Signatures are computed SIGNATURE_BATCH at a time."""

    def __init__(self, settings: SplitSettings):
        self.settings = settings
        self.lsh = MinHashLSH(threshold=settings.threshold, num_perm=NUM_PERM)
        self.clusters = Clusters()
        template = MinHash(num_perm=NUM_PERM, seed=1)
        assert template.scheme == "affine32", "signatures() computes datasketch's affine32 scheme only"
        self.permutations, self.scheme = template.permutations, template.scheme
        self.pending: list[tuple[str, np.ndarray]] = []  # id, shingle hashes

    def __call__(self, record: dict) -> None:
        self.pending.append((record["id"], shingle_hashes(record["text"], self.settings.shingle_words)))
        if len(self.pending) >= SIGNATURE_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        shingles = [s for _, s in self.pending]
        counts = np.fromiter(map(len, shingles), dtype=np.int64, count=len(shingles))
        for (article_id, _), hashvalues in zip(self.pending, signatures(np.concatenate(shingles), counts, self.permutations)):
            minhash = MinHash(num_perm=NUM_PERM, seed=1, hashvalues=hashvalues, permutations=self.permutations, scheme=self.scheme)
            self.clusters.find(article_id)
            for other in self.lsh.query(minhash):
                self.clusters.union(article_id, other)
            self.lsh.insert(article_id, minhash, check_duplication=False)
        self.pending = []

    def drop_index(self) -> None:
        """Once every article is in, the splits need only the clusters (the index is most of the memory)."""
        self.flush()
        self.lsh = None

    def assign(self, previous: dict[str, str]) -> dict[str, str]:
        """article id -> split for every article seen; `previous` is the last release's assignment."""
        self.flush()
        members: dict[str, list[str]] = {}
        for article_id in self.clusters.parent:
            members.setdefault(self.clusters.find(article_id), []).append(article_id)
        assigned = {}
        for ids in members.values():
            placed = sorted(i for i in ids if i in previous)
            cluster_split = previous[placed[0]] if placed else split_of_key(min(ids), self.settings.ratios)
            for article_id in ids:
                assigned[article_id] = previous.get(article_id, cluster_split)
        return dict(sorted(assigned.items()))
