#pragma once

#include <span>
#include <string>

namespace squtun::cli {

// Runs squtun with the arguments after the program name; returns the exit status.
int run_app(std::span<const std::string> args);

}  // namespace squtun::cli
