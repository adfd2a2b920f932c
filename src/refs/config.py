"""Settings: defaults, a config file, environment variables, command-line options.

Precedence, highest first:

1. command-line options (passed in as ``overrides``);
2. environment variables (``REFS_MAILTO``, ``REFS_CROSSREF_URL`` …; ``NCBI_API_KEY``
   is read too when ``REFS_NCBI_API_KEY`` is not set);
3. the config file: ``$REFS_CONFIG`` if set, else ``./refs.toml`` if it exists, else
   ``$XDG_CONFIG_HOME/refs/config.toml`` (``~/.config/refs/config.toml``). Keys are
   the setting names in lower case without the ``REFS_`` prefix (``mailto = "…"``);
4. the defaults below.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from refs.errors import ConfigError

__all__ = ["ENV_VARS", "Settings", "load_settings"]


class Settings(BaseModel):
    """Everything refs can be told, with the defaults a new user gets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mailto: str | None = None
    ncbi_api_key: str | None = None
    crossref_url: str = "https://api.crossref.org"
    datacite_url: str = "https://api.datacite.org"
    doi_url: str = "https://doi.org"
    eutils_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    idconv_url: str = "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/"
    cache: Path = Path("cache")
    library: Path = Path("references")
    # Services: per-request timeout, and how long and how often to retry one request.
    timeout: float = Field(30.0, gt=0)
    retry_attempts: int = Field(6, ge=1)
    retry_timeout: float = Field(120.0, gt=0)
    retry_wait_initial: float = Field(0.5, ge=0)
    retry_wait_max: float = Field(30.0, ge=0)
    # Documents fetched by URL.
    fetch_timeout: float = Field(30.0, gt=0)
    fetch_max_bytes: int = Field(20_000_000, gt=0)
    # Not-found answers are asked again after this many seconds.
    negative_ttl: float = Field(86_400.0, ge=0)

    @field_validator("crossref_url", "datacite_url", "doi_url", "eutils_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return _check_url(value).rstrip("/")

    @field_validator("idconv_url")
    @classmethod
    def _check_idconv(cls, value: str) -> str:
        return _check_url(value)

    @property
    def user_agent(self) -> str:
        from refs import __version__

        contact = f" (mailto:{self.mailto})" if self.mailto else ""
        return f"refs/{__version__}{contact}"


def _check_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        msg = f"{value!r} is not a base URL: expected http:// or https://"
        raise ValueError(msg)
    return value


# Environment variable -> setting name. Order matters for aliases: the first one set wins.
ENV_VARS: dict[str, str] = {
    "REFS_MAILTO": "mailto",
    "REFS_NCBI_API_KEY": "ncbi_api_key",
    "NCBI_API_KEY": "ncbi_api_key",
    "REFS_CROSSREF_URL": "crossref_url",
    "REFS_DATACITE_URL": "datacite_url",
    "REFS_DOI_URL": "doi_url",
    "REFS_EUTILS_URL": "eutils_url",
    "REFS_IDCONV_URL": "idconv_url",
    "REFS_CACHE": "cache",
    "REFS_LIBRARY": "library",
    "REFS_TIMEOUT": "timeout",
    "REFS_RETRY_ATTEMPTS": "retry_attempts",
    "REFS_RETRY_TIMEOUT": "retry_timeout",
    "REFS_RETRY_WAIT_INITIAL": "retry_wait_initial",
    "REFS_RETRY_WAIT_MAX": "retry_wait_max",
    "REFS_FETCH_TIMEOUT": "fetch_timeout",
    "REFS_FETCH_MAX_BYTES": "fetch_max_bytes",
    "REFS_NEGATIVE_TTL": "negative_ttl",
}


def config_file(environ: Mapping[str, str]) -> Path | None:
    """The config file that applies, if any."""
    explicit = environ.get("REFS_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("refs.toml")
    if local.is_file():
        return local
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    user = Path(base) / "refs" / "config.toml"
    return user if user.is_file() else None


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from defaults, config file, environment and ``overrides``, in that order."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file(env)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            msg = f"cannot read config file {str(path)!r}: {exc}"
            raise ConfigError(msg) from exc
        known = set(Settings.model_fields)
        unknown = sorted(set(data) - known)
        if unknown:
            msg = (
                f"config file {str(path)!r} has unknown setting(s) {', '.join(unknown)}; "
                f"expected some of: {', '.join(sorted(known))}"
            )
            raise ConfigError(msg)
        values.update(data)
    seen: set[str] = set()
    for var, name in ENV_VARS.items():
        if name in seen:
            continue
        raw = env.get(var)
        if raw:
            values[name] = raw
            seen.add(name)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        msg = f"invalid settings: {problems}"
        raise ConfigError(msg) from exc
