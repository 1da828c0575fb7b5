"""Local stand-ins for the channels: a Slack/Mattermost-style webhook, a Teams Workflows
endpoint (HTTPS, self-signed), and an SMTP server (aiosmtpd). Each records what it received.

A receiver can be made "down": it answers 503 to the next ``down`` requests, as a webhook
service in an outage does; the notifier must retry it later and deliver once.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


class HttpReceiver:
    """A webhook endpoint on 127.0.0.1; with ``tls_dir`` it serves HTTPS with a self-signed
    certificate (``cert``: point ``REQUESTS_CA_BUNDLE`` at it, verification stays on)."""

    def __init__(self, tls_dir: Path | None = None) -> None:
        self.received: list[Received] = []
        self.refused = 0
        self.down = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    if receiver.down > 0:
                        receiver.down -= 1
                        receiver.refused += 1
                        self.send_response(503)
                        self.end_headers()
                        return
                    try:
                        body: Any = json.loads(raw)
                    except ValueError:
                        body = raw.decode("utf-8", "replace")
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                # Slack's incoming webhooks answer a plain "ok"; the others, JSON.
                slack = self.path.startswith("/services/")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if slack else "application/json")
                self.end_headers()
                self.wfile.write(b"ok" if slack else b'{"ok": true}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.cert = None
        if tls_dir is not None:
            cert, key = self_signed(tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.cert = cert
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "receiver.crt", folder / "receiver.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    subject: str
    body: str


@dataclass
class SmtpReceiver:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it is given."""

    mails: list[Mail] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                msg = message_from_bytes(envelope.content, policy=policy.default)
                part = msg.get_body(preferencelist=("plain", "html"))
                body = part.get_content() if part is not None else ""
                receiver.mails.append(
                    Mail(envelope.mail_from, list(envelope.rcpt_tos), str(msg["Subject"]), body)
                )
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def url(self, to: str = "cm-fr@example.com") -> str:
        return (
            f"mailto://127.0.0.1:{self.port}?from=storyline@example.com&to={to}"
            "&mode=insecure&name=Storyline"
        )

    def close(self) -> None:
        self.controller.stop()


class Hanging:
    """A server that accepts connections and never answers: a channel stuck in an outage."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = threading.Event()
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()
