#include "symbols.hpp"

#include <cerrno>
#include <utility>

namespace tcpfp::pktdrill {

namespace {

struct Named {
    std::string_view name;
    std::int64_t value;
};

constexpr Named kConstants[] = {
    {"AF_INET", 2},         {"PF_INET", 2},          {"SOCK_STREAM", 1},
    {"SOCK_NONBLOCK", 04000}, {"IPPROTO_TCP", 6},    {"IPPROTO_IP", 0},
    {"SOL_SOCKET", 1},      {"SOL_TCP", 6},          {"SOL_IP", 0},
    {"SO_REUSEADDR", 2},    {"SO_ERROR", 4},         {"SO_SNDBUF", 7},
    {"SO_RCVBUF", 8},       {"SO_KEEPALIVE", 9},     {"SO_LINGER", 13},
    {"SO_OOBINLINE", 10},
    {"TCP_NODELAY", 1},     {"TCP_MAXSEG", 2},       {"TCP_CORK", 3},
    {"TCP_KEEPIDLE", 4},    {"TCP_KEEPINTVL", 5},    {"TCP_KEEPCNT", 6},
    {"TCP_INFO", 11},       {"TCP_USER_TIMEOUT", 18},
    {"IP_TOS", 1},          {"IP_TTL", 2},
    {"O_RDONLY", 0},        {"O_WRONLY", 1},         {"O_RDWR", 2},
    {"O_NONBLOCK", 04000},  {"F_GETFL", 3},          {"F_SETFL", 4},
    {"SHUT_RD", 0},         {"SHUT_WR", 1},          {"SHUT_RDWR", 2},
    {"POLLIN", 0x001},      {"POLLPRI", 0x002},      {"POLLOUT", 0x004},
    {"POLLERR", 0x008},     {"POLLHUP", 0x010},      {"POLLNVAL", 0x020},
    {"POLLRDHUP", 0x2000},  {"MSG_OOB", 0x1},        {"MSG_PEEK", 0x2},
    {"MSG_DONTWAIT", 0x40}, {"MSG_WAITALL", 0x100},  {"MSG_MORE", 0x8000},
    {"MSG_NOSIGNAL", 0x4000}, {"SIOCINQ", 0x541B},      {"FIONREAD", 0x541B},
    {"SIOCOUTQ", 0x5411},   {"SIOCATMARK", 0x8905},
};

constexpr std::pair<std::string_view, int> kErrnos[] = {
    {"EPERM", EPERM},           {"ENOENT", ENOENT},             {"EINTR", EINTR},
    {"EBADF", EBADF},           {"EAGAIN", EAGAIN},             {"EWOULDBLOCK", EWOULDBLOCK},
    {"ENOMEM", ENOMEM},         {"EFAULT", EFAULT},             {"EINVAL", EINVAL},
    {"EMFILE", EMFILE},         {"ENFILE", ENFILE},             {"EPIPE", EPIPE},
    {"ENOTSOCK", ENOTSOCK},     {"EDESTADDRREQ", EDESTADDRREQ}, {"EMSGSIZE", EMSGSIZE},
    {"EPROTOTYPE", EPROTOTYPE}, {"ENOPROTOOPT", ENOPROTOOPT},   {"EPROTONOSUPPORT", EPROTONOSUPPORT},
    {"EOPNOTSUPP", EOPNOTSUPP}, {"EAFNOSUPPORT", EAFNOSUPPORT}, {"EADDRINUSE", EADDRINUSE},
    {"EADDRNOTAVAIL", EADDRNOTAVAIL}, {"ENETUNREACH", ENETUNREACH}, {"ECONNABORTED", ECONNABORTED},
    {"ECONNRESET", ECONNRESET}, {"ENOBUFS", ENOBUFS},           {"EISCONN", EISCONN},
    {"ENOTCONN", ENOTCONN},     {"ETIMEDOUT", ETIMEDOUT},       {"ECONNREFUSED", ECONNREFUSED},
    {"EHOSTUNREACH", EHOSTUNREACH}, {"EALREADY", EALREADY},     {"EINPROGRESS", EINPROGRESS},
};

}  // namespace

std::optional<std::int64_t> constant(std::string_view name) {
    for (const auto& c : kConstants) {
        if (c.name == name) return c.value;
    }
    return std::nullopt;
}

std::optional<int> errno_value(std::string_view name) {
    for (const auto& [n, v] : kErrnos) {
        if (n == name) return v;
    }
    return std::nullopt;
}

std::string errno_name(int value) {
    for (const auto& [n, v] : kErrnos) {
        if (v == value) return std::string(n);
    }
    return std::to_string(value);
}

}  // namespace tcpfp::pktdrill
