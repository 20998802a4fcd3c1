#include "dpdk_app/apps/gen.hpp"

#include <cstring>

#include "dpdk_app/apps/gen_profile.hpp"

namespace tcpfp::app {

namespace {

const char* const kFailNames[] = {
#define TCPFP_X(name, desc) #name,
    TCPFP_GEN_FAILS(TCPFP_X)
#undef TCPFP_X
};
const char* const kErrorNames[] = {
#define TCPFP_X(name, desc) #name,
    TCPFP_GEN_ERRORS(TCPFP_X)
#undef TCPFP_X
};

// splitmix64's finaliser: a cheap, well-mixed 64-bit hash.
std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t k) {
    return mix64(seed ^ (k * 0xd6e8feb86659fd93ull));
}

constexpr std::uintptr_t kSlotMask = (std::uintptr_t{1} << 48) - 1;

}  // namespace

const char* to_string(GenMode m) {
    switch (m) {
        case GenMode::crr: return "crr";
        case GenMode::rr: return "rr";
        case GenMode::bulk: return "bulk";
        case GenMode::hold: return "hold";
    }
    return "?";
}

const char* to_string(GenProto p) {
    switch (p) {
        case GenProto::echo: return "echo";
        case GenProto::rr: return "rr";
        case GenProto::http: return "http";
    }
    return "?";
}

const char* to_string(GenRun r) {
    switch (r) {
        case GenRun::idle: return "idle";
        case GenRun::running: return "running";
        case GenRun::draining: return "draining";
        case GenRun::finished: return "finished";
    }
    return "?";
}

const char* name(GenFail f) { return kFailNames[static_cast<std::size_t>(f)]; }
const char* name(GenError e) { return kErrorNames[static_cast<std::size_t>(e)]; }

// --- patterns ------------------------------------------------------------------

void fill_pattern(std::uint64_t seed, std::uint64_t offset, std::span<std::uint8_t> out) {
    std::size_t i = 0;
    std::uint64_t k = offset / 8;
    // Head: the tail of a partially covered word.
    if (offset % 8 != 0) {
        const std::uint64_t w = pattern_word(seed, k++);
        for (std::size_t b = offset % 8; b < 8 && i < out.size(); ++b) {
            out[i++] = static_cast<std::uint8_t>(w >> (8 * b));
        }
    }
    for (; i + 8 <= out.size(); i += 8) {
        const std::uint64_t w = pattern_word(seed, k++);
        for (std::size_t b = 0; b < 8; ++b) out[i + b] = static_cast<std::uint8_t>(w >> (8 * b));
    }
    if (i < out.size()) {
        const std::uint64_t w = pattern_word(seed, k);
        for (std::size_t b = 0; i < out.size(); ++b) out[i++] = static_cast<std::uint8_t>(w >> (8 * b));
    }
}

void fill_response_pattern(std::uint64_t offset, std::span<std::uint8_t> out) {
    auto c = static_cast<unsigned>(offset % 26);
    for (std::uint8_t& b : out) {
        b = static_cast<std::uint8_t>('a' + c);
        c = c == 25 ? 0 : c + 1;
    }
}

// --- publication -----------------------------------------------------------------

void GenPublished::put_second(const GenSecond& s, const HdrHistogram& h) {
    Slot& slot = second[s.second % 2];
    std::array<std::uint64_t, sizeof(GenSecond) / 8> words{};
    std::memcpy(words.data(), static_cast<const void*>(&s), sizeof s);
    for (std::size_t i = 0; i < words.size(); ++i) slot.fields[i].store(words[i], std::memory_order_relaxed);
    std::size_t b = 0;
    for (auto& a : slot.latency) a.store(0, std::memory_order_relaxed);
    h.for_each_bucket([&](std::uint64_t lower, std::uint64_t, std::uint64_t count) {
        b = HdrHistogram::bucket(lower);
        slot.latency[b].store(count, std::memory_order_relaxed);
    });
    seconds.store(s.second, std::memory_order_release);
}

bool GenPublished::get_second(std::uint64_t k, GenSecond& s, HdrHistogram& h) const {
    if (seconds.load(std::memory_order_acquire) < k) return false;
    const Slot& slot = second[k % 2];
    std::array<std::uint64_t, sizeof(GenSecond) / 8> words{};
    for (std::size_t i = 0; i < words.size(); ++i) words[i] = slot.fields[i].load(std::memory_order_relaxed);
    std::memcpy(static_cast<void*>(&s), words.data(), sizeof s);
    h.clear();
    for (std::size_t b = 0; b < slot.latency.size(); ++b) {
        const std::uint64_t n = slot.latency[b].load(std::memory_order_relaxed);
        if (n != 0) h.record_n(HdrHistogram::lower(b), n);
    }
    // Second k + 2 reuses the slot: then what was read may be torn.
    std::atomic_thread_fence(std::memory_order_acquire);
    return s.second == k && seconds.load(std::memory_order_relaxed) < k + 2;
}

// --- the app -----------------------------------------------------------------------

Generator::Generator(unsigned worker) : worker_(worker) {}

Generator::~Generator() = default;

void Generator::start(Stack& stack, tcp::Instant) { stack_ = &stack; }

bool Generator::start_run(std::size_t index, const GenSpec& spec, tcp::Instant now, std::string& why) {
    if (stack_ == nullptr) {
        why = "the generator is not on worker " + std::to_string(worker_) + "'s app host";
        return false;
    }
    if (index >= kMaxProfiles) {
        why = "at most " + std::to_string(kMaxProfiles) + " profiles";
        return false;
    }
    if (!profiles_[index]) profiles_[index] = std::make_unique<GenProfile>(worker_, index);
    if (!profiles_[index]->start(*stack_, spec, now, why)) return false;
    stack_->set_polled(true);  // until every profile has finished (poll())
    return true;
}

void Generator::stop_run(std::size_t index, tcp::Instant now) {
    if (index < kMaxProfiles && profiles_[index]) profiles_[index]->stop(now);
}

void Generator::report(std::size_t index, GenReport& out, tcp::Instant now) const {
    if (index < kMaxProfiles && profiles_[index]) profiles_[index]->report(out, now);
}

bool Generator::running(std::size_t index) const {
    return index < kMaxProfiles && profiles_[index] && profiles_[index]->run() == GenRun::running;
}

void Generator::detach() {
    for (auto& p : profiles_) {
        if (p) p->detach();
    }
}

// A connection's context word names its profile and slot (context_of).
void Generator::on_events(Stack& stack, std::span<const AppEvent> events, tcp::Instant now) {
    for (const AppEvent& e : events) {
        const std::uintptr_t ctx = stack.context(e.conn);
        const std::size_t p = ctx >> 48;
        const std::uintptr_t slot = ctx & kSlotMask;
        if (slot == 0 || p >= kMaxProfiles || !profiles_[p]) continue;  // closed earlier in this batch
        profiles_[p]->on_event(static_cast<std::uint32_t>(slot - 1), e.conn, e.kind, now);
    }
}

void Generator::poll(Stack& stack, tcp::Instant now) {
    bool active = false;
    for (auto& p : profiles_) {
        if (p && p->run() != GenRun::idle && p->run() != GenRun::finished) {
            p->poll(now);
            active = active || (p->run() != GenRun::finished);
        }
    }
    if (!active) stack.set_polled(false);  // an idle generator costs the worker nothing
}

// --- the family's messages --------------------------------------------------------

void GenStart::run(AgentContext& ctx, tcp::Instant now) {
    if (ctx.gen == nullptr) return fail("no generator on worker " + std::to_string(ctx.worker));
    std::string why;
    if (!ctx.gen->start_run(index, spec, now, why)) fail(why);
}

void GenStop::run(AgentContext& ctx, tcp::Instant now) {
    if (ctx.gen != nullptr) ctx.gen->stop_run(index, now);
}

void GenDetach::run(AgentContext& ctx, tcp::Instant) {
    if (ctx.gen != nullptr) ctx.gen->detach();
}

void GenRead::run(AgentContext& ctx, tcp::Instant now) {
    if (ctx.gen != nullptr) ctx.gen->report(index, *report, now);
}

}  // namespace tcpfp::app
