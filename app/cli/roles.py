"""`image-service role create | list`: custom roles from permission sets."""

from __future__ import annotations

import argparse

from app.auth.permissions import Access
from app.cli.access_runner import print_table, run_with_access
from app.cli.arguments import command_group
from app.config import Settings
from app.services.access import AccessService

# READ and READ_WRITE as short forms of upstream's access names
_ACCESS_NAMES = {
    "READ": Access.READ_ACCESS,
    "READ_ACCESS": Access.READ_ACCESS,
    "READ_WRITE": Access.READ_WRITE_ACCESS,
    "READ_WRITE_ACCESS": Access.READ_WRITE_ACCESS,
}


def permission(text: str) -> tuple[str, Access]:
    """`--permission Image=READ`: a resource and its access."""
    resource, sep, access = text.partition("=")
    level = _ACCESS_NAMES.get(access.strip().upper())
    if not sep or not resource.strip() or level is None:
        raise argparse.ArgumentTypeError(
            f"invalid permission {text!r}: use RESOURCE=ACCESS, ACCESS one of "
            "READ, READ_WRITE (or READ_ACCESS, READ_WRITE_ACCESS)"
        )
    return resource.strip(), level


def add_role_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    role_commands = command_group(commands, "role", "manage custom roles", dest="subcommand")
    create = role_commands.add_parser("create", help="define a custom role")
    create.add_argument("name", metavar="NAME")
    create.add_argument(
        "--permission",
        type=permission,
        action="append",
        required=True,
        metavar="RESOURCE=ACCESS",
        help="e.g. Image=READ or WatchedImage=READ_WRITE (repeatable)",
    )
    create.add_argument("--description", default="", help="what the role is for")
    role_commands.add_parser("list", help="list the built-in and custom roles")


async def run_role_command(settings: Settings, args: argparse.Namespace) -> int:
    command = f"role {args.subcommand}"
    if args.subcommand == "create":
        return await run_with_access(settings, command, lambda access: _create(access, args))
    return await run_with_access(settings, command, _list)


async def _create(access: AccessService, args: argparse.Namespace) -> None:
    permissions: dict[str, Access] = {}
    for resource, level in args.permission:
        permissions[resource] = max(level, permissions.get(resource, Access.NO_ACCESS))
    role = await access.create_role(args.name, permissions, args.description)
    print(f"created role {role.name}")


async def _list(access: AccessService) -> None:
    rows = [
        [
            role.name,
            "built-in" if role.built_in else "custom",
            role.description or "-",
            ", ".join(f"{r}={_short(a)}" for r, a in sorted(role.permissions.items())) or "-",
        ]
        for role in await access.list_roles()
    ]
    print_table(["NAME", "KIND", "DESCRIPTION", "PERMISSIONS"], rows)


def _short(access: Access) -> str:
    return access.name.removesuffix("_ACCESS")
