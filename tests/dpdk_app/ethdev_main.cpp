// main() of the dpdk_app tests against real ethdevs (tx_test.cpp,
// arp_test.cpp): EAL without hugepages, PCI or shared files, so they run
// beside any other DPDK process.
#include <gtest/gtest.h>
#include <rte_eal.h>

#include <cstdio>
#include <iterator>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    char* eal[] = {argv[0], const_cast<char*>("--no-huge"), const_cast<char*>("-m"),
                   const_cast<char*>("256"), const_cast<char*>("--no-pci"),
                   const_cast<char*>("--no-shconf"), const_cast<char*>("--no-telemetry"),
                   const_cast<char*>("--log-level=error"), const_cast<char*>("-l"),
                   const_cast<char*>("0")};
    if (rte_eal_init(static_cast<int>(std::size(eal)), eal) < 0) {
        std::fprintf(stderr, "dpdk_ethdev_test: EAL did not start (root? memory?)\n");
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    return rc;
}
