// The main lcore's side of the tcpfp> prompt: commands parsed by DPDK's
// cmdline library (tokens, completion, help), an interactive prompt (-i) and
// command scripts (--cmdline-file). Commands that touch an engine go to the
// owning worker as typed messages (dpdk_app/apps/command.hpp) through its
// mailbox and wait for the reply; published figures are read directly.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/port.hpp"
#include "dpdk_app/shared.hpp"

namespace tcpfp::app::cli {

class PromptState;

// Creates the per-worker mailboxes, SPSC rte_rings of Command pointers
// (before the workers are built).
bool make_mailboxes(Shared& shared, std::string& error);
void free_mailboxes(Shared& shared);

class Prompt {
public:
    // `stop` is set (by the signal handler) to end a script or a wait early.
    Prompt(const AppConfig& cfg, const Port& port, Shared& shared, const std::atomic<int>& stop);
    ~Prompt();
    Prompt(const Prompt&) = delete;
    Prompt& operator=(const Prompt&) = delete;

    // Runs a script, echoing each command; stops at the first failure.
    // Returns true when every command and assertion succeeded.
    bool run_file(const std::string& path);
    // The interactive prompt on stdin, until `quit` or end of input.
    void interact();
    bool quit_requested() const;

private:
    std::unique_ptr<PromptState> st_;  // everything the commands share
};

}  // namespace tcpfp::app::cli
