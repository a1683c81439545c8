"""The base of every `kechuang` management command.

A command parses arguments, calls one service and prints the outcome. Domain
errors become one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kechuang.core.errors import DomainError
from kechuang.core.middleware import request_context


class KechuangCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            # One id groups every audit entry this command writes.
            with request_context(channel="cli"):
                return super().execute(*args, **options)
        except DomainError as error:
            reasons = "；".join(
                str(problem)
                for problems in error.fields.values()
                for problem in (problems if isinstance(problems, list | tuple) else [problems])
            )
            message = f"{error.message}（{reasons}）" if reasons else str(error.message)
            raise CommandError(message, returncode=1) from None
        except (ValueError, FileNotFoundError) as error:
            raise CommandError(str(error), returncode=1) from None

    def progress(self) -> Any:
        """A rich progress bar on a terminal, silent otherwise (CI logs stay readable)."""
        from rich.progress import Progress

        return Progress(disable=not sys.stderr.isatty(), transient=True)


@dataclass(frozen=True)
class Subcommand:
    """One verb of a command (``kechuang index build``): its arguments and its handler."""

    help: str
    add_arguments: Callable[[ArgumentParser], None]
    handle: Callable[[KechuangCommand, dict[str, Any]], None]


class SubcommandCommand(KechuangCommand):
    """A command made of verbs listed in ``subcommands``."""

    subcommands: ClassVar[dict[str, Subcommand]] = {}

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, subcommand in self.subcommands.items():
            subcommand.add_arguments(sub.add_parser(name, help=subcommand.help))

    def handle(self, *args: Any, **options: Any) -> None:
        self.subcommands[options["action"]].handle(self, options)
