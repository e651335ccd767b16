"""The one SMTP sender, configured by one URL (``EXCHANGE_SMTP_URL``).

``smtp://host:port`` sends in clear (a local relay or mail catcher), ``smtp+starttls://`` upgrades
with STARTTLS, ``smtps://`` speaks TLS from the start; ``user:password@`` in the URL logs in.
Certificates are always verified. ``file:///folder`` writes each message to ``folder/<id>.eml``
instead (the demo, and anyone who wants to see the mail without a server).

``Mailer`` keeps one connection for many messages (alert delivery sends thousands a minute); ``send``
is the one-message shortcut. A 5xx answer is ``MailRefused`` (the address will not work: do not
retry), anything else that fails is ``MailFailed`` (try again later). Sending is synchronous:
callers are request threads and jobs, which wait anyway.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import make_msgid
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

import dkim

from exchange.core.errors import ExchangeError
from exchange.core.turns import leave_turn

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 15
_DKIM_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type",
                 b"list-unsubscribe", b"list-unsubscribe-post"]
_FILE_NAME_JUNK = re.compile(r"[^A-Za-z0-9._@-]+")
# The compat32 classes and policy, not EmailMessage: we write every header ourselves, so the header
# registry's parsing and refolding only cost time (two thirds of building a message, measured in
# decision 0012). Readers see the same message.
_WIRE = compat32.clone(linesep="\r\n")
_MAX_LINE = 998  # RFC 5321, bytes
_UTF8_8BIT, _UTF8_QP = Charset("utf-8"), Charset("utf-8")
_UTF8_8BIT.body_encoding = None  # type: ignore[assignment]  # None: 8bit (typeshed lists only QP, BASE64)
_UTF8_QP.body_encoding = QP


class MailFailed(ExchangeError):
    status = 502
    title = "Mail not sent"


class MailRefused(MailFailed):
    """The server refused for good (5xx): the address does not work."""


class Dkim:
    """A DKIM signer: ``key`` is a PEM private key, or the path of a file holding one."""

    def __init__(self, domain: str, selector: str, key: str) -> None:
        self.domain, self.selector = domain.encode(), selector.encode()
        self.key = (key if "-----BEGIN" in key else Path(key).read_text()).encode()

    def sign(self, raw: bytes) -> bytes:
        return bytes(dkim.sign(raw, self.selector, self.domain, self.key, include_headers=_DKIM_HEADERS)) + raw


def compose(*, sender: str, to: str, subject: str, body: str, html: str | None = None,
            message_id: str | None = None, headers: dict[str, str] | None = None) -> Message:
    """A text message, or text + HTML alternatives; no attachments."""
    message: Message = _text(body, "plain")
    if html is not None:
        message = MIMEMultipart("alternative", _subparts=[message, _text(html, "html")])
    message["From"], message["To"] = sender, to
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
    message["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, value in (headers or {}).items():
        message[name] = value
    return message


def _text(text: str, subtype: str) -> MIMENonMultipart:
    """UTF-8 as it is (8bit) when every line fits SMTP's limit, as the mail is then readable raw;
    quoted-printable otherwise."""
    fits = all(len(line.encode()) <= _MAX_LINE for line in text.splitlines())
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, _UTF8_8BIT if fits else _UTF8_QP)
    return part


class Mailer:
    """One connection to the mail server, opened on the first message and reopened after a drop."""

    def __init__(self, smtp_url: str, *, dkim_signer: Dkim | None = None) -> None:
        self.url = urlsplit(smtp_url)
        if self.url.scheme != "file" and (self.url.scheme not in _DEFAULT_PORTS or not self.url.hostname):
            raise MailFailed("EXCHANGE_SMTP_URL must be smtp://, smtp+starttls:// or smtps://host[:port], "
                             f"or file:///folder, not {self.url.scheme!r}")
        self.dkim = dkim_signer
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (OSError, smtplib.SMTPException):
                self._client.close()
            self._client = None

    def send(self, message: Message, *, envelope_from: str | None = None) -> None:
        """Send; ``envelope_from`` is the return path bounces go to (default: the From address)."""
        raw = message.as_bytes(policy=_WIRE)
        if self.dkim is not None:
            raw = self.dkim.sign(raw)
        if self.url.scheme == "file":
            folder = Path(unquote(self.url.path))
            folder.mkdir(parents=True, exist_ok=True)
            name = _FILE_NAME_JUNK.sub("_", str(message["Message-ID"]).strip("<>"))
            if envelope_from:  # what the receiving server would add: the .eml shows where bounces go
                raw = f"Return-Path: <{envelope_from}>\r\n".encode() + raw
            (folder / f"{name}.eml").write_bytes(raw)
            return
        port = self.url.port or _DEFAULT_PORTS[self.url.scheme]
        where = f"the mail server at {self.url.hostname}:{port}"
        leave_turn()  # in a request (a sign-in link, a verification mail): up to the timeout, pages go on meanwhile
        try:
            client = self._connect(port)
            client.sendmail(envelope_from or str(message["From"]), [str(message["To"])], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise (MailRefused if code >= 500 else MailFailed)(f"{where} refused {message['To']}: {code} "
                                                               f"{text.decode(errors='replace')}") from None
        except (smtplib.SMTPResponseException) as exc:
            self.close()
            raise (MailRefused if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPSenderRefused)
                   else MailFailed)(f"{where} did not take the message: {exc.smtp_code} {exc.smtp_error!r}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailFailed(f"{where} did not take the message: {exc or type(exc).__name__}") from None

    def _connect(self, port: int) -> smtplib.SMTP:
        if self._client is not None:
            return self._client
        host = self.url.hostname or ""
        context = ssl.create_default_context()
        client = (smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
                  if self.url.scheme == "smtps" else smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS))
        try:
            if self.url.scheme == "smtp+starttls":
                client.starttls(context=context)
            if self.url.username:
                client.login(unquote(self.url.username), unquote(self.url.password or ""))
        except BaseException:
            client.close()
            raise
        self._client = client
        return client


def send(smtp_url: str, *, sender: str, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; MailFailed (502) when the server cannot be reached or refuses it."""
    with Mailer(smtp_url) as mailer:
        mailer.send(compose(sender=sender, to=to, subject=subject, body=body))
