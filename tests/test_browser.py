"""An annotator selects a word in Label Studio's editor in a real browser; the pulled span is exact.

The text has an emoji before the word: Label Studio 1.23 stores code points (the emoji counts
once), older versions stored UTF-16 units. An Arabic article is laid out right to left, and its
vowel marks are code points of their own. Uses Debian's Chromium (scripts/install-browser).
"""

import json
import time

import pytest
from datasets import load_dataset
from label_studio_sdk import LabelStudio

from conftest import CHROMIUM, QUIET_CHROMIUM, REPO, article, chromium_page, new_corpus, run, sign_in, write_jsonl, write_taxonomy
from newscorpus.layout import Layout

TEXT = "Fans 🎉 cheered Maria today."
LINKS = {"control": "entity_links", "kb": "wikidata", "pattern": "^(Q[1-9][0-9]*|NIL)$"}
ARABIC = "وصل 🎉 مُحَمَّد إلى القاهرة يوم الاثنين."  # "Muhammad 🎉 arrived in Cairo on Monday", with its vowel marks
WORD_RECT = """([word]) => {
  const line = [...document.querySelectorAll('.lsf-richtext__line')].find(e => e.textContent.includes(word));
  const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const i = node.data.indexOf(word);
    if (i >= 0) {
      const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + word.length);
      const b = range.getBoundingClientRect(); return {x: b.x, y: b.y, width: b.width, height: b.height};
    }
  }
  return null;
}"""

pytestmark = [pytest.mark.studio, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/install-browser)")]


def label_word_in_browser(server, project_id: int, task_id: int, label: str, word: str, link: tuple[str, str] | None = None) -> None:
    """`link`: (the link field's placeholder, the id to type in it) for the span, once it is labelled and selected."""
    with chromium_page(*QUIET_CHROMIUM, viewport={"width": 1400, "height": 900}) as page:
        sign_in(page, server.url, server.username, server.password)
        page.goto(f"{server.url}/projects/{project_id}/data?tab=1&task={task_id}")
        page.get_by_text(word, exact=False).first.wait_for(timeout=120_000)
        page.get_by_text(label, exact=True).first.click()
        box = page.evaluate(WORD_RECT, [word])
        middle = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + 1, middle)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] - 1, middle, steps=5)
        page.mouse.up()
        if link:
            placeholder, kb_id = link
            page.get_by_text(word, exact=True).last.click()  # the region in the Regions list: selected, its link field shows
            field = page.get_by_placeholder(placeholder)
            field.fill(kb_id)
            field.press("Enter")
        page.get_by_role("button", name="Submit").click()
        page.wait_for_load_state("networkidle")
        time.sleep(1)


def labelled_in_browser(tmp_path, server, record: dict, label: str, word: str, link: str | None = None) -> tuple[dict, list[str]]:
    """The `documents` row of one article pushed, labelled (and linked to `link`) in the browser, pulled and
    built, in the corpus `tmp_path / "c"`; and the label names."""
    from newscorpus.studio.config import link_placeholder
    from newscorpus.taxonomy import load_taxonomy

    layout = new_corpus(tmp_path / "c", None)
    write_taxonomy(layout.root, ["PERSON", "ORG", "GPE"], ["sport"], title=False)
    if link:
        layout.taxonomy_path.write_text(json.dumps({**json.loads(layout.taxonomy_path.read_text()), "links": LINKS}))
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])
    project_name = f"Browser {record['id']}"
    assert run("studio", "push", "--project", project_name, "--root", layout.root, env=server.env()).code == 0
    client = LabelStudio(base_url=server.url, api_key=server.token)
    (project,) = [p for p in client.projects.list(title=project_name) if p.title == project_name]
    (task,) = list(client.tasks.list(project=project.id))

    label_word_in_browser(server, project.id, task.id, label, word, (link_placeholder(load_taxonomy(layout)), link) if link else None)

    assert run("studio", "pull", "--project", project_name, "--root", layout.root, env=server.env()).code == 0
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    loaded = load_dataset(str(layout.releases_dir / "v1.0.0"))
    (row,) = [row for split in loaded.values() for row in split]
    return row, next(iter(loaded.values())).features["entities"].feature["label"].names


def test_a_word_selected_in_the_editor_after_an_emoji_comes_back_with_code_point_offsets(tmp_path, label_studio):
    row, names = labelled_in_browser(tmp_path, label_studio, article("emoji-1", TEXT, "Cheers"), "PERSON", "Maria")
    start = TEXT.index("Maria")
    assert start == 15 and len(TEXT[:start].encode("utf-16-le")) // 2 == 16  # the emoji is one code point, two UTF-16 units
    assert row["entities"] == [{"start": start, "end": start + 5, "label": names.index("PERSON"), "text": "Maria"}]


def test_a_word_selected_in_right_to_left_arabic_comes_back_with_code_point_offsets(tmp_path, label_studio):
    record = article("arabic-1", ARABIC, "أخبار") | {"language": "ar"}
    row, names = labelled_in_browser(tmp_path, label_studio, record, "GPE", "القاهرة")
    start = ARABIC.index("القاهرة")
    assert start == 19 and len(ARABIC[:start].encode("utf-16-le")) // 2 == 20  # each vowel mark counts, the emoji once
    assert row["entities"] == [{"start": start, "end": start + 7, "label": names.index("GPE"), "text": "القاهرة"}]


def test_a_span_linked_in_the_editor_comes_back_as_a_per_region_result_with_its_regions_id(tmp_path, label_studio):
    row, names = labelled_in_browser(tmp_path, label_studio, article("linked-1", TEXT, "Cheers"), "PERSON", "Maria", link="Q42")  # a project of its own
    (export,) = Layout(tmp_path / "c").exports()
    (result_span, result_link) = sorted(json.loads(export.read_text())[0]["annotations"][0]["result"], key=lambda r: r["type"])
    start = TEXT.index("Maria")
    assert result_span["type"] == "labels" and result_span["value"] == {"start": start, "end": start + 5, "text": "Maria", "labels": ["PERSON"]}
    assert {k: result_link[k] for k in ("id", "from_name", "to_name", "type", "value")} == {
        "id": result_span["id"], "from_name": "entity_links", "to_name": "text", "type": "textarea",
        "value": {"start": start, "end": start + 5, "text": ["Q42"]}}
    assert row["entities"] == [{"start": start, "end": start + 5, "label": names.index("PERSON"), "text": "Maria", "kb_id": "Q42"}]
