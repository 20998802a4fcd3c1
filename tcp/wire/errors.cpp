#include "tcp/wire/errors.hpp"

namespace tcpfp::wire {

const char* name(WireError e) {
    switch (e) {
#define TCPFP_X(n, desc) \
    case WireError::n:   \
        return #n;
        TCPFP_WIRE_ERRORS(TCPFP_X)
#undef TCPFP_X
    }
    return "unknown";
}

const char* describe(WireError e) {
    switch (e) {
#define TCPFP_X(n, desc) \
    case WireError::n:   \
        return desc;
        TCPFP_WIRE_ERRORS(TCPFP_X)
#undef TCPFP_X
    }
    return "unknown wire error";
}

}  // namespace tcpfp::wire
