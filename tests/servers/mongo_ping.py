#!/usr/bin/env python3
"""Send a MongoDB `ping` (OP_MSG) to 127.0.0.1:PORT, optionally retrying.

Usage: mongo_ping.py PORT [--wait SECONDS] [--pid PID]

Exit status: 0 the server answered {ok: 1}; 1 no answer before the deadline;
3 the process PID exited while waiting. Standard library only.
"""
import argparse
import os
import socket
import struct
import sys
import time

OP_MSG = 2013


def bson_ping():
    # {ping: 1 (int32), $db: "admin"}
    body = b"\x10ping\x00" + struct.pack("<i", 1)
    db = b"admin\x00"
    body += b"\x02$db\x00" + struct.pack("<i", len(db)) + db
    return struct.pack("<i", 4 + len(body) + 1) + body + b"\x00"


def op_msg(request_id, doc):
    payload = struct.pack("<I", 0) + b"\x00" + doc
    header = struct.pack("<iiii", 16 + len(payload), request_id, 0, OP_MSG)
    return header + payload


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


# Fixed-size BSON element types -> size in bytes.
_FIXED = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8,
          0x13: 16, 0x7F: 0, 0xFF: 0}


def bson_ok(doc):
    """Return the numeric value of the top-level `ok` field, or None."""
    pos, end = 4, len(doc) - 1
    while pos < end:
        etype = doc[pos]
        name_end = doc.index(b"\x00", pos + 1)
        name = doc[pos + 1:name_end]
        pos = name_end + 1
        if name == b"ok":
            if etype == 0x01:
                return struct.unpack_from("<d", doc, pos)[0]
            if etype == 0x10:
                return struct.unpack_from("<i", doc, pos)[0]
            if etype == 0x12:
                return struct.unpack_from("<q", doc, pos)[0]
            if etype == 0x08:
                return doc[pos]
            return None
        if etype in _FIXED:
            pos += _FIXED[etype]
        elif etype in (0x02, 0x0D, 0x0E):  # string, js code, symbol
            pos += 4 + struct.unpack_from("<i", doc, pos)[0]
        elif etype in (0x03, 0x04, 0x0F):  # document, array, code w/ scope
            pos += struct.unpack_from("<i", doc, pos)[0]
        elif etype == 0x05:  # binary
            pos += 5 + struct.unpack_from("<i", doc, pos)[0]
        elif etype == 0x0B:  # regex: two cstrings
            pos = doc.index(b"\x00", doc.index(b"\x00", pos) + 1) + 1
        elif etype == 0x0C:  # DBPointer
            pos += 4 + struct.unpack_from("<i", doc, pos)[0] + 12
        else:
            return None
    return None


def ping_once(port, timeout=2.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(op_msg(1, bson_ping()))
        length, _req, _resp, opcode = struct.unpack("<iiii", recv_exact(s, 16))
        body = recv_exact(s, length - 16)
        if opcode != OP_MSG:
            raise ValueError("unexpected opcode %d" % opcode)
        if body[4] != 0:
            raise ValueError("unexpected section kind %d" % body[4])
        doclen = struct.unpack_from("<i", body, 5)[0]
        ok = bson_ok(body[5:5 + doclen])
        return ok == 1


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child is not alive for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--wait", type=float, default=0.0)
    ap.add_argument("--pid", type=int)
    args = ap.parse_args()

    deadline = time.monotonic() + args.wait
    last = None
    while True:
        remaining = deadline - time.monotonic()
        try:
            if ping_once(args.port, timeout=min(2.0, max(0.2, remaining))):
                return 0
            last = "ping did not return ok: 1"
        except (OSError, ValueError, IndexError, struct.error) as e:
            last = str(e)
        if args.pid is not None and not pid_alive(args.pid):
            print("mongo_ping: process %d exited" % args.pid, file=sys.stderr)
            return 3
        if time.monotonic() >= deadline:
            print("mongo_ping: no ping reply on port %d: %s" % (args.port, last), file=sys.stderr)
            return 1
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
