"""Which configuration a pipeline run uses, and the embedded defaults when there is none.

With ``--config``, ``$AICMO_GATEWAY_CONFIG`` or ``./aicmo-gateway.toml``, that file. With
none, the embedded defaults: providers that need no account (the ``dns`` verifier when
``aicmo-gateway-verify`` is installed, the SQLite CRM, the Maildir sender, the outbox and the
suppression list on SQLite), written once as ``aicmo-gateway.toml`` into the data folder
(``./aicmo-data`` unless ``--data-dir`` says otherwise) so the next run, ``status`` and
``outbox replay`` use the same file, and a person can edit it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

import attrs

from aicmo_gateway.config.load import GatewayConfig, load_config
from aicmo_gateway.config.location import CONFIG_FILENAME, find_config
from aicmo_gateway.plugins.registry import Registry

__all__ = [
    "DEFAULT_DATA_DIR",
    "Setup",
    "default_config_text",
    "make_folders",
    "resolve",
    "result_paths",
]

DEFAULT_DATA_DIR = Path("aicmo-data")

_HEAD = """\
# The lead pipeline's embedded defaults, written by `aicmo-gateway pipeline run` because no
# configuration was given. Every provider here needs no account; relative paths are relative
# to this folder. Edit it, or pass your own file with --config (docs/pipeline.md).
[gateway]
# state_dir = "state"               # lets `status` and `explain` show the run (slower)
outbox = "sqlite:///outbox.db"      # sends no provider performed wait here for `outbox replay`

[email]
suppression = "sqlite:///suppression.db"

[pipeline]
sender = "Outreach <outreach@example.com>"
journal = "pipeline.db"             # what each lead went through: a second run resumes
send_unknown = true                 # email leads whose verdict is unknown
send_risky = false                  # not role accounts or disposable domains
"""

_VERIFY = """
[capabilities.email_verification]
providers = ["dns"]

[providers.dns]
type = "dns"
# check_mx = false: syntax, disposable domains and role accounts only, no DNS. The sample's
# example.com/.org/.net domains are reserved (RFC 2606) and publish a null MX, so a DNS
# lookup calls every one of them undeliverable. For real leads, set check_mx = true: a
# lookup that gets no answer within the timeout ends `unknown` (see send_unknown above).
check_mx = false
timeout = 2
"""

_REST = """
[capabilities.crm_sync]
providers = ["crm"]

[providers.crm]
type = "sqlite"
path = "crm.db"                     # sqlite3 crm.db 'select * from contacts'

[capabilities.email_sending]
providers = ["maildir"]

[providers.maildir]
type = "maildir"
path = "Maildir"                    # one RFC 5322 file per message in Maildir/new
domain = "example.com"
"""


def default_config_text(registry: Registry) -> str:
    """The embedded defaults as TOML (the verifier only when its type is installed)."""
    has_dns = any(pt.name == "dns" for pt in registry.provider_types("email_verification"))
    return _HEAD + (_VERIFY if has_dns else "") + _REST


@attrs.frozen
class Setup:
    config: GatewayConfig
    #: the config file, or where the embedded defaults are (or would be) written
    path: Path
    embedded: bool
    journal: Path


def resolve(
    config_path: Path | None,
    data_dir: Path | None,
    registry: Registry,
    *,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
) -> Setup:
    """Load the run's configuration (raises ``ConfigError`` listing every problem).

    A dry run writes nothing: the embedded defaults are read from text when the data folder
    has no config yet.
    """
    env = os.environ if env is None else env
    found = find_config(config_path, env=env)
    embedded = found is None
    if found is None:
        folder = (data_dir or DEFAULT_DATA_DIR).absolute()
        found = folder / CONFIG_FILENAME
        if not found.exists():
            text = default_config_text(registry)
            if dry_run:
                from aicmo_gateway.config.tables import ConfigLoader

                config = ConfigLoader(str(found), env, registry, folder).load(tomllib.loads(text))
                return Setup(config, found, True, _journal(config, found))
            folder.mkdir(parents=True, exist_ok=True)
            found.write_text(text, encoding="utf-8")
    config = load_config(found, env=env, registry=registry)
    return Setup(config, found.absolute(), embedded, _journal(config, found))


def _journal(config: GatewayConfig, path: Path) -> Path:
    journal = config.pipeline.journal
    return journal if journal is not None else path.absolute().parent / "pipeline.db"


def result_paths(config: GatewayConfig) -> list[tuple[str, Path]]:
    """Where a person looks at the results: each Maildir and SQLite CRM the chains use."""
    found: list[tuple[str, Path]] = []
    wanted = {"email_sending": ("maildir", "messages"), "crm_sync": ("sqlite", "CRM")}
    for capability, (type_name, what) in wanted.items():
        chain = config.capabilities.get(capability)
        for name in chain.providers if chain is not None else ():
            provider = config.providers.get(name)
            if provider is None or provider.type != type_name:
                continue
            raw = provider.settings.get("path")
            if isinstance(raw, str):
                path = Path(raw)
                if not path.is_absolute() and config.base_dir is not None:
                    path = config.base_dir / path
                found.append((what, path))
    return found


def _sqlite_path(url: str | None, base: Path | None) -> Path | None:
    if not url or not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///"))
    return base / path if not path.is_absolute() and base is not None else path


def make_folders(setup: Setup) -> None:
    """Create the folders of the run's SQLite files (outbox, suppression list, journal)."""
    config = setup.config
    for path in (
        _sqlite_path(config.outbox.url if config.outbox else None, config.base_dir),
        _sqlite_path(config.email.suppression, config.email.base_dir),
        setup.journal,
        *(p for _, p in result_paths(config)),
    ):
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError:  # the provider, or the outbox, says what is wrong when used
                continue


def suppression_file(config: GatewayConfig) -> Path | None:
    """The suppression list's SQLite file, when it is one."""
    return _sqlite_path(config.email.suppression, config.email.base_dir)
