# TIME_WAIT held by tcpfp (we close first), then a new SYN for the same
# 4-tuple: the Linux client reconnects from the same source port
# (172.16.48.1:40000) while the record is still there, and RFC 6191 lets the
# SYN reopen it because its timestamp is newer. Then TIME_WAIT expiry.
#
# tests/cli/cli_test.py plays the client: on PEER-CONNECT-FIRST and
# PEER-CONNECT-AGAIN it connects from 172.16.48.1:40000 to 172.16.48.2:5005,
# sends one line, reads to EOF and closes.

set timewait 60000                 # long: the record must still be there
wait arp 172.16.48.1 timeout 15000
listen any 5005 sink

echo PEER-CONNECT-FIRST
wait 1 ESTABLISHED timeout 10000
expect recv 1 "first\n"
close 1                            # we close first: we hold TIME_WAIT
wait 1 TIME_WAIT timeout 5000      # the client's FIN after ours
expect stat timewait_entered == 1
show conn state TIME_WAIT
show conn state TIME_WAIT json

echo PEER-CONNECT-AGAIN            # same 4-tuple, newer TSval
wait 2 ESTABLISHED timeout 10000
expect stat timewait_reused == 1
expect recv 2 "second\n"
show conn port 40000
show conn port 40000 json

set timewait 1000                  # this connection's TIME_WAIT expires
close 2
wait 2 TIME_WAIT timeout 5000
wait 2 closed timeout 5000
expect stat timewait_expired == 1
expect stat time_wait == 0
unlisten any 5005
