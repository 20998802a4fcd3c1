// Fuzz target "wire": arbitrary bytes into every parser of tcp/wire, and
// round trips through the builders for whatever parses.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common.hpp"
#include "tcp/wire/arp.hpp"
#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/ethernet.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace {

using namespace tcpfp;
using namespace tcpfp::wire;
using tcpfp::fuzz::ByteReader;

bool same_sack(const TcpOptions& x, const TcpOptions& y) {
    if (x.sack_count != y.sack_count) return false;
    for (std::size_t i = 0; i < x.sack_count; ++i) {
        if (!(x.sack[i] == y.sack[i])) return false;
    }
    return true;
}

// The fields write_tcp_options emits for a segment (SYN or not) compare
// equal after a parse. Non-SYN segments carry only timestamps and SACK.
void check_options_equal(const TcpOptions& in, const TcpOptions& out, bool syn) {
    if (syn) {
        FUZZ_CHECK(in.has_mss == out.has_mss && (!in.has_mss || in.mss == out.mss),
                   "mss %d/%u -> %d/%u", in.has_mss, in.mss, out.has_mss, out.mss);
        FUZZ_CHECK(in.has_wscale == out.has_wscale && (!in.has_wscale || in.wscale == out.wscale),
                   "wscale %d/%u -> %d/%u", in.has_wscale, in.wscale, out.has_wscale, out.wscale);
        FUZZ_CHECK(in.sack_permitted == out.sack_permitted, "sack_permitted %d -> %d",
                   in.sack_permitted, out.sack_permitted);
    } else {
        FUZZ_CHECK(!out.has_mss && !out.has_wscale && !out.sack_permitted,
                   "SYN-only option written on a non-SYN segment");
    }
    FUZZ_CHECK(in.has_timestamps == out.has_timestamps &&
                   (!in.has_timestamps || (in.ts_val == out.ts_val && in.ts_ecr == out.ts_ecr)),
               "timestamps %d %u %u -> %d %u %u", in.has_timestamps, in.ts_val, in.ts_ecr,
               out.has_timestamps, out.ts_val, out.ts_ecr);
    FUZZ_CHECK(same_sack(in, out), "sack blocks %u -> %u", in.sack_count, out.sack_count);
}

// Options: the parse, the raw walk, and write/parse round trips.
void fuzz_options(std::span<const std::uint8_t> bytes) {
    auto parsed = parse_tcp_options(bytes);

    // The walk sees the same error (or none) as the parser, and re-emitting
    // each raw option reproduces the bytes up to the end-of-list.
    TcpOptionReader reader(bytes);
    TcpOptionWriter rewriter;
    WireError walk_error = WireError::none;
    std::size_t consumed = 0;
    bool saw_eol = false;
    std::size_t steps = 0;
    while (!reader.done()) {
        FUZZ_CHECK(++steps <= bytes.size(), "option walk does not terminate");
        auto opt = reader.next();
        if (!opt) {
            walk_error = opt.error();
            break;
        }
        if (opt->kind == tcp_opt::eol) {
            rewriter.eol();
            consumed += 1;
            saw_eol = true;
            break;
        }
        if (opt->kind == tcp_opt::nop) {
            rewriter.nop();
            consumed += 1;
            continue;
        }
        FUZZ_CHECK(opt->body.data() >= bytes.data() &&
                       opt->body.data() + opt->body.size() <= bytes.data() + bytes.size(),
                   "option body outside the option bytes");
        rewriter.raw(opt->kind, opt->body);
        consumed += 2 + opt->body.size();
    }
    FUZZ_CHECK(parsed.ok() == (walk_error == WireError::none),
               "parse_tcp_options says %s, the reader walk %s", name(parsed.error()),
               name(walk_error));
    if (!parsed.ok()) {
        FUZZ_CHECK(parsed.error() == walk_error, "parse error %s, walk error %s",
                   name(parsed.error()), name(walk_error));
        return;
    }
    if (bytes.size() <= kMaxTcpOptionsLen) {
        auto re = rewriter.finish();
        FUZZ_CHECK(re.ok(), "re-emitting %zu option bytes failed: %s", bytes.size(),
                   name(re.error()));
        FUZZ_CHECK(consumed <= re->size() && std::equal(bytes.begin(), bytes.begin() +
                                                            static_cast<std::ptrdiff_t>(consumed),
                                                        re->begin()),
                   "raw re-emit differs from the input (%zu bytes consumed)", consumed);
        (void)saw_eol;
        auto again = parse_tcp_options(*re);
        FUZZ_CHECK(again.ok(), "re-emitted options do not parse: %s", name(again.error()));
        check_options_equal(*parsed, *again, true);
    }

    // Structured write then parse, as a SYN and as any other segment.
    for (const bool syn : {true, false}) {
        TcpOptionWriter w;
        auto written = write_tcp_options(*parsed, syn, w);
        if (!written) {
            FUZZ_CHECK(written.error() == WireError::tcp_opt_no_space, "write failed with %s",
                       name(written.error()));
            continue;
        }
        FUZZ_CHECK(written->size() % 4 == 0 && written->size() <= kMaxTcpOptionsLen,
                   "written options are %zu bytes", written->size());
        auto back = parse_tcp_options(*written);
        FUZZ_CHECK(back.ok(), "written options do not parse: %s", name(back.error()));
        check_options_equal(*parsed, *back, syn);
    }
}

// A parsed TCP segment emitted again parses to the same fields and checksums.
void fuzz_tcp(std::span<const std::uint8_t> segment, Ipv4Addr src, Ipv4Addr dst) {
    auto view = TcpView::parse(segment);
    if (!view) return;
    FUZZ_CHECK(view->header_len() >= kTcpMinHeaderLen && view->header_len() <= segment.size(),
               "header_len %u of %zu", view->header_len(), segment.size());
    (void)view->checksum_ok(src, dst);
    (void)parse_tcp_checked(segment, src, dst);
    const auto opts = view->options();
    fuzz_options(opts);
    if (segment.size() > 0xffff) return;

    TcpRepr r;
    r.src_port = view->src_port();
    r.dst_port = view->dst_port();
    r.seq = view->seq();
    r.ack = view->ack();
    r.flags = view->flags();
    r.window = view->window();
    r.urgent_ptr = view->urgent_ptr();
    r.options = opts;
    r.payload = view->payload();
    std::vector<std::uint8_t> out(r.segment_len());
    auto n = emit_tcp(r, src, dst, out);
    if (opts.size() > kMaxTcpOptionsLen || opts.size() % 4 != 0) {
        FUZZ_CHECK(!n.ok(), "emit_tcp accepted %zu option bytes", opts.size());
        return;
    }
    FUZZ_CHECK(n.ok() && *n == segment.size(), "emit_tcp: %s", n.ok() ? "length" : name(n.error()));
    auto back = parse_tcp_checked(out, src, dst);
    FUZZ_CHECK(back.ok(), "emitted segment does not parse: %s", name(back.error()));
    FUZZ_CHECK(back->src_port() == r.src_port && back->dst_port() == r.dst_port &&
                   back->seq() == r.seq && back->ack() == r.ack && back->flags() == r.flags &&
                   back->window() == r.window && back->urgent_ptr() == r.urgent_ptr &&
                   back->header_len() == view->header_len(),
               "emit_tcp/parse round trip changed a header field");
    FUZZ_CHECK(back->payload().size() == r.payload.size() &&
                   std::equal(r.payload.begin(), r.payload.end(), back->payload().begin()),
               "payload changed");
    FUZZ_CHECK(std::equal(segment.begin(), segment.begin() + 12, out.begin()) &&
                   std::equal(segment.begin() + 13, segment.begin() + 16, out.begin() + 13) &&
                   std::equal(segment.begin() + 18, segment.end(), out.begin() + 18),
               "emit_tcp bytes differ from the parsed segment outside the checksum/offset byte");
    // Incremental checksum update (RFC 1624) agrees with recomputation.
    const std::uint16_t old_ck = back->checksum();
    const std::uint32_t new_seq = r.seq.raw() ^ 0x5a5a1234u;
    store_be32(out.data() + 4, new_seq);
    store_be16(out.data() + 16, checksum::update32(old_ck, r.seq.raw(), new_seq));
    FUZZ_CHECK(parse_tcp_checked(out, src, dst).ok(), "update32 produced a bad checksum");
}

void fuzz_icmp_error(std::span<const std::uint8_t> message);  // below

void fuzz_ipv4(std::span<const std::uint8_t> packet) {
    auto ip = Ipv4View::parse(packet);
    auto checked = parse_ipv4_checked(packet);
    if (!ip) {
        FUZZ_CHECK(!checked.ok(), "checked parse accepted what parse rejected");
        return;
    }
    FUZZ_CHECK(ip->header_len() >= kIpv4MinHeaderLen && ip->total_len() >= ip->header_len() &&
                   ip->total_len() <= packet.size(),
               "ipv4 view: ihl %u total %u buffer %zu", ip->header_len(), ip->total_len(),
               packet.size());
    FUZZ_CHECK(checked.ok() == ip->checksum_ok(), "checked parse and checksum_ok disagree");
    (void)ip->options();
    (void)ip->is_fragment();
    // Rebuild the header (no options) and check the fields survive.
    Ipv4Repr r;
    r.src = ip->src();
    r.dst = ip->dst();
    r.protocol = ip->protocol();
    r.ttl = ip->ttl();
    r.tos = ip->tos();
    r.id = ip->id();
    r.dont_fragment = ip->dont_fragment();
    const auto payload = ip->payload();
    if (payload.size() <= 0xffff - kIpv4MinHeaderLen) {
        r.payload_len = static_cast<std::uint16_t>(payload.size());
        std::vector<std::uint8_t> out(kIpv4MinHeaderLen + payload.size());
        auto n = emit_ipv4(r, out);
        FUZZ_CHECK(n.ok() && *n == kIpv4MinHeaderLen, "emit_ipv4 failed");
        std::copy(payload.begin(), payload.end(), out.begin() + kIpv4MinHeaderLen);
        auto back = parse_ipv4_checked(out);
        FUZZ_CHECK(back.ok(), "emitted IPv4 header does not parse: %s", name(back.error()));
        FUZZ_CHECK(back->src() == r.src && back->dst() == r.dst && back->protocol() == r.protocol &&
                       back->ttl() == r.ttl && back->tos() == r.tos && back->id() == r.id &&
                       back->dont_fragment() == r.dont_fragment &&
                       back->payload().size() == payload.size(),
                   "IPv4 round trip changed a field");
    }
    if (ip->protocol() == ipproto::tcp) {
        fuzz_tcp(payload, ip->src(), ip->dst());
    } else if (ip->protocol() == ipproto::icmp) {
        (void)parse_icmp_echo(payload);
        fuzz_icmp_error(payload);
    }
}

// An error message (RFC 792): the quote must lie inside the message and hold
// an IPv4 header and 8 bytes; emitting it again yields the same fields.
void fuzz_icmp_error(std::span<const std::uint8_t> message) {
    auto e = parse_icmp_error(message);
    if (!e) return;
    FUZZ_CHECK(e->quoted_payload.size() >= 8, "quote shorter than 8 bytes");
    FUZZ_CHECK(e->quoted_payload.data() >= message.data() + kIcmpErrorHeaderLen + 20 &&
                   e->quoted_payload.data() + e->quoted_payload.size() <= message.data() + message.size(),
               "quote outside the message");
    const auto quoted = message.subspan(kIcmpErrorHeaderLen);
    std::vector<std::uint8_t> out(kIcmpErrorHeaderLen + quoted.size());
    auto n = emit_icmp_error(e->type, e->code, e->next_hop_mtu, quoted, out);
    FUZZ_CHECK(n.ok(), "emit_icmp_error failed: %s", name(n.error()));
    auto back = parse_icmp_error(std::span(out).first(*n));
    FUZZ_CHECK(back.ok() && back->type == e->type && back->code == e->code &&
                   back->next_hop_mtu == e->next_hop_mtu && back->quoted_src == e->quoted_src &&
                   back->quoted_dst == e->quoted_dst && back->quoted_protocol == e->quoted_protocol &&
                   back->quoted_total_len == e->quoted_total_len &&
                   std::equal(back->quoted_payload.begin(), back->quoted_payload.begin() + 8,
                              e->quoted_payload.begin()),
               "ICMP error round trip changed a field");
}

void fuzz_icmp(std::span<const std::uint8_t> message) {
    fuzz_icmp_error(message);
    auto echo = parse_icmp_echo(message);
    if (!echo) return;
    FUZZ_CHECK(echo->type == icmp_type::echo_request || echo->type == icmp_type::echo_reply,
               "parsed ICMP type %u", echo->type);
    std::vector<std::uint8_t> out(kIcmpEchoHeaderLen + echo->data.size());
    auto n = emit_icmp_echo(*echo, out);
    FUZZ_CHECK(n.ok() && *n == out.size(), "emit_icmp_echo failed");
    auto back = parse_icmp_echo(out);
    FUZZ_CHECK(back.ok(), "emitted echo does not parse: %s", name(back.error()));
    FUZZ_CHECK(back->type == echo->type && back->code == echo->code && back->id == echo->id &&
                   back->seq == echo->seq && back->data.size() == echo->data.size() &&
                   std::equal(echo->data.begin(), echo->data.end(), back->data.begin()),
               "ICMP echo round trip changed a field");
    if (echo->type == icmp_type::echo_request) {
        std::vector<std::uint8_t> copy(message.begin(), message.end());
        const WireError e = icmp_echo_request_to_reply_in_place(copy);
        FUZZ_CHECK(e == WireError::none, "request->reply failed: %s", name(e));
        auto reply = parse_icmp_echo(copy);
        FUZZ_CHECK(reply.ok() && reply->type == icmp_type::echo_reply && reply->id == echo->id &&
                       reply->seq == echo->seq,
                   "in-place reply does not parse as the matching reply");
    }
}

void fuzz_arp(std::span<const std::uint8_t> packet) {
    auto arp = parse_arp(packet);
    if (!arp) return;
    std::array<std::uint8_t, kArpLen> out{};
    auto n = emit_arp(*arp, out);
    FUZZ_CHECK(n.ok() && *n == kArpLen, "emit_arp failed");
    auto back = parse_arp(out);
    FUZZ_CHECK(back.ok() && *back == *arp, "ARP round trip changed a field");
}

void fuzz_ethernet(std::span<const std::uint8_t> frame) {
    for (const VlanPolicy policy : {VlanPolicy::skip, VlanPolicy::drop}) {
        auto eth = parse_ethernet(frame, policy);
        if (!eth) continue;
        FUZZ_CHECK(eth->header_len == kEthHeaderLen + kVlanTagLen * eth->vlan_tags &&
                       eth->vlan_tags <= 2 && eth->header_len <= frame.size() &&
                       eth->payload.size() == frame.size() - eth->header_len,
                   "ethernet: header_len %u tags %u frame %zu", eth->header_len, eth->vlan_tags,
                   frame.size());
        FUZZ_CHECK(policy == VlanPolicy::skip || eth->vlan_tags == 0, "drop policy kept a tag");
        EthernetRepr r{eth->dst, eth->src, eth->ethertype};
        std::array<std::uint8_t, kEthHeaderLen> out{};
        auto n = emit_ethernet(r, out);
        FUZZ_CHECK(n.ok() && *n == kEthHeaderLen, "emit_ethernet failed");
        auto back = parse_ethernet(out, VlanPolicy::drop);
        // An inner ethertype that is itself a VLAN type is rejected untagged.
        if (back) {
            FUZZ_CHECK(back->dst == r.dst && back->src == r.src && back->ethertype == r.ethertype,
                       "ethernet round trip changed a field");
        }
        if (policy == VlanPolicy::skip) {
            if (eth->ethertype == ethertype::ipv4) fuzz_ipv4(eth->payload);
            if (eth->ethertype == ethertype::arp) fuzz_arp(eth->payload);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    // Every parser sees the whole input: the fixtures are Ethernet frames,
    // IPv4 packets and bare TCP segments, so each layer gets real seeds.
    fuzz_ethernet(in);
    fuzz_ipv4(in);
    fuzz_arp(in);
    fuzz_icmp(in);
    fuzz_tcp(in, Ipv4Addr::from_octets(172, 16, 48, 13), Ipv4Addr::from_octets(172, 16, 48, 1));
    if (size <= 64) fuzz_options(in);
    // Checksums: one's-complement properties on arbitrary bytes.
    const std::uint64_t sum = checksum::accumulate(in);
    std::vector<std::uint8_t> with(in.begin(), in.end());
    if (with.size() % 2 != 0) with.push_back(0);
    const std::uint16_t ck = checksum::finish(sum);
    with.push_back(static_cast<std::uint8_t>(ck >> 8));
    with.push_back(static_cast<std::uint8_t>(ck & 0xff));
    FUZZ_CHECK(checksum::verifies(checksum::accumulate(with)),
               "data followed by its checksum does not verify");
    return 0;
}

// Nothing is kept between inputs here: no digest to compare.
std::uint64_t tcpfp::fuzz::last_input_digest() { return 0; }
