"""Email over a real SMTP connection; without MAIL_SERVER nothing is sent."""

from __future__ import annotations

import smtplib
from email import policy
from email.message import EmailMessage

from flask import current_app


class MailError(Exception):
    """The SMTP server refused or could not be reached; the message says which."""


class MailServerUnreachable(MailError):
    """No SMTP server answered at MAIL_SERVER:MAIL_PORT: every other email would fail too,
    so callers stop trying (each try may wait for the connection timeout)."""


_UNFOLDED = policy.default.clone(max_line_length=998)


def mail_enabled() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def send_mail(to: str, subject: str, body: str, *, headers: dict[str, str] | None = None) -> None:
    """Send one plain-text email; `headers` adds more, e.g. `List-Unsubscribe`."""
    cfg = current_app.config
    # Headers are never folded: a folded List-Unsubscribe comes out as RFC 2047 encoded
    # words, which mail programs do not read as a link (RFC 5322 allows 998 characters).
    message = EmailMessage(policy=_UNFOLDED)
    message["From"] = cfg["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    try:
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
            smtp.send_message(message)
    except smtplib.SMTPException as error:
        raise MailError(f"Could not send email to {to}: {error}") from error
    except OSError as error:
        raise MailServerUnreachable(
            f"Could not send email to {to}: the mail server "
            f"{cfg['MAIL_SERVER']}:{cfg['MAIL_PORT']} did not answer ({error})"
        ) from error
