"""The `image-service` command: serve, import, seed, vulndb import and sync, token and role
management."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from app.cli.arguments import command_group
from app.cli.roles import add_role_commands, run_role_command
from app.cli.tokens import add_token_commands, run_token_command
from app.config import Settings, SettingsError, load_settings

LOCAL_STORE_PORT = 27017


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="image-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the REST API")
    serve.add_argument("--host", help="listen address (IMAGE_SERVICE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (IMAGE_SERVICE_PORT, default 8080)")
    serve.add_argument(
        "--local-store",
        metavar="DIR",
        type=Path,
        help="start a local nx-27017 store with its data in DIR and use it",
    )
    serve.add_argument(
        "--local-store-port", type=int, default=LOCAL_STORE_PORT, help="port of the local store"
    )
    imp = commands.add_parser(
        "import", help="load images from NDJSON (storage.Image or export lines)"
    )
    imp.add_argument("path", help="file to read; - for standard input; .gz is decompressed")
    imp.add_argument("--skip-invalid", action="store_true", help="import the valid lines anyway")
    imp.add_argument("--batch-size", type=int, default=100, help="images per write")
    seed = commands.add_parser("seed", help="store reproducible synthetic images")
    seed.add_argument("--count", type=int, required=True)
    seed.add_argument("--seed", type=int, default=0)
    seed.add_argument("--profile", choices=["small", "realistic"], default="small")
    seed.add_argument("--out", help="write export-style NDJSON to this file (- = stdout) instead")
    vulndb_commands = command_group(
        commands, "vulndb", "manage the vulnerability feed", dest="vulndb_command"
    )
    vulndb_import = vulndb_commands.add_parser(
        "import", help="load OSV advisories from a directory of JSON files or an osv.dev .zip"
    )
    vulndb_import.add_argument("path", type=Path, help="directory, .zip or .json file")
    vulndb_import.add_argument(
        "--no-progress", action="store_true", help="no progress bar on standard error"
    )
    vulndb_sync = vulndb_commands.add_parser(
        "sync", help="fetch the ecosystems' OSV archives (osv.dev's layout) and import what changed"
    )
    vulndb_sync.add_argument(
        "--url", help="base URL of the archives (IMAGE_SERVICE_VULNDB_URL, default osv.dev's)"
    )
    vulndb_sync.add_argument(
        "--ecosystem",
        action="append",
        default=[],
        metavar="NAME",
        help="an ecosystem to sync, repeatable (IMAGE_SERVICE_VULNDB_ECOSYSTEMS; default: "
        "those the matcher compares)",
    )
    vulndb_sync.add_argument(
        "--no-progress", action="store_true", help="no progress bar on standard error"
    )
    add_token_commands(commands)
    add_role_commands(commands)
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        print(f"image-service: configuration error: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    if args.command == "serve":
        from app.cli.serve import run_serve

        return run_serve(
            settings,
            host=args.host,
            port=args.port,
            local_store=args.local_store,
            local_store_port=args.local_store_port,
        )
    if args.command == "vulndb":
        return _vulndb(settings, args)
    if args.command == "token":
        return asyncio.run(run_token_command(settings, args))
    if args.command == "role":
        return asyncio.run(run_role_command(settings, args))
    if args.command == "import":
        from app.cli.import_images import run_import

        return asyncio.run(run_import(settings, args.path, args.skip_invalid, args.batch_size))
    from app.cli.seed import run_seed, write_seed

    if args.count < 0:
        print("image-service seed: --count must be >= 0", file=sys.stderr)
        return 2
    if args.out is not None:
        return write_seed(args.count, args.seed, args.profile, args.out)
    return asyncio.run(run_seed(settings, args.count, args.seed, args.profile))


def _vulndb(settings: Settings, args: argparse.Namespace) -> int:
    from app.cli.vulndb import run_vulndb_import

    if args.vulndb_command == "sync":
        from app.cli.vulndb_sync import run_vulndb_sync

        return asyncio.run(
            run_vulndb_sync(
                settings, url=args.url, ecosystems=args.ecosystem, progress=not args.no_progress
            )
        )

    if not args.path.exists():  # said before trying to reach the database
        print(f"image-service vulndb import: {args.path} does not exist", file=sys.stderr)
        return 2
    return asyncio.run(run_vulndb_import(settings, args.path, progress=not args.no_progress))
