#include "tcp/wire/tcp_options.hpp"

#include <algorithm>

#include "tcp/wire/bytes.hpp"

namespace tcpfp::wire {

namespace {

// The fixed or patterned length a known kind must carry, checked before its
// body is read. Unknown kinds accept any length >= 2.
WireError check_known_length(std::uint8_t kind, std::size_t len) {
    switch (kind) {
        case tcp_opt::mss:
            return len == 4 ? WireError::none : WireError::tcp_opt_mss_length;
        case tcp_opt::wscale:
            return len == 3 ? WireError::none : WireError::tcp_opt_wscale_length;
        case tcp_opt::sack_permitted:
            return len == 2 ? WireError::none : WireError::tcp_opt_sack_permitted_length;
        case tcp_opt::sack: {
            const bool ok = len >= 10 && (len - 2) % 8 == 0 && (len - 2) / 8 <= kMaxSackBlocks;
            return ok ? WireError::none : WireError::tcp_opt_sack_length;
        }
        case tcp_opt::timestamps:
            return len == 10 ? WireError::none : WireError::tcp_opt_timestamps_length;
        default:
            return WireError::none;
    }
}

}  // namespace

Result<RawOption> TcpOptionReader::next() {
    if (done()) return WireError::tcp_opt_overrun;  // caller walked past the end
    const std::uint8_t kind = bytes_[pos_];
    if (kind == tcp_opt::eol) {
        pos_ = bytes_.size();  // the rest is padding (RFC 9293 §3.2)
        return RawOption{tcp_opt::eol, {}};
    }
    if (kind == tcp_opt::nop) {
        ++pos_;
        return RawOption{tcp_opt::nop, {}};
    }
    if (pos_ + 1 >= bytes_.size()) {
        pos_ = bytes_.size();
        return WireError::tcp_opt_truncated;
    }
    const std::size_t len = bytes_[pos_ + 1];
    WireError err = WireError::none;
    if (len < 2) {
        err = WireError::tcp_opt_bad_length;
    } else if (pos_ + len > bytes_.size()) {
        err = WireError::tcp_opt_overrun;
    } else {
        err = check_known_length(kind, len);
    }
    if (err != WireError::none) {
        pos_ = bytes_.size();
        return err;
    }
    RawOption opt{kind, bytes_.subspan(pos_ + 2, len - 2)};
    pos_ += len;
    return opt;
}

WireError parse_tcp_options_into(std::span<const std::uint8_t> bytes, TcpOptions& o) {
    // RFC 7323 Appendix A: NOP, NOP, Timestamps is the layout every
    // timestamp sender uses on data and ACKs, so it is read without the
    // walk (the walk decodes it the same way); no options at all likewise.
    constexpr std::uint32_t kNopNopTs = 0x0101080a;
    if (bytes.size() == 12 && load_be32(bytes.data()) == kNopNopTs) {
        o.has_timestamps = true;
        o.ts_val = load_be32(bytes.data() + 4);
        o.ts_ecr = load_be32(bytes.data() + 8);
        return WireError::none;
    }
    if (bytes.empty()) return WireError::none;
    TcpOptionReader reader(bytes);
    while (!reader.done()) {
        auto opt = reader.next();
        if (!opt) return opt.error();
        const std::uint8_t* b = opt->body.data();
        switch (opt->kind) {
            case tcp_opt::mss:
                o.has_mss = true;
                o.mss = load_be16(b);
                break;
            case tcp_opt::wscale:
                o.has_wscale = true;
                o.wscale = b[0];
                break;
            case tcp_opt::sack_permitted:
                o.sack_permitted = true;
                break;
            case tcp_opt::timestamps:
                o.has_timestamps = true;
                o.ts_val = load_be32(b);
                o.ts_ecr = load_be32(b + 4);
                break;
            case tcp_opt::sack:
                o.sack_count = static_cast<std::uint8_t>(opt->body.size() / 8);
                for (std::size_t i = 0; i < o.sack_count; ++i) {
                    o.sack[i] = {SeqNum(load_be32(b + 8 * i)), SeqNum(load_be32(b + 8 * i + 4))};
                }
                break;
            default:  // EOL, NOP and unknown kinds carry nothing for us
                break;
        }
    }
    return WireError::none;
}

Result<TcpOptions> parse_tcp_options(std::span<const std::uint8_t> bytes) {
    TcpOptions o;
    if (const WireError e = parse_tcp_options_into(bytes, o); e != WireError::none) return e;
    return o;
}

bool TcpOptionWriter::reserve(std::size_t n) {
    if (overflow_ || len_ + n > buf_.size()) {
        overflow_ = true;
        return false;
    }
    return true;
}

TcpOptionWriter& TcpOptionWriter::nop() {
    if (reserve(1)) buf_[len_++] = tcp_opt::nop;
    return *this;
}

TcpOptionWriter& TcpOptionWriter::eol() {
    if (reserve(1)) buf_[len_++] = tcp_opt::eol;
    return *this;
}

TcpOptionWriter& TcpOptionWriter::mss(std::uint16_t value) {
    if (!reserve(4)) return *this;
    buf_[len_] = tcp_opt::mss;
    buf_[len_ + 1] = 4;
    store_be16(&buf_[len_ + 2], value);
    len_ += 4;
    return *this;
}

TcpOptionWriter& TcpOptionWriter::wscale(std::uint8_t shift) {
    if (!reserve(3)) return *this;
    buf_[len_] = tcp_opt::wscale;
    buf_[len_ + 1] = 3;
    buf_[len_ + 2] = shift;
    len_ += 3;
    return *this;
}

TcpOptionWriter& TcpOptionWriter::sack_permitted() {
    if (!reserve(2)) return *this;
    buf_[len_] = tcp_opt::sack_permitted;
    buf_[len_ + 1] = 2;
    len_ += 2;
    return *this;
}

TcpOptionWriter& TcpOptionWriter::timestamps(std::uint32_t ts_val, std::uint32_t ts_ecr) {
    if (!reserve(10)) return *this;
    buf_[len_] = tcp_opt::timestamps;
    buf_[len_ + 1] = 10;
    store_be32(&buf_[len_ + 2], ts_val);
    store_be32(&buf_[len_ + 6], ts_ecr);
    len_ += 10;
    return *this;
}

TcpOptionWriter& TcpOptionWriter::sack(std::span<const SackBlock> blocks) {
    if (blocks.empty() || blocks.size() > kMaxSackBlocks) {
        overflow_ = true;
        return *this;
    }
    const std::size_t n = 2 + 8 * blocks.size();
    if (!reserve(n)) return *this;
    buf_[len_] = tcp_opt::sack;
    buf_[len_ + 1] = static_cast<std::uint8_t>(n);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        store_be32(&buf_[len_ + 2 + 8 * i], blocks[i].left.raw());
        store_be32(&buf_[len_ + 6 + 8 * i], blocks[i].right.raw());
    }
    len_ += n;
    return *this;
}

TcpOptionWriter& TcpOptionWriter::words(const TcpOptionWords& words) {
    if (!reserve(words.size())) return *this;
    for (std::size_t k = 0; k < words.n; ++k) store_be32(&buf_[len_ + 4 * k], words.w[k]);
    len_ += words.size();
    return *this;
}

TcpOptionWriter& TcpOptionWriter::raw(std::uint8_t kind, std::span<const std::uint8_t> body) {
    if (body.size() > 253 || !reserve(2 + body.size())) {
        overflow_ = true;
        return *this;
    }
    buf_[len_] = kind;
    buf_[len_ + 1] = static_cast<std::uint8_t>(2 + body.size());
    std::copy(body.begin(), body.end(), buf_.begin() + static_cast<std::ptrdiff_t>(len_ + 2));
    len_ += 2 + body.size();
    return *this;
}

Result<std::span<const std::uint8_t>> TcpOptionWriter::finish() {
    if (overflow_) return WireError::tcp_opt_no_space;
    while (len_ % 4 != 0) buf_[len_++] = tcp_opt::eol;
    return std::span<const std::uint8_t>(buf_.data(), len_);
}

namespace {

bool push_word(TcpOptionWords& out, std::uint32_t word) {
    if (out.n == out.w.size()) return false;
    out.w[out.n++] = word;
    return true;
}

}  // namespace

// write_tcp_options()'s layouts, word by word: NOP is 0x01, then kind and
// length (RFC 9293 §3.2 MSS; RFC 7323 §2.2 and §3.2; RFC 2018 §2 and §3).
WireError write_tcp_option_words(const TcpOptions& o, bool syn, TcpOptionWords& out) {
    bool fits = true;
    const auto word = [&](std::uint32_t w) { fits = fits && push_word(out, w); };
    const auto timestamps = [&](std::uint32_t lead) {
        word(lead);
        word(o.ts_val);
        word(o.ts_ecr);
    };
    if (syn) {
        if (o.has_mss) word(0x02040000u | o.mss);
        if (o.sack_permitted && o.has_timestamps) {
            timestamps(0x0402080au);  // sackOK, then TS without the NOPs
        } else if (o.has_timestamps) {
            timestamps(0x0101080au);
        } else if (o.sack_permitted) {
            word(0x01010402u);
        }
        if (o.has_wscale) word(0x01030300u | o.wscale);
    } else if (o.has_timestamps) {
        timestamps(0x0101080au);
    }
    if (o.sack_count > 0) {
        if (o.sack_count > kMaxSackBlocks) return WireError::tcp_opt_no_space;
        word(0x01010500u | (2u + 8u * o.sack_count));
        for (const SackBlock& b : o.sack_blocks()) {
            word(b.left.raw());
            word(b.right.raw());
        }
    }
    return fits ? WireError::none : WireError::tcp_opt_no_space;
}

// The byte form of the same layout: one definition of it, in words.
Result<std::span<const std::uint8_t>> write_tcp_options(const TcpOptions& o, bool syn,
                                                        TcpOptionWriter& w) {
    TcpOptionWords words;
    if (const WireError e = write_tcp_option_words(o, syn, words); e != WireError::none) return e;
    return w.words(words).finish();
}

}  // namespace tcpfp::wire
