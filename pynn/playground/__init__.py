"""``pynn playground``: train a small network in the browser and watch every number.

A page served by pynn itself on 127.0.0.1 (:mod:`pynn.playground.server`,
the standard library's HTTP server) where one network trains in pynn's
engine -- the current backend, C core or numpy -- while the learner
watches (:mod:`pynn.playground.session`): the decision regions, every
hidden neuron's output as a small map, the weights as coloured lines, the
loss curve, and for any weight the chain rule of the next step with its
numbers (:func:`pynn.explain_step` on a copy of the network).

>>> from pynn.playground import make_server
>>> server = make_server(port=0).start()      # a free port; serve in a thread
>>> server.url.startswith("http://127.0.0.1:") and "?token=" in server.url
True
>>> server.stop()

On the command line: ``pynn playground [--port N] [--no-browser] [--data CSV ...]``
(:func:`run`).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import webbrowser
from types import FrameType
from typing import Any, Dict, Optional, Sequence, TextIO

from .server import PlaygroundServer, make_server, new_session
from .session import Session

__all__ = ["PlaygroundServer", "Session", "make_server", "new_session", "run"]


def _has_display() -> bool:
    """False on a Linux/BSD machine without X or Wayland, where webbrowser would start a text-mode
    browser (lynx, w3m) in this terminal."""
    if sys.platform.startswith(("win", "darwin")) or os.environ.get("BROWSER"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class _Stop(BaseException):
    """Raised in the main thread by the SIGINT (Ctrl-C) and SIGTERM handler.
    Not an Exception, like KeyboardInterrupt: socketserver catches Exception
    around handing a connection to its thread, logs it and serves on, so a
    stop landing there was lost."""


def run(port: int = 0, open_browser: bool = True, data_paths: Sequence[str] = (),
        out: Optional[TextIO] = None) -> int:
    """Serve the playground until Ctrl-C or SIGTERM: print the URL (with its token) as the first
    line of ``out`` (stdout), open it in the browser unless ``open_browser`` is False, and
    return 0 after a clean stop.  ``data_paths``: CSV files offered as data sets (see
    :func:`pynn.playground.session.load_csv`)."""
    out = out or sys.stdout
    server = make_server(port=port, data_paths=tuple(data_paths))
    previous: Dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
        def on_signal(signum: int, frame: Optional[FrameType]) -> None:
            raise _Stop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # installed before the address is shown
            previous[sig] = signal.signal(sig, on_signal)
    try:
        print(server.url, file=out, flush=True)
        print("pynn playground: serving on 127.0.0.1 only (backend %s); open the address above. Ctrl-C stops it."
              % server.session.state()["backend"], file=out, flush=True)
        if open_browser and _has_display():
            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        elif open_browser:
            print("pynn playground: no display found; open the address above in a browser on this machine",
                  file=out, flush=True)
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        server.server_close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("pynn playground: stopped", file=out, flush=True)
    return 0
