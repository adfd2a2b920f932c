"""Validating search candidates against citation strings: genuine records, varied strings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refs.match.score import DEFAULT_MIN_SCORE, Candidate, decide, score
from refs.match.search import candidate_of, crossref_candidates
from refs.normalise.crossref import normalise

FIXTURES = Path(__file__).parent / "fixtures"


def genuine(name: str) -> Candidate:
    body = json.loads((FIXTURES / "crossref" / name).read_text(encoding="utf-8"))
    message = body["message"]
    work = normalise(json.dumps(message), message["DOI"].lower(), 0.0)
    return candidate_of(work, f"doi:{work.doi}", "crossref-bibliographic")


PONE = "works_10.1371_journal.pone.0033693.json"  # Sadasivan et al. 2012, PLoS ONE 7(3) e33693
JCTC = "works_10.1021_acs.jctc.2c01235.json"  # Wellawatte et al. 2023, JCTC 19(8) 2149-2160
PNAS = "works_10.1073_pnas.1414271111.json"  # Makris et al. 2014, PNAS 111(45)

RIGHT = [
    # Vancouver
    (
        PONE,
        "Sadasivan S, Pond BB, Pani AK, Qu C, Jiao Y, Smeyne RJ. Methylphenidate exposure "
        "induces dopamine neuron loss and activation of microglia in the basal ganglia of mice. "
        "PLoS One. 2012;7(3):e33693.",
    ),
    # APA
    (
        JCTC,
        "Wellawatte, G. P., Gandhi, H. A., Seshadri, A., & White, A. D. (2023). A perspective on "
        "explanations of molecular prediction models. Journal of Chemical Theory and "
        "Computation, 19(8), 2149–2160.",
    ),
    # Nature, abbreviated journal
    (
        JCTC,
        "Wellawatte, G. P., Gandhi, H. A., Seshadri, A. & White, A. D. A perspective on "
        "explanations of molecular prediction models. J. Chem. Theory Comput. 19, 2149–2160 (2023).",
    ),
    # Harvard, no issue, typos in the title
    (
        PNAS,
        "Makris, E.A., Responte, D.J., Paschos, N.K., Hu, J.C. and Athanasiou, K.A. (2014) "
        "'Developing functionl musculoskeletal tissues through hypoxia and lysyl oxidase-induced "
        "colagen cross-linking', Proceedings of the National Academy of Sciences, 111(45).",
    ),
    # missing authors beyond the first, upper case
    (
        PONE,
        "SADASIVAN S ET AL. METHYLPHENIDATE EXPOSURE INDUCES DOPAMINE NEURON LOSS AND ACTIVATION "
        "OF MICROGLIA IN THE BASAL GANGLIA OF MICE. PLOS ONE 2012; 7: E33693",
    ),
]


@pytest.mark.parametrize(("record", "citation"), RIGHT)
def test_the_cited_genuine_record_scores_high(record: str, citation: str) -> None:
    ev = score(citation, genuine(record))
    assert ev.score >= DEFAULT_MIN_SCORE, ev.fields


WRONG = [
    # the same work's title, another year, volume and pages (a corrupted or different work)
    (
        PONE,
        "Sadasivan S, Pond BB. Methylphenidate exposure induces dopamine neuron loss and "
        "activation of microglia in the basal ganglia of mice. PLoS One. 2009;4(2):e12345.",
    ),
    # the same first author, another work
    (
        JCTC,
        "Wellawatte GP, White AD. Model agnostic generation of counterfactual explanations for "
        "molecules. Chem Sci. 2022;13:3697-3705.",
    ),
    # another team, a similar topic
    (
        PNAS,
        "Smith J, Brown K. Hypoxia and collagen in engineered cartilage. Tissue Eng. 2014;20:11-19.",
    ),
]


@pytest.mark.parametrize(("record", "citation"), WRONG)
def test_other_works_score_low(record: str, citation: str) -> None:
    assert score(citation, genuine(record)).score < DEFAULT_MIN_SCORE


def test_the_best_must_be_clearly_ahead_and_rejected_candidates_never_win() -> None:
    pone = genuine(PONE)
    twin = Candidate(
        id="doi:10.5555/twin",
        title=pone.title,
        authors=pone.authors,
        year=pone.year,
        container=pone.container,
        volume=pone.volume,
        page="e99999",
        type="article-journal",
    )
    citation = RIGHT[4][1].replace("E33693", "").rstrip(": ")  # no page: the two tie
    tie = decide(citation, [pone, twin])
    assert tie.accepted is not None  # same title and first author: one work, kept once
    assert len(tie.ranked) == 1
    other = Candidate(
        id="doi:10.5555/other",
        title=f"{pone.title} (part II)",
        authors=pone.authors,
        year=pone.year,
        container=pone.container,
        volume=pone.volume,
        type="article-journal",
    )
    close = decide(citation, [pone, other])
    assert close.accepted is not None
    assert close.accepted.candidate.id == pone.id
    excluded = decide(RIGHT[0][1], [pone], excluded=[pone.id])
    assert excluded.accepted is None


DECISIONS = json.loads((FIXTURES / "search" / "decisions.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("row", DECISIONS["answers"], ids=lambda r: r["file"][:50])
def test_recorded_search_answers_are_decided_right(row: dict[str, str | None]) -> None:
    """Every recorded Crossref answer (right hits, wrong top hits, a chapter for its book,
    zero results, select= without score) gets the decision its PROVENANCE note gives."""
    body = (FIXTURES / "search" / "crossref" / str(row["file"])).read_text(encoding="utf-8")
    d = decide(str(row["citation"]), crossref_candidates(body))
    got = d.accepted.candidate.id.removeprefix("doi:") if d.accepted else None
    assert got == row["right"], (d.best.fields if d.best else None, d.reason)
