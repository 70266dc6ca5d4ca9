"""Verify a release: its files against its manifest, and a rebuild from what made it against its bytes.

A committed release is rebuilt from the commit that last wrote its manifest: that commit's code
and inputs made it, so later changes to the builder or the corpus never make an old release look
broken. A release that is not committed yet (just built) is rebuilt from the working tree.
"""

from __future__ import annotations

import importlib.metadata
import shlex
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from ..layout import Layout
from ..problems import CommandError
from .manifest import read_manifest, sha256_of, tool_versions

GIT_TIMEOUT = 120
MISSING_MODULE = "newscorpus-verify: missing module "
# Runs the old commit's command line after importing every module of its package, so that a module
# this environment lacks is named here, not in the old code's own words (a ModuleNotFoundError).
BOOTSTRAP = f"""
import importlib, pkgutil, sys
sys.path.insert(0, sys.argv.pop(1))
try:
    import newscorpus
    for module in pkgutil.walk_packages(newscorpus.__path__, "newscorpus."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
except ModuleNotFoundError as err:
    if not err.name or err.name.split(".")[0] == "newscorpus":
        raise
    sys.stderr.write({MISSING_MODULE!r} + err.name.split(".")[0] + "\\n")
    sys.exit(1)
from newscorpus.cli import main
main()
"""


def verify_release(layout: Layout, release_dir: Path) -> list[str]:
    """Every difference found; empty when the files match the manifest and the rebuild is byte-identical."""
    manifest = read_manifest(release_dir)
    differences = [f"{f['path']}: sha256 differs from the manifest" for f in manifest["files"]
                   if not (release_dir / f["path"]).is_file() or sha256_of(release_dir / f["path"]) != f["sha256"]]
    listed = {f["path"] for f in manifest["files"]} | {"manifest.json"}
    differences += [f"{path}: not in the manifest (a release holds only the files its manifest lists)"
                    for path in sorted(p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if not p.is_dir())
                    if path not in listed]
    recorded = manifest.get("tool") or {}
    if not recorded or any(tool_versions().get(name) != version for name, version in recorded.items()):  # a release names the tools its files depend on
        return differences + [f"built with {manifest.get('tool')}, this is {tool_versions()}: install those versions to rebuild"]
    commit = committing_commit(release_dir / "manifest.json")
    with tempfile.TemporaryDirectory(prefix=".verify-", dir=release_dir.parent) as tmp:
        if commit is None:
            differences += changed_inputs(layout, manifest)
            rebuilt = rebuild_here(layout, manifest["version"], Path(tmp), release_dir.parent)
        else:
            rebuilt = rebuild_at(commit, release_dir, manifest["version"], Path(tmp))
        ours = {f["path"]: f["sha256"] for f in manifest["files"]}
        theirs = {f["path"]: f["sha256"] for f in read_manifest(rebuilt)["files"]}
        differences += [f"{path}: rebuild gives different bytes" for path in sorted(ours.keys() | theirs.keys()) if ours.get(path) != theirs.get(path)]
        if sha256_of(rebuilt / "manifest.json") != sha256_of(release_dir / "manifest.json"):
            differences.append("manifest.json: rebuild gives different bytes")
    return differences


def git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, timeout=GIT_TIMEOUT)


def committing_commit(manifest: Path) -> str | None:
    """The commit that last wrote this manifest, if it is committed and unchanged since."""
    try:
        found = git(manifest.parent, "log", "-1", "--format=%H", "--", manifest.name)
        clean = git(manifest.parent, "status", "--porcelain", "--", ".")
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = found.stdout.decode().strip()
    if found.returncode != 0 or not commit or clean.returncode != 0 or clean.stdout.strip():
        return None
    return commit


def changed_inputs(layout: Layout, manifest: dict) -> list[str]:
    from .build import input_files

    current = {layout.relative(p): sha256_of(p) for p in input_files(layout)}
    recorded = {i["path"]: i["sha256"] for i in manifest["inputs"]}
    return [f"input {path}: changed since the release" for path in sorted(recorded.keys() | current.keys())
            if recorded.get(path) != current.get(path)]


def rebuild_here(layout: Layout, version: str, out: Path, history: Path) -> Path:
    from .build import build_release

    return build_release(layout, version, out, history_dir=history)


def rebuild_at(commit: str, release_dir: Path, version: str, tmp: Path) -> Path:
    """Rebuild the release with the code and inputs of `commit`, in a process of its own."""
    top = Path(git(release_dir, "rev-parse", "--show-toplevel").stdout.decode().strip())
    prefix = release_dir.resolve().parent.parent.relative_to(top.resolve())  # the corpus root (holds releases/), in the repository
    tree = tmp / "tree"
    archive = tmp / "tree.tar"
    done = git(top, "archive", "--format=tar", f"--output={archive}", commit)
    if done.returncode != 0:
        raise CommandError(f"git archive of {commit} failed: {done.stderr.decode(errors='replace').strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    root = tree / prefix
    code = tree / "loaders"  # absent when the corpus lives apart from the code: the installed newscorpus rebuilds it
    requirements = declared_requirements(tree / "pyproject.toml") if code.is_dir() else []
    missing = [r for r in requirements if not installed(r)]
    if missing:
        raise CommandError(missing_message(version, commit, [str(r) for r in missing]))
    target = root / "releases" / f"v{version}"
    subprocess.run(["rm", "-rf", str(target)], check=True)
    built = subprocess.run([sys.executable, "-c", BOOTSTRAP, str(code), "build", "--version", version, "--root", str(root)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        module = next((line.removeprefix(MISSING_MODULE) for line in built.stderr.splitlines() if line.startswith(MISSING_MODULE)), None)
        if module is not None:
            named = [str(r) for r in requirements if canonical(r.name) == canonical(module)] or [module]
            raise CommandError(missing_message(version, commit, named, module))
        raise CommandError(f"rebuilding v{version} at commit {commit[:12]} failed:\n{built.stderr[-2000:]}")
    return target


def declared_requirements(pyproject: Path) -> list[Requirement]:
    """The packages the commit's pyproject.toml requires on this interpreter (markers applied)."""
    try:
        declared = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("dependencies", [])
        requirements = [Requirement(text) for text in declared]
    except (OSError, ValueError, InvalidRequirement):  # no or an odd pyproject: the rebuild itself will say what it lacks
        return []
    return [r for r in requirements if r.marker is None or r.marker.evaluate()]


def installed(requirement: Requirement) -> bool:
    try:
        importlib.metadata.distribution(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def canonical(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def missing_message(version: str, commit: str, packages: list[str], module: str | None = None) -> str:
    lacks = f"the module {module!r}, which this environment lacks" if module else f"{', '.join(packages)}, which this environment lacks"
    command = shlex.join([sys.executable, "-m", "pip", "install", *packages])
    return f"rebuilding v{version} needs what the code of commit {commit[:12]} imports: {lacks}; install it with: {command}"
