#include "cli/config_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/options.h"

namespace squtun::cli {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// A flag's value: true to set it, false to leave it unset.
bool flag_value(std::string_view value, const std::string& where) {
  if (value == "yes" || value == "true" || value == "1") return true;
  if (value == "no" || value == "false" || value == "0") return false;
  throw UsageError(where + ": '" + std::string(value) + "' is not yes or no");
}

}  // namespace

std::vector<std::string> config_arguments(std::string_view text, const std::string& origin) {
  std::vector<std::string> args;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const std::string_view raw = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    ++line_number;
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = origin + ":" + std::to_string(line_number);
    // A C string would end at the NUL and silently use a different value.
    if (line.find('\0') != std::string_view::npos) throw UsageError(where + ": contains a NUL byte");
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) throw UsageError(where + ": expected 'name = value'");
    const std::string name(trim(line.substr(0, eq)));
    const std::string value(trim(line.substr(eq + 1)));
    const OptionSpec* spec = find_config_option(name);
    if (!spec)
      throw UsageError(where + ": unknown setting '" + name + "' (settings are named like the long options, e.g. listen = 7777)");
    if (!spec->argument.empty()) {
      args.push_back("--" + std::string(spec->long_name) + "=" + value);
    } else if (flag_value(value, where + ": " + name)) {
      args.push_back("--" + std::string(spec->long_name));
    }
  }
  return args;
}

std::string read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read config file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> expand_config(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  std::vector<std::string> from_file;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string path;
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) throw UsageError("--config needs a value");
      path = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      path = args[i].substr(9);
    } else {
      rest.push_back(args[i]);
      continue;
    }
    if (path.empty()) throw UsageError("--config: the value is empty");
    const auto file_args = config_arguments(read_config_file(path), path);
    from_file.insert(from_file.end(), file_args.begin(), file_args.end());
  }
  from_file.insert(from_file.end(), rest.begin(), rest.end());
  return from_file;
}

}  // namespace squtun::cli
