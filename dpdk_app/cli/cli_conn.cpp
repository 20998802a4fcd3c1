// The prompt's connection commands: listen, connect, send, shutdown, close,
// abort, the waits and expectations on a connection, and the seed's
// exchange. Each is a message of the connection family
// (dpdk_app/apps/agent_commands.hpp) to the worker that owns the id.
#include <cinttypes>
#include <cstdio>

#include "dpdk_app/apps/agent_commands.hpp"
#include "dpdk_app/cli/prompt.hpp"

namespace tcpfp::app::cli {

namespace {

// Sends a message about connection `id` to its worker; nullptr when it or
// the command failed (reported).
template <class C>
std::unique_ptr<C> conn_call(PromptState& st, std::unique_ptr<C> c) {
    if (!st.call_ok(worker_of(c->id), c)) return nullptr;
    return c;
}

std::optional<std::string> conn_state(PromptState& st, std::uint64_t id) {
    auto c = conn_call(st, std::make_unique<ConnState>(id));
    if (!c) return std::nullopt;
    st.seen[id].insert(c->state);
    return c->state;
}

void wait_state(PromptState& st, std::uint64_t id, const std::string& want_raw, std::uint64_t timeout_ms) {
    const std::string want = upper_state(want_raw);
    if (!valid_state(want)) return st.failf("bad argument: unknown state '%s'", want_raw.c_str());
    const std::uint64_t end = now_ms() + timeout_ms;
    std::string last;
    for (;;) {
        // The id may not exist yet (a connection a listener will accept): poll.
        auto c = std::make_unique<ConnState>(id);
        if (!st.call(worker_of(id), c)) return;
        if (c->rc != 0) {
            last = "(" + c->out + ")";
        } else {
            st.seen[id].insert(c->state);
            last = c->state;
        }
        if (last == want) {
            std::printf("connection %" PRIu64 ": %s\n", id, last.c_str());
            return;
        }
        if (now_ms() >= end || st.stopping()) break;
        sleep_ms(2);
    }
    st.failf("wait: connection %" PRIu64 " expected %s within %" PRIu64 " ms, found %s", id,
             want.c_str(), timeout_ms, last.c_str());
}

std::uint64_t do_connect(PromptState& st, const std::string& local, const std::string& remote) {
    auto c = std::make_unique<OpenConn>();
    if (!parse_endpoint(remote, true, c->tuple.remote_ip, c->tuple.remote_port) ||
        c->tuple.remote_ip.is_unspecified()) {
        st.failf("bad argument: '%s' is not ADDR:PORT", remote.c_str());
        return 0;
    }
    if (!local.empty() && !parse_endpoint(local, false, c->tuple.local_ip, c->tuple.local_port)) {
        st.failf("bad argument: '%s' is not ADDR or ADDR:PORT", local.c_str());
        return 0;
    }
    // Worker 0 opens: its port filter picks a port that maps back to it.
    if (!st.call_ok(0, c)) return 0;
    std::printf("connection %" PRIu64 ": %s -> %s\n", c->id, c->out.c_str(), remote.c_str());
    return c->id;
}

void do_listen(PromptState& st, const std::string& addr, std::uint32_t port, const std::string& mode,
               bool on) {
    auto a = parse_addr(addr);
    if (!a) return st.failf("bad argument: '%s' is not an address or any", addr.c_str());
    if (port == 0 || port > 65535) return st.failf("bad argument: port %u out of range 1..65535", port);
    ListenMode m = ListenMode::sink;
    if (mode == "echo") m = ListenMode::echo;
    else if (mode == "discard") m = ListenMode::discard;
    else if (mode == "http") m = ListenMode::http;
    else if (mode == "chargen") m = ListenMode::chargen;
    else if (mode == "hold") m = ListenMode::hold;
    else if (mode == "rr") m = ListenMode::rr;
    for (unsigned w = 0; w < st.workers(); ++w) {
        auto c = std::make_unique<ListenCmd>();
        c->on = on;
        c->addr = *a;
        c->port = static_cast<std::uint16_t>(port);
        c->mode = m;
        if (!st.call(w, c)) return;
        if (c->rc != 0) return st.failf("worker %u: %s", w, c->out.c_str());
    }
    if (on) {
        std::printf("listening on %s (%s)\n", endpoint(*a, static_cast<std::uint16_t>(port)).c_str(),
                    mode.c_str());
    }
}

void do_send(PromptState& st, std::uint64_t id, const std::string& what) {
    auto c = std::make_unique<SendConn>(id);
    if (!parse_quoted(what, c->text)) {
        std::string w = what;
        while (!w.empty() && (w.back() == ' ' || w.back() == '\n')) w.pop_back();
        auto n = parse_u64(w);
        if (!n || *n > (64u << 20)) {
            return st.failf("bad argument: '%s' is neither \"text\" nor a byte count", w.c_str());
        }
        c->bytes = static_cast<std::int64_t>(*n);
    }
    c = conn_call(st, std::move(c));
    if (!c) return;
    std::printf("connection %" PRIu64 ": sent %" PRId64 " byte(s)%s%s\n", id, c->sent,
                c->out.empty() ? "" : "; ", c->out.c_str());
}

void do_close(PromptState& st, std::uint64_t id, std::int64_t linger_ms) {
    auto c = conn_call(st, std::make_unique<CloseConn>(id, linger_ms));
    if (!c) return;
    std::printf("connection %" PRIu64 ": close: %s\n", id, c->out.c_str());
    const auto arrow = c->out.find(" -> ");
    if (linger_ms < 0 && arrow != std::string::npos) st.seen[id].insert(c->out.substr(arrow + 4));
}

void expect_recv(PromptState& st, std::uint64_t id, const std::string& what) {
    std::string text;
    if (!parse_quoted(what, text)) return st.failf("bad argument: expect recv needs a \"quoted text\"");
    // Data may still be on its way: retry for up to 2 s.
    const std::uint64_t end = now_ms() + 2000;
    for (;;) {
        auto c = std::make_unique<TakeRecv>(id, text);
        if (!st.call(worker_of(id), c)) return;
        if (c->rc == 0) {
            std::printf("connection %" PRIu64 ": received %s\n", id, printable(text).c_str());
            return;
        }
        if (c->out.rfind("no connection", 0) == 0) return st.fail(c->out);
        if (now_ms() >= end || st.stopping()) {
            return st.failf("expect recv: connection %" PRIu64 " expected %s, found %s", id,
                            printable(text).c_str(), printable(c->out).c_str());
        }
        sleep_ms(5);
    }
}

// Bytes received on a prompt connection; data may still be arriving, so the
// comparison is retried for up to 2 s.
void expect_rxbytes(PromptState& st, std::uint64_t id, const std::string& op, std::uint64_t want) {
    const std::uint64_t end = now_ms() + 2000;
    for (;;) {
        auto c = conn_call(st, std::make_unique<ConnState>(id));
        if (!c) return;
        const std::uint64_t got = c->rx_total;
        bool ok = false;
        if (!compare(static_cast<double>(got), op, static_cast<double>(want), ok)) {
            return st.failf("bad argument: operator '%s'", op.c_str());
        }
        if (ok) {
            std::printf("ok: connection %" PRIu64 " received %" PRIu64 " bytes (%s %" PRIu64 ")\n",
                        id, got, op.c_str(), want);
            return;
        }
        if (now_ms() >= end || st.stopping()) {
            return st.failf("expect rxbytes: connection %" PRIu64 " expected %s %" PRIu64
                            " bytes, found %" PRIu64, id, op.c_str(), want, got);
        }
        sleep_ms(5);
    }
}

void expect_conn(PromptState& st, std::uint64_t id, const std::string& state) {
    const std::string want = upper_state(state);
    if (!valid_state(want)) return st.failf("bad argument: unknown state '%s'", state.c_str());
    auto s = conn_state(st, id);
    if (!s) return;
    if (*s != want) {
        return st.failf("expect conn: connection %" PRIu64 " expected %s, found %s", id, want.c_str(),
                        s->c_str());
    }
    std::printf("ok: connection %" PRIu64 " is %s\n", id, s->c_str());
}

void expect_seen(PromptState& st, std::uint64_t id, const std::string& state) {
    const std::string want = upper_state(state);
    if (!valid_state(want)) return st.failf("bad argument: unknown state '%s'", state.c_str());
    (void)conn_state(st, id);
    if (st.failed) return;
    const auto& seen = st.seen[id];
    if (!seen.count(want)) {
        std::string all;
        for (const auto& s : seen) all += (all.empty() ? "" : " ") + s;
        return st.failf("expect seen: connection %" PRIu64 " expected %s among the states seen, found %s",
                        id, want.c_str(), all.c_str());
    }
    std::printf("ok: connection %" PRIu64 " was seen in %s\n", id, want.c_str());
}

void seed_client(PromptState& st, const std::string& target) {
    const auto& svc = st.cfg.services;
    const std::string remote =
        target.empty() ? svc.seed_target.to_string() + ":" + std::to_string(svc.seed_port) : target;
    const std::string local = svc.seed_source.is_unspecified() ? std::string() : svc.seed_source.to_string();
    const std::uint64_t id = do_connect(st, local, remote);
    if (id == 0) return;
    wait_state(st, id, "ESTABLISHED", 5000);
    if (st.failed) return;
    do_send(st, id, printable(svc.seed_message + "\n"));
    if (st.failed) return;
    if (auto c = conn_call(st, std::make_unique<CloseConn>(id, -1))) {
        std::printf("connection %" PRIu64 ": close: %s\n", id, c->out.c_str());
    }
}

void add_open_commands(PromptState& st) {
    st.add("listen <addr> <port:u32> echo#discard#chargen#http#sink#hold#rr",
           "listen on <addr|any>; sink keeps data for expect recv, the others are the built-in servers",
           [&st](const Args& a) { do_listen(st, a.s[1], a.n[2], a.s[3], true); });
    st.add("unlisten <addr> <port:u32>", "stop a listen command's listener",
           [&st](const Args& a) { do_listen(st, a.s[1], a.n[2], "", false); });
    st.add("connect <raddr:rport>", "open a connection; prints its id",
           [&st](const Args& a) { (void)do_connect(st, "", a.s[1]); });
    st.add("connect <laddr[:lport]> <raddr:rport>", "open from a given local address/port",
           [&st](const Args& a) { (void)do_connect(st, a.s[1], a.s[2]); });
    st.add("send <id:u32> <\"text\"|nbytes...>", "send a quoted string (C escapes) or N bytes",
           [&st](const Args& a) { do_send(st, a.n[1], a.rest); });
    st.add("shutdown <id:u32> rd#wr#rdwr", "shutdown(2) one or both directions", [&st](const Args& a) {
        const std::string& how = a.s[2];
        const auto h = how == "rd" ? tcp::Shutdown::rd : how == "wr" ? tcp::Shutdown::wr : tcp::Shutdown::rdwr;
        if (auto c = conn_call(st, std::make_unique<ShutdownConn>(a.n[1], h))) {
            std::printf("connection %u: shutdown %s: %s\n", a.n[1], how.c_str(), c->state.c_str());
        }
    });
    st.add("close <id:u32>", "close(2): FIN after the queued data",
           [&st](const Args& a) { do_close(st, a.n[1], -1); });
    st.add("close <id:u32> linger <ms:u32>", "close with SO_LINGER (rounded up to seconds; 0 = RST)",
           [&st](const Args& a) { do_close(st, a.n[1], a.n[3]); });
    st.add("abort <id:u32>", "abort: RST and forget", [&st](const Args& a) {
        if (conn_call(st, std::make_unique<AbortConn>(a.n[1]))) std::printf("connection %u: aborted\n", a.n[1]);
    });
}

}  // namespace

void add_conn_commands(PromptState& st) {
    add_open_commands(st);
    st.add("wait <id:u32> <state>", "wait (5 s) until the connection is in STATE (or closed)",
           [&st](const Args& a) { wait_state(st, a.n[1], a.s[2], 5000); });
    st.add("wait <id:u32> <state> timeout <ms:u32>", "the same with a timeout",
           [&st](const Args& a) { wait_state(st, a.n[1], a.s[2], a.n[4]); });
    st.add("expect conn <id:u32> <state>", "fail unless the connection is in STATE now",
           [&st](const Args& a) { expect_conn(st, a.n[2], a.s[3]); });
    st.add("expect seen <id:u32> <state>", "fail unless the CLI has seen the connection in STATE",
           [&st](const Args& a) { expect_seen(st, a.n[2], a.s[3]); });
    st.add("expect rxbytes <id:u32> ==#!=#<#<=#>#>= <value:u32>",
           "compare the bytes received so far on a CLI connection (waits 2 s for them to hold)",
           [&st](const Args& a) { expect_rxbytes(st, a.n[2], a.s[3], a.n[4]); });
    st.add("expect recv <id:u32> <\"text\"...>", "fail unless the connection received TEXT (waits 2 s)",
           [&st](const Args& a) { expect_recv(st, a.n[2], a.rest); });
    st.add("seed-client", "the seed's exchange with [services] seed_target: connect, one line, close",
           [&st](const Args&) { seed_client(st, ""); });
    st.add("seed-client <raddr:rport>", "the same against another peer",
           [&st](const Args& a) { seed_client(st, a.s[1]); });
}

}  // namespace tcpfp::app::cli
