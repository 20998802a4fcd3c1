"""Bulk transfers for the e2e tests: a payload streamed through tcpfp's echo
service (sender and receiver in two threads, hashed on the fly), and the
chargen service's RFC 864 pattern read and checked."""
import hashlib
import os
import socket
import threading

CHUNK = 1 << 16


def echo_roundtrip(addr, total, timeout=60):
    """Sends `total` pseudo-random bytes to addr:7, half-closes, reads the echo
    to EOF. Returns (sha256 sent, sha256 received, bytes received)."""
    block = os.urandom(1 << 20)
    sent_hash = hashlib.sha256()
    got_hash = hashlib.sha256()
    got = [0]
    s = socket.create_connection((addr, 7), timeout=timeout)

    def reader():
        while True:
            data = s.recv(CHUNK)
            if not data:
                return
            got_hash.update(data)
            got[0] += len(data)

    r = threading.Thread(target=reader)
    r.start()
    left = total
    while left > 0:
        piece = block[: min(left, len(block))]
        s.sendall(piece)
        sent_hash.update(piece)
        left -= len(piece)
    s.shutdown(socket.SHUT_WR)  # Linux closes first: tcpfp goes CLOSE_WAIT, then LAST_ACK
    r.join(timeout)
    s.close()
    return sent_hash.hexdigest(), got_hash.hexdigest(), got[0]


# RFC 864's chargen pattern: 95 lines of 72 printable characters, each line
# starting one character further on; the 7,030-byte period repeats.
CHARGEN_PERIOD = b"".join(bytes((32 + (n + i) % 95) for i in range(72)) + b"\r\n" for n in range(95))


def chargen_expected(total):
    """The first `total` bytes of RFC 864's pattern, hashed."""
    period = CHARGEN_PERIOD
    h = hashlib.sha256()
    reps, rest = divmod(total, len(period))
    big = period * 64
    while reps >= 64:
        h.update(big)
        reps -= 64
    h.update(period * reps + period[:rest])
    return h.hexdigest()


def chargen_read(addr, total, timeout=60):
    """Reads exactly `total` bytes from addr:19; returns their sha256."""
    h = hashlib.sha256()
    with socket.create_connection((addr, 19), timeout=timeout) as s:
        left = total
        while left > 0:
            data = s.recv(min(CHUNK, left))
            if not data:
                break
            h.update(data)
            left -= len(data)
    return h.hexdigest(), total - left
