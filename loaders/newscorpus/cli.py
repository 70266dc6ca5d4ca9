"""The `newscorpus` command: parses arguments and calls the stage that does the work."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .layout import Layout
from .problems import CommandError, InputError, Problem, Report
from .redact import redact
from .workers import collect_less

# Help texts are plain text: rich markup would swallow patterns such as [a-z0-9].
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True, help=__doc__, rich_markup_mode=None)
studio_app = typer.Typer(no_args_is_help=True, help="Label Studio: config, push, pull, review, serve.", rich_markup_mode=None)
app.add_typer(studio_app, name="studio")

RootOption = Annotated[Path, typer.Option("--root", help="The corpus folder (holds corpus/, annotations/, schema/).")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display on stderr (it is shown only on a terminal anyway).")]
FORMATS = ("text", "json", "github")


def fail(message: str, code: int = 1):
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def add(
    paths: Annotated[list[Path], typer.Argument(help="Text files (first line is the title), folders of them, JSONL/CSV files of article records, HTML pages.")],
    source: Annotated[str, typer.Option(help="Publisher; selects the boilerplate rules in corpus/boilerplate.json and the shard.")],
    article_id: Annotated[Optional[str], typer.Option("--id", help="The id of a single text file or page: ^[a-z0-9][a-z0-9._-]{0,127}$, never changed (else a record's id, else a slug of source and title).")] = None,
    title: Annotated[Optional[str], typer.Option(help="Title of a single text file or page.")] = None,
    url: Annotated[Optional[str], typer.Option(help="URL of a single text file or page.")] = None,
    published: Annotated[Optional[str], typer.Option(help="YYYY-MM-DD, of a single text file or page.")] = None,
    language: Annotated[str, typer.Option(help="BCP 47 tag of articles whose input does not say; validate warns when their letters are in another script.")] = "en",
    license: Annotated[Optional[str], typer.Option("--license", help="License of articles whose input does not say.")] = None,
    field: Annotated[Optional[list[str]], typer.Option("--field", help="ARTICLE_FIELD=RECORD_KEY for JSONL/CSV records, e.g. text=body (repeatable).")] = None,
    all_or_nothing: Annotated[bool, typer.Option("--all-or-nothing", help="Add nothing if any input is refused.")] = False,
    root: RootOption = Path("."),
    quiet: QuietOption = False,
):
    """Ingest articles into corpus shards: text files, folders, JSONL/CSV records, HTML pages."""
    from . import progress
    from .ingest.add import AddOptions, add_inputs
    from .ingest.records import FieldMap

    single = {"--id": article_id, "--title": title, "--url": url, "--published": published}
    if len(paths) > 1 or paths[0].is_dir():
        given = [name for name, value in single.items() if value is not None]
        if given:
            fail(f"{', '.join(given)} name one article: give a single text file or page", 2)
    overrides = dict(item.partition("=")[::2] for item in field or [])
    try:
        fields = FieldMap.with_overrides(overrides)
    except ValueError as err:
        fail(f"--field: {err}", 2)
    layout = Layout(root)
    options = AddOptions(source, language, license, fields, article_id, title, url, published)
    with progress.show(quiet):
        outcome = add_inputs(layout, paths, options, all_or_nothing)
    if outcome.report.problems:
        typer.echo(outcome.report.render_text(), err=True)
    shards = ", ".join(layout.relative(p) for p in outcome.shards) or "no shard"
    typer.echo(f"added {outcome.added} articles to {shards}")
    if not outcome.report.valid:
        fail("nothing was added: an input was refused and --all-or-nothing was given" if all_or_nothing else "some inputs were refused (listed above); the rest was added")


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The corpus folder; created if missing. Nothing in it is overwritten.")],
    taxonomy: Annotated[Optional[Path], typer.Option(help="A taxonomy.json to use instead of the default label set.")] = None,
    label_config: Annotated[Optional[Path], typer.Option(help="An existing Label Studio labeling config (XML): its Labels and Choices become the taxonomy.")] = None,
):
    """Lay out a new corpus: taxonomy and schemas, settings files with defaults, annotations/, CI and pre-commit."""
    from .init import init_corpus

    if taxonomy is not None and label_config is not None:
        fail("give --taxonomy or --label-config, not both", 2)
    written = init_corpus(folder, taxonomy, label_config)
    layout = Layout(folder)
    for path in written:
        typer.echo(f"wrote {layout.relative(path)}")
    typer.echo(f"next: newscorpus add FILES --source S --root {folder}")


@app.command("import")
def import_(
    exports: Annotated[list[Path], typer.Argument(help="Label Studio export files (1.x list, 0.x completions, one task per file) or folders of them.")],
    source: Annotated[str, typer.Option(help="Publisher of the articles; names the shard and the annotations/ folder.")],
    id_from: Annotated[Optional[str], typer.Option("--id-from", help="A data key holding the article id, or `task` for <source>-task-<task id>. Default: data.article_id, else the task id.")] = None,
    text_key: Annotated[str, typer.Option("--text-key", help="The data key of the annotated text.")] = "text",
    title_key: Annotated[str, typer.Option("--title-key", help="The data key of the title (default: the text's first line when missing).")] = "title",
    language: Annotated[str, typer.Option(help="BCP 47 tag of the articles whose task data does not say; validate warns when their letters are in another script.")] = "en",
    root: RootOption = Path("."),
    quiet: QuietOption = False,
):
    """Bring an existing Label Studio project's export in: articles from the task text exactly as annotated, the tasks under annotations/."""
    from . import progress
    from .ingest.labelstudio import ImportOptions, import_export

    layout = Layout(root)
    with progress.show(quiet):
        outcome = import_export(layout, exports, ImportOptions(source, id_from, text_key, title_key, language))
    typer.echo(f"{outcome.tasks} tasks: {outcome.added} articles added, {outcome.unchanged} already in the corpus")
    typer.echo(f"wrote {layout.relative(outcome.export)}" if outcome.export else "this export is already imported; nothing written")


@app.command("clean-identities")
def clean_identities(root: RootOption = Path(".")):
    """Rewrite the exports under annotations/ with each annotator as a Label Studio user id: emails and names removed."""
    from .identities import clean_identities as clean

    layout = Layout(root)
    cleaned = clean(layout)
    for file in cleaned.files:
        typer.echo(f"cleaned {file}")
    typer.echo(f"{len(cleaned.files)} of {cleaned.checked} exports held annotator emails or names" + ("; nothing written" if not cleaned.files else ""))


@app.command()
def validate(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Report only problems in these files (all files are still read).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json or github (workflow annotations).")] = "text",
    root: RootOption = Path("."),
    quiet: QuietOption = False,
):
    """Check corpus/, annotations/ and the taxonomy against the schemas and each other."""
    from . import progress
    from . import validate as stage

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}", 2)
    layout = Layout(root)
    checked = {layout.relative(p) for p in layout.checked_files()}
    wrong = [Problem("path-error", str(p), "does not exist" if not (p.exists() or p.is_symlink()) else
                     f"lies outside the corpus {root}" if not layout.contains(p) else
                     "is not a file validate reads (corpus/*.jsonl, annotations/**/*.json, the taxonomy, the settings and schema files)")
             for p in paths or [] if layout.relative(p) not in checked]
    if wrong:
        raise InputError(Report(wrong), "nothing was validated: a path named is not in the corpus")
    with progress.show(quiet):
        report, _ = stage.validate(layout)
    if paths:
        wanted = {layout.relative(p) for p in paths}
        report = Report([p for p in report.problems if p.file in wanted], report.counts)
    typer.echo(report.render(fmt))
    raise typer.Exit(0 if report.valid else 1)


@app.command()
def build(
    version: Annotated[str, typer.Option("--version", help="X.Y.Z; a version that exists is refused.")],
    out: Annotated[Optional[Path], typer.Option(help="Releases folder (default: ROOT/releases).")] = None,
    num_proc: Annotated[Optional[int], typer.Option("--num-proc", help="Processes that check the inputs and make the tables (default: 2, or 1 below 1,000 articles); the bytes do not depend on it.")] = None,
    root: RootOption = Path("."),
    quiet: QuietOption = False,
):
    """Validate, resolve, split and compile releases/vX.Y.Z (Parquet, card, manifest, Croissant)."""
    from . import progress
    from .release.build import build_release

    layout = Layout(root)
    had_key = layout.pseudonym_key_path.exists()
    if not layout.release_settings_path.exists():
        typer.echo(f"warning: {layout.relative(layout.release_settings_path)}: [settings-default] not found; the build uses the defaults "
                   "in schema/release.schema.json (`newscorpus init` writes them out to edit)", err=True)
    with progress.show(quiet):
        target = build_release(layout, version, out or layout.releases_dir, num_proc=num_proc)
    typer.echo(f"built {target}")
    announce_new_key(layout, had_key)


def announce_new_key(layout: Layout, had_key: bool) -> None:
    if not had_key and layout.pseudonym_key_path.exists():
        typer.echo(f"created {layout.relative(layout.pseudonym_key_path)}, the key of the annotators' pseudonyms: "
                   "commit it (later releases need it to keep the same pseudonyms) and never publish it", err=True)


@app.command()
def verify(
    release: Annotated[Path, typer.Argument(help="A release folder, e.g. releases/v1.0.0.")],
    root: RootOption = Path("."),
):
    """Rebuild a release in a temporary folder and report every byte that differs."""
    from .release.verify import verify_release

    differences = verify_release(Layout(root), release)
    for line in differences:
        typer.echo(f"differs: {line}")
    typer.echo(f"{release}: " + ("verified, byte-identical" if not differences else f"{len(differences)} differences"))
    raise typer.Exit(1 if differences else 0)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier release folder.")],
    new: Annotated[Path, typer.Argument(help="The later release folder.")],
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
):
    """Articles added, removed and changed between two releases, and per label the spans, relations
    and topics added, removed, relabelled or moved; annotator pseudonyms that appear or disappear."""
    import json

    from .release.diff import changes_markdown, release_changes

    if fmt not in ("text", "json"):
        fail(f"--format must be text or json, not {fmt!r}", 2)
    changes = release_changes(old, new, detail=fmt == "json")
    if fmt == "json":
        typer.echo(json.dumps(changes, indent=2, ensure_ascii=False))
        return
    typer.echo("\n".join(changes_markdown(changes)))


@app.command()
def export(
    release: Annotated[Path, typer.Argument(help="A release folder, e.g. releases/v1.1.0.")],
    fmt: Annotated[str, typer.Option("--format", help="spacy (a DocBin per split), conll (CoNLL-2003 columns per split) or brat (standoff per article).")],
    out: Annotated[Path, typer.Option("--out", help="A new or empty folder for the files.")],
):
    """Write a release in another stack's format, one file set per split; report what the format cannot hold."""
    from .formats.export import FORMATS, export_release

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}", 2)
    summary = export_release(release, fmt, out)
    splits = ", ".join(f"{split} {n}" for split, n in summary.articles.items()) or "none"
    typer.echo(f"exported {release} as {fmt} into {out}: wrote {summary.files} files; articles per split: {splits}")
    if summary.unheld:
        typer.echo(f"not held by {fmt} (left out, counted):")
        for kind, n in sorted(summary.unheld.items()):
            typer.echo(f"  {kind}: {n}")
    else:
        typer.echo(f"{fmt} holds every span, relation, topic and link of the release")


@app.command()
def agreement(
    release: Annotated[Optional[Path], typer.Option(help="A release folder, e.g. releases/v1.1.0 (default: the working tree's annotations, as build resolves them).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json or html (one self-contained page).")] = "text",
    out: Annotated[Optional[Path], typer.Option(help="Write the report to this file (default: standard output).")] = None,
    root: RootOption = Path("."),
    quiet: QuietOption = False,
):
    """Annotator agreement per pair, per label and per kind of disagreement, and against gold."""
    from . import progress
    from .agreement.report import FORMATS as AGREEMENT_FORMATS
    from .agreement.report import agreement_report
    from .files import write_atomically

    if fmt not in AGREEMENT_FORMATS:
        fail(f"--format must be one of {', '.join(AGREEMENT_FORMATS)}", 2)
    layout = Layout(root)
    had_key = layout.pseudonym_key_path.exists()
    with progress.show(quiet):
        text = agreement_report(layout, release, fmt)
    announce_new_key(layout, had_key)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        write_atomically(out, text.encode())
    except OSError as err:
        fail(f"cannot write {out}: {err.strerror or err}; nothing was written")


ProjectOption = Annotated[str, typer.Option("--project", help="Label Studio project title.")]


@studio_app.command("config")
def studio_config(root: RootOption = Path(".")):
    """Print the Label Studio labeling config generated from schema/taxonomy.json."""
    from .studio.config import labeling_config
    from .taxonomy import load_taxonomy

    typer.echo(labeling_config(load_taxonomy(Layout(root))))


@studio_app.command("push")
def studio_push(
    project: ProjectOption = "newscorpus",
    pre_annotate: Annotated[bool, typer.Option("--pre-annotate", help="Predict spans on new tasks from the corpus's own gold (every surface form gold labels, whole words, case-sensitive).")] = False,
    predictions: Annotated[Optional[Path], typer.Option("--predictions", help="A model's predictions to attach: JSONL of {article_id, start, end, label, score, model_version} (schema/predictions.schema.json).")] = None,
    min_score: Annotated[float, typer.Option("--min-score", help="Leave out gold-derived predictions scoring below this (0 to 1).")] = 0.0,
    root: RootOption = Path("."),
    quiet: QuietOption = False,
):
    """Create or update the project and import a task per new or changed article (idempotent)."""
    from . import progress
    from .studio.push import push

    with progress.show(quiet):
        summary = push(Layout(root), project, pre_annotate=pre_annotate, predictions_file=predictions, min_score=min_score)
    typer.echo(f"pushed {summary.pushed} tasks; {summary.unchanged} articles already in the project")
    if pre_annotate or predictions:
        typer.echo(f"attached {summary.predictions} predictions" + (
            f"; {summary.predictions_not_sent} predicted spans are for articles already in the project and were not sent" if summary.predictions_not_sent else ""))


@studio_app.command("pull")
def studio_pull(project: ProjectOption = "newscorpus", root: RootOption = Path("."), quiet: QuietOption = False):
    """Export every annotation (cancelled included) into annotations/, only if the export validates;
    the review project (`studio review`) too, if there is one."""
    from . import progress
    from .studio.pull import pull

    layout = Layout(root)
    with progress.show(quiet):
        pulled = pull(layout, project)
    for title, path in pulled.items():
        where = "" if title == project else f" of {title!r}"
        typer.echo(f"wrote {layout.relative(path)}" if path else f"no change{where} since the last pull; nothing written")


@studio_app.command("review")
def studio_review(project: ProjectOption = "newscorpus", root: RootOption = Path("."), quiet: QuietOption = False):
    """Queue every article whose annotators disagree (and that no ground truth settles) in the project "<NAME> review"."""
    from . import progress
    from .studio.review import review, review_project_title

    with progress.show(quiet):
        queued, already = review(Layout(root), project)
    typer.echo(f"queued {queued} disagreements in {review_project_title(project)!r}; {already} already queued")


@studio_app.command("serve")
def studio_serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8080,
    data_dir: Annotated[Path, typer.Option(help="Label Studio's data folder, outside the repository.")] = Path.home() / ".local/share/newscorpus-studio",
):
    """Start a local Label Studio (installed by scripts/install-label-studio) for annotators, without telemetry."""
    from .studio.serve import serve

    serve(port, data_dir, say=typer.echo)


class Interrupted(BaseException):
    """Ctrl-C. Not KeyboardInterrupt, which click turns into a bare exit 130 before main sees it."""


def interrupt(signum, frame):
    raise Interrupted


def main() -> None:
    """Entry point: bad input and failures the user can act on end with a message, never a traceback.

    Typer runs in standalone mode, so usage errors get its message and exit status 2.
    """
    signal.signal(signal.SIGINT, interrupt)
    collect_less()
    try:
        app()
    except InputError as err:
        typer.echo(err.report.render_text(), err=True)
        typer.echo(f"error: {err.what}", err=True)
        sys.exit(1)
    except CommandError as err:
        typer.echo(f"error: {redact(str(err), os.environ.get('LABEL_STUDIO_API_KEY', ''))}", err=True)
        sys.exit(1)
    except (Interrupted, KeyboardInterrupt):  # every stage writes through a temporary file or a staging folder
        typer.echo("interrupted; nothing was written", err=True)
        sys.exit(130)
    except Exception as err:  # a bug or an environment failure: one line, with the way to see more
        if os.environ.get("NEWSCORPUS_DEBUG"):
            raise
        message = redact(f"{type(err).__name__}: {err}", os.environ.get("LABEL_STUDIO_API_KEY", ""))
        typer.echo(f"error: {message} (set NEWSCORPUS_DEBUG=1 for the traceback)", err=True)
        sys.exit(3)
