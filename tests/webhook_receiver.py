"""A real HTTP receiver for the webhook tests: a threaded http.server on 127.0.0.1 with a
random port, recording every request and answering as the test scripts it (a status, or a
pause longer than the sender's time limit)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    # What to do with each next request: a status (int), ("sleep", seconds, status), or
    # ("drip", seconds, status): the status line at once, then a header byte every tenth
    # of a second for that long (each read answered well within any time limit).
    script: list = field(default_factory=list)
    answer: bytes = b"ok"  # the body of every answer
    during: object = None  # called (no arguments) while a request is being answered

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"


def start() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.received.append(Received(self.path, dict(self.headers), body))
            action = receiver.script.pop(0) if receiver.script else 200
            if receiver.during is not None:
                receiver.during()
            if isinstance(action, tuple) and action[0] == "drip":
                _drip, seconds, status = action
                try:
                    self.wfile.write(f"HTTP/1.1 {status} OK\r\nX-Slow: ".encode())
                    self.wfile.flush()
                    for _ in range(int(seconds * 10)):
                        time.sleep(0.1)
                        self.wfile.write(b"a")
                        self.wfile.flush()
                    self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass
                return
            if isinstance(action, tuple):
                _sleep, seconds, action = action
                time.sleep(seconds)
            try:
                self.send_response(action)
                answer = receiver.answer
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the sender gave up waiting
                pass

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
