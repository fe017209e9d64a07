"""The opt-in pytest plugin for authors: its fixtures, and that it is never autoloaded."""

from __future__ import annotations

import textwrap
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

KIT = "aicmo_gateway.testing.pytest_plugin"


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(textwrap.dedent(source))
    return pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", *args)


def test_the_fixtures_build_a_registry_and_a_gateway_from_a_registered_plugin(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        from aicmo_gateway.ports import EmailMessage
        from aicmo_gateway.testing import FakeProvider, fake_config, fake_plugin

        def test_registered(register_plugin, aicmo_registry):
            register_plugin(fake_plugin(primary=FakeProvider(name="primary")), name="fakes")
            assert aicmo_registry.get("crm_sync", "fake").name == "fake"
            assert [p.name for p in aicmo_registry.plugins] == ["builtin", "fakes"]

        def test_gateway(register_plugin, make_gateway, virtual_loop):
            primary = FakeProvider(name="primary")
            register_plugin(fake_plugin(primary=primary), name="fakes")
            gateway = make_gateway(fake_config("email_sending", "primary"))
            message = EmailMessage(to="a@example.com", sender="b@example.com", subject="s",
                                   text="t")
            async def scenario():
                async with gateway:
                    return await gateway.email_sending.send(message)
            outcome = virtual_loop.run_until_complete(scenario())
            assert outcome.provider == "primary"
            assert len(primary.calls) == 1

        def test_nothing_installed_is_discovered(aicmo_registry):
            assert [p.name for p in aicmo_registry.plugins] == ["builtin"]

        def test_a_name_registers_once(register_plugin):
            register_plugin(object(), name="x")
            try:
                register_plugin(object(), name="x")
            except ValueError as error:
                assert "already registered" in str(error)
            else:
                raise AssertionError("registered twice")
        """,
        "-p",
        KIT,
    )
    result.assert_outcomes(passed=4)


def test_virtual_loop_skips_time(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import asyncio

        def test_a_day(virtual_loop):
            virtual_loop.run_until_complete(asyncio.sleep(86400))
            assert virtual_loop.clock.now == 86400
        """,
        "-p",
        KIT,
    )
    result.assert_outcomes(passed=1)


def test_log_lines_captures_the_core_and_plugin_packages_then_disables_them(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        aicmo_gateway_demo=textwrap.dedent(
            """
            from loguru import logger
            logger.disable("aicmo_gateway_demo")

            def work():
                logger.info("working with {}", "care")
            """
        )
    )
    result = run(
        pytester,
        """
        from loguru import logger
        import aicmo_gateway_demo

        def test_captured(log_lines):
            aicmo_gateway_demo.work()
            assert log_lines == ["INFO working with care"]

        def test_disabled_again():
            seen = []
            handler = logger.add(seen.append)
            aicmo_gateway_demo.work()
            logger.remove(handler)
            assert seen == []
        """,
        "-p",
        KIT,
    )
    result.assert_outcomes(passed=2)


def test_without_opting_in_the_fixtures_do_not_exist(pytester: pytest.Pytester) -> None:
    result = run(pytester, "def test_x(aicmo_registry):\n    pass\n")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'aicmo_registry' not found*"])


def test_the_core_declares_no_pytest11_entry_point() -> None:
    assert not [e for e in entry_points(group="pytest11") if e.value.startswith("aicmo_gateway")]
