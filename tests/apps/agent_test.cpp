// The prompt's agent (dpdk_app/apps/agent.cpp) and its typed commands
// (agent_commands.cpp) on an in-memory engine: commands come through a
// CommandSource as from the worker's mailbox, one per loop iteration, and
// the reply is read after `done`. Engine B plays the peer.
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>

#include "apps/app_harness.hpp"
#include "dpdk_app/apps/agent_commands.hpp"
#include "dpdk_app/apps/gen.hpp"

namespace tcpfp::app {
namespace {

using tcp::test::kHostA;
using tcp::test::kHostB;

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class Tools : public WorkerTools {
public:
    std::string neighbor_table() const override { return "172.16.48.1 02:00:00:00:00:01\n"; }
    void set_verbose(bool on) override { verbose = on; }
    bool verbose = false;
};

class AgentNet {
public:
    AgentNet() : echo_(0), agent_(0, CommandSource{&take, &queue_}) {
        responders_.echo = &echo_;
        agent_.attach(nullptr, nullptr, &tools_, &responders_);
        n_.add(echo_);
        n_.add(agent_, true);
        n_.start();
    }

    // Posts `c` and runs the loop until the agent has run it.
    template <class C>
    C& run(C& c) {
        queue_.push_back(&c);
        EXPECT_TRUE(n_.run_until([&] { return c.done.load(std::memory_order_acquire); }));
        return c;
    }
    bool run_until(const std::function<bool()>& pred) { return n_.run_until(pred); }
    test::AppNet& n() { return n_; }
    Tools& tools() { return tools_; }

    std::string state(std::uint64_t id) {
        ConnState c(id);
        return run(c).state;
    }

private:
    static Command* take(void* ctx) {
        auto& q = *static_cast<std::deque<Command*>*>(ctx);
        if (q.empty()) return nullptr;
        Command* c = q.front();
        q.pop_front();
        return c;
    }

    test::AppNet n_;
    std::deque<Command*> queue_;
    Tools tools_;
    Echo echo_;
    Responders responders_;
    Agent agent_;
};

TEST(Agent, AQuietAgentIsNotPolledAndStillTakesACommandEachMillisecond) {
    // A server under load must not pay for the prompt's mailbox every
    // iteration: kAwake (50 ms) after its last command the agent stops being
    // polled, and on_tick() (once a millisecond) still finds the next one.
    AgentNet a;
    constexpr std::size_t kAgent = 1;  // echo is app 0
    EXPECT_TRUE(a.n().host().polled(kAgent));  // added polled: the start's commands come quickly
    ASSERT_TRUE(a.run_until([&] { return !a.n().host().polled(kAgent); }));
    EXPECT_GE(a.n().now().millis(), 50u);

    SetVerbose v(true);
    const tcp::Instant posted = a.n().now();
    a.run(v);
    EXPECT_TRUE(a.tools().verbose);
    EXPECT_LE((a.n().now() - posted).as_micros(), 1100);  // the next tick at the latest
    EXPECT_TRUE(a.n().host().polled(kAgent));  // awake again for the commands that follow
}

TEST(Agent, OpensSendsReceivesAndClosesByCommand) {
    AgentNet a;
    tcp::ConnId listener, peer;
    ASSERT_EQ(a.n().peer().listen(kHostB, 5012, 4, listener), 0);
    OpenConn open;
    open.tuple.remote_ip = kHostB;
    open.tuple.remote_port = 5012;
    ASSERT_EQ(a.run(open).rc, 0) << open.out;
    EXPECT_EQ(open.id, 1u);  // worker 0's first id
    ASSERT_TRUE(a.run_until([&] { return a.state(1) == "ESTABLISHED"; }));
    ASSERT_TRUE(a.run_until([&] { return a.n().peer().accept(listener, peer) == 0; }));

    SendConn send(1);
    send.text = "hello\n";
    EXPECT_EQ(a.run(send).sent, 6);
    ASSERT_EQ(a.n().peer().send(peer, bytes("from b\n"), a.n().now()), 7);
    a.n().net().flush();
    ASSERT_TRUE(a.run_until([&] {
        TakeRecv t(1, "from b");
        return a.run(t).rc == 0;
    }));
    ConnState st(1);
    EXPECT_EQ(a.run(st).rx_total, 7u);

    CloseConn close(1, -1);
    ASSERT_EQ(a.run(close).rc, 0) << close.out;
    EXPECT_EQ(close.out, "ESTABLISHED -> FIN_WAIT_1");
    CloseConn again(1, -1);
    EXPECT_EQ(a.run(again).rc, 1);
    EXPECT_EQ(again.out, "connection 1 is already closed");
    ConnState none(7);
    EXPECT_EQ(a.run(none).rc, 1);
    EXPECT_EQ(none.out, "no connection 7");
}

// `listen ... echo`: the listener is the echo app's, which serves what it
// accepts (the responder exists once); the agent gives it no prompt id.
TEST(Agent, EchoListenerIsTheEchoAppsAndEchoes) {
    AgentNet a;
    ListenCmd l;
    l.port = 7;
    l.mode = ListenMode::echo;
    ASSERT_EQ(a.run(l).rc, 0) << l.out;
    ListenCmd twice;
    twice.port = 7;
    EXPECT_EQ(a.run(twice).rc, 1);
    EXPECT_EQ(twice.out, "already listening there");

    tcp::ConnId c;
    tcp::ConnectParams p;
    p.local_ip = kHostB;
    p.remote_ip = kHostA;
    p.remote_port = 7;
    ASSERT_EQ(a.n().peer().connect(p, a.n().now(), c), 0);
    ASSERT_TRUE(a.run_until([&] { return a.n().peer().state(c) == tcp::State::established; }));
    ASSERT_EQ(a.n().peer().send(c, bytes("ping"), a.n().now()), 4);
    a.n().net().flush();
    ASSERT_TRUE(a.run_until([&] { return a.n().peer().recv_available(c) == 4; }));
    ConnState none(1);
    EXPECT_EQ(a.run(none).rc, 1);
    EXPECT_EQ(a.n().host().counters().unowned, 0u);
    ListenCmd off;
    off.on = false;
    off.port = 7;
    EXPECT_EQ(a.run(off).rc, 0) << off.out;
    ListenCmd again;
    again.on = false;
    again.port = 7;
    EXPECT_EQ(a.run(again).rc, 1);
    EXPECT_EQ(again.out, "no CLI listener there");
}

TEST(Agent, ShowConnComesInBoundedPages) {
    AgentNet a;
    ListenCmd l;
    l.port = 9;
    l.mode = ListenMode::sink;
    ASSERT_EQ(a.run(l).rc, 0);
    constexpr int kConns = 300;
    for (int i = 0; i < kConns; ++i) {  // in batches within the listener's SYN queue
        tcp::ConnId c;
        tcp::ConnectParams p;
        p.local_ip = kHostB;
        p.remote_ip = kHostA;
        p.remote_port = 9;
        ASSERT_EQ(a.n().peer().connect(p, a.n().now(), c), 0);
        a.n().net().flush();
        const std::size_t want = static_cast<std::size_t>(i) + 2;
        if (i % 50 == 49 || i + 1 == kConns) {
            ASSERT_TRUE(a.run_until([&] { return a.n().net().a().connection_count() == want; }));
        }
    }
    ASSERT_TRUE(a.run_until([&] {
        return a.n().net().a().counters().in_state(tcp::State::established) == kConns;
    }));

    ListConns first;
    a.run(first);
    EXPECT_EQ(first.rows.size(), ListConns::kPageRows);
    EXPECT_FALSE(first.finished);
    EXPECT_EQ(first.rows[0].info.state, tcp::State::listen);
    EXPECT_EQ(first.rows[1].id, 1u);  // an accepted connection names its prompt id
    ListConns second;
    second.cursor = first.cursor;
    a.run(second);
    EXPECT_TRUE(second.finished);
    EXPECT_EQ(first.rows.size() + second.rows.size(), std::size_t{kConns} + 1);

    ListConns counted;  // filtered and counted only: no rows cross
    counted.state = tcp::State::established;
    counted.count_only = true;
    a.run(counted);
    EXPECT_TRUE(counted.finished);
    EXPECT_TRUE(counted.rows.empty());
    EXPECT_EQ(counted.matched, std::uint64_t{kConns});
}

TEST(Agent, ToolsAndMissingAppsAnswerByCommand) {
    AgentNet a;
    SetVerbose v(true);
    EXPECT_EQ(a.run(v).rc, 0);
    EXPECT_TRUE(a.tools().verbose);
    ShowNeighbors arp;
    EXPECT_EQ(a.run(arp).out, "172.16.48.1 02:00:00:00:00:01\n");
    ResolveNeighbor probe(kHostB);
    EXPECT_TRUE(a.run(probe).resolved);
    SetTimers t;
    t.time_wait_ms = 1000;
    a.run(t);
    EXPECT_EQ(a.n().net().a().config().msl.as_micros(), 500'000);
    GenStart gen(0, GenSpec{});
    EXPECT_EQ(a.run(gen).rc, 1);  // this worker has no generator
    EXPECT_EQ(gen.out, "no generator on worker 0");
}

}  // namespace
}  // namespace tcpfp::app
