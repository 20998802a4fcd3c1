// The list of scripts expected to fail, one per line with its reason:
//   path/suffix.pkt   reason text
// Blank lines and lines starting with '#' are ignored. A script matches an
// entry when its path ends with the entry's path.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tcpfp::pktdrill {

struct Expectation {
    std::string path;
    std::string reason;
    int line = 0;
    bool used = false;
};

// Reads FILE; returns nullopt (and sets `error`) when it cannot be read or
// an entry has no reason.
std::optional<std::vector<Expectation>> load_expectations(const std::string& file, std::string& error);

// The entry for `script`, or nullptr.
Expectation* find_expectation(std::vector<Expectation>& list, const std::string& script);

}  // namespace tcpfp::pktdrill
