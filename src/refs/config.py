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
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from refs.errors import ConfigError
from refs.registry import URL_SETTINGS

__all__ = ["ENV_VARS", "Settings", "env_vars", "load_settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything refs can be told, with the defaults a new user gets.

    A plain frozen dataclass, checked by :func:`_check` (every command reads settings,
    and importing a validation library costs start-up time ``refs extract`` can not spare).
    """

    mailto: str | None = None
    ncbi_api_key: str | None = None
    # Base URLs of the services, by setting name (``crossref_url`` …): one per URL
    # setting in the registry, given as top-level keys (``crossref_url = "…"`` in the
    # config file, ``REFS_CROSSREF_URL``, ``load_settings({"crossref_url": …})``).
    urls: dict[str, str] = field(default_factory=dict)
    cache: Path = Path("cache")
    library: Path = Path("references")
    # A PostgreSQL library or cache (REFS_LIBRARY / REFS_CACHE given as postgresql://…):
    # the database holds the data; ``library`` stays the folder the exports are written to.
    library_url: str | None = None
    cache_url: str | None = None
    # Services: per-request timeout, and how long and how often to retry one request.
    timeout: float = 30.0
    retry_attempts: int = 6
    retry_timeout: float = 120.0
    retry_wait_initial: float = 0.5
    retry_wait_max: float = 30.0
    # Documents fetched by URL (the whole answer, every decoded layer included).
    fetch_timeout: float = 30.0
    fetch_max_bytes: int = 20_000_000
    # Documents read from files or standard input.
    max_bytes: int = 200_000_000
    # Redirects (and, later, links found in documents) to loopback/private addresses.
    allow_private_urls: bool = False
    # Services whose base URLs are all loopback addresses (a local mirror of a service,
    # the replay server) are asked without the published rate limits.
    unlimited_local: bool = False
    # Complete every work: resolve the identifiers its records name but the documents did
    # not (a PubMed record's DOI at Crossref; a DOI's PMID through the ID converter).
    complete: bool = True
    # A service's answer, decoded: larger ones fail (a 300 MB answer is no record).
    max_answer_bytes: int = 64_000_000
    # Not-found answers are asked again after this many seconds.
    negative_ttl: float = 86_400.0

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


# Each setting's type and bound: (kind, lower bound, bound included).
_NUMBERS: dict[str, tuple[type, float, bool]] = {
    "timeout": (float, 0, False),
    "retry_attempts": (int, 1, True),
    "retry_timeout": (float, 0, False),
    "retry_wait_initial": (float, 0, True),
    "retry_wait_max": (float, 0, True),
    "fetch_timeout": (float, 0, False),
    "fetch_max_bytes": (int, 0, False),
    "max_bytes": (int, 0, False),
    "max_answer_bytes": (int, 0, False),
    "negative_ttl": (float, 0, True),
}
_TEXT = ("mailto", "ncbi_api_key")
_PATHS = ("cache", "library")
_DATABASES = ("postgresql://", "postgres://")
_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n", ""}
FIELDS = frozenset(f.name for f in fields(Settings))


def _number(value: object, kind: type, bound: float, inclusive: bool) -> float | int:
    number: float | int
    if isinstance(value, bool):
        msg = f"{value!r} is not a number"
        raise ValueError(msg)
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value)
        if not isinstance(value, int):
            msg = f"{value!r} is not a whole number"
            raise ValueError(msg)
        number = value
    else:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            msg = f"{value!r} is not a number"
            raise ValueError(msg) from None
        if number != number or number in (float("inf"), float("-inf")):
            msg = f"{value!r} is not a finite number"
            raise ValueError(msg)
    if number < bound or (number == bound and not inclusive):
        relation = "at least" if inclusive else "greater than"
        msg = f"{value!r} is too small: expected a number {relation} {bound:g}"
        raise ValueError(msg)
    return number


def _setting(name: str, value: object) -> object:
    """One setting's value, checked and converted (environment values are text)."""
    if name in _NUMBERS:
        return _number(value, *_NUMBERS[name])
    if name in _TEXT:
        if value is not None and not isinstance(value, str):
            msg = f"{value!r} is not text"
            raise ValueError(msg)
        return value
    if name in _PATHS:
        if not isinstance(value, (str, os.PathLike)):
            msg = f"{value!r} is not a path"
            raise ValueError(msg)
        return Path(value)
    if name in ("allow_private_urls", "unlimited_local", "complete"):
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if not isinstance(value, bool):
            msg = f"{value!r} is not true or false"
            raise ValueError(msg)
        return value
    msg = "no such setting"
    raise ValueError(msg)


def _check(values: Mapping[str, Any]) -> Settings:
    """Settings from raw values (config file, environment, options), each one checked."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    urls = {name: setting.default for name, setting in URL_SETTINGS.items()}
    urls.update(values.get("urls") or {})
    for name, value in values.items():
        if name == "urls":
            continue
        if name in URL_SETTINGS:
            urls[name] = value
            continue
        if name in _PATHS and isinstance(value, str) and value.startswith(_DATABASES):
            out[f"{name}_url"] = value  # the exports stay in ./references (the default)
            continue
        try:
            out[name] = _setting(name, value)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    checked: dict[str, str] = {}
    for name, value in urls.items():
        setting = URL_SETTINGS.get(name)
        if setting is None:
            problems.append(f"{name}: no registered service has this URL setting")
            continue
        try:
            checked[name] = _check_url(name, value, keep_slash=setting.keep_slash)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        msg = f"invalid settings: {'; '.join(problems)}"
        raise ConfigError(msg)
    return Settings(urls=checked, **out)


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
    "REFS_UNLIMITED_LOCAL": "unlimited_local",
    "REFS_COMPLETE": "complete",
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
        known = (FIELDS - {"urls"}) | set(URL_SETTINGS)
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
    return _check(values)
