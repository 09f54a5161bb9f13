#!/usr/bin/env python3
"""Hostile-client probes of `raterise serve` on 127.0.0.1 (RELIABILITY.md has the figures).

    python3 tests/tools/flood.py [path/to/raterise]   (default target/release/raterise)

Starts its own `raterise serve` (Slack endpoints only, database in a temp dir), then:
  1. body flood: 1,000 connections each send headers with a Content-Length under the body limit
     and part of the body, then stall; memory (VmRSS) before, the peak (VmHWM), and after they
     are closed; how many were refused with 503 at once.
  2. oversized: 1,000 connections announce a 2 MB body: all answered 413 without sending it.
  3. idle: 2,000 connections that send nothing: how many the server holds, how fast the rest are
     refused, whether /healthz answers meanwhile, and how long until the held ones are closed.
  4. slow headers: one client sends half a request line per second: time until closed.
Only 127.0.0.1 is ever contacted.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/raterise"


def rss_kb(pid, key="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def healthz(base, timeout=2.0):
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=timeout) as r:
            return r.status
    except Exception as e:  # refused, reset or timed out
        return type(e).__name__


def connect(addr):
    s = socket.create_connection(addr)
    s.setblocking(True)
    return s


def closed_or_answered(s, timeout):
    """(first bytes the server sent or b'', seconds) once it answers or closes; None on timeout."""
    s.settimeout(timeout)
    start = time.monotonic()
    try:
        data = s.recv(64)
        return data, time.monotonic() - start
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return b"", time.monotonic() - start


def main():
    tmp = tempfile.mkdtemp(prefix="raterise-flood-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "RATERISE_"))}
    env.update({"RATERISE_DB": os.path.join(tmp, "raterise.db"), "SLACK_SIGNING_SECRET": "flood-secret",
                "SLACK_API_URL": "http://127.0.0.1:9/api", "RUST_LOG": "warn"})
    child = subprocess.Popen([BIN, "serve", "--bind", "127.0.0.1:0"], stdout=subprocess.PIPE, env=env, text=True)
    line = child.stdout.readline()
    base = line.strip().removeprefix("raterise listening on ")
    host, port = base.removeprefix("http://").split(":")
    addr = (host, int(port))
    pid = child.pid
    time.sleep(0.5)
    print(f"serve pid {pid} at {base}; idle VmRSS {rss_kb(pid)} kB")

    # 1. Body flood: bodies within the limit, never finished.
    before = rss_kb(pid)
    head = (b"POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"X-Slack-Signature: v0=00\r\nX-Slack-Request-Timestamp: 1\r\nContent-Length: 120000\r\n\r\n")
    part = b"x" * 100_000
    socks = []
    for _ in range(1000):
        try:
            s = connect(addr)
            s.sendall(head)
            s.settimeout(0.5)
            try:
                s.sendall(part)
            except (socket.timeout, OSError):
                pass
            socks.append(s)
        except OSError:
            pass
    time.sleep(1.0)
    during = rss_kb(pid)
    refused = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(12).startswith(b"HTTP/1.1 503"):
                refused += 1
        except (BlockingIOError, OSError):
            pass
    hz = healthz(base)
    start = time.monotonic()
    answered_408 = 0
    for s in socks:
        r = closed_or_answered(s, 30)
        if r and r[0].startswith(b"HTTP/1.1 408"):
            answered_408 += 1
    closed_after = time.monotonic() - start
    for s in socks:
        s.close()
    time.sleep(2.0)
    after = rss_kb(pid)
    time.sleep(8.0)
    after10 = rss_kb(pid)
    peak = rss_kb(pid, "VmHWM")
    print(f"body flood: {len(socks)} connections x 100,000 of 120,000 bytes: VmRSS before {before} kB, "
          f"while held {during} kB, peak (VmHWM) {peak} kB, 2 s after {after} kB, 10 s after {after10} kB; "
          f"refused at once (503) {refused}; "
          f"408 after the body timeout {answered_408}; all closed within {closed_after:.1f} s; /healthz during: {hz}")

    # 2. Oversized: refused from the Content-Length, nothing sent.
    big = head.replace(b"Content-Length: 120000", b"Content-Length: 2000000")
    got413 = 0
    t0 = time.monotonic()
    for _ in range(1000):
        s = connect(addr)
        s.sendall(big)
        r = closed_or_answered(s, 5)
        if r and r[0].startswith(b"HTTP/1.1 413"):
            got413 += 1
        s.close()
    print(f"oversized: 1000 requests announcing 2,000,000 bytes: {got413} answered 413 without a body "
          f"({time.monotonic() - t0:.1f} s for all); VmRSS now {rss_kb(pid)} kB")

    # 3. Idle connections.
    idle = []
    t0 = time.monotonic()
    for _ in range(2000):
        try:
            idle.append(connect(addr))
        except OSError:
            break
    time.sleep(0.5)
    refused_idle, held = 0, []
    for s in idle:
        s.setblocking(False)
        try:
            data = s.recv(64)
            if data.startswith(b"HTTP/1.1 503") or data == b"":
                refused_idle += 1
                continue
        except BlockingIOError:
            pass
        except OSError:
            refused_idle += 1
            continue
        held.append(s)
    hz_full = healthz(base)
    start = time.monotonic()
    closed = [closed_or_answered(s, 30) for s in held]
    close_times = sorted(c[1] for c in closed if c is not None)
    hz_after = healthz(base)
    for s in idle:
        s.close()
    print(f"idle: 2000 connections sending nothing: {refused_idle} refused at once, {len(held)} held; "
          f"/healthz while held: {hz_full}; held ones closed after "
          f"{close_times[0] if close_times else float('nan'):.1f}-{close_times[-1] if close_times else float('nan'):.1f} s "
          f"({len(close_times)} of {len(held)} closed); /healthz after: {hz_after}; VmRSS {rss_kb(pid)} kB")

    # 4. Slow headers: half a line a second.
    s = connect(addr)
    start = time.monotonic()
    closed_at = None
    for chunk in [b"POST /slack/commands HTTP/1.1\r\n", b"Host: x\r\n", b"X-Slack-Signature: v0=00\r\n"] * 20:
        try:
            s.sendall(chunk)
        except OSError:
            closed_at = time.monotonic() - start
            break
        s.settimeout(1.0)
        try:
            if s.recv(64) == b"":
                closed_at = time.monotonic() - start
                break
        except socket.timeout:
            pass
        except OSError:
            closed_at = time.monotonic() - start
            break
    s.close()
    print(f"slow headers (a line a second): closed after {closed_at if closed_at is None else round(closed_at, 1)} s; "
          f"/healthz: {healthz(base)}")

    child.terminate()
    child.wait(timeout=30)


if __name__ == "__main__":
    main()
