"""Near-duplicate clusters: MinHash signatures for many articles at once are datasketch's own, so articles cluster as they always did."""

import numpy as np
from datasketch import MinHash

from conftest import GUM
from newscorpus.split import NUM_PERM, NearDuplicateIndex, SplitSettings, shingle_hashes, signatures

TEXTS = ["The council voted on the budget after a long debate on Monday.", "Москва 東京 🎉 café naïve İstanbul", "one", "", "   ",
         "The council voted on the budget after a long debate on Monday. Updated with a correction.", "a b c d e", "a b c d e f"]


def test_batched_signatures_are_datasketchs_own():
    template = MinHash(num_perm=NUM_PERM, seed=1)
    sets = [shingle_hashes(text, 5) for text in TEXTS + [path.read_text() for path in sorted(GUM.glob("*.txt"))]]
    counts = np.array([len(s) for s in sets])
    for shingle_set, signature in zip(sets, signatures(np.concatenate(sets), counts, template.permutations)):
        one = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=template.permutations, scheme=template.scheme)
        one.update_batch(shingle_set)
        assert np.array_equal(one.hashvalues, signature)


def test_a_near_duplicate_joins_the_cluster_of_the_article_it_repeats():
    index = NearDuplicateIndex(SplitSettings({"train": 0.8, "validation": 0.1, "test": 0.1}, threshold=0.5, shingle_words=2))
    base = "the council voted on the budget after a long debate about schools roads and water"
    for article_id, text in [("a", base), ("b", "storms flooded the valley and closed three schools"), ("c", base + " again")]:
        index({"id": article_id, "text": text})
    splits = index.assign({})
    assert index.clusters.find("c") == index.clusters.find("a") != index.clusters.find("b")
    assert splits["a"] == splits["c"]
