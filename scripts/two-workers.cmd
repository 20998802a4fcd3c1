# Two workers ([lcores] workers = 2, e.g. --lcores=0@0,1@0,2@1): connections
# on both are driven from the prompt. `connect` opens on worker 0 (ids 1, 2,
# ...); Linux clients land on either worker by the Toeplitz hash of their
# 4-tuple, so accepted ids are 2, 3, ... on worker 0 and 100001, ... on worker 1.
# tests/cli/cli_test.py: a Linux listener on 5016 answers "ping" with "pong";
# on PEER-CLIENTS 16 Linux clients each send a line to 5006 and shut down.

wait arp 172.16.48.1 timeout 15000
show lcores
set log tcpfp.* info               # every tcpfp.* log type (rte_log glob)
connect 172.16.48.1:5016           # connection 1, worker 0
wait 1 ESTABLISHED timeout 5000
send 1 "ping\n"
expect recv 1 "pong\n"

listen any 5006 sink               # on both workers
echo PEER-CLIENTS
wait 2 CLOSE_WAIT timeout 10000          # first accepted on worker 0
wait 100001 CLOSE_WAIT timeout 10000     # first accepted on worker 1
wait stat passive_opens == 16 timeout 20000   # all 16 (a busy machine may take a while)
expect recv 2 "hello from linux\n"
expect recv 100001 "hello from linux\n"
show conn state CLOSE_WAIT
show lcores
set log tcpfp.* info               # every tcpfp.* log type (rte_log glob)
show timers
close 2
close 100001
wait 2 closed timeout 5000               # LAST_ACK, then gone
wait 100001 closed timeout 5000
close 1
show tcp stats
