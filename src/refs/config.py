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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from refs.errors import ConfigError
from refs.registry import URL_SETTINGS

__all__ = ["ENV_VARS", "Settings", "env_vars", "load_settings"]


class Settings(BaseModel):
    """Everything refs can be told, with the defaults a new user gets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mailto: str | None = None
    ncbi_api_key: str | None = None
    # Base URLs of the services, by setting name (``crossref_url`` …): one per URL
    # setting in the registry, given as top-level keys (``Settings(crossref_url=…)``,
    # ``crossref_url = "…"`` in the config file, ``REFS_CROSSREF_URL``).
    urls: dict[str, str] = Field(default_factory=dict)
    cache: Path = Path("cache")
    library: Path = Path("references")
    # Services: per-request timeout, and how long and how often to retry one request.
    timeout: float = Field(30.0, gt=0)
    retry_attempts: int = Field(6, ge=1)
    retry_timeout: float = Field(120.0, gt=0)
    retry_wait_initial: float = Field(0.5, ge=0)
    retry_wait_max: float = Field(30.0, ge=0)
    # Documents fetched by URL (the whole answer, every decoded layer included).
    fetch_timeout: float = Field(30.0, gt=0)
    fetch_max_bytes: int = Field(20_000_000, gt=0)
    # Documents read from files or standard input.
    max_bytes: int = Field(200_000_000, gt=0)
    # Redirects (and, later, links found in documents) to loopback/private addresses.
    allow_private_urls: bool = False
    # A service's answer, decoded: larger ones fail (a 300 MB answer is no record).
    max_answer_bytes: int = Field(64_000_000, gt=0)
    # Not-found answers are asked again after this many seconds.
    negative_ttl: float = Field(86_400.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _gather_urls(cls, data: Any) -> Any:
        """Top-level ``<service>_url`` keys → ``urls``, with every registered default."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        urls = {name: setting.default for name, setting in URL_SETTINGS.items()}
        urls.update(data.pop("urls", None) or {})
        for name in URL_SETTINGS:
            if name in data:
                urls[name] = data.pop(name)
        data["urls"] = urls
        return data

    @field_validator("urls")
    @classmethod
    def _check_urls(cls, urls: dict[str, str]) -> dict[str, str]:
        out = {}
        for name, value in urls.items():
            setting = URL_SETTINGS.get(name)
            if setting is None:
                msg = f"{name}: no registered service has this URL setting"
                raise ValueError(msg)
            out[name] = _check_url(name, value, keep_slash=setting.keep_slash)
        return out

    def url(self, name: str) -> str:
        """The base URL setting ``name`` (``"crossref_url"``)."""
        try:
            return self.urls[name]
        except KeyError:
            return URL_SETTINGS[name].default

    @property
    def user_agent(self) -> str:
        from refs import __version__

        contact = f" (mailto:{self.mailto})" if self.mailto else ""
        return f"refs/{__version__}{contact}"


def _check_url(name: str, value: object, *, keep_slash: bool) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        msg = f"{name}: {value!r} is not a base URL: expected http:// or https://"
        raise ValueError(msg)
    return value if keep_slash else value.rstrip("/")


# Environment variable -> setting name. Order matters for aliases: the first one set wins.
# The services' REFS_*_URL variables come from the registry (see env_vars()).
ENV_VARS: dict[str, str] = {
    "REFS_MAILTO": "mailto",
    "REFS_NCBI_API_KEY": "ncbi_api_key",
    "NCBI_API_KEY": "ncbi_api_key",
    "REFS_CACHE": "cache",
    "REFS_LIBRARY": "library",
    "REFS_TIMEOUT": "timeout",
    "REFS_RETRY_ATTEMPTS": "retry_attempts",
    "REFS_RETRY_TIMEOUT": "retry_timeout",
    "REFS_RETRY_WAIT_INITIAL": "retry_wait_initial",
    "REFS_RETRY_WAIT_MAX": "retry_wait_max",
    "REFS_FETCH_TIMEOUT": "fetch_timeout",
    "REFS_FETCH_MAX_BYTES": "fetch_max_bytes",
    "REFS_MAX_BYTES": "max_bytes",
    "REFS_ALLOW_PRIVATE_URLS": "allow_private_urls",
    "REFS_MAX_ANSWER_BYTES": "max_answer_bytes",
    "REFS_NEGATIVE_TTL": "negative_ttl",
}


def env_vars() -> dict[str, str]:
    """Every environment variable refs reads → its setting name."""
    return {**ENV_VARS, **{s.env: s.name for s in URL_SETTINGS.values()}}


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
        known = (set(Settings.model_fields) - {"urls"}) | set(URL_SETTINGS)
        unknown = sorted(set(data) - known)
        if unknown:
            msg = (
                f"config file {str(path)!r} has unknown setting(s) {', '.join(unknown)}; "
                f"expected some of: {', '.join(sorted(known))}"
            )
            raise ConfigError(msg)
        values.update(data)
    seen: set[str] = set()
    for var, name in env_vars().items():
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
