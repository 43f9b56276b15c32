#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_session (tests/fuzz/fuzz_session.c says
what the mode byte means): valid server answers to the fuzzed query, v4
envelopes and v5 envelopes that the harness wraps in a frame, with the
request's stream patched in (mode bit 2), plus an unsolicited EVENT and an
answer on a stream nobody asked for.

    tests/fuzz/gen_session_corpus.py tests/fuzz/corpus/fuzz_session
"""
import os
import struct
import sys

RESULT, ERROR, EVENT = 0x08, 0x00, 0x0C


def string(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def cell(b):
    return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b


def envelope(version, opcode, body, stream=0):
    return struct.pack(">BBhBI", version, 0, stream, opcode, len(body)) + body


def rows(paging_state=None, row_count=2):
    flags = 0x0001 | (0x0002 if paging_state is not None else 0)
    meta = struct.pack(">iii", 2, flags, 2)
    if paging_state is not None:
        meta += cell(paging_state)
    meta += string("ks") + string("t")
    meta += string("k") + struct.pack(">H", 0x000D)  # varchar
    meta += string("v") + struct.pack(">H", 0x0009)  # int
    body = meta + struct.pack(">i", row_count)
    for i in range(row_count):
        body += cell(b"key%d" % i) + cell(None if i == 1 else struct.pack(">i", 42 + i))
    return body


def bodies():
    yield "void", RESULT, struct.pack(">i", 1)
    yield "rows", RESULT, rows()
    yield "rows_paged", RESULT, rows(paging_state=b"\x00\x00\x00\x02")
    yield "rows_empty", RESULT, rows(row_count=0)
    yield "set_keyspace", RESULT, struct.pack(">i", 3) + string("ks")
    yield "schema_change", RESULT, struct.pack(">i", 5) + string("CREATED") + \
        string("TABLE") + string("ks") + string("t")
    yield "error_invalid", ERROR, struct.pack(">i", 0x2200) + string("unconfigured table")
    yield "error_unavailable", ERROR, struct.pack(">i", 0x1000) + string("no") + \
        struct.pack(">Hii", 4, 2, 1)
    yield "error_read_timeout", ERROR, struct.pack(">i", 0x1200) + string("slow") + \
        struct.pack(">HiiB", 1, 0, 1, 0)
    yield "error_unprepared", ERROR, struct.pack(">i", 0x2500) + string("gone") + \
        struct.pack(">H", 2) + b"\x01\x02"


def event_body():
    inet = bytes([4, 127, 0, 0, 1]) + struct.pack(">i", 9042)
    return string("STATUS_CHANGE") + string("DOWN") + inet


def main():
    root = sys.argv[1]
    os.makedirs(root, exist_ok=True)

    def save(name, mode, data):
        with open(os.path.join(root, name), "wb") as f:
            f.write(bytes([mode]) + data)

    for version, mode, tag in ((0x84, 0x04, "v4"), (0x85, 0x07, "v5")):
        for name, opcode, body in bodies():
            save("%s_%s" % (tag, name), mode, envelope(version, opcode, body))
        # An EVENT (stream -1) first, then the answer: stream not patched,
        # the answer says stream 0.
        both = envelope(version, EVENT, event_body(), -1) + \
            envelope(version, RESULT, rows(), 0)
        save("%s_event_then_rows" % tag, mode & ~0x04, both)
        save("%s_wrong_stream" % tag, mode & ~0x04,
             envelope(version, RESULT, rows(), 0x1234))


if __name__ == "__main__":
    main()
