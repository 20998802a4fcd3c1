# The seed experiment with shutdown(SHUT_WR) instead of close(): our FIN
# goes out, but the socket stays open for reading, so the data the Linux peer
# sends after our FIN reaches us and is read (RFC 9293 §3.6: a half-closed
# connection still carries data the other way; FIN_WAIT_2 receives it).
#
# tests/cli/cli_test.py plays the peer: a Linux socket listening on
# 172.16.48.1:5012 that, when this script prints PEER-REPLY, reads to EOF
# (our line, then our FIN), sends "late data from linux\n" and closes.

set timewait 1000          # 2*MSL = 1 s, so TIME_WAIT ends within the script
set verbose on             # one tcpdump-style line per segment in and out
wait arp 172.16.48.1 timeout 15000

connect 172.16.48.13 172.16.48.1:5012
wait 1 ESTABLISHED timeout 5000
send 1 "my first tcp packet!\n"

shutdown 1 wr              # FIN after the line; still readable
wait 1 FIN_WAIT_2 timeout 5000
set verbose off
expect conn 1 FIN_WAIT_2
show conn port 5012

echo PEER-REPLY
expect recv 1 "late data from linux\n"   # read in FIN_WAIT_2
expect rxbytes 1 == 21
wait 1 TIME_WAIT timeout 5000            # the peer's FIN after its data
show conn state TIME_WAIT
show timers

wait 1 closed timeout 5000
expect stat timewait_expired == 1
expect stat estab_resets == 0
expect stat out_rsts == 0
