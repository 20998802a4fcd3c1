# Half-close the other way round: we shutdown(SHUT_WR) first, then read a
# bulk reply. The Linux peer (tests/cli/cli_test.py, 172.16.48.1:5013) reads
# our request to EOF, answers with 1,000,000 bytes and "END-OF-BULK\n", then
# closes. All of it arrives while we sit in FIN_WAIT_2 (RFC 9293 §3.10.7.4:
# FIN-WAIT-2 processes segment text).

set timewait 1000
wait arp 172.16.48.1 timeout 15000
show port info all
clear port stats all

connect 172.16.48.13 172.16.48.1:5013
wait 1 ESTABLISHED timeout 5000
send 1 "send me the bulk\n"
shutdown 1 wr
wait 1 FIN_WAIT_2 timeout 5000

wait 1 TIME_WAIT timeout 15000        # the whole reply, then the peer's FIN
expect rxbytes 1 == 1000012
expect recv 1 "END-OF-BULK\n"
show conn state TIME_WAIT
expect stat estab_resets == 0
wait 1 closed timeout 5000
show port stats all                   # at least the 1 MB since the clear
show port xstats 0
show tcp stats
