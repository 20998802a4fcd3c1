#include "expectations.hpp"

#include <fstream>

namespace tcpfp::pktdrill {

std::optional<std::vector<Expectation>> load_expectations(const std::string& file, std::string& error) {
    std::ifstream in(file);
    if (!in) {
        error = file + ": cannot open";
        return std::nullopt;
    }
    std::vector<Expectation> out;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#') continue;
        const auto gap = line.find_first_of(" \t", first);
        const auto reason = gap == std::string::npos ? std::string::npos : line.find_first_not_of(" \t", gap);
        if (reason == std::string::npos) {
            error = file + ":" + std::to_string(n) + ": entry without a reason";
            return std::nullopt;
        }
        out.push_back({line.substr(first, gap - first), line.substr(reason), n, false});
    }
    return out;
}

Expectation* find_expectation(std::vector<Expectation>& list, const std::string& script) {
    for (Expectation& e : list) {
        if (script == e.path) return &e;
        if (script.size() > e.path.size() && script.compare(script.size() - e.path.size(), e.path.size(), e.path) == 0 &&
            script[script.size() - e.path.size() - 1] == '/') {
            return &e;
        }
    }
    return nullptr;
}

}  // namespace tcpfp::pktdrill
