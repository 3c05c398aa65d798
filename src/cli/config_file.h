#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace squtun::cli {

// Turns a config file of `name = value` lines, named like the long options, into the
// equivalent long-option arguments ("listen = 7777" -> "--listen=7777"; a flag takes
// yes/no, true/false or 1/0). Blank lines and lines starting with '#' are skipped.
// Throws UsageError naming the file and line.
std::vector<std::string> config_arguments(std::string_view text, const std::string& origin);

// Reads a config file; throws std::runtime_error naming the file if it cannot be read.
std::string read_config_file(const std::string& path);

// Expands `--config FILE` (or `--config=FILE`): the file's options come first, so the
// rest of the command line overrides them.
std::vector<std::string> expand_config(const std::vector<std::string>& args);

}  // namespace squtun::cli
