"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1), and a port where nothing listens.

`tests/conftest.py` loads this module as a plugin, so every test can ask for `smtp` or `dead_port`.
"""
import email
import email.policy
import socket
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass
class Received:
    """One message as the server got it: the SMTP envelope and the parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The decoded text, with the CRLF line ends of the wire turned back into newlines."""
        return self.message.get_content().replace("\r\n", "\n")


class SMTPServer:
    """An aiosmtpd server in its own thread that keeps every message it accepts in `received`."""

    host = HOST

    def __init__(self):
        self.received: list[Received] = []
        self.port = 0
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        # aiosmtpd 1.4.6 cannot bind to port 0 (start() connects to `self.port` to check it is
        # up), so ask the OS for a free port first; retry in the unlikely case it was taken meanwhile.
        for _ in range(5):
            self.port = free_port()
            controller = Controller(self, hostname=self.host, port=self.port, ready_timeout=5)
            try:
                controller.start()
            except Exception:  # noqa: BLE001 – the port was taken meanwhile (aiosmtpd raises several kinds)
                continue
            self._controller = controller
            return
        raise RuntimeError("could not start the test SMTP server")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def clear(self) -> None:
        self.received.clear()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A running SMTP server, and the app configured to send through it."""
    server = SMTPServer()
    server.start()
    app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_TIMEOUT=5)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dead_port():
    """A port bound but not listening for the whole test: connecting there is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]
