"""Argument parsing shared by the commands."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # argparse's class is generic only to the type checker
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def command_group(commands: Commands, name: str, help_text: str, *, dest: str) -> Commands:
    """A command made of subcommands (`image-service token create`, …); one is required."""
    return commands.add_parser(name, help=help_text).add_subparsers(dest=dest, required=True)
