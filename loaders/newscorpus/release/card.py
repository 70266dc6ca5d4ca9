"""The dataset card (README.md): YAML the Hub and `load_dataset` read, and prose for people.

Counts, features and split sizes come from the builder's own DatasetInfo and from the files, so
the card cannot disagree with the data (`num_examples` is verified on load).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from ..build import NerConversion
from ..resolve import RELATION_RULE, RULES
from ..taxonomy import Taxonomy


def label_distribution(release_dir: Path, taxonomy: Taxonomy) -> tuple[Counter, Counter]:
    """Entity and topic counts over every documents shard, read back from the files themselves."""
    entities, topics = Counter(), Counter()
    for path in sorted((release_dir / "documents").glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(columns=["entities", "topics"]):
            labels = pc.struct_field(pc.list_flatten(batch.column("entities")), "label")
            for item in pc.value_counts(labels).to_pylist():
                entities[taxonomy.entity_names[item["values"]]] += item["counts"]
            for item in pc.value_counts(pc.list_flatten(batch.column("topics"))).to_pylist():
                topics[taxonomy.topic_names[item["values"]]] += item["counts"]
    return entities, topics


def relation_counts(release_dir: Path, taxonomy: Taxonomy) -> Counter:
    """Relations by label over every documents shard, read back from the files themselves."""
    found = Counter()
    for path in sorted((release_dir / "documents").glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(columns=["relations"]):
            labels = pc.struct_field(pc.list_flatten(batch.column("relations")), "label")
            for item in pc.value_counts(labels).to_pylist():
                found[taxonomy.relation_names[item["values"]]] += item["counts"]
    return found


def relations_section(context, release_dir: Path) -> list[str]:
    """Relation counts, guidelines and agreement; nothing for a taxonomy without relations."""
    if not context.taxonomy.relation_labels:
        return []
    counts, agreement = relation_counts(release_dir, context.taxonomy), context.resolver.agreement
    rows = [[label.name, "head → tail" if label.directed else "either way", label.description, counts.get(label.name, 0),
             fmt(agreement.relation_f1(label.name))] for label in context.taxonomy.relation_labels]
    return [
        "## Relations",
        "",
        "`documents` and `annotations` rows have `relations`, a list of `{head, tail, label}`: `head` and `tail` are indexes into "
        "that row's `entities`. A directed label reads from head to tail; an undirected one lists its spans in text order.",
        "",
        table(["relation", "direction", "guideline", "relations in documents", "agreement"], rows),
        "",
        f"Agreement: micro pairwise F1 of exact (head span, tail span, label) relations over the articles with 2+ annotators; "
        f"all labels: {fmt(agreement.relation_f1())}. {RELATION_RULE}",
        "",
    ]


def languages_in(release_dir: Path) -> list[str]:
    found = set()
    for path in sorted((release_dir / "articles").glob("*.parquet")):
        found.update(pq.read_table(path, columns=["language"]).column("language").unique().to_pylist())
    return sorted(found)



def yaml_header(context, release_dir: Path) -> dict:
    configs, infos = [], []
    for config in context.configs:
        entry = {"config_name": config.name, "data_files": [{"split": s, "path": f"{config.name}/{s}-*"} for s in config.files]}
        if config.name == "documents":
            entry["default"] = True
        configs.append(entry)
        info = {"config_name": config.name, "features": config.info.features._to_yaml_list(),
                "splits": [{"name": s, "num_bytes": config.info.splits[s].num_bytes, "num_examples": config.info.splits[s].num_examples} for s in config.files]}
        infos.append(info)
    header = {"pretty_name": context.settings["pretty_name"], "license": context.settings["license"],
              "language": languages_in(release_dir),
              "task_categories": ["token-classification", "text-classification"],
              "task_ids": ["named-entity-recognition", "multi-label-classification"],
              "configs": configs, "dataset_info": infos}
    return header


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render_card(context, release_dir: Path) -> str:
    entities, topics = label_distribution(release_dir, context.taxonomy)
    stats = context.stats
    agreement = context.resolver.agreement
    split_rows = [[c.name] + [sum(f.rows for f in c.files.get(s, [])) for s in ("train", "validation", "test")] for c in context.configs]
    ner_keys = sorted(k for k in stats if k.startswith("ner_"))
    resolution_keys = sorted(k for k in stats if k.startswith("resolved_") or k.startswith("annotations") or k.endswith("_dropped"))
    body = [
        f"# {context.settings['pretty_name']} v{context.version}",
        "",
        context.settings["description"],
        "",
        "## Load it",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'documents = load_dataset("path/to/v{context.version}")          # default config',
        f'ner = load_dataset("path/to/v{context.version}", "ner")',
        "```",
        "",
        "No code runs on load: the folder holds Parquet files and this card only.",
        "",
        "## License",
        "",
        f"`{context.settings['license']}`. {context.settings.get('license_details', '')}".strip(),
        "",
        "## Configs and splits (rows)",
        "",
        table(["config", "train", "validation", "test"], split_rows),
        "",
        "- `documents`: one row per annotated article; `entities` and `title_entities` are lists of `{start, end, label, text}` in code points, `topics` a list of ClassLabels.",
        "- `ner`: one row per paragraph (the title is paragraph 0 of part `title`), tokens with their code-point offsets into the article, BIO `ner_tags`.",
        "- `articles`: every article, annotated or not.",
        "- `annotations`: one row per article and annotation, unresolved, cancelled ones included.",
        "",
        "Splits come from a hash of each near-duplicate cluster (MinHash over word shingles); an article placed by an earlier release never moves.",
        "",
        "## Labels",
        "",
        table(["entity label", "spans in documents"], [[n, entities.get(n, 0)] for n in context.taxonomy.entity_names]),
        "",
        table(["topic", "articles"], [[n, topics.get(n, 0)] for n in context.taxonomy.topic_names]),
        "",
        *relations_section(context, release_dir),
        "## Resolution and agreement",
        "",
        *[f"- {rule}" for rule in RULES],
        "",
        f"Entity agreement (micro pairwise F1 of exact spans, {agreement.articles} articles with 2+ annotators): {fmt(agreement.entity_f1)}. "
        f"Topic agreement (Krippendorff's alpha, nominal): {fmt(agreement.topic_alpha)}.",
        "",
        table(["count", "value"], [[k, stats[k]] for k in resolution_keys]),
        "",
        "## NER conversion",
        "",
        (NerConversion.outermost.__doc__ or "").strip() + " Spans that cross a paragraph or cover no whole token are dropped; every drop is counted here.",
        "",
        table(["count", "value"], [[k, stats[k]] for k in ner_keys]),
        "",
        *(["## Citation", "", "```bibtex", context.settings["citation"], "```", ""] if context.settings.get("citation") else []),
        "## Changelog",
        "",
        changelog_text(context),
        "",
    ]
    front = yaml.safe_dump(yaml_header(context, release_dir), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n\n" + "\n".join(body)


def changelog_text(context) -> str:
    if context.changes is None:
        return "First release."
    lines = [f"Against v{context.previous}:"]
    for key, ids in context.changes.items():
        shown = ", ".join(f"`{i}`" for i in ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
        lines.append(f"- {key.replace('_', ' ')}: {len(ids)}" + (f" ({shown})" if ids else ""))
    return "\n".join(lines)
