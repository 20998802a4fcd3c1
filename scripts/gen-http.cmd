# A short generator run against the built-in HTTP service over the pair
# (scripts/pair.sh -- --cmdline-file scripts/gen-http.cmd): keep-alive
# requests (rr), then one connection per request (crr, Connection: close).
wait arp 172.16.48.1
set timewait 1000
start gen rr 172.16.48.1:80 conns 4 duration 1
wait gen
expect gen requests > 100
expect gen errors == 0
expect gen conns_failed == 0
expect gen conns_opened == 4
start gen crr 172.16.48.1:80 conns 4 duration 1
wait gen
expect gen requests > 100
expect gen errors == 0
expect gen conns_failed == 0
show gen
