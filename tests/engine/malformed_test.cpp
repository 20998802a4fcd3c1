// A malformed-frame corpus: each packet is built from a valid one, broken
// in one way, fed to the engine, and must be dropped under its own reason
// with no answer and no state.
#include <gtest/gtest.h>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using namespace wire;

// A valid SYN from 172.16.48.1:40000 to the listener at .13:80.
std::vector<std::uint8_t> good_syn() {
    Craft c;
    c.tuple = FourTuple{kHostA, kHostB, 80, 40000};
    c.seq = 1000;
    c.flags = tcp_flag::syn;
    c.options.has_mss = true;
    c.options.mss = 1460;
    c.options.has_timestamps = true;
    c.options.ts_val = 1;
    return craft(c);
}

void fix_ip_checksum(std::vector<std::uint8_t>& p) {
    store_be16(&p[10], 0);
    const std::size_t ihl = (p[0] & 0x0fu) * 4u;
    store_be16(&p[10], checksum::finish(checksum::accumulate({p.data(), ihl})));
}

void fix_tcp_checksum(std::vector<std::uint8_t>& p) {
    const std::size_t ihl = (p[0] & 0x0fu) * 4u;
    store_be16(&p[ihl + 16], 0);
    const auto len = static_cast<std::uint16_t>(p.size() - ihl);
    const auto ph = checksum::pseudo_header(Ipv4Addr{load_be32(&p[12])}, Ipv4Addr{load_be32(&p[16])},
                                            ipproto::tcp, len);
    store_be16(&p[ihl + 16], checksum::finish(checksum::accumulate({p.data() + ihl, len}, ph)));
}

struct Bad {
    const char* what;
    std::function<void(std::vector<std::uint8_t>&)> mutate;
    Drop reason;
};

TEST(Malformed, EachFrameIsDroppedUnderItsOwnReason) {
    const Bad corpus[] = {
        {"truncated IPv4 header", [](auto& p) { p.resize(19); }, Drop::wire_ip_truncated},
        {"IPv4 version 6", [](auto& p) { p[0] = 0x65; }, Drop::wire_ip_bad_version},
        {"IHL 4", [](auto& p) { p[0] = 0x44; }, Drop::wire_ip_bad_ihl},
        {"IHL past the buffer", [](auto& p) { p.resize(24); p[0] = 0x4f; store_be16(&p[2], 24); fix_ip_checksum(p); },
         Drop::wire_ip_header_truncated},
        {"total length below the header", [](auto& p) { store_be16(&p[2], 16); fix_ip_checksum(p); },
         Drop::wire_ip_bad_total_length},
        {"total length past the buffer", [](auto& p) { store_be16(&p[2], static_cast<std::uint16_t>(p.size() + 8)); fix_ip_checksum(p); },
         Drop::wire_ip_length_exceeds_buffer},
        {"bad IPv4 checksum", [](auto& p) { p[8] ^= 1; }, Drop::wire_ip_bad_checksum},
        {"first fragment", [](auto& p) { store_be16(&p[6], 0x2000); fix_ip_checksum(p); }, Drop::ip_fragment},
        {"later fragment", [](auto& p) { store_be16(&p[6], 0x0010); fix_ip_checksum(p); }, Drop::ip_fragment},
        {"not TCP", [](auto& p) { p[9] = 17; fix_ip_checksum(p); }, Drop::not_tcp},
        {"not our address", [](auto& p) { store_be32(&p[16], Ipv4Addr::from_octets(172, 16, 48, 99).value); fix_ip_checksum(p); fix_tcp_checksum(p); },
         Drop::not_local},
        // RFC 9293 §3.9.2.3 MUST-57: to a broadcast or multicast address.
        {"broadcast destination", [](auto& p) { store_be32(&p[16], 0xffffffffu); fix_ip_checksum(p); fix_tcp_checksum(p); }, Drop::not_local},
        {"multicast destination", [](auto& p) { store_be32(&p[16], Ipv4Addr::from_octets(224, 0, 0, 1).value); fix_ip_checksum(p); fix_tcp_checksum(p); }, Drop::not_local},
        {"broadcast source", [](auto& p) { store_be32(&p[12], 0xffffffffu); fix_ip_checksum(p); fix_tcp_checksum(p); }, Drop::bad_source},
        {"multicast source", [](auto& p) { store_be32(&p[12], Ipv4Addr::from_octets(224, 0, 0, 1).value); fix_ip_checksum(p); fix_tcp_checksum(p); },
         Drop::bad_source},
        {"LAND: source is our own address", [](auto& p) { store_be32(&p[12], kHostA.value); fix_ip_checksum(p); fix_tcp_checksum(p); },
         Drop::bad_source},
        {"truncated TCP header", [](auto& p) { p.resize(20 + 19); store_be16(&p[2], 39); fix_ip_checksum(p); }, Drop::wire_tcp_truncated},
        {"TCP data offset 4", [](auto& p) { p[32] = 0x40; fix_tcp_checksum(p); }, Drop::wire_tcp_bad_data_offset},
        {"TCP data offset past the segment", [](auto& p) { p[32] = 0xf0; fix_tcp_checksum(p); }, Drop::wire_tcp_header_truncated},
        {"bad TCP checksum", [](auto& p) { p[24] ^= 1; }, Drop::wire_tcp_bad_checksum},
        {"zero-length option", [](auto& p) { p[41] = 0; fix_tcp_checksum(p); }, Drop::wire_tcp_opt_bad_length},
        {"option past the header", [](auto& p) { p[41] = 40; fix_tcp_checksum(p); }, Drop::wire_tcp_opt_overrun},
        {"MSS option of length 3", [](auto& p) { p[41] = 3; fix_tcp_checksum(p); }, Drop::wire_tcp_opt_mss_length},
        {"SYN+FIN", [](auto& p) { p[33] |= tcp_flag::fin; fix_tcp_checksum(p); }, Drop::syn_fin},
        {"null flags", [](auto& p) { p[33] = 0; fix_tcp_checksum(p); }, Drop::no_control_flags},
        {"FIN+PSH+URG only", [](auto& p) { p[33] = tcp_flag::fin | tcp_flag::psh | tcp_flag::urg; fix_tcp_checksum(p); },
         Drop::no_control_flags},
    };
    for (const Bad& b : corpus) {
        SCOPED_TRACE(b.what);
        Net net(test_config(), test_config());
        ConnId l;
        ASSERT_EQ(net.a().listen(kHostA, 80, 16, l), 0);
        auto pkt = good_syn();
        ASSERT_EQ(pkt[40], 2) << "the SYN's first option is MSS";
        b.mutate(pkt);
        net.clear_trace();
        net.a().input(pkt, net.now());
        EXPECT_EQ(net.a().counters().get(b.reason), 1u) << name(b.reason);
        EXPECT_TRUE(net.a().output().empty()) << "no answer to a malformed frame";
        net.a().clear_output();
        EXPECT_EQ(net.a().connection_count(), 1u) << "only the listener";
        // The unbroken SYN is still served.
        net.a().input(good_syn(), net.now());
        EXPECT_EQ(net.a().counters().in_state(State::syn_received), 1u);
    }
}

}  // namespace
}  // namespace tcpfp::tcp::test
