"""Progress: on a terminal a build shows its stages and ends with rows, warnings and seconds;
piped, or with --quiet, its output is what it always was."""

import errno
import json
import os
import pty
import re
import subprocess

from conftest import NEWSCORPUS, REPO, gum_corpus, run

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(*args) -> tuple[int, str, str]:
    """The command with stderr on a pseudo-terminal, as a curator runs it; stdout stays a pipe."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([str(NEWSCORPUS), *map(str, args)], stdout=subprocess.PIPE, stderr=follower,
                               env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError as err:  # EIO: the command closed the terminal
            assert err.errno == errno.EIO
            break
        if not chunk:
            break
        screen += chunk
    out = process.stdout.read().decode()
    code = process.wait()
    os.close(leader)
    return code, out, ANSI.sub("", screen.decode(errors="replace"))


def gum_with_settings(tmp_path):
    layout = gum_corpus(tmp_path / "gum")
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    return layout


def test_a_build_on_a_terminal_shows_its_stages_and_ends_with_rows_warnings_and_seconds(tmp_path):
    layout = gum_with_settings(tmp_path)
    code, out, screen = run_on_terminal("build", "--version", "1.0.0", "--root", layout.root)
    assert code == 0, screen
    assert out == f"built {layout.releases_dir / 'v1.0.0'}\n"
    for stage in ("checking articles", "checking annotations", "assigning splits", "partitioning articles", "writing configs", "writing card and manifest"):
        assert stage in screen
    assert re.search(r"checking articles\s.*\b24 articles", screen)
    assert re.search(r"writing configs\s.*\b24 articles", screen)  # each article is read once for all four configs
    manifest = json.loads((layout.releases_dir / "v1.0.0" / "manifest.json").read_text())
    rows = {f["path"]: f["rows"] for f in manifest["files"] if "rows" in f}
    (documents_line,) = [line for line in screen.splitlines() if line.startswith("│ documents")]
    assert documents_line.split("│")[2].strip() == f"{rows['documents/train-00000-of-00001.parquet']:,}"
    assert re.search(r"^warnings\s*$", screen, re.M) and re.search(r"│ (none|[a-z-]+)\s+│\s+[\d,]+ │", screen)
    assert re.search(r"│ total\s+│\s+\d+\.\d │", screen)


def test_a_quiet_build_on_a_terminal_and_a_piped_one_show_no_progress(tmp_path):
    layout = gum_with_settings(tmp_path)
    code, out, screen = run_on_terminal("build", "--version", "1.0.0", "--root", layout.root, "--quiet")
    assert code == 0 and out.startswith("built ")
    assert "checking articles" not in screen and "seconds" not in screen
    piped = run("build", "--version", "1.0.1", "--root", layout.root)
    assert piped.code == 0 and piped.err == ""


def test_validate_on_a_terminal_shows_progress_and_prints_the_same_report(tmp_path):
    layout = gum_with_settings(tmp_path)
    code, out, screen = run_on_terminal("validate", "--root", layout.root, "--format", "json")
    piped = run("validate", "--root", layout.root, "--format", "json")
    assert code == piped.code == 0
    assert out == piped.out and piped.err == ""
    assert "checking articles" in screen and "checking annotations" in screen


def test_import_on_a_terminal_counts_its_tasks_and_prints_what_a_piped_one_does(tmp_path):
    shown, piped_to = gum_with_settings(tmp_path / "shown"), gum_with_settings(tmp_path / "piped")
    export = next(shown.annotations_dir.rglob("*.json"))
    code, out, screen = run_on_terminal("import", export, "--source", "gum", "--root", shown.root)
    piped = run("import", piped_to.root / export.relative_to(shown.root), "--source", "gum", "--root", piped_to.root)
    assert code == piped.code == 0, screen
    assert out == piped.out and piped.err == ""
    assert re.search(r"importing tasks\s.*\b24 tasks", screen)
