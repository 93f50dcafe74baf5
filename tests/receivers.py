"""Real receivers for delivery tests: an SMTP server (aiosmtpd) and an HTTP endpoint.

Both listen on 127.0.0.1 on a free port, in their own thread, and record what
they receive.  The HTTP receiver can fail its first N requests (HTTP 500),
answer like a group robot (``{"errcode": 0}``) or redirect elsewhere.  For the
slow-receiver tests it can also ``drip`` (read the request, then send its answer
one byte per ``drip_every`` seconds) or ``hang`` (read the request, never
answer); ``refused_url()`` is an address where nothing listens.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Collect:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content,
                                                      policy=email.policy.default))
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """``with SmtpReceiver() as smtp: ... smtp.messages``"""

    def __init__(self) -> None:
        self.handler = _Collect()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self):
        return self.handler.messages

    @property
    def envelopes(self):
        return self.handler.envelopes

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class HttpReceiver:
    """``with HttpReceiver(fail_first=2) as hook: ... hook.bodies, hook.attempts``"""

    def __init__(self, fail_first: int = 0, answer: dict | None = None,
                 delay: float = 0.0, redirect_to: str | None = None, mode: str = "answer",
                 drip_every: float = 1.0) -> None:
        assert mode in ("answer", "drip", "hang")
        self.mode = mode
        self.drip_every = drip_every
        #: set on exit: drips and hangs stop, so no handler thread outlives the test
        self.released = threading.Event()
        self.fail_first = fail_first
        self.redirect_to = redirect_to
        self.answer = answer if answer is not None else {"errcode": 0, "errmsg": "ok"}
        self.delay = delay
        self.attempts = 0
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                with receiver.lock:
                    receiver.attempts += 1
                    failing = receiver.attempts <= receiver.fail_first
                    if not failing:
                        receiver.bodies.append(json.loads(data))
                if receiver.mode == "hang":
                    receiver.released.wait(120)
                    return
                if receiver.mode == "drip":
                    self._drip(json.dumps(receiver.answer).encode())
                    return
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                if receiver.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", receiver.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, body = (500, b"try again later") if failing else (
                    200, json.dumps(receiver.answer).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drip(self, body: bytes) -> None:
                answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                for byte in answer:
                    if receiver.released.wait(receiver.drip_every):
                        return
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:  # the sender gave up and closed the connection
                        return
                self.close_connection = True

            def log_message(self, *args):  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?key=test"

    def __enter__(self) -> HttpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def refused_url() -> str:
    """A webhook URL on 127.0.0.1 where nothing listens: the connection is refused."""
    return f"http://127.0.0.1:{free_port()}/robot/send?key=test"
