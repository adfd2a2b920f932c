"""`refs import`: an existing BibTeX or CSL-JSON bibliography into the library."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import Refs

# Written for these tests in the shape Better BibTeX exports (biblatex fields, the PMID
# in `extra`), citing works the replay server holds.
BBT = """@article{sadasivanMethylphenidateExposureInduces2012,
  title = {Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in the Basal Ganglia of Mice},
  author = {Sadasivan, Shankar and Pond, Brooks B. and Pani, Amar K.},
  date = {2012-03-21},
  journaltitle = {PLoS ONE},
  volume = {7},
  doi = {10.1371/journal.pone.0033693},
}

@article{ritzSocialAnxietyDisorderassociated2024,
  title = {Social Anxiety Disorder-Associated Gut Microbiota Increases Social Fear},
  author = {Ritz, Nathaniel L.},
  date = {2024},
  journaltitle = {PNAS},
  pages = {1--10},
  extra = {PMID: 38147649},
}
"""
# Zotero's CSL-JSON export shape.
ZOTERO = [
    {
        "id": "http://zotero.org/users/1/items/ABCD1234",
        "type": "article-journal",
        "title": "Developing functional musculoskeletal tissues through hypoxia",
        "container-title": "Proceedings of the National Academy of Sciences",
        "DOI": "10.1073/pnas.1414271111",
        "author": [{"family": "Makris", "given": "Eleftherios A."}],
        "issued": {"date-parts": [["2014", 10, 27]]},
    },
    {
        "id": "wakefieldIleallymphoidnodularHyperplasia1998",
        "type": "article-journal",
        "title": "Ileal-lymphoid-nodular hyperplasia",
        "note": "PMID: 9500320",
        "DOI": "10.1016/S0140-6736(97)11096-0",
        "author": [{"family": "Wakefield", "given": "A. J."}],
        "issued": {"date-parts": [["1998"]]},
    },
]


@pytest.fixture
def refs(cli: Refs) -> Refs:
    return cli


def _sums(*dirs: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for d in dirs
        if d.exists()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


def test_bbt_bibtex_imports_with_keys_kept_and_changes_reported(refs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bib = tmp_path / "mine.bib"
    bib.write_text(BBT, encoding="utf-8")
    original = bib.read_bytes()
    out = refs("import", "--json", "mine.bib")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    entries = {e["key"]: e for e in report["entries"]}
    ritz = entries["ritzSocialAnxietyDisorderassociated2024"]
    assert ritz["identifiers"] == ["pmid:38147649"]  # from BBT's `extra`
    assert ritz["work"] == "ritz2024social"
    assert ritz["added"]["doi"] == "10.1073/pnas.2308706120"
    assert ritz["added"]["pmcid"] == "PMC10769841"
    assert ritz["differs"]["page"] == {"file": "1–10", "refs": "e2308706120"}
    sadasivan = entries["sadasivanMethylphenidateExposureInduces2012"]
    assert "year" not in sadasivan["added"]
    assert "container" not in sadasivan["added"]
    assert sadasivan["added"]["page"] == "e33693"
    # The user's keys are aliases: BibTeX `ids`, so \\cite{their key} still finds the entry.
    library = (tmp_path / "references" / "library.bib").read_text(encoding="utf-8")
    assert "ids = {ritzSocialAnxietyDisorderassociated2024}" in library
    assert "ids = {sadasivanMethylphenidateExposureInduces2012}" in library
    # The page the user set is the one exported (a person set it); --update-fields
    # exports the services' instead.
    csl = json.loads((tmp_path / "references" / "library.json").read_text(encoding="utf-8"))
    assert next(i for i in csl if i["id"] == "ritz2024social")["page"] == "1–10"
    assert refs("import", "--update-fields", "mine.bib").returncode == 0
    csl = json.loads((tmp_path / "references" / "library.json").read_text(encoding="utf-8"))
    assert next(i for i in csl if i["id"] == "ritz2024social")["page"] == "e2308706120"
    # The file is a document of the library: refresh watches its works.
    cited = json.loads(refs("export", "--format", "csl-json", "--document", "mine.bib").stdout)
    assert {i["id"] for i in cited} == {"ritz2024social", "sadasivan2012methylphenidate"}
    assert bib.read_bytes() == original  # the user's file is never written


def test_zotero_csl_json_imports(refs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "zotero.json"
    path.write_text(json.dumps(ZOTERO, indent=2), encoding="utf-8")
    out = refs("import", "--json", "--document", "my-zotero", "zotero.json")
    assert out.returncode == 0, out.stderr
    entries = {e["key"]: e for e in json.loads(out.stdout)["entries"]}
    assert entries["http://zotero.org/users/1/items/ABCD1234"]["work"] == "makris2014developing"
    wakefield = entries["wakefieldIleallymphoidnodularHyperplasia1998"]
    assert wakefield["work"] == "wakefield1998ileal"
    assert wakefield["identifiers"] == ["doi:10.1016/s0140-6736(97)11096-0", "pmid:9500320"]
    assert "title" in wakefield["differs"]  # "RETRACTED: …" in the services' record


def test_a_dry_run_writes_nothing(refs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "mine.bib").write_text(BBT, encoding="utf-8")
    assert refs("resolve", "-q", "doi:10.1021/acs.jctc.2c01235").returncode == 0
    before = _sums(tmp_path / "references", tmp_path / "cache")
    out = refs("import", "--dry-run", "mine.bib")
    assert out.returncode == 0, out.stderr
    assert "nothing was written (--dry-run)" in out.stdout
    assert "+ doi: 10.1073/pnas.2308706120" in out.stdout
    assert _sums(tmp_path / "references", tmp_path / "cache") == before


def test_a_broken_file_is_reported_by_line_and_nothing_is_stored(refs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "broken.bib").write_text(
        BBT + "\n@article{bad,\n  title = {never closed\n\n", "utf-8"
    )
    out = refs("import", "broken.bib")
    assert out.returncode == 1
    assert "broken.bib" in out.stderr
    assert "line 19" in out.stderr
    assert not (tmp_path / "references").exists()
    (tmp_path / "broken.json").write_text('[{"id": "a",\n "title": "x",,}]', encoding="utf-8")
    out = refs("import", "broken.json")
    assert out.returncode == 1
    assert "line 2" in out.stderr
