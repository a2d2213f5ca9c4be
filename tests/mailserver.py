"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the e-mail tests, and the app set up to
send to it."""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from email import message_from_bytes
from email import policy as email_policy


class Collector:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [parse(e) for e in self.envelopes]

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        """The messages, once at least `count` have arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages()


def parse(envelope):
    return message_from_bytes(envelope.original_content, policy=email_policy.default)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtp_settings(port: int, **extra) -> dict:
    return {"TRACKER_SMTP_HOST": "127.0.0.1", "TRACKER_SMTP_PORT": port,
            "TRACKER_SMTP_FROM": "tracker@quangninh.gov.vn", "TRACKER_SMTP_STARTTLS": False,
            "TRACKER_SMTP_USER": "", **extra}


@contextmanager
def running_smtp_server(app, **extra):
    """Start a local SMTP server and point the app at it; yields its Collector."""
    from aiosmtpd.controller import Controller

    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config.update(smtp_settings(controller.port, **extra))
        yield collector
    finally:
        controller.stop()
