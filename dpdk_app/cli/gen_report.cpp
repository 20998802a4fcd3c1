// The load tester's reports: the once-per-second line per profile (from
// the seconds the workers publish), the summed figures of show/expect gen,
// and save gen's JSON and CSV files.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "dpdk_app/cli/gen_commands.hpp"

namespace tcpfp::app::cli {

namespace {

using Field = GenState::Field;
using Row = GenState::Row;
using Summary = GenState::Summary;

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

std::string label(const std::string& name) { return name.empty() ? "gen" : "gen " + name; }

// The rate's schedule, integrated: starts due by t seconds (a linear ramp
// from 0 to `rate` over `ramp` seconds, then flat), as the pacer keeps it.
double scheduled(double rate, double ramp, double t) {
    if (ramp <= 0) return rate * t;
    return t < ramp ? rate * t * t / (2 * ramp) : rate * (t - ramp / 2);
}

void print_row(const std::string& name, const Row& r) {
    // Second k is t=ks; one cut short by the run's end shows when: t=2.35s.
    const double t = r.final ? r.t : static_cast<double>(r.second);
    std::printf("%s: t=%.*fs target=%.0f/s conn/s=%.0f req/s=%.0f active=%" PRIu64 " tx=%.3f rx=%.3f Gbit/s"
                " retrans=%" PRIu64 " failed=%" PRIu64 " errors=%" PRIu64 " 4xx=%" PRIu64 " 5xx=%" PRIu64 " missed=%" PRIu64
                " p50=%" PRIu64 "us p99=%" PRIu64 "us\n",
                label(name).c_str(), r.final ? 2 : 0, t, r.target, r.conn_per_s, r.req_per_s, r.active, r.tx_gbps, r.rx_gbps,
                r.retrans, r.failed, r.errors, r.status4, r.status5, r.missed, r.p50, r.p99);
    std::fflush(stdout);
}

}  // namespace

// --- the per-second line --------------------------------------------------------------

void GenState::start_reporter() {
    if (reporter_thread.joinable()) return;
    reporter_stop.store(false);
    reporter_thread = std::thread([this] { reporter(); });
}

void GenState::stop_reporter() {
    reporter_stop.store(true);
    if (reporter_thread.joinable()) reporter_thread.join();
    reporter_stop.store(false);
}

// Like testpmd's --stats-period: a line per profile for each second its
// workers have finished, until every profile has ended.
void GenState::reporter() {
    while (!reporter_stop.load() && !signalled()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::lock_guard<std::mutex> lock(mu);
        for (auto& p : profiles) {
            if (!p.reporting) continue;
            while (report_second(p)) {
            }
        }
    }
}

// The next second of profile p, once every worker has published it (or
// has ended before it): summed, stored in the series, printed. False when
// not every worker is there yet, or the profile has ended.
bool GenState::report_second(Profile& p) {
    const unsigned n = workers();
    std::uint64_t k = UINT64_MAX;
    for (unsigned w = 0; w < n; ++w) {
        if (!p.follow[w].done) k = std::min(k, p.follow[w].next);
    }
    if (k == UINT64_MAX) return p.reporting = false;
    for (unsigned w = 0; w < n; ++w) {
        if (!p.follow[w].done && (*p.published)[w].seconds.load(std::memory_order_acquire) < k) return false;
    }
    Row row;
    HdrHistogram sum, h;
    double dt = 0;
    for (unsigned w = 0; w < n; ++w) {
        Follow& f = p.follow[w];
        GenSecond s;
        if (f.done || f.next != k) continue;
        if (!(*p.published)[w].get_second(k, s, h)) {
            f.next = k + 1;  // overwritten before it was read: the next delta spans both
            continue;
        }
        const GenSecond& b = f.last;
        dt = std::max(dt, static_cast<double>(s.at_us - b.at_us) / 1e6);
        row.t = std::max(row.t, static_cast<double>(s.at_us) / 1e6);
        row.conn_per_s += static_cast<double>(s.opened - b.opened);
        row.req_per_s += static_cast<double>(s.requests - b.requests);
        row.tx_gbps += static_cast<double>(s.sent - b.sent) * 8 / 1e9;
        row.rx_gbps += static_cast<double>(s.received - b.received) * 8 / 1e9;
        row.active += s.active;
        row.retrans += s.retrans - b.retrans;
        row.errors += s.errors - b.errors;
        row.failed += s.failed - b.failed;
        row.status4 += s.status4 - b.status4;
        row.status5 += s.status5 - b.status5;
        row.missed += s.missed - b.missed;
        row.closed += s.closed - b.closed;
        sum.merge(h);
        f.last = s;
        f.next = k + 1;
        f.done = s.final != 0;
        row.final |= f.done;
    }
    if (dt <= 0) return true;  // a worker that ended at once: nothing to say
    row.dt = dt;
    row.second = k;
    for (double* v : {&row.conn_per_s, &row.req_per_s, &row.tx_gbps, &row.rx_gbps}) *v /= dt;
    // The target is the schedule's average over this second (a ramp shows
    // its slope), from the profile's own rate and ramp.
    const double t0 = static_cast<double>(k - 1), t1 = row.final ? std::max(row.t, t0 + 1e-3) : static_cast<double>(k);
    row.target = (scheduled(p.run.rate, p.run.ramp_s, t1) - scheduled(p.run.rate, p.run.ramp_s, t0)) / (t1 - t0);
    row.p50 = sum.percentile(0.50);
    row.p99 = sum.percentile(0.99);
    row.samples = sum.count();
    p.series.push_back(row);
    print_row(p.name, row);
    return true;
}

// The seconds the reporter has not printed yet, before a summary.
void GenState::flush_reports(Profile& p) {
    std::lock_guard<std::mutex> lock(mu);
    while (p.reporting && report_second(p)) {
    }
}

// --- figures ------------------------------------------------------------------------------

bool GenState::collect(const Profile& p, Summary& s) {
    const auto index = static_cast<std::size_t>(&p - profiles.data());
    unsigned running = 0, draining = 0, finished = 0;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = std::make_unique<GenRead>(index);
        if (!st.call(w, r)) return false;
        const GenReport& g = *r->report;
        running += g.run == GenRun::running;
        draining += g.run == GenRun::draining;
        finished += g.run == GenRun::finished;
        auto add = [](auto& a, const auto& b) {
            for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
        };
        const GenCounters& c = g.c;
        for (auto [to, from] : {std::pair{&s.c.conns_opened, c.conns_opened}, {&s.c.conns_failed, c.conns_failed},
                                {&s.c.requests, c.requests}, {&s.c.bytes_sent, c.bytes_sent},
                                {&s.c.bytes_received, c.bytes_received}, {&s.c.errors, c.errors},
                                {&s.c.closed_fin, c.closed_fin}, {&s.c.closed_rst, c.closed_rst},
                                {&s.c.closed_by_server, c.closed_by_server}, {&s.c.drain_timeouts, c.drain_timeouts},
                                {&s.c.rate_missed, c.rate_missed}, {&s.c.drained, c.drained}}) {
            *to += from;
        }
        add(s.c.status, c.status);
        add(s.c.fails, c.fails);
        add(s.c.error_kinds, c.error_kinds);
        s.active += g.active;
        s.elapsed_us = std::max(s.elapsed_us, g.elapsed_us);
        s.retrans += g.retrans;
        s.time_wait_local += g.time_wait_local;
        s.max_gap_us = std::max(s.max_gap_us, g.max_gap_us);
        s.stalls += g.stalls;
        s.cpu_us += g.cpu_us;
        s.target_rate += g.target_rate;
        s.due += g.due;
        s.started += g.started;
        s.spread_max = std::max(s.spread_max, g.spread_max);
        s.spread_stddev = std::max(s.spread_stddev, g.spread_stddev);
        s.connect.merge(g.connect);
        s.first_byte.merge(g.first_byte);
        s.latency.merge(g.latency);
    }
    s.run = running ? GenRun::running : draining ? GenRun::draining : finished ? GenRun::finished : GenRun::idle;
    return true;
}

std::vector<Field> GenState::fields(const Profile& p, const Summary& s) const {
    const double secs = static_cast<double>(s.elapsed_us) / 1e6;
    auto per_s = [&](std::uint64_t v) { return secs > 0 ? static_cast<double>(v) / secs : 0.0; };
    auto u = [](const std::string& n, std::uint64_t v) { return Field{n, static_cast<double>(v), std::to_string(v)}; };
    auto d = [](const std::string& n, double v, const char* f) { return Field{n, v, fmt(f, v)}; };
    const double bytes = std::max(per_s(s.c.bytes_sent), per_s(s.c.bytes_received));
    const bool conn_rate = p.run.mode != GenMode::rr;
    std::vector<Field> f = {
        d("elapsed_s", secs, "%.3f"), u("conns_opened", s.c.conns_opened), u("conns_failed", s.c.conns_failed),
        u("requests", s.c.requests), u("bytes_sent", s.c.bytes_sent), u("bytes_received", s.c.bytes_received),
        d("conn_per_s", per_s(s.c.conns_opened), "%.1f"), d("req_per_s", per_s(s.c.requests), "%.1f"),
        d("gbit_per_s", bytes * 8 / 1e9, "%.4f"), u("retrans", s.retrans), u("errors", s.c.errors),
        u("active", s.active), u("time_wait_local", s.time_wait_local), u("conns", p.run.conns),
        u("max_gap_us", s.max_gap_us), u("stalls", s.stalls),
        d("worker_cpu_s", static_cast<double>(s.cpu_us) / 1e6, "%.3f"),
        d("target_rate", s.target_rate, "%.1f"),
        d("achieved_rate", s.target_rate > 0 ? per_s(conn_rate ? s.started : s.c.requests) : 0.0, "%.1f"),
        d("scheduled_rate", secs > 0 ? static_cast<double>(s.due) / secs : 0.0, "%.1f"),
        u("rate_due", s.due), u("rate_started", s.started), u("rate_missed", s.c.rate_missed),
        u("spread_max_per_ms", s.spread_max), d("spread_stddev_per_ms", s.spread_stddev, "%.3f"),
        u("closed_fin", s.c.closed_fin), u("closed_rst", s.c.closed_rst),
        u("closed_by_server", s.c.closed_by_server), u("drain_timeouts", s.c.drain_timeouts),
        u("drained", s.c.drained),
    };
    for (int c = 1; c <= 5; ++c) f.push_back(u("status_" + std::to_string(c) + "xx", s.c.status[c]));
    const std::pair<const char*, const HdrHistogram*> hists[] = {
        {"", &s.latency}, {"connect_", &s.connect}, {"ttfb_", &s.first_byte}};
    const std::pair<const char*, double> qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}, {"p9999", 0.9999}};
    for (const auto& [prefix, h] : hists) {
        for (const auto& [q, v] : qs) f.push_back(u(std::string(prefix) + q + "_us", h->percentile(v)));
        f.push_back(u(std::string(prefix) + "max_us", h->max()));
        f.push_back(u(std::string(prefix) + "samples", h->count()));
    }
    for (std::size_t i = 0; i < kGenFailCount; ++i) {
        f.push_back(u("failed." + std::string(name(static_cast<GenFail>(i))), s.c.fails[i]));
    }
    for (std::size_t i = 0; i < kGenErrorCount; ++i) {
        f.push_back(u("error." + std::string(name(static_cast<GenError>(i))), s.c.error_kinds[i]));
    }
    return f;
}

std::string GenState::describe(const Profile& p) const {
    const Run& r = p.run;
    std::string d = std::string(to_string(r.mode)) + " " + r.raddr.to_string() + ":" + std::to_string(r.rport) +
                    " conns " + std::to_string(r.conns) + " proto " + to_string(r.proto);
    if ((r.mode != GenMode::hold || r.request_given) && r.proto != GenProto::http) {
        d += " request " + std::to_string(r.request);
    }
    if (r.proto == GenProto::rr || (r.proto == GenProto::http && r.response_given)) d += " response " + std::to_string(r.response);
    if (r.proto == GenProto::http) d += " " + r.method + " " + r.path + (r.keep_alive ? " keep-alive" : " close");
    if (r.rate > 0) d += " rate " + fmt("%g", r.rate) + "/s";
    if (r.ramp_s > 0) d += " ramp " + fmt("%g", r.ramp_s) + " s";
    if (r.think_ms > 0) d += " think " + fmt("%g", r.think_ms) + " ms";
    if (r.pipeline > 1) d += " pipeline " + std::to_string(r.pipeline);
    if (r.closer == GenCloser::server) d += " closer server";
    if (r.close_rst) d += " close rst";
    if (r.duration_s > 0) d += " duration " + fmt("%g", r.duration_s) + " s";
    if (r.count > 0) d += " count " + std::to_string(r.count);
    if (r.verify) d += " verify";
    return d;
}

void GenState::print_json(const Profile& p, const Summary& s) const {
    const auto f = fields(p, s);
    std::string o = "{\"name\":\"" + p.name + "\",\"mode\":\"" + to_string(p.run.mode) + "\",\"proto\":\"" +
                    to_string(p.run.proto) + "\"";
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
    o += ",\"state\":\"" + std::string(to_string(s.run)) + "\",\"failed_by\":{" + failed + "},\"errors_by\":{" + errs + "}}";
    std::printf("%s", o.c_str());
}

void GenState::print_text(const Profile& p, const Summary& s) const {
    const auto f = fields(p, s);
    auto v = [&](const std::string& n) {
        for (const auto& x : f) {
            if (x.name == n) return x.text;
        }
        return std::string("?");
    };
    std::printf("%s %s: %s after %s s\n", label(p.name).c_str(), describe(p).c_str(), to_string(s.run), v("elapsed_s").c_str());
    std::printf("  connections: opened %s (%s/s), failed %s, active %s; closed: FIN %s, RST %s, by the server %s\n",
                v("conns_opened").c_str(), v("conn_per_s").c_str(), v("conns_failed").c_str(), v("active").c_str(),
                v("closed_fin").c_str(), v("closed_rst").c_str(), v("closed_by_server").c_str());
    std::printf("  requests:    %s (%s/s); after the end: %s drained, %s drain timeouts\n", v("requests").c_str(),
                v("req_per_s").c_str(), v("drained").c_str(), v("drain_timeouts").c_str());
    if (p.run.rate > 0) {
        std::printf("  rate:        target %s/s (%s/s on average with the ramp), achieved %s/s (%s due, %s started,"
                    " %s missed); per ms: max %s, stddev %s\n",
                    v("target_rate").c_str(), v("scheduled_rate").c_str(), v("achieved_rate").c_str(), v("rate_due").c_str(),
                    v("rate_started").c_str(), v("rate_missed").c_str(), v("spread_max_per_ms").c_str(),
                    v("spread_stddev_per_ms").c_str());
    }
    std::printf("  bytes:       sent %s, received %s (%s Gbit/s in the busier direction)\n", v("bytes_sent").c_str(),
                v("bytes_received").c_str(), v("gbit_per_s").c_str());
    for (const char* h : {"", "connect_", "ttfb_"}) {
        const std::string n = h;
        std::printf("  %-12s p50 %s  p90 %s  p99 %s  p99.9 %s  p99.99 %s  max %s us (%s samples)\n",
                    n.empty() ? "latency:" : n == "connect_" ? "connect:" : "first byte:", v(n + "p50_us").c_str(),
                    v(n + "p90_us").c_str(), v(n + "p99_us").c_str(), v(n + "p999_us").c_str(),
                    v(n + "p9999_us").c_str(), v(n + "max_us").c_str(), v(n + "samples").c_str());
    }
    if (p.run.proto == GenProto::http) {
        std::printf("  status:      1xx %s, 2xx %s, 3xx %s, 4xx %s, 5xx %s\n", v("status_1xx").c_str(),
                    v("status_2xx").c_str(), v("status_3xx").c_str(), v("status_4xx").c_str(), v("status_5xx").c_str());
    }
    std::printf("  retransmits %s (the engine's, all profiles), errors %s, TIME_WAIT records here %s\n",
                v("retrans").c_str(), v("errors").c_str(), v("time_wait_local").c_str());
    std::printf("  worker loop: longest gap %s us, %s gap(s) over 1 ms, CPU %s s of %s s per worker"
                " (less: descheduled, CPU contention)\n",
                v("max_gap_us").c_str(), v("stalls").c_str(),
                fmt("%.3f", static_cast<double>(s.cpu_us) / 1e6 / workers()).c_str(), v("elapsed_s").c_str());
    print_errors(s);
}

void GenState::print_errors(const Summary& s) const {
    for (std::size_t i = 0; i < kGenFailCount; ++i) {
        if (s.c.fails[i]) std::printf("  failed: %-16s %" PRIu64 "\n", name(static_cast<GenFail>(i)), s.c.fails[i]);
    }
    for (std::size_t i = 0; i < kGenErrorCount; ++i) {
        if (s.c.error_kinds[i]) {
            std::printf("  error:  %-16s %" PRIu64 "\n", name(static_cast<GenError>(i)), s.c.error_kinds[i]);
        }
    }
}

bool GenState::fail_on_errors(const Profile& p, const Summary& s) {
    if (s.c.errors == 0) return true;
    std::string kinds;
    for (std::size_t i = 0; i < kGenErrorCount; ++i) {
        if (s.c.error_kinds[i] == 0) continue;
        kinds += ' ';
        kinds += name(static_cast<GenError>(i));
        kinds += '=';
        kinds += std::to_string(s.c.error_kinds[i]);
    }
    fail("wait gen: %s saw %" PRIu64 " error(s):%s", label(p.name).c_str(), s.c.errors, kinds.c_str());
    return false;
}

// --- show, expect, save ------------------------------------------------------------------

void GenState::show_gen(const std::string& name, bool json) {
    std::vector<const Profile*> which;
    if (!name.empty()) {
        const Profile* p = find(name, "show gen");
        if (p == nullptr) return;
        which.push_back(p);
    } else {
        for (const auto& p : profiles) {
            if (p.used) which.push_back(&p);
        }
        if (which.empty()) return (void)find(name, "show gen");
    }
    if (json && which.size() > 1) std::printf("[");
    for (std::size_t i = 0; i < which.size(); ++i) {
        Summary s;
        if (!collect(*which[i], s)) return;
        if (!json) {
            print_text(*which[i], s);
            continue;
        }
        if (i > 0) std::printf(",");
        print_json(*which[i], s);
    }
    if (json) std::printf(which.size() > 1 ? "]\n" : "\n");
}

void GenState::expect_gen(const std::string& name, const std::string& field, const std::string& op,
                          const std::string& value) {
    const Profile* p = find(name, "expect gen");
    if (p == nullptr) return;
    char* end = nullptr;
    const double want = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') return fail("bad argument: '%s' is not a number", value.c_str());
    Summary s;
    if (!collect(*p, s)) return;
    const auto f = fields(*p, s);
    const auto it = std::find_if(f.begin(), f.end(), [&](const Field& x) { return x.name == field; });
    if (it == f.end()) {
        std::string names;
        for (const auto& x : f) {
            if (x.name.find('.') == std::string::npos) names += " " + x.name;
        }
        return fail("bad argument: unknown field '%s' (fields:%s, failed.<reason>, error.<kind>)", field.c_str(), names.c_str());
    }
    bool ok = false;
    if (!compare(it->value, op, want, ok)) return fail("bad argument: operator '%s'", op.c_str());
    if (!ok) {
        return fail("expect %s: expected %s %s %s, found %s", label(name).c_str(), field.c_str(), op.c_str(),
                    value.c_str(), it->text.c_str());
    }
    std::printf("ok: %s %s = %s (%s %s)\n", label(name).c_str(), field.c_str(), it->text.c_str(), op.c_str(), value.c_str());
}

// PATH.json: the profile, its figures, the series and the three histograms
// (non-empty buckets); PATH.series.csv: a row per second; PATH.latency.csv:
// the request-latency CDF (scripts/plot-gen.sh draws both).
void GenState::save_gen(const std::string& name, const std::string& path_arg) {
    const Profile* p = find(name, "save gen");
    if (p == nullptr) return;
    std::string path = path_arg;
    if (path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0) path.resize(path.size() - 5);
    Summary s;
    if (!collect(*p, s)) return;
    std::vector<Row> series;
    {
        std::lock_guard<std::mutex> lock(mu);
        series = p->series;
    }
    std::ofstream json(path + ".json"), csv(path + ".series.csv"), cdf(path + ".latency.csv");
    if (!json || !csv || !cdf) return fail("save gen: cannot write %s.json/.series.csv/.latency.csv", path.c_str());
    json << "{\"profile\":\"" << p->name << "\",\"describe\":\"" << describe(*p) << "\",\"summary\":";
    std::fflush(stdout);
    const auto f = fields(*p, s);
    json << "{";
    for (std::size_t i = 0; i < f.size(); ++i) json << (i ? "," : "") << "\"" << f[i].name << "\":" << f[i].text;
    json << "},\"series\":[";
    csv << "t_s,target_per_s,conn_per_s,req_per_s,active,tx_gbit_s,rx_gbit_s,retrans,errors,status_4xx,status_5xx,"
           "rate_missed,closed,p50_us,p99_us,conns_failed\n";
    for (std::size_t i = 0; i < series.size(); ++i) {
        const Row& r = series[i];
        char line[512];
        std::snprintf(line, sizeof line,
                      "%.3f,%.1f,%.1f,%.1f,%" PRIu64 ",%.6f,%.6f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                      ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
                      r.t, r.target, r.conn_per_s, r.req_per_s, r.active, r.tx_gbps, r.rx_gbps, r.retrans, r.errors,
                      r.status4, r.status5, r.missed, r.closed, r.p50, r.p99, r.failed);
        csv << line << "\n";
        json << (i ? "," : "") << "[" << line << "]";
    }
    json << "],\"series_columns\":\"t_s,target_per_s,conn_per_s,req_per_s,active,tx_gbit_s,rx_gbit_s,retrans,errors,"
            "status_4xx,status_5xx,rate_missed,closed,p50_us,p99_us,conns_failed\",\"histograms\":{";
    cdf << "latency_us,fraction\n";
    const std::pair<const char*, const HdrHistogram*> hists[] = {
        {"request", &s.latency}, {"connect", &s.connect}, {"first_byte", &s.first_byte}};
    bool first = true;
    for (const auto& [hn, h] : hists) {
        json << (first ? "" : ",") << "\"" << hn << "\":[";
        first = false;
        bool fb = true;
        std::uint64_t seen = 0;
        h->for_each_bucket([&](std::uint64_t lo, std::uint64_t hi, std::uint64_t n) {
            json << (fb ? "" : ",") << "[" << lo << "," << hi << "," << n << "]";
            fb = false;
            seen += n;
            if (h == &s.latency) cdf << hi << "," << fmt("%.6f", static_cast<double>(seen) / static_cast<double>(h->count())) << "\n";
        });
        json << "]";
    }
    json << "},\"histogram_columns\":\"lower_us,upper_us,count\"}\n";
    if (!json.good() || !csv.good() || !cdf.good()) return fail("save gen: writing %s failed", path.c_str());
    std::printf("saved %s: %s.json, %s.series.csv (%zu seconds), %s.latency.csv\n", label(p->name).c_str(), path.c_str(),
                path.c_str(), series.size(), path.c_str());
}

}  // namespace tcpfp::app::cli
