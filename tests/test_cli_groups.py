"""The `ehc` script loads one command group at a time: each must still answer by its own name."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import GROUPS, build


@pytest.mark.parametrize("command", sorted(GROUPS))
def test_each_command_answers_when_only_its_group_is_loaded(command):
    result = CliRunner().invoke(build([GROUPS[command]]), [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and command in result.output.split("Usage: ", 1)[1].splitlines()[0]
