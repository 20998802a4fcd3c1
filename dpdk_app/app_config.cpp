// INI parsing with rte_cfgfile (usable before rte_eal_init: it only reads a
// file). Every key is a row in a table, so unknown keys are caught and the
// documentation in config/README.md has one place to mirror.
#include "dpdk_app/app_config.hpp"

#include "dpdk_app/apps/registry.hpp"

#include <rte_cfgfile.h>

#include <bit>
#include <charconv>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>

namespace tcpfp::app {
namespace {

using Setter = std::function<std::string(std::string_view, AppConfig&)>;  // "" = ok

struct Key {
    const char* name;
    Setter set;
};

struct Section {
    const char* name;
    bool required;
    std::vector<Key> keys;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

template <class T>
std::string parse_uint(std::string_view v, std::uint64_t lo, std::uint64_t hi, T& out) {
    std::uint64_t n = 0;
    const auto* end = v.data() + v.size();
    auto [p, ec] = std::from_chars(v.data(), end, n);
    if (v.empty() || ec != std::errc{} || p != end) return "not a number: '" + std::string(v) + "'";
    if (n < lo || n > hi) {
        return "out of range: " + std::string(v) + " (allowed " + std::to_string(lo) + ".." +
               std::to_string(hi) + ")";
    }
    out = static_cast<T>(n);
    return {};
}

std::string parse_bool(std::string_view v, bool& out) {
    if (v == "on" || v == "yes" || v == "true" || v == "1") {
        out = true;
    } else if (v == "off" || v == "no" || v == "false" || v == "0") {
        out = false;
    } else {
        return "not a boolean: '" + std::string(v) + "' (on/off)";
    }
    return {};
}

std::string parse_ip(std::string_view v, wire::Ipv4Addr& out) {
    auto a = wire::Ipv4Addr::parse(v);
    if (!a) return "bad IPv4 address: '" + std::string(v) + "'";
    out = *a;
    return {};
}

// "name[:args], ..." against the registry (dpdk_app/apps/registry.cpp); each
// app's factory checks its args now, so a bad one fails at load time.
std::string parse_app_list(std::string_view v, std::vector<AppRun>& out) {
    out.clear();
    while (!v.empty()) {
        const auto comma = v.find(',');
        const std::string_view item = trim(v.substr(0, comma));
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
        if (item.empty()) continue;
        const auto colon = item.find(':');
        AppRun run{std::string(item.substr(0, colon)),
                   colon == std::string_view::npos ? std::string{} : std::string(item.substr(colon + 1))};
        const AppFactory* f = find_app(run.name);
        if (f == nullptr) {
            std::string known;
            for (const AppFactory& a : app_factories()) known += std::string(known.empty() ? "" : ", ") + a.name;
            return "unknown app '" + run.name + "' (known: " + known + ")";
        }
        std::string why;
        if (f->make(run.args, why) == nullptr) return run.name + ": " + why + " (args: " + f->args + ")";
        out.push_back(std::move(run));
    }
    return {};
}

// "a.b.c.d/len" (len defaults to 24 when absent).
std::string parse_if_address(std::string_view v, IfAddress& out) {
    const auto slash = v.find('/');
    if (auto e = parse_ip(v.substr(0, slash), out.addr); !e.empty()) return e;
    if (slash != std::string_view::npos) {
        if (auto e = parse_uint(v.substr(slash + 1), 1, 32, out.prefix); !e.empty()) {
            return "bad prefix length in '" + std::string(v) + "': " + e;
        }
    }
    const auto& a = out.addr;
    if (a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback()) {
        return "not a usable host address: '" + std::string(v) + "'";
    }
    return {};
}

// "a.b.c.d-e.f.g.h/len": every address from the first to the last. A list
// of 64 addresses does not fit rte_cfgfile's 256-byte value.
std::string parse_address_range(std::string_view item, std::vector<IfAddress>& out) {
    const auto dash = item.find('-');
    const auto slash = item.find('/');
    const std::string suffix = slash == std::string_view::npos ? "" : std::string(item.substr(slash));
    IfAddress first, last;
    if (auto e = parse_if_address(std::string(item.substr(0, dash)) + suffix, first); !e.empty()) return e;
    if (auto e = parse_if_address(item.substr(dash + 1), last); !e.empty()) return e;
    if (last.addr.value < first.addr.value || last.addr.value - first.addr.value >= tcp::kMaxLocalAddresses) {
        return "bad address range '" + std::string(item) + "' (first-last, at most " +
               std::to_string(tcp::kMaxLocalAddresses) + ")";
    }
    for (std::uint32_t a = first.addr.value; a <= last.addr.value; ++a) {
        IfAddress one;
        if (auto e = parse_if_address(wire::Ipv4Addr{a}.to_string() + suffix, one); !e.empty()) return e;
        out.push_back(one);
    }
    return {};
}

std::string parse_addresses(std::string_view v, std::vector<IfAddress>& out) {
    out.clear();
    while (!v.empty()) {
        const auto comma = v.find(',');
        const auto item = trim(v.substr(0, comma));
        std::vector<IfAddress> items(1);
        if (item.find('-') != std::string_view::npos) {
            items.clear();
            if (auto e = parse_address_range(item, items); !e.empty()) return e;
        } else if (auto e = parse_if_address(item, items[0]); !e.empty()) {
            return e;
        }
        for (const auto& a : items) {
            for (const auto& b : out) {
                if (b.addr == a.addr) return "duplicate address " + a.addr.to_string();
            }
            out.push_back(a);
        }
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    }
    if (out.empty()) return "at least one address is required";
    if (out.size() > tcp::kMaxLocalAddresses) {
        return "at most " + std::to_string(tcp::kMaxLocalAddresses) + " addresses (the engine's limit)";
    }
    return {};
}

template <class T>
Key uint_key(const char* name, std::uint64_t lo, std::uint64_t hi, T AppConfig::*section,
             auto field) {
    return {name, [=](std::string_view v, AppConfig& c) {
                return parse_uint(v, lo, hi, (c.*section).*field);
            }};
}

Key ms_key(const char* name, std::uint64_t lo, std::uint64_t hi, tcp::Duration tcp::EngineConfig::*f) {
    return {name, [=](std::string_view v, AppConfig& c) {
                std::uint64_t ms = 0;
                auto e = parse_uint(v, lo, hi, ms);
                if (e.empty()) c.engine.*f = tcp::Duration::millis(static_cast<std::int64_t>(ms));
                return e;
            }};
}

// "a.b.c.d:port"; `any` allows 0.0.0.0 (every local address).
std::string parse_endpoint(std::string_view v, bool any, Endpoint& out) {
    const auto colon = v.find(':');
    if (colon == std::string_view::npos) return "expected ADDRESS:PORT, got '" + std::string(v) + "'";
    if (auto e = parse_ip(trim(v.substr(0, colon)), out.addr); !e.empty()) return e;
    const auto& a = out.addr;
    if ((a.is_unspecified() && !any) || a.is_broadcast() || a.is_multicast() || a.is_loopback()) {
        return "not a usable address: '" + std::string(v) + "'";
    }
    return parse_uint(trim(v.substr(colon + 1)), 1, 65535, out.port);
}

// A comma list; the key may also repeat, each line adding its list.
std::string parse_backends(std::string_view v, std::vector<Endpoint>& out) {
    while (!v.empty()) {
        const auto comma = v.find(',');
        Endpoint e;
        if (auto err = parse_endpoint(trim(v.substr(0, comma)), false, e); !err.empty()) return err;
        if (out.size() == ProxyConfig::kMaxBackends) {
            return "at most " + std::to_string(ProxyConfig::kMaxBackends) + " backends";
        }
        out.push_back(e);
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    }
    return {};
}

Key bool_key(const char* name, bool ServicesConfig::*f) {
    return {name, [=](std::string_view v, AppConfig& c) { return parse_bool(v, c.services.*f); }};
}

std::vector<Section> schema() {
    using E = tcp::EngineConfig;
    constexpr std::uint64_t k1M = 1u << 20;
    return {
        {"port0", true,
         {{"addresses", [](auto v, AppConfig& c) { return parse_addresses(v, c.port.addresses); }},
          {"gateway",
           [](auto v, AppConfig& c) {
               wire::Ipv4Addr a;
               auto e = parse_ip(v, a);
               if (e.empty()) c.port.gateway = a;
               return e;
           }},
          uint_key("mtu", 576, 9000, &AppConfig::port, &PortConfig::mtu),
          {"mac",
           [](auto v, AppConfig& c) -> std::string {
               auto m = wire::MacAddr::parse(v);
               if (!m || m->is_multicast() || m->is_zero()) {
                   return "bad unicast MAC address: '" + std::string(v) + "'";
               }
               c.port.mac = *m;
               return {};
           }},
          uint_key("rx_desc", 64, 4096, &AppConfig::port, &PortConfig::rx_desc),
          uint_key("tx_desc", 64, 4096, &AppConfig::port, &PortConfig::tx_desc),
          {"checksum_offload",
           [](auto v, AppConfig& c) { return parse_bool(v, c.port.checksum_offload); }},
          {"tso", [](auto v, AppConfig& c) { return parse_bool(v, c.port.tso); }}}},
        {"lcores", false,
         {{"workers", [](auto v, AppConfig& c) { return parse_uint(v, 1, kMaxWorkers, c.workers); }},
          {"steering",
           [](auto v, AppConfig& c) -> std::string {
               if (v == "auto") c.steering = SteerChoice::automatic;
               else if (v == "rss") c.steering = SteerChoice::rss;
               else if (v == "software") c.steering = SteerChoice::software;
               else return "expected auto, rss or software, got '" + std::string(v) + "'";
               return {};
           }},
          {"burst", [](auto v, AppConfig& c) { return parse_uint(v, 1, 256, c.burst); }}}},
        {"mempool", false,
         {{"mbufs", [](auto v, AppConfig& c) { return parse_uint(v, 1024, k1M, c.mbufs); }},
          {"cache", [](auto v, AppConfig& c) { return parse_uint(v, 0, 512, c.mbuf_cache); }}}},
        {"arp", false,
         {uint_key("entry_ttl_ms", 1000, 3600000, &AppConfig::arp, &ArpConfig::entry_ttl_ms),
          uint_key("retry_ms", 10, 60000, &AppConfig::arp, &ArpConfig::retry_ms),
          uint_key("give_up_ms", 100, 600000, &AppConfig::arp, &ArpConfig::give_up_ms),
          uint_key("queue", 1, 4096, &AppConfig::arp, &ArpConfig::queue)}},
        {"engine", false,
         {uint_key("max_connections", 16, 16 * k1M, &AppConfig::engine, &E::max_connections),
          uint_key("max_time_wait", 16, 16 * k1M, &AppConfig::engine, &E::max_time_wait),
          uint_key("max_listeners", 4, 65536, &AppConfig::engine, &E::max_listeners),
          uint_key("ttl", 1, 255, &AppConfig::engine, &E::ttl),
          uint_key("chunk_count", 16, 256 * k1M, &AppConfig::engine, &E::chunk_count),
          uint_key("chunk_size", 256, 65536, &AppConfig::engine, &E::chunk_size),
          {"buffer_count",
           [](auto, AppConfig&) -> std::string {
               // Buffers are no longer one per connection direction: a clear
               // error rather than a silent reinterpretation of the memory.
               return "replaced by chunk_count and chunk_size (send/receive buffers are chains "
                      "of chunks from one pool; the same memory is chunk_count = buffer_count x "
                      "buffer_size / chunk_size)";
           }},
          uint_key("buffer_size", 4096, 64 * k1M, &AppConfig::engine, &E::buffer_size),
          uint_key("send_buffer", 1024, 64 * k1M, &AppConfig::engine, &E::send_buffer),
          uint_key("recv_buffer", 1024, 64 * k1M, &AppConfig::engine, &E::recv_buffer),
          uint_key("syn_backlog", 1, 65535, &AppConfig::engine, &E::default_backlog),
          uint_key("overload_percent", 50, 100, &AppConfig::engine, &E::overload_percent),
          uint_key("max_orphans", 0, 16 * k1M, &AppConfig::engine, &E::max_orphans),
          uint_key("output_queue", 64, k1M, &AppConfig::engine, &E::output_queue),
          uint_key("event_queue", 64, k1M, &AppConfig::engine, &E::event_queue),
          uint_key("wscale", 0, 14, &AppConfig::engine, &E::wscale),
          {"timestamps", [](auto v, AppConfig& c) { return parse_bool(v, c.engine.timestamps); }},
          {"sack", [](auto v, AppConfig& c) { return parse_bool(v, c.engine.sack); }},
          {"tw_reuse", [](auto v, AppConfig& c) { return parse_bool(v, c.engine.tw_reuse); }},
          {"transparent_hugepages",
           [](auto v, AppConfig& c) { return parse_bool(v, c.transparent_hugepages); }},
          {"ecn",
           [](auto v, AppConfig& c) -> std::string {
               if (v == "off") c.engine.ecn = tcp::EcnMode::off;
               else if (v == "passive") c.engine.ecn = tcp::EcnMode::passive;
               else if (v == "on") c.engine.ecn = tcp::EcnMode::on;
               else return "expected off, passive or on, got '" + std::string(v) + "'";
               return {};
           }},
          {"mtu_probing",
           [](auto v, AppConfig& c) -> std::string {
               if (v == "off") c.engine.mtu_probing = tcp::MtuProbing::off;
               else if (v == "blackhole") c.engine.mtu_probing = tcp::MtuProbing::blackhole;
               else if (v == "on") c.engine.mtu_probing = tcp::MtuProbing::on;
               else return "expected off, blackhole or on, got '" + std::string(v) + "'";
               return {};
           }},
          {"table_full",
           [](auto v, AppConfig& c) -> std::string {
               if (v == "drop") c.engine.rst_on_table_full = false;
               else if (v == "rst") c.engine.rst_on_table_full = true;
               else return "expected drop or rst, got '" + std::string(v) + "'";
               return {};
           }},
          {"secret",
           [](auto v, AppConfig& c) {
               c.secret_set = true;
               return parse_uint(v, 0, UINT64_MAX, c.engine.seed);
           }}}},
        {"timers", false,
         {ms_key("msl_ms", 0, 600000, &E::msl),
          ms_key("fin_wait_2_ms", 0, 3600000, &E::fin_wait_2_timeout),
          ms_key("initial_rto_ms", 10, 60000, &E::initial_rto),
          ms_key("min_rto_ms", 1, 60000, &E::min_rto),
          ms_key("max_rto_ms", 100, 600000, &E::max_rto),
          ms_key("delayed_ack_ms", 0, 499, &E::delayed_ack),
          ms_key("keepalive_ms", 1000, 86400000, &E::keepalive_idle),
          ms_key("keepalive_interval_ms", 1000, 3600000, &E::keepalive_interval),
          uint_key("keepalive_count", 1, 255, &AppConfig::engine, &E::keepalive_count),
          uint_key("syn_retries", 1, 255, &AppConfig::engine, &E::syn_retries),
          uint_key("synack_retries", 1, 255, &AppConfig::engine, &E::synack_retries)}},
        {"impair", false,
         {uint_key("loss_permille", 0, 500, &AppConfig::impair, &ImpairConfig::loss_permille),
          uint_key("reorder_permille", 0, 1000, &AppConfig::impair, &ImpairConfig::reorder_permille),
          uint_key("delay_us", 0, 1000000, &AppConfig::impair, &ImpairConfig::delay_us)}},
        {"services", false,
         {bool_key("echo", &ServicesConfig::echo), bool_key("discard", &ServicesConfig::discard),
          bool_key("http", &ServicesConfig::http),
          bool_key("chargen", &ServicesConfig::chargen),
          bool_key("keepalive", &ServicesConfig::keepalive),
          {"http_body",
           [](auto v, AppConfig& c) {
               c.services.http_body = std::string(v) + "\n";
               return std::string{};
           }},
          uint_key("http_body_slots", 0, 1u << 20, &AppConfig::services, &ServicesConfig::http_body_slots),
          bool_key("rr", &ServicesConfig::rr),
          uint_key("rr_port", 1, 65535, &AppConfig::services, &ServicesConfig::rr_port),
          uint_key("hold_port", 0, 65535, &AppConfig::services, &ServicesConfig::hold_port),
          bool_key("seed_client", &ServicesConfig::seed_client),
          {"seed_source", [](auto v, AppConfig& c) { return parse_ip(v, c.services.seed_source); }},
          {"seed_target",
           [](auto v, AppConfig& c) -> std::string {
               const auto colon = v.find(':');
               if (colon == std::string_view::npos) return "expected ADDRESS:PORT";
               if (auto e = parse_ip(v.substr(0, colon), c.services.seed_target); !e.empty()) return e;
               return parse_uint(v.substr(colon + 1), 1, 65535, c.services.seed_port);
           }},
          {"seed_message",
           [](auto v, AppConfig& c) {
               c.services.seed_message = std::string(v);
               return std::string{};
           }}}},
        {"proxy", false,
         {{"listen",
           [](auto v, AppConfig& c) {
               Endpoint e;
               auto err = parse_endpoint(v, true, e);
               if (err.empty()) c.proxy.listen = e;
               return err;
           }},
          {"backend", [](auto v, AppConfig& c) { return parse_backends(v, c.proxy.backends); }},
          uint_key("connect_timeout_ms", 10, 600000, &AppConfig::proxy, &ProxyConfig::connect_timeout_ms)}},
        {"apps", false, {{"run", [](auto v, AppConfig& c) { return parse_app_list(v, c.apps); }}}},
    };
}

// The ports of the enabled services, each listening on every address.
std::vector<std::pair<const char*, std::uint16_t>> service_ports(const ServicesConfig& s) {
    const std::pair<bool, std::pair<const char*, std::uint16_t>> all[] = {
        {s.echo, {"echo", 7}}, {s.discard, {"discard", 9}}, {s.chargen, {"chargen", 19}},
        {s.http, {"http", 80}}, {s.rr, {"rr", s.rr_port}}, {s.hold_port != 0, {"hold", s.hold_port}}};
    std::vector<std::pair<const char*, std::uint16_t>> out;
    for (const auto& [on, named] : all) {
        if (on) out.push_back(named);
    }
    return out;
}

std::string check_proxy(const AppConfig& c) {
    const ProxyConfig& p = c.proxy;
    if (!p.enabled() && p.backends.empty()) return {};
    if (!p.enabled()) return "[proxy] listen: missing (required with backend)";
    if (p.backends.empty()) return "[proxy] backend: missing (required with listen)";
    if (!p.listen->addr.is_unspecified()) {
        bool local = false;
        for (const auto& a : c.port.addresses) local |= a.addr == p.listen->addr;
        if (!local) {
            return "[proxy] listen: " + p.listen->addr.to_string() + " is not one of [port0] addresses";
        }
    }
    // The services listen on every address: the same port would collide.
    for (const auto& [name, port] : service_ports(c.services)) {
        if (p.listen->port == port) {
            return "[proxy] listen: port " + std::to_string(port) + " is taken by a [services] service";
        }
    }
    return {};
}

// rr's and hold's ports are configurable: each must not be another service's.
std::string check_service_ports(const ServicesConfig& s) {
    const auto ports = service_ports(s);
    for (std::size_t i = 0; i < ports.size(); ++i) {
        for (std::size_t j = i + 1; j < ports.size(); ++j) {
            if (ports[i].second != ports[j].second) continue;
            const char* key = std::strcmp(ports[j].first, "hold") == 0 ? "hold_port" : "rr_port";
            return "[services] " + std::string(key) + ": port " + std::to_string(ports[j].second) +
                   " is taken by " + ports[i].first;
        }
    }
    return {};
}

// Checks that involve more than one key.
std::string cross_check(AppConfig& c) {
    if (c.port.addresses.empty()) return "[port0] addresses: missing (required)";
    if (c.port.gateway) {
        bool on_link = false;
        for (const auto& a : c.port.addresses) on_link |= a.same_subnet(*c.port.gateway);
        if (!on_link) return "[port0] gateway: " + c.port.gateway->to_string() + " is on no local subnet";
    }
    auto& e = c.engine;
    if (e.send_buffer > e.buffer_size) return "[engine] send_buffer: larger than buffer_size";
    if (e.recv_buffer > e.buffer_size) return "[engine] recv_buffer: larger than buffer_size";
    // What tcp::Engine checks (check_chunk_limits), said in the file's terms.
    if (!std::has_single_bit(e.chunk_size)) {
        return "[engine] chunk_size: not a power of two (256, 512, ... 65536)";
    }
    if (std::uint64_t{c.port.mtu} - 40 > 7ull * e.chunk_size) {
        return "[engine] chunk_size: at least (mtu - 40) / 7 = " +
               std::to_string((c.port.mtu - 40 + 6) / 7) + " for [port0] mtu " + std::to_string(c.port.mtu);
    }
    if (e.buffer_size > 65533ull * e.chunk_size) {
        return "[engine] buffer_size: at most 65533 x chunk_size (the chunks of one buffer)";
    }
    if (e.min_rto > e.max_rto) return "[timers] min_rto_ms: larger than max_rto_ms";
    if (c.mbuf_cache > c.mbufs / 4) return "[mempool] cache: at most mbufs/4";
    e.mtu = c.port.mtu;
    if (c.services.seed_client) {
        bool local = false;
        for (const auto& a : c.port.addresses) local |= a.addr == c.services.seed_source;
        if (!local) {
            return "[services] seed_source: " + c.services.seed_source.to_string() +
                   " is not one of [port0] addresses";
        }
    }
    if (auto why = check_service_ports(c.services); !why.empty()) return why;
    return check_proxy(c);
}

struct CfgDeleter {
    void operator()(rte_cfgfile* f) const { rte_cfgfile_close(f); }
};

}  // namespace

std::optional<AppConfig> load_config(const std::string& path, std::string& error) {
    rte_cfgfile_parameters params{};
    params.comment_character = '#';
    std::unique_ptr<rte_cfgfile, CfgDeleter> file(
        rte_cfgfile_load_with_params(path.c_str(), 0, &params));
    if (!file) {
        error = path + ": cannot read or parse the file (missing, or not INI syntax)";
        return std::nullopt;
    }
    AppConfig cfg;
    cfg.path = path;
    const auto sections = schema();
    const int count = rte_cfgfile_num_sections(file.get(), nullptr, 0);
    std::vector<std::array<char, CFG_NAME_LEN>> names(static_cast<std::size_t>(std::max(count, 0)));
    std::vector<char*> name_ptrs;
    for (auto& n : names) name_ptrs.push_back(n.data());
    rte_cfgfile_sections(file.get(), name_ptrs.data(), count);

    auto fail = [&](const std::string& what) {
        error = path + ": " + what;
        return std::nullopt;
    };
    for (char* sname : name_ptrs) {
        const Section* sec = nullptr;
        for (const auto& s : sections) {
            if (std::strcmp(s.name, sname) == 0) sec = &s;
        }
        if (sec == nullptr) {
            if (std::strncmp(sname, "port", 4) == 0) {
                return fail(std::string("[") + sname + "]: only [port0] is supported so far");
            }
            return fail(std::string("[") + sname + "]: unknown section");
        }
        const int n = rte_cfgfile_section_num_entries(file.get(), sname);
        std::vector<rte_cfgfile_entry> entries(static_cast<std::size_t>(std::max(n, 0)));
        rte_cfgfile_section_entries(file.get(), sname, entries.data(), n);
        for (const auto& ent : entries) {
            const Key* key = nullptr;
            for (const auto& k : sec->keys) {
                if (std::strcmp(k.name, ent.name) == 0) key = &k;
            }
            const std::string where = std::string("[") + sname + "] " + ent.name + ": ";
            if (key == nullptr) return fail(where + "unknown key");
            const auto value = trim(ent.value);
            if (value.empty() && std::strcmp(ent.name, "http_body") != 0) {
                return fail(where + "empty value");
            }
            if (auto e = key->set(value, cfg); !e.empty()) return fail(where + e);
        }
    }
    for (const auto& s : sections) {
        if (!s.required) continue;
        if (rte_cfgfile_has_section(file.get(), s.name) == 0) {
            return fail(std::string("[") + s.name + "]: missing section (required)");
        }
    }
    if (auto e = cross_check(cfg); !e.empty()) return fail(e);
    return cfg;
}

}  // namespace tcpfp::app
