#!/usr/bin/env python3
"""Tiny raw CQL native-protocol v4 probe (stdlib only) used by the cassandra-local check.

It speaks just enough of the protocol to prove what the server demands at connection time:

  cql_probe.py HOST [--port 9042] [--cafile CA.pem] --expect ready
      STARTUP must be answered with READY (no authentication configured).
  cql_probe.py HOST [--cafile CA.pem] --expect auth-ok --user U --password P
      STARTUP must get AUTHENTICATE; AUTH_RESPONSE (SASL PLAIN) must get AUTH_SUCCESS.
  cql_probe.py HOST [--cafile CA.pem] --expect auth-fail --user U --password WRONG
      STARTUP must get AUTHENTICATE; AUTH_RESPONSE must get ERROR 0x0100 (bad credentials).

With --cafile the connection uses TLS and verifies the server certificate (chain and IP/host
name) against that CA. Exit status 0 when the expectation holds, 1 otherwise.
"""

import argparse
import socket
import ssl
import struct
import sys

VERSION_REQUEST = 0x04
VERSION_RESPONSE = 0x84
HEADER = struct.Struct(">BBhBI")  # version, flags, stream, opcode, body length

OP_ERROR = 0x00
OP_STARTUP = 0x01
OP_READY = 0x02
OP_AUTHENTICATE = 0x03
OP_AUTH_RESPONSE = 0x0F
OP_AUTH_SUCCESS = 0x10
OPCODE_NAMES = {0x00: "ERROR", 0x02: "READY", 0x03: "AUTHENTICATE", 0x10: "AUTH_SUCCESS",
                0x0E: "AUTH_CHALLENGE"}

ERR_BAD_CREDENTIALS = 0x0100


def cql_string(s):
    data = s.encode("utf-8")
    return struct.pack(">H", len(data)) + data


def string_map(pairs):
    return struct.pack(">H", len(pairs)) + b"".join(cql_string(k) + cql_string(v) for k, v in pairs.items())


def cql_bytes(data):
    return struct.pack(">i", len(data)) + data


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.stream = 0

    def request(self, opcode, body):
        self.stream += 1
        self.sock.sendall(HEADER.pack(VERSION_REQUEST, 0, self.stream, opcode, len(body)) + body)
        version, flags, stream, op, length = HEADER.unpack(recv_exact(self.sock, HEADER.size))
        reply = recv_exact(self.sock, length)
        if version != VERSION_RESPONSE:
            raise ValueError(f"unexpected response version 0x{version:02x}")
        if stream != self.stream:
            raise ValueError(f"reply on stream {stream}, expected {self.stream}")
        return op, reply


def read_string(body, pos):
    (n,) = struct.unpack_from(">H", body, pos)
    return body[pos + 2:pos + 2 + n].decode("utf-8", "replace"), pos + 2 + n


def describe(op, body):
    name = OPCODE_NAMES.get(op, f"0x{op:02x}")
    if op == OP_ERROR and len(body) >= 6:
        (code,) = struct.unpack_from(">i", body, 0)
        msg, _ = read_string(body, 4)
        return f"ERROR code=0x{code:04x} {msg!r}"
    if op == OP_AUTHENTICATE and len(body) >= 2:
        return f"AUTHENTICATE {read_string(body, 0)[0]}"
    return name


def connect(args):
    raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
    if not args.cafile:
        return raw
    ctx = ssl.create_default_context(cafile=args.cafile)  # verifies chain and host/IP name
    return ctx.wrap_socket(raw, server_hostname=args.server_name or args.host)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("host")
    p.add_argument("--port", type=int, default=9042)
    p.add_argument("--cafile", help="use TLS, trusting only this CA")
    p.add_argument("--server-name", help="TLS name to verify (default: host)")
    p.add_argument("--expect", required=True, choices=["ready", "auth-ok", "auth-fail"])
    p.add_argument("--user", default="cassandra")
    p.add_argument("--password", default="cassandra")
    p.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()

    def fail(msg):
        print(f"cql_probe {args.host}:{args.port}: FAIL: {msg}")
        return 1

    try:
        conn = Conn(connect(args))
        op, body = conn.request(OP_STARTUP, string_map({"CQL_VERSION": "3.0.0"}))
        print(f"cql_probe: STARTUP -> {describe(op, body)}")
        if args.expect == "ready":
            return 0 if op == OP_READY else fail(f"expected READY, got {describe(op, body)}")
        if op != OP_AUTHENTICATE:
            return fail(f"expected AUTHENTICATE, got {describe(op, body)}")

        token = b"\0" + args.user.encode() + b"\0" + args.password.encode()
        op, body = conn.request(OP_AUTH_RESPONSE, cql_bytes(token))
        print(f"cql_probe: AUTH_RESPONSE({args.user}) -> {describe(op, body)}")
        if args.expect == "auth-ok":
            return 0 if op == OP_AUTH_SUCCESS else fail(f"expected AUTH_SUCCESS, got {describe(op, body)}")
        code = struct.unpack_from(">i", body, 0)[0] if op == OP_ERROR and len(body) >= 4 else None
        if code == ERR_BAD_CREDENTIALS:
            return 0
        return fail(f"expected ERROR 0x0100, got {describe(op, body)}")
    except (OSError, ValueError, ConnectionError) as e:  # ssl.SSLError is an OSError
        return fail(f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    sys.exit(main())
