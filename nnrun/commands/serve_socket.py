"""Where ``nnrun serve`` listens: the socket, bound before uvicorn starts, so that the
address is known (``--port 0``) and a taken port is a clear error, not a traceback."""

from __future__ import annotations

import errno
import socket

from nnrun.errors import UserError

HOST_HINT = ("choose another --host: 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or an address of "
             "this machine")
PORT_HINT = "choose another --port (0 picks a free one)"


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port), so the address is known, and
    connections wait in the backlog, before uvicorn starts accepting them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY)
    # only on sockets that say so, and with it on, a keep-alive client waits ~40 ms for
    # each response body (sent after its headers) on the delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint=_listen_hint(exc)) from None
    return sock


def _listen_hint(exc: OSError) -> str:
    """The option to change: --host for a name that does not resolve or an address this
    machine does not have, --port for one that is taken or not allowed."""
    if isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return HOST_HINT
    return PORT_HINT
