"""The repository stands alone, and its docs say what the code does: commands, options, configs."""

import re
import shlex
import subprocess

import pytest
import typer

from conftest import REPO
from newscorpus.hf_builder.features import CONFIG_NAMES, release_features
from newscorpus.cli import app
from newscorpus.layout import Layout
from newscorpus.taxonomy import load_taxonomy

DOCS = REPO / "docs"
PAGES = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted(DOCS.glob("*.md"))]  # what people read; release cards are generated
FENCED = re.compile(r"^```[a-z]*\n(.*?)^```$", flags=re.M | re.S)
OUTSIDE = ["..", "/shared"]  # joined at run time, so this file does not match itself


def documented_sections(page: str) -> dict[str, str]:
    """`newscorpus X [Y]` heading -> the text of its section."""
    text = (DOCS / page).read_text()
    parts = re.split(r"^## `newscorpus ([a-z -]+)`$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def commands(group, prefix: str = "") -> dict:
    """Every leaf command of typer's click tree (typer vendors its own click, hence no isinstance)."""
    found = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.update(commands(command, f"{prefix}{name} "))
        else:
            found[prefix + name] = command
    return found


def test_no_tracked_file_points_outside_the_repository():
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    pattern = re.escape("".join(OUTSIDE))
    found = subprocess.run(["git", "grep", "-n", "-I", "-E", pattern], cwd=REPO, capture_output=True, text=True)
    assert found.returncode == 1, f"tracked files name a folder beside the repository:\n{found.stdout}"


def test_the_test_data_states_where_it_comes_from_and_its_license():
    for folder in (REPO / "tests" / "data").iterdir():
        if folder.is_dir():
            readme = (folder / "README.md").read_text()
            assert re.search(r"licen[cs]e|copyright", readme, re.I), folder.name


def test_every_documented_command_and_option_exists_and_every_one_is_documented():
    documented = documented_sections("cli.md")
    actual = commands(typer.main.get_command(app))
    assert sorted(documented) == sorted(actual)
    for name, command in actual.items():
        options = {opt for param in command.params if param.param_type_name == "option" for opt in param.opts if opt.startswith("--")}
        listed = set(re.findall(r"^\| `(--[a-z-]+)`", documented[name], flags=re.M))
        assert listed == options - {"--help"}, name


def test_every_documented_config_is_built_with_the_documented_features():
    rows = dict(re.findall(r"^\| `([a-z]+)`(?: \(default\))? \|[^|]*\| (.*) \|$", (DOCS / "release.md").read_text(), flags=re.M))
    assert sorted(rows) == sorted(CONFIG_NAMES)
    taxonomy = load_taxonomy(Layout(REPO))
    for config in CONFIG_NAMES:
        named = set(re.findall(r"`([a-z_]+)`", rows[config]))
        missing = [name for name in release_features(config, taxonomy) if name not in named]
        assert not missing, f"{config}: docs/release.md does not name {missing}"


def test_the_readme_links_every_page_of_the_docs():
    readme = (REPO / "README.md").read_text()
    for page in DOCS.glob("*.md"):
        assert f"docs/{page.name}" in readme, page.name


def prose(page) -> str:
    """The page without its fenced code blocks."""
    return FENCED.sub("", page.read_text())


def anchors(page) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces as -."""
    headings = re.findall(r"^#+ (.+)$", prose(page), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_link_in_the_docs_leads_to_a_file_and_heading_that_exist():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", prose(page)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists() or (anchor and anchor not in anchors(linked)):
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert not broken, broken


def shown_commands() -> list[tuple[str, list[str]]]:
    """Every `newscorpus ...` command line in the docs' code blocks, as the shell would split it."""
    found = []
    for page in PAGES:
        for block in FENCED.findall(page.read_text()):
            for line in block.splitlines():
                for part in re.split(r"&&|;|\|", line.removeprefix("$ ")):
                    if part.strip().startswith("newscorpus "):
                        found.append((page.name, shlex.split(part, comments=True)[1:]))
    return found


def leaf(words: list[str]):
    """The command that the first words name, and the arguments left for it."""
    command = typer.main.get_command(app)
    while hasattr(command, "commands") and words and words[0] in command.commands:
        command, words = command.commands[words[0]], words[1:]
    return command, words


def test_every_command_line_shown_in_the_docs_parses():
    shown = shown_commands()
    assert len([page for page, _ in shown if page == "tutorial.md"]) >= 8, "the tutorial shows at least 8 commands"
    for page, words in shown:
        command, rest = leaf(words)
        assert not hasattr(command, "commands"), f"{page}: newscorpus {shlex.join(words)} names no command"
        command.make_context("newscorpus " + " ".join(words[: len(words) - len(rest)]), list(rest))


def test_every_option_in_a_documented_synopsis_exists():
    for page in PAGES:
        for synopsis in re.findall(r"`newscorpus ([^`]+)`", prose(page)):
            command, rest = leaf(synopsis.split())
            if hasattr(command, "commands"):
                continue  # a group named in prose (`newscorpus studio`)
            options = {opt for param in command.params for opt in param.opts}
            unknown = {word for word in re.findall(r"--[a-z-]+", " ".join(rest))} - options
            assert not unknown, f"{page.name}: `newscorpus {synopsis}` names {unknown}"


def test_no_file_is_named_after_an_issue():
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert not [name for name in tracked if re.search(r"issue[-_ ]?[0-9]", name, re.I)]
