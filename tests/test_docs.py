"""The repository stands alone, and its docs say what the code does: commands, options, configs."""

import re
import subprocess

import pytest
import typer

from conftest import REPO
from newscorpus.hf_builder.features import CONFIG_NAMES, release_features
from newscorpus.cli import app
from newscorpus.layout import Layout
from newscorpus.taxonomy import load_taxonomy

DOCS = REPO / "docs"
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
