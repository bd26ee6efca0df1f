#!/usr/bin/python3
"""Write the synthetic pipelined SMTP benchmark corpus (fixed seed).

    make-smtp-batch.py PREFIX [--transactions N]

writes PREFIX.server and PREFIX.client: a client that pipelines (RFC 2920
3.1: MAIL, every RCPT and DATA sent as one group, the replies read after)
N transactions (default 2000) through a server in the style of Postfix,
whose replies carry enhanced status codes (RFC 3463, RFC 2034).  The mix,
drawn from random.Random(2920) so that every run writes the same bytes:

  - a 220 greeting and a multi-line 250 EHLO reply of 10 keywords
    (RFC 5321 4.1.1.1, 4.2.1);
  - 1 to 8 recipients per transaction, 1 in 12 refused with a 550, 1 in 40
    with a 450 (RFC 5321 4.2.2);
  - 1 transaction in 30 refused at MAIL with a 3-line 553 reply; its RCPTs
    get 503 (bad sequence) and its DATA 554, and the client sends no
    message;
  - a 354 after DATA when a recipient was accepted, then the message and
    a "250 2.0.0 Ok: queued as ID" reply (RFC 5321 4.1.1.4); a RSET every
    50 transactions; a QUIT at the end.

Standard library only; bench/bench.mk runs it with /usr/bin/python3.
"""

import argparse
import random
import sys

KEYWORDS = [b"PIPELINING", b"SIZE 10240000", b"VRFY", b"ETRN", b"STARTTLS",
            b"ENHANCEDSTATUSCODES", b"8BITMIME", b"DSN", b"SMTPUTF8", b"CHUNKING"]
HOSTS = [b"example.org", b"example.net", b"mail.example.com", b"lists.example.edu"]
WORDS = [b"alpha", b"bravo", b"charlie", b"delta", b"echo", b"foxtrot", b"golf", b"hotel"]


def addr(rng):
    return b"%s.%s%d@%s" % (rng.choice(WORDS), rng.choice(WORDS), rng.randrange(1000),
                            rng.choice(HOSTS))


def queue_id(rng):
    return bytes(rng.choice(b"0123456789ABCDEF") for _ in range(11))


def generate(n):
    rng = random.Random(2920)
    s, c = [], []
    s.append(b"220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n")
    c.append(b"EHLO client.example.net\r\n")
    s.append(b"250-mx.example.com\r\n")
    for i, k in enumerate(KEYWORDS):
        s.append(b"250%s%s\r\n" % (b" " if i == len(KEYWORDS) - 1 else b"-", k))
    for t in range(n):
        sender = addr(rng)
        rcpts = [addr(rng) for _ in range(rng.randint(1, 8))]
        c.append(b"MAIL FROM:<%s> SIZE=%d\r\n" % (sender, rng.randrange(500, 200000)))
        for r in rcpts:
            c.append(b"RCPT TO:<%s>\r\n" % r)
        c.append(b"DATA\r\n")
        if rng.randrange(30) == 0:
            s.append(b"553-5.7.1 <%s>: Sender address rejected:\r\n" % sender)
            s.append(b"553-5.7.1 not owned by the authenticated user; see\r\n")
            s.append(b"553 5.7.1 https://mx.example.com/policy for details\r\n")
            for _ in rcpts:
                s.append(b"503 5.5.1 Error: need MAIL command\r\n")
            s.append(b"554 5.5.1 Error: no valid recipients\r\n")
            continue
        s.append(b"250 2.1.0 Ok\r\n")
        accepted = 0
        for r in rcpts:
            roll = rng.randrange(120)
            if roll < 10:
                s.append(b"550 5.1.1 <%s>: Recipient address rejected: User unknown in "
                         b"virtual mailbox table\r\n" % r)
            elif roll < 13:
                s.append(b"450 4.2.0 <%s>: Recipient address rejected: Greylisted, see "
                         b"https://postgrey.example/\r\n" % r)
            else:
                s.append(b"250 2.1.5 Ok\r\n")
                accepted += 1
        if not accepted:
            s.append(b"554 5.5.1 Error: no valid recipients\r\n")
            continue
        s.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        c.append(b"From: <%s>\r\nSubject: batch %d\r\n\r\n" % (sender, t))
        for _ in range(rng.randint(1, 6)):
            c.append(b" ".join(rng.choice(WORDS) for _ in range(12)) + b"\r\n")
        c.append(b".\r\n")
        s.append(b"250 2.0.0 Ok: queued as %s\r\n" % queue_id(rng))
        if t % 50 == 49:
            c.append(b"RSET\r\n")
            s.append(b"250 2.0.0 Ok\r\n")
    c.append(b"QUIT\r\n")
    s.append(b"221 2.0.0 Bye\r\n")
    return b"".join(s), b"".join(c)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("prefix")
    ap.add_argument("--transactions", type=int, default=2000)
    args = ap.parse_args()
    server, client = generate(args.transactions)
    for ext, data in ((".server", server), (".client", client)):
        with open(args.prefix + ext, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
