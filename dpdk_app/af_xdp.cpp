#include "dpdk_app/af_xdp.hpp"

#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

namespace tcpfp::app {

namespace {

// One ethtool ioctl on `name`; `data` starts with the command word.
bool ethtool(int fd, const std::string& name, void* data) {
    ifreq ifr{};
    if (name.size() >= sizeof ifr.ifr_name) return false;
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    ifr.ifr_data = static_cast<char*>(data);
    return ioctl(fd, SIOCETHTOOL, &ifr) == 0;
}

std::optional<ethtool_drvinfo> drvinfo(int fd, const std::string& name) {
    ethtool_drvinfo d{};
    d.cmd = ETHTOOL_GDRVINFO;
    if (!ethtool(fd, name, &d)) return std::nullopt;
    return d;
}

// A named counter of `ethtool -S name`: veth publishes its peer's ifindex
// as "peer_ifindex", the one way to find the other end without netlink.
std::optional<std::uint64_t> ethtool_stat(int fd, const std::string& name, const char* key) {
    const auto d = drvinfo(fd, name);
    if (!d || d->n_stats == 0) return std::nullopt;
    const std::size_t n = d->n_stats;
    // uint64_t storage keeps both headers and their arrays aligned.
    std::vector<std::uint64_t> strings_buf(
        (sizeof(ethtool_gstrings) + n * ETH_GSTRING_LEN) / sizeof(std::uint64_t) + 1);
    auto* strings = reinterpret_cast<ethtool_gstrings*>(strings_buf.data());
    strings->cmd = ETHTOOL_GSTRINGS;
    strings->string_set = ETH_SS_STATS;
    strings->len = static_cast<std::uint32_t>(n);
    std::vector<std::uint64_t> stats_buf(sizeof(ethtool_stats) / sizeof(std::uint64_t) + n + 1);
    auto* stats = reinterpret_cast<ethtool_stats*>(stats_buf.data());
    stats->cmd = ETHTOOL_GSTATS;
    stats->n_stats = static_cast<std::uint32_t>(n);
    if (!ethtool(fd, name, strings) || !ethtool(fd, name, stats)) return std::nullopt;
    for (std::size_t i = 0; i < n && i < strings->len && i < stats->n_stats; ++i) {
        const auto* s = reinterpret_cast<const char*>(strings->data + i * ETH_GSTRING_LEN);
        if (strncmp(s, key, ETH_GSTRING_LEN) == 0) return stats->data[i];
    }
    return std::nullopt;
}

std::string name_of(unsigned if_index) {
    char buf[IF_NAMESIZE] = {};
    return if_indextoname(if_index, buf) != nullptr ? std::string(buf) : std::string();
}

// Counts the AF_XDP sockets among this process's descriptors; the PMD keeps
// their descriptors to itself. getsockopt(XDP_OPTIONS) succeeds only on a
// bound AF_XDP socket and says whether the kernel bound it zero-copy.
void count_sockets(AfXdpReport& r) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        const std::string n = entry.path().filename().string();
        int fd = -1;
        if (std::from_chars(n.data(), n.data() + n.size(), fd).ec != std::errc{}) continue;
        xdp_options opt{};
        socklen_t len = sizeof opt;
        if (getsockopt(fd, SOL_XDP, XDP_OPTIONS, &opt, &len) != 0) continue;
        if (r.sockets++ == 0) {
            // The PMD's busy_budget= (default 64) turns on preferred busy
            // polling: a recvfrom() on every empty RX burst.
            int budget = 0;
            socklen_t blen = sizeof budget;
            if (getsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, &blen) == 0) r.busy_poll_budget = budget;
        }
        if ((opt.flags & XDP_OPTIONS_ZEROCOPY) != 0) ++r.zero_copy;
    }
}

}  // namespace

AfXdpReport inspect_af_xdp(unsigned if_index) {
    AfXdpReport r;
    r.iface = name_of(if_index);
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && !r.iface.empty()) {
        ifreq ifr{};
        std::memcpy(ifr.ifr_name, r.iface.data(), std::min(r.iface.size(), sizeof ifr.ifr_name - 1));
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
            r.up = (ifr.ifr_flags & IFF_UP) != 0;
            r.carrier = (ifr.ifr_flags & IFF_RUNNING) != 0;
        }
        if (const auto d = drvinfo(fd, r.iface)) r.driver = d->driver;
        // The veth's other end, only if it names us back: an index from
        // another namespace may belong to an unrelated interface here.
        if (r.driver == "veth") {
            if (const auto peer = ethtool_stat(fd, r.iface, "peer_ifindex")) {
                const std::string name = name_of(static_cast<unsigned>(*peer));
                if (!name.empty() && ethtool_stat(fd, name, "peer_ifindex") == if_index) {
                    r.peer = name;
                    ethtool_value v{};
                    v.cmd = ETHTOOL_GTXCSUM;
                    r.peer_tx_checksum = ethtool(fd, name, &v) && v.data != 0;
                }
            }
        }
    }
    if (fd >= 0) close(fd);

    bpf_xdp_query_opts q{};
    q.sz = sizeof q;
    if (bpf_xdp_query(static_cast<int>(if_index), 0, &q) == 0) {
        switch (q.attach_mode) {
            case XDP_ATTACHED_DRV: r.mode = "native (driver)"; break;
            case XDP_ATTACHED_SKB: r.mode = "generic (skb)"; break;
            case XDP_ATTACHED_HW: r.mode = "offloaded"; break;
            case XDP_ATTACHED_MULTI: r.mode = "several"; break;
            default: r.mode = "none"; break;
        }
        r.prog_id = q.prog_id != 0 ? q.prog_id : q.drv_prog_id != 0 ? q.drv_prog_id : q.skb_prog_id;
    } else {
        r.mode = "unknown";
    }
    count_sockets(r);
    return r;
}

std::string AfXdpReport::summary() const {
    std::string s = "iface " + (iface.empty() ? std::string("?") : iface);
    if (!driver.empty()) s += " (" + driver + ")";
    s += up ? (carrier ? ", up" : ", up, no carrier") : ", DOWN";
    s += "; XDP program " + std::to_string(prog_id) + " in " + mode + " mode; " +
         std::to_string(sockets) + " AF_XDP socket(s), " +
         (zero_copy == sockets ? (sockets == 0 ? "none bound" : "zero-copy")
                               : zero_copy == 0 ? "copy mode" : std::to_string(zero_copy) + " zero-copy");
    s += busy_poll_budget > 0 ? ", busy polling (budget " + std::to_string(busy_poll_budget) + ")"
                              : ", no busy polling";
    if (!peer.empty()) {
        s += "; veth peer " + peer + " TX checksum " + (peer_tx_checksum ? "offload ON" : "off");
    }
    return s;
}

}  // namespace tcpfp::app
