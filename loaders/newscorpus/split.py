"""Split: train / validation / test by cluster, stable across versions.

Near-duplicate articles (MinHash LSH over word shingles) share a cluster and so a split. A new
cluster's split comes from a hash of its smallest article id. An article placed by an earlier
release keeps its split whatever happens to its cluster; a new article joins the split of a
previously placed cluster member. So adding articles never moves an existing one.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.minhash import _fmix  # pinned version; tests/test_split.py fails if it changes
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .codepoints import WORD, code_point_classes, code_points, utf8_offsets


SPLITS = ("train", "validation", "test")
NUM_PERM = 64
SIGNATURE_BATCH = 256  # articles signed at once, or fewer when they hold SIGNATURE_CHARS characters
SIGNATURE_CHARS = 2_000_000  # shingle_hashes needs about 30 bytes a character of its batch


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


def crc_table() -> np.ndarray:
    """zlib's CRC-32 (reflected, polynomial 0xEDB88320) a byte at a time."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
        table.append(crc)
    return np.array(table, dtype=np.uint32)


CRC_TABLE = crc_table()
VECTOR_BYTES = 64  # words up to this long are hashed together, a byte position at a time; longer ones by zlib


def crc32_each(utf8: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """zlib.crc32 of each utf8[starts[i]:ends[i]], all at once: the words sorted longest first, so the
    k-th step updates only the words longer than k, a prefix of them."""
    lengths = ends - starts
    found = np.empty(len(starts), dtype=np.uint32)
    for i in np.flatnonzero(lengths > VECTOR_BYTES).tolist():
        found[i] = zlib.crc32(utf8[starts[i] : ends[i]])
    short = np.flatnonzero(lengths <= VECTOR_BYTES)
    order = short[np.argsort(-lengths[short], kind="stable")]
    longest_first, positions = lengths[order], starts[order]
    crc = np.full(len(order), 0xFFFFFFFF, dtype=np.uint32)
    steps = int(longest_first[0]) if len(order) else 0
    for k, active in enumerate(np.searchsorted(-longest_first, -np.arange(steps), side="left").tolist()):
        value = crc[:active]
        crc[:active] = CRC_TABLE[(value ^ utf8[positions[:active] + k]) & 0xFF] ^ (value >> 8)
    found[order] = crc ^ 0xFFFFFFFF
    return found


def shingle_hashes(texts: list[str], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Each text's distinct shingles, joined, and how many each text has: a shingle is a 32-bit hash
    of a run of `width` words (`\\w+` of the lowercased text), a polynomial of the words' crc32.

    A text of fewer words has one shingle of them all (0 for none). Computed for many texts at once
    over their code points (codepoints.py), without a Python object per word: a regex and a crc32
    per word were most of the cost of near-duplicate detection. tests/test_split.py holds it equal
    to that word-by-word definition.
    """
    lowered = [text.lower() for text in texts]
    joined = "\n".join(lowered)  # not a word character: no word runs from one text into the next
    word = code_point_classes(code_points(joined)) == WORD
    edges = np.diff(word.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    utf8 = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    at = utf8_offsets(utf8)
    hashes = crc32_each(utf8, at[starts], at[ends]).astype(np.uint64)
    text_starts = np.cumsum([0] + [len(text) + 1 for text in lowered[:-1]])
    text_of_word = np.searchsorted(text_starts, starts, side="right") - 1
    words = np.bincount(text_of_word, minlength=len(texts))
    runs = len(hashes) - width + 1
    keys = []
    if runs > 0:
        combined = np.zeros(runs, dtype=np.uint64)
        for k in range(width):
            combined = (combined * np.uint64(1_000_003) + hashes[k : k + runs]) & np.uint64(0xFFFFFFFF)
        whole = text_of_word[:runs] == text_of_word[width - 1 :]  # the run lies in one text
        keys.append((text_of_word[:runs][whole].astype(np.uint64) << np.uint64(32)) | combined[whole])
    first = np.cumsum(words) - words
    for i in np.flatnonzero(words < width).tolist():
        value = 0
        for h in hashes[first[i] : first[i] + words[i]].tolist():
            value = (value * 1_000_003 + h) & 0xFFFFFFFF
        keys.append(np.array([(i << 32) | value], dtype=np.uint64))
    distinct = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.uint64)
    counts = np.bincount((distinct >> np.uint64(32)).astype(np.int64), minlength=len(texts))
    return (distinct & np.uint64(0xFFFFFFFF)).astype(np.uint32), counts


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
        self.pending: list[str] = []  # texts of the articles not yet signed
        self.pending_chars = 0
        self.clusters: dict[str, list[str]] | None = None  # by smallest id, once finished

    def __call__(self, record: dict) -> None:
        self.ids.append(record["id"])
        self.pending.append(record["text"])
        self.pending_chars += len(record["text"])
        if len(self.pending) >= SIGNATURE_BATCH or self.pending_chars >= SIGNATURE_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.signatures.append(signatures(*shingle_hashes(self.pending, self.settings.shingle_words), self.permutations))
            self.pending, self.pending_chars = [], 0

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
