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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


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


def signatures(shingles: np.ndarray, counts: np.ndarray, permutations: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The MinHash signature of each article's shingles (all articles' joined, `counts` each), exactly
    as datasketch's `MinHash.update_batch` computes it (scheme affine32: the hashes mixed by fmix32,
    then a * h + b in uint32, the least per permutation), for many articles in one numpy pass
    instead of a Python call per shingle. One permutation at a time keeps the vectors in cache:
    17x faster than one (shingles x permutations) matrix. tests/test_split.py holds it equal to
    update_batch."""
    a, b = permutations
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    mixed = _fmix(shingles, 32)
    permuted = np.empty_like(mixed)
    signed = np.empty((len(counts), len(a)), dtype=np.uint32)
    for k in range(len(a)):
        np.multiply(mixed, a[k], out=permuted)
        permuted += b[k]
        signed[:, k] = np.minimum.reduceat(permuted, starts)
    return signed


class NearDuplicateIndex:
    """Clusters articles as they stream past (an `on_article` hook of validate).

    Two articles are near-duplicates when their MinHash signatures agree on every row of some LSH
    band (datasketch's MinHashLSH picks the bands for the threshold); a cluster is a connected
    component of that relation, named by its smallest id. Querying datasketch's index article by
    article gives the same components, but it keeps every bucket as Python objects (435 MiB at
    100,000 articles): here the signatures are one uint32 matrix, and each band's equal rows are
    found by sorting it. Signatures are computed SIGNATURE_BATCH articles at a time.
    """

    def __init__(self, settings: SplitSettings):
        self.settings = settings
        template = MinHash(num_perm=NUM_PERM, seed=1)
        assert template.scheme == "affine32", "signatures() computes datasketch's affine32 scheme only"
        self.permutations = template.permutations
        bands = MinHashLSH(threshold=settings.threshold, num_perm=NUM_PERM)
        self.bands, self.rows = bands.b, bands.r
        self.ids: list[str] = []
        self.signatures: list[np.ndarray] = []
        self.pending: list[np.ndarray] = []  # shingle hashes of the articles not yet signed
        self.clusters: dict[str, list[str]] | None = None  # by smallest id, once finished

    def __call__(self, record: dict) -> None:
        self.ids.append(record["id"])
        self.pending.append(shingle_hashes(record["text"], self.settings.shingle_words))
        if len(self.pending) >= SIGNATURE_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            counts = np.fromiter(map(len, self.pending), dtype=np.int64, count=len(self.pending))
            self.signatures.append(signatures(np.concatenate(self.pending), counts, self.permutations))
            self.pending = []

    def finish(self) -> dict[str, list[str]]:
        """Each cluster's articles in corpus order, by its smallest id, once every article is in;
        the signatures are given up then (a worker sends back only the clusters)."""
        if self.clusters is None:
            self.flush()
            self.clusters = self.components() if self.ids else {}
            self.signatures = []
        return self.clusters

    def components(self) -> dict[str, list[str]]:
        n = len(self.ids)
        matrix = np.concatenate(self.signatures)
        rows, cols = [], []
        for band in range(self.bands):
            keys = np.ascontiguousarray(matrix[:, band * self.rows : (band + 1) * self.rows])
            _, first, bucket = np.unique(keys, axis=0, return_index=True, return_inverse=True)
            rows.append(np.arange(n))
            cols.append(first[bucket.ravel()])  # every article joined to the first one in its bucket
        graph = coo_matrix((np.ones(n * self.bands, dtype=np.int8), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        _, component = connected_components(graph, directed=False)
        members: dict[int, list[str]] = {}
        for article_id, c in zip(self.ids, component.tolist()):
            members.setdefault(c, []).append(article_id)
        return {min(ids): ids for ids in members.values()}

    def assign(self, previous: dict[str, str]) -> dict[str, str]:
        """article id -> split for every article seen; `previous` is the last release's assignment."""
        assigned = {}
        for root, ids in self.finish().items():
            placed = sorted(i for i in ids if i in previous)
            cluster_split = previous[placed[0]] if placed else split_of_key(root, self.settings.ratios)
            for article_id in ids:
                assigned[article_id] = previous.get(article_id, cluster_split)
        return dict(sorted(assigned.items()))
