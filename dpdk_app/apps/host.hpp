// The app host of one worker: the only consumer of its engine's events. It
// copies them once, clears them once and hands each to the app that owns
// its connection, in batches (one virtual call per app and pass). Ownership
// and the app's context word live in a table indexed by ConnId index and
// checked by generation: O(1), 16 bytes per connection, allocated once from
// the engine's memory resource. Pure C++: unit-tested on an in-memory engine.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <span>
#include <vector>

#include "dpdk_app/apps/app.hpp"

namespace tcpfp::app {

struct HostCounters {
    std::uint64_t events = 0;       // engine events taken
    std::uint64_t routed = 0;       // handed to their owner (accepts expanded)
    std::uint64_t unowned = 0;      // for a connection no app owns (counted, dropped)
    std::uint64_t accepted = 0;     // connections accepted for a listener's app
    std::uint64_t batches = 0;      // on_events() calls
    std::uint64_t passes_capped = 0;  // dispatch() stopped with events left (next iteration takes them)
};

class Host {
public:
    static constexpr std::uint16_t kNoApp = 0xffff;
    static constexpr std::size_t kMaxApps = 32;
    // Drains the engine's output early: called after a batch that left the
    // engine's output queue more than half full (the worker otherwise drains
    // once per loop iteration; OutSegment payloads stay valid until then).
    // A plain function pointer, not a virtual call.
    struct Drain {
        void (*fn)(void* ctx, Instant now) = nullptr;
        void* ctx = nullptr;
    };

    // Where Stack::log() lines go (the worker: rte_log). Without one they
    // go to stderr.
    struct LogSink {
        void (*fn)(void* ctx, LogLevel level, const char* app, const char* text) = nullptr;
        void* ctx = nullptr;
    };

    Host(tcp::Engine& engine, Neighbors& neighbors, unsigned worker,
         std::pmr::memory_resource* mr = std::pmr::get_default_resource());
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    // Adds an app (not owned); returns its Stack. `poll`: the app's poll()
    // runs every loop iteration from the start (it may change that with
    // Stack::set_polled). At most kMaxApps.
    Stack& add(App& app, bool poll = false);
    void set_drain(Drain d) { drain_ = d; }
    // Frames the worker holds because the port's TX ring was full at its
    // last flush (0 while the link keeps up); apps read it as
    // Stack::link_backlog().
    void set_link_backlog(std::uint32_t frames) { link_backlog_ = frames; }
    void set_log(LogSink l) { log_ = l; }

    void start(Instant now);
    // Routes every pending engine event, including those the apps' own calls
    // post while they run, for up to kMaxPasses passes.
    void dispatch(Instant now);
    // The polled apps' poll(). With none (a server's usual state) it is one
    // test: an idle generator, flood or agent costs nothing per iteration.
    void poll(Instant now) {
        if (polled_ != 0) poll_apps(now);
    }
    void tick(Instant now);
    void stop(Instant now);

    const HostCounters& counters() const { return counters_; }
    std::size_t app_count() const { return apps_.size(); }
    App& app(std::size_t i) { return *apps_[i].app; }
    bool polled(std::size_t i) const { return (polled_ >> i & 1u) != 0; }
    // The app that owns `id`, or nullptr.
    App* owner_of(ConnId id) const;

private:
    friend class Stack;
    static constexpr unsigned kMaxPasses = 8;
    struct Route {
        std::uint32_t generation = 0;  // even values never match a live handle
        std::uint16_t app = kNoApp;
        std::uintptr_t context = 0;
    };
    struct Entry {
        App* app = nullptr;
        Stack stack;
    };
    static_assert(kMaxApps <= 32, "polled_ has a bit per app");

    void own(ConnId id, std::uint16_t app, std::uintptr_t context);
    void disown(ConnId id);
    const Route* route(ConnId id) const;
    void route_event(const tcp::Event& e, Instant now);
    void accept_all(ConnId listener, const Route& r, Instant now);
    // The event's fields, not an AppEvent: one built by the caller sat on
    // the stack in pieces and was copied into the batch with wider loads, a
    // store-forwarding stall on every event (70 % of push()'s samples in
    // the pair's CPS profile, session 22). Built in place instead.
    void push(std::uint16_t app, ConnId conn, EventKind kind, ConnId listener, Instant now);
    void flush(Instant now);
    void drain(Instant now);
    void poll_apps(Instant now);
    void set_polled(std::uint16_t app, bool on);

    tcp::Engine& engine_;
    std::vector<Entry> apps_;
    std::pmr::vector<Route> routes_;
    std::vector<tcp::Event> taken_;    // this pass's engine events
    std::vector<AppEvent> batch_;      // consecutive events of batch_app_
    std::uint16_t batch_app_ = kNoApp;
    Neighbors& neighbors_;
    unsigned worker_;
    Drain drain_;
    LogSink log_;
    std::uint32_t link_backlog_ = 0;
    std::uint32_t polled_ = 0;  // bit i: apps_[i].app->poll() runs every iteration
    HostCounters counters_;
};

}  // namespace tcpfp::app
