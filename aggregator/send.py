"""Send stage: deliver a rendered message over SMTP, or write it to the outbox folder.

Failure classes (RFC 5321 4.2.1): a 5xx reply is permanent (DeliveryError(permanent=True), not
retried); refused connections, timeouts, dropped connections and 4xx replies are temporary.
"""

from __future__ import annotations

import base64
import os
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aggregator.config import envelope_address, is_loopback
from aggregator.errors import DeliveryError


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"  # auto | starttls | tls | none
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    sender: str = "aggregator <digest@localhost>"
    ssl_context: ssl.SSLContext | None = None  # tests pass one that trusts their certificate


@dataclass(frozen=True)
class Sent:
    reply: str
    refused: dict[str, str]  # recipients the server refused while accepting the others: address -> reply


def send_smtp(msg: EmailMessage, to: tuple[str, ...], s: SmtpSettings) -> Sent:
    """Deliver ``msg``. Raises DeliveryError when no recipient got it. When the server accepts some
    recipients and refuses others, the message is delivered (retrying would send it twice to those who
    have it) and the refusals are returned, to be logged and shown."""
    where = f"SMTP {s.host}:{s.port}"
    mode = _mode(s)
    context = _context(s)
    try:
        if mode == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            client.ehlo_or_helo_if_needed()  # HELO where EHLO is refused (a minimal relay, an old appliance)
            if mode == "starttls" or (mode == "auto" and client.has_extn("starttls")):
                client.starttls(context=context)
                client.ehlo_or_helo_if_needed()
            elif mode == "auto" and s.username and not is_loopback(s.host):
                raise DeliveryError(
                    f"{where}: the server does not offer STARTTLS, so the login would cross the network in the clear",
                    permanent=True,
                    hint='set smtp.security = "tls" if the server takes TLS on another port (465), '
                    'or "none" to log in without encryption',
                )
            if s.username:
                _login(client, s.username, s.password or "")
            refused = _deliver(client, msg, [envelope_address(a) for a in to])
            return Sent(
                f"250 accepted by {where}",
                {addr: f"{code} {_text(reply)}" for addr, (code, reply) in refused.items()},
            )
        finally:
            _close(client)
    except smtplib.SMTPAuthenticationError as e:
        raise DeliveryError(
            f"{where}: login refused: {e.smtp_code} {_text(e.smtp_error)}",
            permanent=e.smtp_code >= 500,
            hint="check smtp.username and the password variable named by smtp.password_env",
        ) from e
    except smtplib.SMTPRecipientsRefused as e:
        codes = [code for code, _ in e.recipients.values()]
        each = "; ".join(f"{addr}: {code} {_text(reply)}" for addr, (code, reply) in e.recipients.items())
        raise DeliveryError(
            f"{where}: all recipients refused: {each}",
            permanent=all(c >= 500 for c in codes),
            hint="check digest.to",
        ) from e
    except smtplib.SMTPResponseException as e:
        if e.smtp_code == -1:  # a line that is no SMTP reply: another service on that port
            raise DeliveryError(
                f"{where}: the server's answer is not an SMTP reply (another service on this port?)",
                permanent=False,
                hint='check smtp.host and smtp.port: mail submission is 587, or 465 with smtp.security = "tls" '
                "(993 and 143 are IMAP, 995 and 110 POP3)",
            ) from e
        raise DeliveryError(
            f"{where}: server answered {e.smtp_code} {_text(e.smtp_error)}",
            permanent=e.smtp_code >= 500,
            hint=_reply_hint(e, s),
        ) from e
    except smtplib.SMTPNotSupportedError as e:
        raise DeliveryError(f"{where}: {e}", permanent=True, hint=_unsupported_hint(str(e))) from e
    except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as e:
        raise DeliveryError(f"{where}: {type(e).__name__}: {e}", permanent=False, hint=_transport_hint(e, s)) from e


def _deliver(client: smtplib.SMTP, msg: EmailMessage, addresses: list[str]) -> dict[str, tuple[int, bytes | str]]:
    """Send ``msg`` to ``addresses``; the recipients refused (address -> (code, reply)). A server may take only
    so many recipients in one transaction and answer the rest "452 too many recipients" (RFC 5321 4.5.3.1.10):
    those refused for now go in the next transaction, as long as each one delivers to someone. Raises as
    smtplib does when the first one delivers to no one."""
    refused: dict[str, tuple[int, bytes | str]] = dict(client.send_message(msg, to_addrs=addresses))
    tried = addresses
    while True:
        later = [a for a in tried if a in refused and 400 <= refused[a][0] < 500]
        if not later or len(later) == len(tried):  # none left, or the last transaction delivered to no one
            return refused
        try:
            again: dict[str, tuple[int, bytes | str]] = dict(client.send_message(msg, to_addrs=later))
        except smtplib.SMTPRecipientsRefused as e:
            again = dict(e.recipients)
        except smtplib.SMTPResponseException as e:  # the message refused this time: those stay refused
            again = {a: (e.smtp_code, e.smtp_error) for a in later}
        except (smtplib.SMTPException, OSError) as e:  # the connection lost: the others have it, so no retry (it
            again = {a: (451, f"{type(e).__name__}: {e}") for a in later}  # would mail them a second copy)
        for a in later:
            refused.pop(a, None)
        refused.update(again)
        tried = later


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """Log in. smtplib sends credentials as ASCII and raises UnicodeEncodeError on any other character; a
    login or password with one ("pässwort") goes as UTF-8, which is what PLAIN carries (RFC 4616) and what
    servers take for LOGIN."""
    if username.isascii() and password.isascii():
        client.login(username, password)
        return
    if not client.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    offered = client.esmtp_features["auth"].upper().split()
    user, secret = username.encode(), password.encode()
    if "PLAIN" in offered:
        code, reply = client.docmd("AUTH", "PLAIN " + _b64(b"\0" + user + b"\0" + secret))
    elif "LOGIN" in offered:
        code, reply = client.docmd("AUTH", "LOGIN " + _b64(user))
        if code == 334:
            code, reply = client.docmd(_b64(secret))
    else:
        raise smtplib.SMTPNotSupportedError(
            f"the server offers AUTH {' '.join(offered)} only; a login or password with characters outside ASCII "
            "needs PLAIN or LOGIN"
        )
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, reply)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _close(client: smtplib.SMTP) -> None:
    """QUIT and close, whatever the server answers to QUIT: once it has taken the message after DATA, an
    odd reply to QUIT (or none) is no failure, and a retry would mail the digest twice."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


def _mode(s: SmtpSettings) -> str:
    """The connection to open: smtp.security as set; "auto" (the setting left out) is implicit TLS on port
    465, else STARTTLS when the server offers it (decided after EHLO)."""
    return "tls" if s.security == "auto" and s.port == 465 else s.security


def _context(s: SmtpSettings) -> ssl.SSLContext:
    """The TLS context: smtp.ca_file's (or the system's trust store). With smtp.security left out, a relay on
    this machine (localhost) is not asked for a valid certificate: mail to it never crosses a network, and
    local MTAs offer STARTTLS with a self-signed ("snakeoil") certificate by default."""
    if s.ssl_context is not None:
        return s.ssl_context
    context = ssl.create_default_context()
    if s.security == "auto" and is_loopback(s.host):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _reply_hint(e: smtplib.SMTPResponseException, s: SmtpSettings) -> str | None:
    """What to do about a refusal that the settings can fix."""
    if e.smtp_code == 530 or (e.smtp_code == 550 and b"auth" in _bytes(e.smtp_error).lower()):
        if not s.username:
            return "the server wants a login: set smtp.username and the password (smtp.password_env)"
        return 'the server wants a login over TLS: set smtp.security to "starttls" or "tls"'
    if e.smtp_code == 552 and (isinstance(e, smtplib.SMTPDataError) or b"size" in _bytes(e.smtp_error).lower()):
        # too big: after DATA, or at MAIL FROM, where a server that announces SIZE refuses the size declared
        return "the server finds the message too big: lower digest.max_stories_per_topic"
    if isinstance(e, smtplib.SMTPSenderRefused):
        return "the server refuses the sender: set smtp.from to an address this account may send as"
    return None


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _transport_hint(e: BaseException, s: SmtpSettings) -> str:
    """What to do about a failed connection. A certificate the client does not trust and a TLS mode that
    does not match the port are settings to fix, not an outage (delivery is retried all the same, so a
    corrected aggregator.toml still gets the digest out)."""
    if isinstance(e, ssl.SSLCertVerificationError):
        what = e.verify_message or "not trusted"
        if "mismatch" in what.lower():
            return f"the certificate is not valid for {s.host!r}: set smtp.host to the name it was issued for"
        return f"the server's certificate is not trusted ({what}): set smtp.ca_file to the CA that issued it"
    if isinstance(e, ssl.SSLError) and "WRONG_VERSION_NUMBER" in str(e) and _mode(s) == "tls":
        return 'the server does not speak TLS on connect on this port: set smtp.security = "starttls" (port 587)'
    if isinstance(e, TimeoutError | smtplib.SMTPServerDisconnected) and _mode(s) != "tls" and s.port == 465:
        return 'port 465 expects TLS from the first byte: set smtp.security = "tls"'
    return "the server may be down; delivery is retried"


def _unsupported_hint(what: str) -> str:
    if "STARTTLS" in what:
        return 'the server does not offer STARTTLS: set smtp.security = "tls" (port 465) or "none"'
    if "outside ASCII" in what:
        return "use a password of ASCII characters for this account, or a server that offers AUTH PLAIN"
    if "AUTH" in what:
        return 'the server offers no login here: remove smtp.username, or use smtp.security = "starttls" or "tls"'
    if "SMTPUTF8" in what:
        return "the server cannot take non-ASCII addresses: use an ASCII address in digest.to and smtp.from"
    return "check the [smtp] settings against what the server offers"


_ENHANCED_CODE = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}\s+")


def _text(value: bytes | str) -> str:
    """A server's reply on one line. smtplib joins the lines of a multi-line reply with newlines, and servers
    repeat the enhanced status code on each (Gmail: "5.7.8 Username and Password not accepted. For more
    information, go to" / "5.7.8  https://support.google.com/..."): the code is kept once."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    first, *more = [line.strip() for line in text.splitlines() if line.strip()] or [""]
    return " ".join([first, *(_ENHANCED_CODE.sub("", line, count=1) for line in more)])


def write_outbox(msg: EmailMessage, html: str, outbox: Path, stem: str) -> Path:
    """Write stem.eml, then stem.html, each atomically (temp file + rename): once the .html is there, so is the
    .eml. Returns the .eml path. A folder that cannot be written (a full disk, no permission) is a temporary
    delivery error: retried like an outage."""
    eml = outbox / f"{stem}.eml"
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        for path, data in ((eml, msg.as_bytes()), (outbox / f"{stem}.html", html.encode("utf-8"))):
            # a temporary name of its own (the daemon's preview and `digest --preview` may write at once), made
            # with the usual permissions (the umask's, as the file it replaces)
            tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
            try:
                with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666), "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                tmp.replace(path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
    except OSError as e:
        raise DeliveryError(
            f"outbox {outbox}: cannot write {stem}: {e.strerror or e}",
            permanent=False,
            hint="free disk space, or make the outbox folder writable; delivery is retried",
        ) from e
    return eml
