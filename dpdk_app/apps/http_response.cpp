#include "dpdk_app/apps/http_response.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace tcpfp::app {
namespace {

// The fields that frame a response or decide the connection's reuse; names
// lower case, matched case-insensitively (RFC 9110 §5.1). Order: Field - 1.
constexpr std::array<std::string_view, 3> kFieldNames{"content-length", "transfer-encoding", "connection"};
// The list tokens looked for in Transfer-Encoding (index 0) and Connection.
constexpr std::array<std::string_view, 2> kTeTokens{"chunked", ""};
constexpr std::array<std::string_view, 2> kConnTokens{"close", "keep-alive"};

std::uint8_t lower(std::uint8_t c) { return c >= 'A' && c <= 'Z' ? static_cast<std::uint8_t>(c + 32) : c; }
bool is_digit(std::uint8_t c) { return c >= '0' && c <= '9'; }
bool is_ws(std::uint8_t c) { return c == ' ' || c == '\t'; }

// RFC 9110 §5.6.2: tchar.
bool is_tchar(std::uint8_t c) {
    if (is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

int hex_value(std::uint8_t c) {
    if (is_digit(c)) return c - '0';
    const std::uint8_t l = lower(c);
    return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
}

// Narrows `mask` (bit k: candidate k still matching) by byte c at position pos.
template <std::size_t N>
std::uint8_t narrow(std::uint8_t mask, const std::array<std::string_view, N>& names, std::size_t pos, std::uint8_t c) {
    for (std::size_t k = 0; k < N; ++k) {
        if (pos >= names[k].size() || static_cast<std::uint8_t>(names[k][pos]) != lower(c)) {
            mask = static_cast<std::uint8_t>(mask & ~(1u << k));
        }
    }
    return mask;
}

// The candidate whose whole name was matched in `len` bytes, or -1.
template <std::size_t N>
int matched(std::uint8_t mask, const std::array<std::string_view, N>& names, std::size_t len) {
    for (std::size_t k = 0; k < N; ++k) {
        if ((mask >> k & 1u) != 0 && names[k].size() == len) return static_cast<int>(k);
    }
    return -1;
}

}  // namespace

const char* name(HttpParseError e) {
    switch (e) {
    case HttpParseError::none: return "none";
    case HttpParseError::bad_status_line: return "bad_status_line";
    case HttpParseError::line_too_long: return "line_too_long";
    case HttpParseError::bad_content_length: return "bad_content_length";
    case HttpParseError::bad_chunk: return "bad_chunk";
    case HttpParseError::bad_header: return "bad_header";
    case HttpParseError::eof_in_response: return "eof_in_response";
    }
    return "?";
}

void HttpResponseParser::reset(bool head_request) {
    *this = HttpResponseParser{};
    head_ = head_request;
}

// Per-response header state; a 1xx interim response calls it again, so the
// final response's fields start clean (RFC 9110 §15.2).
void HttpResponseParser::start_response() {
    const bool head = head_, first = first_byte_;
    const std::uint64_t hdr = header_bytes_;
    *this = HttpResponseParser{};
    head_ = head, first_byte_ = first, header_bytes_ = hdr;
}

void HttpResponseParser::fail(HttpParseError e) {
    if (state_ == State::failed) return;
    state_ = State::failed;
    error_ = e;
}

void HttpResponseParser::on_eof() {
    if (state_ == State::body_close) {
        state_ = State::done;  // RFC 9112 §6.3 rule 8: the close ends the body
    } else if (state_ != State::done) {
        fail(HttpParseError::eof_in_response);
    }
}

std::size_t HttpResponseParser::advance(const std::uint8_t* p, std::size_t n, Run& run) {
    std::size_t i = 0;
    for (; i < n; ++i) {
        switch (state_) {
        case State::body_length:
        case State::chunk_data: {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
            run = {p + i, take};
            remaining_ -= take;
            body_bytes_ += take;
            if (remaining_ == 0) state_ = state_ == State::body_length ? State::done : State::chunk_end;
            return i + take;
        }
        case State::body_close:
            run = {p + i, n - i};
            body_bytes_ += n - i;
            return n;
        case State::done:
        case State::failed:
            return i;
        default:
            line_byte(p[i]);
        }
    }
    return i;
}

// One byte of a line-oriented part. Lines end in CRLF or a bare LF (RFC 9112
// §2.2 lets a recipient accept LF alone); a CR anywhere else is an error.
void HttpResponseParser::line_byte(std::uint8_t c) {
    if (state_ == State::status_line || state_ == State::header_line) ++header_bytes_;
    if (c == '\n') {
        cr_ = false;
        end_line();
        line_len_ = 0;
        return;
    }
    if (cr_) return fail(line_error());
    if (c == '\r') {
        cr_ = true;
        return;
    }
    if (++line_len_ > kMaxLine) return fail(HttpParseError::line_too_long);
    line_char(c);
}

HttpParseError HttpResponseParser::line_error() const {
    switch (state_) {
    case State::status_line: return HttpParseError::bad_status_line;
    case State::chunk_size:
    case State::chunk_end: return HttpParseError::bad_chunk;
    default: return HttpParseError::bad_header;
    }
}

void HttpResponseParser::line_char(std::uint8_t c) {
    switch (state_) {
    case State::status_line: return status_char(c);
    case State::header_line: return header_char(c);
    case State::chunk_size: return chunk_char(c);
    case State::chunk_end: return fail(HttpParseError::bad_chunk);  // RFC 9112 §7.1: CRLF after the data
    default: return;  // a trailer field: skipped (RFC 9112 §7.1.2)
    }
}

void HttpResponseParser::end_line() {
    switch (state_) {
    case State::status_line:
        // "HTTP/1.x NNN" at least; the reason phrase may be missing.
        if (line_len_ < 12 || status_ < 100) return fail(HttpParseError::bad_status_line);
        state_ = State::header_line;
        return;
    case State::header_line: return line_len_ == 0 ? end_headers() : end_field();
    case State::chunk_size: return end_chunk_size();
    case State::chunk_end:
        state_ = State::chunk_size;
        return;
    case State::trailer_line:
        if (line_len_ == 0) state_ = State::done;  // the blank line after the trailer section
        return;
    default: return;
    }
}

// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ],
// HTTP-version = "HTTP/" DIGIT "." DIGIT (§2.3, case-sensitive).
void HttpResponseParser::status_char(std::uint8_t c) {
    static constexpr std::string_view kPrefix = "HTTP/1.";
    const std::size_t pos = line_len_ - 1u;
    if (pos < kPrefix.size()) {
        if (c != static_cast<std::uint8_t>(kPrefix[pos])) fail(HttpParseError::bad_status_line);
    } else if (pos == 7) {
        if (!is_digit(c)) return fail(HttpParseError::bad_status_line);
        minor_ = static_cast<std::uint8_t>(c - '0');
    } else if (pos == 8 || pos == 12) {
        if (c != ' ') fail(HttpParseError::bad_status_line);
    } else if (pos < 12) {
        if (!is_digit(c)) return fail(HttpParseError::bad_status_line);
        status_ = static_cast<std::uint16_t>(status_ * 10 + (c - '0'));
    }
    // Past 12: the reason phrase, ignored (RFC 9112 §4).
}

// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS. The name is
// matched against the few we read as it arrives; no whitespace before ":"
// (§5.1), so anything but a tchar there is an error.
void HttpResponseParser::header_char(std::uint8_t c) {
    if (in_value_) {
        if (field_ == Field::content_length) return cl_char(c);
        if (field_ != Field::other) token_char(c);
        return;
    }
    const std::size_t pos = line_len_ - 1u;
    if (pos == 0 && is_ws(c)) {
        // RFC 9112 §5.2 obs-fold: harmless after a field we skip; a folded
        // framing field is refused rather than guessed at.
        if (field_ != Field::other) return fail(HttpParseError::bad_header);
        in_value_ = true;
        return;
    }
    if (pos == 0) {
        field_ = Field::other;
        name_mask_ = 0b111;
    }
    if (c == ':') {
        if (pos == 0) return fail(HttpParseError::bad_header);
        field_ = static_cast<Field>(matched(name_mask_, kFieldNames, pos) + 1);
        in_value_ = true;
        return begin_value();
    }
    if (!is_tchar(c)) return fail(HttpParseError::bad_header);
    name_mask_ = narrow(name_mask_, kFieldNames, pos, c);
}

void HttpResponseParser::begin_value() {
    tok_pos_ = 0;
    tok_mask_ = 0b11;
    tok_space_ = false;
    cl_cur_ = 0;
    cl_any_ = cl_space_ = false;
    if (field_ == Field::content_length) cl_present_ = true;
}

void HttpResponseParser::end_field() {
    if (!in_value_) return fail(HttpParseError::bad_header);  // a line without ':'
    if (field_ == Field::content_length) end_cl_element();
    if (field_ == Field::transfer_encoding || field_ == Field::connection) end_token();
    in_value_ = false;  // field_ stays: an obs-fold line looks at it
}

// Content-Length = 1*DIGIT (RFC 9110 §8.6); a list of identical values
// ("5, 5", as from a proxy joining fields) is accepted. Errors are noted,
// not raised: they matter only if the length frames the body (§6.3 rule 5).
void HttpResponseParser::cl_char(std::uint8_t c) {
    if (is_ws(c)) {
        cl_space_ = cl_any_;
    } else if (c == ',') {
        end_cl_element();
    } else if (!is_digit(c) || cl_space_ || cl_cur_ > (UINT64_MAX - 9) / 10) {
        cl_bad_ = true;  // not a digit, a digit after inner whitespace, or too large
    } else {
        cl_cur_ = cl_cur_ * 10 + static_cast<std::uint64_t>(c - '0');
        cl_any_ = true;
    }
}

void HttpResponseParser::end_cl_element() {
    if (!cl_any_ || (cl_seen_ && content_length_ != cl_cur_)) cl_bad_ = true;  // empty, or conflicting
    content_length_ = cl_cur_;
    cl_seen_ = true;
    cl_cur_ = 0;
    cl_any_ = cl_space_ = false;
}

// RFC 9110 §5.6.1 lists: tokens between commas, OWS around them, empty
// elements ignored. A token with parameters (";") or inner whitespace
// matches nothing we look for.
void HttpResponseParser::token_char(std::uint8_t c) {
    if (c == ',') return end_token();
    if (is_ws(c)) {
        tok_space_ = tok_pos_ != 0;
        return;
    }
    if (tok_space_ || c == ';') tok_mask_ = 0;
    const auto& names = field_ == Field::connection ? kConnTokens : kTeTokens;
    tok_mask_ = narrow(tok_mask_, names, tok_pos_, c);
    ++tok_pos_;
}

void HttpResponseParser::end_token() {
    if (tok_pos_ != 0) {
        if (field_ == Field::transfer_encoding) {
            // Only the last coding counts: chunked must be final (RFC 9112 §6.3 rule 3).
            te_present_ = true;
            te_chunked_ = matched(tok_mask_, kTeTokens, tok_pos_) == 0;
        } else {
            const int k = matched(tok_mask_, kConnTokens, tok_pos_);
            conn_close_ = conn_close_ || k == 0;
            conn_keep_alive_ = conn_keep_alive_ || k == 1;
        }
    }
    tok_pos_ = 0;
    tok_mask_ = 0b11;
    tok_space_ = false;
}

// The blank line: decide how the body is delimited, in RFC 9112 §6.3's order.
void HttpResponseParser::end_headers() {
    if (status_ < 200 && status_ != 101) return start_response();  // RFC 9110 §15.2: interim, the final follows
    // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
    keep_alive_ = !conn_close_ && (minor_ >= 1 || conn_keep_alive_);
    if (head_ || status_ == 101 || status_ == 204 || status_ == 304) {
        // Rule 1: no body. 101 hands the connection to another protocol.
        if (status_ == 101) keep_alive_ = false;
        state_ = State::done;
    } else if (te_present_) {
        // Rules 3 and 4: Transfer-Encoding overrides Content-Length; a final
        // coding other than chunked runs to the close. §6.1: TE in a 1.0
        // message means the connection must not be reused.
        if (minor_ == 0) keep_alive_ = false;
        chunked_ = te_chunked_;
        state_ = te_chunked_ ? State::chunk_size : State::body_close;
        if (!te_chunked_) keep_alive_ = false;
    } else if (cl_present_) {
        if (cl_bad_) return fail(HttpParseError::bad_content_length);  // rule 5
        remaining_ = content_length_;                                   // rule 6
        state_ = remaining_ != 0 ? State::body_length : State::done;
    } else {
        keep_alive_ = false;  // rule 8: the body ends at the close
        state_ = State::body_close;
    }
}

// RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF, chunk-size = 1*HEXDIG;
// §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ ... ] ), ignored here.
void HttpResponseParser::chunk_char(std::uint8_t c) {
    if (chunk_ext_) return;
    const int d = hex_value(c);
    if (d >= 0 && !chunk_space_) {
        if (remaining_ > (UINT64_MAX >> 4)) return fail(HttpParseError::bad_chunk);  // would overflow
        remaining_ = remaining_ << 4 | static_cast<std::uint64_t>(d);
        chunk_digits_ = true;
    } else if (chunk_digits_ && is_ws(c)) {
        chunk_space_ = true;
    } else if (chunk_digits_ && c == ';') {
        chunk_ext_ = true;
    } else {
        fail(HttpParseError::bad_chunk);
    }
}

void HttpResponseParser::end_chunk_size() {
    if (!chunk_digits_) return fail(HttpParseError::bad_chunk);
    // Size 0 is the last chunk: the trailer section follows (§7.1.2).
    state_ = remaining_ != 0 ? State::chunk_data : State::trailer_line;
    chunk_digits_ = chunk_space_ = chunk_ext_ = false;
}

}  // namespace tcpfp::app
