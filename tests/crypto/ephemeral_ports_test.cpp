#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <vector>

#include "fixtures/counting_resource.hpp"
#include "tcp/crypto/ephemeral_ports.hpp"

namespace tcpfp::tcp {
namespace {

using wire::Ipv4Addr;

constexpr SipKey kSecret{0x6056605660566056ull, 0x0123456789abcdefull};
const Ipv4Addr kLocal = Ipv4Addr::from_octets(10, 0, 0, 2);
const Ipv4Addr kRemote = Ipv4Addr::from_octets(192, 0, 2, 80);

constexpr auto kAny = [](std::uint16_t) { return true; };
constexpr auto kNone = [](std::uint16_t) { return false; };

// The port k places after p in the range, wrapping from last to first.
std::uint16_t advance(const EphemeralPorts& ports, std::uint16_t p, std::uint32_t k) {
    return static_cast<std::uint16_t>(ports.first() + (p - ports.first() + k) % ports.range_size());
}

// successor() names the first candidate of the destination's next
// selection (the engine prefetches that tuple's table bucket), across the
// range's wrap and after candidates were refused.
TEST(EphemeralPorts, SuccessorIsTheNextSelectionsFirstCandidate) {
    EphemeralPorts ports(kSecret, 30000, 30009, 1024);
    std::uint16_t last = *ports.select(kLocal, kRemote, 80, kAny);
    bool wrapped = false;
    for (int i = 0; i < 25; ++i) {
        std::uint16_t first_tried = 0;
        const auto refuse_odd_rounds = [&](std::uint16_t p) {
            if (first_tried == 0) first_tried = p;
            return i % 2 == 0 || p != first_tried;  // odd rounds refuse their first candidate
        };
        const auto p = ports.select(kLocal, kRemote, 80, refuse_odd_rounds);
        ASSERT_TRUE(p.has_value());
        EXPECT_EQ(first_tried, ports.successor(last)) << i;
        wrapped |= *p < last;
        last = *p;
    }
    EXPECT_TRUE(wrapped) << "the walk never wrapped from 30009 to 30000";
    EXPECT_EQ(ports.successor(30009), 30000);
    EXPECT_EQ(ports.successor(30000), 30001);
}

TEST(EphemeralPorts, DefaultsAreTheIanaRange) {
    const EphemeralPorts ports(kSecret);
    EXPECT_EQ(ports.first(), 49152);
    EXPECT_EQ(ports.last(), 65535);
    EXPECT_EQ(ports.range_size(), 16384u);
    EXPECT_EQ(ports.table_size(), 4096u);
    EXPECT_TRUE(ports.in_range(49152));
    EXPECT_TRUE(ports.in_range(65535));
    EXPECT_FALSE(ports.in_range(49151));
    EXPECT_FALSE(ports.in_range(0));
}

// The table comes once from the resource given, goes back to it at
// destruction, and selecting ports allocates nothing; none of it comes from
// the default resource. Which resource it is changes no port chosen.
TEST(EphemeralPorts, TableComesFromTheGivenResource) {
    EphemeralPorts reference(kSecret, 30000, 30999, 1024);
    test::CountingResource mr;
    test::CountingResource default_mr;
    {
        const test::ScopedDefaultResource scope(&default_mr);
        EphemeralPorts ports(kSecret, 30000, 30999, 1024, &mr);
        EXPECT_EQ(mr.allocations(), 1u);
        EXPECT_GE(mr.bytes_allocated(), 1024 * sizeof(std::uint32_t));
        const auto every_third = [](std::uint16_t c) { return c % 3 == 0; };
        for (std::uint16_t rp = 1; rp <= 3000; ++rp) {
            const auto p = ports.select(kLocal, kRemote, rp, every_third);
            ASSERT_TRUE(p.has_value());
            ASSERT_EQ(p, reference.select(kLocal, kRemote, rp, every_third)) << rp;
        }
        EXPECT_EQ(mr.allocations(), 1u) << "selection allocated";
        EXPECT_EQ(default_mr.allocations(), 0u);
    }
    EXPECT_EQ(mr.bytes_outstanding(), 0u) << "table not freed at destruction";
}

TEST(EphemeralPorts, AllReturnedPortsInRange) {
    EphemeralPorts ports(kSecret, 30000, 30999, 64);
    for (std::uint32_t i = 0; i < 5000; ++i) {
        const Ipv4Addr remote{0xc0000200u + (i % 97)};
        const auto p = ports.select(kLocal, remote, static_cast<std::uint16_t>(1 + i % 1000), kAny);
        ASSERT_TRUE(p.has_value());
        ASSERT_TRUE(ports.in_range(*p)) << *p;
    }
}

TEST(EphemeralPorts, PredicateIsHonoured) {
    EphemeralPorts ports(kSecret);
    const auto even = [](std::uint16_t p) { return p % 2 == 0; };
    for (std::uint16_t rp = 1; rp <= 2000; ++rp) {
        const auto p = ports.select(kLocal, kRemote, rp, even);
        ASSERT_TRUE(p.has_value());
        ASSERT_EQ(*p % 2, 0) << *p;
        ASSERT_TRUE(ports.in_range(*p));
    }
}

// Nothing usable: nullopt, after asking about every port exactly once.
TEST(EphemeralPorts, NoneUsableTriesEachPortOnce) {
    for (const auto& [first, last] : {std::pair<std::uint16_t, std::uint16_t>{1000, 1099},
                                      {49152, 65535},
                                      {1, 65535}}) {
        EphemeralPorts ports(kSecret, first, last);
        std::vector<std::uint16_t> asked;
        const auto p = ports.select(kLocal, kRemote, 443, [&](std::uint16_t c) {
            asked.push_back(c);
            return false;
        });
        EXPECT_FALSE(p.has_value());
        ASSERT_EQ(asked.size(), std::size_t{last} - first + 1);
        std::sort(asked.begin(), asked.end());
        EXPECT_EQ(std::adjacent_find(asked.begin(), asked.end()), asked.end()) << "a port twice";
        EXPECT_EQ(asked.front(), first);
        EXPECT_EQ(asked.back(), last);
    }
}

// RFC 6056 Algorithm 4: table[index] advances per candidate, so the next
// connection to the same destination starts one port further on.
TEST(EphemeralPorts, ConsecutiveConnectionsToOneDestinationDiffer) {
    EphemeralPorts ports(kSecret);
    std::uint16_t prev = *ports.select(kLocal, kRemote, 443, kAny);
    std::set<std::uint16_t> seen{prev};
    for (int i = 0; i < 999; ++i) {
        const std::uint16_t p = *ports.select(kLocal, kRemote, 443, kAny);
        EXPECT_EQ(p, advance(ports, prev, 1));
        seen.insert(p);
        prev = p;
    }
    EXPECT_EQ(seen.size(), 1000u);
}

// Candidates rejected by the predicate advance the counter too.
TEST(EphemeralPorts, RejectedCandidatesAdvanceTheCounter) {
    EphemeralPorts a(kSecret);
    EphemeralPorts b(kSecret);
    int asked = 0;
    const auto first_a = *a.select(kLocal, kRemote, 443, [&](std::uint16_t) {
        return ++asked == 3;  // the third candidate
    });
    const auto first_b = *b.select(kLocal, kRemote, 443, kAny);
    EXPECT_EQ(first_a, advance(b, first_b, 2));
    EXPECT_EQ(*a.select(kLocal, kRemote, 443, kAny),
              advance(b, *b.select(kLocal, kRemote, 443, kAny), 2));
}

// A connection table: each select takes a port the predicate says is free;
// the range runs out after exactly range_size connections.
TEST(EphemeralPorts, ExhaustionReturnsNullopt) {
    EphemeralPorts ports(kSecret, 5000, 5049, 16);
    std::set<std::uint16_t> in_use;
    const auto is_free = [&](std::uint16_t p) { return !in_use.contains(p); };
    for (int i = 0; i < 50; ++i) {
        const auto p = ports.select(kLocal, kRemote, 80, is_free);
        ASSERT_TRUE(p.has_value()) << "connection " << i;
        ASSERT_TRUE(in_use.insert(*p).second);
    }
    EXPECT_FALSE(ports.select(kLocal, kRemote, 80, is_free).has_value());
    in_use.erase(5025);
    EXPECT_EQ(ports.select(kLocal, kRemote, 80, is_free), std::optional<std::uint16_t>(5025));
}

// Different destinations start at unrelated points: 1000 destinations that
// differ by one in the remote port land on ~970 distinct first ports
// (birthday bound over 16384), and almost never on neighbouring ones.
TEST(EphemeralPorts, DifferentDestinationsHaveUnrelatedStarts) {
    std::set<std::uint16_t> starts;
    int neighbours = 0;
    std::uint16_t prev = 0;
    for (std::uint16_t rp = 1000; rp < 2000; ++rp) {
        EphemeralPorts ports(kSecret);  // fresh counters: the start is F alone
        const std::uint16_t p = *ports.select(kLocal, kRemote, rp, kAny);
        starts.insert(p);
        if (rp != 1000 && (p == prev + 1 || p + 1 == prev)) ++neighbours;
        prev = p;
    }
    EXPECT_GT(starts.size(), 940u);
    EXPECT_LE(neighbours, 3);  // expected 1000 * 2 / 16384 = 0.12
}

// Same destination, fresh state, other secret: another starting point.
TEST(EphemeralPorts, SecretChangesStart) {
    int same = 0;
    for (std::uint16_t rp = 1; rp <= 100; ++rp) {
        EphemeralPorts a(kSecret);
        EphemeralPorts b(SipKey{kSecret.k0, kSecret.k1 + 1});
        if (*a.select(kLocal, kRemote, rp, kAny) == *b.select(kLocal, kRemote, rp, kAny)) ++same;
    }
    EXPECT_LE(same, 2);
}

// Destinations sharing a table slot share its counter, which is how the RFC
// isolates them only as far as the table is large; with one slot every
// connection advances everyone's counter.
TEST(EphemeralPorts, TableOfOneCounterIsShared) {
    EphemeralPorts solo(kSecret, 49152, 65535, 1);
    EphemeralPorts shared(kSecret, 49152, 65535, 1);
    (void)shared.select(kLocal, Ipv4Addr::from_octets(198, 51, 100, 7), 22, kAny);
    const auto p1 = *solo.select(kLocal, kRemote, 443, kAny);
    const auto p2 = *shared.select(kLocal, kRemote, 443, kAny);
    EXPECT_EQ(p2, advance(solo, p1, 1));
}

TEST(EphemeralPorts, RangeOfSizeOne) {
    EphemeralPorts ports(kSecret, 5000, 5000);
    EXPECT_EQ(ports.range_size(), 1u);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(ports.select(kLocal, kRemote, 80, kAny), std::optional<std::uint16_t>(5000));
    }
    int asked = 0;
    EXPECT_FALSE(ports.select(kLocal, kRemote, 80, [&](std::uint16_t p) {
                          ++asked;
                          EXPECT_EQ(p, 5000);
                          return false;
                      }).has_value());
    EXPECT_EQ(asked, 1);
}

// The predicate in two parts: the steering filter first, the table lookup
// only for ports the filter passes.
TEST(EphemeralPorts, SteeringFilterIsAskedBeforeTheTable) {
    EphemeralPorts ports(kSecret);
    int steer_calls = 0;
    int free_calls = 0;
    const auto steer = [&](std::uint16_t p) {
        ++steer_calls;
        return p % 4 == 1;  // say, this lcore's share of the port space
    };
    const auto is_free = [&](std::uint16_t p) {
        ++free_calls;
        EXPECT_EQ(p % 4, 1);
        return free_calls > 2;  // the first two steered ports are taken
    };
    const auto p = ports.select(kLocal, kRemote, 443, steer, is_free);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p % 4, 1);
    EXPECT_EQ(free_calls, 3);
    EXPECT_GE(steer_calls, 3);
    EXPECT_LE(steer_calls, 12);  // three steered ports among at most 4 * 3 candidates

    steer_calls = 0;
    EXPECT_FALSE(ports.select(kLocal, kRemote, 443, kNone, kAny).has_value());
    EXPECT_FALSE(ports.select(kLocal, kRemote, 443, [&](std::uint16_t) {
                          ++steer_calls;
                          return false;
                      }, kAny).has_value());
    EXPECT_EQ(steer_calls, 16384);
}

// A bad range is rejected at construction (std::invalid_argument), never
// clamped or swapped; valid_config() lets configuration code check first.
TEST(EphemeralPorts, InvalidConfigurationIsRejected) {
    EXPECT_FALSE(EphemeralPorts::valid_config(2000, 1000, 4096));
    EXPECT_THROW(EphemeralPorts(kSecret, 2000, 1000), std::invalid_argument);
    EXPECT_FALSE(EphemeralPorts::valid_config(0, 1000, 4096));  // port 0 is not a port
    EXPECT_THROW(EphemeralPorts(kSecret, 0, 1000), std::invalid_argument);
    EXPECT_FALSE(EphemeralPorts::valid_config(1000, 2000, 0));
    EXPECT_THROW(EphemeralPorts(kSecret, 1000, 2000, 0), std::invalid_argument);
    EXPECT_FALSE(EphemeralPorts::valid_config(1000, 2000, 3000));
    EXPECT_THROW(EphemeralPorts(kSecret, 1000, 2000, 3000), std::invalid_argument);
    EXPECT_FALSE(EphemeralPorts::valid_config(1000, 2000, EphemeralPorts::kMaxTableSize * 2));

    EXPECT_TRUE(EphemeralPorts::valid_config(1, 65535, 1));
    EXPECT_TRUE(EphemeralPorts::valid_config(7, 7, EphemeralPorts::kMaxTableSize));
    EXPECT_NO_THROW(EphemeralPorts(kSecret, 1, 65535, 1));
}

TEST(EphemeralPorts, RekeyIsANewSelector) {
    // Engine::reset() re-keys its selector: it must then choose exactly as
    // one constructed with the new secret, whatever the counters held.
    constexpr SipKey kOther{0x1111222233334444ull, 0x5555666677778888ull};
    EphemeralPorts fresh(kSecret, 40000, 40999, 16), reused(kOther, 40000, 40999, 16);
    for (std::uint16_t rp = 1; rp <= 50; ++rp) (void)reused.select(kLocal, kRemote, rp, kAny);
    reused.rekey(kSecret);
    for (std::uint16_t rp = 1; rp <= 200; ++rp) {
        const auto odd = [](std::uint16_t p) { return p % 2 == 1; };
        ASSERT_EQ(fresh.select(kLocal, kRemote, rp % 7, odd), reused.select(kLocal, kRemote, rp % 7, odd))
            << rp;
    }
}

}  // namespace
}  // namespace tcpfp::tcp
