// Built-in applications over the engine's event API: echo (TCP 7), discard
// (TCP 9), chargen (TCP 19), a minimal HTTP/1.1 responder (TCP 80) and the
// seed experiment's client (connect, send one line, close).
#pragma once

#include <cstdint>
#include <memory_resource>
#include <vector>

#include "dpdk_app/app_config.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::app {

class Arp;

class Services {
public:
    Services(const ServicesConfig& cfg, tcp::Engine& engine, Arp& arp,
             std::pmr::memory_resource* mr);

    void start(tcp::Instant now);
    // Drains engine.events() and serves the connections they name.
    void on_events(tcp::Instant now);
    // Starts the seed client once its next hop resolves; logs its states.
    void poll(tcp::Instant now);
    // Stops listening and closes every connection the services own.
    void stop(tcp::Instant now);
    // Connections the peer closed first that went CLOSE_WAIT -> LAST_ACK
    // when we closed (the passive close, RFC 9293 §3.6 case 2).
    std::uint64_t passive_closes() const { return passive_closes_; }
    std::uint64_t chargen_bytes() const { return chargen_bytes_; }

private:
    enum class Kind : std::uint8_t { none, echo, discard, chargen, http };
    static constexpr std::size_t kRequestMax = 1024;
    struct Slot {
        std::uint32_t generation = 0;
        Kind kind = Kind::none;
        std::uint16_t len = 0;     // HTTP: request bytes buffered
        bool reply_pending = false;  // HTTP: a response waits for send space
        bool close_after = false;
        bool head = false;          // HTTP: HEAD request, no body
        std::uint64_t sent = 0;     // chargen: position in the pattern
    };
    struct Listener {
        tcp::ConnId id;
        Kind kind;
    };
    enum class Seed : std::uint8_t { off, waiting_arp, connecting, sent, done };

    Slot* slot(tcp::ConnId id);
    void listen(std::uint16_t port, Kind kind);
    void accept_all(const Listener& l, tcp::Instant now);
    void serve(tcp::ConnId id, Slot& s, tcp::Instant now);
    void serve_echo(tcp::ConnId id, Slot& s, tcp::Instant now);
    void serve_discard(tcp::ConnId id, Slot& s, tcp::Instant now);
    void serve_chargen(tcp::ConnId id, Slot& s, tcp::Instant now);
    void serve_http(tcp::ConnId id, Slot& s, tcp::Instant now);
    bool http_respond(tcp::ConnId id, Slot& s, tcp::Instant now);
    void finish(tcp::ConnId id, Slot& s, tcp::Instant now);
    void seed_event(tcp::EventKind kind, tcp::Instant now);
    void seed_trace(tcp::Instant now);

    const ServicesConfig& cfg_;
    tcp::Engine& engine_;
    Arp& arp_;
    std::pmr::vector<Slot> slots_;
    std::pmr::vector<char> requests_;  // kRequestMax bytes per slot
    std::vector<Listener> listeners_;
    std::vector<tcp::Event> events_;
    std::vector<std::uint8_t> scratch_;
    std::string response_;
    std::string chargen_;  // RFC 864 lines, a few periods long
    std::uint64_t passive_closes_ = 0;
    std::uint64_t chargen_bytes_ = 0;

    Seed seed_ = Seed::off;
    tcp::ConnId seed_id_;
    tcp::FourTuple seed_tuple_;
    const char* seed_state_ = "CLOSED";
    tcp::Instant started_;
    tcp::Instant next_tw_check_;
};

}  // namespace tcpfp::app
