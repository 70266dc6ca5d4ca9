"""Split: train / validation / test by cluster, stable across versions.

Near-duplicate articles (MinHash LSH over word shingles) share a cluster and so a split. A new
cluster's split comes from a hash of its smallest article id. An article placed by an earlier
release keeps its split whatever happens to its cluster; a new article joins the split of a
previously placed cluster member. So adding articles never moves an existing one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

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


def shingles(text: str, width: int) -> set[bytes]:
    words = WORD.findall(text.lower())
    if len(words) <= width:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + width]).encode() for i in range(len(words) - width + 1)}


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


def near_duplicate_clusters(articles: Iterable[tuple[str, str]], settings: SplitSettings) -> Clusters:
    lsh = MinHashLSH(threshold=settings.threshold, num_perm=NUM_PERM)
    clusters = Clusters()
    for article_id, text in articles:
        minhash = MinHash(num_perm=NUM_PERM, seed=1)
        minhash.update_batch(list(shingles(text, settings.shingle_words)))
        clusters.find(article_id)
        for other in lsh.query(minhash):
            clusters.union(article_id, other)
        lsh.insert(article_id, minhash, check_duplication=False)
    return clusters


def assign_splits(articles: Iterable[tuple[str, str]], settings: SplitSettings, previous: dict[str, str]) -> dict[str, str]:
    """article id -> split for every article; `previous` is the last release's assignment."""
    clusters = near_duplicate_clusters(articles, settings)
    members: dict[str, list[str]] = {}
    for article_id in clusters.parent:
        members.setdefault(clusters.find(article_id), []).append(article_id)
    assigned = {}
    for root, ids in members.items():
        placed = sorted(i for i in ids if i in previous)
        cluster_split = previous[placed[0]] if placed else split_of_key(min(ids), settings.ratios)
        for article_id in ids:
            assigned[article_id] = previous.get(article_id, cluster_split)
    return dict(sorted(assigned.items()))


