#include "tcp/engine/counters.hpp"

namespace tcpfp::tcp {

namespace {
constexpr const char* kStateNames[] = {
#define TCPFP_X(name, text) text,
    TCPFP_TCP_STATES(TCPFP_X)
#undef TCPFP_X
};
constexpr const char* kMibNames[] = {
#define TCPFP_X(name, desc) #name,
    TCPFP_MIB_COUNTERS(TCPFP_X)
#undef TCPFP_X
};
constexpr const char* kMibDescs[] = {
#define TCPFP_X(name, desc) desc,
    TCPFP_MIB_COUNTERS(TCPFP_X)
#undef TCPFP_X
};
constexpr const char* kDropNames[] = {
#define TCPFP_X(name, desc) #name,
    TCPFP_WIRE_ERRORS(TCPFP_X) TCPFP_DROP_REASONS(TCPFP_X)
#undef TCPFP_X
};
constexpr const char* kDropDescs[] = {
#define TCPFP_X(name, desc) desc,
    TCPFP_WIRE_ERRORS(TCPFP_X) TCPFP_DROP_REASONS(TCPFP_X)
#undef TCPFP_X
};
static_assert(std::size(kStateNames) == kStateCount);
static_assert(std::size(kMibNames) == static_cast<std::size_t>(Mib::count_));
static_assert(std::size(kDropNames) == static_cast<std::size_t>(Drop::count_));
}  // namespace

const char* to_string(State s) { return kStateNames[static_cast<std::size_t>(s)]; }
const char* name(Mib m) { return kMibNames[static_cast<std::size_t>(m)]; }
const char* describe(Mib m) { return kMibDescs[static_cast<std::size_t>(m)]; }
const char* name(Drop d) { return kDropNames[static_cast<std::size_t>(d)]; }
const char* describe(Drop d) { return kDropDescs[static_cast<std::size_t>(d)]; }

}  // namespace tcpfp::tcp
