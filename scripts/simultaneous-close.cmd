# Simultaneous close between two tcpfp processes (the client side; the
# server runs simultaneous-close-server.cmd). RFC 9293 §3.6 case 3 (Figure
# 13): both FINs cross, each side goes FIN_WAIT_1 -> CLOSING -> TIME_WAIT.
#
# Run by tests/cli/cli_test.py over scripts/pair.sh with `[impair] delay_us =
# 100000` on both sides (100 ms one way). The client sends the marker
# CLOSE-NOW; the server closes as soon as it reads it, ~100 ms later. The
# client closes 100 ms after sending, so both FINs are in flight together.
#   scripts/pair.sh --server-config S.ini --client-config C.ini \
#       --server-args "--cmdline-file scripts/simultaneous-close-server.cmd" \
#       -- --cmdline-file scripts/simultaneous-close.cmd

set timewait 2000
wait arp 172.16.48.1 timeout 15000
sleep 300                          # the server's listener is up
connect 172.16.48.13:40001 172.16.48.1:6000
wait 1 ESTABLISHED timeout 5000
send 1 "CLOSE-NOW"
sleep 100
close 1                            # ESTABLISHED -> FIN_WAIT_1
wait 1 CLOSING timeout 1000        # the server's FIN before the ACK of ours
wait 1 TIME_WAIT timeout 2000      # then the ACK of our FIN
expect seen 1 CLOSING
expect seen 1 FIN_WAIT_1
expect stat timewait_entered == 1
show conn state TIME_WAIT
wait 1 closed timeout 5000
expect stat timewait_expired == 1
expect stat estab_resets == 0
# The server's TIME_WAIT may end after ours: exit (which stops the server)
# only once it says it is done: its SYN to our echo service (a passive open).
wait stat passive_opens == 1 timeout 15000
