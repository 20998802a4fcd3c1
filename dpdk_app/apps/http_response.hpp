// A streaming HTTP/1.1 response parser (RFC 9112) for the load tester: a
// byte-at-a-time state machine over status line and fields, bulk body runs,
// a few dozen bytes of state and no allocation, so a response may arrive
// split at any byte. It frames the message (Content-Length, chunked, close)
// and notes what the client needs (status, keep-alive, byte counts); every
// other field is skipped unread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tcpfp::app {

enum class HttpParseError : std::uint8_t {
    none,
    bad_status_line,
    line_too_long,
    bad_content_length,
    bad_chunk,
    bad_header,
    eof_in_response,
};
const char* name(HttpParseError e);

class HttpResponseParser {
public:
    static constexpr std::size_t kMaxLine = 8192;  // longest status/header/chunk-size line accepted

    // Before each response; HEAD responses have no body (RFC 9110 §9.3.2).
    void reset(bool head_request = false);
    // Consumes bytes of the current response and returns how many it used:
    // it stops at the end of this response, so bytes of a pipelined next
    // response are left for the caller. Body bytes (decoded from chunks) are
    // passed to `body` if not null: body(const std::uint8_t*, std::size_t).
    // After a failure it consumes nothing more.
    template <class Body>
    std::size_t feed(const std::uint8_t* p, std::size_t n, Body&& body) {
        std::size_t used = 0;
        while (used < n && !done() && !failed()) {
            Run run;
            used += advance(p + used, n - used, run);
            if (run.n != 0) deliver(body, run);
        }
        if (used != 0) first_byte_ = true;
        return used;
    }
    std::size_t feed(const std::uint8_t* p, std::size_t n) { return feed(p, n, nullptr); }
    // The peer closed. A response delimited by the close (RFC 9112 §6.3 rule 8)
    // completes; anything else not done becomes eof_in_response, also before
    // the first byte (first_byte_seen() tells the two apart).
    void on_eof();

    bool done() const { return state_ == State::done; }
    bool failed() const { return state_ == State::failed; }
    HttpParseError error() const { return error_; }
    unsigned status() const { return status_; }  // e.g. 200, 404; 0 before the (final) status line
    // Known once the header is complete: false for "Connection: close",
    // HTTP/1.0 without "Connection: keep-alive", or a body ended by the close.
    bool keep_alive() const { return keep_alive_; }
    bool chunked() const { return chunked_; }
    std::uint64_t body_bytes() const { return body_bytes_; }      // decoded body bytes so far
    std::uint64_t header_bytes() const { return header_bytes_; }  // status lines + fields incl. blank lines (1xx too)
    bool first_byte_seen() const { return first_byte_; }          // any byte of this response consumed

private:
    enum class State : std::uint8_t {
        status_line, header_line, body_length, body_close,
        chunk_size, chunk_data, chunk_end, trailer_line, done, failed,
    };
    enum class Field : std::uint8_t { other, content_length, transfer_encoding, connection };
    struct Run {
        const std::uint8_t* p = nullptr;
        std::size_t n = 0;
    };

    template <class Body>
    static void deliver(Body& body, const Run& r) {
        using B = std::remove_cvref_t<Body>;
        if constexpr (std::is_pointer_v<B>) {
            if (body != nullptr) body(r.p, r.n);
        } else if constexpr (!std::is_null_pointer_v<B>) {
            body(r.p, r.n);
        }
    }

    std::size_t advance(const std::uint8_t* p, std::size_t n, Run& run);
    void line_byte(std::uint8_t c);
    void line_char(std::uint8_t c);
    void end_line();
    HttpParseError line_error() const;
    void status_char(std::uint8_t c);
    void header_char(std::uint8_t c);
    void end_field();
    void begin_value();
    void cl_char(std::uint8_t c);
    void end_cl_element();
    void token_char(std::uint8_t c);
    void end_token();
    void end_headers();
    void chunk_char(std::uint8_t c);
    void end_chunk_size();
    void start_response();
    void fail(HttpParseError e);

    std::uint64_t remaining_ = 0;  // body or chunk bytes left; the chunk size while it is read
    std::uint64_t content_length_ = 0;
    std::uint64_t cl_cur_ = 0;  // the Content-Length list element being read
    std::uint64_t body_bytes_ = 0;
    std::uint64_t header_bytes_ = 0;
    std::uint16_t line_len_ = 0;  // bytes of the current line, CR/LF excluded
    std::uint16_t name_pos_ = 0;  // field-name bytes matched
    std::uint16_t tok_pos_ = 0;   // bytes of the current list token
    std::uint16_t status_ = 0;
    State state_ = State::status_line;
    HttpParseError error_ = HttpParseError::none;
    Field field_ = Field::other;
    std::uint8_t minor_ = 0;     // HTTP/1.minor
    std::uint8_t name_mask_ = 0; // field names still matching
    std::uint8_t tok_mask_ = 0;  // list tokens still matching
    bool head_ = false;
    bool first_byte_ = false;
    bool cr_ = false;            // a CR ended the line: LF must follow
    bool in_value_ = false;
    bool tok_space_ = false;     // whitespace after the token's first byte
    bool cl_present_ = false, cl_seen_ = false, cl_bad_ = false, cl_any_ = false, cl_space_ = false;
    bool te_present_ = false, te_chunked_ = false;
    bool conn_close_ = false, conn_keep_alive_ = false;
    bool keep_alive_ = false, chunked_ = false;
    bool chunk_digits_ = false, chunk_space_ = false, chunk_ext_ = false;
};

}  // namespace tcpfp::app
