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

SPLITS = ("train", "validation", "test")
NUM_PERM = 64
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
    return np.unique(combined)


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


class NearDuplicateIndex:
    """Clusters articles as they stream past (an `on_article` hook of validate)."""

    def __init__(self, settings: SplitSettings):
        self.settings = settings
        self.lsh = MinHashLSH(threshold=settings.threshold, num_perm=NUM_PERM)
        self.clusters = Clusters()
        template = MinHash(num_perm=NUM_PERM, seed=1)
        self.permutations, self.scheme = template.permutations, template.scheme

    def __call__(self, record: dict) -> None:
        # The shingles arrive already hashed, so the hash function is the identity (`int`, a C call).
        minhash = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=self.permutations, scheme=self.scheme)
        minhash.update_batch(shingle_hashes(record["text"], self.settings.shingle_words))
        article_id = record["id"]
        self.clusters.find(article_id)
        for other in self.lsh.query(minhash):
            self.clusters.union(article_id, other)
        self.lsh.insert(article_id, minhash, check_duplication=False)

    def assign(self, previous: dict[str, str]) -> dict[str, str]:
        """article id -> split for every article seen; `previous` is the last release's assignment."""
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
