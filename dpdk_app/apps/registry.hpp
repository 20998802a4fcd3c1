// The apps a configuration can start by name (`[apps] run = NAME[:ARGS], ...`):
// one row per app, in registry.cpp. Adding a row and the app's .cpp to the
// apps library in dpdk_app/meson.build is all it takes to run a new app.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "dpdk_app/apps/app.hpp"

namespace tcpfp::app {

struct AppFactory {
    const char* name;
    const char* args;  // what ARGS means, for errors and docs
    // One instance per worker; nullptr with `error` set when ARGS is bad.
    std::unique_ptr<App> (*make)(std::string_view args, std::string& error);
};

std::span<const AppFactory> app_factories();
const AppFactory* find_app(std::string_view name);

}  // namespace tcpfp::app
