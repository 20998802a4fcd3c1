#include <gtest/gtest.h>

#include <vector>

#include "fixtures/linux_frames.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Linux's SYN options as captured (tests/fixtures/linux_frames.hpp, frame 13,
// bytes 54..73): mss 1460, sackOK, TS val 0x8cdaf8b3 ecr 0, nop, wscale 10.
const Bytes kLinuxSynOptions(fixtures::linux_capture::tcp_syn.begin() + 54,
                             fixtures::linux_capture::tcp_syn.end());

TEST(TcpOptions, ParsesLinuxSynOptions) {
    auto o = parse_tcp_options(kLinuxSynOptions);
    ASSERT_TRUE(o) << name(o.error());
    EXPECT_TRUE(o->has_mss);
    EXPECT_EQ(o->mss, 1460);
    EXPECT_TRUE(o->sack_permitted);
    EXPECT_TRUE(o->has_timestamps);
    EXPECT_EQ(o->ts_val, 0x8cdaf8b3u);
    EXPECT_EQ(o->ts_ecr, 0u);
    EXPECT_TRUE(o->has_wscale);
    EXPECT_EQ(o->wscale, 10);
    EXPECT_EQ(o->sack_count, 0);
}

TEST(TcpOptions, ReaderReportsEveryOptionInOrder) {
    TcpOptionReader r(kLinuxSynOptions);
    std::vector<std::uint8_t> kinds;
    while (!r.done()) {
        auto opt = r.next();
        ASSERT_TRUE(opt);
        kinds.push_back(opt->kind);
    }
    EXPECT_EQ(kinds, (Bytes{tcp_opt::mss, tcp_opt::sack_permitted, tcp_opt::timestamps,
                            tcp_opt::nop, tcp_opt::wscale}));
}

TEST(TcpOptions, WriterReproducesLinuxSynLayout) {
    TcpOptions o;
    o.has_mss = true;
    o.mss = 1460;
    o.sack_permitted = true;
    o.has_timestamps = true;
    o.ts_val = 0x8cdaf8b3u;
    o.has_wscale = true;
    o.wscale = 10;
    TcpOptionWriter w;
    auto bytes = write_tcp_options(o, /*syn=*/true, w);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(Bytes(bytes->begin(), bytes->end()), kLinuxSynOptions);
}

TEST(TcpOptions, NonSynLayoutHasTimestampsThenSack) {
    TcpOptions o;
    o.has_mss = true;  // never written outside SYN
    o.mss = 1460;
    o.has_timestamps = true;
    o.ts_val = 1;
    o.ts_ecr = 2;
    o.sack_count = 2;
    o.sack[0] = {SeqNum(100), SeqNum(200)};
    o.sack[1] = {SeqNum(300), SeqNum(400)};
    TcpOptionWriter w;
    auto bytes = write_tcp_options(o, false, w);
    ASSERT_TRUE(bytes);
    ASSERT_EQ(bytes->size(), 12u + 4u + 16u);
    auto back = parse_tcp_options(*bytes);
    ASSERT_TRUE(back);
    EXPECT_FALSE(back->has_mss);
    EXPECT_TRUE(back->has_timestamps);
    EXPECT_EQ(back->ts_ecr, 2u);
    ASSERT_EQ(back->sack_count, 2);
    EXPECT_EQ(back->sack[1], (SackBlock{SeqNum(300), SeqNum(400)}));
}

TEST(TcpOptions, WriterRejectsOverflow) {
    // Timestamps plus four SACK blocks need 12 + 36 > 40 bytes (RFC 2018 §3:
    // with timestamps at most three blocks fit).
    const SackBlock blocks[4] = {};
    TcpOptionWriter w;
    w.nop().nop().timestamps(1, 2).nop().nop().sack(blocks);
    EXPECT_EQ(w.finish().error(), WireError::tcp_opt_no_space);
    TcpOptionWriter w3;
    w3.nop().nop().timestamps(1, 2).nop().nop().sack(std::span(blocks, 3));
    auto ok = w3.finish();
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->size(), 40u);
}

TEST(TcpOptions, WriterPadsToFourBytes) {
    TcpOptionWriter w;
    w.wscale(7);
    auto b = w.finish();
    ASSERT_TRUE(b);
    EXPECT_EQ(Bytes(b->begin(), b->end()), (Bytes{3, 3, 7, 0}));
}

// The edge-case table: each row is option bytes and the result expected.
struct OptionCase {
    const char* what;
    Bytes bytes;
    WireError expected;
};

class TcpOptionTable : public ::testing::TestWithParam<OptionCase> {};

TEST_P(TcpOptionTable, Parse) {
    const auto& c = GetParam();
    auto r = parse_tcp_options(c.bytes);
    EXPECT_EQ(r.error(), c.expected) << c.what << ": got " << name(r.error());
}

INSTANTIATE_TEST_SUITE_P(
    EdgeCases, TcpOptionTable,
    ::testing::Values(
        OptionCase{"empty", {}, WireError::none},
        OptionCase{"NOP padding only", {1, 1, 1, 1}, WireError::none},
        OptionCase{"EOL then garbage is padding", {0, 0xff, 0x07, 0x02}, WireError::none},
        OptionCase{"EOL in the middle hides a bad option", {1, 0, 2, 0}, WireError::none},
        OptionCase{"unknown kind skipped by length", {30, 4, 0xaa, 0xbb, 2, 4, 5, 0xb4},
                   WireError::none},
        OptionCase{"unknown kind length 2", {99, 2, 1, 1}, WireError::none},
        OptionCase{"kind without length byte", {1, 1, 1, 2}, WireError::tcp_opt_truncated},
        OptionCase{"length 0", {2, 0, 5, 0xb4}, WireError::tcp_opt_bad_length},
        OptionCase{"length 1", {30, 1, 1, 1}, WireError::tcp_opt_bad_length},
        OptionCase{"unknown kind runs past header", {30, 8, 0, 0}, WireError::tcp_opt_overrun},
        OptionCase{"MSS runs past header", {1, 1, 2, 4, 5}, WireError::tcp_opt_overrun},
        OptionCase{"MSS length 3", {2, 3, 5, 0}, WireError::tcp_opt_mss_length},
        OptionCase{"MSS length 5", {2, 5, 5, 0xb4, 0, 0, 0, 0}, WireError::tcp_opt_mss_length},
        OptionCase{"wscale length 4", {3, 4, 7, 0}, WireError::tcp_opt_wscale_length},
        OptionCase{"sackOK length 3", {4, 3, 0, 0}, WireError::tcp_opt_sack_permitted_length},
        OptionCase{"SACK no blocks", {1, 1, 5, 2}, WireError::tcp_opt_sack_length},
        OptionCase{"SACK 2+7", {5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, WireError::tcp_opt_sack_length},
        OptionCase{"SACK 5 blocks (42 > 40)",
                   Bytes{5, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                         0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                   WireError::tcp_opt_sack_length},
        OptionCase{"TS length 8", {8, 8, 0, 0, 0, 0, 0, 0}, WireError::tcp_opt_timestamps_length},
        OptionCase{"TS cut short by header", {1, 1, 8, 10, 0, 0, 0, 0},
                   WireError::tcp_opt_overrun}));

// The NOP, NOP, Timestamps layout (RFC 7323 Appendix A) is read without the
// option walk: the shortcut must decode it exactly as the walk does the same
// option in another legal layout, and a 12-byte block that only starts like
// it (a different length byte) still goes through the walk's checks.
TEST(TcpOptions, NopNopTimestampsShortcutDecodesAsTheWalk) {
    const Bytes fast = {1, 1, 8, 10, 0x80, 0, 0, 1, 0xfe, 0xdc, 0xba, 0x98};
    const Bytes walked = {8, 10, 0x80, 0, 0, 1, 0xfe, 0xdc, 0xba, 0x98, 1, 0};  // TS, NOP, EOL
    auto a = parse_tcp_options(fast);
    auto b = parse_tcp_options(walked);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
    EXPECT_TRUE(a->has_timestamps);
    EXPECT_EQ(a->ts_val, 0x80000001u);
    EXPECT_EQ(a->ts_ecr, 0xfedcba98u);
    EXPECT_EQ(parse_tcp_options(Bytes{1, 1, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0}).error(),
              WireError::tcp_opt_timestamps_length);
    EXPECT_EQ(parse_tcp_options(Bytes{1, 1, 8, 11, 0, 0, 0, 0, 0, 0, 0, 0}).error(), WireError::tcp_opt_overrun);
}

TEST(TcpOptions, RepeatedOptionKeepsLast) {
    auto o = parse_tcp_options(Bytes{2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->mss, 536);
}

TEST(TcpOptions, SackBlocksDecoded) {
    const Bytes b = {1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9};
    auto o = parse_tcp_options(b);
    ASSERT_TRUE(o);
    ASSERT_EQ(o->sack_count, 2);
    EXPECT_EQ(o->sack[0], (SackBlock{SeqNum(1), SeqNum(2)}));
    EXPECT_EQ(o->sack[1], (SackBlock{SeqNum(0xffffffffu), SeqNum(9)}));
}

}  // namespace
}  // namespace tcpfp::wire

namespace tcpfp::wire {
namespace {

// The words as the bytes they stand for.
std::vector<std::uint8_t> bytes_of(const TcpOptionWords& words) {
    std::vector<std::uint8_t> out;
    for (std::size_t k = 0; k < words.n; ++k) {
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(words.w[k] >> shift));
    }
    return out;
}

// write_tcp_option_words() gives the bytes write_tcp_options() gives, and
// refuses what it refuses (the writer is now the words' byte form; the
// Linux-layout tests above pin the bytes themselves), for every combination
// of the options the engine sends: MSS, window scale, sackOK and timestamps each on or off, SYN or
// not, and 0 to 4 SACK blocks (4 fit only without timestamps).
TEST(TcpOptions, WordsMatchTheWriterEverywhere) {
    int compared = 0, refused = 0;
    for (unsigned mask = 0; mask < 32; ++mask) {
        for (std::uint8_t blocks = 0; blocks <= kMaxSackBlocks; ++blocks) {
            TcpOptions o;
            o.has_mss = (mask & 1) != 0;
            o.mss = 1460;
            o.has_wscale = (mask & 2) != 0;
            o.wscale = 7;
            o.sack_permitted = (mask & 4) != 0;
            o.has_timestamps = (mask & 8) != 0;
            o.ts_val = 0x8cdaf8b3;
            o.ts_ecr = 0xaa88b8b5;
            const bool syn = (mask & 16) != 0;
            o.sack_count = blocks;
            for (std::size_t i = 0; i < blocks; ++i) {
                o.sack[i] = {SeqNum(static_cast<std::uint32_t>(1000 * i + 1)),
                             SeqNum(static_cast<std::uint32_t>(1000 * i + 500))};
            }
            TcpOptionWriter w;
            const auto encoded = write_tcp_options(o, syn, w);
            TcpOptionWords words;
            const WireError e = write_tcp_option_words(o, syn, words);
            ++compared;
            if (!encoded) {
                ++refused;
                EXPECT_EQ(e, encoded.error()) << "mask " << mask << " blocks " << int{blocks};
                continue;
            }
            ASSERT_EQ(e, WireError::none) << "mask " << mask << " blocks " << int{blocks};
            EXPECT_EQ(bytes_of(words), Bytes(encoded->begin(), encoded->end()))
                << "mask " << mask << " blocks " << int{blocks};
        }
    }
    EXPECT_EQ(compared, 32 * 5);
    EXPECT_GT(refused, 0) << "some combinations overflow the 40 bytes";
}

// A SACK count beyond the array is refused, never read past it.
TEST(TcpOptions, WordsRefuseMoreSackBlocksThanExist) {
    TcpOptions o;
    o.sack_count = kMaxSackBlocks + 1;
    TcpOptionWords words;
    EXPECT_EQ(write_tcp_option_words(o, false, words), WireError::tcp_opt_no_space);
}

}  // namespace
}  // namespace tcpfp::wire
