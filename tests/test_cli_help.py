"""``nutag --help`` and every sub-command's ``--help`` say what it does, with an example."""

from __future__ import annotations

import argparse

import pytest

import _robust_toy as rt
from nutag import cli


def _commands() -> list[str]:
    parser = cli.build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(subs[0].choices)


def test_top_level_help() -> None:
    proc = rt.nutag("--help", check=True)
    assert "example" in proc.stdout.lower()
    for command in _commands():
        assert command in proc.stdout


def test_no_command_prints_help_and_fails() -> None:
    proc = rt.nutag()
    assert proc.returncode != 0 and "usage: nutag" in proc.stdout


@pytest.mark.parametrize("command", _commands())
def test_subcommand_help_has_an_example(command: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert f"nutag {command}" in text
    assert "example" in text.lower(), f"`nutag {command} --help` shows no example"
    assert f"nutag {command} " in text.split("example", 1)[-1].lower() or \
        f"nutag {command}" in text.lower().split("example", 1)[-1], "the example is not a command"
