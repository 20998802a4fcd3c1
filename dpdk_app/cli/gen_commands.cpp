#include "dpdk_app/cli/gen_commands.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace tcpfp::app::cli {

namespace {

using Clock = GenState::Clock;
using Sums = GenState::Sums;
using Summary = GenState::Summary;
using Field = GenState::Field;
using Run = GenState::Run;

void report_line(double t, const Sums& now, const Sums& before, double dt) {
    auto rate = [&](std::uint64_t a, std::uint64_t b) { return static_cast<double>(a - b) / dt; };
    const double bytes = std::max(rate(now.sent, before.sent), rate(now.received, before.received));
    std::printf("gen: t=%.0fs conn/s=%.0f req/s=%.0f Gbit/s=%.2f retrans=%" PRIu64 " active=%" PRIu64
                " errors=%" PRIu64 "\n",
                t, rate(now.opened, before.opened), rate(now.requests, before.requests),
                bytes * 8 / 1e9, now.retrans, now.active, now.errors);
    std::fflush(stdout);
}

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

const char* run_name(GenRun r) {
    return r == GenRun::running ? "running" : r == GenRun::finished ? "finished" : "idle";
}

bool parse_number(const std::string& s, double& v) {
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return !s.empty() && *end == '\0' && std::isfinite(v) && v >= 0;
}

}  // namespace

void GenState::fail(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    st.fail(buf);
}

GenState::Sums GenState::sum_published() {
    Sums s;
    for (unsigned w = 0; w < workers(); ++w) {
        const auto& p = published[w];
        auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
        s.opened += get(p.conns_opened);
        s.failed += get(p.conns_failed);
        s.requests += get(p.requests);
        s.sent += get(p.bytes_sent);
        s.received += get(p.bytes_received);
        s.errors += get(p.errors);
        s.active += get(p.active);
        s.retrans += st.shared.stats[w].retrans_segs.load(std::memory_order_relaxed) -
                     run.retrans_base[w];
        const auto state = static_cast<GenRun>(p.run.load(std::memory_order_acquire));
        s.running += state == GenRun::running;
        s.finished += state == GenRun::finished;
    }
    return s;
}

// Like testpmd's --stats-period: one line a second while the generator runs.
void GenState::reporter() {
    Sums before = sum_published();
    auto last = Clock::now();
    while (!reporter_stop.load() && !signalled()) {
        const auto next = last + std::chrono::seconds(1);
        while (Clock::now() < next && !reporter_stop.load() && !signalled()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (reporter_stop.load() || signalled()) return;
        const Sums now = sum_published();
        if (now.running == 0) return;  // finished: `show gen` has the figures
        const auto at = Clock::now();
        const double dt = std::chrono::duration<double>(at - last).count();
        report_line(std::chrono::duration<double>(at - run.started_at).count(), now, before, dt);
        before = now;
        last = at;
    }
}

void GenState::stop_reporter() {
    reporter_stop.store(true);
    if (reporter_thread.joinable()) reporter_thread.join();
    reporter_stop.store(false);
}

bool GenState::collect(Summary& s) {
    unsigned running = 0, finished = 0;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = std::make_unique<GenRead>();
        if (!st.call(w, r)) return false;
        const GenReport& g = r->report;
        running += g.run == GenRun::running;
        finished += g.run == GenRun::finished;
        s.c.conns_opened += g.c.conns_opened;
        s.c.conns_failed += g.c.conns_failed;
        s.c.requests += g.c.requests;
        s.c.bytes_sent += g.c.bytes_sent;
        s.c.bytes_received += g.c.bytes_received;
        s.c.errors += g.c.errors;
        for (std::size_t i = 0; i < kGenFailCount; ++i) s.c.fails[i] += g.c.fails[i];
        for (std::size_t i = 0; i < kGenErrorCount; ++i) s.c.error_kinds[i] += g.c.error_kinds[i];
        s.active += g.active;
        s.elapsed_us = std::max(s.elapsed_us, g.elapsed_us);
        s.retrans += g.retrans;
        s.time_wait_local += g.time_wait_local;
        s.max_gap_us = std::max(s.max_gap_us, g.max_gap_us);
        s.stalls += g.stalls;
        s.cpu_us += g.cpu_us;
        s.latency.merge(g.latency);
    }
    s.run = running ? GenRun::running : finished ? GenRun::finished : GenRun::idle;
    return true;
}

std::vector<GenState::Field> GenState::fields(const Summary& s) const {
    const double secs = static_cast<double>(s.elapsed_us) / 1e6;
    auto per_s = [&](std::uint64_t v) { return secs > 0 ? static_cast<double>(v) / secs : 0.0; };
    auto u = [](const char* n, std::uint64_t v) {
        return Field{n, static_cast<double>(v), std::to_string(v)};
    };
    const double bytes = std::max(per_s(s.c.bytes_sent), per_s(s.c.bytes_received));
    std::vector<Field> f = {
        {"elapsed_s", secs, fmt("%.3f", secs)},
        u("conns_opened", s.c.conns_opened),
        u("conns_failed", s.c.conns_failed),
        u("requests", s.c.requests),
        u("bytes_sent", s.c.bytes_sent),
        u("bytes_received", s.c.bytes_received),
        {"conn_per_s", per_s(s.c.conns_opened), fmt("%.1f", per_s(s.c.conns_opened))},
        {"req_per_s", per_s(s.c.requests), fmt("%.1f", per_s(s.c.requests))},
        {"gbit_per_s", bytes * 8 / 1e9, fmt("%.4f", bytes * 8 / 1e9)},
        u("retrans", s.retrans),
        u("errors", s.c.errors),
        u("active", s.active),
        u("p50_us", s.latency.percentile(0.50)),
        u("p99_us", s.latency.percentile(0.99)),
        u("time_wait_local", s.time_wait_local),
        u("conns", run.conns),
        u("p90_us", s.latency.percentile(0.90)),
        u("p999_us", s.latency.percentile(0.999)),
        u("max_gap_us", s.max_gap_us),
        u("stalls", s.stalls),
        {"worker_cpu_s", static_cast<double>(s.cpu_us) / 1e6, fmt("%.3f", static_cast<double>(s.cpu_us) / 1e6)},
    };
    for (std::size_t i = 0; i < kGenFailCount; ++i) {
        f.push_back(u(("failed." + std::string(name(static_cast<GenFail>(i)))).c_str(), s.c.fails[i]));
    }
    for (std::size_t i = 0; i < kGenErrorCount; ++i) {
        f.push_back(u(("error." + std::string(name(static_cast<GenError>(i)))).c_str(), s.c.error_kinds[i]));
    }
    return f;
}

std::string GenState::describe_run() const {
    std::string d = std::string(to_string(run.mode)) + " " + run.raddr.to_string() + ":" +
                    std::to_string(run.rport) + " conns " + std::to_string(run.conns);
    if (run.mode != GenMode::hold) d += " size " + std::to_string(run.size);
    if (run.duration_s > 0) d += " duration " + fmt("%g", run.duration_s) + " s";
    if (run.count > 0) d += " count " + std::to_string(run.count);
    if (run.verify) d += " verify";
    return d;
}

void GenState::print_json(const Summary& s) const {
    const auto f = fields(s);
    std::string o = "{\"mode\":\"" + std::string(to_string(run.mode)) + "\"";
    std::string failed, errs;
    for (const auto& x : f) {
        if (x.name.rfind("failed.", 0) == 0) {
            failed += (failed.empty() ? "\"" : ",\"") + x.name.substr(7) + "\":" + x.text;
        } else if (x.name.rfind("error.", 0) == 0) {
            errs += (errs.empty() ? "\"" : ",\"") + x.name.substr(6) + "\":" + x.text;
        } else {
            o += ",\"" + x.name + "\":" + x.text;
        }
    }
    o += ",\"state\":\"" + std::string(run_name(s.run)) + "\",\"failed_by\":{" + failed +
         "},\"errors_by\":{" + errs + "}}";
    std::printf("%s\n", o.c_str());
}

void GenState::print_text(const Summary& s) const {
    const auto f = fields(s);
    auto v = [&](const char* n) {
        for (const auto& x : f) {
            if (x.name == n) return x.text;
        }
        return std::string("?");
    };
    std::printf("gen %s: %s after %s s\n", describe_run().c_str(), run_name(s.run), v("elapsed_s").c_str());
    std::printf("  connections: opened %s (%s/s), failed %s, active %s\n", v("conns_opened").c_str(),
                v("conn_per_s").c_str(), v("conns_failed").c_str(), v("active").c_str());
    std::printf("  requests:    %s (%s/s), latency p50 %s us, p99 %s us\n", v("requests").c_str(),
                v("req_per_s").c_str(), v("p50_us").c_str(), v("p99_us").c_str());
    std::printf("  bytes:       sent %s, received %s (%s Gbit/s in the busier direction)\n",
                v("bytes_sent").c_str(), v("bytes_received").c_str(), v("gbit_per_s").c_str());
    std::printf("  latency:     p90 %s us, p99.9 %s us\n", v("p90_us").c_str(), v("p999_us").c_str());
    std::printf("  retransmits %s, errors %s, TIME_WAIT records here %s\n", v("retrans").c_str(),
                v("errors").c_str(), v("time_wait_local").c_str());
    std::printf("  worker loop: longest gap %s us, %s gap(s) over 1 ms, CPU %s s of %s s per worker"
                " (less: descheduled, CPU contention)\n",
                v("max_gap_us").c_str(), v("stalls").c_str(),
                fmt("%.3f", static_cast<double>(s.cpu_us) / 1e6 / workers()).c_str(), v("elapsed_s").c_str());
    for (std::size_t i = 0; i < kGenFailCount; ++i) {
        if (s.c.fails[i]) {
            std::printf("  failed: %-16s %" PRIu64 "\n", name(static_cast<GenFail>(i)), s.c.fails[i]);
        }
    }
    for (std::size_t i = 0; i < kGenErrorCount; ++i) {
        if (s.c.error_kinds[i]) {
            std::printf("  error:  %-16s %" PRIu64 "\n", name(static_cast<GenError>(i)), s.c.error_kinds[i]);
        }
    }
}

bool GenState::need_run(const char* what) {
    if (run.started) return true;
    fail("%s: no generator has run (start gen ...)", what);
    return false;
}

// The options after "conns N": size B, duration S, count C, verify.
bool GenState::parse_options(const std::string& rest, Run& r) {
    const auto w = words(rest);
    for (std::size_t i = 0; i < w.size(); ++i) {
        double v = 0;
        const bool has_value = i + 1 < w.size() && parse_number(w[i + 1], v);
        if (w[i] == "verify") {
            r.verify = true;
        } else if (w[i] == "size" && has_value && v >= 1 && v <= 65536 && v == std::floor(v)) {
            r.size = static_cast<std::uint32_t>(v);
            ++i;
        } else if (w[i] == "duration" && has_value && v > 0 && v <= 1e6) {
            r.duration_s = v;
            ++i;
        } else if (w[i] == "count" && has_value && v >= 1 && v == std::floor(v) && v < 1e15) {
            r.count = static_cast<std::uint64_t>(v);
            ++i;
        } else if (w[i] == "size" || w[i] == "duration" || w[i] == "count") {
            fail("bad argument: %s %s (size: 1..65536 bytes, duration: seconds > 0, count: >= 1)",
                 w[i].c_str(), i + 1 < w.size() ? w[i + 1].c_str() : "needs a value");
            return false;
        } else {
            fail("bad argument: '%s' (options: size <1..65536> duration <s> count <C> verify)",
                 w[i].c_str());
            return false;
        }
    }
    if (r.duration_s > 0 && r.count > 0) {
        fail("bad argument: duration and count exclude each other");
        return false;
    }
    return true;
}

bool GenState::check_run(const Run& r) {
    const bool http = r.rport == 80 && (r.mode == GenMode::crr || r.mode == GenMode::rr);
    if (r.verify && (http || r.mode == GenMode::hold)) {
        fail("bad argument: verify checks echoed bytes: crr, rr or bulk against an echo service");
        return false;
    }
    if (r.mode == GenMode::hold && r.count > 0) {
        fail("bad argument: hold takes a duration, not a count");
        return false;
    }
    const std::uint64_t room = std::uint64_t{st.cfg.engine.max_connections} * workers();
    if (r.conns == 0 || r.conns > room) {
        fail("bad argument: conns must be 1..%" PRIu64 " ([engine] max_connections per worker)", room);
        return false;
    }
    return true;
}

// The local addresses on the peer's subnet (all of them when none is).
std::uint32_t GenState::pick_locals(wire::Ipv4Addr raddr, GenSpec& spec) const {
    std::uint32_t n = 0;
    for (const auto& a : st.cfg.port.addresses) {
        if (a.same_subnet(raddr) && n < spec.locals.size()) spec.locals[n++] = a.addr;
    }
    if (n == 0) {
        for (const auto& a : st.cfg.port.addresses) {
            if (n < spec.locals.size()) spec.locals[n++] = a.addr;
        }
    }
    spec.local_count = n;
    return n;
}

GenSpec GenState::spec_for(const Run& r, unsigned w) {
    GenSpec spec;
    spec.mode = r.mode;
    spec.remote_ip = r.raddr;
    spec.remote_port = r.rport;
    const unsigned n = workers();
    spec.conns = r.conns / n + (w < r.conns % n ? 1 : 0);
    spec.size = r.size;
    spec.duration_us = static_cast<std::uint64_t>(r.duration_s * 1e6);
    if (r.count > 0 && spec.conns > 0) {
        // Shares in proportion to the connections, at least one each.
        spec.count = std::max<std::uint64_t>(1, r.count * spec.conns / r.conns);
    }
    spec.verify = r.verify;
    spec.http = r.rport == 80 && (r.mode == GenMode::crr || r.mode == GenMode::rr);
    spec.seed = 0x67656e00ull + runs;  // "gen": deterministic per run
    spec.publish = &published[w];
    return spec;
}

void GenState::start_gen(const Args& a, bool with_options) {
    Run next;
    next.mode = a.s[2] == "crr" ? GenMode::crr : a.s[2] == "rr" ? GenMode::rr
             : a.s[2] == "bulk" ? GenMode::bulk : GenMode::hold;
    if (!parse_target(a.s[3], next.raddr, next.rport)) {
        return fail("bad argument: '%s' is not ADDR:PORT", a.s[3].c_str());
    }
    next.conns = a.n[5];
    next.size = next.mode == GenMode::bulk ? 16384 : 64;
    if (with_options && !parse_options(a.rest, next)) return;
    if (!check_run(next)) return;
    if (any_running()) return fail("start gen: a generator is running (stop gen first)");
    if (!resolve_next_hop(st, next.raddr, "start gen")) return;
    stop_reporter();
    ++runs;
    GenSpec probe;
    next.locals = pick_locals(next.raddr, probe);
    for (unsigned w = 0; w < workers(); ++w) {
        next.retrans_base[w] = st.shared.stats[w].retrans_segs.load(std::memory_order_relaxed);
    }
    next.started = true;
    next.started_at = Clock::now();
    run = next;
    for (unsigned w = 0; w < workers(); ++w) {
        GenSpec spec = spec_for(next, w);
        spec.locals = probe.locals;
        spec.local_count = probe.local_count;
        auto r = std::make_unique<GenStart>(spec);
        if (!st.call(w, r)) return;
        if (r->rc != 0) return fail("start gen: worker %u: %s", w, r->out.c_str());
    }
    std::printf("gen: started %s on %u worker(s), from %u local address(es)\n",
                describe_run().c_str(), workers(), next.locals);
    reporter_thread = std::thread([this] { reporter(); });
}

void GenState::stop_gen() {
    if (!need_run("stop gen")) return;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = std::make_unique<GenStop>();
        if (!st.call(w, r)) return;
    }
    stop_reporter();
    // The workers close in batches per loop iteration: wait for the last.
    const auto end = Clock::now() + std::chrono::seconds(5);
    while (sum_published().active > 0 && Clock::now() < end && !signalled()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    Summary s;
    if (!collect(s)) return;
    print_text(s);
}

// Finished, or for hold without a duration: every connection ESTABLISHED.
bool GenState::reached_goal(const Sums& s) const {
    if (s.running == 0) return true;
    return run.mode == GenMode::hold && run.duration_s == 0 && s.active >= run.conns;
}

void GenState::wait_gen(std::uint64_t timeout_ms, bool given) {
    if (!need_run("wait gen")) return;
    const bool open_ended = run.duration_s == 0 && run.count == 0 && run.mode != GenMode::hold;
    if (open_ended && any_running()) {
        return fail("wait gen: this generator has no duration or count: it runs until 'stop gen'");
    }
    // Default: the rest of the duration and 30 s more (count or hold: 120 s).
    if (!given) {
        timeout_ms = 120000;
        if (run.duration_s > 0) {
            const double left = run.duration_s -
                                std::chrono::duration<double>(Clock::now() - run.started_at).count();
            timeout_ms = static_cast<std::uint64_t>(std::max(0.0, left) * 1000) + 30000;
        }
    }
    const auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    Sums s = sum_published();
    while (!reached_goal(s)) {
        if (Clock::now() >= end || signalled()) {
            std::string why;
            Summary sum;
            if (collect(sum)) {
                s.requests = sum.c.requests;
                s.active = sum.active;
                s.failed = sum.c.conns_failed;
                s.errors = sum.c.errors;
                for (std::size_t i = 0; i < kGenFailCount; ++i) {
                    if (sum.c.fails[i] == 0) continue;
                    why += ' ';
                    why += name(static_cast<GenFail>(i));
                    why += '=';
                    why += std::to_string(sum.c.fails[i]);
                }
            }
            return fail("wait gen: not finished within %" PRIu64 " ms (requests %" PRIu64
                        ", active %" PRIu64 " of %u, failed %" PRIu64 "%s%s, errors %" PRIu64 ")",
                        timeout_ms, s.requests, s.active, run.conns, s.failed,
                        why.empty() ? "" : ":", why.c_str(), s.errors);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        s = sum_published();
    }
    if (s.running == 0) stop_reporter();
    Summary sum;
    if (!collect(sum)) return;
    print_text(sum);
    if (sum.c.errors > 0) {
        std::string kinds;
        for (std::size_t i = 0; i < kGenErrorCount; ++i) {
            if (sum.c.error_kinds[i]) {
                kinds += ' ';
                kinds += name(static_cast<GenError>(i));
                kinds += '=';
                kinds += std::to_string(sum.c.error_kinds[i]);
            }
        }
        fail("wait gen: the generator saw %" PRIu64 " error(s):%s", sum.c.errors, kinds.c_str());
    }
}

void GenState::expect_gen(const std::string& field, const std::string& op, const std::string& value) {
    if (!need_run("expect gen")) return;
    double want = 0;
    if (!parse_number(value, want)) return fail("bad argument: '%s' is not a number", value.c_str());
    Summary s;
    if (!collect(s)) return;
    const auto f = fields(s);
    const auto it = std::find_if(f.begin(), f.end(), [&](const Field& x) { return x.name == field; });
    if (it == f.end()) {
        std::string names;
        for (const auto& x : f) {
            if (x.name.find('.') == std::string::npos) names += " " + x.name;
        }
        return fail("bad argument: unknown field '%s' (fields:%s, failed.<reason>, error.<kind>)",
                    field.c_str(), names.c_str());
    }
    bool ok = false;
    if (!compare(it->value, op, want, ok)) return fail("bad argument: operator '%s'", op.c_str());
    if (!ok) {
        return fail("expect gen: expected %s %s %s, found %s", field.c_str(), op.c_str(),
                    value.c_str(), it->text.c_str());
    }
    std::printf("ok: gen %s = %s (%s %s)\n", field.c_str(), it->text.c_str(), op.c_str(), value.c_str());
}

void GenState::show_gen(bool json) {
    if (!need_run("show gen")) return;
    Summary s;
    if (!collect(s)) return;
    if (json) return print_json(s);
    print_text(s);
}

void GenState::shutdown() {
    if (run.started && any_running()) {
        for (unsigned w = 0; w < workers(); ++w) {
            auto r = std::make_unique<GenStop>();
            (void)st.call(w, r);
        }
    }
    stop_reporter();
}

void add_gen_commands(PromptState& st) {
    st.gen = std::make_unique<GenState>(st);
    GenState& g = *st.gen;
    st.add("start gen crr#rr#bulk#hold <raddr:rport> conns <n:u32>",
           "traffic generator; runs until stop gen (hold: keeps N connections open)",
           [&g](const Args& a) { g.start_gen(a, false); });
    st.add("start gen crr#rr#bulk#hold <raddr:rport> conns <n:u32> <options...>",
           "options: size <B> duration <s>|count <C> verify (rport 80: HTTP GET)",
           [&g](const Args& a) { g.start_gen(a, true); });
    st.add("stop gen", "stop the generator, close its connections, print its figures",
           [&g](const Args&) { g.stop_gen(); });
    st.add("wait gen", "wait until the generator finishes (hold: all ESTABLISHED); fails on errors",
           [&g](const Args&) { g.wait_gen(0, false); });
    st.add("wait gen timeout <ms:u32>", "the same with a timeout",
           [&g](const Args& a) { g.wait_gen(a.n[3], true); });
    st.add("show gen", "the generator's figures: rates, latency p50/p99, failures, TIME_WAIT",
           [&g](const Args&) { g.show_gen(false); });
    st.add("show gen json", "the same as one line of JSON", [&g](const Args&) { g.show_gen(true); });
    st.add("expect gen <field> ==#!=#<#<=#>#>= <value>",
           "compare a show gen json field (requests, errors, conns_failed, req_per_s, ...)",
           [&g](const Args& a) { g.expect_gen(a.s[2], a.s[3], a.s[4]); });
}

void gen_shutdown(PromptState& st) {
    if (st.gen) st.gen->shutdown();
}

}  // namespace tcpfp::app::cli
