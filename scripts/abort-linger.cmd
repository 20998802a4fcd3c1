# Abort (RST) and SO_LINGER against the Linux peer at 172.16.48.1:5015
# (tests/cli/cli_test.py: a listener with a small receive buffer that accepts
# three connections in turn).
#   1. abort: RST at once; the peer's read fails with ECONNRESET.
#   2. close with linger 1000 while data is unacknowledged (the peer does not
#      read; its window closes): the linger time runs out, the connection
#      finishes as an orphan once the peer reads (PEER-DRAIN) and every byte
#      arrives, FIN last.
#   3. close with linger 0: an abortive close (RST), queued data discarded.

set timewait 1000
wait arp 172.16.48.1 timeout 15000

# 1. abort
connect 172.16.48.13 172.16.48.1:5015
wait 1 ESTABLISHED timeout 5000
send 1 "about to be reset\n"
sleep 100
abort 1
expect conn 1 closed
expect stat out_rsts == 1

# 2. linger with unacknowledged data
connect 172.16.48.13 172.16.48.1:5015
wait 2 ESTABLISHED timeout 5000
send 2 60000
sleep 500                          # the peer's window is closed by now
show conn port 5015                # Send-Q > 0, snd_wnd:0, the window probe's timer
close 2 linger 1000
wait stat linger_timeouts == 1 timeout 5000   # 1 s, and a busy machine's slack
expect stat out_rsts == 1          # no reset: the data is still delivered
echo PEER-DRAIN
wait 2 TIME_WAIT timeout 15000     # every byte, our FIN, the peer's FIN
wait 2 closed timeout 5000

# 3. linger 0
connect 172.16.48.13 172.16.48.1:5015
wait 3 ESTABLISHED timeout 5000
send 3 1000
sleep 200                          # acknowledged: no late ACK to answer with a second RST
close 3 linger 0
expect conn 3 closed
expect stat out_rsts == 2
show tcp stats
