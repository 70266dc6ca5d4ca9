"""The dataset card (README.md): YAML the Hub and `load_dataset` read, and prose for people.

Sections follow the Hub's dataset card template (huggingface_hub's datasetcard_template.md) where
they apply to a corpus built here. Counts, features and split sizes come from the builder's own
DatasetInfo and from the files, so the card cannot disagree with the data (`num_examples` is
verified on load).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import langcodes
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from ..agreement.figures import CONFUSION_FILE, PAIRS_FILE
from ..agreement.render import KINDS
from ..annotators import ANONYMOUS
from ..hf_builder.ner import outermost
from ..resolve import LINK_RULE, RELATION_RULE, RULES
from ..split import SPLITS
from ..taxonomy import Taxonomy
from .diff import changes_markdown
from .label_chart import CHART_FILE, LabelPanel
from .manifest import config_batches

EXAMPLE_TEXT_CHARS = 300
EXAMPLE_SPANS = 5
SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")]

# The card shows these lines and tests/test_card.py runs them as written, with `documents` and
# `tokenizer` bound as TOKEN_LABELS_SETUP binds them; README.md shows the same lines.
TOKEN_LABELS_SETUP = '''from datasets import load_dataset
from transformers import AutoTokenizer

documents = load_dataset("path/to/v{version}", split="{split}")
tokenizer = AutoTokenizer.from_pretrained("bert-base-cased")  # any fast tokenizer'''

TOKEN_LABELS_CODE = '''names = documents.features["entities"].feature["label"].names
tag_names = ["O"] + [f"{prefix}-{name}" for name in names for prefix in ("B", "I")]  # as the `ner` config's ner_tags


def tokenize_and_label(row):
    """BIO label ids per token from code-point spans; where spans nest or cross, the outermost wins, as in `ner`."""
    encoding = tokenizer(row["text"], return_offsets_mapping=True, truncation=True)
    entities = sorted(row["entities"], key=lambda e: (e["start"], -e["end"]))
    owner = [-1] * len(row["text"])  # the entity each character belongs to
    for i, e in enumerate(entities):
        if max(owner[e["start"]:e["end"]]) < 0:
            owner[e["start"]:e["end"]] = [i] * (e["end"] - e["start"])
    labels, previous = [], -1
    for start, end in encoding.pop("offset_mapping"):
        i = max(owner[start:end], default=-1)
        if start == end:
            labels.append(-100)  # a special token ([CLS], [SEP], <s>): ignored by the loss
        elif i < 0:
            labels.append(0)
        else:
            labels.append(1 + 2 * entities[i]["label"] + (i == previous))  # B- of label k is 1 + 2k, I- is 2 + 2k
        previous = i
    return {**encoding, "labels": labels}


labelled = documents.map(tokenize_and_label, remove_columns=documents.column_names)'''


def label_distribution(release_dir: Path, taxonomy: Taxonomy) -> tuple[Counter, Counter]:
    """Entity and topic counts over every documents shard, read back from the files themselves."""
    entities, topics = Counter(), Counter()
    for batch in config_batches(release_dir, "documents", ["entities", "topics"]):
        labels = pc.struct_field(pc.list_flatten(batch.column("entities")), "label")
        for item in pc.value_counts(labels).to_pylist():
            entities[taxonomy.entity_names[item["values"]]] += item["counts"]
        for item in pc.value_counts(pc.list_flatten(batch.column("topics"))).to_pylist():
            topics[taxonomy.topic_names[item["values"]]] += item["counts"]
    return entities, topics


def label_panels(context, release_dir: Path) -> list[LabelPanel]:
    """What the card's picture and label tables show: counts in the release, agreement from the annotators."""
    entities, topics = label_distribution(release_dir, context.taxonomy)
    agreement = context.resolver.agreement
    return [
        LabelPanel("Entity spans in documents", {n: entities.get(n, 0) for n in context.taxonomy.entity_names},
                   "Pairwise F1 of exact spans", agreement.entity_f1_by_label()),
        LabelPanel("Articles per topic in documents", {n: topics.get(n, 0) for n in context.taxonomy.topic_names},
                   "Krippendorff's alpha", agreement.topic_alpha_by_label()),
    ]


def relation_counts(release_dir: Path, taxonomy: Taxonomy) -> Counter:
    """Relations by label over every documents shard, read back from the files themselves."""
    found = Counter()
    for batch in config_batches(release_dir, "documents", ["relations"]):
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
        "##### Relations",
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


def change(now, before, whole: bool = False) -> str:
    """A figure and its change from the previous release: `new` where that release had none."""
    shown = str(now) if whole else fmt(now)
    if before is None or now is None:
        return shown if before is None and now is None else f"{shown} (new)" if before is None else f"{shown} (was {fmt(before)})"
    return f"{shown} ({now - before:+d})" if whole else f"{shown} ({now - before:+.3f})"


def agreement_section(context) -> list[str]:
    """The pair matrix, the kinds of disagreement and the label confusion, each figure with its change
    from the previous release; nothing when no article had two annotators."""
    report, before = context.agreement, context.previous_agreement
    if not report or not report["articles"]:
        return []
    since = f", each followed by its change since v{context.previous}" if before is not None else ""
    old_pairs = {(p["a"], p["b"]): p for p in (before or {}).get("pairs", [])}
    old_confusion = {tuple(c["labels"]): c["count"] for c in (before or {}).get("confusion", [])}

    def then(table: dict, key, field: str | None = None):
        if before is None:
            return None
        found = table.get(key)
        return found if field is None or found is None else found[field]

    def shown(now, old, whole=False) -> str:
        return (str(now) if whole else fmt(now)) if before is None else change(now, old, whole)

    pair_rows = [[f"`{p['a']}`", f"`{p['b']}`", shown(p["articles"], then(old_pairs, (p["a"], p["b"]), "articles"), True),
                  *(shown(p[m], then(old_pairs, (p["a"], p["b"]), m)) for m in ("span_f1", "overlap_f1", "token_kappa"))] for p in report["pairs"]]
    kinds = [[kind, meaning, shown(report["disagreements"][kind], before["disagreements"][kind] if before else None, True)] for kind, meaning in KINDS]
    confusion = [[" / ".join(c["labels"]), shown(c["count"], then(old_confusion, tuple(c["labels"])), True)] for c in report["confusion"]]
    return [
        "#### Agreement between annotators",
        "",
        f"What `newscorpus agreement --release` reports on this release's `annotations` ({report['articles']} articles with 2+ annotators){since}; the whole report is in `agreement.json`. "
        "Exact span F1 is 2·|A∩B| / (|A|+|B|) of (part, start, end, label) spans summed over the pair's shared articles; overlap span F1 "
        "matches a span to an overlapping one of the same label, one to one; token kappa is Cohen's kappa over the BIO tag of every `ner` token.",
        "",
        f"![Agreement per annotator pair]({PAIRS_FILE})",
        "",
        table(["annotator", "annotator", "articles", "exact span F1", "overlap span F1", "token kappa"], pair_rows),
        "",
        "Kinds of disagreement, counted over every pair of annotators and every article they share:",
        "",
        table(["kind", "meaning", "count"], kinds),
        "",
        *([f"![Label confusion]({CONFUSION_FILE})", "", table(["labels given to the same span", "count"], confusion)] if confusion
          else ["No two annotators gave the same span different labels."]),
        "",
    ]


def link_counts(release_dir: Path, taxonomy: Taxonomy) -> dict[str, Counter]:
    """Per entity label: spans in documents, spans with a link, spans linked to NIL; read back from the files themselves."""
    found = {name: Counter() for name in taxonomy.entity_names}
    for batch in config_batches(release_dir, "documents", ["entities"]):
        spans = pc.list_flatten(batch.column("entities"))
        for label, kb_id in zip(pc.struct_field(spans, "label").to_pylist(), pc.struct_field(spans, "kb_id").to_pylist()):
            counts = found[taxonomy.entity_names[label]]
            counts["spans"] += 1
            counts["linked"] += kb_id is not None
            counts["NIL"] += kb_id == "NIL"
    return found


def links_section(context, release_dir: Path) -> list[str]:
    """The share of linked spans per label; nothing for a taxonomy without links."""
    links = context.taxonomy.links
    if not links:
        return []
    counts = link_counts(release_dir, context.taxonomy)
    rows = [[name, c["spans"], c["linked"], c["NIL"], fmt(c["linked"] / c["spans"] if c["spans"] else None)] for name, c in counts.items()]
    return [
        "##### Entity links",
        "",
        f"Each span of `entities` has `kb_id`: its {links.kb} id (pattern `{links.pattern}`), `NIL` when it is not in {links.kb}, "
        "null when it is not linked. Spans of `title_entities` are not linked.",
        "",
        table(["entity label", "spans in documents", "linked", "of which NIL", "share linked"], rows),
        "",
        f"{LINK_RULE} Ties: `links_ties_dropped` below.",
        "",
    ]


def column_values(release_dir: Path, config: str, column: str) -> Counter:
    found = Counter()
    for batch in config_batches(release_dir, config, [column]):
        for item in pc.value_counts(batch.column(column)).to_pylist():
            found[item["values"]] += item["counts"]
    return found


def languages_in(release_dir: Path) -> list[str]:
    return sorted(column_values(release_dir, "articles", "language"))


def language_lines(release_dir: Path, languages: list[str]) -> list[str]:
    """Articles, annotated articles and entities (text and title) per language, for a multilingual
    release: one language's card has no such table, and keeps the bytes it had before there was one."""
    if len(languages) < 2:
        return []
    articles = column_values(release_dir, "articles", "language")
    annotated, entities = Counter(), Counter()
    columns = ["language", "entities", "title_entities"]
    for batch in config_batches(release_dir, "documents", columns):
        spans = pc.add(pc.list_value_length(batch.column("entities")), pc.list_value_length(batch.column("title_entities")))
        for language, n in zip(batch.column("language").to_pylist(), spans.to_pylist()):
            annotated[language] += 1
            entities[language] += n
    rows = [[f"`{tag}`", langcodes.Language.get(tag).display_name(), articles[tag], annotated[tag], entities[tag]] for tag in languages]
    return ["Articles and entities (in text and title, as `documents` holds them) per language:", "",
            table(["language", "name", "articles", "annotated articles", "entities"], rows), ""]


def size_category(rows: int) -> str:
    return next((name for limit, name in SIZE_CATEGORIES if rows < limit), "n>10M")


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
    languages = languages_in(release_dir)
    articles = sum(f.rows for c in context.configs if c.name == "articles" for files in c.files.values() for f in files)
    header = {"pretty_name": context.settings["pretty_name"], "license": context.settings["license"],
              "language": languages, "multilinguality": "multilingual" if len(languages) > 1 else "monolingual",
              "size_categories": [size_category(articles)],
              "task_categories": ["token-classification", "text-classification"],
              "task_ids": ["named-entity-recognition", "multi-label-classification"],
              "configs": configs, "dataset_info": infos}
    return header


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def first_documents_split(context) -> str | None:
    files = next((c.files for c in context.configs if c.name == "documents"), {})
    return next((s for s in SPLITS if s in files), None)


def example_row(release_dir: Path, split: str) -> dict:
    """The first `documents` row of a split as `load_dataset` gives it, long text and lists cut short."""
    (path, *_) = sorted((release_dir / "documents").glob(f"{split}-*.parquet"))
    row = next(pq.ParquetFile(path).iter_batches(batch_size=1)).to_pylist()[0]
    for key, value in row.items():
        if isinstance(value, str) and len(value) > EXAMPLE_TEXT_CHARS:
            row[key] = value[:EXAMPLE_TEXT_CHARS] + f"... ({len(value)} characters)"
        elif isinstance(value, list) and len(value) > EXAMPLE_SPANS:
            row[key] = value[:EXAMPLE_SPANS] + [f"... ({len(value)} in all)"]
    return row


def compact_json(row: dict) -> str:
    """One line per field and per span: readable where indent=2 gives a column of braces."""
    def dumps(value):
        return json.dumps(value, ensure_ascii=False)

    fields = [f"  {dumps(key)}: [\n" + ",\n".join(f"    {dumps(item)}" for item in value) + "\n  ]"
              if isinstance(value, list) and value and not isinstance(value[0], int) else f"  {dumps(key)}: {dumps(value)}" for key, value in row.items()]
    return "{\n" + ",\n".join(fields) + "\n}"


def example_section(context, release_dir: Path, split: str | None) -> list[str]:
    if split is None:
        return []
    row = example_row(release_dir, split)
    taxonomy = context.taxonomy
    used = {"entities": (["entities", "title_entities"], taxonomy.entity_names), "relations": (["relations"], taxonomy.relation_names)}
    named = []
    for what, (keys, names) in used.items():
        ids = sorted({item["label"] for key in keys for item in row.get(key, []) if isinstance(item, dict)})
        if ids:
            named.append(f"{what} " + ", ".join(f"{i} = `{names[i]}`" for i in ids))
    if any(isinstance(i, int) for i in row["topics"]):
        named.append("topics " + ", ".join(f"{i} = `{taxonomy.topic_names[i]}`" for i in row["topics"] if isinstance(i, int)))
    return [
        f"An example row of `documents` ({split} split), long values cut short here:",
        "",
        "```json",
        compact_json(row),
        "```",
        "",
        f"Each `label` and `topics` holds ClassLabel ids (the names are in `features`): {'; '.join(named) or 'none in this row'}.",
        "",
    ]


def annotator_articles(release_dir: Path) -> tuple[list[list], int]:
    """Per pseudonymous annotator: articles annotated and articles skipped, read back from the
    `annotations` files (an article's rows lie together); anonymous annotations (one annotator
    each) are summed into one row."""
    annotated, skipped = Counter(), Counter()
    article, counted = None, set()
    columns = ["article_id", "annotator", "was_cancelled"]
    for batch in config_batches(release_dir, "annotations", columns):
        for article_id, annotator, cancelled in zip(*(batch.column(c).to_pylist() for c in columns)):
            if article_id != article:
                article, counted = article_id, set()
            if (annotator, cancelled) not in counted:
                counted.add((annotator, cancelled))
                (skipped if cancelled else annotated)[annotator] += 1
    names = sorted(annotated.keys() | skipped.keys())
    anonymous = [n for n in names if n.startswith(f"{ANONYMOUS}-")]
    rows = [[f"`{n}`", annotated[n], skipped[n]] for n in names if n not in anonymous]
    if anonymous:
        rows.append([f"`{ANONYMOUS}-*` ({len(anonymous)}, one per annotation)", sum(annotated[n] for n in anonymous), sum(skipped[n] for n in anonymous)])
    return rows, len(names)


def annotator_lines(context, release_dir: Path) -> list[str]:
    rows, count = annotator_articles(release_dir)
    per_article = column_values(release_dir, "documents", "annotators")
    stats = context.stats
    anonymous = (f" An annotation that records no annotator (Label Studio 0.x) counts as an annotator of its own, `{ANONYMOUS}-` and a hash."
                 if rows and rows[-1][0].startswith(f"`{ANONYMOUS}-") else "")
    return [
        f"{count} {'annotator' if count == 1 else 'annotators'} worked on this release. Annotations: {stats.get('annotations', 0)}, "
        f"of which {stats.get('annotations_cancelled', 0)} cancelled. The card counts annotators and never names them: in the "
        "`annotations` config and below each appears only as `annotator-` and a keyed hash of the Label Studio user id, the same in "
        "every release of this corpus (the key stays with the corpus and is not published)." + anonymous,
        "",
        *([table(["annotator", "articles annotated", "articles skipped"], rows), ""] if rows else []),
        table(["voting annotators per article", "articles in documents"], [[n, per_article[n]] for n in sorted(per_article)]),
        "",
    ]


def render_card(context, release_dir: Path, panels: list[LabelPanel]) -> str:
    stats = context.stats
    agreement = context.resolver.agreement
    settings = context.settings
    entity_panel, topic_panel = panels
    guideline = {label.name: label.description for label in context.taxonomy.entity_labels}
    topic_label = {label.name: label for label in context.taxonomy.topic_labels}
    sources = column_values(release_dir, "articles", "source")
    split = first_documents_split(context)
    split_rows = [[c.name] + [sum(f.rows for f in c.files.get(s, [])) for s in SPLITS] for c in context.configs]
    ner_keys = sorted(k for k in stats if k.startswith("ner_"))
    resolution_keys = sorted(k for k in stats if k.startswith("resolved_") or k.startswith("annotations") or k.endswith("_dropped"))
    languages = languages_in(release_dir)
    body = [
        f"# Dataset Card for {settings['pretty_name']} v{context.version}",
        "",
        settings["description"],
        "",
        "## Dataset Details",
        "",
        "### Dataset Description",
        "",
        f"- **Language(s) (NLP):** {', '.join(languages)}",
        f"- **License:** `{settings['license']}`. {settings.get('license_details', '')}".rstrip(),
        f"- **Version:** {context.version}" + (f" (follows v{context.previous})" if context.previous else ""),
        "",
        *language_lines(release_dir, languages),
        "## Uses",
        "",
        "### Direct Use",
        "",
        "Training and evaluating named entity recognition (nested spans in `documents`, BIO tags in `ner`) and multi-label topic classification.",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'documents = load_dataset("path/to/v{context.version}")          # default config',
        f'ner = load_dataset("path/to/v{context.version}", "ner")',
        "```",
        "",
        "No code runs on load: the folder holds Parquet files, this card and its picture.",
        "",
        "#### Spans to token labels for any tokenizer",
        "",
        "`documents` keeps entities as character spans, so any Hugging Face fast tokenizer can be trained on them: "
        "its `offset_mapping` says which characters each token covers. With",
        "",
        "```python",
        TOKEN_LABELS_SETUP.format(version=context.version, split=split or "train"),
        "```",
        "",
        "these lines give every token its BIO label id (`tag_names` are the names, in the order of the `ner` config's `ner_tags`, for `id2label`):",
        "",
        "```python",
        TOKEN_LABELS_CODE,
        "```",
        "",
        "## Dataset Structure",
        "",
        table(["config", *SPLITS], split_rows),
        "",
        "- `documents`: one row per annotated article; `entities` and `title_entities` are lists of `{start, end, label, text}` in code points, `topics` a list of ClassLabels"
        + (f"; each of `entities` also has `kb_id`, its {context.taxonomy.links.kb} id or null" if context.taxonomy.links else "")
        + ("; `relations` a list of `{head, tail, label}`, indexes into `entities`." if context.taxonomy.relation_labels else "."),
        "- `ner`: one row per paragraph (the title is paragraph 0 of part `title`), tokens with their code-point offsets into the article, BIO `ner_tags`.",
        "- `articles`: every article, annotated or not.",
        "- `annotations`: one row per article and annotation, unresolved, cancelled ones included; `review` marks a reviewer's adjudication, `parent_prediction` the pre-annotation it started from (Label Studio's id and model version), if any.",
        "",
        *example_section(context, release_dir, split),
        "Splits come from a hash of each near-duplicate cluster (MinHash over word shingles); an article placed by an earlier release never moves. "
        "A split with no rows has no files.",
        "",
        "## Dataset Creation",
        "",
        "### Source Data",
        "",
        "#### Data Collection and Processing",
        "",
        "Articles are stored as Unicode NFC with `\\n` line ends; each source's publisher boilerplate (donation appeals, footers) is removed at ingest by declared rules. "
        "Every article and every annotation is checked against JSON Schemas and against each other before a release is built.",
        "",
        "#### Who are the source data producers?",
        "",
        table(["source", "articles"], [[name, n] for name, n in sorted(sources.items())]),
        "",
        "### Annotations",
        "",
        "#### Annotation process",
        "",
        "Annotators labelled entity spans" + (f", linked them to {context.taxonomy.links.kb}" if context.taxonomy.links else "")
        + (", drew relations between them" if context.taxonomy.relation_labels else "")
        + " and chose topics in Label Studio, with a labeling config generated from the taxonomy; each label's guideline below was shown to them as its hint.",
        "",
        f"![Label distribution and agreement per label]({CHART_FILE})",
        "",
        table(["entity label", "guideline", "spans in documents", "agreement (F1)"],
              [[n, guideline[n], c, fmt(entity_panel.agreement.get(n))] for n, c in entity_panel.counts.items()]),
        "",
        table(["topic", "guideline", "articles", "agreement (alpha)"],
              [[n, " ".join(x for x in (topic_label[n].code, topic_label[n].description) if x), c, fmt(topic_panel.agreement.get(n))]
               for n, c in topic_panel.counts.items()]),
        "",
        *relations_section(context, release_dir),
        *links_section(context, release_dir),
        "Gold labels are resolved from the annotations by these rules:",
        "",
        *[f"- {rule}" for rule in RULES],
        "",
        f"Entity agreement (micro pairwise F1 of exact spans, {agreement.articles} articles with 2+ annotators, before adjudication): {fmt(agreement.entity_f1)}. "
        f"Topic agreement (Krippendorff's alpha, nominal): {fmt(agreement.topic_alpha)}. "
        f"Articles adjudicated by a reviewer: {stats['resolved_adjudicated']}.",
        "",
        f"Articles whose labels were carried forward onto a corrected text (`carried_forward`): {stats['articles_carried_forward']}. "
        "Their spans were annotated on an earlier version of the article and moved through a character diff; each one lies in text that did not change.",
        "",
        table(["count", "value"], [[k, stats[k]] for k in resolution_keys]),
        "",
        *agreement_section(context),
        "#### Who are the annotators?",
        "",
        *annotator_lines(context, release_dir),
        "#### Personal and Sensitive Information",
        "",
        "The articles are news reports as their publishers released them: they name people and may state their political or religious "
        "affiliations, health or whereabouts. Nothing in the text was anonymised. No annotator's name or email is in this release.",
        *(["", settings["personal_information"]] if settings.get("personal_information") else []),
        "",
        "## Bias, Risks, and Limitations",
        "",
        "Without a ground-truth annotation, spans and topics that lack a strict majority of annotators are dropped (counted above). "
        "`ner` holds one label per token, so where spans nest or cross one is kept. " + (outermost.__doc__ or "").strip()
        + " Spans that cross a paragraph or cover no whole token are dropped; every drop is counted here.",
        "",
        table(["count", "value"], [[k, stats[k]] for k in ner_keys]),
        "",
        *(["## Citation", "", "**BibTeX:**", "", "```bibtex", settings["citation"], "```", ""] if settings.get("citation") else []),
        "## More Information",
        "",
        "### Changelog",
        "",
        changelog_text(context),
        "",
    ]
    front = yaml.safe_dump(yaml_header(context, release_dir), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n\n" + "\n".join(body)


def changelog_text(context) -> str:
    if context.changes is None:
        return "First release."
    return "\n".join([f"Against v{context.previous}:", *changes_markdown(context.changes)])
