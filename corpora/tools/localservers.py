"""What the scripts that run real mail servers on loopback share
(corpora/tools/capture.py, which records transcripts, and bench/servers.py,
which measures them): a free port, whether a port is listening, and
stopping a server's whole process group.
"""

import os
import signal
import socket
import subprocess


def free_port():
    """A port the OS considers free now (bind to port 0, then release)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    """True if something listens on 127.0.0.1:port (from /proc, so that
    the check makes no connection the server would log)."""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            for row in f.readlines()[1:]:
                cols = row.split()
                if cols[1] == want and cols[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def stop_group(proc):
    """End a server started with start_new_session=True: SIGTERM to its
    group, SIGKILL after 10 s, then SIGKILL to whatever the master left
    behind in the group (there should be nothing)."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
