# The server side of simultaneous-close.cmd (see there): accept, close at
# once on reading CLOSE-NOW; both sides pass CLOSING into TIME_WAIT.

set timewait 2000
listen any 6000 sink
wait 1 ESTABLISHED timeout 15000
expect recv 1 "CLOSE-NOW"
close 1
wait 1 CLOSING timeout 1000
wait 1 TIME_WAIT timeout 2000
expect seen 1 CLOSING
expect stat timewait_entered == 1
wait 1 closed timeout 5000
expect stat timewait_expired == 1
# Done: tell the client with a SYN to its echo service. The client exits
# once that SYN arrives, and its exit stops this process. Until then it
# must not exit, or this side's own TIME_WAIT, which may end a little after
# the client's, is cut short by the stop.
connect 172.16.48.1:40002 172.16.48.13:7
echo SERVER-DONE
sleep 1000
