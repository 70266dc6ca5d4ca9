"""Near-duplicate clusters: MinHash signatures for many articles at once are datasketch's own, so articles cluster as they always did."""

import random
import re
import zlib

import numpy as np
from datasketch import MinHash, MinHashLSH

from conftest import GUM
from newscorpus.split import NUM_PERM, NearDuplicateIndex, SplitSettings, shingle_hashes, signatures

TEXTS = ["The council voted on the budget after a long debate on Monday.", "Москва 東京 🎉 café naïve İstanbul", "one", "", "   ",
         "The council voted on the budget after a long debate on Monday. Updated with a correction.", "a b c d e", "a b c d e f"]


def shingles_word_by_word(text: str, width: int) -> np.ndarray:
    """The definition shingle_hashes computes over code points: `\\w+` words, a crc32 each, runs of `width` combined."""
    hashes = [zlib.crc32(word.encode()) for word in re.findall(r"\w+", text.lower())]
    runs = max(1, len(hashes) - width + 1)
    found = set()
    for j in range(runs):
        value = 0
        for h in hashes[j : j + width]:
            value = (value * 1_000_003 + h) & 0xFFFFFFFF
        found.add(value)
    return np.array(sorted(found), dtype=np.uint32)


def random_text(rng: random.Random) -> str:
    pieces = ["The", "council", "İstanbul", "ǅemal", "ß", "Москва", "東京", "🎉", "café", "naïve", "x" * 70, "é" * 40, "_", "3.5%", "'s", "-", "\n", " ", "\t", "\u00a0", "\u2028"]
    return "".join(rng.choice(pieces) + rng.choice(["", " ", " ", "\n"]) for _ in range(rng.randint(0, 40)))


def test_shingles_of_many_texts_at_once_are_those_of_each_text_word_by_word():
    rng = random.Random(15)
    texts = TEXTS + [path.read_text() for path in sorted(GUM.glob("*.txt"))] + [random_text(rng) for _ in range(300)]
    for width in (1, 2, 5):
        shingles, counts = shingle_hashes(texts, width)
        starts = np.cumsum(counts) - counts
        for text, start, count in zip(texts, starts, counts):
            assert np.array_equal(shingles[start : start + count], shingles_word_by_word(text, width)), (text, width)


def test_batched_signatures_are_datasketchs_own():
    template = MinHash(num_perm=NUM_PERM, seed=1)
    shingles, counts = shingle_hashes(TEXTS + [path.read_text() for path in sorted(GUM.glob("*.txt"))], 5)
    sets = np.split(shingles, np.cumsum(counts)[:-1])
    for shingle_set, signature in zip(sets, signatures(shingles, counts, template.permutations)):
        one = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=template.permutations, scheme=template.scheme)
        one.update_batch(shingle_set)
        assert np.array_equal(one.hashvalues, signature)


def test_a_near_duplicate_joins_the_cluster_of_the_article_it_repeats():
    index = NearDuplicateIndex(SplitSettings({"train": 0.8, "validation": 0.1, "test": 0.1}, threshold=0.5, shingle_words=2))
    base = "the council voted on the budget after a long debate about schools roads and water"
    for article_id, text in [("a", base), ("b", "storms flooded the valley and closed three schools"), ("c", base + " again")]:
        index({"id": article_id, "text": text})
    splits = index.assign({})
    assert index.finish() == {"a": ["a", "c"], "b": ["b"]}
    assert splits["a"] == splits["c"]


def test_clusters_are_those_of_datasketchs_lsh_queried_article_by_article():
    texts = [path.read_text() for path in sorted(GUM.glob("*.txt"))]
    articles = [(f"g{i:02d}", text) for i, text in enumerate(texts)]
    articles += [(f"n{i:02d}", text + " Updated with a correction.") for i, text in enumerate(texts[:6])]  # near-duplicates
    articles += [(f"h{i:02d}", text[: len(text) // 2]) for i, text in enumerate(texts[6:9])]  # halves: below the threshold
    settings = SplitSettings({"train": 0.8, "validation": 0.1, "test": 0.1})
    index = NearDuplicateIndex(settings)
    lsh, template, root = MinHashLSH(threshold=settings.threshold, num_perm=NUM_PERM), MinHash(num_perm=NUM_PERM, seed=1), {}
    for article_id, text in articles:
        index({"id": article_id, "text": text})
        minhash = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=template.permutations, scheme=template.scheme)
        minhash.update_batch(shingle_hashes([text], settings.shingle_words)[0])
        root[article_id] = min([article_id, *(root[other] for other in lsh.query(minhash))])
        for other in lsh.query(minhash):  # union: every member of a joined cluster takes the smallest root
            for member, r in list(root.items()):
                if r == root[other]:
                    root[member] = root[article_id]
        lsh.insert(article_id, minhash)
    expected: dict[str, list[str]] = {}
    for article_id, _ in articles:
        expected.setdefault(root[article_id], []).append(article_id)
    assert index.finish() == {min(ids): ids for ids in expected.values()}
    assert len(expected) == 24 + 3  # each near-duplicate joined its original; the halves did not
