#include <gtest/gtest.h>

#include "tcp/wire/seq.hpp"

namespace tcpfp::wire {
namespace {

TEST(SeqNum, OrdersWithinHalfSpace) {
    EXPECT_LT(SeqNum(1), SeqNum(2));
    EXPECT_GT(SeqNum(2), SeqNum(1));
    EXPECT_LE(SeqNum(5), SeqNum(5));
    EXPECT_GE(SeqNum(5), SeqNum(5));
    EXPECT_FALSE(SeqNum(5) < SeqNum(5));
}

// RFC 9293 §3.4: comparisons are modulo 2^32.
TEST(SeqNum, WrapsAcrossZero) {
    EXPECT_LT(SeqNum(0xffffffffu), SeqNum(0));
    EXPECT_LT(SeqNum(0xfffffff0u), SeqNum(0x10));
    EXPECT_GT(SeqNum(0x10), SeqNum(0xfffffff0u));
    EXPECT_EQ(SeqNum(0xffffffffu) + 1, SeqNum(0));
    EXPECT_EQ(SeqNum(0) - 1, SeqNum(0xffffffffu));
    EXPECT_EQ(SeqNum(0x10) - SeqNum(0xfffffff0u), 0x20);
    EXPECT_EQ(SeqNum(0xfffffff0u) - SeqNum(0x10), -0x20);
}

// Across the 2^31 boundary: a value just under 2^31 ahead is "after",
// one just over is "before".
TEST(SeqNum, HalfSpaceBoundary) {
    const SeqNum base(0x7ffffff0u);
    EXPECT_LT(base, base + 0x7fffffffu);
    EXPECT_GT(base, base + 0x80000001u);
    EXPECT_LT(SeqNum(0), SeqNum(0x7fffffffu));
    EXPECT_GT(SeqNum(0), SeqNum(0x80000001u));
    EXPECT_EQ(SeqNum(0x80000000u) - SeqNum(0), INT32_MIN);
    // Exactly 2^31 apart is ambiguous; the signed distance says "before".
    EXPECT_LT(SeqNum(0x80000000u), SeqNum(0));
}

TEST(SeqNum, CompoundAssignment) {
    SeqNum s(0xfffffffeu);
    s += 3;
    EXPECT_EQ(s.raw(), 1u);
    s -= 2;
    EXPECT_EQ(s.raw(), 0xffffffffu);
}

TEST(SeqNum, WindowTestWraps) {
    // RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND with the window spanning 2^32.
    const SeqNum rcv_nxt(0xfffffff0u);
    EXPECT_TRUE(seq_in_window(SeqNum(0xfffffff0u), rcv_nxt, 0x100));
    EXPECT_TRUE(seq_in_window(SeqNum(0x0), rcv_nxt, 0x100));
    EXPECT_TRUE(seq_in_window(SeqNum(0xef), rcv_nxt, 0x100));
    EXPECT_FALSE(seq_in_window(SeqNum(0xf0), rcv_nxt, 0x100));
    EXPECT_FALSE(seq_in_window(SeqNum(0xffffffefu), rcv_nxt, 0x100));
    EXPECT_FALSE(seq_in_window(rcv_nxt, rcv_nxt, 0));  // zero window holds nothing
}

TEST(SeqNum, BetweenInclusiveWraps) {
    EXPECT_TRUE(seq_between(SeqNum(0xfffffffeu), SeqNum(0xfffffffeu), SeqNum(2)));
    EXPECT_TRUE(seq_between(SeqNum(0xfffffffeu), SeqNum(0), SeqNum(2)));
    EXPECT_TRUE(seq_between(SeqNum(0xfffffffeu), SeqNum(2), SeqNum(2)));
    EXPECT_FALSE(seq_between(SeqNum(0xfffffffeu), SeqNum(3), SeqNum(2)));
    EXPECT_FALSE(seq_between(SeqNum(0xfffffffeu), SeqNum(0xfffffffdu), SeqNum(2)));
}

TEST(SeqNum, MinMaxWrap) {
    EXPECT_EQ(seq_max(SeqNum(0xffffffffu), SeqNum(1)), SeqNum(1));
    EXPECT_EQ(seq_min(SeqNum(0xffffffffu), SeqNum(1)), SeqNum(0xffffffffu));
}

static_assert(sizeof(SeqNum) == 4);
static_assert(SeqNum(1) < SeqNum(2));

}  // namespace
}  // namespace tcpfp::wire
