// IP options on segments (RFC 9293 §3.9.2.1, MUST-50: TCP ignores the IP
// options it does not understand): the engine starts the TCP header at
// IHL*4, so a handshake and data whose IPv4 headers carry options (Router
// Alert, Record Route, NOP and EOL padding) go exactly as without them,
// with nothing dropped and no option read.
#include <gtest/gtest.h>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using namespace wire;

// `packet` with `options` (a multiple of 4 bytes) inserted after its
// 20-byte IPv4 header: IHL, total length and the header checksum follow.
std::vector<std::uint8_t> with_ip_options(std::vector<std::uint8_t> packet, std::vector<std::uint8_t> options) {
    packet.insert(packet.begin() + 20, options.begin(), options.end());
    const std::size_t ihl = 20 + options.size();
    packet[0] = static_cast<std::uint8_t>(0x40 | (ihl / 4));
    store_be16(&packet[2], static_cast<std::uint16_t>(packet.size()));
    store_be16(&packet[10], 0);
    store_be16(&packet[10], checksum::finish(checksum::accumulate({packet.data(), ihl})));
    return packet;
}

const std::vector<std::uint8_t> kRouterAlert = {148, 4, 0, 0, 1, 1, 1, 0};          // RA, NOP x3, EOL
const std::vector<std::uint8_t> kRecordRoute = {7, 11, 4, 10, 0, 0, 1, 0, 0, 0, 0, 0};  // RR with room, EOL

TEST(IpOptions, AHandshakeAndDataCarryingIpOptionsGoAsWithout) {
    Net net(test_config(), test_config());
    ConnId listener;
    ASSERT_EQ(net.b().listen(kHostB, 80, 4, listener), 0);
    const FourTuple tuple{kHostB, kHostA, 80, 40000};  // B's view
    Craft syn;
    syn.tuple = tuple;
    syn.seq = 1000;
    syn.flags = tcp_flag::syn;
    syn.options.has_mss = true;
    syn.options.mss = 1460;
    net.inject(Side::b, with_ip_options(craft(syn), kRouterAlert));
    const Captured* synack = nullptr;
    for (const Captured& c : net.trace()) {
        if (c.from == Side::b && c.has(tcp_flag::syn) && c.has(tcp_flag::ack)) synack = &c;
    }
    ASSERT_NE(synack, nullptr) << "the SYN with IP options was answered";
    EXPECT_EQ(synack->ack, SeqNum(1001));
    Craft data;
    data.tuple = tuple;
    data.seq = 1001;
    data.ack = (synack->seq + 1).raw();
    data.flags = tcp_flag::ack | tcp_flag::psh;
    data.payload = {'h', 'e', 'l', 'l', 'o'};
    net.inject(Side::b, with_ip_options(craft(data), kRecordRoute));
    ConnId c;
    ASSERT_EQ(net.b().accept(listener, c), 0) << "the handshake completed";
    EXPECT_EQ(recv_all(net.b(), c, net.now()), "hello");
    const Counters& k = net.b().counters();
    for (std::size_t i = 0; i < k.drops.size(); ++i) {
        EXPECT_EQ(k.drops[i], 0u) << "dropped as " << name(static_cast<Drop>(i));
    }
    EXPECT_EQ(k.get(Mib::in_errs), 0u);
}

}  // namespace
}  // namespace tcpfp::tcp::test
