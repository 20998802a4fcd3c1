// Corpus replay for builds without libFuzzer (the default gcc build): feeds
// every file named on the command line, or found in a directory named there,
// to LLVMFuzzerTestOneInput twice and checks both runs did the same
// (last_input_digest()). A failed check aborts, naming the file.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const fs::path p(argv[i]);
        if (fs::is_directory(p)) {
            for (const auto& entry : fs::directory_iterator(p)) {
                if (entry.is_regular_file()) files.push_back(entry.path());
            }
        } else if (fs::is_regular_file(p)) {
            files.push_back(p);
        } else {
            std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
            return 2;
        }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        const std::vector<char> raw((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
        std::vector<std::uint8_t> bytes(raw.begin(), raw.end());
        std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), bytes.size());
        // Twice: the engine targets reuse their engines between inputs, and
        // the second run (after itself) must do exactly what the first
        // (after the previous file) did.
        (void)LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
        const std::uint64_t first = tcpfp::fuzz::last_input_digest();
        (void)LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
        const std::uint64_t second = tcpfp::fuzz::last_input_digest();
        if (first != second) {
            std::fprintf(stderr, "replay: %s: not deterministic: digest %016llx, then %016llx\n",
                         f.c_str(), static_cast<unsigned long long>(first),
                         static_cast<unsigned long long>(second));
            return 1;
        }
    }
    std::printf("replayed %zu inputs, each twice with the same result\n", files.size());
    return 0;
}
