"""Given a corpus on disk, `newscorpus validate` says whether it is valid, and where it is not."""

import json

from conftest import REPO, run


def test_the_repository_itself_is_valid():
    result = run("validate", "--root", REPO)
    assert result.code == 0, result.out + result.err
    assert "valid: 0 errors" in result.out


def test_the_gum_news_export_validates_clean_against_gums_own_taxonomy(gum):
    result = run("validate", "--root", gum.root, "--format", "json")
    report = json.loads(result.out)
    assert result.code == 0, result.out
    assert report["errors"] == 0 and report["warnings"] == 0
    assert report["checked"] == {"articles": 24, "tasks": 24, "annotations": 24}


def test_github_format_gives_workflow_annotations(gum):
    (gum.corpus_dir / "wikinews.jsonl").open("a").write('{"id": "broken"\n')
    result = run("validate", "--root", gum.root, "--format", "github")
    assert result.code == 1
    assert "::error file=corpus/wikinews.jsonl,line=25,title=json-error::" in result.out


def test_an_unknown_format_or_option_is_a_usage_error(gum):
    assert run("validate", "--root", gum.root, "--format", "xml").code == 2
    unknown = run("validate", "--root", gum.root, "--bogus")
    assert unknown.code == 2 and "No such option" in unknown.err and "Traceback" not in unknown.err
