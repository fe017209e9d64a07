"""``aicmo-gateway suppression`` and ``unsubscribe link``: manage the list from the shell."""

from __future__ import annotations

import json

from click.testing import CliRunner

from aicmo_gateway.cli import cli

SECRET = "cli-secret-value-0123456789abcdef"


def write_config(tmp_path, email: str = "") -> str:
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text(
        '[capabilities.email_sending]\nproviders = ["n"]\n[providers.n]\ntype = "noop"\n'
        + (f"[email]\n{email}\n" if email else ""),
        encoding="utf-8",
    )
    return str(path)


def run(config: str, *args: str, stdin: str | None = None):
    return CliRunner().invoke(
        cli, [args[0], args[1], "--config", config, *args[2:]], input=stdin, env={"S": SECRET}
    )


def test_add_list_and_remove_with_json(tmp_path):
    config = write_config(tmp_path)
    added = run(
        config,
        "suppression",
        "add",
        "Alice@Example.com",
        "@spam.example",
        "--reason",
        "complaint",
        "--json",
    )
    assert added.exit_code == 0, added.output
    assert [e["target"] for e in json.loads(added.output)] == ["alice@example.com", "@spam.example"]
    assert (tmp_path / "aicmo-suppression.db").exists()  # next to the config by default
    listed = json.loads(run(config, "suppression", "list", "--json").output)
    assert {e["reason"] for e in listed} == {"complaint"}
    assert "alice@example.com" in run(config, "suppression", "list").output
    removed = run(config, "suppression", "remove", "alice@example.com", "--json")
    assert json.loads(removed.output) == {"removed": {"alice@example.com": 1}}
    assert run(config, "suppression", "remove", "nobody@example.com").exit_code == 1


def test_import_a_csv_and_export_it_again(tmp_path):
    config = write_config(tmp_path)
    csv_text = (
        "email,reason,source\n"
        "a@example.com,hard_bounce,esp-export\n"
        "B@example.com,,\n"
        "\n"
        "@example.org,manual,legal\n"
    )
    done = run(
        config, "suppression", "import", "-", "--reason", "unsubscribed", "--json", stdin=csv_text
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"read": 3, "added": 3}
    again = run(
        config, "suppression", "import", "-", "--reason", "hard_bounce", stdin="a@example.com\n"
    )
    assert "read 1 entries, 0 new" in again.output
    exported = run(config, "suppression", "export")
    lines = exported.output.splitlines()
    assert lines[0] == "target,reason,source,created_at"
    assert any(line.startswith("b@example.com,unsubscribed,import,") for line in lines)
    round_trip = tmp_path / "copy.csv"
    round_trip.write_text(exported.output, encoding="utf-8")
    (tmp_path / "other").mkdir()
    other = write_config(tmp_path / "other")
    assert json.loads(run(other, "suppression", "import", str(round_trip), "--json").output) == {
        "read": 3,
        "added": 3,
    }
    assert len(json.loads(run(other, "suppression", "export", "--json").output)) == 3


def test_a_bad_csv_row_names_the_line(tmp_path):
    config = write_config(tmp_path)
    done = run(config, "suppression", "import", "-", stdin="address\nok@example.com\nnot-one\n")
    assert done.exit_code == 1
    assert "line 3" in done.output and "not-one" in done.output


def test_a_list_switched_off_says_so(tmp_path):
    config = write_config(tmp_path, 'suppression = "off"')
    done = run(config, "suppression", "list")
    assert done.exit_code == 1 and "off" in done.output


def test_unsubscribe_link_prints_the_headers_and_never_the_secret(tmp_path):
    config = write_config(
        tmp_path,
        'unsubscribe_url = "https://example.com/u/{token}"\nunsubscribe_secret = "${S}"',
    )
    done = run(config, "unsubscribe", "link", "alice@example.com", "--list", "news")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("List-Unsubscribe: <https://example.com/u/")
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in done.output
    assert SECRET not in done.output
    check = CliRunner().invoke(cli, ["config", "check", "--config", config], env={"S": SECRET})
    assert SECRET not in check.output
