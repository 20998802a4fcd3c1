# The README's load test (scripts/loadtest.sh runs this without a terminal):
# 32 connections at up to 2000 new connections a second, ramped over 2 s,
# against nginx at 172.16.48.1; one GET per connection, nginx closes.
wait arp 172.16.48.1 timeout 10000
start gen web crr 172.16.48.1:80 conns 32 rate 2000/s ramp 2 duration 5 path /1k
wait gen web
expect gen web errors == 0
expect gen web status_2xx > 100
