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


def test_a_broken_schema_of_the_corpus_is_one_error_in_every_format_and_for_every_command_that_reads_it(gum, tmp_path):
    schema = gum.root / "schema" / "article.schema.json"
    schema.write_text(schema.read_text().replace('"type": "object"', '"type": "dict"', 1))
    report = json.loads(run("validate", "--root", gum.root, "--format", "json").out)
    assert [(p["code"], p["file"], p["pointer"]) for p in report["problems"]] == [("schema-invalid", "schema/article.schema.json", "/type")]
    note = tmp_path / "note.txt"
    note.write_text("A title\nA body.\n")
    added = run("add", note, "--source", "wire", "--root", gum.root)
    assert added.code == 1 and "schema/article.schema.json (/type): [schema-invalid]" in added.err
    assert "Traceback" not in added.err and not (gum.corpus_dir / "wire.jsonl").exists()


def test_a_schema_file_that_is_not_json_is_named_with_its_line(gum):
    (gum.root / "schema" / "labelstudio-export.schema.json").write_text('{\n  "type": "object",\n}\n')
    result = run("validate", "--root", gum.root)
    assert result.code == 1
    assert result.out.startswith("error: schema/labelstudio-export.schema.json (line 2): [schema-invalid] is not valid JSON: trailing comma")
    assert result.out.count("error: ") == 1


def test_the_pre_commit_hook_passes_validate_exactly_the_files_it_reads():
    """validate refuses a file it does not read, so the hook must pass no other."""
    import re
    import subprocess

    import yaml

    from newscorpus.layout import Layout

    for hooks in (REPO / ".pre-commit-hooks.yaml", REPO / "loaders" / "newscorpus" / "templates" / "pre-commit-config.yaml"):
        document = yaml.safe_load(hooks.read_text())
        (hook,) = document if isinstance(document, list) else document["repos"][0]["hooks"]
        tracked = subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True, check=True).stdout.split()
        layout = Layout(REPO)
        assert {f for f in tracked if re.search(hook["files"], f)} == {layout.relative(p) for p in layout.checked_files()}
