# Short traffic-generator runs over the stack-to-stack pair (scripts/pair.sh):
# crr, rr and bulk against the server's echo (7), discard (9) and HTTP (80)
# services, each checked with expect gen. Run it with
#   scripts/pair.sh -- --cmdline-file scripts/gen-pair.cmd
# (tests/cli/gen_test.py does, under meson test --suite cli).
wait arp 172.16.48.1
# The client closes first in crr: its TIME_WAITs hold the 4-tuples. A short
# TIME_WAIT keeps the ephemeral ports of four addresses from running out.
set timewait 1000

# rr: persistent connections, 64-byte request/response, every byte verified.
# A count, not a duration: a busy machine (CI's may be) takes longer for the
# same work instead of doing less of it (406 requests in 1 s once, with the
# worker given 5 % of a CPU).
start gen rr 172.16.48.1:7 conns 16 size 64 count 2000 verify
wait gen
expect gen requests >= 2000
expect gen errors == 0
expect gen conns_failed == 0
expect gen conns_opened == 16
expect gen p50_us > 0
show gen json

# crr: connect, 64 bytes there and back, close; repeat. A count, not a
# duration: a fast machine would otherwise use up the 65536 4-tuples of
# four addresses within the 1 s TIME_WAIT.
start gen crr 172.16.48.1:7 conns 8 size 64 count 5000 verify
wait gen
expect gen requests >= 5000
expect gen conns_opened >= 5000
expect gen errors == 0
expect gen conns_failed == 0
show gen json

# crr against the HTTP service: GET with Connection: close, full response.
start gen crr 172.16.48.1:80 conns 8 count 500
wait gen
expect gen requests >= 500
expect gen errors == 0
expect gen conns_failed == 0

# bulk against echo, verified, then against discard.
# (How much a second moves depends on the machine: the floor is progress;
# verify checks every byte that came back.)
start gen bulk 172.16.48.1:7 conns 2 duration 1 verify
wait gen
expect gen bytes_received > 0
expect gen errors == 0
expect gen conns_failed == 0
start gen bulk 172.16.48.1:9 conns 1 count 1000 size 16384
wait gen
expect gen bytes_sent >= 16384000
expect gen errors == 0

# hold: N connections ESTABLISHED, then closed by stop gen.
start gen hold 172.16.48.1:9 conns 200
wait gen timeout 10000
expect gen active == 200
stop gen
expect gen active == 0
expect gen conns_failed == 0
