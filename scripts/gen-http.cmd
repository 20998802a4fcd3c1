# A short generator run against the built-in HTTP service over the pair
# (scripts/pair.sh -- --cmdline-file scripts/gen-http.cmd): keep-alive
# requests (rr), then one connection per request (crr, Connection: close).
wait arp 172.16.48.1
set timewait 1000
# A count: a busy machine takes longer for it, it does not do less.
start gen rr 172.16.48.1:80 conns 4 count 1000
wait gen
expect gen requests >= 1000
expect gen errors == 0
expect gen conns_failed == 0
expect gen conns_opened == 4
# A count: the server keeps the TIME_WAITs here, and a fast run would come
# back to its 4-tuples within the second (see dpdk_app/README.md).
start gen crr 172.16.48.1:80 conns 4 count 3000
wait gen
expect gen requests >= 3000
expect gen errors == 0
expect gen conns_failed == 0
show gen
