# The seed experiment, step by step, against the Linux peer at 172.16.48.1.
#
# The peer runs `nc -l 5002`, paused (SIGSTOP) so that Linux holds the
# half-closed connection in CLOSE_WAIT; tests/cli/cli_test.py resumes it when
# this script prints PEER-RESUME. Run it by hand (namespace as in
# dpdk_app/README.md, config with seed_client = off):
#   tcpfp -l 0-1 --no-huge ... -- --config cfg.ini --cmdline-file scripts/seed-half-close.cmd

set timewait 1000          # 2*MSL = 1 s, so TIME_WAIT ends within the script
set finwait2 60000

# 0. The peer is up (the harness configures the tap after tcpfp starts).
wait arp 172.16.48.1 timeout 15000

# 1. Handshake from the seed article's address.
connect 172.16.48.13 172.16.48.1:5002
wait 1 ESTABLISHED timeout 5000    # SYN, SYN-ACK, ACK
expect stat active_opens == 1

# 2. The line.
send 1 "my first tcp packet!\n"

# 3. Our close: FIN+ACK, Linux ACKs it; the peer application sleeps, so
#    the connection stays half closed.
close 1
wait 1 FIN_WAIT_2 timeout 5000
sleep 500
expect conn 1 FIN_WAIT_2           # still: Linux holds CLOSE_WAIT
show conn

# 4. The peer's FIN: the harness resumes nc, which reads the line and exits.
echo PEER-RESUME
wait 1 TIME_WAIT timeout 10000
expect stat timewait_entered == 1
show conn state TIME_WAIT

# 5. TIME_WAIT ends after 2*MSL and the record is deleted.
wait 1 closed timeout 5000
expect stat timewait_expired == 1
expect stat estab_resets == 0
expect stat retrans_segs == 0
show tcp stats
