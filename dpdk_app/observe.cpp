#include "dpdk_app/observe.hpp"

namespace tcpfp::app {

void start_observability(Shared&, std::vector<std::unique_ptr<Worker>>&) {}
void stop_observability() {}

}  // namespace tcpfp::app
