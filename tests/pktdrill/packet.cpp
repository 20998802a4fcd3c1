#include "packet.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::pktdrill {

using tcp::Instant;
namespace opt = wire::tcp_opt;

namespace {

std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) {
    return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
           (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

std::optional<std::vector<SeenOption>> walk_options(std::span<const std::uint8_t> bytes) {
    std::vector<SeenOption> out;
    wire::TcpOptionReader reader(bytes);
    while (!reader.done()) {
        auto r = reader.next();
        if (!r) return std::nullopt;
        SeenOption o;
        o.kind = r->kind;
        const auto body = r->body;
        switch (r->kind) {
            case opt::mss: o.a = body.size() == 2 ? (std::uint32_t{body[0]} << 8) | body[1] : 0; break;
            case opt::wscale: o.a = body.size() == 1 ? body[0] : 0; break;
            case opt::timestamps:
                if (body.size() == 8) {
                    o.a = be32(body, 0);
                    o.b = be32(body, 4);
                }
                break;
            case opt::sack:
                for (std::size_t i = 0; i + 8 <= body.size(); i += 8) {
                    o.blocks.emplace_back(be32(body, i), be32(body, i + 4));
                }
                break;
            default: break;
        }
        out.push_back(std::move(o));
        if (r->kind == opt::eol) break;  // the rest is padding
    }
    return out;
}

std::string flags_string(std::uint8_t f) {
    std::string s;
    if ((f & 0x01) != 0) s += 'F';
    if ((f & 0x02) != 0) s += 'S';
    if ((f & 0x04) != 0) s += 'R';
    if ((f & 0x08) != 0) s += 'P';
    if ((f & 0x20) != 0) s += 'U';
    if ((f & 0x40) != 0) s += 'E';
    if ((f & 0x80) != 0) s += 'W';
    if ((f & 0x10) != 0) s += '.';
    return s.empty() ? "-" : s;
}

std::string describe_spec_option(const TcpOptionSpec& o) {
    using K = TcpOptionSpec::Kind;
    switch (o.kind) {
        case K::nop: return "nop";
        case K::eol: return "eol";
        case K::mss: return "mss " + std::to_string(o.a);
        case K::wscale: return "wscale " + std::to_string(o.a);
        case K::sack_ok: return "sackOK";
        case K::timestamp: return "TS val " + std::to_string(o.a) + " ecr " + std::to_string(o.b);
        case K::sack: {
            std::string s = "sack";
            for (auto [l, r] : o.blocks) s += " " + std::to_string(l) + ":" + std::to_string(r);
            return s;
        }
    }
    return "?";
}

std::string describe_seen_option(const SeenOption& o) {
    switch (o.kind) {
        case opt::nop: return "nop";
        case opt::eol: return "eol";
        case opt::mss: return "mss " + std::to_string(o.a);
        case opt::wscale: return "wscale " + std::to_string(o.a);
        case opt::sack_permitted: return "sackOK";
        case opt::timestamps: return "TS val " + std::to_string(o.a) + " ecr " + std::to_string(o.b);
        case opt::sack: {
            std::string s = "sack";
            for (auto [l, r] : o.blocks) s += " " + std::to_string(l) + ":" + std::to_string(r);
            return s;
        }
        default: return "opt" + std::to_string(o.kind);
    }
}

std::uint8_t wire_kind(TcpOptionSpec::Kind k) {
    using K = TcpOptionSpec::Kind;
    switch (k) {
        case K::nop: return opt::nop;
        case K::eol: return opt::eol;
        case K::mss: return opt::mss;
        case K::wscale: return opt::wscale;
        case K::sack_ok: return opt::sack_permitted;
        case K::sack: return opt::sack;
        case K::timestamp: return opt::timestamps;
    }
    return opt::eol;
}

// TSval: compare elapsed time since the first checked TSval, in
// microseconds, so the script's tick and the engine's may differ.
std::optional<std::string> check_tsval(std::uint32_t script_val, std::uint32_t actual, SeqState& st) {
    if (st.ts_tick_us == 0) return std::nullopt;
    if (!st.ts_base_known) {
        st.ts_base_known = true;
        st.ts_base_script = script_val;
        st.ts_base_actual = actual;
        return std::nullopt;
    }
    const std::int64_t want_us = (static_cast<std::int64_t>(script_val) - st.ts_base_script) * st.ts_tick_us;
    const std::int64_t got_us = static_cast<std::int32_t>(actual - static_cast<std::uint32_t>(st.ts_base_actual)) *
                                st.engine_tick_us;
    if (std::llabs(want_us - got_us) <= st.tolerance_us + st.engine_tick_us) return std::nullopt;
    return "TS val " + std::to_string(actual) + " is " + std::to_string(got_us) +
           " us after the first TSval; the script expects " + std::to_string(want_us) + " us";
}

std::uint8_t ecn_codepoint(EcnSpec e) {
    switch (e) {
        case EcnSpec::ect0: return wire::ecn::ect0;
        case EcnSpec::ect1: return wire::ecn::ect1;
        case EcnSpec::ce: return wire::ecn::ce;
        default: return wire::ecn::not_ect;
    }
}

const char* ecn_name(std::uint8_t codepoint) {
    switch (codepoint & wire::ecn::mask) {
        case wire::ecn::ect0: return "ect0";
        case wire::ecn::ect1: return "ect1";
        case wire::ecn::ce: return "ce";
        default: return "noecn";
    }
}

std::string hex_byte(std::uint8_t v) {
    char b[8];
    std::snprintf(b, sizeof b, "0x%x", v);
    return b;
}

// The IPv4 fields a `>` line names: ECN codepoint, whole TOS byte, TTL.
std::optional<std::string> match_ip_fields(const PacketSpec& p, const Captured& c) {
    const std::uint8_t got = c.tos & wire::ecn::mask;
    if (p.ecn == EcnSpec::ect01) {
        if (got != wire::ecn::ect0 && got != wire::ecn::ect1) {
            return std::string("ECN field differs: expected ect01, actual ") + ecn_name(got);
        }
    } else if (p.ecn != EcnSpec::unchecked && got != ecn_codepoint(p.ecn)) {
        return std::string("ECN field differs: expected ") + ecn_name(ecn_codepoint(p.ecn)) + ", actual " +
               ecn_name(got);
    }
    if (p.tos && c.tos != *p.tos) {
        return "TOS differs: expected " + hex_byte(*p.tos) + ", actual " + hex_byte(c.tos);
    }
    if (p.ttl && c.ttl != *p.ttl) {
        return "TTL differs: expected " + std::to_string(*p.ttl) + ", actual " + std::to_string(c.ttl);
    }
    return std::nullopt;
}

std::optional<std::string> match_options(const PacketSpec& p, const Captured& c, SeqState& st) {
    if (p.options_any) return std::nullopt;
    // Trailing EOL padding is not part of what a script writes.
    std::vector<const SeenOption*> seen;
    for (const auto& o : c.options) seen.push_back(&o);
    const bool want_eol = !p.options.empty() && p.options.back().kind == TcpOptionSpec::Kind::eol;
    if (!want_eol && !seen.empty() && seen.back()->kind == opt::eol) seen.pop_back();
    if (seen.size() != p.options.size()) return "TCP options differ";
    for (std::size_t i = 0; i < seen.size(); ++i) {
        const TcpOptionSpec& w = p.options[i];
        const SeenOption& g = *seen[i];
        if (wire_kind(w.kind) != g.kind) return "TCP option " + std::to_string(i + 1) + " differs";
        using K = TcpOptionSpec::Kind;
        if ((w.kind == K::mss || w.kind == K::wscale) && w.a != g.a) {
            return describe_spec_option(w) + " expected, " + describe_seen_option(g) + " sent";
        }
        if (w.kind == K::sack && w.blocks != g.blocks) return "SACK blocks differ";
        if (w.kind == K::timestamp) {
            if (w.b != g.b) return "TS ecr " + std::to_string(g.b) + " sent, " + std::to_string(w.b) + " expected";
            if (auto e = check_tsval(w.a, g.a, st)) return e;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<Captured> parse_captured(const std::vector<std::uint8_t>& packet, Instant at) {
    auto ip = wire::parse_ipv4_checked(packet);
    if (!ip || ip->protocol() != wire::ipproto::tcp) return std::nullopt;
    auto t = wire::parse_tcp_checked(ip->payload(), ip->src(), ip->dst());
    if (!t) return std::nullopt;
    auto opts = walk_options(t->options());
    if (!opts) return std::nullopt;
    Captured c;
    c.at = at;
    c.src = ip->src();
    c.dst = ip->dst();
    c.tos = ip->tos();
    c.ttl = ip->ttl();
    c.src_port = t->src_port();
    c.dst_port = t->dst_port();
    c.seq = t->seq().raw();
    c.ack = t->ack().raw();
    c.flags = t->flags();
    c.window = t->window();
    c.urg = t->urgent_ptr();
    c.payload_len = static_cast<std::uint32_t>(t->payload().size());
    c.options = std::move(*opts);
    return c;
}

namespace {

// An ICMP error from the remote host about the segment we sent at p.start:
// the quote is its IPv4 header and first 8 TCP bytes (RFC 792), as a router
// returns them.
std::vector<std::uint8_t> build_inbound_icmp(const PacketSpec& p, const Endpoints& ep, const SeqState& st) {
    std::vector<std::uint8_t> quoted(wire::kIpv4MinHeaderLen + 8);
    wire::Ipv4Repr q;
    q.src = ep.local_ip;
    q.dst = ep.remote_ip;
    q.protocol = wire::ipproto::tcp;
    q.payload_len = static_cast<std::uint16_t>(20 + p.len);  // as the segment went out, options aside
    if (!wire::emit_ipv4(q, quoted)) throw BuildError{"cannot build the quoted header"};
    std::uint8_t* t = quoted.data() + wire::kIpv4MinHeaderLen;
    wire::store_be16(t, ep.local_port);
    wire::store_be16(t + 2, ep.remote_port);
    wire::store_be32(t + 4, st.local_isn + p.start);
    std::vector<std::uint8_t> out(wire::kIpv4MinHeaderLen + wire::kIcmpErrorHeaderLen + quoted.size());
    auto n = wire::emit_icmp_error(p.icmp_type, p.icmp_code, p.icmp_mtu, quoted,
                                   std::span(out).subspan(wire::kIpv4MinHeaderLen));
    wire::Ipv4Repr ip;
    ip.src = ep.remote_ip;
    ip.dst = ep.local_ip;
    ip.protocol = wire::ipproto::icmp;
    ip.payload_len = static_cast<std::uint16_t>(n ? *n : 0);
    if (!n || !wire::emit_ipv4(ip, out)) throw BuildError{"cannot build the ICMP packet"};
    return out;
}

}  // namespace

std::vector<std::uint8_t> build_inbound(const PacketSpec& p, const Endpoints& ep, const SeqState& st) {
    if (p.icmp) return build_inbound_icmp(p, ep, st);
    if (p.options_any) throw BuildError{"<...> is only meaningful on outbound packets"};
    wire::TcpOptionWriter w;
    std::vector<wire::SackBlock> blocks;
    for (const auto& o : p.options) {
        using K = TcpOptionSpec::Kind;
        switch (o.kind) {
            case K::nop: w.nop(); break;
            case K::eol: w.eol(); break;
            case K::mss: w.mss(static_cast<std::uint16_t>(o.a)); break;
            case K::wscale: w.wscale(static_cast<std::uint8_t>(o.a)); break;
            case K::sack_ok: w.sack_permitted(); break;
            case K::timestamp: {
                // An ecr equal to a TS val the script wrote on a `>` line
                // echoes what the engine really sent there.
                const auto it = st.ts_map.find(o.b);
                w.timestamps(o.a, it != st.ts_map.end() ? it->second : o.b);
                break;
            }
            case K::sack:
                blocks.clear();
                for (auto [l, r] : o.blocks) {
                    blocks.push_back({wire::SeqNum(st.local_isn + l), wire::SeqNum(st.local_isn + r)});
                }
                w.sack(blocks);
                break;
        }
    }
    auto options = w.finish();
    if (!options) throw BuildError{"TCP options do not fit in 40 bytes"};
    const std::vector<std::uint8_t> payload(p.len, 0);
    wire::TcpRepr r;
    r.src_port = ep.remote_port;
    r.dst_port = ep.local_port;
    r.seq = wire::SeqNum(p.start);
    r.ack = wire::SeqNum(p.ack ? st.local_isn + *p.ack : 0);
    r.flags = p.flags;
    r.window = p.win.value_or(65535);
    r.urgent_ptr = p.urg.value_or(0);
    r.options = *options;
    r.payload = payload;
    std::vector<std::uint8_t> out(wire::kIpv4MinHeaderLen + r.segment_len());
    wire::Ipv4Repr ip;
    ip.src = ep.remote_ip;
    ip.dst = ep.local_ip;
    ip.protocol = wire::ipproto::tcp;
    ip.tos = p.tos ? *p.tos : ecn_codepoint(p.ecn);
    if (p.ttl) ip.ttl = *p.ttl;
    ip.payload_len = static_cast<std::uint16_t>(r.segment_len());
    if (!wire::emit_ipv4(ip, out) ||
        !wire::emit_tcp(r, ep.remote_ip, ep.local_ip, std::span(out).subspan(wire::kIpv4MinHeaderLen))) {
        throw BuildError{"cannot build the packet"};
    }
    return out;
}

std::string describe_spec(const PacketSpec& p) {
    std::ostringstream s;
    if (p.ecn == EcnSpec::ect01) s << "[ect01] ";
    else if (p.ecn != EcnSpec::unchecked) s << '[' << ecn_name(ecn_codepoint(p.ecn)) << "] ";
    if (p.tos) s << "(tos " << hex_byte(*p.tos) << ") ";
    if (p.ttl) s << "(ttl " << int{*p.ttl} << ") ";
    s << p.flags_text << ' ' << p.start << ':' << p.end << '(' << p.len << ')';
    if (p.ack) s << " ack " << *p.ack;
    if (p.win) s << " win " << *p.win;
    if (p.urg) s << " urg " << *p.urg;
    if (p.options_any) {
        s << " <...>";
    } else if (p.has_options) {
        s << " <";
        for (std::size_t i = 0; i < p.options.size(); ++i) s << (i ? "," : "") << describe_spec_option(p.options[i]);
        s << '>';
    }
    return s.str();
}

std::string describe_captured(const Captured& c, const SeqState& st) {
    std::ostringstream s;
    const std::uint32_t start = c.seq - (st.isn_known ? st.local_isn : 0);
    if ((c.tos & wire::ecn::mask) != 0) s << '[' << ecn_name(c.tos) << "] ";
    if ((c.tos & ~wire::ecn::mask) != 0) s << "(tos " << hex_byte(c.tos) << ") ";
    s << flags_string(c.flags) << ' ' << start << ':' << start + c.payload_len << '(' << c.payload_len << ')';
    if ((c.flags & 0x10) != 0) s << " ack " << c.ack;
    s << " win " << c.window;
    if (c.urg != 0) s << " urg " << c.urg;
    if (!c.options.empty()) {
        s << " <";
        for (std::size_t i = 0; i < c.options.size(); ++i) s << (i ? "," : "") << describe_seen_option(c.options[i]);
        s << '>';
    }
    return s.str();
}

std::optional<std::string> match_outbound(const PacketSpec& p, const Captured& c, SeqState& st) {
    // A SYN tells us the engine's ISN (a new connection may bring a new one).
    if ((c.flags & 0x02) != 0) {
        st.isn_known = true;
        st.local_isn = c.seq;
    }
    if (p.flags != c.flags) return "flags differ: expected " + p.flags_text + ", actual " + flags_string(c.flags);
    const std::uint32_t start = c.seq - st.local_isn;
    if (start != p.start) {
        return "sequence number differs: expected " + std::to_string(p.start) + ", actual " + std::to_string(start);
    }
    if (c.payload_len != p.len) {
        return "payload length differs: expected " + std::to_string(p.len) + ", actual " + std::to_string(c.payload_len);
    }
    if (p.ack && (c.flags & 0x10) != 0 && c.ack != *p.ack) {
        return "ack differs: expected " + std::to_string(*p.ack) + ", actual " + std::to_string(c.ack);
    }
    if (p.win && c.window != *p.win) {
        return "window differs: expected " + std::to_string(*p.win) + ", actual " + std::to_string(c.window);
    }
    if (p.urg && c.urg != *p.urg) return "urgent pointer differs";
    if (auto e = match_ip_fields(p, c)) return e;
    if (auto e = match_options(p, c, st)) return e;
    // Remember the TSvals this line named so later `<` lines can echo them.
    if (!p.options_any) {
        for (std::size_t i = 0, j = 0; i < p.options.size() && j < c.options.size(); ++i, ++j) {
            if (p.options[i].kind == TcpOptionSpec::Kind::timestamp) st.ts_map[p.options[i].a] = c.options[j].a;
        }
    }
    return std::nullopt;
}

}  // namespace tcpfp::pktdrill
