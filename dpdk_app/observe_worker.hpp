// The worker's side of observability (dpdk_app/observe.cpp is the telemetry
// side): both run on the worker's lcore, from its millisecond tick, and only
// write the worker's own blocks in Shared.
#pragma once

#include "dpdk_app/drops.hpp"
#include "dpdk_app/shared.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::app {

// Publishes the engine's MIB counters, drop reasons and connections by state,
// and the application's drop reasons (relaxed stores; one writer).
void publish_counters(LcoreStats& out, const tcp::Counters& engine, const AppCounters& app);

// Answers an outstanding /tcpfp/conns request, if any: copies up to
// ConnSnapshot::kRows connections (and TIME_WAIT records) matching the
// filter. O(connections) when asked, one load otherwise.
void answer_snapshot(ConnSnapshot& snap, const tcp::Engine& engine);

// Logs each connection that is not a listener (up to `limit`, then a count):
// state, 4-tuple, queued and in-flight bytes, the pending timer and its
// backoff. Called when the worker stops and again at exit, so a connection
// still open then says what it was waiting for. Stop time only: it formats
// strings.
void log_open_connections(const tcp::Engine& engine, unsigned worker, const char* when,
                          std::size_t limit = 16);

}  // namespace tcpfp::app
