"""What py-imap, py-pop3 and py-smtp share: the command line, TLS, the
Maildir writer, warnings and the exit statuses (README.md here).

Not a program: the drivers import it from their own directory.
"""

import argparse
import email.header
import email.parser
import email.policy
import os
import socket
import ssl
import sys
import time

PROG = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "driver"

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def warn(msg):
    """Something surprising: one line on stderr; the session goes on."""
    print(f"{PROG}: warning: {msg}", file=sys.stderr, flush=True)


def parser(description, auth_choices, auth_default):
    p = argparse.ArgumentParser(prog=PROG, description=description)
    p.add_argument("--host", required=True, help="server host name (also the name the certificate is checked for)")
    p.add_argument("--port", required=True, type=int)
    p.add_argument("--user", help="user name (the session logs in only when given; required for IMAP and POP3)")
    p.add_argument("--password", default="")
    p.add_argument("--tls", choices=("none", "implicit", "starttls"), default="none")
    p.add_argument("--cafile", help="the CA certificate(s) to trust; default: the system's")
    p.add_argument("--timeout", type=float, default=10.0, help="socket timeout in seconds (default 10)")
    p.add_argument("--maildir", help="write each message fetched here (Maildir: cur/ new/ tmp/)")
    p.add_argument("--auth", choices=auth_choices, default=auth_default,
                   help=f"how to log in (default {auth_default})")
    return p


def check_port(p, args):
    if not 0 < args.port < 65536:
        p.error(f"--port {args.port}: not a port")
    if args.timeout <= 0:
        p.error("--timeout must be positive")


def tls_context(args):
    """Certificate and host name verification on, against --cafile."""
    ctx = ssl.create_default_context(cafile=args.cafile)
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    return ctx


class Maildir:
    """Deliver into DIR/tmp, then rename into new/ (no Maildir flag) or
    cur/ (NAME:2,FLAGS: D F R S T from \\Draft \\Flagged \\Answered \\Seen
    \\Deleted).  The bytes are written exactly as received."""

    FLAG_LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}

    def __init__(self, path):
        self.path = path
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)
        self.host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"
        self.n = 0

    def deliver(self, data, flags=None):
        self.n += 1
        name = f"{int(time.time())}.P{os.getpid()}Q{self.n}.{self.host}"
        tmp = os.path.join(self.path, "tmp", name)
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        letters = "".join(sorted({self.FLAG_LETTERS[f] for f in flags or () if f in self.FLAG_LETTERS}))
        if not letters:
            dest = os.path.join(self.path, "new", name)
        else:
            dest = os.path.join(self.path, "cur", f"{name}:2,{letters}")
        os.rename(tmp, dest)
        return dest


def one_line(text):
    """A single printable line: whitespace runs become one space."""
    text = "".join(c if c.isprintable() or c.isspace() else "?" for c in text)
    return " ".join(text.split())


def decode_words(raw):
    """An RFC 2047 header value (bytes or str) decoded to one line."""
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        return one_line(str(email.header.make_header(email.header.decode_header(raw))))
    except Exception:  # a malformed encoded word: keep it as it is
        return one_line(raw)


def header_subject(data):
    """The Subject of a message (or its header), decoded to one line."""
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(data)
        value = msg["subject"]
        return one_line(str(value)) if value is not None else ""
    except Exception:
        return ""


def message_line(uid, size, subject):
    """What each driver prints per message: UID, size, subject, tab-separated."""
    return f"{uid}\t{size}\t{subject}"


def run(main, p):
    """Parse the command line and run main(args): exit 0 when it returns,
    1 on any error (printed on stderr), 2 on bad usage (argparse)."""
    args = p.parse_args()
    check_port(p, args)
    try:
        main(args)
    except KeyboardInterrupt:
        sys.exit(130)
    except UsageError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except Exception as e:  # protocol, TLS, socket, file: the session failed
        print(f"{PROG}: error: {type(e).__module__}.{type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(EXIT_ERROR)
    sys.stdout.flush()
    sys.exit(EXIT_OK)


class UsageError(Exception):
    pass


class SessionError(Exception):
    """A server answer the driver cannot go on with."""
