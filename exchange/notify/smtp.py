"""A minimal SMTP sender on the standard library, configured by one URL (``EXCHANGE_SMTP_URL``).

``smtp://host:port`` sends in clear (a local relay or mail catcher), ``smtp+starttls://`` upgrades
with STARTTLS, ``smtps://`` speaks TLS from the start; ``user:password@`` in the URL logs in. Certificates
are always verified. Sending is synchronous: callers are request threads and jobs, which wait anyway.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from exchange.core.errors import ExchangeError

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 15


class MailFailed(ExchangeError):
    status = 502
    title = "Mail not sent"


def send(smtp_url: str, *, sender: str, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; MailFailed (502) when the server cannot be reached or refuses it."""
    url = urlsplit(smtp_url)
    if url.scheme not in _DEFAULT_PORTS or not url.hostname:
        raise MailFailed("EXCHANGE_SMTP_URL must be smtp://, smtp+starttls:// or smtps://host[:port], "
                         f"not {url.scheme!r}")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    port = url.port or _DEFAULT_PORTS[url.scheme]
    context = ssl.create_default_context()
    try:
        client = (smtplib.SMTP_SSL(url.hostname, port, timeout=TIMEOUT_SECONDS, context=context)
                  if url.scheme == "smtps" else smtplib.SMTP(url.hostname, port, timeout=TIMEOUT_SECONDS))
        with client:
            if url.scheme == "smtp+starttls":
                client.starttls(context=context)
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailFailed(f"the mail server at {url.hostname}:{port} did not take the message: {exc}") from None
