# The load tester's profiles, options and reports over the stack-to-stack
# pair (scripts/pair.sh -- --cmdline-file scripts/gen-options.cmd; the
# cli suite's gen-options case). Bad values at the end: each must fail
# with a message that names what is wrong (expect-fail "TEXT" COMMAND).
wait arp 172.16.48.1
set timewait 1000

# Two named profiles at once, each with its own counters and histograms:
# keep-alive echo exchanges at a ramped rate, HTTP connections at a fixed one.
start gen ka rr 172.16.48.1:7 conns 4 rate 2000/s ramp 0.5 duration 2 verify
start gen web crr 172.16.48.1:80 conns 4 rate 300/s duration 2
show gen ka
wait gen ka
wait gen web
expect gen ka errors == 0
expect gen ka conns_failed == 0
expect gen ka target_rate == 2000
expect gen ka requests > 0      # the rate is a schedule: rate_missed counts what a busy machine could not start
expect gen ka p99_us > 0
expect gen ka connect_samples == 4
expect gen web errors == 0
expect gen web status_2xx > 0
expect gen web closed_by_server > 0
show gen json
save gen web /tmp/tcpfp-gen-options-web
# The ends of both runs: every response read before our FIN, so nothing
# arrived for a closed socket here and nothing was reset.
expect stat orphan_data == 0
expect stat no_listener == 0
expect stat out_rsts == 0

# HTTP request options: method, path, Host, an extra header, pipelining.
start gen hdr rr 172.16.48.1:80 conns 2 count 200 method GET path /x host example.test header "X-Test: 1" pipeline 4
wait gen hdr
expect gen hdr status_2xx >= 200
expect gen hdr conns_opened == 2
expect gen hdr errors == 0

# Per-profile TCP knobs and a source port range.
start gen knobs rr 172.16.48.1:7 conns 2 count 100 mss 536 wscale off sack off ts off cc newreno nodelay on sndbuf 65536 rcvbuf 65536 ttl 32 tos 32 sport 40000-40100
wait gen knobs
expect gen knobs errors == 0
expect gen knobs requests >= 100

# The client's close as an RST.
start gen rst crr 172.16.48.1:7 conns 2 count 100 close rst
wait gen rst
expect gen rst closed_rst >= 99
expect gen rst errors == 0

# syn-window: at most N connection attempts in flight (an open loop past a
# server's capacity raises it; here one SYN at a time still gets through).
start gen sw crr 172.16.48.1:7 conns 8 count 100 syn-window 1
wait gen sw
expect gen sw requests >= 100
expect gen sw conns_failed == 0

# stop gen NAME: no new requests, the ones in flight read, then FIN for all.
start gen long rr 172.16.48.1:7 conns 8 think 1
sleep 300
stop gen long
expect gen long closed_fin == 8
expect gen long active == 0
expect gen long drain_timeouts == 0

# tcpfp's rr service (port 5001) learns the response size from each
# request's header: 100-byte requests, 16 KB responses, at a target rate,
# every response byte checked.
start gen sizes rr 172.16.48.1:5001 conns 8 request 100 response 16384 rate 1000/s duration 2 verify
wait gen sizes
expect gen sizes errors == 0
expect gen sizes conns_failed == 0
expect gen sizes requests > 100     # a floor a busy machine still meets: rate_missed counts the rest
# HTTP bodies from tcpfp's server: GET /bytes/N (Content-Length) and
# /chunked/N (chunked), each body checked byte by byte.
start gen bytes rr 172.16.48.1:80 conns 2 count 50 response 100000 verify
wait gen bytes
expect gen bytes errors == 0
expect gen bytes status_2xx >= 50
start gen chunks rr 172.16.48.1:80 conns 2 count 50 path /chunked/50000 verify
wait gen chunks
expect gen chunks errors == 0
expect gen chunks status_2xx >= 50
start gen e404 crr 172.16.48.1:80 conns 2 count 20 path /status/404
wait gen e404
expect gen e404 status_4xx >= 20
expect gen e404 errors == 0

# hold with a size: 64 bytes once per connection, then held (a server that
# never reads keeps one buffer chunk per connection: issue 16's data in flight).
start gen hb hold 172.16.48.1:9 conns 4 size 64 duration 1
wait gen hb
expect gen hb bytes_sent == 256
expect gen hb errors == 0
expect gen hb conns_failed == 0
# hold with proto rr: one 64-byte request for 1 KB on each connection; the
# responses stay unread in our receive buffers (the rr service on 5001).
# close-window 1: the end-of-run closes go one unanswered FIN at a time.
start gen hr hold 172.16.48.1:5001 conns 4 proto rr request 64 response 1024 duration 1 close-window 1
wait gen hr
expect gen hr bytes_sent == 256
expect gen hr bytes_received == 0
expect gen hr errors == 0
expect gen hr conns_failed == 0
expect-fail "no http" start gen hold 172.16.48.1:80 conns 2 proto http

# Bad values name what is wrong.
expect-fail "hold sends" start gen hold 172.16.48.1:9 conns 2 proto echo response 10
expect-fail "rate" start gen rr 172.16.48.1:7 conns 2 rate 0
expect-fail "rate: crr, hold" start gen bulk 172.16.48.1:9 conns 1 rate 10/s
expect-fail "ramp needs a rate" start gen rr 172.16.48.1:7 conns 2 ramp 1
expect-fail "think and pipeline apply to rr" start gen crr 172.16.48.1:7 conns 2 think 5
expect-fail "pipeline" start gen rr 172.16.48.1:7 conns 2 pipeline 9
expect-fail "response" start gen rr 172.16.48.1:7 conns 2 response 100 proto echo
expect-fail "closer server" start gen crr 172.16.48.1:7 conns 2 closer server
expect-fail "fin or rst" start gen crr 172.16.48.1:7 conns 2 close maybe
expect-fail "syn-window 0 (1..10000000)" start gen crr 172.16.48.1:7 conns 2 syn-window 0
expect-fail "close-window 0 (1..10000000)" start gen hold 172.16.48.1:9 conns 2 close-window 0
expect-fail "echo, rr or http" start gen rr 172.16.48.1:7 conns 2 proto ftp
expect-fail "HTTP method token" start gen rr 172.16.48.1:80 conns 2 method G/T
expect-fail "starts with /" start gen rr 172.16.48.1:80 conns 2 path nopath
expect-fail "Name: value" start gen rr 172.16.48.1:80 conns 2 header "NoColon"
expect-fail "64 hex digits" start gen rr 172.16.48.1:80 conns 2 sha256 abc
expect-fail "mss" start gen rr 172.16.48.1:7 conns 2 mss 10
expect-fail "sack" start gen rr 172.16.48.1:7 conns 2 sack maybe
expect-fail "newreno or cubic" start gen rr 172.16.48.1:7 conns 2 cc bbr
expect-fail "ttl" start gen rr 172.16.48.1:7 conns 2 ttl 0
expect-fail "sport" start gen rr 172.16.48.1:7 conns 2 sport 9-3
expect-fail "src: no local address" start gen rr 172.16.48.1:7 conns 2 src 10.0.0.1
expect-fail "profile name 'json'" start gen json rr 172.16.48.1:7 conns 2
expect-fail "no profile 'nosuch'" show gen nosuch
expect-fail "no profile 'nosuch'" wait gen nosuch
expect-fail "unknown field 'nosuchfield'" expect gen web nosuchfield == 1
expect-fail "expected errors == 1" expect gen web errors == 1
