#!/usr/bin/python3
"""Server speed benchmarks (make bench-servers): sessions per second of
the same short dialogue against `mailrig serve` and against real servers
on loopback, driven by the same client program (build/bench/mr_loadgen)
in the same run, plain and with implicit TLS; and the memory a server
needs to hold many idle sessions.

    IMAP  LOGIN, SELECT INBOX, FETCH 1:10 (ENVELOPE BODYSTRUCTURE), LOGOUT
          mailrig serve / Dovecot imapd
    POP3  USER, PASS, STAT, LIST, RETR 1, QUIT
          mailrig serve / Dovecot pop3d
    SMTP  EHLO, MAIL FROM, RCPT TO, DATA (a 400-byte message), QUIT
          mailrig serve / Exim 4 / Python's aiosmtpd
    idle  N connections that have read the greeting, held; the server's
          peak RSS (VmHWM, summed over its processes for Dovecot)

Every server runs on 127.0.0.1 on a port the OS chose free, with its own
configuration in a temporary directory, over a copy of the same Maildir
(corpora/mailbox/default/ when it exists, else one made here from
corpora/mailbox/*.eml).  For TLS, a throwaway certificate is made with the
openssl command in the temporary directory (mailrig serve makes its own,
--cert-dir); nothing is kept.

A round measures every (dialogue, TLS, contender) once for --seconds with
--concurrency connections; the order of the contenders is rotated from
one round to the next.  Figures are the median of the rounds (min-max);
ratios (mailrig's sessions/s over the other's) are taken inside each
round and their median given.

How the real servers are set up, and why (docs/performance.md, "Server
benchmarks"):
  - Dovecot 2.3: passwd-file user, Maildir; the login processes in
    Dovecot's "high-performance mode" (service_count = 0,
    process_min_avail = number of CPUs), the imap/pop3 processes reused
    (service_count = 1000) rather than one fork per session, and no
    per-user connection limit; that is Dovecot at its fastest documented
    setting, not its default (one login process per connection).
  - Exim 4: queue_only, every recipient accepted, the message discarded
    in the DATA ACL (nothing queued or delivered, as mailrig and aiosmtpd
    keep nothing), no DNS or ident lookups, no connection limit.
  - aiosmtpd: its SMTP class with a handler that accepts and drops the
    message, one asyncio process.

Needs root when Exim or Dovecot are to be run (they switch users); a
server that is not installed is left out and named.  Standard library
only; run with /usr/bin/python3:

    bench/servers.py [--rounds N] [--seconds S] [--concurrency N]
                     [--idle N] [--only PATTERN] [--no-tls]
                     [--results FILE]
    bench/servers.py --check     1 s per contender, plain and TLS: every
                                 contender that runs must see zero errors
"""

import argparse
import asyncio
import datetime
import fnmatch
import glob
import json
import os
import platform
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "corpora", "tools"))
from localservers import free_port, listening, stop_group  # noqa: E402
LOADGEN = os.path.join(TOP, "build", "bench", "mr_loadgen")
MAILRIG = os.environ.get("MAILRIG") or os.path.join(TOP, "build", "mailrig")
PYTHON = "/usr/bin/python3"
USER, PASSWORD = "user", "password"     # throwaway, this run only
RCPT = "user@mailrig.test"
START_TIMEOUT = 20.0
NMESSAGES = 20                          # the fallback Maildir


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def dpkg_version(pkg):
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                           capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None
    except OSError:
        return None


def proc_status(pid, field):
    """A kB figure of /proc/PID/status (VmHWM, VmRSS), or 0."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def proc_pss(pid):
    """Proportional set size in kB (shared pages divided among the
    processes sharing them), or 0."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cpu_seconds(pids):
    """CPU time of these processes and of their children that have been
    waited for (utime + stime + cutime + cstime), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            total += sum(int(x) for x in fields[11:15])
        except (OSError, ValueError, IndexError):
            pass
    return total / tick


def group_pids(pgid):
    """The processes of a process group (a server and its children)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[2]) == pgid:
                pids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return pids


# ===================================================== the mailbox

def find_maildir():
    """corpora/mailbox/default/ when it is a Maildir, else None."""
    d = os.path.join(TOP, "corpora", "mailbox", "default")
    if os.path.isdir(os.path.join(d, "cur")) or os.path.isdir(os.path.join(d, "new")):
        return d
    return None


def make_maildir(dest):
    """A Maildir of the first NMESSAGES corpus messages (corpora/mailbox/),
    in file-name order, all seen."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(dest, sub), exist_ok=True)
    emls = sorted(glob.glob(os.path.join(TOP, "corpora", "mailbox", "*.eml")))[:NMESSAGES]
    if len(emls) < 10:
        raise BenchError("corpora/mailbox/ has fewer than 10 messages")
    t0 = 1700000000
    for i, p in enumerate(emls, 1):
        name = "%d.M%dP1.mailrig:2,S" % (t0 + i, i)
        q = os.path.join(dest, "cur", name)
        shutil.copyfile(p, q)
        os.utime(q, (t0 + i, t0 + i))
    return dest


def copy_maildir(src, dest):
    """A copy without a server's own files (dovecot-uidlist, indexes)."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("dovecot*", "courier*"))
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(dest, sub), exist_ok=True)


def make_cert(d):
    """A throwaway self-signed P-256 certificate for localhost and
    127.0.0.1 (the client trusts it directly)."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/O=mailrig bench/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    os.chmod(key, 0o644)        # read by the servers' unprivileged users
    return cert, key


# ===================================================== servers

class Server:
    """A server process in its own process group; stop() ends the group."""
    name = "server"

    def __init__(self, tmp):
        self.tmp = tmp
        self.proc = None
        self.logfile = None
        self.ports = {}          # (protocol, tls) -> port

    def command(self):
        raise NotImplementedError

    def configure(self):
        raise NotImplementedError

    def env(self):
        return None

    def port(self, protocol, tls):
        return self.ports.get((protocol, tls))

    def cafile(self):
        return None

    def start(self):
        for _ in range(3):       # a port can be taken between probe and bind
            self.configure()
            self.logfile = open(os.path.join(self.tmp, self.name + ".stderr"), "ab")
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=self.logfile, stderr=self.logfile,
                                         start_new_session=True, cwd=self.tmp,
                                         env=self.env())
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if all(listening(p) for p in self.ports.values()):
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            self.stop()
        raise BenchError("%s did not start; see %s" % (self.name, self.tmp))

    def pids(self):
        return group_pids(self.proc.pid) if self.proc else []

    def stop(self):
        stop_group(self.proc)
        self.proc = None
        if self.logfile:
            self.logfile.close()
            self.logfile = None


class Dovecot(Server):
    """Dovecot 2.3 in the foreground (dovecot -F), IMAP and POP3, plain and
    implicit TLS (imaps, pop3s), one passwd-file user over a Maildir copy.
    As root the mail is read as nobody; otherwise as the user running
    this (Dovecot's rootless setup: no chroot, every internal user us)."""
    name = "dovecot"

    def __init__(self, tmp, maildir, cert, key, protocols, mode="tuned"):
        super().__init__(tmp)
        self.mode = mode
        self.dir = os.path.join(tmp, "dovecot")
        os.makedirs(self.dir)
        self.protocols = protocols
        self.cert, self.key = cert, key
        self.maildir = os.path.join(self.dir, "Maildir")
        copy_maildir(maildir, self.maildir)
        self.root = os.geteuid() == 0
        ent = pwd.getpwnam("nobody") if self.root else pwd.getpwuid(os.geteuid())
        self.uid, self.gid, self.uname = ent.pw_uid, ent.pw_gid, ent.pw_name
        for root, dirs, files in os.walk(self.maildir):
            for p in [root] + [os.path.join(root, x) for x in files]:
                os.chown(p, self.uid, self.gid)
        os.chown(self.dir, self.uid, self.gid)
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (USER, PASSWORD, self.uid, self.gid, self.dir))
        os.chmod(os.path.join(self.dir, "passwd"), 0o644)

    def cafile(self):
        return self.cert

    def configure(self):
        d = self.dir
        ncpu = os.cpu_count() or 1
        services = []
        if self.mode == "tuned":
            login = ("  service_count = 0\n  process_min_avail = %d\n  client_limit = 20000\n"
                     "  process_limit = 64\n" % ncpu)
            mail = "  service_count = 1000\n"
        else:       # Debian's defaults: a login process and a mail process per session
            login = "  process_limit = 20000\n"
            mail = ""
        for p in self.protocols:
            self.ports[(p, False)] = free_port()
            self.ports[(p, True)] = free_port()
            services.append("""\
service {p}-login {{
  inet_listener {p} {{
    address = 127.0.0.1
    port = {plain}
  }}
  inet_listener {p}s {{
    address = 127.0.0.1
    port = {tls}
    ssl = yes
  }}
{login}{chroot}}}
service {p} {{
{mail}  process_limit = 1000
}}
protocol {p} {{
  mail_max_userip_connections = 100000
}}
""".format(p=p, plain=self.ports[(p, False)], tls=self.ports[(p, True)],
           login=login, mail=mail, chroot="" if self.root else "  chroot =\n"))
        rootless = "" if self.root else """\
default_internal_user = {u}
default_internal_group = {u}
default_login_user = {u}
service anvil {{
  chroot =
}}
""".format(u=self.uname)
        conf = """\
# Throwaway configuration written by bench/servers.py.
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = {protocols}
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
default_client_limit = 20000
default_process_limit = 1000
default_vsz_limit = 1G
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
}}
mail_location = maildir:{d}/Maildir
{rootless}{services}""".format(d=d, protocols=" ".join(self.protocols), cert=self.cert,
                               key=self.key, rootless=rootless, services="".join(services))
        with open(os.path.join(d, "dovecot.conf"), "w") as f:
            f.write(conf)

    def command(self):
        return ["dovecot", "-F", "-c", os.path.join(self.dir, "dovecot.conf")]

    def version(self):
        v = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout
        return "Dovecot %s (dovecot-imapd %s, dovecot-pop3d %s)" % (
            v.split()[0] if v else "?", dpkg_version("dovecot-imapd") or "-",
            dpkg_version("dovecot-pop3d") or "-")


class Exim(Server):
    """Exim 4 as a foreground daemon (exim4 -bdf) with its own
    configuration and spool: every recipient accepted, the message
    discarded by the DATA ACL; a second port with implicit TLS
    (tls_on_connect_ports)."""
    name = "exim"

    def __init__(self, tmp, cert, key):
        super().__init__(tmp)
        self.dir = os.path.join(tmp, "exim")
        self.user = "Debian-exim"
        ent = pwd.getpwnam(self.user)
        for sub in ("spool", "log"):
            p = os.path.join(self.dir, sub)
            os.makedirs(p)
            os.chown(p, ent.pw_uid, ent.pw_gid)
        self.conf = os.path.join(self.dir, "exim.conf")
        self.cert, self.key = cert, key

    def cafile(self):
        return self.cert

    def configure(self):
        plain, tls = free_port(), free_port()
        self.ports = {("smtp", False): plain, ("smtp", True): tls}
        conf = """\
# Throwaway configuration written by bench/servers.py.
primary_hostname = mx.mailrig.test
qualify_domain = mailrig.test
domainlist local_domains = mailrig.test
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
pid_file_path = {d}/exim.pid
exim_user = {user}
exim_group = {user}
never_users = root
keep_environment =
local_interfaces = <; 127.0.0.1
daemon_smtp_ports = {plain} : {tls}
tls_on_connect_ports = {tls}
tls_certificate = {cert}
tls_privatekey = {key}
tls_advertise_hosts =
host_lookup =
rfc1413_hosts =
queue_only = true
smtp_accept_max = 0
smtp_connect_backlog = 1024
smtp_accept_queue_per_connection = 0
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data
message_size_limit = 10M

begin acl
acl_rcpt:
  accept
acl_data:
  discard

begin routers
begin transports
""".format(d=self.dir, user=self.user, plain=plain, tls=tls, cert=self.cert, key=self.key)
        with open(self.conf, "w") as f:
            f.write(conf)
        os.chmod(self.conf, 0o644)

    def command(self):
        return ["exim4", "-C", self.conf, "-bdf"]

    def version(self):
        out = subprocess.run(["exim4", "-C", self.conf, "-bV"], capture_output=True,
                             text=True).stdout.splitlines()
        v = out[0].split()[2] if out and out[0].startswith("Exim version") else "?"
        return "Exim %s (exim4-daemon-light %s)" % (v, dpkg_version("exim4-daemon-light"))


class Aiosmtpd(Server):
    """Python's aiosmtpd (Debian python3-aiosmtpd) in one asyncio process,
    this script with --aiosmtpd-child: a plain and an implicit TLS port."""
    name = "aiosmtpd"

    def __init__(self, tmp, cert, key):
        super().__init__(tmp)
        self.cert, self.key = cert, key

    def cafile(self):
        return self.cert

    def configure(self):
        self.ports = {("smtp", False): free_port(), ("smtp", True): free_port()}

    def command(self):
        return [PYTHON, os.path.abspath(__file__), "--aiosmtpd-child",
                str(self.ports[("smtp", False)]), str(self.ports[("smtp", True)]),
                self.cert, self.key]

    def version(self):
        return "aiosmtpd %s, Python %s" % (dpkg_version("python3-aiosmtpd"),
                                           platform.python_version())


def aiosmtpd_child(plain, tls, cert, key):
    import ssl
    from aiosmtpd.smtp import SMTP

    class Drop:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(Drop(), hostname="mx.mailrig.test", loop=loop)
    loop.run_until_complete(loop.create_server(factory, "127.0.0.1", plain, backlog=1024))
    loop.run_until_complete(loop.create_server(factory, "127.0.0.1", tls, ssl=ctx,
                                               backlog=1024))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()


class MailrigServe(Server):
    """build/mailrig serve, one process per (protocol, TLS): it says where
    it listens in --ready-file; its certificates are in --cert-dir."""

    def __init__(self, tmp, protocol, tls, maildir):
        super().__init__(tmp)
        self.protocol, self.tls = protocol, tls
        self.name = "mailrig-%s%s" % (protocol, "-tls" if tls else "")
        self.dir = os.path.join(tmp, self.name)
        os.makedirs(self.dir)
        self.maildir = maildir
        self.ready = os.path.join(self.dir, "ready.json")
        self.certdir = os.path.join(self.dir, "certs")

    def cafile(self):
        return os.path.join(self.certdir, "ca.pem")

    def configure(self):
        pass

    def command(self):
        cmd = [MAILRIG, "serve", "--protocol", self.protocol, "--listen", "127.0.0.1:0",
               "--ready-file", self.ready, "--mailbox", self.maildir,
               "--cert-dir", self.certdir, "--out", os.path.join(self.dir, "out"),
               "--no-transcripts", "--quiet"]
        if self.tls:
            cmd += ["--tls", "implicit"]
        return cmd

    def start(self):
        self.logfile = open(os.path.join(self.tmp, self.name + ".stderr"), "ab")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=self.logfile, stderr=self.logfile,
                                     start_new_session=True, cwd=self.dir)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with open(self.ready) as f:
                    ev = json.loads(f.readline())
                if ev.get("event") == "listening":
                    self.ports = {(self.protocol, self.tls): int(ev["port"])}
                    return
            except (OSError, ValueError, KeyError):
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        with open(os.path.join(self.tmp, self.name + ".stderr"), errors="replace") as f:
            tail = f.read()[-1500:]
        raise BenchError("%s did not start:\n%s" % (self.name, tail))

    def version(self):
        try:
            rev = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                                 capture_output=True, text=True).stdout.strip()
        except OSError:
            rev = ""
        where = os.path.relpath(MAILRIG, TOP)
        if where.startswith(".."):
            where = MAILRIG + ", built from the working tree"
        return "mailrig serve (%s%s)" % (where,
                                         ", git " + rev if rev else "")


def mailrig_serve_works():
    try:
        r = subprocess.run([MAILRIG, "serve", "--help"], capture_output=True, text=True,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and "--listen" in (r.stdout + r.stderr)


# ===================================================== measuring

def loadgen(protocol, port, tls, cafile, seconds, concurrency, extra=()):
    cmd = [LOADGEN, "--protocol", protocol, "--port", str(port), "--seconds", str(seconds),
           "--concurrency", str(concurrency), "--user", USER, "--password", PASSWORD,
           "--rcpt", RCPT] + list(extra)
    if tls:
        cmd += ["--tls"] + (["--cafile", cafile] if cafile else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BenchError("mr_loadgen failed (%s): %s %s" % (" ".join(cmd), r.stdout, r.stderr))
    if r.stderr.strip():
        res["stderr"] = r.stderr.strip()
    return res


def idle(server, protocol, n, concurrency):
    """Hold n connections at the greeting; the server's memory then."""
    port = server.port(protocol, False)
    cmd = [LOADGEN, "--protocol", protocol, "--port", str(port), "--idle", str(n),
           "--concurrency", str(concurrency), "--seconds", "600", "--timeout", "60"]
    before = {pid: proc_pss(pid) for pid in server.pids()}
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        est = json.loads(line)
        time.sleep(0.5)      # let the server finish with the last greetings
        pids = server.pids()
        hwm = sum(proc_status(pid, "VmHWM") for pid in pids)
        rss = sum(proc_status(pid, "VmRSS") for pid in pids)
        pss = sum(proc_pss(pid) for pid in pids)
        p.stdin.close()
        rest = p.stdout.read()
        p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    closed = {}
    for l in rest.splitlines():
        try:
            closed = json.loads(l)
        except ValueError:
            pass
    return {"connections": est.get("connections", 0), "errors": est.get("errors", 0),
            "first_error": est.get("first_error"), "seconds": est.get("seconds"),
            "dropped": closed.get("dropped"), "processes": len(pids),
            "vmhwm_kb": hwm, "vmrss_kb": rss, "pss_kb": pss, "pss_before_kb": sum(before.values())}


# ===================================================== the run

PROTOCOLS = ("imap", "pop3", "smtp")


def start_servers(tmp, maildir, args, want_mailrig, servers):
    """Start every contender that can run, appending each server to
    servers as it starts (so that the caller stops them, also when one
    fails to start).  Returns {(protocol, tls): [(name, server)]} and the
    ones left out with the reason."""
    os.makedirs(tmp, exist_ok=True)
    cert, key = make_cert(tmp)
    os.chmod(tmp, 0o755)         # the servers' own users walk into it
    table, missing = {}, []
    root = os.geteuid() == 0

    def add(name, srv, protocols):
        for p in protocols:
            for tls in (False, True):
                if tls and args.no_tls:
                    continue
                if srv.port(p, tls) is None:
                    continue
                if not selected(args, p, tls, name):
                    continue
                table.setdefault((p, tls), []).append((name, srv))

    if want_mailrig:
        for p in PROTOCOLS:
            for tls in (False, True):
                if (tls and args.no_tls) or not selected(args, p, tls, "mailrig"):
                    continue
                d = os.path.join(tmp, "mailbox-mailrig-%s%s" % (p, "-tls" if tls else ""))
                copy_maildir(maildir, d)
                s = MailrigServe(tmp, p, tls, d)
                s.start()
                servers.append(s)
                add("mailrig", s, [p])
    dv_protocols = [p for p, pkg in (("imap", "dovecot-imapd"), ("pop3", "dovecot-pop3d"))
                    if dpkg_version(pkg) and shutil.which("dovecot")]
    for p, pkg in (("imap", "dovecot-imapd"), ("pop3", "dovecot-pop3d")):
        if p not in dv_protocols:
            missing.append("Dovecot %s (%s not installed)" % (p, pkg))
    if dv_protocols and any(selected(args, p, None, "dovecot") for p in dv_protocols):
        s = Dovecot(tmp, maildir, cert, key, dv_protocols, args.dovecot_mode)
        s.start()
        servers.append(s)
        add("dovecot", s, dv_protocols)
    if selected(args, "smtp", None, "exim"):
        if not shutil.which("exim4"):
            missing.append("Exim (exim4-daemon-light not installed)")
        elif not root:
            missing.append("Exim (needs root)")
        else:
            s = Exim(tmp, cert, key)
            s.start()
            servers.append(s)
            add("exim", s, ["smtp"])
    if selected(args, "smtp", None, "aiosmtpd"):
        try:
            import aiosmtpd  # noqa: F401
            have = True
        except ImportError:
            have = False
        if not have:
            missing.append("aiosmtpd (python3-aiosmtpd not installed)")
        else:
            s = Aiosmtpd(tmp, cert, key)
            s.start()
            servers.append(s)
            add("aiosmtpd", s, ["smtp"])
    return table, missing


def selected(args, protocol, tls, name):
    """--only PATTERN matches "protocol[-tls]/contender"."""
    if not args.only:
        return True
    keys = ["%s%s/%s" % (protocol, t, name) for t in (["", "-tls"] if tls is None else
                                                      ["-tls" if tls else ""])]
    return any(fnmatch.fnmatch(k, pat) for pat in args.only for k in keys)


def run_rounds(table, args):
    """{(protocol, tls, name): [result per round]}."""
    results = {}
    groups = sorted(table)
    for r in range(args.rounds):
        for (p, tls) in groups:
            contenders = table[(p, tls)]
            k = r % len(contenders)
            order = contenders[k:] + contenders[:k]
            if r % 2:
                order = order[::-1]
            for name, srv in order:
                cpu0 = cpu_seconds(srv.pids())
                res = loadgen(p, srv.port(p, tls), tls, srv.cafile(), args.seconds,
                              args.concurrency)
                res["server_cpu_s"] = cpu_seconds(srv.pids()) - cpu0
                results.setdefault((p, tls, name), []).append(res)
                if sys.stderr.isatty() or args.verbose:
                    log("round %d/%d %-4s %-5s %-9s %8.1f sessions/s  %d errors" % (
                        r + 1, args.rounds, p, "tls" if tls else "plain", name,
                        res["sessions_per_s"], res["errors"]))
    return results


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(v, digits=3):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f" % v
    return "%.*g" % (digits, v)


def mmm(xs):
    if not xs:
        return "-"
    return "%s (%s-%s)" % (fmt(med(xs)), fmt(min(xs)), fmt(max(xs)))


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores online; Linux %s" % (cpu, os.cpu_count() or 0, platform.release())


GOALS = [
    ("IMAP sessions/s, mailrig serve / Dovecot", "imap", False, "dovecot", 2.0),
    ("POP3 sessions/s, mailrig serve / Dovecot", "pop3", False, "dovecot", 2.0),
    ("IMAP with TLS sessions/s, mailrig serve / Dovecot", "imap", True, "dovecot", 2.0),
    ("POP3 with TLS sessions/s, mailrig serve / Dovecot", "pop3", True, "dovecot", 2.0),
]


def report(results, table, idles, servers, missing, args, maildir_desc):
    out = []
    w = out.append
    w("# Server benchmark results")
    w("")
    w("Made by `make bench-servers` (bench/servers.py) on %s: %d rounds, each measurement "
      "%g s of the dialogue repeated over %d concurrent connections by build/bench/mr_loadgen, "
      "the order of the contenders rotated between rounds. Figures are the median of the "
      "rounds (min-max); **ratios** are mailrig serve's sessions/s over the other's, taken "
      "inside each round, median (min-max): above 1, mailrig is faster. Latency is of a whole "
      "session (connect, TLS handshake, dialogue), p50/p99 of the median round."
      % (datetime.date.today().isoformat(), args.rounds, args.seconds, args.concurrency))
    w("")
    w("| machine | |")
    w("|---|---|")
    w("| CPU | %s |" % machine())
    w("| mailbox | %s |" % maildir_desc)
    vers = {}
    for s in servers:
        if hasattr(s, "version"):
            n = "mailrig" if isinstance(s, MailrigServe) else s.name
            vers[n] = s.version()
    for name in sorted(vers):
        w("| %s | %s |" % (name, vers[name]))
    if missing:
        w("| left out | %s |" % "; ".join(missing))
    w("")
    w("Dialogues: IMAP `LOGIN`, `SELECT INBOX`, `FETCH 1:10 (ENVELOPE BODYSTRUCTURE)` (10 FETCH "
      "responses checked), `LOGOUT`; POP3 `USER`, `PASS`, `STAT`, `LIST`, `RETR 1`, `QUIT`; "
      "SMTP `EHLO`, `MAIL FROM`, `RCPT TO`, `DATA` with a 400-byte message, `QUIT`. TLS is "
      "implicit (imaps, pop3s, submissions-style), a full handshake per session. Real servers "
      "are set up as bench/servers.py's header says (Dovecot in its high-performance mode, "
      "Exim discarding messages in the DATA ACL).")
    w("")

    def ratio_list(p, tls, other):
        a = results.get((p, tls, "mailrig"), [])
        b = results.get((p, tls, other), [])
        return [x["sessions_per_s"] / y["sessions_per_s"] for x, y in zip(a, b)
                if y["sessions_per_s"] > 0]

    goals = [(t, ratio_list(p, tls, o), bound) for t, p, tls, o, bound in GOALS
             if results.get((p, tls, "mailrig")) and results.get((p, tls, o))]
    if goals or idles:
        w("## Goals")
        w("")
        w("| goal | measured | bound | met |")
        w("|---|---|---|---|")
        for t, rl, bound in goals:
            met = rl and med(rl) >= bound
            w("| %s | %s | ≥ %g | %s |" % (t, mmm(rl), bound, "yes" if met else "**no**"))
        for key, v in idles.items():
            if key[1] == "mailrig" and v["connections"]:
                mb = v["vmhwm_kb"] / 1024
                met = v["connections"] >= args.idle and v["errors"] == 0 and mb < 256
                w("| %d idle %s sessions held by mailrig serve, peak RSS (VmHWM) | %.1f MB "
                  "(%d held, %d errors) | < 256 MB | %s |"
                  % (args.idle, key[0].upper(), mb, v["connections"], v["errors"],
                     "yes" if met else "**no**"))
        w("")

    w("## Sessions per second")
    w("")
    w("| dialogue | contender | sessions/s median (min-max) | mailrig / this | p50 ms | p99 ms "
      "| server CPU ms/session | client CPU ms/session | errors |")
    w("|---|---|---|---|---|---|---|---|---|")
    for (p, tls) in sorted(table):
        for name, _ in sorted(table[(p, tls)], key=lambda x: x[0] != "mailrig"):
            rs = results.get((p, tls, name), [])
            if not rs:
                continue
            rates = [x["sessions_per_s"] for x in rs]
            mid = sorted(rs, key=lambda x: x["sessions_per_s"])[len(rs) // 2]
            errs = sum(x["errors"] for x in rs)
            rl = ratio_list(p, tls, name) if name != "mailrig" else []
            scpu = [1000 * x["server_cpu_s"] / x["sessions"] for x in rs if x["sessions"]]
            ccpu = [1000 * x.get("client_cpu_s", 0) / x["sessions"] for x in rs if x["sessions"]]
            w("| %s%s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
                p.upper(), " TLS" if tls else "", name, mmm(rates),
                mmm(rl) if rl else "-", fmt(mid["p50_ms"]), fmt(mid["p99_ms"]),
                fmt(med(scpu)), fmt(med(ccpu)), errs))
    w("")
    grow = [s for s in servers if isinstance(s, MailrigServe) and getattr(s, "rss_after", 0)]
    if grow:
        w("mailrig serve's VmRSS after start (warm-up included) and after the rounds "
          "(sessions served: %s): growth that stays is what finished sessions leave behind."
          % ", ".join("%s%s %d" % (s.protocol, " TLS" if s.tls else "",
                                    sum(x["sessions"] for x in
                                        results.get((s.protocol, s.tls, "mailrig"), [])))
                      for s in grow))
        w("")
        w("| server | VmRSS after start | VmRSS after the rounds |")
        w("|---|---|---|")
        for s in grow:
            w("| mailrig serve %s%s | %.1f MB | %.1f MB |" % (
                s.protocol.upper(), " TLS" if s.tls else "", s.rss_start / 1024,
                s.rss_after / 1024))
        w("")
    notes = ["Server CPU is the CPU time the server's processes (and the children they "
             "reaped) used during the measurement, per session completed; client CPU the "
             "same for mr_loadgen. The machine has %d cores: mailrig serve runs in one "
             "process, Dovecot and Exim in many, and mr_loadgen shares the cores, so with TLS "
             "(where the client's half of each handshake costs about as much as the "
             "server's) sessions/s are partly bounded by the client; CPU per session is the "
             "figure that does not depend on that." % (os.cpu_count() or 0)]
    ex = results.get(("smtp", False, "exim"))
    if ex:
        notes.append("Exim on a plain connection sends its 221 reply to QUIT only about 200 ms "
                     "later (p50 %s ms above; with TLS it does not), so its plain figure is "
                     "bounded by concurrency / 0.2 s: it is Exim's behaviour as a client "
                     "sees it, not its capacity." % fmt(med([x["p50_ms"] for x in ex])))
    if notes:
        w("Notes:")
        w("")
        for n in notes:
            w("- " + n)
        w("")
    if idles:
        w("## Idle sessions")
        w("")
        w("%d connections opened (at most %d connecting at once), each reading the greeting, "
          "then held; the server's memory while they are held: VmHWM (peak RSS) and VmRSS "
          "from /proc/PID/status, and PSS (shared pages divided among the processes sharing "
          "them) from /proc/PID/smaps_rollup, each summed over the server's processes "
          "(Dovecot: master, login, auth, anvil, log, config, ...; the sums of VmHWM and "
          "VmRSS count the shared libraries once per process). Per connection: the growth "
          "of PSS from before the connections to while they are held, divided by their "
          "number. MB are MiB." % (args.idle, args.idle_concurrency))
        w("")
        w("| protocol | server | held | errors | seconds to open | processes | VmHWM | "
          "VmRSS | PSS | per connection |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for (p, name), v in sorted(idles.items()):
            per = (v["pss_kb"] - v["pss_before_kb"]) / v["connections"] if v["connections"] \
                else 0
            w("| %s | %s | %d | %d | %s | %d | %.1f MB | %.1f MB | %.1f MB | %.1f kB |" % (
                p.upper(), name, v["connections"], v["errors"], fmt(v["seconds"]),
                v["processes"], v["vmhwm_kb"] / 1024, v["vmrss_kb"] / 1024,
                v["pss_kb"] / 1024, per))
        w("")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--idle", type=int, default=10000,
                    help="idle connections held (0: no idle test)")
    ap.add_argument("--idle-concurrency", type=int, default=200)
    ap.add_argument("--idle-protocol", choices=PROTOCOLS, default="imap")
    ap.add_argument("--idle-servers", default="mailrig,dovecot",
                    help="which servers get the idle test (comma-separated)")
    ap.add_argument("--only", action="append", help="protocol[-tls]/contender glob, "
                    "e.g. 'imap*/*' or '*/dovecot' (repeatable)")
    ap.add_argument("--no-tls", action="store_true")
    ap.add_argument("--dovecot-mode", choices=("tuned", "default"), default="tuned",
                    help="tuned: login processes in high-performance mode, mail processes "
                    "reused (the default); default: Debian's process settings")
    ap.add_argument("--no-mailrig", action="store_true",
                    help="leave mailrig serve out (also when it does not work yet)")
    ap.add_argument("--results", help="write the table here (Markdown)")
    ap.add_argument("--check", action="store_true",
                    help="1 s per contender, 1 round: fail unless every one sees zero errors")
    ap.add_argument("--keep-tmp", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--aiosmtpd-child", nargs=4, metavar=("PLAIN", "TLS", "CERT", "KEY"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.aiosmtpd_child:
        a = args.aiosmtpd_child
        aiosmtpd_child(int(a[0]), int(a[1]), a[2], a[3])
        return 0
    if args.check:
        args.rounds, args.seconds, args.idle = 1, 1.0, 0
    if not os.access(LOADGEN, os.X_OK):
        log("error: %s is not built (make bench-servers builds it)" % LOADGEN)
        return 2

    want_mailrig = not args.no_mailrig
    if want_mailrig and not mailrig_serve_works():
        if args.check:
            log("error: %s serve does not work (mailrig serve --help)" % MAILRIG)
            return 1
        log("note: %s serve does not work yet; only the real servers are measured" % MAILRIG)
        want_mailrig = False

    tmp = tempfile.mkdtemp(prefix="mr-bench-servers-")
    servers = []
    try:
        src = find_maildir()
        if src:
            maildir_desc = "corpora/mailbox/default/ (%d messages in INBOX)" % sum(
                1 for s in ("cur", "new") if os.path.isdir(os.path.join(src, s))
                for f in os.listdir(os.path.join(src, s)) if not f.startswith("."))
        else:
            src = make_maildir(os.path.join(tmp, "maildir"))
            maildir_desc = ("a Maildir of corpora/mailbox/ messages 01-%02d (corpora/mailbox/"
                            "default/ not there yet)" % NMESSAGES)
        table, missing = start_servers(tmp, src, args, want_mailrig, servers)
        all_servers = list(servers)
        if not table:
            log("error: nothing to measure")
            return 1
        # A warm-up: first-session costs (Dovecot's index files, caches).
        for (p, tls), cs in table.items():
            for name, srv in cs:
                loadgen(p, srv.port(p, tls), tls, srv.cafile(), 0.3, 2)
        for srv in servers:
            if isinstance(srv, MailrigServe):
                srv.rss_start = proc_status(srv.proc.pid, "VmRSS")
        results = run_rounds(table, args)
        failed = []
        for key, rs in sorted(results.items()):
            errs = sum(x["errors"] for x in rs)
            if errs or any(x["sessions"] == 0 for x in rs):
                first = next((x.get("first_error") for x in rs if x.get("first_error")), "")
                failed.append("%s%s/%s: %d errors, %s sessions; %s" % (
                    key[0], "-tls" if key[1] else "", key[2], errs,
                    "/".join(str(x["sessions"]) for x in rs), first))
        # Memory of mailrig serve before and after the rounds: growth is
        # what sessions leave behind.
        for (p, tls), cs in table.items():
            for name, srv in cs:
                if isinstance(srv, MailrigServe):
                    srv.rss_after = proc_status(srv.proc.pid, "VmRSS")
        idles = {}
        if args.idle:
            # Fresh servers, so that VmHWM is the peak of holding the
            # connections, not of the rounds before.
            for s in servers:
                s.stop()
            del servers[:]
            wanted = args.idle_servers.split(",")
            idle_args = argparse.Namespace(**vars(args))
            idle_args.no_tls = True
            idle_args.only = ["%s/%s" % (args.idle_protocol, w) for w in wanted]
            itable, _ = start_servers(os.path.join(tmp, "idle"), src, idle_args,
                                      want_mailrig, servers)
            for name, srv in itable.get((args.idle_protocol, False), []):
                idles[(args.idle_protocol, name)] = idle(srv, args.idle_protocol, args.idle,
                                                         args.idle_concurrency)
        text = report(results, table, idles, all_servers, missing, args, maildir_desc)
        print(text)
        if args.results:
            with open(args.results, "w") as f:
                f.write(text)
        if failed:
            log("errors seen:\n  " + "\n  ".join(failed))
            return 1
        if args.check:
            log("bench-servers-check: %d contenders, no errors%s" % (
                len(results), ("; left out: " + "; ".join(missing)) if missing else ""))
        return 0
    except BenchError as e:
        log("error: %s" % e)
        return 1
    finally:
        for s in servers:
            s.stop()
        if args.keep_tmp:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
