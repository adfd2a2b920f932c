"""Rendering for the command line: stderr messages, progress bars, tables, JSON lines."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from refs.app import RefreshReport, ResolveRun, Shown
    from refs.app.importing import ImportReport
    from refs.app.matching import Suggestion
    from refs.choices import FailOn
    from refs.match.matcher import MatchOutcome
    from refs.models import Mention
    from refs.storage import StoredMatch

__all__ = [
    "StderrReporter",
    "print_mentions_table",
    "print_refresh_report",
    "print_resolve_report",
    "resolve_report_json",
    "safe",
    "write_jsonl",
    "write_lines",
]


def write_jsonl(rows: Iterable[dict[str, Any]]) -> None:
    """One compact JSON object per line on stdout (UTF-8, not ASCII-escaped)."""
    write_lines(map(json.JSONEncoder(ensure_ascii=False).encode, rows))


def write_lines(lines: Iterable[str]) -> None:
    """Lines on stdout, written in blocks: one write per block, not two per line."""
    out = sys.stdout
    block: list[str] = []
    for line in lines:
        block.append(line)
        if len(block) >= 4096:
            out.write("\n".join(block) + "\n")
            block.clear()
    if block:
        out.write("\n".join(block) + "\n")


def print_mentions_table(mentions: list[Mention]) -> None:
    """Mentions for people: one line each, readable at 80 columns. Ids are never cut
    (they are for copying); the context takes what is left of the line; a single
    document goes in the heading instead of a column."""
    import shutil

    width = shutil.get_terminal_size((80, 24)).columns
    documents = list(dict.fromkeys(m.document for m in mentions))
    one = len(documents) <= 1
    heading = f"{len(mentions)} mention(s)" + (
        f" in {safe(documents[0])}" if one and documents else ""
    )
    ids = min(max((len(m.id) for m in mentions), default=2), 40)
    doc_w = 0 if one else min(max(len(d) for d in documents), 18)
    lines = [heading]
    head = (
        ("document".ljust(doc_w) + "  " if doc_w else "")
        + "scheme  "
        + "id".ljust(ids)
        + "      at  context"
    )
    lines.append(head)
    for m in mentions:
        doc = ""
        if doc_w:
            name = safe(m.document)
            doc = (name if len(name) <= doc_w else "…" + name[-(doc_w - 1) :]).ljust(doc_w) + "  "
        left = f"{doc}{m.scheme.value:<6}  {safe(m.id):<{ids}}  {m.start:>6}  "
        room = max(12, width - len(left))
        context = safe(m.context)
        lines.append(left + (context if len(context) <= room else context[: room - 1] + "…"))
    sys.stdout.write("\n".join(lines) + "\n")


class StderrReporter:
    """Warnings as ``refs: warning: …`` lines; a rich progress bar when stderr is a terminal."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.show_progress = not quiet and sys.stderr.isatty()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def warning(self, message: str) -> None:
        if self.quiet:
            return
        if self._progress is not None:
            self._progress.console.print(
                f"refs: warning: {safe(message)}", markup=False, highlight=False
            )
        else:
            print(f"refs: warning: {safe(message)}", file=sys.stderr)

    def info(self, message: str) -> None:
        if not self.quiet:
            print(safe(message), file=sys.stderr)

    def start(self, stage: str, total: int | None) -> None:
        if not self.show_progress:
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
        self._tasks[stage] = self._progress.add_task(stage, total=total)

    def advance(self, stage: str, steps: int = 1) -> None:
        if self._progress is not None and stage in self._tasks:
            self._progress.advance(self._tasks[stage], steps)

    def finish(self, stage: str) -> None:
        if self._progress is None or stage not in self._tasks:
            return
        self._progress.remove_task(self._tasks.pop(stage))
        if not self._tasks:
            self._progress.stop()
            self._progress = None


# Characters that move the cursor, clear the screen, ring, or reorder text (C0 and C1
# controls but tab, bidi overrides and isolates, line and paragraph separators): metadata
# and file names are printed for people with each of them escaped (\x1b, \u202e).
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]"
)


def safe(text: str) -> str:
    """``text`` fit for a terminal: every control or bidi character escaped."""
    if text.isprintable():
        return text
    return _UNSAFE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def _err(line: str = "") -> None:
    print(safe(line), file=sys.stderr)


def print_import(report: ImportReport) -> None:
    """Per entry: the work it became, what refs adds, where the services disagree."""
    what = "would import" if report.dry_run else "imported"
    for e in report.entries:
        if e.problem:
            print(f"{e.key} (line {e.line}): {e.problem}")
            continue
        alias = "" if e.work_key == e.key else f" (your key {e.key} kept as an alias)"
        print(f"{e.key} → {e.work_key}{alias}")
        for name, value in e.added.items():
            print(f"    + {name}: {_short(value, 90)}")
        for name, (mine, theirs) in e.differs.items():
            print(
                f"    ~ {name}: {_short(mine, 60)}  ≠  {_short(theirs, 60)} (yours is kept in your file)"
            )
    if any(e.differs for e in report.entries):
        print(
            "  (~: your value is exported; --update-fields exports the services' instead)"
            if not report.update_fields
            else "  (~: the services' value is exported, as --update-fields asks)"
        )
    ok = sum(1 for e in report.entries if not e.problem)
    print(
        f"{what} {ok} of {len(report.entries)} entr(y/ies) as {report.document!r}"
        + ("; nothing was written (--dry-run)" if report.dry_run else "")
    )
    for alias in report.refused_aliases:
        print(f"warning: key {alias!r} already names another work; not kept as an alias")


def print_suggestions(items: Sequence[Suggestion]) -> None:
    """Passages that report a study, with the search and its ranked candidates, on stdout."""
    if not items:
        print("no passage reports a study without citing it")
        return
    for s in items:
        print(f"{s.document}:{s.start}-{s.end}")
        print(f"    {_short(s.passage, 300)}")
        print(f"    search: {s.query}")
        for c in s.candidates[:5]:
            year = f" ({c.get('year')})" if c.get("year") else ""
            print(
                f"    {c.get('score', 0):.2f}  {c.get('id')}  {_short(str(c.get('title') or ''), 90)}{year}"
            )
        if not s.candidates:
            print("    no candidate" + (f" ({s.error})" if s.error else ""))
    print(f"{len(items)} passage(s); suggestions only: check them, then `refs resolve IDENTIFIER`")


def stored_match_json(m: StoredMatch) -> dict[str, Any]:
    """A stored citation without identifier, as ``refs review --json`` prints it."""
    return {
        "mention": m.key,
        "document": m.document,
        "scheme": m.scheme,
        "text": m.text,
        "context": m.context,
        "status": m.status,
        "identifier": m.identifier,
        "method": m.method,
        "score": m.score,
        "query": m.query,
        "reason": m.reason,
        "candidates": m.candidates,
    }


def print_review(items: Sequence[StoredMatch]) -> None:
    """Citations that need a person, with their best candidates, on stdout."""
    if not items:
        print("nothing to review: every citation without identifier is matched or decided")
        return
    for m in items:
        score = f" (score {m.score:.2f})" if m.score is not None else ""
        print(f"{m.key}  {m.status}{score}  {m.document}")
        print(f"    {_short(m.text, 160)}")
        if m.reason:
            print(f"    why: {m.reason}")
        for c in m.candidates[:3]:
            year = f" ({c.get('year')})" if c.get("year") else ""
            print(
                f"    candidate {c.get('score', 0):.2f}  {c.get('id')}  {_short(c.get('title') or '', 90)}{year}"
            )
        print(f"    decide: refs accept {m.key} IDENTIFIER  |  refs reject {m.key} [IDENTIFIER]")
    print(f"{len(items)} citation(s) to review")


def match_json(o: MatchOutcome) -> dict[str, Any]:
    """One citation without identifier, as ``--json`` and ``refs review --json`` show it."""
    return {
        "mention": o.key,
        "document": o.mention.document,
        "scheme": o.mention.scheme.value,
        "text": o.mention.id,
        "status": o.status,
        "identifier": str(o.identifier) if o.identifier else None,
        "method": o.method,
        "score": o.score,
        "query": o.query,
        "reason": o.reason,
        "candidates": o.candidate_rows(),
    }


def resolve_report_json(run: ResolveRun) -> dict[str, Any]:
    """The resolve summary as stable JSON (documented in the README)."""
    report = run.report
    stored = run.stored
    return {
        "documents": [
            {
                "document": d.source,
                "mentions": len(d.mentions),
                "error": str(d.error) if d.error else None,
            }
            for d in run.documents
        ],
        "identifiers": [
            {**r.to_dict(), "key": run.keys.get(r.identifier)} for r in report.resolutions
        ],
        "matches": [match_json(o) for o in run.matching.outcomes],
        "works": [
            {
                "key": u.key,
                "outcome": u.outcome,
                "changes": [c.field for c in u.changes],
                "merged_keys": u.merged_keys,
            }
            for u in stored.updates
        ],
        "summary": {
            "documents": len(run.documents),
            "documents_failed": len(run.failed_inputs),
            "mentions": len(run.mentions),
            "identifiers": len(report.resolutions),
            "resolved": report.count("resolved"),
            "not_found": report.count("not_found"),
            "failed": report.count("failed"),
            "stale": sum(1 for r in report.resolutions if r.stale),
            "works": len(stored.updates),
            "works_new": stored.count("new"),
            "works_updated": stored.count("updated"),
            "works_unchanged": stored.count("unchanged"),
            "duplicates_merged": stored.duplicates_merged,
            "from_cache": report.from_cache,
            "requests": report.requests,
            "retries": report.retries,
            "exports_written": stored.written,
            "seconds": round(report.elapsed, 3),
            "citations_without_identifier": len(run.matching.outcomes),
            "matched": run.matching.count("matched"),
            "unmatched": run.matching.count("unmatched"),
            "search_requests": run.matching.requests,
        },
        "unresolved": [
            {"identifier": str(r.identifier), "status": r.status, "reason": r.reason}
            for r in report.unresolved
        ],
    }


def print_resolve_report(run: ResolveRun, *, per_identifier: bool = True) -> None:
    """Per-identifier lines (with ``per_identifier``; failures always) and a summary,
    for people, on stderr. Each resolved line ends with the key its work has."""
    report = run.report
    stored = run.stored
    outcomes = run.matching.outcomes
    matched = {o.identifier: o for o in outcomes if o.status == "matched" and o.identifier}
    for r in report.resolutions:
        key = run.keys.get(r.identifier)
        arrow = f"  → {key}" if key else ""
        if r.status == "resolved" and not per_identifier:
            continue
        if r.status == "resolved":
            found = " ".join(f"{s.value}:{v}" for s, v in sorted(r.identifiers.items()))
            stale = " [stale cached record]" if r.stale else ""
            how = matched.get(r.identifier)
            if how is not None:
                _err(
                    f"matched    {r.identifier}  score {how.score:.2f} by {how.method} "
                    f"({how.key}) via {r.via}: {found}{stale}{arrow}"
                )
            else:
                _err(f"resolved   {r.identifier}  via {r.via}: {found}{stale}{arrow}")
        else:
            label = "not found" if r.status == "not_found" else "failed   "
            _err(f"{label}  {r.identifier}  {r.reason}")
    for o in outcomes if per_identifier else []:
        if o.status != "matched":
            text = _short(o.mention.id, 70)
            _err(f"{o.status:<10} {o.key}  {o.reason}: {text}")
    if outcomes:
        m = run.matching
        searches = ", ".join(f"{k} {v}" for k, v in m.requests.items()) or "none"
        _err(
            f"{len(outcomes)} citation(s) without identifier: {m.count('matched')} matched, "
            f"{m.count('unmatched')} unmatched, {m.count('failed')} failed, "
            f"{m.count('rejected')} rejected by a person; search requests: {searches} "
            "(refs review lists the unmatched)"
        )
    requests = ", ".join(f"{k} {v}" for k, v in report.requests.items()) or "none"
    _err(
        f"{len(run.documents)} document(s) read, {len(run.mentions)} mention(s) found, "
        f"{len(report.resolutions)} identifier(s): {report.count('resolved')} resolved, "
        f"{report.count('not_found')} not found, {report.count('failed')} failed"
    )
    _err(
        f"works: {stored.count('new')} new, {stored.count('updated')} updated, "
        f"{stored.count('unchanged')} unchanged; {stored.duplicates_merged} duplicate(s) merged"
    )
    _err(
        f"{report.from_cache} record(s) from the cache; requests: {requests}; {report.elapsed:.1f} s"
    )
    for path in stored.written:
        _err(f"wrote {path}")
    if report.unresolved:
        _err("unresolved:")
        for r in report.unresolved:
            _err(f"  {r.identifier}: {r.status.replace('_', ' ')}: {r.reason}")


def print_failures(run: ResolveRun) -> None:
    """What made a run fail, one line each on stderr: printed even with --quiet, so a
    cron mail always says why."""
    for d in run.failed_inputs:
        _err(f"refs: error: {d.error}")
    for r in run.report.unresolved:
        _err(f"refs: error: {r.identifier}: {r.status.replace('_', ' ')}: {r.reason}")


_EVENT_LABELS = {
    "retraction": "RETRACTED",
    "correction": "CORRECTED",
    "expression_of_concern": "EXPRESSION OF CONCERN",
    "withdrawal": "WITHDRAWN",
}


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_refresh_report(
    report: RefreshReport, *, quiet: bool = False, fail_on: FailOn | None = None
) -> Shown:
    """The refresh report for people, on stderr: status events first, they need action.

    ``quiet`` leaves out the summary, what could not be checked and the files written,
    never the status events, nor the changed works when ``fail_on`` is ``change``: what
    decides the exit status is always shown. Returns what was shown.
    """
    from refs.app import Shown
    from refs.app.refreshing import identifiers_text
    from refs.choices import FailOn

    show_changes = not quiet or fail_on is FailOn.change
    if not quiet:
        requests = ", ".join(f"{k} {v}" for k, v in report.requests.items()) or "none"
        _err(
            f"refresh: {report.checked} work(s) checked: {report.unchanged} unchanged, "
            f"{len(report.changed)} changed, {len(report.not_checked)} could not be checked; "
            f"requests: {requests}; {report.seconds:.1f} s"
        )
    if report.events:
        _err("")
        _err(
            f"NEW STATUS EVENTS ({len(report.events)}): the documents listed cite the affected work"
        )
        for e in report.events:
            label = _EVENT_LABELS.get(e.event.kind, e.event.kind)
            ids = identifiers_text(e.identifiers)
            _err(f"  {label.ljust(21)} {e.key} ({ids}): {_short(e.title or '')}")
            _err(f"  {'':21} {e.event.details()}")
            cited = ", ".join(e.cited_by) or "no document (given directly)"
            _err(f"  {'':21} cited by: {cited}")
    if report.changed and show_changes:
        _err("")
        _err(f"CHANGED ({len(report.changed)}):")
        for c in report.changed:
            _err(
                f"  {c.key} ({identifiers_text(c.identifiers)}, version {c.version}), "
                f"cited by: {', '.join(c.cited_by) or 'no document'}"
            )
            for change in c.changes:
                old, new = change["old"], change["new"]
                if change["field"] == "status":  # a list of events: show their kinds
                    old = ", ".join(e["kind"] for e in old or []) or "none"
                    new = ", ".join(e["kind"] for e in new or []) or "none"
                _err(f"    {change['field']}: {_short(old)} → {_short(new)}")
    shown = Shown(changes=show_changes, events=True)
    if quiet:
        return shown
    if report.not_checked:
        _err("")
        _err(
            f"COULD NOT BE CHECKED ({len(report.not_checked)}), previous versions kept, retried next run:"
        )
        for n in report.not_checked:
            _err(f"  {n.key} ({identifiers_text(n.identifiers)}): {n.reason}")
    for path in report.exports_written:
        _err(f"wrote {path}")
    return shown
