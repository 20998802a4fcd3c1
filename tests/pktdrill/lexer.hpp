// Tokens of the packetdrill script language. The lexer keeps line numbers
// so every error can point at the script line, and it keeps numbers as
// text so times like ".100" convert to microseconds without rounding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tcpfp::pktdrill {

enum class Tok {
    number,     // 12, 0.200, .1, 0x1f
    word,       // identifiers: S, ack, SOCK_STREAM, sackOK
    string,     // "text" (escapes already decoded)
    backquote,  // `shell command` (never executed)
    code,       // %{ python }% (never executed)
    option,     // --name or --name=value (header flags)
    ellipsis,   // ...
    punct,      // one of + * ~ : ( ) [ ] { } < > , . - = | !
    end,
};

struct Token {
    Tok kind = Tok::end;
    std::string text;  // punct: the character; option: "name=value" without the dashes
    int line = 0;

    bool is(char c) const { return kind == Tok::punct && text.size() == 1 && text[0] == c; }
    bool is_word(std::string_view w) const { return kind == Tok::word && text == w; }
};

struct LexError {
    int line;
    std::string message;
};

// Splits a whole script into tokens; throws LexError on a malformed one
// (an unterminated string, back quote, code block or comment).
std::vector<Token> lex(std::string_view text);

}  // namespace tcpfp::pktdrill
