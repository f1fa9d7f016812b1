"""Starting the app: the state of one territory, then uvicorn on a local port.

Owns: :func:`serve` and :func:`is_loopback` (the host check behind the CLI's warning).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    territory: Any, *, host: str = "127.0.0.1", port: int = 8000, winter: bool = True
) -> None:
    """Open ``territory`` (as :func:`accessibility.app.state.open_state`), build its
    base season, start the winter one in the background, serve until interrupted."""
    import uvicorn

    from accessibility.app.api import create_app
    from accessibility.app.state import open_state

    state = open_state(territory, winter=winter)
    state.warm(("base",))
    if winter:  # the winter scenario takes a few seconds more: built while the page loads
        threading.Thread(target=state.warm, args=(("winter",),), daemon=True).start()
    app = create_app(state)
    log.info("serving %s on http://%s:%d", state.territory_name, host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning")
