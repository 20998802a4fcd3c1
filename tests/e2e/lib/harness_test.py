#!/usr/bin/env python3
"""harness.find_prompt: the tcpfp> prompt found where a worker's log line
landed inside it. The interleaved text is from a bench_quick run
(2026-12-03, tests/robust/overload_pair_test.py's client output), where
`"tcpfp> " in text` never held and the test timed out after 60 s.

    harness_test.py
"""
import os
import sys
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


if __name__ == "__main__":
    unittest.main()
