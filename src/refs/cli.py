"""The ``refs`` command line: parse options, call the library, render. Nothing else.

Results go to stdout, messages and progress to stderr. Every :class:`RefsError`
becomes one message on stderr and an exit status in :func:`main`, the one error
boundary. Heavy modules are imported inside the commands so ``refs --help`` is quick.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer

from refs.choices import ExportFormat, FailOn
from refs.errors import (
    ConfigError,
    IdentifierError,
    LockTimeout,
    NoLibrary,
    RefsError,
    UnknownDocument,
    UnknownMention,
)

app = typer.Typer(
    name="refs",
    help=(
        "Turn the citations inside articles into a clean, deduplicated, always-fresh "
        "reference library (DOIs, PMIDs and PMCIDs; Crossref, DataCite, PubMed)."
    ),
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
DEFAULT_AGE = "30d"  # refs refresh re-checks works last checked longer ago than this


class ExtractFormat(StrEnum):
    jsonl = "jsonl"
    table = "table"


def _documents(value: str | list[str] | None) -> str | list[str] | None:
    """--document as the library names documents (paper.md, ./paper.md, its absolute
    path: one document)."""
    from refs.documents import document_name

    if value is None:
        return None
    if isinstance(value, list):
        return [document_name(v) for v in value]
    return document_name(value)


def _version(value: bool) -> None:
    if value:
        from refs import __version__

        typer.echo(f"refs {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    library: Annotated[
        str | None,
        typer.Option(
            "--library",
            metavar="DIR",
            help="The library directory [env REFS_LIBRARY; default ./references].",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="The config file [env REFS_CONFIG].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """refs: citations in, clean reference library out."""
    import os

    # Options before the command win over the environment, as every option does.
    if library is not None:
        os.environ["REFS_LIBRARY"] = library
    if config is not None:
        os.environ["REFS_CONFIG"] = config


InputsArg = Annotated[
    list[str],
    typer.Argument(
        metavar="PATH|URL...",
        help="Files, directories (read recursively), http(s) URLs, or - for standard input.",
        show_default=False,
    ),
]
FetchTimeout = Annotated[
    float | None,
    typer.Option(
        "--fetch-timeout",
        min=0.1,
        help="Seconds allowed for fetching one URL [env REFS_FETCH_TIMEOUT; default 30].",
        show_default=False,
    ),
]
FetchMaxBytes = Annotated[
    int | None,
    typer.Option(
        "--fetch-max-bytes",
        min=1,
        help="Largest document fetched from a URL, in bytes [env REFS_FETCH_MAX_BYTES; default 20000000].",
        show_default=False,
    ),
]
MaxBytes = Annotated[
    int | None,
    typer.Option(
        "--max-bytes",
        min=1,
        help="Largest document read from a file or stdin, in bytes [env REFS_MAX_BYTES; default 200000000].",
        show_default=False,
    ),
]
AllowPrivate = Annotated[
    bool,
    typer.Option(
        "--allow-private-urls",
        help="Follow redirects to loopback, private or link-local addresses [env REFS_ALLOW_PRIVATE_URLS].",
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress and no warnings on stderr.")
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait", min=0, help="Seconds to wait for another refs using the library, then exit 3."
    ),
]
MailtoOpt = Annotated[
    str | None,
    typer.Option(
        "--mailto",
        help="Contact email for the services' polite pools [env REFS_MAILTO].",
        show_default=False,
    ),
]


@app.command()
def extract(
    inputs: InputsArg,
    output_format: Annotated[
        ExtractFormat | None,
        typer.Option(
            "--format",
            help="jsonl: one JSON object per mention (default when stdout is not a terminal); "
            "table: for people.",
            show_default=False,
        ),
    ] = None,
    fetch_timeout: FetchTimeout = None,
    fetch_max_bytes: FetchMaxBytes = None,
    max_bytes: MaxBytes = None,
    allow_private_urls: AllowPrivate = False,
    unidentified: Annotated[
        bool,
        typer.Option(
            "--unidentified",
            help="Also print citations that carry no DOI, PMID or PMCID: reference-list "
            "entries (scheme reference, id the entry's text) and links to article pages "
            "(scheme link, id the URL).",
        ),
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Find every DOI, PMID and PMCID in documents and print one mention per line.

    Each JSON line has the keys document, scheme (doi|pmid|pmcid), id (canonical),
    raw (the text as matched), start and end (offsets into the decoded text; for
    HTML and XML into the markup) and context. Exit status 1 if any input could not
    be read, 0 otherwise.
    """
    from refs.app.inputs import extract_documents
    from refs.config import load_settings
    from refs.console import StderrReporter, print_mentions_table, write_lines

    settings = load_settings(
        {
            "fetch_timeout": fetch_timeout,
            "fetch_max_bytes": fetch_max_bytes,
            "max_bytes": max_bytes,
            "allow_private_urls": allow_private_urls or None,
        }
    )
    fmt = output_format or (ExtractFormat.table if sys.stdout.isatty() else ExtractFormat.jsonl)
    reporter = StderrReporter(quiet=quiet)
    failed = 0
    rows = []
    for result in extract_documents(inputs, settings, reporter, unidentified=unidentified):
        if result.error is not None:
            failed += 1
            continue
        mentions = result.mentions
        if result.unidentified:
            mentions = sorted(mentions + result.unidentified, key=lambda m: (m.start, m.end))
        if fmt is ExtractFormat.jsonl:
            write_lines(m.json_line() for m in mentions)
        else:
            rows.extend(mentions)
    if fmt is ExtractFormat.table:
        print_mentions_table(rows)
    if failed:
        reporter.warning(f"{failed} input(s) could not be read")
        raise typer.Exit(EXIT_FAILED)


def _own_retry_reports() -> None:
    """refs counts retries and reports them itself (through --quiet's rules); stamina's
    own log lines ("stamina.retry_scheduled") would reach stderr regardless."""
    import stamina.instrumentation

    stamina.instrumentation.set_on_retry_hooks([])


def _duration(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    from refs.durations import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def _output_format(fmt: ExportFormat | None, output: str | None) -> ExportFormat:
    if fmt is not None:
        return fmt
    if output and output.lower().endswith((".json", ".csl", ".csljson")):
        return ExportFormat.csl_json
    return ExportFormat.bibtex


def _emit(text: str | Iterable[str], output: str | None) -> None:
    """Export text (or its pieces) to stdout, or atomically to a file."""
    if output is None or output == "-":
        for piece in [text] if isinstance(text, str) else text:
            sys.stdout.write(piece)
        sys.stdout.flush()
        return
    from pathlib import Path

    from refs.files import write_atomic

    write_atomic(Path(output), text, only_if_changed=False)


FormatOpt = Annotated[
    ExportFormat | None,
    typer.Option("--format", help="bibtex (default) or csl-json.", show_default=False),
]
UnicodeOpt = Annotated[
    bool,
    typer.Option("--unicode", help="BibTeX: keep non-ASCII characters as UTF-8 instead of LaTeX."),
]
AbstractsOpt = Annotated[
    bool,
    typer.Option("--abstracts", help="BibTeX: include abstracts (CSL-JSON always has them)."),
]


@app.command("resolve")
def resolve_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH|URL|IDENTIFIER...",
            help="Files, directories, http(s) URLs, or identifiers such as "
            "doi:10.1186/s10194-023-01626-w, PMID:37438700, PMC10337094.",
            show_default=False,
        ),
    ],
    output_format: FormatOpt = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE|-",
            help="Also write this run's works in --format to FILE (- for stdout).",
            show_default=False,
        ),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Resolve from the cache alone; make no requests.")
    ] = False,
    max_age: Annotated[
        str | None,
        typer.Option(
            "--max-age",
            metavar="DURATION",
            help="Re-fetch cached records older than this (e.g. 30d, 12h). Default: cached "
            "records stay valid until `refs refresh` re-checks them.",
            show_default=False,
        ),
    ] = None,
    allow_unresolved: Annotated[
        bool,
        typer.Option(
            "--allow-unresolved", help="Exit 0 even when some identifiers did not resolve."
        ),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout instead.")
    ] = False,
    unicode: UnicodeOpt = False,
    abstracts: AbstractsOpt = False,
    no_match: Annotated[
        bool,
        typer.Option(
            "--no-match",
            help="Do not match citations that carry no identifier (reference strings, links).",
        ),
    ] = False,
    min_score: Annotated[
        float | None,
        typer.Option(
            "--min-score",
            min=0.0,
            max=1.0,
            help="Accept a matched citation's best candidate from this score on "
            "[default: the calibrated threshold, see the README].",
            show_default=False,
        ),
    ] = None,
    no_complete: Annotated[
        bool,
        typer.Option(
            "--no-complete",
            help="Do not complete works with the identifiers their records name (a PubMed "
            "record's DOI at Crossref, a DOI's PMID) [env REFS_COMPLETE=0].",
        ),
    ] = False,
    follow_links: Annotated[
        bool,
        typer.Option(
            "--follow-links",
            help="Read the pages of article links no rule resolves, for their citation_doi "
            "meta tags (one request per host per second at most).",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            metavar="N",
            help="Spread reading, extraction and normalisation over a local Dask cluster "
            "of N worker processes (requests still go out from this one process).",
            show_default=False,
        ),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            metavar="tcp://SCHEDULER:8786",
            help="Run on an existing Dask distributed cluster (documents must be readable "
            "at the same paths on its workers).",
            show_default=False,
        ),
    ] = None,
    wait: WaitOpt = 30.0,
    mailto: MailtoOpt = None,
    fetch_timeout: FetchTimeout = None,
    fetch_max_bytes: FetchMaxBytes = None,
    max_bytes: MaxBytes = None,
    allow_private_urls: AllowPrivate = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="On a terminal too, a line per resolved identifier (not only failures).",
        ),
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Extract, resolve, normalise, deduplicate and store; write the library's exports.

    DOIs go to Crossref (then DataCite, then doi.org content negotiation), PMIDs to
    PubMed, PMCIDs to the PMC ID converter and PubMed, in as few batched requests as the
    services' published limits allow; raw records are cached. Works are merged across
    identifiers and documents, stored in the library (REFS_LIBRARY) and exported to
    library.bib and library.json there. Reports each identifier and a summary on
    stderr. Exit status 0 when everything resolved, 1 otherwise (0 with
    --allow-unresolved), 2 for usage errors, 3 when the library is locked.

    Citations without an identifier (reference-list entries, links to article pages)
    are matched by searching Crossref (and PubMed) and validating each candidate; the
    best is accepted from --min-score on and when clearly ahead of the next. Unmatched
    citations do not change the exit status: `refs review` lists them.
    """
    from refs.app import resolve_inputs
    from refs.config import load_settings
    from refs.console import (
        StderrReporter,
        print_failures,
        print_resolve_report,
        resolve_report_json,
    )
    from refs.match.matcher import MatchSettings
    from refs.match.score import DEFAULT_MIN_SCORE

    if json_output and output == "-":
        msg = "--json and -o - both want stdout; pick one"
        raise typer.BadParameter(msg, param_hint="--json")
    if workers is not None and cluster is not None:
        msg = "--workers starts a cluster and --cluster names one; pick one"
        raise typer.BadParameter(msg, param_hint="--workers")
    settings = load_settings(
        {
            "fetch_timeout": fetch_timeout,
            "fetch_max_bytes": fetch_max_bytes,
            "max_bytes": max_bytes,
            "allow_private_urls": allow_private_urls or None,
            "mailto": mailto,
            "complete": False if no_complete else None,
        }
    )
    reporter = StderrReporter(quiet=quiet)
    _own_retry_reports()
    wants_export = output is not None or output_format is not None
    matching = (
        None
        if no_match
        else MatchSettings(
            min_score=DEFAULT_MIN_SCORE if min_score is None else min_score,
            follow_links=follow_links,
        )
    )
    options: dict[str, Any] = {
        "match": matching,
        "offline": offline,
        "max_age": _duration(max_age, "--max-age"),
        "wait": wait,
        "export": _output_format(output_format, output) if wants_export else None,
        "unicode": unicode,
        "abstracts": abstracts,
        "keys": json_output or not quiet,  # the keys are shown in the report only
    }
    if workers is not None or cluster is not None:
        from refs.app.distributed import resolve_distributed

        run = resolve_distributed(
            inputs, settings, workers=workers, address=cluster, reporter=reporter, **options
        )
    else:
        run = resolve_inputs(inputs, settings, reporter=reporter, **options)
    if run.export is not None:
        _emit(run.export, output)
    unresolved = len(run.report.unresolved)
    fails = bool(run.failed_inputs or (unresolved and not allow_unresolved))
    if json_output:
        import json

        typer.echo(json.dumps(resolve_report_json(run), ensure_ascii=False, indent=2))
    if not quiet and not json_output:
        # On a terminal, a person reads the progress bar and the summary; lines per
        # identifier only for failures (or -v). Logs and pipes get every line.
        print_resolve_report(run, per_identifier=verbose or not sys.stderr.isatty())
    elif fails:
        print_failures(run)  # --quiet silences progress and summaries, never why it failed
    if fails:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def refresh(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="DURATION",
            help="Re-check works last checked longer ago than this (e.g. 30d, 12h) [default: 30d].",
            show_default=False,
        ),
    ] = None,
    check_all: Annotated[
        bool, typer.Option("--all", help="Re-check every work, however recently checked.")
    ] = False,
    documents: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            callback=_documents,
            metavar="DOC",
            help="Only the works this document cites (repeatable; all of them unless "
            "--older-than is given).",
            show_default=False,
        ),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="Exit 1 when this happens: a new retraction, any new status "
            "event (retraction, correction, expression of concern, withdrawal), any change.",
        ),
    ] = FailOn.never,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on stdout.")
    ] = False,
    wait: WaitOpt = 30.0,
    mailto: MailtoOpt = None,
    quiet: Quiet = False,
) -> None:
    """Re-check the library against the services; report changes and new retractions.

    For scheduled jobs (cron, systemd, CI). Re-fetches the records of due works in
    batched, rate-limited requests (Crossref with from-index-date, so unchanged works
    cost nothing extra), stores a new version of each work that changed (keeping the
    history), rewrites library.bib and library.json only if something changed, and
    reports changed fields and new status events (retraction, correction, expression of
    concern, withdrawal) with the documents that cite the affected works. Works that
    could not be checked keep their versions and are retried next time. Exit status 1
    when --fail-on's event occurred, 2 for usage errors, 3 when the library is locked.
    """
    from refs.app import RefreshReport, Shown
    from refs.app import refresh as run_refresh
    from refs.config import load_settings
    from refs.console import StderrReporter, print_refresh_report

    settings = load_settings({"mailto": mailto})
    if check_all or (documents and older_than is None):
        age = None
    else:
        age = _duration(older_than or DEFAULT_AGE, "--older-than")
    reporter = StderrReporter(quiet=quiet)

    def emit(report: RefreshReport) -> Shown:
        """Show the report; return what a person will see (only that is marked reported)."""
        if json_output:
            import json

            typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
            if not quiet:
                print_refresh_report(report)
            return Shown(changes=True, events=True)
        # --quiet silences progress and the summary, never what needs action.
        return print_refresh_report(report, quiet=quiet, fail_on=fail_on)

    _own_retry_reports()
    report = run_refresh(
        settings, older_than=age, documents=documents or [], wait=wait, reporter=reporter, emit=emit
    )
    if report.fails(fail_on):
        raise typer.Exit(EXIT_FAILED)


@app.command("suggest")
def suggest_command(
    inputs: InputsArg,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="One JSON object per passage: document, start, end, passage, query, candidates.",
        ),
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Search from the cache alone; make no requests.")
    ] = False,
    mailto: MailtoOpt = None,
    fetch_timeout: FetchTimeout = None,
    fetch_max_bytes: FetchMaxBytes = None,
    max_bytes: MaxBytes = None,
    allow_private_urls: AllowPrivate = False,
    quiet: Quiet = False,
) -> None:
    """Find passages that report a study without citing it ("a new study", "the
    researchers found", "her latest paper followed 36 patients") and suggest the works
    they may describe: a Europe PMC search (REFS_EUROPEPMC_URL) from the people,
    institutions, journals, years and terms each passage names, candidates ranked by
    how much of the description they explain. Nothing is accepted automatically: use
    `refs resolve` with the identifier once a person has checked it.
    """
    from refs.app.matching import suggest
    from refs.config import load_settings
    from refs.console import StderrReporter, print_suggestions, write_jsonl

    settings = load_settings(
        {
            "fetch_timeout": fetch_timeout,
            "fetch_max_bytes": fetch_max_bytes,
            "max_bytes": max_bytes,
            "allow_private_urls": allow_private_urls or None,
            "mailto": mailto,
        }
    )
    _own_retry_reports()
    suggestions, documents = suggest(
        inputs, settings, offline=offline, reporter=StderrReporter(quiet=quiet)
    )
    if json_output:
        write_jsonl(s.to_dict() for s in suggestions)
    else:
        print_suggestions(suggestions)
    for s in suggestions:
        if s.error and not quiet:
            typer.echo(f"refs: warning: {s.document}:{s.start}: search failed: {s.error}", err=True)
    if any(d.error is not None for d in documents):
        raise typer.Exit(EXIT_FAILED)


DocumentOpt = Annotated[
    str | None,
    typer.Option(
        "--document",
        callback=_documents,
        metavar="DOC",
        help="Only this document's citations (its path or URL as given to refs).",
        show_default=False,
    ),
]


@app.command("review")
def review_command(
    document: DocumentOpt = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON object per citation on stdout.")
    ] = False,
) -> None:
    """List the citations without identifier that need a person: unmatched, failed, or
    matched with a low score, with their document, context and best candidates.

    Each is named by a key (ref-…, link-…) that stays the same across runs; give it to
    `refs accept MENTION IDENTIFIER` or `refs reject MENTION [IDENTIFIER]`.
    """
    from refs.app.matching import review
    from refs.config import load_settings
    from refs.console import print_review, stored_match_json, write_jsonl

    items = review(load_settings(), document=document)
    if json_output:
        write_jsonl(stored_match_json(m) for m in items)
    else:
        print_review(items)


def _decide(mention: str, verdict: str, identifier: str | None, wait: float, quiet: bool) -> None:
    import os

    from refs.app import resolve_inputs
    from refs.app.matching import record_decision
    from refs.config import load_settings
    from refs.console import StderrReporter
    from refs.match.matcher import MatchSettings

    settings = load_settings()
    match, decision = record_decision(settings, mention, verdict, identifier, wait=wait)
    what = (
        f"accepted {decision.identifier}"
        if decision.verdict == "accept"
        else "rejected every match"
        if decision.verdict == "reject"
        else f"rejected {', '.join(decision.rejected)}"
    )
    typer.echo(f"{mention}: {what} for {match.document!r} (kept across runs)", err=True)
    if match.document != "-" and os.path.exists(match.document):
        # Apply it now: the document is read again; no search is made for this citation.
        run = resolve_inputs(
            [match.document],
            settings,
            match=MatchSettings(),
            reporter=StderrReporter(quiet=True),
            wait=wait,
        )
        if not quiet:
            typer.echo(
                f"{match.document}: {len(run.report.resolutions)} identifier(s) linked; "
                f"library exports rewritten"
                if run.stored.written
                else f"{match.document}: library up to date",
                err=True,
            )
    elif not quiet:
        typer.echo(f"`refs resolve {match.document}` applies it.", err=True)


@app.command("accept")
def accept_command(
    mention: Annotated[str, typer.Argument(metavar="MENTION", help="A key `refs review` prints.")],
    identifier: Annotated[
        str,
        typer.Argument(metavar="IDENTIFIER", help="doi:…, PMID:… or PMC… of the work it cites."),
    ],
    wait: WaitOpt = 30.0,
    quiet: Quiet = False,
) -> None:
    """Record that a citation cites this work. No later automatic match overrides it;
    it survives re-runs, refresh and re-extraction of an unchanged document."""
    _decide(mention, "accept", identifier, wait, quiet)


@app.command("reject")
def reject_command(
    mention: Annotated[str, typer.Argument(metavar="MENTION", help="A key `refs review` prints.")],
    identifier: Annotated[
        str | None,
        typer.Argument(
            metavar="[IDENTIFIER]",
            help="The candidate that is wrong; without it, no match is ever made for this citation.",
            show_default=False,
        ),
    ] = None,
    wait: WaitOpt = 30.0,
    quiet: Quiet = False,
) -> None:
    """Record that a citation does not cite this work (or, without IDENTIFIER, that it
    must never be matched). Kept across runs; no later automatic match overrides it."""
    _decide(mention, "reject", identifier, wait, quiet)


@app.command("import")
def import_command(
    file: Annotated[
        str, typer.Argument(metavar="FILE.bib|FILE.json", help="A BibTeX or CSL-JSON bibliography.")
    ],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print what would change; write nothing (library, cache, exports)."
        ),
    ] = False,
    document: Annotated[
        str | None,
        typer.Option(
            "--document",
            callback=_documents,
            metavar="NAME",
            help="The name the file's citations go under [default: its path].",
            show_default=False,
        ),
    ] = None,
    update_fields: Annotated[
        bool,
        typer.Option(
            "--update-fields",
            help="Where the services disagree with a field your file sets, export the "
            "services' value (default: yours is kept).",
        ),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="The report as JSON on stdout.")
    ] = False,
    wait: WaitOpt = 30.0,
    mailto: MailtoOpt = None,
    quiet: Quiet = False,
) -> None:
    """Import an existing bibliography (BibTeX, including Better BibTeX; CSL-JSON, including
    Zotero's): resolve each entry's DOI/PMID/PMCID (match entries without one), keep the
    file's keys as aliases (BibTeX `ids`), and report per entry the fields refs adds and
    those where the services disagree with the file. The file itself is never written.
    A file that does not parse is reported by line and nothing is stored."""
    import json
    from pathlib import Path

    from refs.app.importing import import_bibliography
    from refs.config import load_settings
    from refs.console import StderrReporter, print_import

    settings = load_settings({"mailto": mailto})
    _own_retry_reports()
    report = import_bibliography(
        settings,
        Path(file),
        document=document,
        dry_run=dry_run,
        update_fields=update_fields,
        wait=wait,
        reporter=StderrReporter(quiet=True),
    )
    if json_output:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    elif not quiet:
        print_import(report)
    if any(e.problem for e in report.entries):
        raise typer.Exit(EXIT_FAILED)


@app.command("report")
def report_command(
    output: Annotated[
        str,
        typer.Option("--output", "-o", metavar="FILE.html", help="The page to write (atomically)."),
    ],
    documents: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            callback=_documents,
            metavar="DOC",
            help="Only these documents (repeatable; default: all).",
        ),
    ] = None,
    style: Annotated[
        str, typer.Option("--style", help="The citation style of the references.")
    ] = "vancouver",
    quiet: Quiet = False,
) -> None:
    """Write one self-contained HTML page for editors: each article with its citations
    (formatted, linked to doi.org, PubMed and PMC), badges for retracted, corrected and
    concerned works and for unmatched or failed citations, counts at the top and a filter
    box. No external assets: it works offline and on a phone."""
    from pathlib import Path

    from refs.app.exporting import write_report
    from refs.config import load_settings
    from refs.errors import ExportError
    from refs.export.formatted import style_path

    try:
        style_path(style)
    except ExportError as exc:
        raise typer.BadParameter(str(exc), param_hint="--style") from exc
    counts = write_report(load_settings(), Path(output), documents=documents or [], style=style)
    if not quiet:
        detail = ", ".join(
            f"{v} {k.replace('_', ' ')}"
            for k, v in counts.items()
            if k not in ("articles", "bytes")
        )
        typer.echo(
            f"wrote {output} ({counts['bytes'] / 1024:.0f} KB): {counts['articles']} article(s)"
            + (f"; {detail}" if detail else ""),
            err=True,
        )


@app.command("format")
def format_command(
    document: DocumentOpt = None,
    style: Annotated[
        str,
        typer.Option(
            "--style",
            metavar="vancouver|apa|ama|nature|harvard|FILE.csl",
            help="A citation style: a short name, a CSL repository style id, or a .csl file.",
        ),
    ] = "vancouver",
    to: Annotated[
        str, typer.Option("--to", metavar="text|html|markdown", help="Output format.")
    ] = "text",
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write to FILE (atomically).", show_default=False
        ),
    ] = None,
) -> None:
    """Print formatted references: one document's in the order it cites them, or the
    library's in alphabetical order, rendered by citeproc-py in a real CSL style.
    Retracted, corrected and concerned works carry a notice line whatever the style."""
    from refs.app.exporting import format_references
    from refs.config import load_settings
    from refs.errors import ExportError
    from refs.export.formatted import TARGETS, style_path

    if to not in TARGETS:
        msg = f"{to!r}: expected one of {', '.join(TARGETS)}"
        raise typer.BadParameter(msg, param_hint="--to")
    try:
        style_path(style)
    except ExportError as exc:
        raise typer.BadParameter(str(exc), param_hint="--style") from exc
    _emit(format_references(load_settings(), document=document, style=style, to=to), output)


@app.command("export")
def export_command(
    output_format: FormatOpt = None,
    document: Annotated[
        str | None,
        typer.Option(
            "--document",
            callback=_documents,
            metavar="DOC",
            help="Only the works this document cites (its path or URL as given to refs).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to FILE (atomically) instead of stdout.",
            show_default=False,
        ),
    ] = None,
    as_cited: Annotated[
        bool,
        typer.Option(
            "--as-cited",
            help="With --document: key each entry exactly as the document cites it "
            "(doi:10.…, pmid:…, pmcid:…, a DOI URL), one entry per key, for pandoc --citeproc.",
        ),
    ] = False,
    unicode: UnicodeOpt = False,
    abstracts: AbstractsOpt = False,
) -> None:
    """Export the library (REFS_LIBRARY) as BibTeX or CSL-JSON.

    The same library always exports byte-identical files: entries in citation-key
    order, fixed formatting. Every entry names the documents that cite it (BibTeX
    field `sources`, CSL-JSON `custom.sources`) and its retraction or correction
    status (BibTeX `note`, CSL-JSON `custom.status`).
    """
    from refs.app.exporting import export_pieces
    from refs.config import load_settings

    settings = load_settings()
    fmt = _output_format(output_format, output)
    if as_cited:
        from refs.app.exporting import as_cited_pieces

        if document is None:
            msg = "--as-cited keys a document's bibliography as it cites: give --document"
            raise typer.BadParameter(msg, param_hint="--as-cited")
        _emit(
            as_cited_pieces(settings, fmt, document, unicode=unicode, abstracts=abstracts), output
        )
        return
    _emit(
        export_pieces(settings, fmt, document=document, unicode=unicode, abstracts=abstracts),
        output,
    )


snapshot_app = typer.Typer(
    help="Bulk files of the services (PMC-ids.csv, PubMed baseline/update files, "
    "Crossref's public data file) as the record cache.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(snapshot_app, name="snapshot")


class SnapshotFormatOpt(StrEnum):
    pmc_ids = "pmc-ids"
    pubmed = "pubmed"
    crossref = "crossref"


@snapshot_app.command("load")
def snapshot_load_command(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...",
            help="PMC-ids.csv(.gz), PubMed pubmedNNnNNNN.xml(.gz), Crossref *.jsonl(.gz) or "
            "*.json(.gz) parts.",
        ),
    ],
    fmt: Annotated[
        SnapshotFormatOpt | None,
        typer.Option("--format", help="The files' format [default: from each name]."),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            help="The snapshot's date, stamped on every record [default: each file's "
            "modification time].",
        ),
    ] = None,
    whole: Annotated[
        bool,
        typer.Option(
            "--whole",
            help="The files are the services' whole datasets (every part of Crossref's "
            "annual file, the whole PubMed baseline): a DOI or PMID they lack is taken as "
            "not found when completing works. PMC-ids.csv(.gz) always is.",
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="The counts as JSON.")] = False,
    quiet: Quiet = False,
) -> None:
    """Load the services' bulk files into the record cache, streamed in constant memory,
    each record stamped with the snapshot's date. `refs resolve` then asks the APIs only
    for what the snapshots lack; `refs refresh` asks Crossref only for what was
    re-indexed since that date."""
    import json
    from pathlib import Path

    from refs.app.snapshots import load_snapshots
    from refs.config import load_settings
    from refs.console import StderrReporter
    from refs.records.snapshots import SnapshotFormat

    kind: SnapshotFormat | None = fmt.value if fmt is not None else None
    loads = load_snapshots(
        load_settings(),
        [Path(f) for f in files],
        fmt=kind,
        date=date,
        whole=whole,
        reporter=StderrReporter(quiet=quiet or json_output),
    )
    if json_output:
        typer.echo(json.dumps([x.to_dict() for x in loads], indent=2))
    elif not quiet:
        for x in loads:
            rate = f"{x.records / x.seconds:,.0f} records/s" if x.seconds else ""
            extra = "".join(
                f", {n} {what}"
                for n, what in (
                    (x.kept, "kept (the cache holds later answers)"),
                    (x.deleted, "deleted"),
                )
                if n
            )
            typer.echo(
                f"loaded {x.records:,} {x.format} records from {x.file} (dated {x.date}) "
                f"in {x.seconds:.1f} s, {rate}{extra}",
                err=True,
            )


def _exit_code(exc: RefsError) -> int:
    if isinstance(exc, LockTimeout):
        return EXIT_LOCKED
    if isinstance(
        exc, IdentifierError | ConfigError | UnknownDocument | UnknownMention | NoLibrary
    ):
        return EXIT_USAGE
    return EXIT_FAILED


def main() -> NoReturn:
    """Entry point of the ``refs`` console script: the one error boundary."""
    import gc

    # refs builds hundreds of thousands of small objects that hold no cycles (records,
    # works, mentions); the default thresholds run a collection every 700 allocations,
    # which cost a third of loading a large library. Cycles are still collected.
    gc.set_threshold(100_000, 50, 100)
    try:
        app()
    except RefsError as exc:
        from refs.console import safe

        print(f"refs: error: {safe(str(exc))}", file=sys.stderr)
        sys.exit(_exit_code(exc))
    except BrokenPipeError:
        # `refs extract … | head`: the reader went away; that is not an error.
        sys.stderr.close()
        sys.exit(EXIT_OK)
    except KeyboardInterrupt:
        print("refs: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(EXIT_OK)
