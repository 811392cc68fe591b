"""`image-service token create | list | revoke`: API tokens for operators with database access."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

from app.cli.access_runner import moment, print_table, run_with_access
from app.cli.arguments import command_group
from app.config import Settings
from app.services.access import DEFAULT_LIFETIME, AccessService

_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_DURATION = re.compile(r"(\d{1,6})([mhd])")


def lifetime(text: str) -> timedelta | None:
    """`--expires`: `90d`, `12h`, `30m`, or `never`."""
    if text.strip().lower() == "never":
        return None
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}: use a positive number of days, hours or minutes "
            "(90d, 12h, 30m) or never"
        )
    return int(match[1]) * _UNITS[match[2]]


def add_token_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token_commands = command_group(commands, "token", "manage API tokens", dest="subcommand")
    create = token_commands.add_parser(
        "create", help="issue a token and print only its secret on standard output"
    )
    create.add_argument("--name", required=True, help="what the token is for")
    create.add_argument(
        "--role", action="append", required=True, help="a role of the token (repeatable)"
    )
    create.add_argument(
        "--expires",
        type=lifetime,
        default=DEFAULT_LIFETIME,
        metavar="DURATION",
        help="lifetime: 90d, 12h, 30m or never (default 365d)",
    )
    token_commands.add_parser("list", help="list tokens (never their secrets)")
    revoke = token_commands.add_parser("revoke", help="revoke a token by id or name")
    revoke.add_argument("token", metavar="NAME_OR_ID")


async def run_token_command(settings: Settings, args: argparse.Namespace) -> int:
    command = f"token {args.subcommand}"
    if args.subcommand == "create":
        return await run_with_access(settings, command, lambda access: _create(access, args))
    if args.subcommand == "revoke":
        return await run_with_access(settings, command, lambda access: _revoke(access, args.token))
    return await run_with_access(settings, command, _list)


async def _create(access: AccessService, args: argparse.Namespace) -> None:
    lifetime: timedelta | None = args.expires
    expiration = None if lifetime is None else access.expiration_after(lifetime)
    secret, _ = await access.generate_token(
        name=args.name, roles=args.role, expiration=expiration, issuer=None
    )
    # only the secret on standard output: TOKEN=$(image-service token create …)
    print(secret, flush=True)


async def _revoke(access: AccessService, id_or_name: str) -> None:
    token = await access.revoke_token(id_or_name)
    print(f"revoked {token.id} ({token.name})")


async def _list(access: AccessService) -> None:
    rows = [
        [
            token.id,
            token.name,
            ", ".join(token.roles),
            moment(token.issued_at),
            moment(token.expiration),
            "yes" if token.revoked else "no",
        ]
        for token in await access.list_tokens()
    ]
    print_table(["ID", "NAME", "ROLES", "ISSUED", "EXPIRES", "REVOKED"], rows)
