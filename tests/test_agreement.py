"""Three annotators with planted disagreements: `newscorpus agreement` gives the counts, F1s and
kappas worked out by hand here, the same from the working tree and from the release, in JSON that
its schema accepts, in text and in an HTML page."""

import json
import shutil

import jsonschema_rs
import pytest

from conftest import CHROMIUM, REPO, annotation, chromium_page, article, new_corpus, pseudonym, run, span, task, topics, with_release_settings, write_export, write_jsonl

TEXT = "Alice met Bob in Paris. Acme hired Carol Smith."
RECORD = article("a000", TEXT, "A title")
SINGLE = article("b000", "Dana saw Acme.", "Another title")
ALICE, BOB, CAROL_SMITH, CAROL = span(0, 5, "PERSON", "Alice"), span(10, 13, "PERSON", "Bob"), span(35, 46, "PERSON", "Carol Smith"), span(35, 40, "PERSON", "Carol")
PARIS_GPE, PARIS_ORG, ACME = span(17, 22, "GPE", "Paris"), span(17, 22, "ORG", "Paris"), span(24, 28, "ORG", "Acme")
ANA, BEN, CHO, REVIEWER = 11, 12, 13, 14

# Ana is right. Ben calls Paris an ORG and misses Bob; Cho calls Paris an ORG too (the label GPE/ORG
# confused twice) and ends Carol Smith early (one boundary moved).
ANA_SPANS = [ALICE, BOB, PARIS_GPE, ACME, CAROL_SMITH]
BEN_SPANS = [ALICE, PARIS_ORG, ACME, CAROL_SMITH]
CHO_SPANS = [ALICE, BOB, PARIS_ORG, ACME, CAROL]

# Worked out by hand, per pair: exact matches, |A| + |B|, overlapping same-label matches.
# ana/ben: Alice, Acme, Carol Smith = 3 of 5 + 4; overlap 3; one label (Paris), one unmatched (Bob)
# ana/cho: Alice, Bob, Acme = 3 of 5 + 5; overlap 4 (Carol ~ Carol Smith); one label, one boundary
# ben/cho: Alice, Paris ORG, Acme = 3 of 4 + 5; overlap 4; one boundary, one unmatched (Bob)
SPAN_F1 = {(ANA, BEN): 6 / 9, (ANA, CHO): 6 / 10, (BEN, CHO): 6 / 9}
OVERLAP_F1 = {(ANA, BEN): 6 / 9, (ANA, CHO): 8 / 10, (BEN, CHO): 8 / 9}
# 13 tokens: "A title" (2, all O) and Alice met Bob in Paris . Acme hired Carol Smith . (11). Tags:
#   ana: B-PER O B-PER O B-GPE O B-ORG O B-PER I-PER O  -> O 7, B-PER 3, I-PER 1, B-ORG 1, B-GPE 1
#   ben: B-PER O O     O B-ORG O B-ORG O B-PER I-PER O  -> O 8, B-PER 2, I-PER 1, B-ORG 2
#   cho: B-PER O B-PER O B-ORG O B-ORG O B-PER O     O  -> O 8, B-PER 3, B-ORG 2
# Each pair differs on 2 tokens: p_o = 11/13. p_e = sum of products of tag counts / 13^2:
#   ana/ben (56 + 6 + 1 + 2) / 169, ana/cho (56 + 9 + 2) / 169, ben/cho (64 + 6 + 4) / 169.
# kappa = (p_o - p_e) / (1 - p_e) = (143 - 169 p_e) / (169 - 169 p_e).
TOKEN_KAPPA = {(ANA, BEN): 78 / 104, (ANA, CHO): 76 / 102, (BEN, CHO): 69 / 95}
# Per label, pairwise over the three pairs: matched * 2 / spans of that label in the pair.
# PERSON: ana/ben 4/5, ana/cho 4/6, ben/cho 2/5 -> 10/16; GPE: 0/1, 0/1 -> 0; ORG: 2/3, 2/3, 4/4 -> 8/10.
LABELS = [{"label": "PERSON", "spans": 8, "span_f1": 10 / 16}, {"label": "ORG", "spans": 5, "span_f1": 8 / 10},
          {"label": "GPE", "spans": 1, "span_f1": 0.0}]
# Topics: all three chose politics (alpha undefined), only Cho sport: o00 = 1, o01 = 1 -> alpha 0;
# overall o00 = 4, o01 = 1, o11 = 3: alpha = 1 - 8 * 1 / (5 * 4) = 0.6.
TOPICS = {"alpha": 0.6, "labels": [{"topic": "politics", "alpha": None}, {"topic": "sport", "alpha": 0.0},
                                   {"topic": "science and technology", "alpha": None}]}
# A reviewer settles the article as Ana had it: Ana 5/5, Ben 3 of 4 against 5, Cho 3 of 5 against 5.
AGAINST_GOLD = {ANA: (1.0, 1.0, 1.0), BEN: (3 / 4, 3 / 5, 6 / 9), CHO: (3 / 5, 3 / 5, 6 / 10)}


def review_task(task_id, *annotations):
    reviewed = task(task_id, RECORD, *annotations)
    reviewed["data"]["review"] = {"project": "desk", "tasks": [1], "annotations": [1, 2, 3]}
    return reviewed


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    layout = with_release_settings(new_corpus(tmp_path_factory.mktemp("agreement") / "c", ["PERSON", "ORG", "GPE"]))
    write_jsonl(layout.corpus_dir / "wire.jsonl", [RECORD, SINGLE])
    (layout.annotations_dir / "desk").mkdir()
    (layout.annotations_dir / "desk-review").mkdir()
    write_export(layout, "desk/20260101T000000Z.json", [
        task(1, RECORD, annotation(1, ANA, *ANA_SPANS, topics("politics")), annotation(2, BEN, *BEN_SPANS, topics("politics")),
             annotation(3, CHO, *CHO_SPANS, topics("politics", "sport"))),
        task(2, SINGLE, annotation(4, ANA, span(0, 4, "PERSON", "Dana"), topics("sport"))),  # one annotator: not counted
    ])
    write_export(layout, "desk-review/20260102T000000Z.json", [review_task(7, annotation(9, REVIEWER, *ANA_SPANS, topics("politics")))])
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    return layout


def agreement_json(layout, *args) -> dict:
    result = run("agreement", "--format", "json", "--root", layout.root, *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def by_pair(layout, report: dict) -> dict:
    names = {pseudonym(layout, user): user for user in (ANA, BEN, CHO)}
    return {tuple(sorted((names[p["a"]], names[p["b"]]))): p for p in report["pairs"]}


def test_three_annotators_give_the_hand_computed_figures_in_json_that_the_schema_accepts(corpus):
    report = agreement_json(corpus)
    jsonschema_rs.validator_for(json.loads((REPO / "schema" / "agreement.schema.json").read_text())).validate(report)
    assert report["articles"] == 1
    names = {pseudonym(corpus, user): user for user in (ANA, BEN, CHO)}
    assert {names[a["annotator"]]: (a["articles"], a["spans"]) for a in report["annotators"]} == {ANA: (1, 5), BEN: (1, 4), CHO: (1, 5)}
    pairs = by_pair(corpus, report)
    assert sorted(pairs) == sorted(SPAN_F1)
    for pair, found in pairs.items():
        assert found["a"] < found["b"] and found["articles"] == 1
        assert found["span_f1"] == pytest.approx(SPAN_F1[pair])
        assert found["overlap_f1"] == pytest.approx(OVERLAP_F1[pair])
        assert found["token_kappa"] == pytest.approx(TOKEN_KAPPA[pair])
    assert [x["label"] for x in report["labels"]] == ["PERSON", "ORG", "GPE"]
    for found, expected in zip(report["labels"], LABELS):
        assert found == {**expected, "span_f1": pytest.approx(expected["span_f1"])}
    assert report["disagreements"] == {"label": 2, "boundary": 2, "unmatched": 2}
    assert report["confusion"] == [{"labels": ["GPE", "ORG"], "count": 2}]
    assert report["relations"] == {"span_f1": None}  # the taxonomy has no relations
    assert report["topics"] == TOPICS
    gold = {names[g["annotator"]]: g for g in report["against_gold"]}
    assert set(gold) == {ANA, BEN, CHO}  # the reviewer is gold, not an annotator compared
    for user, (precision, recall, f1) in AGAINST_GOLD.items():
        assert gold[user]["articles"] == 1
        assert (gold[user]["precision"], gold[user]["recall"], gold[user]["f1"]) == pytest.approx((precision, recall, f1))


def test_the_release_gives_the_same_report_as_the_working_tree_it_was_built_from_and_holds_it(corpus):
    release = corpus.releases_dir / "v1.0.0"
    report = agreement_json(corpus)
    assert agreement_json(corpus, "--release", release) == report
    assert json.loads((release / "agreement.json").read_text()) == report  # what the build measured, chunk by chunk


def test_the_text_report_and_the_out_file(corpus, tmp_path):
    result = run("agreement", "--root", corpus.root)
    assert result.code == 0, result.err
    assert "articles with 2+ annotators: 1" in result.out
    assert "  label      2      same place, other label" in result.out
    assert "  GPE    ORG    2" in result.out
    out = tmp_path / "report.json"
    written = run("agreement", "--format", "json", "--out", out, "--root", corpus.root)
    assert written.code == 0 and written.out == ""
    assert json.loads(out.read_text()) == agreement_json(corpus)


def test_a_folder_that_is_not_a_release_is_refused_without_a_traceback(corpus, tmp_path):
    result = run("agreement", "--release", tmp_path / "nothing", "--root", corpus.root)
    assert result.code == 1 and "is not a release" in result.err and "Traceback" not in result.err
    assert run("agreement", "--format", "yaml", "--root", corpus.root).code == 2
    (tmp_path / "folder").mkdir()
    onto_folder = run("agreement", "--out", tmp_path / "folder", "--root", corpus.root)
    assert onto_folder.code == 1 and "cannot write" in onto_folder.err and list((tmp_path / "folder").iterdir()) == []


def test_an_invalid_corpus_is_not_measured(tmp_path):
    layout = with_release_settings(new_corpus(tmp_path / "c", ["PERSON", "ORG", "GPE"]))
    write_jsonl(layout.corpus_dir / "wire.jsonl", [SINGLE])
    write_export(layout, "20260101T000000Z.json", [task(2, SINGLE, annotation(4, ANA, span(0, 4, "PLACE", "Dana")))])
    result = run("agreement", "--format", "json", "--root", layout.root)
    assert result.code == 1 and result.out == ""
    assert "[unknown-label]" in result.err and "agreement was not measured: the inputs are invalid" in result.err


def test_with_no_article_of_two_annotators_every_measure_is_null_not_zero(tmp_path):
    layout = with_release_settings(new_corpus(tmp_path / "c", ["PERSON", "ORG", "GPE"]))
    write_jsonl(layout.corpus_dir / "wire.jsonl", [SINGLE])
    write_export(layout, "20260101T000000Z.json", [task(2, SINGLE, annotation(4, ANA, span(0, 4, "PERSON", "Dana")))])
    report = agreement_json(layout)
    assert report["articles"] == 0 and report["pairs"] == [] and report["against_gold"] == []
    assert {x["span_f1"] for x in report["labels"]} == {None} and report["topics"]["alpha"] is None
    assert report["disagreements"] == {"label": 0, "boundary": 0, "unmatched": 0}


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/install-browser)")
def test_the_html_page_opens_in_a_browser_without_network_or_errors_and_shows_the_jsons_numbers(corpus, tmp_path):
    page_file = tmp_path / "agreement.html"
    assert run("agreement", "--format", "html", "--out", page_file, "--root", corpus.root).code == 0
    report = agreement_json(corpus)
    errors, requests = [], []
    with chromium_page() as page:
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        shown = page.evaluate("""() => ({
          articles: document.querySelector('#articles').textContent,
          pairs: Object.fromEntries([...document.querySelectorAll('table.pairs')].map(t => [t.dataset.measure,
            [...t.querySelectorAll('td[data-a]')].map(c => [c.dataset.a, c.dataset.b, c.textContent])])),
          kinds: Object.fromEntries([...document.querySelectorAll('table.kinds tr[data-kind]')].map(r => [r.dataset.kind, r.cells[1].textContent])),
          confusion: [...document.querySelectorAll('table.confusion td[data-labels]')].map(c => [c.dataset.labels, c.textContent]),
          labels: [...document.querySelectorAll('table.labels tr[data-label]')].map(r => [r.dataset.label, r.cells[1].textContent, r.cells[2].textContent]),
          topics: [...document.querySelectorAll('table.topics tr[data-topic]')].map(r => [r.dataset.topic, r.cells[1].textContent]),
          gold: [...document.querySelectorAll('table.gold tr[data-annotator]')].map(r => [...r.cells].map(c => c.textContent)),
          disagreements: [...document.querySelectorAll('li.disagreement')].map(li => [li.dataset.kind,
            li.querySelector('.sentence').textContent, [...li.querySelectorAll('mark')].map(m => [m.className, m.textContent])]),
        })""")
    assert errors == [] and requests == [page_file.as_uri()]
    assert shown["articles"] == str(report["articles"])
    for measure in ("span_f1", "overlap_f1", "token_kappa"):
        expected = {(p["a"], p["b"], f"{p[measure]:.3f}") for p in report["pairs"]}
        assert {(min(a, b), max(a, b), v) for a, b, v in shown["pairs"][measure]} == expected  # each pair, shown on both sides
        assert len(shown["pairs"][measure]) == 6
    assert shown["kinds"] == {kind: str(n) for kind, n in report["disagreements"].items()}
    assert sorted(shown["confusion"]) == [["GPE|ORG", "2"], ["ORG|GPE", "2"]]
    assert shown["labels"] == [[x["label"], str(x["spans"]), f"{x['span_f1']:.3f}"] for x in report["labels"]]
    assert shown["topics"] == [["", "0.600"], ["politics", "n/a"], ["sport", "0.000"], ["science and technology", "n/a"]]
    assert shown["gold"] == [[g["annotator"], "1", f"{g['precision']:.3f}", f"{g['recall']:.3f}", f"{g['f1']:.3f}"] for g in report["against_gold"]]
    kinds = sorted(kind for kind, _, _ in shown["disagreements"])
    assert kinds == ["boundary", "boundary", "label", "label", "unmatched", "unmatched"]
    for kind, sentence, marks in shown["disagreements"]:
        if kind == "label":
            assert sentence == "Alice met Bob in Paris." and [m for _, m in marks] == ["Paris"] and marks[0][0] == "ab"
        if kind == "boundary":  # Carol marked by both, Smith by the one who took the whole name
            assert sentence == "Acme hired Carol Smith." and [m for _, m in marks] == ["Carol", " Smith"] and marks[0][0] == "ab"
        if kind == "unmatched":
            assert sentence == "Alice met Bob in Paris." and [m for _, m in marks] == ["Bob"]


def card_of(release) -> str:
    return (release / "README.md").read_text()


def pair_rows(report: dict) -> list[str]:
    return [f"| `{p['a']}` | `{p['b']}` | {p['articles']} | {p['span_f1']:.3f} | {p['overlap_f1']:.3f} | {p['token_kappa']:.3f} |" for p in report["pairs"]]


def test_the_card_shows_the_pair_and_confusion_matrices_as_pictures_and_tables_and_the_kinds(corpus):
    release = corpus.releases_dir / "v1.0.0"
    card, report = card_of(release), agreement_json(corpus)
    assert "#### Agreement between annotators" in card and "(1 articles with 2+ annotators)" in card
    for row in pair_rows(report):
        assert row in card
    assert "| `" + pseudonym(corpus, ANA) in card or "| `" + pseudonym(corpus, BEN) in card
    assert "| label | same place, other label | 2 |" in card
    assert "| boundary | same label, other ends | 2 |" in card
    assert "| unmatched | no overlapping span at all | 2 |" in card
    assert "| GPE / ORG | 2 |" in card
    manifest = {f["path"] for f in json.loads((release / "manifest.json").read_text())["files"]}
    assert "agreement.json" in manifest
    for picture in ("agreement_pairs.png", "label_confusion.png"):
        assert f"]({picture})" in card and picture in manifest
        assert (release / picture).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_next_releases_card_gives_each_figures_change_and_its_pictures_rebuild_byte_for_byte(corpus, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(corpus.root, root)
    layout = type(corpus)(root)
    ben_fixed = [ALICE, BOB, PARIS_ORG, ACME, CAROL_SMITH]  # Ben adds the Bob he missed
    write_export(layout, "desk/20260103T000000Z.json", [
        task(1, RECORD, annotation(1, ANA, *ANA_SPANS, topics("politics")), annotation(5, BEN, *ben_fixed, topics("politics")),
             annotation(3, CHO, *CHO_SPANS, topics("politics", "sport")))])
    built = run("build", "--version", "1.1.0", "--root", root)
    assert built.code == 0, built.err
    card = card_of(layout.releases_dir / "v1.1.0")
    assert ", each followed by its change since v1.0.0" in card
    ana, ben = sorted([pseudonym(layout, ANA), pseudonym(layout, BEN)])
    # ana/ben: exact Alice, Bob, Acme, Carol Smith: 8 / 10 = 0.800, was 6 / 9
    assert f"| `{ana}` | `{ben}` | 1 (+0) | 0.800 (+0.133) |" in card
    assert "| unmatched | no overlapping span at all | 0 (-2) |" in card
    assert "| label | same place, other label | 2 (+0) |" in card and "| GPE / ORG | 2 (+0) |" in card
    shutil.copytree(layout.releases_dir / "v1.0.0", tmp_path / "again" / "v1.0.0")  # the same history, another folder
    again = run("build", "--version", "1.1.0", "--root", root, "--out", tmp_path / "again")
    assert again.code == 0, again.err
    for name in ("README.md", "agreement.json", "agreement_pairs.png", "label_confusion.png"):
        assert (tmp_path / "again" / "v1.1.0" / name).read_bytes() == (layout.releases_dir / "v1.1.0" / name).read_bytes(), name


def test_measured_in_chunks_by_workers_and_merged_the_report_is_the_one_process_report():
    from newscorpus.agreement.measures import AnnotatedArticle, LabelNames, measure
    from newscorpus.agreement.report import CHUNK_ARTICLES, measured
    from newscorpus.exports.records import AnnotationRecord, Span

    def record(n: int, who: str, spans: list[dict]) -> AnnotationRecord:
        return AnnotationRecord(f"a{n:05d}", n, 10 * n + len(who), who, False, False, "e.json", topics=["politics"] if n % 3 else ["sport"],
                                entities=[Span(s["value"]["start"], s["value"]["end"], s["value"]["labels"][0], s["value"]["text"]) for s in spans])

    articles = [AnnotatedArticle(f"a{n:05d}", "A title", TEXT, [record(n, "ana", ANA_SPANS), record(n, "ben", BEN_SPANS if n % 2 else ANA_SPANS),
                                                                 *([record(n, "cho", CHO_SPANS)] if n % 5 == 0 else [])])
                for n in range(CHUNK_ARTICLES + 300)]
    labels = LabelNames(["PERSON", "ORG", "GPE"], ["politics", "sport"])
    alone = measure(articles, labels).report()
    apart = measured(articles, labels, False, annotations=len(articles) * 2)  # two workers, two chunks
    assert apart.report() == alone
    assert alone["articles"] == len(articles) and alone["disagreements"]["unmatched"] > 0


def test_the_html_page_shows_markup_in_an_article_as_text():
    from newscorpus.agreement.measures import Disagreement, LabelNames, measure
    from newscorpus.agreement.render import render_html
    from newscorpus.exports.records import Span

    sentence = 'Tom <script>alert("x")</script> & Acme.'
    page = render_html(measure([], LabelNames(["PERSON"], [])).report(),
                       [Disagreement("a<1>", "text", "unmatched", "ann-a", "ann-b", [("ann-a", Span(0, 3, "PERSON", "Tom"))], sentence, 0)], "T<itle>")
    assert "<script>" not in page and "&lt;script&gt;" in page and "a&lt;1&gt;" in page and "<title>T&lt;itle&gt;</title>" in page
    assert '<mark class="a">Tom</mark> &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Acme.' in page
