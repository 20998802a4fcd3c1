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
echo SERVER-DONE
sleep 1000
