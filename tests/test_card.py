"""The dataset card a Hub user expects: the template's sections, a picture of the labels, and the
lines that turn `documents` spans into labels for any fast tokenizer, run here as the card prints them."""

import json
from collections import Counter
import re

import pytest
from datasets import load_dataset
from PIL import Image

from conftest import CHROMIUM, REPO, annotation, chromium_page, article, new_corpus, run, span, task, topics, with_release_settings, write_export, write_jsonl
from newscorpus.hf_builder.ner import outermost

TEMPLATE_HEADINGS = ["## Dataset Details", "### Dataset Description", "## Uses", "### Direct Use", "## Dataset Structure",
                     "## Dataset Creation", "### Source Data", "#### Who are the source data producers?", "### Annotations",
                     "#### Annotation process", "#### Who are the annotators?", "#### Personal and Sensitive Information",
                     "## Bias, Risks, and Limitations", "## Citation"]


def card_body(release) -> str:
    return (release / "README.md").read_text().split("\n---\n", 1)[1]


def python_blocks(markdown: str, heading: str) -> list[str]:
    section = markdown.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)\n```", section, flags=re.S)


def test_the_card_has_the_templates_sections_in_order_and_an_example_row(gum_release):
    _, release = gum_release
    body = card_body(release)
    positions = [body.index(heading + "\n") for heading in TEMPLATE_HEADINGS]
    assert positions == sorted(positions)
    example = re.search(r"An example row of `documents` \(train split\).*?```json\n(.*?)\n```", body, flags=re.S).group(1)
    row = json.loads(example)
    first = load_dataset(str(release), split="train")[0]
    assert row["id"] == first["id"] and row["entities"][0] == first["entities"][0]
    assert row["text"].startswith(first["text"][:300]) and f"({len(first['text'])} characters)" in row["text"]
    assert "| person | person mentions | 1192 | n/a |" in body  # the taxonomy's guideline beside each label
    assert "| Wikinews | 24 |" in body and "1 annotator worked on this release. Annotations: 24, of which 0 cancelled." in body
    assert "A ground-truth annotation wins outright" in body and "`other`. Each article keeps the license" in body


def test_the_card_shows_a_picture_of_the_labels_that_a_rebuild_reproduces_byte_for_byte(gum_release, tmp_path):
    layout, release = gum_release
    assert "![Label distribution and agreement per label](label_distribution.png)" in card_body(release)
    picture = release / "label_distribution.png"
    with Image.open(picture) as image:
        assert image.format == "PNG" and image.width >= 600 and image.height >= 400
    manifest = json.loads((release / "manifest.json").read_text())
    (entry,) = [f for f in manifest["files"] if f["path"] == "label_distribution.png"]
    assert entry["bytes"] == picture.stat().st_size
    assert {"matplotlib", "pillow"} <= set(manifest["tool"])
    again = run("build", "--version", "1.0.0", "--root", layout.root, "--out", tmp_path / "again")
    assert again.code == 0, again.err
    for name in ("label_distribution.png", "README.md", "manifest.json"):
        assert (tmp_path / "again" / "v1.0.0" / name).read_bytes() == (release / name).read_bytes(), name


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/install-browser)")
def test_the_card_rendered_as_html_shows_its_picture_in_a_browser(gum_release, tmp_path):
    from markdown_it import MarkdownIt
    _, release = gum_release
    page_file = tmp_path / "card.html"
    page_file.write_text(f'<html><head><base href="{release.as_uri()}/"></head><body>'
                         + MarkdownIt("commonmark").enable("table").render(card_body(release)) + "</body></html>")
    with chromium_page("--allow-file-access-from-files") as page:
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        shown = page.evaluate("() => [...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
    with Image.open(release / "label_distribution.png") as image:
        assert shown == [["label_distribution.png", True, image.width]]


def wordpiece_trained_on(texts: list[str]):
    """A small cased WordPiece (so words split into ## sub-tokens), wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=False)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=1000, special_tokens=special))
    wordpiece.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[(t, wordpiece.token_to_id(t)) for t in ("[CLS]", "[SEP]")])
    return PreTrainedTokenizerFast(tokenizer_object=wordpiece, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]")


def test_the_cards_lines_give_every_entitys_first_sub_token_its_b_label(gum_release):
    layout, release = gum_release
    setup, code = python_blocks(card_body(release), "#### Spans to token labels for any tokenizer")
    assert 'documents = load_dataset("path/to/v1.0.0", split="train")' in setup and "AutoTokenizer" in setup
    assert f"```python\n{code}\n```" in (REPO / "README.md").read_text(), "README.md shows other lines than the card"
    texts = [json.loads(line)["text"] for shard in sorted(layout.corpus_dir.glob("*.jsonl")) for line in shard.read_text().splitlines()]
    tokenizer = wordpiece_trained_on(texts)
    documents = load_dataset(str(release), split="train")
    namespace = {"documents": documents, "tokenizer": tokenizer}

    exec(code, namespace)

    labelled, tag_names = namespace["labelled"], namespace["tag_names"]
    assert tag_names == load_dataset(str(release), "ner", split="train").features["ner_tags"].feature.names
    names = documents.features["entities"].feature["label"].names
    checked = split_words = 0
    for row, out in zip(documents, labelled):
        encoding = tokenizer(row["text"], return_offsets_mapping=True)
        offsets, labels = encoding["offset_mapping"], out["labels"]
        assert out["input_ids"] == encoding["input_ids"] and len(labels) == len(offsets)
        assert labels[0] == labels[-1] == -100  # [CLS] and [SEP]
        kept = list(outermost([(e["start"], e["end"], e["label"]) for e in row["entities"]], Counter()))
        for entity_start, entity_end, label in kept:
            first = next(k for k, (start, end) in enumerate(offsets) if end > entity_start and start < entity_end)
            assert tag_names[labels[first]] == f"B-{names[label]}", (row["id"], entity_start, entity_end)
            following = encoding.tokens()[first + 1]
            split_words += following.startswith("##") and offsets[first + 1][1] <= entity_end
            checked += 1
        assert sum(tag_names[t].startswith("B-") for t in labels if t >= 0) == len(kept), row["id"]
    assert checked > 2000 and split_words > 100  # GUM's outermost spans, many of them starting with a word cut into sub-tokens


def test_two_annotators_give_agreement_per_label_in_the_card_and_its_picture_and_never_their_names(tmp_path):
    layout = with_release_settings(new_corpus(tmp_path / "c", ["PERSON", "ORG"], ["politics", "sport"]))
    record = article("a000", "Alice met Bob at Acme.")
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])
    alice, bob, acme = span(0, 5, "PERSON", "Alice"), span(10, 13, "PERSON", "Bob"), span(17, 21, "ORG", "Acme")
    first = annotation(1, 11, alice, bob, acme, topics("politics"))
    second = annotation(2, 12, alice, acme, topics("politics", "sport"))
    second["completed_by"] = {"id": 12, "email": "second.annotator@example.com", "first_name": "Second"}
    write_export(layout, "2026-01-01.json", [task(1, record, first, second)])
    settings = json.loads((layout.corpus_dir / "release.json").read_text())
    settings["personal_information"] = "Alice and Bob are invented names."
    (layout.corpus_dir / "release.json").write_text(json.dumps(settings))
    result = run("build", "--version", "1.0.0", "--root", layout.root)
    assert result.code == 0, result.err
    release = layout.releases_dir / "v1.0.0"
    body = card_body(release)
    assert "| PERSON | PERSON mentions | 1 | 0.667 |" in body  # Alice agreed, Bob not: 2 * 1 / (2 + 1)
    assert "| ORG | ORG mentions | 1 | 1.000 |" in body
    assert "| sport |  | 0 | 0.000 |" in body and "| politics |  | 1 | n/a |" in body
    assert "2 annotators worked on this release." in body and "| 2 | 1 |" in body
    assert "second.annotator@example.com" not in body and "Second" not in body
    assert "Nothing in the text was anonymised. No annotator's name or email is in this release.\n\nAlice and Bob are invented names." in body
    with Image.open(release / "label_distribution.png") as image:
        assert image.width == 1100  # counts and, beside them, agreement per label
