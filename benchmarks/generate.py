"""A realistic synthetic corpus for benchmarks: N articles of 2-6 kB and a Label Studio export of them.

Two annotators per article with about 25 entity spans and 1-2 topics each; the second one misses
or relabels a span now and then; one article in 20 has a third, cancelled annotation; one in 500 is
a near-duplicate of an earlier article. Text mixes ASCII, accented Latin, Cyrillic, CJK and emoji.
Written in shards of 10,000 articles (corpus) and 10,000 tasks (exports): one export per
annotation batch, as a team that pulls per batch would have.
"""

from __future__ import annotations

import random
import shutil
import unicodedata
from pathlib import Path

import orjson

from newscorpus.taxonomy import Taxonomy

SHARD = 10_000
REPO = Path(__file__).resolve().parents[1]
WORDS = ("the a of to in and said on for with that at by from officials government market city police report "
         "minister week people year new after over local two more than who its were has have had will would "
         "could council vote budget court ruling protest election league match season growth prices energy "
         "water health school hospital rain storm flood drought talks deal trade export import bank rate "
         "café naïve façade déjà Zürich São résumé coöperate fiancée Ελλάδα Москва 東京 北京 मुंबई 🎉 📈 ⚽ 🌧️").split()
ENTITIES = {
    "PERSON": ["Maria López", "Chen Wei", "Anna Müller", "Ahmad Shah Massoud", "Olúmídé Adébáyọ̀", "Jean-Luc Picard", "Иван Петров"],
    "ORG": ["Reuters", "Acme Corp", "Société Générale", "Banco Central", "Tolo News", "the World Bank"],
    "GPE": ["Kabul", "São Paulo", "Zürich", "東京", "Москва", "Nairobi", "Panjshir"],
    "NORP": ["Afghan", "Soviet", "Brazilian", "Kenyan"],
    "LOC": ["the Panjshir valley", "the Alps", "the Nile"],
    "DATE": ["Monday", "last week", "the 1990s", "1 March 2024"],
    "CARDINAL": ["three", "6,000", "more than 40"],
    "MONEY": ["$4 million", "€12 billion"],
    "PERCENT": ["3.5%", "twelve percent"],
    "EVENT": ["the World Cup", "Expo 2025"],
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


WORDS = [nfc(w) for w in WORDS]
ENTITIES = {label: [nfc(n) for n in names] for label, names in ENTITIES.items()}


def article_text(rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    """Text of 2-6 kB with about 25 entity mentions, and their (start, end, label) in code points."""
    target = rng.randint(2000, 6000)
    parts, spans, position, size = [], [], 0, 0
    sentence_index = 0
    while size < target:
        words = rng.choices(WORDS, k=rng.randint(8, 20))
        if sentence_index % 2 == 0:
            label = rng.choice(list(ENTITIES))
            name = rng.choice(ENTITIES[label])
            cut = rng.randint(0, len(words))
            before = " ".join(words[:cut]) + (" " if cut else "")
            after = (" " if cut < len(words) else "") + " ".join(words[cut:])
            start = position + len(before)
            spans.append((start, start + len(name), label))
            sentence = before + name + after
        else:
            sentence = " ".join(words)
        sentence = sentence[:1].upper() + sentence[1:] + "."
        separator = "\n" if sentence_index % 5 == 4 else " "
        parts.append(sentence + separator)
        position += len(sentence) + 1
        size += len((sentence + separator).encode())
        sentence_index += 1
    return "".join(parts).rstrip(), spans


def labels_result(spans, rng: random.Random, text: str, drop: float) -> list[dict]:
    result = []
    for i, (start, end, label) in enumerate(spans):
        if rng.random() < drop:
            continue
        result.append({"id": f"s{i}", "from_name": "entities", "to_name": "text", "type": "labels", "origin": "manual",
                       "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}})
    return result


def generate(out: Path, articles: int, seed: int = 20261124) -> Path:
    """Writes the corpus folder at `out` (schemas, taxonomy, settings, shards, exports) and returns it."""
    if (out / ".complete").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    (out / "corpus").mkdir(parents=True)
    (out / "annotations").mkdir()
    (out / "schema").mkdir()
    shutil.copy(REPO / "schema" / "taxonomy.json", out / "schema" / "taxonomy.json")
    shutil.copy(REPO / "corpus" / "release.json", out / "corpus" / "release.json")
    topics = Taxonomy.from_dict(orjson.loads((REPO / "schema" / "taxonomy.json").read_bytes())).topic_names
    rng = random.Random(seed)
    kept_texts: list[str] = []
    for shard_start in range(0, articles, SHARD):
        records, tasks = [], []
        for n in range(shard_start, min(articles, shard_start + SHARD)):
            if n % 500 == 499 and kept_texts:
                text = rng.choice(kept_texts) + " Updated with a correction."
                spans = []
            else:
                text, spans = article_text(rng)
                if len(kept_texts) < 200:
                    kept_texts.append(text)
            article_id = f"bench-{n:07d}"
            record = {"id": article_id, "title": f"Report {n}: {rng.choice(WORDS)} {rng.choice(WORDS)}", "text": text,
                      "source": rng.choice(["Wire A", "Wire B", "Daily C"]), "language": "en", "published": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
            records.append(record)
            chosen = rng.sample(topics, rng.randint(1, 2))
            annotations = []
            for a, (user, drop) in enumerate(((11, 0.0), (12, 0.06))):
                result = labels_result(spans, rng, text, drop)
                picked = chosen if a == 0 or rng.random() > 0.1 else chosen[:1]
                result.append({"id": "t", "from_name": "topics", "to_name": "text", "type": "choices", "value": {"choices": picked}})
                annotations.append({"id": 2 * n + a + 1, "completed_by": user, "result": result, "was_cancelled": False, "ground_truth": False,
                                    "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z", "lead_time": 300.0,
                                    "task": n + 1, "project": 1, "result_count": len(result), "prediction": {}})
            if n % 20 == 7:
                annotations.append({"id": 10_000_000 + n, "completed_by": 13, "result": [], "was_cancelled": True, "ground_truth": False,
                                    "created_at": "2026-11-01T10:00:00Z", "task": n + 1, "project": 1})
            tasks.append({"id": n + 1, "data": {"article_id": article_id, "title": record["title"], "text": text},
                          "annotations": annotations, "predictions": [], "meta": {}, "project": 1, "total_annotations": len(annotations),
                          "cancelled_annotations": int(n % 20 == 7), "created_at": "2026-10-01T09:00:00Z"})
        name = f"bench-{shard_start // SHARD:05d}"
        (out / "corpus" / f"{name}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        (out / "annotations" / f"{name}.json").write_bytes(orjson.dumps(tasks))
    (out / ".complete").write_text(str(articles))
    return out
