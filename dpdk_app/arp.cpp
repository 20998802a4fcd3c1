#include "dpdk_app/arp.hpp"

#include <algorithm>
#include <cstdio>

#include "dpdk_app/log.hpp"
#include "tcp/wire/arp.hpp"

namespace tcpfp::app {

namespace {
constexpr std::size_t kCacheSize = 256;  // a tap or a LAN segment has few peers; positions fit index_
}

Arp::Arp(const ArpConfig& cfg, const PortConfig& port, wire::MacAddr own, Tx& tx,
         AppCounters& counters)
    : cfg_(cfg), port_(port), own_(own), tx_(tx), counters_(counters) {
    cache_.reserve(kCacheSize);
    queue_.reserve(cfg.queue);
}

bool Arp::is_local(wire::Ipv4Addr a) const {
    return std::any_of(port_.addresses.begin(), port_.addresses.end(),
                       [&](const IfAddress& i) { return i.addr == a; });
}

bool Arp::next_hop(wire::Ipv4Addr dst, wire::Ipv4Addr& hop) const {
    for (const auto& a : port_.addresses) {
        if (a.same_subnet(dst)) {
            hop = dst;
            return true;
        }
    }
    if (!port_.gateway) return false;
    hop = *port_.gateway;
    return true;
}

wire::Ipv4Addr Arp::source_for(wire::Ipv4Addr hop) const {
    for (const auto& a : port_.addresses) {
        if (a.same_subnet(hop)) return a.addr;
    }
    return port_.addresses.front().addr;
}

Arp::Entry* Arp::find(wire::Ipv4Addr ip) {
    std::uint16_t& slot = index_[(ip.value * 0x9e3779b1u) >> 24];  // Fibonacci hashing
    if (slot != 0 && slot <= cache_.size() && cache_[slot - 1u].ip == ip) return &cache_[slot - 1u];
    for (std::size_t i = 0; i < cache_.size(); ++i) {
        if (cache_[i].ip == ip) {
            slot = static_cast<std::uint16_t>(i + 1);
            return &cache_[i];
        }
    }
    return nullptr;
}

Arp::Entry& Arp::insert(wire::Ipv4Addr ip) {
    if (cache_.size() == kCacheSize) {
        // Full: evict the entry closest to expiry (unresolved ones first).
        auto victim = std::min_element(cache_.begin(), cache_.end(), [](auto& a, auto& b) {
            return std::pair(a.resolved, a.expires_ms) < std::pair(b.resolved, b.expires_ms);
        });
        *victim = Entry{};
        victim->ip = ip;
        return *victim;
    }
    cache_.push_back(Entry{});
    cache_.back().ip = ip;
    return cache_.back();
}

void Arp::put_header(rte_mbuf* m, const wire::MacAddr& dst) {
    auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
    (void)wire::emit_ethernet({dst, own_, wire::ethertype::ipv4}, {p, wire::kEthHeaderLen});
}

// RFC 826 merge: refresh a known sender; create one only when it talks to us.
void Arp::learn(wire::Ipv4Addr ip, const wire::MacAddr& mac, std::uint64_t now_ms, bool create) {
    Entry* e = find(ip);
    if (e == nullptr) {
        if (!create) return;
        e = &insert(ip);
    }
    if (!e->resolved || e->mac != mac) {
        TLOG(INFO, arp, "%s is at %s", ip.to_string().c_str(), mac.to_string().c_str());
    }
    e->mac = mac;
    e->resolved = true;
    e->expires_ms = now_ms + cfg_.entry_ttl_ms;
    // Release what was waiting for this address, in order.
    auto it = queue_.begin();
    while (it != queue_.end()) {
        if (it->next_hop == ip) {
            put_header(it->m, mac);
            tx_.send(it->m);
            it = queue_.erase(it);
        } else {
            ++it;
        }
    }
}

void Arp::input(rte_mbuf* m, const wire::EthernetFrame& eth, std::uint64_t now_ms, bool answer) {
    auto parsed = wire::parse_arp(eth.payload);
    if (!parsed) return tx_.drop(m, AppDrop::arp_malformed);
    const wire::ArpRepr& a = *parsed;
    if (a.sender_ip.is_unspecified() || a.sender_ip.is_broadcast() || a.sender_ip.is_multicast() ||
        a.sender_mac.is_multicast() || is_local(a.sender_ip)) {
        // A probe (sender 0.0.0.0) or someone claiming our address: never cache it.
        return tx_.drop(m, AppDrop::arp_bad_sender);
    }
    const bool for_us = is_local(a.target_ip);
    learn(a.sender_ip, a.sender_mac, now_ms, for_us);
    if (a.op != wire::ArpOp::request || !answer) return tx_.free(m);
    if (!for_us) return tx_.drop(m, AppDrop::arp_not_for_us);

    // Reply in place: the request's buffer already has the right size.
    auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
    (void)wire::emit_ethernet({a.sender_mac, own_, wire::ethertype::arp}, {p, wire::kEthHeaderLen});
    const wire::ArpRepr reply{wire::ArpOp::reply, own_, a.target_ip, a.sender_mac, a.sender_ip};
    (void)wire::emit_arp(reply, {p + eth.header_len, wire::kArpLen});
    counters_.arp_replies_sent++;
    tx_.send(m);
}

void Arp::send_arp(wire::ArpOp op, wire::Ipv4Addr sender_ip, const wire::MacAddr& dst_mac,
                   const wire::MacAddr& target_mac, wire::Ipv4Addr target_ip) {
    rte_mbuf* m = tx_.alloc();
    if (m == nullptr) return;
    constexpr std::size_t kLen = 60;  // minimum frame without FCS; the rest is zero padding
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, kLen));
    std::fill(p, p + kLen, std::uint8_t{0});
    (void)wire::emit_ethernet({dst_mac, own_, wire::ethertype::arp}, {p, wire::kEthHeaderLen});
    (void)wire::emit_arp({op, own_, sender_ip, target_mac, target_ip},
                         {p + wire::kEthHeaderLen, wire::kArpLen});
    tx_.send(m);
}

void Arp::request(Entry& e, std::uint64_t now_ms) {
    if (e.first_request_ms == 0) e.first_request_ms = now_ms;
    e.last_request_ms = now_ms;
    counters_.arp_requests_sent++;
    TLOG(DEBUG, arp, "who-has %s", e.ip.to_string().c_str());
    send_arp(wire::ArpOp::request, source_for(e.ip), wire::MacAddr::broadcast(), {}, e.ip);
}

void Arp::announce() {
    for (const auto& a : port_.addresses) {
        send_arp(wire::ArpOp::request, a.addr, wire::MacAddr::broadcast(), {}, a.addr);
    }
    TLOG(INFO, arp, "gratuitous ARP sent for %zu address(es) from %s", port_.addresses.size(),
         own_.to_string().c_str());
}

bool Arp::probe(wire::Ipv4Addr dst, std::uint64_t now_ms) {
    wire::Ipv4Addr hop;
    if (!next_hop(dst, hop)) return false;
    Entry* e = find(hop);
    if (e != nullptr && e->resolved && e->expires_ms > now_ms) return true;
    start_resolving(e != nullptr ? *e : insert(hop), now_ms);
    return false;
}

void Arp::output(rte_mbuf* m, wire::Ipv4Addr dst, std::uint64_t now_ms) {
    // Most frames go where the one before went: the subnet match and the
    // hash probe are skipped then. The entry is checked as find() checks
    // it, so an eviction, an erase or an expiry since is never missed.
    if (dst == last_.dst && last_.slot != 0 && last_.slot <= cache_.size()) {
        const Entry& e = cache_[last_.slot - 1u];
        if (e.ip == last_.hop && e.resolved && e.expires_ms > now_ms) {
            put_header(m, e.mac);
            return tx_.send(m);
        }
    }
    wire::Ipv4Addr hop;
    if (!next_hop(dst, hop)) return tx_.drop(m, AppDrop::tx_no_route);
    Entry* e = find(hop);
    if (e != nullptr && e->resolved && e->expires_ms > now_ms) {
        // Field by field: an aggregate assignment went through a temporary
        // on the stack, stored in halves and reloaded whole (a stall).
        last_.dst = dst;
        last_.hop = hop;
        last_.slot = static_cast<std::uint16_t>(e - cache_.data() + 1);
        put_header(m, e->mac);
        return tx_.send(m);
    }
    if (queue_.size() >= cfg_.queue) return tx_.drop(m, AppDrop::arp_queue_full);
    queue_.push_back({m, hop, now_ms});
    start_resolving(e != nullptr ? *e : insert(hop), now_ms);
}

// Sends the first request unless one is already outstanding; an expired
// entry is not used again until a reply confirms it.
void Arp::start_resolving(Entry& e, std::uint64_t now_ms) {
    if (e.resolved) {
        e.resolved = false;
        e.last_request_ms = 0;
        e.first_request_ms = 0;
    }
    if (e.last_request_ms == 0) request(e, now_ms);
}

void Arp::tick(std::uint64_t now_ms) {
    for (auto& e : cache_) {
        if (e.resolved && e.expires_ms <= now_ms) {
            e.resolved = false;  // re-resolved on next use
            e.first_request_ms = 0;
            e.last_request_ms = 0;
        }
        if (!e.resolved && e.last_request_ms != 0 && now_ms - e.last_request_ms >= cfg_.retry_ms &&
            now_ms - e.first_request_ms < cfg_.give_up_ms) {
            request(e, now_ms);
        }
        if (!e.resolved && e.first_request_ms != 0 && now_ms - e.first_request_ms >= cfg_.give_up_ms) {
            // Give up for now; the next packet starts a fresh attempt.
            e.first_request_ms = 0;
            e.last_request_ms = 0;
            e.ip = {};
        }
    }
    std::erase_if(cache_, [](const Entry& e) { return e.ip.is_unspecified(); });
    auto it = queue_.begin();
    while (it != queue_.end()) {
        if (now_ms - it->since_ms >= cfg_.give_up_ms) {
            tx_.drop(it->m, AppDrop::arp_unresolved);
            it = queue_.erase(it);
        } else {
            ++it;
        }
    }
}

void Arp::release_all() {
    for (auto& w : queue_) tx_.free(w.m);
    queue_.clear();
}

std::string Arp::dump() const {
    std::string out;
    for (const auto& e : cache_) {
        char line[128];
        std::snprintf(line, sizeof line, "%-15s %-17s %s\n", e.ip.to_string().c_str(),
                      e.resolved ? e.mac.to_string().c_str() : "(incomplete)",
                      e.resolved ? "resolved" : "resolving");
        out += line;
    }
    return out;
}

}  // namespace tcpfp::app
