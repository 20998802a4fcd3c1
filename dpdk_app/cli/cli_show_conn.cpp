// `show conn`: connections like ss -tan -i -o, fetched from each worker a
// page at a time (ListConns: at most 256 rows and 65536 slots looked at per
// mailbox round trip, so a million connections never stall a worker), and
// capped: at most 1000 rows unless `all` or `limit N`, with how many were
// left out.
#include <cerrno>
#include <cstring>
#include <cinttypes>
#include <cstdio>

#include "dpdk_app/apps/agent_commands.hpp"
#include "dpdk_app/cli/prompt.hpp"
#include "tcp/engine/state.hpp"

namespace tcpfp::app::cli {

namespace {

constexpr std::uint64_t kDefaultLimit = 1000;

struct ShowConn {
    tcp::State state = tcp::State::closed;  // closed: any
    std::uint16_t port = 0;                 // 0: any
    bool json = false;
    std::uint64_t limit = kDefaultLimit;    // UINT64_MAX: all
};

// ss -o: timer:(kind,left,retries); "" when none is armed.
std::string timer_text(const tcp::ConnInfo& i) {
    if (i.timer == tcp::TimerKind::none) return "";
    return std::string("timer:(") + tcp::to_string(i.timer) + "," + ms_text(i.timer_left_ms) + "," +
           std::to_string(i.retries) + ")";
}

// An errno by its name (EHOSTUNREACH), as `ss` users read them.
std::string errno_name(int err) {
    const char* n = strerrorname_np(err);
    return n != nullptr ? n : "errno " + std::to_string(err);
}

// ss -i: options, MSS, RTT, windows (what a control block has; TIME_WAIT
// records keep the options and the last advertised window only).
std::string detail_text(const tcp::ConnInfo& i) {
    std::string o;
    o += i.ts_ok ? "ts" : "nots";
    if (i.state == tcp::State::time_wait) return o + " win:" + std::to_string(i.rcv_wnd) + " (as sent)";
    if (i.state == tcp::State::listen) return "";
    if (i.sack_ok) o += " sack";
    if (i.ws_ok) o += " wscale:" + std::to_string(i.snd_wscale) + "," + std::to_string(i.rcv_wscale);
    if (i.ecn_ok) o += " ecn";  // RFC 3168 negotiated (ss prints the same word)
    char b[160];
    std::snprintf(b, sizeof b, " mss:%u rcvmss:%u rto:%u rtt:%.3f/%.3fms", i.snd_mss, i.rcv_mss,
                  i.rto_ms, static_cast<double>(i.srtt_us) / 1000.0,
                  static_cast<double>(i.rttvar_us) / 1000.0);
    o += b;
    o += " pmtu:" + std::to_string(i.pmtu);
    // RFC 4821: the range mtu_probing is still searching.
    if (i.probe_high != 0) o += " probing:" + std::to_string(i.probe_low) + "-" + std::to_string(i.probe_high);
    o += " cwnd:" + std::to_string(i.cwnd);
    o += " ssthresh:" + (i.ssthresh == UINT32_MAX ? std::string("-") : std::to_string(i.ssthresh));
    o += " snd_wnd:" + std::to_string(i.snd_wnd) + " rcv_wnd:" + std::to_string(i.rcv_wnd);
    o += " inflight:" + std::to_string(i.in_flight);
    if (i.backoff) o += " backoff:" + std::to_string(i.backoff);
    if (i.orphan) o += " orphan";
    // The last ICMP soft error (RFC 9293 SHLD-25): the connection goes on.
    if (i.soft_error != 0) o += " soft_error:" + errno_name(i.soft_error);
    return o;
}

// ss's Recv-Q: a listener's is its accept queue.
std::uint32_t recv_q(const tcp::ConnInfo& i) {
    return i.state == tcp::State::listen ? i.accept_q : i.recv_q;
}

std::string conn_json(PromptState& st, const ConnRow& r) {
    const tcp::ConnInfo& i = r.info;
    auto b = [](bool v) { return v ? std::string("true") : std::string("false"); };
    auto n = [](auto v) { return std::to_string(v); };
    return std::string("{\"id\":") + n(r.id) + ",\"state\":\"" + tcp::to_string(i.state) +
           "\",\"recv_q\":" + n(recv_q(i)) + ",\"send_q\":" + n(i.send_q) + ",\"local\":\"" +
           endpoint(i.tuple.local_ip, i.tuple.local_port) + "\",\"peer\":\"" +
           endpoint(i.tuple.remote_ip, i.tuple.remote_port) + "\",\"worker\":" + n(r.worker) +
           ",\"lcore\":" + n(st.lcore_of(r.worker)) + ",\"timer\":\"" + tcp::to_string(i.timer) +
           "\",\"timer_left_ms\":" + n(i.timer_left_ms) + ",\"retries\":" + n(i.retries) +
           ",\"ts\":" + b(i.ts_ok) + ",\"sack\":" + b(i.sack_ok) + ",\"snd_wscale\":" +
           n(i.snd_wscale) + ",\"rcv_wscale\":" + n(i.rcv_wscale) + ",\"mss\":" + n(i.snd_mss) +
           ",\"pmtu\":" + n(i.pmtu) + ",\"probe_low\":" + n(i.probe_low) + ",\"probe_high\":" + n(i.probe_high) +
           ",\"snd_wnd\":" + n(i.snd_wnd) + ",\"rcv_wnd\":" + n(i.rcv_wnd) + ",\"cwnd\":" +
           n(i.cwnd) + ",\"ssthresh\":" + n(i.ssthresh) + ",\"srtt_us\":" + n(i.srtt_us) +
           ",\"rttvar_us\":" + n(i.rttvar_us) + ",\"rto_ms\":" + n(i.rto_ms) + ",\"in_flight\":" +
           n(i.in_flight) + ",\"orphan\":" + b(i.orphan) + ",\"app\":\"" + (r.app ? r.app : "") +
           "\",\"pair\":\"" +
           (r.paired ? endpoint(r.pair.local_ip, r.pair.local_port) + "->" +
                           endpoint(r.pair.remote_ip, r.pair.remote_port)
                     : std::string()) +
           "\"}";
}

void print_rows(PromptState& st, const std::vector<ConnRow>& rows, bool json) {
    if (json) {
        std::string o = "[";
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (i) o += ',';
            o += conn_json(st, rows[i]);
        }
        std::printf("%s]\n", o.c_str());
        return;
    }
    std::printf("%-8s %-13s %7s %7s %-21s %-21s %5s %s\n", "Id", "State", "Recv-Q", "Send-Q",
                "Local Address:Port", "Peer Address:Port", "Lcore", "Timer");
    for (const auto& r : rows) {
        const tcp::ConnInfo& i = r.info;
        std::printf("%-8s %-13s %7u %7u %-21s %-21s %5u %s\n",
                    r.id ? std::to_string(r.id).c_str() : "-", tcp::to_string(i.state), recv_q(i),
                    i.send_q, endpoint(i.tuple.local_ip, i.tuple.local_port).c_str(),
                    endpoint(i.tuple.remote_ip, i.tuple.remote_port).c_str(), st.lcore_of(r.worker),
                    timer_text(i).c_str());
        std::string d = detail_text(i);
        if (r.app != nullptr) d += std::string(d.empty() ? "" : " ") + "app:" + r.app;
        if (r.paired) {
            d += " pair:" + endpoint(r.pair.local_ip, r.pair.local_port) + "->" +
                 endpoint(r.pair.remote_ip, r.pair.remote_port);
        }
        if (!d.empty()) std::printf("         %s\n", d.c_str());
    }
}

// Fetches worker w's matching rows, page by page, into `rows` while below
// the limit; then only counts the rest into `left_out`.
bool fetch(PromptState& st, unsigned w, const ShowConn& q, std::vector<ConnRow>& rows,
           std::uint64_t& left_out) {
    ListConns::Cursor cursor;
    for (bool done = false; !done;) {
        auto c = std::make_unique<ListConns>();
        c->state = q.state;
        c->port = q.port;
        c->cursor = cursor;
        c->count_only = rows.size() >= q.limit;
        if (!st.call(w, c)) return false;
        for (const ConnRow& r : c->rows) {
            if (rows.size() < q.limit) rows.push_back(r);
            else ++left_out;
        }
        if (c->count_only) left_out += c->matched;
        cursor = c->cursor;
        done = c->finished;
        if (st.stopping()) return true;
    }
    return true;
}

void show_conn(PromptState& st, const ShowConn& q) {
    std::vector<ConnRow> rows;
    std::uint64_t left_out = 0;
    for (unsigned w = 0; w < st.workers(); ++w) {
        if (!fetch(st, w, q, rows, left_out)) return;
    }
    print_rows(st, rows, q.json);
    if (left_out > 0) {
        std::printf("(%" PRIu64 " more not shown: show conn ... limit N, or show conn ... all)\n",
                    left_out);
    }
}

// The words after "show conn": state S, port P, limit N, all, json.
bool parse_show_conn(PromptState& st, const std::string& rest, ShowConn& q) {
    const auto w = words(rest);
    for (std::size_t i = 0; i < w.size(); ++i) {
        const bool has_value = i + 1 < w.size();
        if (w[i] == "json") {
            q.json = true;
        } else if (w[i] == "all") {
            q.limit = UINT64_MAX;
        } else if (w[i] == "state" && has_value) {
            const std::string want = upper_state(w[++i]);
            if (!valid_state(want) || want == "closed") {
                st.failf("bad argument: unknown state '%s' (LISTEN, SYN_SENT, ESTABLISHED, ...)",
                         w[i].c_str());
                return false;
            }
            for (std::size_t s = 0; s < tcp::kStateCount; ++s) {
                if (want == tcp::to_string(static_cast<tcp::State>(s))) q.state = static_cast<tcp::State>(s);
            }
        } else if (w[i] == "port" && has_value) {
            const auto p = parse_u64(w[++i]);
            if (!p || *p > 65535) {  // 0: any, as before
                st.failf("bad argument: port %s out of range 1..65535", w[i].c_str());
                return false;
            }
            q.port = static_cast<std::uint16_t>(*p);
        } else if (w[i] == "limit" && has_value) {
            const auto n = parse_u64(w[++i]);
            if (!n) {
                st.failf("bad argument: limit %s is not a number", w[i].c_str());
                return false;
            }
            q.limit = *n;
        } else {
            st.failf("bad argument: '%s' (show conn [state S] [port P] [limit N|all] [json])",
                     w[i].c_str());
            return false;
        }
    }
    return true;
}

}  // namespace

void add_show_conn_commands(PromptState& st) {
    st.add("show conn", "connections like ss -tan -i -o (TIME_WAIT records included; 1000 at most)",
           [&st](const Args&) { show_conn(st, ShowConn{}); });
    st.add("show conn <options...>",
           "options: state <S> port <P> limit <N>|all json (port: local or peer)", [&st](const Args& a) {
               ShowConn q;
               if (parse_show_conn(st, a.rest, q)) show_conn(st, q);
           });
}

}  // namespace tcpfp::app::cli
