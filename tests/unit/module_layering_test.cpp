// Every #include "module/..." in src/ names the including module itself or a module it links
// (directly or through another): the layering CMakeLists.txt declares is the one the code
// follows, so a module can be understood, built and tested with only those below it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ModuleMap = std::map<std::string, std::set<std::string>>;

// "base=|crypto=base|protocol=base,crypto" -> {base: {}, crypto: {base}, ...}
ModuleMap allowed_includes() {
  ModuleMap map;
  std::stringstream entries{std::string(SQUTUN_MODULE_INCLUDES)};
  for (std::string entry; std::getline(entries, entry, '|');) {
    const auto equals = entry.find('=');
    std::set<std::string>& allowed = map[entry.substr(0, equals)];
    std::stringstream deps{entry.substr(equals + 1)};
    for (std::string dep; std::getline(deps, dep, ',');) allowed.insert(dep);
  }
  return map;
}

struct Include {
  std::string file;
  std::string module;
};

// The module of `#include "module/file.h"`, or nothing for any other line. (Not std::regex:
// GCC 12 warns inside <regex> under the sanitizers, and warnings are errors in CI.)
std::optional<std::string> included_module(const std::string& line) {
  std::istringstream words(line);
  std::string hash, rest;
  words >> hash;
  if (hash == "#") words >> hash, hash = "#" + hash;
  if (hash == "#include") words >> rest;
  else if (hash.rfind("#include\"", 0) == 0) rest = hash.substr(8);
  const auto slash = rest.find('/');
  if (rest.size() < 3 || rest[0] != '"' || slash == std::string::npos || slash < 2) return std::nullopt;
  const std::string module = rest.substr(1, slash - 1);
  const bool name = std::all_of(module.begin(), module.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
  return name ? std::optional(module) : std::nullopt;
}

std::vector<Include> squtun_includes(const fs::path& module_dir) {
  std::vector<Include> found;
  for (const auto& entry : fs::directory_iterator(module_dir)) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (const auto module = included_module(line)) found.push_back({entry.path().filename().string(), *module});
    }
  }
  return found;
}

TEST(ModuleLayering, EverySourceDirectoryIsADeclaredModule) {
  const ModuleMap allowed = allowed_includes();
  for (const auto& entry : fs::directory_iterator(SQUTUN_SOURCE_DIR)) {
    if (!entry.is_directory()) continue;
    EXPECT_TRUE(allowed.contains(entry.path().filename().string()))
        << entry.path() << " is not a squtun_module() in CMakeLists.txt";
  }
}

TEST(ModuleLayering, ModulesIncludeOnlyThemselvesAndWhatTheyLink) {
  for (const auto& [module, reachable] : allowed_includes()) {
    for (const Include& include : squtun_includes(fs::path(SQUTUN_SOURCE_DIR) / module)) {
      EXPECT_TRUE(include.module == module || reachable.contains(include.module))
          << "src/" << module << "/" << include.file << " includes \"" << include.module
          << "/...\", a module that squtun_" << module << " does not link";
    }
  }
}

TEST(ModuleLayering, BaseIsALeaf) {
  EXPECT_TRUE(allowed_includes().at("base").empty());
}

}  // namespace
