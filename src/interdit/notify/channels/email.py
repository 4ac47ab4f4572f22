"""E-mail over SMTP: STARTTLS (or TLS from the first byte on port 465) and authentication.

    - type: email
      host: smtp.example.org        # or INTERDIT_SMTP_HOST
      port: 587                     # or INTERDIT_SMTP_PORT; 587 by default (465 with tls: true)
      security: starttls            # starttls (default), tls, or none (a relay on the same host only)
      username: interdit@example.org  # or INTERDIT_SMTP_USERNAME; none: no authentication
      password_env: SMTP_PASSWORD   # the variable that holds the password (default INTERDIT_SMTP_PASSWORD)
      sender: "IT Security <securite@example.org>"   # or INTERDIT_SMTP_FROM
      cafile: /etc/ssl/private-ca.pem   # a private certificate authority, when the server's is one
      timeout: 30

The server's certificate is always checked. One connection is used for the whole run.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import TracebackType

from interdit.errors import ConfigError
from interdit.notify.channels import Channel, DeliveryError, channels, option
from interdit.notify.config import ChannelConfig, is_email
from interdit.notify.plan import Notice
from interdit.notify.render import Message

SECURITY = ("starttls", "tls", "none")


def email_message(notice: Notice, message: Message, sender: str) -> EmailMessage:
    """The notice as an e-mail: plain UTF-8 text, its language, and its key in `X-Interdit-Notice`."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(notice.recipients)
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    domain = sender.rsplit("@", 1)[-1].rstrip(">").strip() or None
    mail["Message-ID"] = make_msgid(idstring=notice.key.replace("/", "."), domain=domain)
    mail["X-Interdit-Notice"] = notice.key
    mail.set_content(message.body, charset="utf-8")  # before Content-Language: it clears the Content-* headers
    mail["Content-Language"] = {"en": "en-CA", "fr": "fr-CA", "en-fr": "en-CA, fr-CA", "fr-en": "fr-CA, en-CA"}[
        notice.lang]
    # headers unfolded up to RFC 5322's limit: the standard library's folding at 78 columns loses the space
    # between two encoded words ("Échéance dépassée" read back as "Échéancedépassée"); the body is encoded already
    mail.policy = mail.policy.clone(max_line_length=998)
    return mail


@channels.register("email")
class EmailChannel(Channel):

    def __init__(self, config: ChannelConfig, *, host: str, port: int, security: str, username: str | None,
                 password: str | None, sender: str, cafile: str | None, timeout: float) -> None:
        super().__init__(config)
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.sender = username, password, sender
        self.cafile, self.timeout = cafile, timeout
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def from_config(cls, config: ChannelConfig, environ: Mapping[str, str]) -> EmailChannel:
        security = str(option(config, environ, "security", env="INTERDIT_SMTP_SECURITY", required=False,
                              default="starttls"))
        if security not in SECURITY:
            raise ConfigError(f"unknown security {security!r} for the e-mail channel", where=config.where or None,
                              fix="use starttls, tls or none")
        port_text = option(config, environ, "port", env="INTERDIT_SMTP_PORT", required=False,
                           default=465 if security == "tls" else 587)
        try:
            port = int(port_text)
        except (TypeError, ValueError):
            raise ConfigError(f"the SMTP port {port_text!r} is not a number", where=config.where or None,
                              fix="write port: 587") from None
        username = option(config, environ, "username", env="INTERDIT_SMTP_USERNAME", required=False)
        password = None
        if username:
            password = option(config, environ, "password", env="INTERDIT_SMTP_PASSWORD")
        sender = str(option(config, environ, "sender", env="INTERDIT_SMTP_FROM"))
        address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
        if not is_email(address):
            raise ConfigError(f"the sender {sender!r} has no e-mail address", where=config.where or None,
                              fix='write sender: "IT Security <securite@example.org>"')
        return cls(config, host=str(option(config, environ, "host", env="INTERDIT_SMTP_HOST")), port=port,
                   security=security, username=str(username) if username else None,
                   password=str(password) if password else None, sender=sender,
                   cafile=option(config, environ, "cafile", required=False),
                   timeout=float(option(config, environ, "timeout", required=False, default=30)))

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)

    def _connect(self) -> smtplib.SMTP:
        where = f"{self.host}:{self.port}"
        try:
            smtp: smtplib.SMTP
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                smtp.ehlo()
                if self.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        smtp.close()
                        raise DeliveryError("the SMTP server does not offer STARTTLS", where=where,
                                            fix="use the submission port (587) of a server that offers it, or "
                                                "security: tls on port 465")
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
            return smtp
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(f"the SMTP server refused the sign-in of {self.username} ({e.smtp_code})",
                                where=where, fix="check the user name and the password's variable") from None
        except ssl.SSLError as e:
            raise DeliveryError(f"the TLS connection to the SMTP server failed ({e.reason or e})", where=where,
                                fix="check the server's certificate; for a private authority, set cafile:") from None
        except (OSError, smtplib.SMTPException) as e:
            if isinstance(e, DeliveryError):
                raise
            raise DeliveryError(f"cannot reach the SMTP server ({e})", where=where,
                                fix="check host:, port: and that the server accepts connections from here") from None

    def __enter__(self) -> EmailChannel:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def build(self, notice: Notice, message: Message) -> EmailMessage:
        return email_message(notice, message, self.sender)

    def send(self, notice: Notice, message: Message) -> None:
        mail = self.build(notice, message)
        for attempt in (1, 2):  # a connection the server closed between two notices is opened again, once
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                refused = self._smtp.send_message(mail)
            except smtplib.SMTPServerDisconnected:
                self._smtp = None
                if attempt == 2:
                    raise DeliveryError("the SMTP server closed the connection", where=self.host,
                                        fix="check the server's logs; the notice is sent again next run") from None
                continue
            except smtplib.SMTPRecipientsRefused as e:
                raise DeliveryError(f"the SMTP server refused every recipient ({', '.join(e.recipients)})",
                                    where=self.host, fix="check the addresses in the source or the contacts "
                                                         "file") from None
            except smtplib.SMTPException as e:
                raise DeliveryError(f"the SMTP server refused the message ({e})", where=self.host,
                                    fix="check the server's logs; the notice is sent again next run") from None
            except OSError as e:  # a timeout or a reset connection: this connection is not used again
                self._smtp = None
                raise DeliveryError(f"the connection to the SMTP server failed ({e})", where=self.host,
                                    fix="check the server and the network; the notice is sent again next run") from None
            if refused:
                raise DeliveryError(f"the SMTP server refused {', '.join(sorted(refused))}", where=self.host,
                                    fix="check these addresses")
            return
