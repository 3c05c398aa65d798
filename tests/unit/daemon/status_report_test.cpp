#include "daemon/status_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>

namespace squtun::daemon {
namespace {

using protocol::CounterDescription;
using protocol::Counters;
using protocol::DropReason;
using Field = Counters::Counter Counters::*;

// Every counter set to a value no other has: 1000 + its place in the descriptions.
void set_distinct_values(Counters& counters) {
  const auto descriptions = protocol::counter_descriptions();
  for (std::size_t i = 0; i < descriptions.size(); ++i) {
    if (const auto* reason = std::get_if<DropReason>(&descriptions[i].source)) {
      counters.drop(*reason, 1000 + i);
    } else {
      (counters.*std::get<Field>(descriptions[i].source)).store(1000 + i);
    }
  }
}

TEST(CounterDescriptions, DescribeEveryCounterExactlyOnce) {
  const auto descriptions = protocol::counter_descriptions();
  // Counters holds nothing but counters, so one added without a description changes this.
  EXPECT_EQ(descriptions.size(), sizeof(Counters) / sizeof(Counters::Counter));
  for (const CounterDescription& d : descriptions) {
    const auto same_source = [&d](const auto& e) { return e.source == d.source; };
    const auto same_name = [&d](const auto& e) { return e.name == d.name; };
    EXPECT_EQ(std::ranges::count_if(descriptions, same_source), 1) << d.name;
    EXPECT_EQ(std::ranges::count_if(descriptions, same_name), 1) << d.name;
    EXPECT_FALSE(d.meaning.empty()) << d.name;
  }
}

TEST(CounterDescriptions, DropCountersAreNamedDropAndInDropReasonOrder) {
  std::size_t next_reason = 0;
  for (const CounterDescription& d : protocol::counter_descriptions()) {
    const auto* reason = std::get_if<DropReason>(&d.source);
    EXPECT_EQ(d.name.starts_with("drop_"), reason != nullptr) << d.name;
    if (reason) {
      EXPECT_EQ(static_cast<std::size_t>(*reason), next_reason++) << d.name;
    }
  }
  EXPECT_EQ(next_reason, static_cast<std::size_t>(DropReason::kCount));
}

// The paragraph of docs/squtun.8 that lists what `squtun show` prints.
std::string man_page_show_paragraph() {
  std::ifstream in(SQUTUN_MAN_PAGE);
  std::stringstream text;
  text << in.rdbuf();
  const std::string page = text.str();
  const std::size_t start = page.find(".BI show \" ifname\"\n");
  if (start == std::string::npos) return "";
  return page.substr(start, page.find("\n.TP\n", start) - start);
}

TEST(CounterDescriptions, TheManPageNamesEveryCounter) {
  const std::string paragraph = man_page_show_paragraph();
  ASSERT_FALSE(paragraph.empty()) << "no show paragraph in " << SQUTUN_MAN_PAGE;
  for (const CounterDescription& d : protocol::counter_descriptions()) {
    // Drops are listed as drop_REASON, then each reason.
    const bool drop = std::holds_alternative<DropReason>(d.source);
    const std::string name(drop ? d.name.substr(std::string_view("drop_").size()) : d.name);
    bool named = false;
    for (const char before : {' ', '(', '\n'}) {
      for (const char after : {',', ')'}) named = named || paragraph.find(before + name + after) != std::string::npos;
    }
    EXPECT_TRUE(named) << d.name << " is not in the show paragraph of docs/squtun.8";
  }
}

TEST(StatusReport, ShowTextHasTheTunnelAndEveryCounter) {
  Counters counters;
  set_distinct_values(counters);
  const TunnelStatus status{.interface = "tun0",
                            .listen_port = 7777,
                            .offload_tun = false,
                            .offload_udp_gso = false,
                            .offload_udp_gro = true,
                            .threads = 4,
                            .peer = std::nullopt,
                            .session_up = false,
                            .counters = counters};
  const std::string text = show_text(status);
  EXPECT_EQ(text.rfind("interface: tun0\nlisten_port: 7777\noffload_tun: off\n"
                       "offload_udp_gso: off\noffload_udp_gro: on\nthreads: 4\npeer: (none yet)\n"
                       "session: down\n",
                       0),
            0u)
      << text;
  for (const CounterDescription& d : protocol::counter_descriptions()) {
    const std::string line =
        "\n" + std::string(d.name) + ": " + std::to_string(d.value(counters)) + "\n";
    EXPECT_NE(text.find(line), std::string::npos) << d.name << " missing from:\n" << text;
  }
}

TEST(StatusReport, CountersLineHasThePeerAndEveryCounter) {
  Counters counters;
  set_distinct_values(counters);
  const std::string line = counters_line({.interface = "tun0",
                                          .listen_port = 7777,
                                          .peer = base::Endpoint::v4({198, 18, 0, 2}, 7777),
                                          .session_up = true,
                                          .counters = counters});
  EXPECT_EQ(line.rfind("peer 198.18.0.2:7777; ", 0), 0u) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  for (const CounterDescription& d : protocol::counter_descriptions()) {
    const std::string item = " " + std::string(d.name) + "=" + std::to_string(d.value(counters));
    // The whole value, not the start of a longer one.
    EXPECT_NE((line + " ").find(item + " "), std::string::npos) << d.name << " missing: " << line;
  }
}

TEST(StatusReport, JsonHasEveryFieldTyped) {
  Counters counters;
  set_distinct_values(counters);
  const std::string json = show_json(show_text({.interface = "tun0",
                                                .listen_port = 7777,
                                                .offload_udp_gro = true,
                                                .threads = 2,
                                                .peer = std::nullopt,
                                                .counters = counters}));
  EXPECT_EQ(json.rfind("{\"interface\": \"tun0\", \"listen_port\": 7777, \"offload_tun\": false, "
                       "\"offload_udp_gso\": false, \"offload_udp_gro\": true, \"threads\": 2, \"peer\": null, "
                       "\"session\": \"down\", ",
                       0),
            0u)
      << json;
  for (const CounterDescription& d : protocol::counter_descriptions()) {
    const std::string item = "\"" + std::string(d.name) + "\": " + std::to_string(d.value(counters));
    EXPECT_NE(json.find(item), std::string::npos) << d.name << " missing: " << json;
  }
  EXPECT_EQ(json.substr(json.size() - 2), "}\n");
}

TEST(StatusReport, PrometheusNamesEveryCounterWithTheInterfaceLabel) {
  Counters counters;
  set_distinct_values(counters);
  const std::int64_t handshake_ns = 1'700'000'000'000'000'000;
  counters.last_handshake_unix_ns.store(handshake_ns);
  const std::string text = show_prometheus(
      show_text({.interface = "tun0",
                 .listen_port = 7777,
                 .threads = 3,
                 .peer = base::Endpoint::v4({198, 18, 0, 2}, 7777),
                 .session_up = true,
                 .counters = counters}),
      handshake_ns + 2'500'000'000);
  const auto has = [&text](const std::string& line) {
    EXPECT_NE(text.find("\n" + line + "\n"), std::string::npos) << line << " missing from:\n" << text;
  };
  has("squtun_info{interface=\"tun0\",listen_port=\"7777\",peer=\"198.18.0.2:7777\",key=\"none\",next_key=\"none\",session_key=\"none\"} 1");
  has("squtun_session_up{interface=\"tun0\"} 1");
  has("squtun_threads{interface=\"tun0\"} 3");
  has("squtun_last_handshake_seconds{interface=\"tun0\"} 2.500000");
  has("squtun_rx_bytes_total{interface=\"tun0\"} " + std::to_string(counters.rx_bytes.load()));
  has("# TYPE squtun_drops_total counter");
  for (const CounterDescription& d : protocol::counter_descriptions()) {
    if (!std::holds_alternative<DropReason>(d.source)) continue;
    has("squtun_drops_total{interface=\"tun0\",reason=\"" + std::string(d.name.substr(5)) + "\"} " +
        std::to_string(d.value(counters)));
  }
}

TEST(StatusReport, FormatsRefuseWhatIsNotShowText) {
  EXPECT_THROW(show_json("interface tun0\n"), std::runtime_error);
  EXPECT_THROW(show_json(""), std::runtime_error);
  EXPECT_THROW(show_prometheus("interface: tun0\n", 0), std::runtime_error);  // no peer line
  EXPECT_THROW(show_json("interface: tun0\nrx_bytes: many\n"), std::runtime_error);
}

}  // namespace
}  // namespace squtun::daemon
