#include "lexer.hpp"

#include <cctype>

namespace tcpfp::pktdrill {

namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

class Lexer {
public:
    explicit Lexer(std::string_view text) : s_(text) {}

    std::vector<Token> run() {
        std::vector<Token> out;
        for (;;) {
            skip_space_and_comments();
            if (pos_ >= s_.size()) break;
            out.push_back(next());
        }
        out.push_back(Token{Tok::end, "", line_});
        return out;
    }

private:
    char at(std::size_t i) const { return i < s_.size() ? s_[i] : '\0'; }

    void advance_over(std::size_t n) {
        for (std::size_t i = 0; i < n && pos_ < s_.size(); ++i, ++pos_) {
            if (s_[pos_] == '\n') ++line_;
        }
    }

    void skip_space_and_comments() {
        while (pos_ < s_.size()) {
            const char c = s_[pos_];
            if (std::isspace(static_cast<unsigned char>(c)) != 0) {
                advance_over(1);
            } else if (c == '/' && at(pos_ + 1) == '/') {
                while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
            } else if (c == '/' && at(pos_ + 1) == '*') {
                const int start = line_;
                const auto close = s_.find("*/", pos_ + 2);
                if (close == std::string_view::npos) throw LexError{start, "unterminated /* comment"};
                advance_over(close + 2 - pos_);
            } else if (c == '\\' && at(pos_ + 1) == '\n') {
                advance_over(2);  // line continuation inside code blocks and the like
            } else {
                break;
            }
        }
    }

    // Reads up to (not including) `closing`, starting after an opener of
    // `open_len` characters; the token's text is what lies between.
    Token delimited(Tok kind, std::size_t open_len, std::string_view closing, const char* what) {
        const int start = line_;
        const auto close = s_.find(closing, pos_ + open_len);
        if (close == std::string_view::npos) throw LexError{start, std::string("unterminated ") + what};
        std::string body(s_.substr(pos_ + open_len, close - pos_ - open_len));
        advance_over(close + closing.size() - pos_);
        return Token{kind, std::move(body), start};
    }

    Token string_literal() {
        const int start = line_;
        std::string body;
        std::size_t i = pos_ + 1;
        for (;; ++i) {
            if (i >= s_.size()) throw LexError{start, "unterminated string"};
            const char c = s_[i];
            if (c == '"') break;
            if (c == '\\' && i + 1 < s_.size()) {
                const char e = s_[++i];
                body.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == '0' ? '\0' : e);
            } else {
                body.push_back(c);
            }
        }
        advance_over(i + 1 - pos_);
        return Token{Tok::string, std::move(body), start};
    }

    Token number() {
        std::size_t i = pos_;
        if (s_[i] == '0' && (at(i + 1) == 'x' || at(i + 1) == 'X')) {
            i += 2;
            while (std::isxdigit(static_cast<unsigned char>(at(i))) != 0) ++i;
        } else {
            while (is_digit(at(i))) ++i;
            // A fraction only when a digit follows the dot: "0...0.2" is 0, ..., 0.2.
            if (at(i) == '.' && is_digit(at(i + 1))) {
                ++i;
                while (is_digit(at(i))) ++i;
            }
        }
        Token t{Tok::number, std::string(s_.substr(pos_, i - pos_)), line_};
        advance_over(i - pos_);
        return t;
    }

    Token next() {
        const char c = s_[pos_];
        if (c == '"') return string_literal();
        if (c == '`') return delimited(Tok::backquote, 1, "`", "back quote");
        if (c == '%' && at(pos_ + 1) == '{') return delimited(Tok::code, 2, "}%", "%{ code block");
        if (c == '-' && at(pos_ + 1) == '-' && is_word_start(at(pos_ + 2))) {
            std::size_t i = pos_ + 2;
            while (i < s_.size() && std::isspace(static_cast<unsigned char>(s_[i])) == 0) ++i;
            Token t{Tok::option, std::string(s_.substr(pos_ + 2, i - pos_ - 2)), line_};
            advance_over(i - pos_);
            return t;
        }
        if (c == '.' && at(pos_ + 1) == '.' && at(pos_ + 2) == '.') {
            Token t{Tok::ellipsis, "...", line_};
            advance_over(3);
            return t;
        }
        if (is_digit(c) || (c == '.' && is_digit(at(pos_ + 1)))) return number();
        if (is_word_start(c)) {
            std::size_t i = pos_;
            while (is_word_char(at(i))) ++i;
            Token t{Tok::word, std::string(s_.substr(pos_, i - pos_)), line_};
            advance_over(i - pos_);
            return t;
        }
        static constexpr std::string_view kPunct = "+*~:()[]{}<>,.-=|!";
        if (kPunct.find(c) != std::string_view::npos) {
            Token t{Tok::punct, std::string(1, c), line_};
            advance_over(1);
            return t;
        }
        throw LexError{line_, std::string("unexpected character '") + c + "'"};
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    int line_ = 1;
};

}  // namespace

std::vector<Token> lex(std::string_view text) { return Lexer(text).run(); }

}  // namespace tcpfp::pktdrill
