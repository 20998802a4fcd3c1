// Everything an engine is sized and tuned by. All memory is allocated from
// these numbers at construction; nothing grows afterwards.
#pragma once

#include <cstdint>
#include <optional>

#include "tcp/base/time.hpp"
#include "tcp/engine/congestion_state.hpp"

namespace tcpfp::tcp {

// Local addresses per engine (add_address): many source addresses give
// active opens more 4-tuples (the 1M-connection benchmark).
inline constexpr std::uint32_t kMaxLocalAddresses = 64;

// Explicit Congestion Notification (RFC 3168), as Linux's net.ipv4.tcp_ecn:
// off never; passive accepts an ECN-setup SYN but never sends one (Linux's
// default, 2); on also asks on every active open (1).
enum class EcnMode : std::uint8_t { off, passive, on };

// Packetization-layer path MTU discovery (RFC 4821), as Linux's
// net.ipv4.tcp_mtu_probing: off never; blackhole only after R1 timeouts of
// segments larger than the base MTU (then probes back up); on also starts
// every SACK connection at the base MTU and probes up from there.
enum class MtuProbing : std::uint8_t { off, blackhole, on };

struct EngineConfig {
    // --- capacities (preallocated) ---
    std::uint32_t max_connections = 65536;    // full control blocks
    std::uint32_t max_time_wait = 65536;      // compact TIME_WAIT records
    std::uint32_t max_listeners = 1024;
    // Send and receive buffers are chains of chunks from one pool per engine
    // (buffer.hpp): chunk_count x chunk_size bytes bound them all (1 GiB by
    // default). A segment's payload may span at most kMaxPayloadParts - 1
    // whole chunks, so mtu - 40 <= 7 x chunk_size (segment.hpp).
    std::uint32_t chunk_count = 512 * 1024;
    std::uint32_t chunk_size = 2048;          // a power of two, 256..65536
    std::uint32_t buffer_size = 256 * 1024;   // the largest SO_SNDBUF/SO_RCVBUF (no memory of its own)
    std::uint32_t max_loss_states = 16384;    // connections reassembling or recovering at once
    std::uint32_t output_queue = 4096;        // segments between two drains
    std::uint32_t event_queue = 8192;         // application events between two drains
    std::uint32_t default_backlog = 128;      // accept queue, and SYN queue, per listener
    // RFC 6056 Algorithm 4's perturbation counters (a power of two): each is
    // seeded with a SipHash at construction, so a small table makes a
    // short-lived engine (the fuzz targets build two per input) cheap.
    std::uint32_t ephemeral_port_table = 4096;
    std::uint32_t pmtu_cache_entries = 1024;  // destinations with a learned path MTU (RFC 1191)

    // --- per-connection defaults (set_option overrides) ---
    std::uint32_t send_buffer = 128 * 1024;
    std::uint32_t recv_buffer = 128 * 1024;
    std::uint8_t ttl = 64;                    // IP TTL of our segments (RFC 9293 MUST-49; IP_TTL per socket)
    std::uint16_t mtu = 1500;                 // MSS advertised = mtu - 40 (RFC 9293 §3.7.1)
    // The largest IPv4 packet our segments make, when below mtu (0: mtu).
    // It caps the MSS we send with as a learned path MTU does, and leaves
    // the MSS we advertise alone: a port whose TCP segmentation offload
    // cannot cut full-size segments (net_tap counts the Ethernet header
    // into its MTU) still receives them.
    std::uint16_t send_mtu = 0;
    std::uint8_t wscale = 7;                  // our window shift (RFC 7323 §2), <= 14
    bool timestamps = true;                   // offer RFC 7323 timestamps
    bool sack = true;                         // offer SACK-permitted (RFC 2018)
    CongestionControl congestion = CongestionControl::cubic;  // as Linux; or newreno
    EcnMode ecn = EcnMode::passive;           // RFC 3168 negotiation (SHLD-8)
    MtuProbing mtu_probing = MtuProbing::off; // RFC 4821 (Linux's default is off too)

    // --- timers ---
    Duration msl = Duration::seconds(30);                 // TIME_WAIT = 2*MSL; 0 deletes at once
    Duration fin_wait_2_timeout = Duration::seconds(60);  // orphaned FIN_WAIT_2
    Duration ts_tick = Duration::millis(1);               // TSval clock (RFC 7323 §5.4: 1 ms..1 s)
    Duration initial_rto = Duration::seconds(1);          // RFC 6298 §2.1
    Duration min_rto = Duration::millis(200);             // RFC 6298 §2.4 says 1 s; see README
    Duration max_rto = Duration::seconds(120);
    Duration delayed_ack = Duration::millis(40);          // < 500 ms (MUST-40)
    Duration keepalive_idle = Duration::seconds(7200);    // RFC 9293 §3.8.4: >= 2 h (MUST-26)
    Duration keepalive_interval = Duration::seconds(75);
    std::uint8_t keepalive_count = 9;
    std::uint8_t initial_window = 10;         // segments (RFC 6928 IW10; RFC 5681 says 2-4)
    std::uint8_t syn_retries = 7;             // SYN R2 as a count: gives up at 247 s, past MUST-23's 3 min
    std::uint8_t synack_retries = 5;
    std::uint8_t r1_retries = 3;              // RFC 9293 §3.8.3 R1: advise (counted)
    std::uint8_t r2_retries = 15;             // R2: give up (ETIMEDOUT), >= 100 s (MUST-23)
    std::uint32_t challenge_ack_per_second = 1000;  // RFC 5961 §7 rate limit
    std::uint32_t timer_budget = 65536;       // expirations per advance() before carrying over
    bool rst_on_table_full = false;           // table_full = rst: answer such SYNs with RST
    // Active opens may take a 4-tuple held in TIME_WAIT when timestamps were
    // negotiated on it and it is at least 1 s old (Linux tcp_tw_reuse=1;
    // RFC 6191: the new SYN's TSval is above the old connection's).
    bool tw_reuse = false;
    bool syn_cookies = true;                  // RFC 4987 SYN cookies once a SYN queue is full
    // Graceful overload. Past overload_percent of the control blocks or of
    // the buffer chunks the engine is under pressure: a listener answers
    // SYNs with cookies (no state until the handshake completes), a
    // SYN-RECEIVED connection whose SYN-ACK times out is dropped, and an
    // orphan whose retransmission times out is reset. Past max_orphans
    // orphans, close() resets instead of orphaning and orphans are reset at
    // their next retransmission timeout (Linux's tcp_max_orphans; 0: no
    // bound but the table's, so a load generator closing a million
    // connections at once closes them all with FINs). 100 turns the
    // pressure off.
    std::uint8_t overload_percent = 90;
    std::uint32_t max_orphans = 0;

    std::uint64_t seed = 0x7463706670ull;     // keys the hash table, ISN and port secrets
    // Tests only: every connection starts at this ISN instead of RFC 6528's
    // (used to put a transfer across the 2^32 wrap on purpose).
    std::optional<std::uint32_t> isn_override;
};

}  // namespace tcpfp::tcp
