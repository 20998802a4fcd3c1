# The passive close (RFC 9293 §3.6 case 2): a Linux client connects, sends a
# line and closes first; tcpfp sits in CLOSE_WAIT until we close, then
# LAST_ACK until Linux ACKs our FIN, and never enters TIME_WAIT.
# tests/cli/cli_test.py starts the client when this script prints
# PEER-CONNECT:  printf 'hello from linux\n' | nc -N 172.16.48.2 5003

wait arp 172.16.48.1 timeout 15000
listen any 5003 sink               # sink: keep received data for expect recv
show conn state LISTEN
echo PEER-CONNECT

# Connection 1 is the first the CLI accepts on worker 0.
wait 1 CLOSE_WAIT timeout 10000    # handshake, the line, Linux's FIN
expect recv 1 "hello from linux\n"
expect stat passive_opens == 1
show conn
show conn limit 1                  # one row, and how many were left out

close 1                            # our FIN: CLOSE_WAIT -> LAST_ACK
expect seen 1 LAST_ACK
wait 1 closed timeout 5000         # Linux ACKs the FIN: the block is deleted
expect stat timewait_entered == 0  # the side that closes second has no TIME_WAIT
expect stat estab_resets == 0
unlisten any 5003
show tcp stats
