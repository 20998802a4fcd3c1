#include "dpdk_app/apps/registry.hpp"

#include <charconv>

#include "dpdk_app/apps/upper.hpp"

namespace tcpfp::app {

namespace {

bool parse_port(std::string_view args, std::uint16_t& port, std::string& error) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(args.data(), args.data() + args.size(), v);
    if (args.empty() || ec != std::errc{} || p != args.data() + args.size() || v == 0 || v > 65535) {
        error = "expected a TCP port (1..65535), got '" + std::string(args) + "'";
        return false;
    }
    port = static_cast<std::uint16_t>(v);
    return true;
}

std::unique_ptr<App> make_upper(std::string_view args, std::string& error) {
    std::uint16_t port = 0;
    if (!parse_port(args, port, error)) return nullptr;
    return std::make_unique<Upper>(port);
}

constexpr AppFactory kApps[] = {
    {"upper", "PORT", &make_upper},
};

}  // namespace

std::span<const AppFactory> app_factories() { return kApps; }

const AppFactory* find_app(std::string_view name) {
    for (const AppFactory& f : kApps) {
        if (name == f.name) return &f;
    }
    return nullptr;
}

}  // namespace tcpfp::app
