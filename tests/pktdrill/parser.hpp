// Parser for the subset of the packetdrill grammar (upstream's parser.y)
// that TCP/IPv4 scripts use. Anything outside it is rejected with an
// `unsupported: ...` error naming the construct, never skipped silently.
#pragma once

#include <string>
#include <string_view>

#include "script.hpp"

namespace tcpfp::pktdrill {

struct ParseError {
    int line;
    std::string message;
};

// Throws ParseError (syntax) for malformed input.
Script parse_script(std::string_view text, std::string path);

}  // namespace tcpfp::pktdrill
