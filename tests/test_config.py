"""Settings: defaults < config file < environment < command-line options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from refs.config import load_settings
from refs.errors import ConfigError


def test_defaults_are_the_live_services() -> None:
    """With nothing configured refs talks to the public services."""
    s = load_settings(environ={})
    assert s.url("crossref_url") == "https://api.crossref.org"
    assert s.url("datacite_url") == "https://api.datacite.org"
    assert s.url("doi_url") == "https://doi.org"
    assert s.url("eutils_url") == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    assert s.url("idconv_url") == "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/"
    assert s.cache == Path("cache")
    assert s.library == Path("references")


def test_precedence_file_env_override(tmp_path: Path) -> None:
    """The config file is overridden by the environment, which options override."""
    config = tmp_path / "refs.toml"
    config.write_text(
        'mailto = "file@example.org"\ntimeout = 5\ncrossref_url = "http://file/"\n',
        encoding="utf-8",
    )
    env = {"REFS_CONFIG": str(config), "REFS_MAILTO": "env@example.org"}
    s = load_settings(environ=env)
    assert (s.mailto, s.timeout, s.url("crossref_url")) == ("env@example.org", 5.0, "http://file")
    s = load_settings({"mailto": "cli@example.org"}, environ=env)
    assert s.mailto == "cli@example.org"
    assert s.user_agent.endswith("(mailto:cli@example.org)")


def test_ncbi_key_alias() -> None:
    """NCBI_API_KEY is read when REFS_NCBI_API_KEY is not set, and loses to it when both are."""
    assert load_settings(environ={"NCBI_API_KEY": "a"}).ncbi_api_key == "a"
    assert (
        load_settings(environ={"NCBI_API_KEY": "a", "REFS_NCBI_API_KEY": "b"}).ncbi_api_key == "b"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("mailto = ", "cannot read config file", id="bad-toml"),
        pytest.param("colour = 'blue'", "unknown setting(s) colour", id="unknown-key"),
        pytest.param("crossref_url = 'ftp://x'", "crossref_url", id="bad-url"),
        pytest.param("timeout = -1", "timeout", id="negative-timeout"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, content: str, message: str) -> None:
    """A broken config file raises ConfigError naming the file or the setting."""
    config = tmp_path / "refs.toml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(environ={"REFS_CONFIG": str(config)})
