#include "parser.hpp"

#include <cctype>
#include <cstdlib>

#include "lexer.hpp"

namespace tcpfp::pktdrill {

std::optional<std::int64_t> seconds_to_us(const std::string& text) {
    std::int64_t whole = 0;
    std::int64_t frac = 0;
    std::int64_t scale = 1000000;
    std::size_t i = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0; ++i) {
        whole = whole * 10 + (text[i] - '0');
        if (whole > 1000000000) return std::nullopt;
    }
    if (i < text.size() && text[i] == '.') {
        for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0; ++i) {
            // Digits past the microsecond are dropped (packetdrill's resolution).
            if (scale > 1) {
                scale /= 10;
                frac += (text[i] - '0') * scale;
            }
        }
    }
    if (i != text.size()) return std::nullopt;
    return whole * 1000000 + frac;
}

namespace {

class Parser {
public:
    Parser(std::vector<Token> tokens, std::string path) : t_(std::move(tokens)) {
        script_.path = std::move(path);
    }

    Script run() {
        while (peek().kind == Tok::option) {
            const std::string& o = take().text;
            const auto eq = o.find('=');
            script_.options.emplace_back(o.substr(0, eq),
                                         eq == std::string::npos ? "" : o.substr(eq + 1));
        }
        while (peek().kind != Tok::end) script_.events.push_back(event());
        return std::move(script_);
    }

private:
    const Token& peek(std::size_t k = 0) const {
        return t_[std::min(pos_ + k, t_.size() - 1)];
    }
    const Token& take() {
        const Token& t = t_[pos_];
        if (pos_ + 1 < t_.size()) ++pos_;
        return t;
    }
    [[noreturn]] void fail(const std::string& msg) const { throw ParseError{peek().line, msg}; }
    [[noreturn]] void unsupported(const std::string& what) const {
        throw ParseError{peek().line, "unsupported: " + what};
    }
    void expect(char c) {
        if (!peek().is(c)) fail(std::string("expected '") + c + "' but found '" + peek().text + "'");
        take();
    }
    bool accept(char c) {
        if (!peek().is(c)) return false;
        take();
        return true;
    }
    std::string describe(const Token& t) const { return t.kind == Tok::end ? "end of script" : "'" + t.text + "'"; }

    std::int64_t integer() {
        bool neg = accept('-');
        const Token& t = peek();
        if (t.kind != Tok::number || t.text.find('.') != std::string::npos) {
            fail("expected an integer but found " + describe(t));
        }
        take();
        const std::int64_t v = std::strtoll(t.text.c_str(), nullptr, 0);
        return neg ? -v : v;
    }
    std::uint32_t u32() {
        const std::int64_t v = integer();
        if (v < 0 || v > 0xffffffffll) fail("value out of range: " + std::to_string(v));
        return static_cast<std::uint32_t>(v);
    }
    std::uint16_t u16() {
        const std::int64_t v = integer();
        if (v < 0 || v > 0xffff) fail("value out of range: " + std::to_string(v));
        return static_cast<std::uint16_t>(v);
    }
    std::int64_t time_value() {
        const Token& t = peek();
        if (t.kind != Tok::number) fail("expected a time but found " + describe(t));
        take();
        const auto us = seconds_to_us(t.text);
        if (!us) fail("bad time '" + t.text + "'");
        return *us;
    }

    TimeSpec time_spec() {
        TimeSpec ts;
        if (accept('*')) {
            ts.any = true;
            return ts;
        }
        ts.relative = accept('+');
        ts.us = time_value();
        if (accept('~')) {
            ts.has_range = true;
            ts.range_relative = accept('+');
            ts.range_end_us = time_value();
        }
        return ts;
    }

    Event event() {
        Event e;
        e.line = peek().line;
        if (peek().kind == Tok::backquote) {
            // A command without a time: the init or cleanup command.
            e.kind = Event::Kind::command;
            e.text = take().text;
            e.time.relative = true;
            return e;
        }
        e.time = time_spec();
        bool blocking = false;
        std::int64_t end_us = 0;
        if (peek().kind == Tok::ellipsis) {
            take();
            blocking = true;
            end_us = time_value();
        }
        const Token& t = peek();
        if (t.is('<') || t.is('>')) {
            e.kind = Event::Kind::packet;
            e.packet = packet();
        } else if (t.kind == Tok::backquote) {
            e.kind = Event::Kind::command;
            e.text = take().text;
        } else if (t.kind == Tok::code) {
            e.kind = Event::Kind::code;
            e.text = take().text;
        } else if (t.kind == Tok::word) {
            e.kind = Event::Kind::syscall;
            e.syscall = syscall();
            e.syscall.blocking = blocking;
            e.syscall.end_us = end_us;
            return e;
        } else {
            fail("expected a packet, system call or command but found " + describe(t));
        }
        if (blocking) throw ParseError{e.line, "'...' end time is only for system calls"};
        return e;
    }

    // --- packets ---

    static bool flag_bits(const std::string& text, std::uint8_t& out) {
        for (char c : text) {
            switch (c) {
                case 'F': out |= 0x01; break;
                case 'S': out |= 0x02; break;
                case 'R': out |= 0x04; break;
                case 'P': out |= 0x08; break;
                case '.': out |= 0x10; break;
                case 'U': out |= 0x20; break;
                case 'E': out |= 0x40; break;
                case 'W': out |= 0x80; break;
                case '-': break;
                default: return false;
            }
        }
        return true;
    }

    PacketSpec packet() {
        PacketSpec p;
        p.inbound = take().is('<');
        if (peek().is('(') || peek().is('[')) ip_info(p);
        if (peek().is_word("ipv4") || peek().is_word("ipv6") || peek().is_word("gre") ||
            peek().is_word("mpls")) {
            unsupported("encapsulation prefix '" + peek().text + "'");
        }
        if (peek().is_word("udp")) unsupported("udp packets");
        if (peek().is_word("icmp")) {
            if (!p.inbound) unsupported("outbound icmp packets");
            if (p.ecn != EcnSpec::unchecked || p.tos || p.ttl) unsupported("IP header fields on an icmp line");
            take();
            icmp(p);
            return p;
        }
        if (peek().kind == Tok::number && peek(1).is('>')) unsupported("port numbers on a packet line");
        // flags: '-' | '.' | WORD | WORD '.'
        if (accept('-')) {
            p.flags_text = "-";
        } else if (accept('.')) {
            p.flags_text = ".";
        } else if (peek().kind == Tok::word) {
            p.flags_text = take().text;
            if (accept('.')) p.flags_text += '.';
        } else {
            fail("expected TCP flags but found " + describe(peek()));
        }
        if (!flag_bits(p.flags_text, p.flags)) fail("bad TCP flags '" + p.flags_text + "'");
        p.start = u32();
        expect(':');
        p.end = u32();
        expect('(');
        p.len = u32();
        expect(')');
        if (p.end - p.start != p.len) {
            fail("sequence range " + std::to_string(p.start) + ":" + std::to_string(p.end) +
                 " does not match length " + std::to_string(p.len));
        }
        for (;;) {
            if (peek().is_word("ack")) {
                take();
                p.ack = u32();
            } else if (peek().is_word("win")) {
                take();
                p.win = u16();
            } else if (peek().is_word("urg")) {
                take();
                p.urg = u16();
            } else if (peek().is('<')) {
                take();
                options(p);
            } else {
                break;
            }
        }
        return p;
    }

    // `(` or `[`, then an ECN codepoint, `tos HEX` or `ttl N`, and the
    // matching bracket (packetdrill's opt_ip_info; flowlabel is IPv6's).
    void ip_info(PacketSpec& p) {
        const char close = take().is('(') ? ')' : ']';
        const Token& t = peek();
        if (t.kind != Tok::word) fail("expected tos, ttl or an ECN codepoint but found " + describe(t));
        const std::string w = take().text;
        if (w == "noecn") p.ecn = EcnSpec::no_ecn;
        else if (w == "ect0") p.ecn = EcnSpec::ect0;
        else if (w == "ect1") p.ecn = EcnSpec::ect1;
        else if (w == "ce") p.ecn = EcnSpec::ce;
        else if (w == "ect01") p.ecn = EcnSpec::ect01;
        else if (w == "tos") p.tos = static_cast<std::uint8_t>(byte_value("tos"));
        else if (w == "ttl") p.ttl = static_cast<std::uint8_t>(byte_value("ttl"));
        else if (w == "flowlabel") unsupported("flowlabel (IPv6)");
        else fail("unknown IP field '" + w + "'");
        if (peek().is(',')) unsupported("more than one IP field on a packet line");
        expect(close);
        if (p.inbound && p.ecn == EcnSpec::ect01) fail("[ect01] matches outbound packets; an inbound one needs one codepoint");
    }
    std::int64_t byte_value(const char* what) {
        const std::int64_t v = integer();
        if (v < 0 || v > 255) fail(std::string(what) + " out of range: " + std::to_string(v));
        return v;
    }

    // packetdrill's names (its icmp_packet.c) for the errors TCP acts on.
    void icmp(PacketSpec& p) {
        static const std::pair<const char*, std::uint8_t> kTypes[] = {
            {"unreachable", 3}, {"source_quench", 4}, {"time_exceeded", 11}, {"parameter_problem", 12}};
        static const std::pair<const char*, std::uint8_t> kCodes[] = {
            {"net_unreachable", 0},   {"host_unreachable", 1}, {"protocol_unreachable", 2},
            {"port_unreachable", 3},  {"frag_needed", 4},      {"source_route_failed", 5},
            {"net_unknown", 6},       {"host_unknown", 7},     {"source_host_isolated", 8},
            {"net_prohibited", 9},    {"host_prohibited", 10}, {"net_unreachable_for_tos", 11},
            {"host_unreachable_for_tos", 12}, {"packet_filtered", 13}};
        if (peek().kind != Tok::word) fail("expected an ICMP type but found " + describe(peek()));
        const std::string type = take().text;
        bool known = false;
        for (auto [name, v] : kTypes) {
            if (type == name) p.icmp_type = v, known = true;
        }
        if (!known) unsupported("ICMP type '" + type + "'");
        p.icmp = true;
        if (peek().kind == Tok::word && !peek().is_word("mtu")) {
            const std::string code = take().text;
            known = false;
            for (auto [name, v] : kCodes) {
                if (code == name) p.icmp_code = v, known = true;
            }
            if (!known) unsupported("ICMP code '" + code + "'");
        }
        if (peek().is_word("mtu")) {
            take();
            p.icmp_mtu = u16();
        }
        if (accept('[')) {
            p.start = u32();
            expect(':');
            p.end = u32();
            expect('(');
            p.len = u32();
            expect(')');
            expect(']');
        }
    }

    void options(PacketSpec& p) {
        p.has_options = true;
        if (peek().kind == Tok::ellipsis) {
            take();
            p.options_any = true;
            expect('>');
            return;
        }
        if (accept('>')) return;
        do {
            p.options.push_back(option());
        } while (accept(','));
        expect('>');
    }

    TcpOptionSpec option() {
        TcpOptionSpec o;
        const Token& t = peek();
        if (t.kind != Tok::word) fail("expected a TCP option but found " + describe(t));
        const std::string name = take().text;
        using K = TcpOptionSpec::Kind;
        if (name == "nop") {
            o.kind = K::nop;
        } else if (name == "eol") {
            o.kind = K::eol;
        } else if (name == "mss") {
            o.kind = K::mss;
            o.a = u16();
        } else if (name == "wscale") {
            o.kind = K::wscale;
            o.a = u32();
            if (o.a > 255) fail("wscale out of range");
        } else if (name == "sackOK") {
            o.kind = K::sack_ok;
        } else if (name == "sack") {
            o.kind = K::sack;
            while (peek().kind == Tok::number) {
                const std::uint32_t l = u32();
                expect(':');
                o.blocks.emplace_back(l, u32());
            }
            if (o.blocks.empty()) fail("sack option without blocks");
        } else if (name == "TS") {
            o.kind = K::timestamp;
            if (!peek().is_word("val")) fail("expected 'val' after TS");
            take();
            o.a = u32();
            if (!peek().is_word("ecr")) fail("expected 'ecr' in TS option");
            take();
            o.b = u32();
        } else if (name == "md5" || name == "FO" || name == "FOEXP" || name == "mptcp" ||
                   name == "exp") {
            unsupported("TCP option '" + name + "'");
        } else {
            fail("unknown TCP option '" + name + "'");
        }
        return o;
    }

    // --- system calls ---

    SyscallSpec syscall() {
        SyscallSpec s;
        s.name = take().text;
        expect('(');
        if (!accept(')')) {
            do {
                s.args.push_back(expression());
            } while (accept(','));
            expect(')');
        }
        expect('=');
        s.result = expression();
        if (peek().kind == Tok::word && peek().line == s_line()) s.errno_name = take().text;
        if (peek().is('(')) skip_note();
        return s;
    }
    int s_line() const { return t_[pos_ > 0 ? pos_ - 1 : 0].line; }

    void skip_note() {
        int depth = 0;
        do {
            if (peek().kind == Tok::end) fail("unterminated note");
            if (peek().is('(')) ++depth;
            if (peek().is(')')) --depth;
            take();
        } while (depth > 0);
    }

    Expr expression() {
        Expr e = primary();
        while (accept('|')) {
            Expr o;
            o.kind = Expr::Kind::bit_or;
            o.items.push_back(std::move(e));
            o.items.push_back(primary());
            e = std::move(o);
        }
        return e;
    }

    Expr list(Expr::Kind kind, char closing) {
        Expr e;
        e.kind = kind;
        if (accept(closing)) return e;
        do {
            e.items.push_back(expression());
        } while (accept(','));
        expect(closing);
        return e;
    }

    Expr primary() {
        Expr e;
        const Token& t = peek();
        if (t.kind == Tok::ellipsis) {
            take();
            e.kind = Expr::Kind::ellipsis;
        } else if (t.kind == Tok::number || t.is('-')) {
            e.kind = Expr::Kind::integer;
            e.value = integer();
        } else if (t.kind == Tok::string) {
            e.kind = Expr::Kind::string;
            e.text = take().text;
            if (peek().kind == Tok::ellipsis) take();  // "prefix"... : unchecked rest
        } else if (t.is('[')) {
            take();
            e = list(Expr::Kind::array, ']');
        } else if (t.is('{')) {
            take();
            e = list(Expr::Kind::structure, '}');
        } else if (t.kind == Tok::word) {
            if (t.text == "msg_name" || t.text == "msg_iov" || t.text == "msg_control") {
                unsupported("msghdr arguments (sendmsg/recvmsg)");
            }
            e.text = take().text;
            if (accept('=')) {
                e.kind = Expr::Kind::assign;
                e.items.push_back(expression());
            } else if (peek().is('(')) {
                take();
                Expr args = list(Expr::Kind::call, ')');
                args.text = e.text;
                e = std::move(args);
            } else {
                e.kind = Expr::Kind::word;
            }
        } else {
            fail("expected an expression but found " + describe(t));
        }
        return e;
    }

    std::vector<Token> t_;
    std::size_t pos_ = 0;
    Script script_;
};

void collect_expect_errors(std::string_view text, Script& s) {
    static constexpr std::string_view kTag = "// expect-error:";
    int line = 1;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        const auto l = text.substr(pos, eol - pos);
        const auto tag = l.find(kTag);
        if (tag != std::string_view::npos) {
            auto body = l.substr(tag + kTag.size());
            while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
            s.expect_errors.emplace_back(line, std::string(body));
        }
        pos = eol + 1;
        ++line;
    }
}

}  // namespace

Script parse_script(std::string_view text, std::string path) {
    std::vector<Token> tokens;
    try {
        tokens = lex(text);
    } catch (const LexError& e) {
        throw ParseError{e.line, e.message};
    }
    Script s = Parser(std::move(tokens), std::move(path)).run();
    collect_expect_errors(text, s);
    return s;
}

}  // namespace tcpfp::pktdrill
