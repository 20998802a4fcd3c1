#!/usr/bin/env python3
"""harness.find_prompt: the tcpfp> prompt found where a worker's log line
landed inside it. The interleaved text is from a bench_quick run
(2026-12-03, tests/robust/overload_pair_test.py's client output), where
`"tcpfp> " in text` never held and the test timed out after 60 s.

harness.exchange: an echo larger than the buffers on its way completes.
Against a loopback echo server with 64 KB socket buffers on both sides,
sending all 2 MB before reading deadlocked (robust/signal_queue, CI of
2026-12-05: its 1 MB echo through tcpfp's 64 KB buffers timed out in
sendall when Linux's send buffer had not grown).

    harness_test.py
"""
import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SPLIT = ("tcpfp.svc: http: listening on TCP port 80\n"
         "tcptcpfp.app: worker 0 on lcore 1 running (RX/TX queue 0)\n"
         "fp> ")


class FindPrompt(unittest.TestCase):
    def test_a_log_line_inside_the_prompt(self):
        self.assertNotIn("tcpfp> ", SPLIT)
        self.assertEqual(h.find_prompt(SPLIT), SPLIT.index("tcptcpfp.app"))

    def test_two_log_lines_and_an_eal_line(self):
        text = "t" + "tcpfp.arp: 172.16.48.1 is at 02:00:00:00:00:01\n" + "cpfp" + "EAL: x\n" + "> "
        self.assertEqual(h.find_prompt(text), 0)

    def test_a_plain_prompt_after_start(self):
        text = "tcpfp> show port stats 0\n  TX-packets: 1\ntcpfp> "
        self.assertEqual(h.find_prompt(text, len("tcpfp> show")), text.rindex("tcpfp> "))

    def test_no_prompt(self):
        self.assertEqual(h.find_prompt("tcpfp.app: worker 0 running\ntcpfp.svc: x\n"), -1)
        self.assertEqual(h.find_prompt("tcpfp>\n"), -1)


class SmallBufferEcho:
    """A loopback echo server whose sockets, and the client's, have 64 KB
    buffers (128 KB each once Linux doubles them): together at most 512 KB,
    a quarter of the data. (Much smaller buffers make loopback crawl through
    window probes.)"""

    BUF = 65536

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.listener.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.BUF)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.BUF)
        with conn:
            try:
                while True:
                    data = conn.recv(self.BUF)
                    if not data:
                        conn.shutdown(socket.SHUT_WR)
                        return
                    conn.sendall(data)
            except OSError:  # the client gave up (a failing test): its error is the one to see
                return

    def connect(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.BUF)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.BUF)
        s.settimeout(5)
        s.connect(self.listener.getsockname())
        return s

    def close(self):
        self.thread.join(10)
        self.listener.close()


class Exchange(unittest.TestCase):
    DATA = os.urandom(2 << 20)

    def test_echo_larger_than_the_buffers_keeps_the_connection_open(self):
        server = SmallBufferEcho()
        with server.connect() as s:
            self.assertEqual(h.exchange(s, self.DATA, until_eof=False), self.DATA)
            self.assertEqual(s.gettimeout(), 5)  # the caller's timeout comes back
            self.assertEqual(h.exchange(s, b"one more", until_eof=False), b"one more")
        server.close()

    def test_send_then_read_to_eof_larger_than_the_buffers(self):
        server = SmallBufferEcho()
        with server.connect() as s:
            self.assertEqual(h.send_then_read_to_eof(s, self.DATA), self.DATA)
        server.close()

    def test_nothing_to_send_reads_to_eof(self):
        server = SmallBufferEcho()
        with server.connect() as s:
            self.assertEqual(h.send_then_read_to_eof(s, b""), b"")
        server.close()

    def test_a_silent_peer_times_out(self):
        listener = socket.create_server(("127.0.0.1", 0))
        with socket.create_connection(listener.getsockname(), timeout=0.5) as s:
            with self.assertRaises(TimeoutError):
                h.exchange(s, b"x", until_eof=False)
        listener.close()


if __name__ == "__main__":
    unittest.main()
