// tcpfp-pktdrill: runs packetdrill scripts against the tcpfp engine on a
// virtual clock. See README.md in this folder.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "expectations.hpp"
#include "runner.hpp"

namespace fs = std::filesystem;
using namespace tcpfp::pktdrill;

namespace {

struct Args {
    bool expect_fail = false;
    bool skip_missing = false;
    std::string expectations;
    RunOptions run;
    std::vector<std::string> paths;
};

void usage() {
    std::puts(
        "usage: tcpfp-pktdrill [options] script.pkt|dir...\n"
        "  --expect-fail        every script must fail (self-tests); a script's\n"
        "                       `// expect-error: TEXT` lines must appear in the error\n"
        "  --expectations FILE  scripts listed in FILE must fail, all others pass\n"
        "  --skip-missing       a path that does not exist is reported as not run\n"
        "  --wscale=N           the engine's window scale (Linux uses 8)\n"
        "  --delayed-ack-usecs=N  the engine's delayed-ACK timeout (Linux quick-ACKs: 0)\n"
        "  --verbose            print every event as it runs");
}

bool parse_args(int argc, char** argv, Args& a) {
    for (int i = 1; i < argc; ++i) {
        const std::string s = argv[i];
        if (s == "--expect-fail") {
            a.expect_fail = true;
        } else if (s == "--skip-missing") {
            a.skip_missing = true;
        } else if (s == "--verbose") {
            a.run.verbose = true;
        } else if (s == "--expectations" && i + 1 < argc) {
            a.expectations = argv[++i];
        } else if (s.rfind("--wscale=", 0) == 0) {
            a.run.wscale = std::atoi(s.c_str() + 9);
            if (*a.run.wscale < 0 || *a.run.wscale > 14) return false;
        } else if (s.rfind("--delayed-ack-usecs=", 0) == 0) {
            a.run.delayed_ack_us = std::atoll(s.c_str() + 20);
            if (*a.run.delayed_ack_us < 0 || *a.run.delayed_ack_us >= 500000) return false;
        } else if (s == "--help" || s == "-h" || (s.size() > 1 && s[0] == '-')) {
            return false;
        } else {
            a.paths.push_back(s);
        }
    }
    return !a.paths.empty();
}

// Files as given; directories expanded to their *.pkt files, sorted.
std::vector<std::string> collect(const Args& a, int& not_run) {
    std::vector<std::string> out;
    for (const auto& p : a.paths) {
        std::error_code ec;
        if (!fs::exists(p, ec)) {
            if (a.skip_missing) {
                std::printf("NOT RUN %s: does not exist\n", p.c_str());
                ++not_run;
                continue;
            }
            out.push_back(p);  // reported as "cannot open"
        } else if (fs::is_directory(p, ec)) {
            std::vector<std::string> found;
            for (const auto& e : fs::recursive_directory_iterator(p)) {
                if (e.is_regular_file() && e.path().extension() == ".pkt") found.push_back(e.path().string());
            }
            std::sort(found.begin(), found.end());
            out.insert(out.end(), found.begin(), found.end());
        } else {
            out.push_back(p);
        }
    }
    return out;
}

std::vector<std::string> expected_errors(const std::string& path) {
    std::vector<std::string> out;
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) return out;
    char line[1024];
    while (std::fgets(line, sizeof line, f) != nullptr) {
        const char* tag = std::strstr(line, "// expect-error:");
        if (tag == nullptr) continue;
        std::string t = tag + 16;
        while (!t.empty() && (t.front() == ' ')) t.erase(0, 1);
        while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
        out.push_back(t);
    }
    std::fclose(f);
    return out;
}

void indent(const std::string& text) {
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        std::printf("    %s\n", text.substr(pos, eol - pos).c_str());
        pos = eol + 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    if (!parse_args(argc, argv, a)) {
        usage();
        return 2;
    }
    std::vector<Expectation> expectations;
    if (!a.expectations.empty()) {
        std::string err;
        auto loaded = load_expectations(a.expectations, err);
        if (!loaded) {
            std::fprintf(stderr, "%s\n", err.c_str());
            return 2;
        }
        expectations = std::move(*loaded);
    }
    int not_run = 0;
    const auto scripts = collect(a, not_run);
    int passed = 0, xfail = 0, bad = 0, commands = 0, code = 0;
    std::set<std::string> refused;
    for (const auto& path : scripts) {
        const RunResult r = run_file(path, a.run);
        commands += r.skipped_commands;
        code += r.skipped_code;
        refused.insert(r.refused_options.begin(), r.refused_options.end());
        for (const auto& f : r.ignored_flags) std::printf("note: %s: flag %s ignored\n", path.c_str(), f.c_str());
        if (a.expect_fail) {
            bool ok = !r.passed;
            for (const auto& want : expected_errors(path)) {
                if (r.error.find(want) == std::string::npos) ok = false;
            }
            std::printf("%s %s\n", ok ? "OK (failed as expected)" : "BAD", path.c_str());
            if (r.passed) std::printf("    the script passed but must fail\n");
            if (!r.error.empty()) indent(r.error);
            (ok ? passed : bad)++;
            continue;
        }
        Expectation* x = find_expectation(expectations, path);
        if (x != nullptr) x->used = true;
        if (r.passed && x == nullptr) {
            std::printf("PASS %s\n", path.c_str());
            ++passed;
        } else if (r.passed) {
            std::printf("UNEXPECTED PASS %s (listed: %s) -- remove it from %s\n", path.c_str(), x->reason.c_str(),
                        a.expectations.c_str());
            ++bad;
        } else if (x != nullptr) {
            std::printf("XFAIL %s (%s)\n", path.c_str(), x->reason.c_str());
            indent(r.error);
            ++xfail;
        } else {
            std::printf("FAIL %s\n", path.c_str());
            indent(r.error);
            ++bad;
        }
    }
    std::printf("\n%zu scripts: %d passed, %d expected failures, %d failed", scripts.size(), passed, xfail, bad);
    if (not_run > 0) std::printf(", %d paths not run", not_run);
    std::printf("; skipped %d shell commands and %d python blocks (never executed)\n", commands, code);
    if (!refused.empty()) {
        std::printf("socket options the engine refused (ENOPROTOOPT):");
        for (const auto& o : refused) std::printf(" %s", o.c_str());
        std::printf("\n");
    }
    for (const auto& x : expectations) {
        if (!x.used && !scripts.empty()) {
            std::printf("note: %s:%d: %s matched no script\n", a.expectations.c_str(), x.line, x.path.c_str());
        }
    }
    return bad == 0 ? 0 : 1;
}
