// The option table against what is written from it or beside it: --help, the config file's
// setting names and the man page (docs/squtun.8, whose path SQUTUN_MAN_PAGE gives). Each
// comparison lists its differences, and is also run on a doctored text to show it finds one.

#include "cli/options.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/config_file.h"

namespace squtun::cli {
namespace {

using Differences = std::vector<std::string>;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string joined(const Differences& differences) {
  std::string all;
  for (const auto& d : differences) all += "\n  " + d;
  return all;
}

// How --help and the man page show an option: "-l, --listen PORT", "--tap".
std::string help_head(const OptionSpec& spec) {
  std::string head = spec.short_name ? std::string("-") + spec.short_name + ", " : "";
  head += "--" + std::string(spec.long_name);
  if (!spec.argument.empty()) head += " " + std::string(spec.argument);
  return head;
}

// What `found` in `where` (each option as "Section: -x, --xx ARG") lacks or has beyond the table.
Differences compare_with_table(const std::set<std::string>& found, const std::string& where) {
  std::set<std::string> expected;
  for (const auto& spec : option_table()) expected.insert(std::string(spec.section) + ": " + help_head(spec));
  Differences differences;
  for (const auto& e : expected) {
    if (!found.contains(e)) differences.push_back(e + ": in the table, not in " + where);
  }
  for (const auto& f : found) {
    if (!expected.contains(f)) differences.push_back(f + ": in " + where + ", not in the table");
  }
  return differences;
}

// ---- --help: "Title:" lines open a section; option lines are "  -x, --xx ARG   text" or
// "      --xx ARG   text", the head ending at the first double space.
Differences help_differences(const std::string& help) {
  std::set<std::string> found;
  std::string section;
  for (const auto& line : lines_of(help)) {
    if (!line.empty() && std::isupper(static_cast<unsigned char>(line[0])) && line.back() == ':') {
      section = line.substr(0, line.size() - 1);
    } else if (line.rfind("  -", 0) == 0 || line.rfind("      --", 0) == 0) {
      const auto start = line.find('-');
      found.insert(section + ": " + line.substr(start, line.find("  ", start) - start));
    }
  }
  return compare_with_table(found, "--help");
}

// ---- The man page.
std::string read_man_page() {
  std::ifstream in(SQUTUN_MAN_PAGE);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A roff line as text: no macro name, quotes or font changes; "\-" is "-".
std::string plain(const std::string& roff) {
  std::string out;
  std::size_t i = roff.rfind('.', 0) == 0 ? roff.find(' ') : 0;
  for (; i < roff.size(); ++i) {
    if (roff[i] == '"') continue;
    if (roff[i] != '\\' || i + 1 == roff.size()) {
      out += roff[i];
      continue;
    }
    const char escape = roff[++i];
    if (escape == '-') out += '-';
    if (escape == '~' || escape == ' ') out += ' ';
    if (escape == 'f') i += roff[i + 1] == '(' ? 3 : roff[i + 1] == '[' ? roff.find(']', i) - i : 1;
  }
  return out;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (const char c : text + " ") {
    if (c != ' ' && c != ',') {
      word += c;
    } else if (!word.empty()) {
      out.push_back(word);
      word.clear();
    }
  }
  return out;
}

// An OPTIONS tag (the line after .TP or .TQ) as "Section: -x, --xx ARG", the argument in
// upper case as --help has it; empty for a tag that names no option (show ifname).
std::string man_tag(const std::string& section, const std::string& roff) {
  std::string short_form, long_form, argument;
  for (auto word : words(plain(roff))) {
    if (word.rfind("--", 0) == 0) {
      long_form += (long_form.empty() ? "" : " ") + word;
    } else if (word.size() == 2 && word[0] == '-') {
      short_form += word + ", ";
    } else {
      std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::toupper(c); });
      if (argument.find(" " + word) == std::string::npos) argument += " " + word;
    }
  }
  if (long_form.empty() && short_form.empty()) return "";
  return section + ": " + short_form + long_form + argument;
}

Differences man_option_differences(const std::string& man) {
  std::set<std::string> found;
  bool in_options = false;
  bool tag_next = false;
  std::string section;
  for (const auto& line : lines_of(man)) {
    if (line.rfind(".SH", 0) == 0) in_options = line == ".SH OPTIONS";
    if (!in_options) continue;
    if (line.rfind(".SS ", 0) == 0) section = line.substr(4);
    if (tag_next && !man_tag(section, line).empty()) found.insert(man_tag(section, line));
    tag_next = line == ".TP" || line == ".TQ";
  }
  return compare_with_table(found, "the man page's OPTIONS");
}

// The --config paragraph names the settings: "is one of the long options .BR listen , ...
// or one of the flags .BR foreground , ... whose value is". Each as "value listen" or
// "flag tap".
std::set<std::string> man_config_names(const std::string& man) {
  std::set<std::string> names;
  std::string kind;
  for (const auto& line : lines_of(man)) {
    if (line == "is one of the long options") kind = "value ";
    if (line == "or one of the flags") kind = "flag ";
    if (line == "whose value is") kind.clear();
    if (!kind.empty() && line.rfind(".B", 0) == 0) names.insert(kind + words(plain(line)).front());
  }
  return names;
}

std::set<std::string> table_config_names() {
  std::set<std::string> names;
  for (const auto& spec : option_table()) {
    if (spec.config_file) names.insert((spec.argument.empty() ? "flag " : "value ") + std::string(spec.config_key()));
  }
  return names;
}

// ---- The config file: a line named by each option's config key is taken as that option, and
// no line sets an option the table keeps off the config file.
Differences config_file_differences() {
  Differences differences;
  for (const auto& spec : option_table()) {
    const std::string key(spec.config_key()), option = "--" + std::string(spec.long_name);
    const bool flag = spec.argument.empty();
    const std::vector<std::string> expected{flag ? option : option + "=x"};
    std::vector<std::string> args;
    try {
      args = config_arguments(key + " = " + (flag ? "yes" : "x"), "f");
    } catch (const UsageError&) {
    }
    if (spec.config_file && args != expected) differences.push_back(key + ": a config line does not become " + option);
    if (!spec.config_file && args == expected) differences.push_back(option + ": set by a config file, which the table forbids");
  }
  return differences;
}

TEST(OptionTableTest, NamesAreUniqueSectionsTogetherAndRangesForValues) {
  std::set<std::string_view> long_names, sections, config_keys;
  std::set<char> short_names;
  std::string_view section;
  for (const auto& spec : option_table()) {
    EXPECT_TRUE(long_names.insert(spec.long_name).second) << spec.long_name;
    EXPECT_TRUE(!spec.short_name || short_names.insert(spec.short_name).second) << spec.short_name;
    EXPECT_TRUE(spec.section == section || sections.insert(spec.section).second) << spec.long_name << ": "
                                                                                 << spec.section << " again";
    section = spec.section;
    EXPECT_TRUE(!spec.range || !spec.argument.empty()) << spec.long_name;
    EXPECT_EQ(find_long_option(spec.long_name), &spec);
    EXPECT_TRUE(!spec.config_file || config_keys.insert(spec.config_key()).second) << spec.config_key();
    EXPECT_TRUE(spec.config_name.empty() || spec.config_file) << spec.long_name << ": a config name, but no config file";
  }
  EXPECT_EQ(find_long_option("no-such-option"), nullptr);
}

TEST(OptionTableTest, HelpListsEveryOptionInItsSection) {
  const std::string help = usage_text();
  const Differences differences = help_differences(help);
  EXPECT_TRUE(differences.empty()) << joined(differences);
  EXPECT_EQ(help.find("{range}"), std::string::npos) << "a range placeholder was left in --help";
  EXPECT_NE(help.find("UDP port to listen on (1-65535)"), std::string::npos);
}

TEST(OptionTableTest, HelpComparisonFindsAMissingAndAStrayOption) {
  std::string doctored = usage_text();
  doctored.replace(doctored.find("      --genkey"), 14, "      --genkeys");
  const std::string differences = joined(help_differences(doctored));
  EXPECT_NE(differences.find("Other actions: --genkey: in the table, not in --help"), std::string::npos) << differences;
  EXPECT_NE(differences.find("Other actions: --genkeys: in --help, not in the table"), std::string::npos) << differences;
}

TEST(OptionTableTest, ConfigFileTakesExactlyTheSettingsTheTableAllows) {
  const Differences differences = config_file_differences();
  EXPECT_TRUE(differences.empty()) << joined(differences);
  EXPECT_GT(table_config_names().size(), 10u);
  EXPECT_EQ(config_arguments("mtu = auto", "f"), std::vector<std::string>{"--tun-mtu=auto"});
}

TEST(OptionTableTest, ConfigFileComparisonFindsAWrongKey) {
  EXPECT_EQ(find_config_option("mtu"), find_long_option("tun-mtu"));
  EXPECT_EQ(find_config_option("tun-mtu"), nullptr);
  EXPECT_EQ(find_config_option("config"), nullptr);
}

TEST(OptionTableTest, ManPageDescribesEveryOptionAsTheTableDoes) {
  const std::string man = read_man_page();
  ASSERT_NE(man.find(".SH OPTIONS"), std::string::npos) << "cannot read " << SQUTUN_MAN_PAGE;
  const Differences differences = man_option_differences(man);
  EXPECT_TRUE(differences.empty()) << joined(differences);
}

TEST(OptionTableTest, ManPageNamesTheConfigSettingsOfTheTable) {
  const std::set<std::string> in_man = man_config_names(read_man_page());
  for (const auto& name : table_config_names()) EXPECT_TRUE(in_man.contains(name)) << name << ": not in the man page";
  for (const auto& name : in_man) EXPECT_TRUE(table_config_names().contains(name)) << name << ": not in the table";
}

TEST(OptionTableTest, ManPageComparisonFindsDifferences) {
  std::string man = read_man_page();
  const auto replace = [&man](const std::string& from, const std::string& to) {
    const auto at = man.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    man.replace(at, from.size(), to);
  };
  replace(".TP\n.B \\-\\-genkey\n", ".TP\n.B \\-\\-no\\-such\\-option\n");
  replace(".BR \\-v \", \" \\-\\-verbose", ".BR \\-v \", \" \\-\\-verbatim");
  replace(".BI \\-k \" file\"", ".BI \\-k \" keyfile\"");
  replace("or one of the flags\n.BR foreground ,\n", "or one of the flags\n");
  const std::string differences = joined(man_option_differences(man));
  for (const char* expected :
       {"Other actions: --genkey: in the table, not", "Other actions: --no-such-option: in the man page",
        "Process: -v, --verbose: in the table", "Process: -v, --verbatim: in the man page",
        "Tunnel: -k, --key FILE: in the table", "Tunnel: -k, --key KEYFILE FILE: in the man page"}) {
    EXPECT_NE(differences.find(expected), std::string::npos) << expected << " not reported:" << differences;
  }
  EXPECT_FALSE(man_config_names(man).contains("flag foreground"));
}

TEST(OptionTableTest, OnlySettingsAReloadCanApplyAreReloadable) {
  for (const auto& spec : option_table()) {
    EXPECT_TRUE(!spec.reloadable || spec.config_file) << spec.long_name << ": a reload reads only the config file";
  }
  for (const char* live : {"key", "keepalive", "clock-skew", "verbose", "quiet", "peer"}) {
    EXPECT_TRUE(find_long_option(live)->reloadable) << live;
  }
  for (const char* restart : {"listen", "interface", "user", "chroot", "tap", "foreground"}) {
    EXPECT_FALSE(find_long_option(restart)->reloadable) << restart;
  }
}

}  // namespace
}  // namespace squtun::cli
