"""One round of a background loop, its failure logged and never raised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from storage.errors import StorageError


async def logged_round(
    run: Callable[[], Awaitable[object]], what: str, log: logging.Logger
) -> None:
    """Run a round; a busy or absent store is one warning line (the next round tries again),
    anything else a logged traceback. Cancellation passes through."""
    try:
        await run()
    except asyncio.CancelledError:
        raise
    except StorageError as exc:
        log.warning("%s failed: %s", what, exc)
    except Exception:
        log.exception("%s failed", what)
