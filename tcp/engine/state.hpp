// The eleven connection states of RFC 9293 §3.3.2.
#pragma once

#include <cstdint>

namespace tcpfp::tcp {

#define TCPFP_TCP_STATES(X) \
    X(closed, "CLOSED")     \
    X(listen, "LISTEN")     \
    X(syn_sent, "SYN_SENT") \
    X(syn_received, "SYN_RECEIVED") \
    X(established, "ESTABLISHED")   \
    X(fin_wait_1, "FIN_WAIT_1")     \
    X(fin_wait_2, "FIN_WAIT_2")     \
    X(close_wait, "CLOSE_WAIT")     \
    X(closing, "CLOSING")           \
    X(last_ack, "LAST_ACK")         \
    X(time_wait, "TIME_WAIT")

enum class State : std::uint8_t {
#define TCPFP_X(name, text) name,
    TCPFP_TCP_STATES(TCPFP_X)
#undef TCPFP_X
};

inline constexpr std::size_t kStateCount = 11;

const char* to_string(State s);

// RFC 9293 §3.3.2: states after the handshake, where both sequence spaces
// are known (ESTABLISHED and everything after it).
constexpr bool is_synchronized(State s) {
    return s >= State::established;
}

}  // namespace tcpfp::tcp
