"""The mlex command: one-line errors with exit code 2, users and keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlex_cli.main import build_parser, main


def run_mlex(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlex_cli", *args],
        capture_output=True,
        text=True,
        env={"MLEX_HOME": str(home), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bogus"], "invalid choice: 'bogus'"),
        (["api", "content", "--port", "99999"], "invalid port 99999"),
        (["api", "content", "--port", "abc"], "invalid port 'abc'"),
        (["api", "nothing"], "invalid choice: 'nothing'"),
        (["up", "--base-port", "65500"], "ports would exceed 65535"),
        (["users", "add", "x", "--role", "king"], "invalid choice: 'king'"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("mlex: error: ")
    assert message in err


def test_users_and_keys_round_trip(tmp_path: Path) -> None:
    added = run_mlex("users", "add", "alice", "--role", "user", home=tmp_path)
    assert added.returncode == 0, added.stderr
    again = run_mlex("users", "add", "alice", home=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip() == "mlex: error: user 'alice' already exists"
    listed = run_mlex("users", "list", home=tmp_path)
    assert "alice\tuser" in listed.stdout

    created = run_mlex("keys", "create", "alice", "--name", "laptop", home=tmp_path)
    assert created.returncode == 0
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("mlex_") and len(key) > 40
    keys = run_mlex("keys", "list", home=tmp_path)
    assert "active" in keys.stdout and key not in keys.stdout
    key_id = keys.stdout.split("\t", 1)[0]
    revoked = run_mlex("keys", "revoke", key_id, home=tmp_path)
    assert revoked.returncode == 0
    assert "revoked" in run_mlex("keys", "list", home=tmp_path).stdout
    assert key.encode() not in (tmp_path / "auth.db").read_bytes()

    unknown = run_mlex("keys", "create", "nobody", home=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "mlex: error: unknown user 'nobody'"


def test_every_documented_subcommand_exists() -> None:
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(choices) >= {
        "up",
        "api",
        "worker",
        "frontends",
        "tiled",
        "users",
        "keys",
        "demo-data",
    }
