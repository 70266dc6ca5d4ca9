"""The project's own corpus: the seed article, annotated in Label Studio, released as v1.0.0."""

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from datasets import load_dataset
from packaging.requirements import Requirement

from newscorpus.release.verify import canonical, committing_commit, declared_requirements, installed

from conftest import REPO, run

RELEASE = REPO / "releases" / "v1.0.0"
SEED = "ibns-anti-taliban-panjshir"


def seed_row(config="documents"):
    rows = [row for split in load_dataset(str(RELEASE), config).values() for row in split]
    return rows, load_dataset(str(RELEASE), config)


def test_the_seed_has_its_full_body_and_none_of_the_donation_appeal():
    (record,) = [json.loads(line) for line in (REPO / "corpus" / "ibns.jsonl").read_text().splitlines()]
    assert record["id"] == SEED and record["source"] == "IBNS"
    assert record["title"] == "Anti-Taliban forces seize three districts in northern Afghanistan: Report"
    assert record["text"].startswith("Afghan forces, comprising remnants of ANSF")
    assert record["text"].endswith("capture the remaining territories.")
    assert "Support Our Journalism" not in record["text"] and "IBNS is not driven" not in record["text"]


def test_v1_loads_for_every_config_and_holds_the_seeds_entities_at_exact_offsets():
    for config in ("documents", "ner", "articles", "annotations"):
        assert sum(len(s) for s in load_dataset(str(RELEASE), config).values()) >= 1
    (row,), loaded = seed_row()
    names = next(iter(loaded.values())).features["entities"].feature["label"].names
    assert row["id"] == SEED
    assert len(row["entities"]) == 49 and len(row["title_entities"]) == 3
    for entity in row["entities"]:
        assert row["text"][entity["start"]:entity["end"]] == entity["text"]
    found = {(e["text"], names[e["label"]]) for e in row["entities"]}
    assert {("Bismillah Mohammadi", "PERSON"), ("Ahmad Shah Massoud", "PERSON"), ("Tolo News", "ORG"),
            ("Kabul", "GPE"), ("Panjshir valley", "LOC"), ("More than 6,000", "CARDINAL"), ("the 1980s", "DATE")} <= found
    mohammadi = row["text"].index("Bismillah Mohammadi")
    assert {"start": mohammadi, "end": mohammadi + 19, "label": names.index("PERSON"), "text": "Bismillah Mohammadi"} in row["entities"]


def test_the_manifest_hashes_match_the_committed_files():
    import hashlib

    manifest = json.loads((RELEASE / "manifest.json").read_text())
    for entry in manifest["files"]:
        assert hashlib.sha256((RELEASE / entry["path"]).read_bytes()).hexdigest() == entry["sha256"], entry["path"]


def test_v1_1_holds_the_seeds_relations_and_no_annotator_identity():
    release = REPO / "releases" / "v1.1.0"
    (row,) = [row for split in load_dataset(str(release)).values() for row in split]
    features = next(iter(load_dataset(str(release)).values())).features
    relation = features["relations"].feature["label"].int2str
    found = {(row["entities"][r["head"]]["text"], relation(r["label"]), row["entities"][r["tail"]]["text"]) for r in row["relations"]}
    assert {("Ahmad Massoud", "PER-SOC", "Ahmad Shah Massoud"), ("Bano", "PART-WHOLE", "Baghlan")} <= found
    assert len(row["entities"]) == 49 and len(row["title_entities"]) == 3
    for name in ("README.md", "croissant.json", "manifest.json"):
        assert not re.search(r"[\w.+-]+@[\w-]+\.\w+", (release / name).read_text()), name
    annotators = {r["annotator"] for split in load_dataset(str(release), "annotations").values() for r in split}
    assert all(a.startswith("annotator-") for a in annotators)


def plain_install_closure() -> set[str]:
    """The distributions `pip install .` brings: newscorpus's dependencies and theirs, no extras."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    found, todo = set(), [Requirement(text) for text in declared]
    while todo:
        requirement = todo.pop()
        name = canonical(requirement.name)
        if name in found or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        found.add(name)
        todo += [Requirement(text) for text in importlib.metadata.distribution(requirement.name).requires or []]
    return found


def test_a_plain_install_has_every_package_the_committed_releases_are_rebuilt_with():
    closure = plain_install_closure()
    for manifest in sorted((REPO / "releases").glob("v*/manifest.json")):
        commit = committing_commit(manifest)
        assert commit, f"{manifest} is not committed"
        pyproject = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:pyproject.toml"], capture_output=True, text=True, check=True).stdout
        required = {canonical(Requirement(text).name) for text in tomllib.loads(pyproject)["project"]["dependencies"]}
        assert required <= closure, f"{manifest.parent.name} needs {required - closure}, which `pip install .` does not bring"


def test_verify_names_the_package_a_release_needs_and_the_command_that_installs_it(tmp_path):
    shadow = tmp_path / "shadow"  # what the rebuild sees when fastjsonschema is not installed
    shadow.mkdir()
    (shadow / "fastjsonschema.py").write_text("raise ModuleNotFoundError(\"No module named 'fastjsonschema'\", name='fastjsonschema')\n")
    done = run("verify", RELEASE, "--root", REPO, env={**os.environ, "PYTHONPATH": str(shadow)})
    assert done.code == 1, done.err
    assert "rebuilding v1.0.0 needs" in done.err and "'fastjsonschema'" in done.err
    assert f"install it with: {Path(sys.executable).parent}/python" in done.err  # the environment newscorpus runs in
    assert "-m pip install 'fastjsonschema>=2.21.0'" in done.err
    assert "ModuleNotFoundError" not in done.err and "Traceback" not in done.err


def test_a_required_package_that_is_not_installed_is_named_before_any_rebuild(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "old"\ndependencies = ["orjson>=3", "newscorpus-absent-package>=1.2", '
                         '"other-absent-package; python_version < \'3.0\'"]\n')
    missing = [str(r) for r in declared_requirements(pyproject) if not installed(r)]
    assert missing == ["newscorpus-absent-package>=1.2"]
