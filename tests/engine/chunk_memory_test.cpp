// The engine on chunked buffers: memory per connection in proportion to the
// bytes queued (idle, 64 bytes, 64 KB, and many connections at once); a
// pool running low shrinks the windows it offers before it drops data;
// segments spanning many chunks (jumbo MTU); zero-copy receive across
// chunks; and the configuration limits the chunks rely on.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

std::uint64_t both(Net& net) { return net.a().buffer_bytes_in_use() + net.b().buffer_bytes_in_use(); }

TEST(ChunkMemory, PerConnectionFollowsTheBytesQueued) {
    EngineConfig c = test_config();  // 2 KiB chunks, 128 KiB SO_SNDBUF/SO_RCVBUF
    Net net(c, c);
    Pair p = open_pair(net);
    const std::uint64_t idle = both(net);
    EXPECT_EQ(idle, 0u) << "an idle connection holds no buffer memory";

    // 64 bytes in the sender's buffer (the link drops them), then in the
    // receiver's once they arrive unread.
    net.impair().drop = 1.0;
    ASSERT_EQ(net.a().send(p.a, bytes_of(pattern(64, 1)), net.now()), 64);
    const std::uint64_t queued_64 = both(net);
    EXPECT_EQ(queued_64, c.chunk_size) << "64 bytes queued hold one chunk";
    ConnInfo info;
    ASSERT_EQ(net.a().info(p.a, info), 0);
    EXPECT_EQ(info.send_q, 64u);
    EXPECT_EQ(info.send_mem, c.chunk_size);
    EXPECT_EQ(info.recv_mem, 0u);
    net.impair().drop = 0;
    ASSERT_TRUE(net.run_until([&] { return net.a().tcb(p.a)->snd_buf.len == 0; }));
    EXPECT_EQ(net.a().buffer_bytes_in_use(), 0u) << "acknowledged: the chunk went back";
    EXPECT_EQ(net.b().buffer_bytes_in_use(), c.chunk_size);
    EXPECT_EQ(recv_all(net.b(), p.b, net.now()).size(), 64u);
    EXPECT_EQ(both(net), 0u);

    // 64 KB queued unread at the receiver: 32 chunks, not its 128 KB limit.
    const std::string big = pattern(64 * 1024, 2);
    ASSERT_EQ(net.a().send(p.a, bytes_of(big), net.now()), static_cast<std::int64_t>(big.size()));
    ASSERT_TRUE(net.run_until([&] { return net.a().tcb(p.a)->snd_buf.len == 0; }));
    const std::uint64_t queued_64k = both(net);
    EXPECT_EQ(queued_64k, 64u * 1024);
    EXPECT_EQ(recv_all(net.b(), p.b, net.now()), big);
    EXPECT_EQ(both(net), 0u);
    std::printf("[ memory ] per connection, both sides: idle %llu B, 64 B queued %llu B, 64 KB queued %llu B\n",
                static_cast<unsigned long long>(idle), static_cast<unsigned long long>(queued_64),
                static_cast<unsigned long long>(queued_64k));
}

TEST(ChunkMemory, ManyConnectionsEachWithARequestHoldAChunkEach) {
    EngineConfig c = test_config();
    Net net(c, c);
    constexpr int kConns = 200;
    std::vector<Pair> pairs;
    ConnId listener;
    ASSERT_EQ(net.b().listen(kHostB, 80, 1024, listener), 0);
    for (int i = 0; i < kConns; ++i) {
        Pair p{};
        ASSERT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), p.a), 0);
        pairs.push_back(p);
    }
    net.settle();
    for (Pair& p : pairs) ASSERT_EQ(net.b().accept(listener, p.b), 0);
    EXPECT_EQ(both(net), 0u);
    // A 64-byte request each, unread; a 1 KB response each, unread.
    // (Delayed ACKs included: the requests and responses are acknowledged.)
    for (Pair& p : pairs) ASSERT_EQ(net.a().send(p.a, bytes_of(pattern(64, 3)), net.now()), 64);
    net.run_for(Duration::seconds(1));
    for (Pair& p : pairs) ASSERT_EQ(net.b().send(p.b, bytes_of(pattern(1024, 4)), net.now()), 1024);
    net.run_for(Duration::seconds(1));
    EXPECT_EQ(net.a().buffers_in_use(), static_cast<std::uint32_t>(kConns)) << "each response in one chunk"
        << " (first: snd " << net.a().tcb(pairs[0].a)->snd_buf.len << " B in " << net.a().tcb(pairs[0].a)->snd_buf.chunks(net.a().buffer_pool())
        << " chunks, rcv " << net.a().tcb(pairs[0].a)->rcv_buf.len << " B in " << net.a().tcb(pairs[0].a)->rcv_buf.chunks(net.a().buffer_pool()) << ")";
    EXPECT_EQ(net.b().buffers_in_use(), static_cast<std::uint32_t>(kConns)) << "each request in one chunk";
    std::printf("[ memory ] %d connections, 64 B + 1 KB each unread: %llu B of buffers for both sides\n",
                kConns, static_cast<unsigned long long>(both(net)));
}

TEST(ChunkMemory, APoolRunningLowShrinksTheWindowBeforeDroppingAnything) {
    // The receiver's pool (64 KiB) is smaller than its SO_RCVBUF (256 KiB):
    // the windows it offers follow the pool, so an unread stream stops
    // the sender without a byte dropped, and goes on once it is read.
    EngineConfig ca = test_config(), cb = test_config();
    cb.chunk_count = 32;
    cb.buffer_size = cb.recv_buffer = 256 * 1024;
    Net net(ca, cb);
    Pair p = open_pair(net);
    const std::string data = pattern(512 * 1024, 5);
    std::size_t sent = 0;
    std::string got;
    bool read = false;
    std::uint32_t least_window = UINT32_MAX;  // as the sender saw it
    ASSERT_TRUE(net.run_until(
        [&] {
            if (sent < data.size()) {
                const auto n = net.a().send(p.a, bytes_of(std::string_view(data).substr(sent)), net.now());
                if (n > 0) sent += static_cast<std::size_t>(n);
            }
            least_window = std::min(least_window, net.a().tcb(p.a)->snd_wnd);
            // Nothing read until the pool is nearly full and the window
            // nearly closed (what is left of it is below the sender's SWS
            // threshold).
            if (!read && net.b().buffer_chunks_free() < 4 && least_window < 2048) read = true;
            if (read) got += recv_all(net.b(), p.b, net.now());
            net.flush();
            return got.size() == data.size();
        },
        Duration::seconds(600)));
    EXPECT_TRUE(read) << "the window never closed on the pool";
    EXPECT_TRUE(got == data);
    EXPECT_GT(net.b().counters().get(Mib::rcv_window_pool_clamped), 0u);
    EXPECT_EQ(net.b().counters().get(Drop::no_buffers), 0u) << "dropped instead of offering less";
    EXPECT_EQ(net.b().counters().get(Drop::rcv_buffer_full), 0u);
}

TEST(ChunkMemory, DataTheEmptyPoolCannotHoldIsCountedOnceAsNoBuffers) {
    // Two connections offered 32 KiB windows each while the receiver's pool
    // (32 KiB) was free: windows offered are never withdrawn (SHLD-14), so
    // the second stream finds the pool empty. Its data is dropped and
    // counted once, as no_buffers (it fitted the buffer: not
    // rcv_buffer_full, as it was also counted before), and arrives by
    // retransmission once the first stream is read.
    EngineConfig ca = test_config(), cb = test_config();
    cb.chunk_count = 16;  // no send reserve at this size
    cb.recv_buffer = 64 * 1024;
    Net net(ca, cb);
    Pair p1 = open_pair(net, 5002);
    Pair p2 = open_pair(net, 5003);
    ASSERT_EQ(net.b().tcb(p1.b)->rcv_adv - net.b().tcb(p1.b)->rcv_nxt, 32 * 1024);
    ASSERT_EQ(net.b().tcb(p2.b)->rcv_adv - net.b().tcb(p2.b)->rcv_nxt, 32 * 1024);
    const std::string d1 = pattern(32 * 1024, 9), d2 = pattern(32 * 1024, 10);
    ASSERT_EQ(net.a().send(p1.a, bytes_of(d1), net.now()), 32 * 1024);
    net.run_for(Duration::millis(100));
    ASSERT_EQ(net.a().send(p2.a, bytes_of(d2), net.now()), 32 * 1024);
    net.run_for(Duration::millis(100));
    const std::uint64_t dropped = net.b().counters().get(Drop::no_buffers);
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(net.b().counters().get(Drop::rcv_buffer_full), 0u) << "one reason per drop";
    EXPECT_EQ(net.b().counters().get(Drop::out_of_order), 0u) << "one reason per drop";
    std::string got1, got2;
    ASSERT_TRUE(net.run_until(
        [&] {
            got1 += recv_all(net.b(), p1.b, net.now());
            got2 += recv_all(net.b(), p2.b, net.now());
            return got1.size() == d1.size() && got2.size() == d2.size();
        },
        Duration::seconds(120)));
    EXPECT_TRUE(got1 == d1);
    EXPECT_TRUE(got2 == d2);
}

// Sends 4 MSS from A whose first segment is lost, and runs until the rest
// has arrived at B (100 us) but not the fast retransmission: B holds the
// segments after the hole.
void send_past_a_hole(Net& net, const Pair& p) {
    const std::uint32_t mss = net.a().tcb(p.a)->snd_mss;
    auto dropped = std::make_shared<bool>(false);
    net.impair().drop_rule = [dropped](const Captured& s) {
        if (*dropped || s.from != Side::a || s.payload_len == 0) return false;
        return *dropped = true;  // the next data segment: a hole
    };
    const std::string data = pattern(4 * mss, 11);
    ASSERT_EQ(net.a().send(p.a, bytes_of(data), net.now()), static_cast<std::int64_t>(data.size()));
    net.run_for(Duration::micros(150));
}

TEST(ChunkMemory, ShutRdDiscardsHeldOutOfOrderDataForGood) {
    // Out-of-order data held when the application shuts reading down is
    // discarded with the buffer; the retransmission that fills the hole
    // then makes nothing readable. (It used to make the held length
    // readable again over chunks already given back: recv() returned bytes
    // that were never received.)
    EngineConfig c = test_config();
    Net net(c, c);
    Pair p = open_pair(net);
    send_past_a_hole(net, p);
    ASSERT_EQ(net.b().recv_available(p.b), 0u);
    ASSERT_GT(net.b().buffers_in_use(), 0u) << "the segments after the hole are held";
    ASSERT_EQ(net.b().shutdown(p.b, Shutdown::rd, net.now()), 0);
    EXPECT_EQ(net.b().buffers_in_use(), 0u);
    ASSERT_TRUE(net.run_until([&] { return net.a().tcb(p.a)->snd_buf.len == 0; }));
    EXPECT_EQ(net.b().recv_available(p.b), 0u);
    std::uint8_t buf[64];
    EXPECT_EQ(net.b().recv(p.b, buf, net.now()), 0) << "end of stream after SHUT_RD";
    EXPECT_EQ(net.b().buffers_in_use(), 0u);
}

TEST(ChunkMemory, AConnectionEndedByResetGivesBackItsHeldOutOfOrderData) {
    // The connection ends (RST) while data beyond a hole is held: the
    // reassembly state goes, and the chunks of that data go with it; what
    // was readable stays for the application until it closes. (fuzz_engine
    // found the held chunks kept with no reassembly state: a receive
    // buffer of 0 bytes holding a chunk.)
    EngineConfig c = test_config();
    Net net(c, c);
    Pair p = open_pair(net);
    const std::string first = pattern(100, 3);
    ASSERT_EQ(net.a().send(p.a, bytes_of(first), net.now()), 100);
    ASSERT_TRUE(net.run_until([&] { return net.b().recv_available(p.b) == 100; }));
    send_past_a_hole(net, p);
    ASSERT_EQ(net.b().recv_available(p.b), 100u);
    ASSERT_GT(net.b().buffers_in_use(), 1u) << "the segments after the hole are held";
    ASSERT_EQ(net.a().abort(p.a, net.now()), 0);
    ASSERT_TRUE(net.run_until([&] { return net.b().state(p.b) == State::closed; }));
    EXPECT_EQ(net.b().buffers_in_use(), 1u) << "the 100 readable bytes' chunk, nothing held beyond";
    EXPECT_EQ(net.b().loss_states_in_use(), 0u);
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    EXPECT_EQ(net.b().buffers_in_use(), 0u);
}

TEST(ChunkMemory, SendStopsAtTheReserveAndWritableFollows) {
    EngineConfig c = test_config();
    c.chunk_count = 64;  // 128 KiB; the send reserve is 2 chunks
    Net net(c, c);
    Pair p = open_pair(net);
    net.impair().drop = 1.0;  // nothing is acknowledged for now
    const std::string data = pattern(200 * 1024, 6);
    const auto n = net.a().send(p.a, bytes_of(data), net.now());
    EXPECT_EQ(n, static_cast<std::int64_t>(62 * c.chunk_size)) << "all but the reserve";
    EXPECT_EQ(net.a().send(p.a, bytes_of(data), net.now()), -ENOBUFS);
    EXPECT_EQ(net.a().counters().get(Mib::send_no_buffers), 1u);
    EXPECT_EQ(net.a().counters().get(Drop::no_buffers), 0u) << "no segment was dropped";
    net.take_events(Side::a);
    net.impair().drop = 0;
    ASSERT_TRUE(net.run_until([&] { return net.saw_event(Side::a, p.a, EventKind::writable); }));
    EXPECT_GT(net.a().send(p.a, bytes_of(data), net.now()), 0);
}

TEST(ChunkMemory, JumboSegmentsSpanManyChunks) {
    // 9000 over 2 KiB chunks, and the most a segment may span: 7168 bytes
    // of IP payload over 1 KiB chunks (8 pieces when it starts mid-chunk).
    for (const auto& [chunk, mtu] : {std::pair{2048u, 9000u}, std::pair{1024u, 7208u}}) {
        SCOPED_TRACE(chunk);
        EngineConfig c = test_config();
        c.mtu = static_cast<std::uint16_t>(mtu);
        c.chunk_size = chunk;
        Net net(c, c);
        Pair p = open_pair(net);
        ASSERT_EQ(net.a().tcb(p.a)->snd_mss, mtu - 40 - 12);
        const std::string data = pattern(1 << 20, 7);
        std::size_t sent = 0;
        std::string got;
        net.impair().drop = 0.01;
        ASSERT_TRUE(net.run_until(
            [&] {
                if (sent < data.size()) {
                    const auto n = net.a().send(p.a, bytes_of(std::string_view(data).substr(sent)), net.now());
                    if (n > 0) sent += static_cast<std::size_t>(n);
                }
                got += recv_all(net.b(), p.b, net.now());
                net.flush();
                return got.size() == data.size();
            },
            Duration::seconds(600)));
        EXPECT_TRUE(got == data);
        std::size_t biggest = 0;
        for (const Captured& s : net.sent_by(Side::a)) biggest = std::max(biggest, s.payload_len);
        EXPECT_EQ(biggest, mtu - 40 - 12) << "full jumbo segments, each over several chunks";
    }
}

TEST(ChunkMemory, RecvViewShowsTheFirstChunksThenWhatFollows) {
    EngineConfig c = test_config();
    Net net(c, c);
    Pair p = open_pair(net);
    const std::string data = pattern(10000, 8);
    ASSERT_EQ(net.a().send(p.a, bytes_of(data), net.now()), 10000);
    ASSERT_TRUE(net.run_until([&] { return net.b().recv_available(p.b) == 10000; }));
    std::string got;
    for (;;) {
        std::span<const std::uint8_t> first, second;
        const std::int64_t n = net.b().recv_view(p.b, first, second);
        if (n <= 0) break;
        ASSERT_EQ(static_cast<std::size_t>(n), first.size() + second.size());
        EXPECT_GE(static_cast<std::size_t>(n), std::min<std::size_t>(c.chunk_size, data.size() - got.size()));
        got.append(reinterpret_cast<const char*>(first.data()), first.size());
        got.append(reinterpret_cast<const char*>(second.data()), second.size());
        ASSERT_EQ(net.b().consume(p.b, static_cast<std::size_t>(n), net.now()), n);
    }
    EXPECT_TRUE(got == data);
    EXPECT_EQ(net.b().buffer_bytes_in_use(), 0u);
}

TEST(ChunkMemory, ConfigurationsTheChunksCannotServeAreRefused) {
    EngineConfig c = test_config();
    c.mtu = 9000;
    c.chunk_size = 1024;  // 8960 bytes would span more than 8 chunks
    EXPECT_THROW(Engine(c, Instant::from_micros(0)), std::invalid_argument);
    c = test_config();
    c.chunk_size = 256;
    c.buffer_size = 64 * 1024 * 1024;  // a chain of more than 65535 chunks
    EXPECT_THROW(Engine(c, Instant::from_micros(0)), std::invalid_argument);
    c = test_config();
    c.chunk_size = 100;
    EXPECT_THROW(Engine(c, Instant::from_micros(0)), std::invalid_argument);
    c = test_config();
    c.chunk_size = 1300;  // not a power of two
    EXPECT_THROW(Engine(c, Instant::from_micros(0)), std::invalid_argument);
}

}  // namespace
}  // namespace tcpfp::tcp::test
