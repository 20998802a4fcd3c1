#include "dpdk_app/cli/gen_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "dpdk_app/cli/gen.hpp"

namespace tcpfp::app::cli {

namespace {

using Clock = std::chrono::steady_clock;

// What the prompt remembers of the current (or last) run.
struct Run {
    bool started = false;
    GenMode mode = GenMode::rr;
    wire::Ipv4Addr raddr;
    std::uint16_t rport = 0;
    std::uint32_t conns = 0;
    std::uint32_t size = 0;
    double duration_s = 0;   // 0: none
    std::uint64_t count = 0;  // 0: none
    bool verify = false;
    std::uint32_t locals = 0;
    Clock::time_point started_at;
    std::uint64_t retrans_base[kMaxWorkers] = {};
};

// The per-worker blocks the workers publish into; they outlive every run.
GenPublished g_published[kMaxWorkers];
GenHost g_host;
Run g_run;
std::uint64_t g_runs = 0;

// The once-per-second line runs on a thread of its own so the prompt stays usable.
std::thread g_reporter;
std::atomic<bool> g_reporter_stop{false};

void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_host.fail(buf);
}

unsigned workers() { return g_host.shared->workers; }
bool signalled() { return g_host.stop->load() > 0; }

std::unique_ptr<Request> request(Op op) {
    auto r = std::make_unique<Request>();
    r->op = op;
    return r;
}

// --- published counters (the per-second line, wait gen) -------------------------

struct Sums {
    std::uint64_t opened = 0, failed = 0, requests = 0, sent = 0, received = 0, errors = 0,
                  active = 0, retrans = 0;
    unsigned running = 0, finished = 0;
};

Sums sum_published() {
    Sums s;
    for (unsigned w = 0; w < workers(); ++w) {
        const auto& p = g_published[w];
        auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
        s.opened += get(p.conns_opened);
        s.failed += get(p.conns_failed);
        s.requests += get(p.requests);
        s.sent += get(p.bytes_sent);
        s.received += get(p.bytes_received);
        s.errors += get(p.errors);
        s.active += get(p.active);
        s.retrans += g_host.shared->stats[w].retrans_segs.load(std::memory_order_relaxed) -
                     g_run.retrans_base[w];
        const auto run = static_cast<GenRun>(p.run.load(std::memory_order_acquire));
        s.running += run == GenRun::running;
        s.finished += run == GenRun::finished;
    }
    return s;
}

bool any_running() { return sum_published().running > 0; }

void report_line(double t, const Sums& now, const Sums& before, double dt) {
    auto rate = [&](std::uint64_t a, std::uint64_t b) { return static_cast<double>(a - b) / dt; };
    const double bytes = std::max(rate(now.sent, before.sent), rate(now.received, before.received));
    std::printf("gen: t=%.0fs conn/s=%.0f req/s=%.0f Gbit/s=%.2f retrans=%" PRIu64 " active=%" PRIu64
                " errors=%" PRIu64 "\n",
                t, rate(now.opened, before.opened), rate(now.requests, before.requests),
                bytes * 8 / 1e9, now.retrans, now.active, now.errors);
    std::fflush(stdout);
}

// Like testpmd's --stats-period: one line a second while the generator runs.
void reporter() {
    Sums before = sum_published();
    auto last = Clock::now();
    while (!g_reporter_stop.load() && !signalled()) {
        const auto next = last + std::chrono::seconds(1);
        while (Clock::now() < next && !g_reporter_stop.load() && !signalled()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (g_reporter_stop.load() || signalled()) return;
        const Sums now = sum_published();
        if (now.running == 0) return;  // finished: `show gen` has the figures
        const auto at = Clock::now();
        const double dt = std::chrono::duration<double>(at - last).count();
        report_line(std::chrono::duration<double>(at - g_run.started_at).count(), now, before, dt);
        before = now;
        last = at;
    }
}

void stop_reporter() {
    g_reporter_stop.store(true);
    if (g_reporter.joinable()) g_reporter.join();
    g_reporter_stop.store(false);
}

// --- final figures (show gen, expect gen, wait gen) ------------------------------

struct Summary {
    GenRun run = GenRun::idle;
    GenCounters c;
    std::uint64_t active = 0, elapsed_us = 0, retrans = 0, time_wait_local = 0;
    std::uint64_t max_gap_us = 0, stalls = 0, cpu_us = 0;
    LatencyHistogram latency;
};

bool collect(Summary& s) {
    unsigned running = 0, finished = 0;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = request(Op::gen_report);
        if (!g_host.call(w, r)) return false;
        const GenReport& g = r->gen_report;
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

// One named figure: the number (for expect) and its JSON text.
struct Field {
    std::string name;
    double value;
    std::string text;
};

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

std::vector<Field> fields(const Summary& s) {
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
        u("conns", g_run.conns),
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

const char* run_name(GenRun r) {
    return r == GenRun::running ? "running" : r == GenRun::finished ? "finished" : "idle";
}

std::string describe_run() {
    std::string d = std::string(to_string(g_run.mode)) + " " + g_run.raddr.to_string() + ":" +
                    std::to_string(g_run.rport) + " conns " + std::to_string(g_run.conns);
    if (g_run.mode != GenMode::hold) d += " size " + std::to_string(g_run.size);
    if (g_run.duration_s > 0) d += " duration " + fmt("%g", g_run.duration_s) + " s";
    if (g_run.count > 0) d += " count " + std::to_string(g_run.count);
    if (g_run.verify) d += " verify";
    return d;
}

void print_json(const Summary& s) {
    const auto f = fields(s);
    std::string o = "{\"mode\":\"" + std::string(to_string(g_run.mode)) + "\"";
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

void print_text(const Summary& s) {
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

bool need_run(const char* what) {
    if (g_run.started) return true;
    fail("%s: no generator has run (start gen ...)", what);
    return false;
}

// --- start gen ----------------------------------------------------------------------


std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

bool parse_number(const std::string& s, double& v) {
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return !s.empty() && *end == '\0' && std::isfinite(v) && v >= 0;
}

// The options after "conns N": size B, duration S, count C, verify.
bool parse_options(const std::string& rest, Run& run) {
    const auto w = words(rest);
    for (std::size_t i = 0; i < w.size(); ++i) {
        double v = 0;
        const bool has_value = i + 1 < w.size() && parse_number(w[i + 1], v);
        if (w[i] == "verify") {
            run.verify = true;
        } else if (w[i] == "size" && has_value && v >= 1 && v <= 65536 && v == std::floor(v)) {
            run.size = static_cast<std::uint32_t>(v);
            ++i;
        } else if (w[i] == "duration" && has_value && v > 0 && v <= 1e6) {
            run.duration_s = v;
            ++i;
        } else if (w[i] == "count" && has_value && v >= 1 && v == std::floor(v) && v < 1e15) {
            run.count = static_cast<std::uint64_t>(v);
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
    if (run.duration_s > 0 && run.count > 0) {
        fail("bad argument: duration and count exclude each other");
        return false;
    }
    return true;
}

bool check_run(const Run& run) {
    const bool http = run.rport == 80 && (run.mode == GenMode::crr || run.mode == GenMode::rr);
    if (run.verify && (http || run.mode == GenMode::hold)) {
        fail("bad argument: verify checks echoed bytes: crr, rr or bulk against an echo service");
        return false;
    }
    if (run.mode == GenMode::hold && run.count > 0) {
        fail("bad argument: hold takes a duration, not a count");
        return false;
    }
    const std::uint64_t room = std::uint64_t{g_host.cfg->engine.max_connections} * workers();
    if (run.conns == 0 || run.conns > room) {
        fail("bad argument: conns must be 1..%" PRIu64 " ([engine] max_connections per worker)", room);
        return false;
    }
    return true;
}

// The local addresses on the peer's subnet (all of them when none is).
std::uint32_t pick_locals(wire::Ipv4Addr raddr, GenSpec& spec) {
    std::uint32_t n = 0;
    for (const auto& a : g_host.cfg->port.addresses) {
        if (a.same_subnet(raddr) && n < spec.locals.size()) spec.locals[n++] = a.addr;
    }
    if (n == 0) {
        for (const auto& a : g_host.cfg->port.addresses) {
            if (n < spec.locals.size()) spec.locals[n++] = a.addr;
        }
    }
    spec.local_count = n;
    return n;
}


GenSpec spec_for(const Run& run, unsigned w) {
    GenSpec spec;
    spec.mode = run.mode;
    spec.remote_ip = run.raddr;
    spec.remote_port = run.rport;
    const unsigned n = workers();
    spec.conns = run.conns / n + (w < run.conns % n ? 1 : 0);
    spec.size = run.size;
    spec.duration_us = static_cast<std::uint64_t>(run.duration_s * 1e6);
    if (run.count > 0 && spec.conns > 0) {
        // Shares in proportion to the connections, at least one each.
        spec.count = std::max<std::uint64_t>(1, run.count * spec.conns / run.conns);
    }
    spec.verify = run.verify;
    spec.http = run.rport == 80 && (run.mode == GenMode::crr || run.mode == GenMode::rr);
    spec.seed = 0x67656e00ull + g_runs;  // "gen": deterministic per run
    spec.publish = &g_published[w];
    return spec;
}

void start_gen(const GenArgs& a, bool with_options) {
    Run run;
    run.mode = a.s[2] == "crr" ? GenMode::crr : a.s[2] == "rr" ? GenMode::rr
             : a.s[2] == "bulk" ? GenMode::bulk : GenMode::hold;
    if (!parse_endpoint(a.s[3], run.raddr, run.rport)) {
        return fail("bad argument: '%s' is not ADDR:PORT", a.s[3].c_str());
    }
    run.conns = a.n[5];
    run.size = run.mode == GenMode::bulk ? 16384 : 64;
    if (with_options && !parse_options(a.rest, run)) return;
    if (!check_run(run)) return;
    if (any_running()) return fail("start gen: a generator is running (stop gen first)");
    if (!resolve_next_hop(g_host, run.raddr, "start gen")) return;
    stop_reporter();
    ++g_runs;
    GenSpec probe;
    run.locals = pick_locals(run.raddr, probe);
    for (unsigned w = 0; w < workers(); ++w) {
        run.retrans_base[w] = g_host.shared->stats[w].retrans_segs.load(std::memory_order_relaxed);
    }
    run.started = true;
    run.started_at = Clock::now();
    g_run = run;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = request(Op::gen_start);
        r->gen = spec_for(run, w);
        r->gen.locals = probe.locals;
        r->gen.local_count = probe.local_count;
        if (!g_host.call(w, r)) return;
        if (r->rc != 0) return fail("start gen: worker %u: %s", w, r->out.c_str());
    }
    std::printf("gen: started %s on %u worker(s), from %u local address(es)\n",
                describe_run().c_str(), workers(), run.locals);
    g_reporter = std::thread(reporter);
}

void stop_gen() {
    if (!need_run("stop gen")) return;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = request(Op::gen_stop);
        if (!g_host.call(w, r)) return;
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

// --- wait gen -------------------------------------------------------------------------

// Finished, or for hold without a duration: every connection ESTABLISHED.
bool reached_goal(const Sums& s) {
    if (s.running == 0) return true;
    return g_run.mode == GenMode::hold && g_run.duration_s == 0 && s.active >= g_run.conns;
}

void wait_gen(std::uint64_t timeout_ms, bool given) {
    if (!need_run("wait gen")) return;
    const bool open_ended = g_run.duration_s == 0 && g_run.count == 0 && g_run.mode != GenMode::hold;
    if (open_ended && any_running()) {
        return fail("wait gen: this generator has no duration or count: it runs until 'stop gen'");
    }
    // Default: the rest of the duration and 30 s more (count or hold: 120 s).
    if (!given) {
        timeout_ms = 120000;
        if (g_run.duration_s > 0) {
            const double left = g_run.duration_s -
                                std::chrono::duration<double>(Clock::now() - g_run.started_at).count();
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
                        timeout_ms, s.requests, s.active, g_run.conns, s.failed,
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

// --- expect gen ---------------------------------------------------------------------

bool compare(double a, const std::string& op, double b, bool& ok) {
    if (op == "==") ok = a == b;
    else if (op == "!=") ok = a != b;
    else if (op == "<") ok = a < b;
    else if (op == "<=") ok = a <= b;
    else if (op == ">") ok = a > b;
    else if (op == ">=") ok = a >= b;
    else return false;
    return true;
}

void expect_gen(const std::string& field, const std::string& op, const std::string& value) {
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

void show_gen(bool json) {
    if (!need_run("show gen")) return;
    Summary s;
    if (!collect(s)) return;
    if (json) return print_json(s);
    print_text(s);
}

}  // namespace

bool parse_endpoint(const std::string& s, wire::Ipv4Addr& a, std::uint16_t& port) {
    const auto colon = s.find(':');
    if (colon == std::string::npos) return false;
    const auto ip = wire::Ipv4Addr::parse(s.substr(0, colon));
    const std::string p = s.substr(colon + 1);
    char* end = nullptr;
    const unsigned long v = std::strtoul(p.c_str(), &end, 10);
    if (!ip || ip->is_unspecified() || p.empty() || *end != '\0' || v == 0 || v > 65535) return false;
    a = *ip;
    port = static_cast<std::uint16_t>(v);
    return true;
}

bool resolve_next_hop(const GenHost& host, wire::Ipv4Addr raddr, const char* command) {
    using Clock = std::chrono::steady_clock;
    const auto end = Clock::now() + std::chrono::seconds(3);
    for (;;) {
        bool all = true;
        for (unsigned w = 0; w < host.shared->workers; ++w) {
            auto r = std::make_unique<Request>();
            r->op = Op::arp_probe;
            r->tuple.remote_ip = raddr;
            if (!host.call(w, r)) return false;
            all = all && r->num == 1;
        }
        if (all) return true;
        if (Clock::now() > end || host.stop->load() > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    host.fail(std::string(command) + ": " + raddr.to_string() + " did not resolve (ARP) within 3 s");
    return false;
}

void add_gen_commands(const GenHost& host, const GenAdd& add) {
    g_host = host;
    add("start gen crr#rr#bulk#hold <raddr:rport> conns <n:u32>",
        "traffic generator; runs until stop gen (hold: keeps N connections open)",
        [](const GenArgs& a) { start_gen(a, false); });
    add("start gen crr#rr#bulk#hold <raddr:rport> conns <n:u32> <options...>",
        "options: size <B> duration <s>|count <C> verify (rport 80: HTTP GET)",
        [](const GenArgs& a) { start_gen(a, true); });
    add("stop gen", "stop the generator, close its connections, print its figures",
        [](const GenArgs&) { stop_gen(); });
    add("wait gen", "wait until the generator finishes (hold: all ESTABLISHED); fails on errors",
        [](const GenArgs&) { wait_gen(0, false); });
    add("wait gen timeout <ms:u32>", "the same with a timeout",
        [](const GenArgs& a) { wait_gen(a.n[3], true); });
    add("show gen", "the generator's figures: rates, latency p50/p99, failures, TIME_WAIT",
        [](const GenArgs&) { show_gen(false); });
    add("show gen json", "the same as one line of JSON", [](const GenArgs&) { show_gen(true); });
    add("expect gen <field> ==#!=#<#<=#>#>= <value>",
        "compare a show gen json field (requests, errors, conns_failed, req_per_s, ...)",
        [](const GenArgs& a) { expect_gen(a.s[2], a.s[3], a.s[4]); });
}

void gen_shutdown() {
    if (g_run.started && g_host.shared != nullptr && any_running()) {
        for (unsigned w = 0; w < workers(); ++w) {
            auto r = request(Op::gen_stop);
            (void)g_host.call(w, r);
        }
    }
    stop_reporter();
}

}  // namespace tcpfp::app::cli
