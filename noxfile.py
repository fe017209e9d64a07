"""Every check runs through nox: ``nox`` runs the default set, ``nox -l`` lists sessions."""

from __future__ import annotations

import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent / "tools"))
import core_floors

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = False
# Test on every supported Python that is installed; CI machines need not have all of them.
nox.options.error_on_missing_interpreters = False
# Not in the default set: plugin_floor (every plugin's tests again, on the core of its floor,
# about as long as plugin_tests itself); run it before merging a change to core/ or to a floor.
nox.options.sessions = [
    "tests",
    "plugin_tests",
    "abuse",
    "installed_wheels",
    "template",
    "audit",
    "lint",
    "typing",
    "docs",
]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)
PORTS = [
    "crm_sync",
    "email_sending",
    "email_verification",
    "lead_enrichment",
    "reply_fetching",
    "social_posting",
    "webhook_dispatch",
]
PLUGINS = sorted(p.parent.name for p in (ROOT / "plugins").glob("*/pyproject.toml"))
#: the locked test environment: every distribution the core and the plugins install with [test]
CONSTRAINTS = "constraints/test.txt"
TEST_INSTALL = ("-e", ".[test]", *(f"-e./plugins/{name}[test]" for name in PLUGINS))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The core's tests and the cross-package integration tests."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS[0])
@nox.parametrize("plugin", PLUGINS)
def plugin_tests(session: nox.Session, plugin: str) -> None:
    """One plugin's own tests, in an install of the core and that plugin alone.

    One session per plugin, so a failing plugin never hides the others' results.
    """
    session.install("-e", ".", "-e", f"plugins/{plugin}[test]")
    session.run("pytest", f"plugins/{plugin}/tests", *session.posargs)


@nox.session(python=PYTHONS[0])
@nox.parametrize("plugin", PLUGINS)
def plugin_floor(session: nox.Session, plugin: str) -> None:
    """One plugin's tests on the lowest core it declares, then on the repository's core.

    The floor's core is built with ``git archive`` from the commit that released it (the one
    that set ``version`` in ``pyproject.toml``, see tools/core_floors.py); when the floor is the
    repository's core (its own version, or a release with the core unchanged since), the tests
    run once.
    """
    floor = core_floors.resolve(plugin)
    session.log(floor.describe())
    tests = ("pytest", f"plugins/{plugin}/tests", "-p", "no:cacheprovider", *session.posargs)
    if floor.is_repository:
        session.install("-e", ".", "-e", f"plugins/{plugin}[test]")
        session.run(*tests)
        return
    assert floor.commit is not None
    source = Path(session.create_tmp()) / f"core-{floor.version}"
    shutil.rmtree(source, ignore_errors=True)
    archive = source.parent / f"core-{floor.version}.tar"
    session.run("git", "archive", "--format=tar", "-o", str(archive), floor.commit, external=True)
    with tarfile.open(archive) as tar:
        tar.extractall(source, filter="data")
    # the floor's core, not editable, with the plugin, whose requirement that core meets
    session.install(str(source), "-e", f"plugins/{plugin}[test]")
    session.run("python", "-c", _SHOW_CORE)
    session.run(*tests)
    session.log(f"{plugin}: now on the repository's core")
    session.install("-e", ".")
    session.run(*tests)


_SHOW_CORE = (
    "import aicmo_gateway, importlib.metadata as m; "
    "print('core', m.version('aicmo-gateway'), 'from', aicmo_gateway.__file__)"
)


@nox.session(python=PYTHONS[0])
def installed_wheels(session: nox.Session) -> None:
    """The core and the webhooks plugin built as wheels and installed without -e; a chain runs.

    Proves that an installed distribution (not a checkout) works: the entry point is found,
    ``aicmo-gateway plugins --json`` lists it, and a chain delivers through it.
    """
    dist = Path(session.create_tmp()) / "dist"
    session.run(
        "python", "-m", "pip", "wheel", "--no-deps", "-w", str(dist), ".", "plugins/webhooks"
    )
    session.install("-c", CONSTRAINTS, *(str(wheel) for wheel in sorted(dist.glob("*.whl"))))
    session.run("python", "tests/installed/check_installed.py", env={"PYTHONPATH": ""})


@nox.session(python=PYTHONS[0])
@nox.parametrize("port", PORTS)
def template(session: nox.Session, port: str) -> None:
    """``aicmo-gateway new-plugin`` for one port: the rendered distribution installs and
    passes its own tests, ruff and mypy --strict, so the template cannot rot."""
    session.install("-e", ".", "ruff", "mypy")
    # outside .nox: ruff leaves folders named .nox out of its checks
    target = Path(tempfile.mkdtemp(prefix="aicmo-template-"))
    name = "demo-" + port.replace("_", "-")
    session.run("aicmo-gateway", "new-plugin", name, "--port", port, "--dir", str(target))
    folder = target / f"aicmo-gateway-{name}"
    session.install("-e", f"{folder}[test]")
    with session.chdir(folder):
        session.run("pytest", *session.posargs)
        session.run("ruff", "check", ".")
        session.run("ruff", "format", "--check", ".")
        session.run("mypy", "--strict", "aicmo_gateway_" + name.replace("-", "_"))
    shutil.rmtree(target)


@nox.session(python=PYTHONS[0])
def abuse(session: nox.Session) -> None:
    """The abuse suite: injection, leaks, malformed configs, fuzzing and poison input."""
    session.install(*TEST_INSTALL)
    session.run("pytest", "tests/abuse", *session.posargs)


@nox.session(python=PYTHONS[0])
def audit(session: nox.Session) -> None:
    """Dependencies against security/advisories.toml, offline: declared floors, the lock, installs.

    ``nox -s audit -- --online`` also runs pip-audit over the lock (needs the internet).
    """
    session.install("-c", CONSTRAINTS, *TEST_INSTALL)
    session.run("python", "security/audit.py", "floors")
    session.run("python", "security/audit.py", "pins", CONSTRAINTS)
    session.run("python", "security/audit.py", "installed")
    if "--online" in session.posargs:
        session.install("pip-audit>=2.7")
        session.run("pip-audit", "--strict", "--no-deps", "--disable-pip", "-r", CONSTRAINTS)


@nox.session(python=PYTHONS[0])
def lock(session: nox.Session) -> None:
    """Re-resolve the test environment and write its versions to constraints/test.txt."""
    session.install(*TEST_INSTALL)
    frozen = session.run("pip", "freeze", "--exclude-editable", silent=True)
    assert isinstance(frozen, str)
    pins = sorted(
        (line for line in frozen.splitlines() if "==" in line and not line.startswith("#")),
        key=str.lower,
    )
    header = (
        "# The locked test environment: the core and every plugin with their [test] extras,\n"
        f"# resolved on Python {session.python}. `nox -s audit` installs and checks it;\n"
        "# regenerate with `nox -s lock` after changing a dependency.\n"
    )
    (ROOT / CONSTRAINTS).write_text(header + "\n".join(pins) + "\n", encoding="utf-8")
    session.log(f"wrote {len(pins)} pins to {CONSTRAINTS}")


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHONS[0])
def typing(session: nox.Session) -> None:
    """mypy, strict, over the core package and each plugin package."""
    session.install("-e", ".[test]", "mypy>=1.10", *(f"-e./plugins/{name}" for name in PLUGINS))
    session.run("mypy")
    for name in PLUGINS:
        session.run("mypy", "--strict", f"plugins/{name}/aicmo_gateway_{name}")


@nox.session(python=PYTHONS[0])
def docs(session: nox.Session) -> None:
    """Build the documentation; warnings are errors."""
    session.install("-e", ".", "mkdocs>=1.6")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(session.create_tmp() + "/site"))


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """SMTP throughput: pooled connections vs a new smtplib connection per message."""
    session.install("-e", ".", "-e", "plugins/smtp[test]")
    session.run("python", "benchmarks/smtp_throughput.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench_ledger(session: nox.Session) -> None:
    """The idempotency ledger: CPU time per write as it fills to its bound, memory kept."""
    session.install("-e", ".")
    session.run("python", "benchmarks/ledger.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench_mime(session: nox.Session) -> None:
    """Rendering one message: the standard library's path vs render_message's fast path."""
    session.install("-e", ".")
    session.run("python", "benchmarks/mime_render.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench_chain(session: nox.Session) -> None:
    """Chain scenarios and overhead versus tenacity+aiobreaker+timeout and LiteLLM's Router."""
    session.install("-e", ".[test]", "tenacity>=9", "aiobreaker>=1.2", "litellm")
    session.run("python", "-m", "benchmarks.run", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench_store(session: nox.Session) -> None:
    """The SQLite and Redis state stores against memory: per-call overhead and throughput."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks.stores", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench_startup(session: nox.Session) -> None:
    """Start-up time: import, --help and plugins with every in-repository plugin installed."""
    session.install(".", *(f"./plugins/{name}" for name in PLUGINS))
    session.run("python", "benchmarks/startup.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench_outbox(session: nox.Session) -> None:
    """Outbox enqueue and replay rates on SQLite and PostgreSQL (a local server)."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/outbox_rates.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench_observers(session: nox.Session) -> None:
    """The cost of the Prometheus and OpenTelemetry plugins on a gateway call."""
    session.install("-e", ".", "-e", "plugins/prometheus", "-e", "plugins/otel[test]")
    session.run("python", "benchmarks/observers.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench_pipeline(session: nox.Session) -> None:
    """The lead pipeline on the embedded defaults: leads per second, peak memory on 100,000 rows."""
    session.install("-e", ".[pipeline]", "-e", "plugins/verify")
    session.run("python", "benchmarks/pipeline.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def demo(session: nox.Session) -> None:
    """Run the demo on the built-in providers."""
    session.install(".")
    session.run("aicmo-gateway", "demo", "--dir", session.create_tmp() + "/demo")
