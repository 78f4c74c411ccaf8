#!/usr/bin/python3
"""An independent CURVE client (pyzmq) against roster-broker.

Keys come from `rosterctl keygen` and are read with pyzmq's own
zmq.auth.load_certificate (which also checks the certificate format). A
client with an allowed key joins; the same key claiming another node id
is refused with `forbidden`; a client with an unknown key, and one
without CURVE, get no reply at all.

Usage: curve_pyzmq_check.py BIN_DIR   (exit 0: pass, 1: fail)
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import zmq
import zmq.auth

NOTHING_WITHIN_MS = 1500
REPLY_WITHIN_MS = 10000


def pack(value):
    """msgpack for the str/uint maps of agent requests."""
    if isinstance(value, dict):
        out = bytes([0x80 | len(value)])
        for k, v in value.items():
            out += pack(k) + pack(v)
        return out
    if isinstance(value, str):
        data = value.encode()
        assert len(data) < 32
        return bytes([0xA0 | len(data)]) + data
    if isinstance(value, int) and 0 <= value < 128:
        return bytes([value])
    return b"\xcf" + struct.pack(">Q", value)


def unpack(data, pos=0):
    """(value, next position) for the maps, strings and integers of replies."""
    b = data[pos]
    if b < 0x80:
        return b, pos + 1
    if 0x80 <= b <= 0x8F or b == 0xDE:
        n, pos = (b & 0x0F, pos + 1) if b != 0xDE else (struct.unpack(">H", data[pos + 1:pos + 3])[0], pos + 3)
        out = {}
        for _ in range(n):
            k, pos = unpack(data, pos)
            v, pos = unpack(data, pos)
            out[k] = v
        return out, pos
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        return data[pos + 1:pos + 1 + n].decode(), pos + 1 + n
    if b in (0xD9, 0xDA):
        size = 1 if b == 0xD9 else 2
        n = int.from_bytes(data[pos + 1:pos + 1 + size], "big")
        start = pos + 1 + size
        return data[start:start + n].decode(), start + n
    if b in (0xCC, 0xCD, 0xCE, 0xCF):
        size = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}[b]
        return int.from_bytes(data[pos + 1:pos + 1 + size], "big"), pos + 1 + size
    if b in (0xC0, 0xC2, 0xC3):
        return {0xC0: None, 0xC2: False, 0xC3: True}[b], pos + 1
    raise ValueError("unexpected msgpack byte 0x%02x" % b)


def keygen(rosterctl, path, *globs):
    argv = [rosterctl, "keygen", path]
    for glob in globs:
        argv += ["--node", glob]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def wait_ready(path, broker):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if broker.poll() is not None:
            raise RuntimeError("broker exited with %d" % broker.returncode)
        if os.path.exists(path):
            lines = dict(l.split("=", 1) for l in open(path).read().split() if "=" in l)
            if "agents" in lines:
                return lines
        time.sleep(0.02)
    raise RuntimeError("broker not ready")


def join(ctx, endpoint, node, keys, server_public, timeout_ms):
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    if keys is not None:
        sock.curve_publickey, sock.curve_secretkey = keys
        sock.curve_serverkey = server_public
    sock.connect(endpoint)
    sock.send(pack({"v": 1, "type": "join", "node": node, "inc": 1, "seq": 1,
                    "lease_ms": 60000}))
    reply = None
    if sock.poll(timeout_ms):
        reply, _ = unpack(sock.recv_multipart()[-1])
    sock.close()
    return reply


def main():
    bin_dir = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="roster-pyzmq-")
    broker = None
    failures = []
    try:
        rosterctl = os.path.join(bin_dir, "rosterctl")
        for sub in ("agents", "admin"):
            os.mkdir(os.path.join(tmp, sub))
        keygen(rosterctl, os.path.join(tmp, "broker"))
        keygen(rosterctl, os.path.join(tmp, "web"), "web-*")
        keygen(rosterctl, os.path.join(tmp, "ops"))
        keygen(rosterctl, os.path.join(tmp, "stranger"), "web-*")
        shutil.copy(os.path.join(tmp, "web"), os.path.join(tmp, "agents", "web"))
        shutil.copy(os.path.join(tmp, "ops"), os.path.join(tmp, "admin", "ops"))
        ready = os.path.join(tmp, "ready")
        log = open(os.path.join(tmp, "broker.log"), "w")
        broker = subprocess.Popen(
            [os.path.join(bin_dir, "roster-broker"), "--agents", "tcp://127.0.0.1:*",
             "--publish", "tcp://127.0.0.1:*", "--admin", "tcp://127.0.0.1:*",
             "--curve-secret", os.path.join(tmp, "broker_secret"),
             "--agent-keys", os.path.join(tmp, "agents"),
             "--admin-keys", os.path.join(tmp, "admin"),
             "--subscriber-keys", "any", "--ready-file", ready],
            stdout=log, stderr=subprocess.STDOUT)
        agents = wait_ready(ready, broker)["agents"]

        server_public, _ = zmq.auth.load_certificate(os.path.join(tmp, "broker"))
        web = zmq.auth.load_certificate(os.path.join(tmp, "web_secret"))
        stranger = zmq.auth.load_certificate(os.path.join(tmp, "stranger_secret"))
        ctx = zmq.Context()

        reply = join(ctx, agents, "web-1", web, server_public, REPLY_WITHIN_MS)
        if not reply or reply.get("type") != "ack":
            failures.append("allowed key, web-1: expected ack, got %r" % (reply,))
        reply = join(ctx, agents, "db-1", web, server_public, REPLY_WITHIN_MS)
        if not reply or reply.get("type") != "error" or reply.get("code") != "forbidden":
            failures.append("allowed key, db-1: expected forbidden, got %r" % (reply,))
        reply = join(ctx, agents, "web-2", stranger, server_public, NOTHING_WITHIN_MS)
        if reply is not None:
            failures.append("unknown key: expected no reply, got %r" % (reply,))
        reply = join(ctx, agents, "web-3", None, None, NOTHING_WITHIN_MS)
        if reply is not None:
            failures.append("no CURVE: expected no reply, got %r" % (reply,))
        ctx.destroy(linger=0)
    finally:
        if broker is not None:
            broker.terminate()
            try:
                broker.wait(10)
            except subprocess.TimeoutExpired:
                broker.kill()
        if failures:
            sys.stdout.write(open(os.path.join(tmp, "broker.log")).read())
        shutil.rmtree(tmp, ignore_errors=True)
    for failure in failures:
        print("FAIL:", failure)
    if not failures:
        print("pass: pyzmq joined with an allowed key and was refused otherwise")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
