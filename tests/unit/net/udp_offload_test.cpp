// UDP GSO and GRO through UdpSocket, each test on the loopback of a fresh network
// namespace: its own /proc/net/snmp counters show how many messages left, and lo's MTU is
// free to change.
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/fd.h"
#include "fresh_netns.h"
#include "net/sockaddr.h"
#include "net/udp_socket.h"

namespace squtun::net {
namespace {

using base::Endpoint;

const std::array<std::uint8_t, 4> kLoopbackV4{127, 0, 0, 1};
const std::array<std::uint8_t, 16> kLoopbackV6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr SocketOptions kPlain{.offload = false};

// Datagram `tag` of `size` bytes: a reordered, merged, split or truncated one mismatches.
std::vector<std::uint8_t> pattern(std::size_t tag, std::size_t size) {
  std::vector<std::uint8_t> data(size);
  for (std::size_t k = 0; k < size; ++k) data[k] = static_cast<std::uint8_t>(tag * 131 + k);
  return data;
}

struct Outgoing {
  std::size_t size;
  Endpoint to;
};

// Fills the batch in order; datagram i carries pattern(i, size).
void fill(DatagramBatch& batch, const std::vector<Outgoing>& datagrams) {
  for (std::size_t i = 0; i < datagrams.size(); ++i) {
    const auto data = pattern(i, datagrams[i].size);
    std::copy(data.begin(), data.end(), batch.slot(i).begin());
    batch.length(i) = data.size();
    batch.endpoint(i) = datagrams[i].to;
  }
  batch.set_count(datagrams.size());
}

std::vector<Outgoing> repeat(std::size_t count, std::size_t size, const Endpoint& to) {
  return std::vector<Outgoing>(count, Outgoing{size, to});
}

std::vector<Outgoing> operator+(std::vector<Outgoing> a, const std::vector<Outgoing>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Datagram {
  std::vector<std::uint8_t> data;
  Endpoint from;
};
// What one receive() call presented.
using Group = std::vector<Datagram>;

// Receives until `expected` datagrams arrived or nothing came for a second.
std::vector<Group> receive_groups(UdpSocket& socket, std::size_t expected, DatagramBatch& batch) {
  std::vector<Group> groups;
  std::size_t total = 0;
  while (total < expected) {
    pollfd pfd{socket.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 1000) <= 0) break;
    while (socket.receive(batch)) {
      Group group;
      for (std::size_t i = 0; i < batch.count(); ++i) {
        const auto data = batch.datagram(i);
        group.push_back({{data.begin(), data.end()}, batch.endpoint(i)});
      }
      total += group.size();
      groups.push_back(std::move(group));
    }
  }
  return groups;
}

// One slot per receive() call, so each group is exactly one message as the kernel queued it.
std::vector<Group> receive_messages(UdpSocket& socket, std::size_t expected) {
  DatagramBatch batch(1, DatagramBatch::kGroSlotSize);
  return receive_groups(socket, expected, batch);
}

std::vector<std::size_t> sizes_of(const Group& group) {
  std::vector<std::size_t> sizes;
  for (const auto& d : group) sizes.push_back(d.data.size());
  return sizes;
}

std::string describe(const std::vector<Group>& groups) {
  std::ostringstream out;
  for (const auto& g : groups) {
    out << "[";
    for (const auto& d : g) out << d.data.size() << " ";
    out << "] ";
  }
  return out.str();
}

// The datagrams of `sent` whose index is in `tags`, as they must arrive, in order.
std::string expect_datagrams(const std::vector<Group>& groups, const std::vector<Outgoing>& sent,
                             const std::vector<std::size_t>& tags, const Endpoint& from) {
  std::vector<Datagram> flat;
  for (const auto& g : groups) flat.insert(flat.end(), g.begin(), g.end());
  if (flat.size() != tags.size()) {
    return "received " + std::to_string(flat.size()) + " datagrams, expected " + std::to_string(tags.size()) +
           ": " + describe(groups);
  }
  for (std::size_t k = 0; k < tags.size(); ++k) {
    if (flat[k].data != pattern(tags[k], sent[tags[k]].size)) return "datagram " + std::to_string(k) + " differs";
    if (flat[k].from != from) return "datagram " + std::to_string(k) + " from " + flat[k].from.to_string();
  }
  return "";
}

std::vector<std::size_t> range(std::size_t first, std::size_t end) {
  std::vector<std::size_t> tags;
  for (std::size_t i = first; i < end; ++i) tags.push_back(i);
  return tags;
}

std::string expect_sizes(const std::vector<Group>& groups, const std::vector<std::vector<std::size_t>>& expected) {
  std::vector<std::vector<std::size_t>> got;
  for (const auto& g : groups) got.push_back(sizes_of(g));
  return got == expected ? "" : "grouped as " + describe(groups);
}

// UDP datagrams this namespace's stack sent: one per message, a GSO train counting once.
long out_datagrams() {
  std::ifstream snmp("/proc/net/snmp");
  std::string names;
  std::string values;
  std::string line;
  while (std::getline(snmp, line)) {
    if (line.rfind("Udp: ", 0) != 0) continue;
    (names.empty() ? names : values) = line;
  }
  std::istringstream n(names);
  std::istringstream v(values);
  std::string name;
  std::string value;
  while (n >> name && v >> value) {
    if (name == "OutDatagrams") return std::stol(value);
  }
  return -1;
}

// A fresh namespace's lo is down; `mtu` is lo's, 65536 by default.
std::string loopback_up(int mtu = 65536) {
  base::Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  request.ifr_mtu = mtu;
  if (::ioctl(fd.get(), SIOCSIFMTU, &request) != 0) return std::string("SIOCSIFMTU: ") + std::strerror(errno);
  request.ifr_flags = IFF_UP;
  if (::ioctl(fd.get(), SIOCSIFFLAGS, &request) != 0) return std::string("SIOCSIFFLAGS: ") + std::strerror(errno);
  return "";
}

// Runs check on a fresh namespace's loopback; the test fails with what it reports.
void on_fresh_loopback(const std::function<std::string()>& check, int mtu = 65536) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private network namespace";
  EXPECT_EQ(test::run_in_fresh_netns([&]() -> std::string {
              const std::string problem = loopback_up(mtu);
              return problem.empty() ? check() : problem;
            }),
            "");
}

std::string expect_sent(const SendResult& result, std::size_t sent, std::size_t failed = 0) {
  if (result.sent == sent && result.failed == failed) return "";
  return "sent " + std::to_string(result.sent) + " failed " + std::to_string(result.failed) + ", expected " +
         std::to_string(sent) + " and " + std::to_string(failed);
}

#define CHECK_OK(expr)                             \
  do {                                             \
    const std::string problem_ = (expr);           \
    if (!problem_.empty()) return problem_;        \
  } while (0)
#define CHECK_THAT(cond) \
  do {                   \
    if (!(cond)) return std::string("failed: ") + #cond; \
  } while (0)

Endpoint v4_at(const UdpSocket& socket) { return Endpoint::v4(kLoopbackV4, socket.local_port()); }
Endpoint v6_at(const UdpSocket& socket) { return Endpoint::v6(kLoopbackV6, socket.local_port()); }

TEST(DatagramBatchViews, RoomForSixtyFourDatagramsPerSlot) {
  DatagramBatch batch(4, 1500);
  EXPECT_EQ(DatagramBatch::max_count(4), 4 * DatagramBatch::kMaxSegments);
  EXPECT_EQ(batch.max_count(), 256u);
  batch.length(2) = 10;
  batch.set_count(3);
  EXPECT_EQ(batch.datagram(2).data(), batch.slot(2).data());
  EXPECT_EQ(batch.datagram(2).size(), 10u);
}

TEST(UdpOffload, SocketsAskForOffloadsUnlessTold) {
  on_fresh_loopback([] {
    const UdpSocket offloaded = UdpSocket::bind_any(0);
    CHECK_THAT(offloaded.gso_enabled());
    CHECK_THAT(offloaded.gro_enabled());
    const UdpSocket bound = UdpSocket::bind_to(Endpoint::v4(kLoopbackV4, 0));
    CHECK_THAT(bound.gso_enabled() && bound.gro_enabled());
    const UdpSocket plain = UdpSocket::bind_any(0, kPlain);
    CHECK_THAT(!plain.gso_enabled() && !plain.gro_enabled());
    int gro = -1;
    socklen_t length = sizeof gro;
    CHECK_THAT(::getsockopt(plain.fd(), SOL_UDP, UDP_GRO, &gro, &length) == 0 && gro == 0);
    return std::string();
  });
}

TEST(UdpOffload, GsoTrainArrivesAsSeparateDatagramsAtPlainReceiver) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_any(0);
    UdpSocket receiver = UdpSocket::bind_any(0, kPlain);
    const auto sent = repeat(20, 1200, v4_at(receiver)) + repeat(1, 77, v4_at(receiver));
    DatagramBatch batch(21, 2048);
    fill(batch, sent);
    const long before = out_datagrams();
    CHECK_OK(expect_sent(sender.send(batch), 21));
    CHECK_THAT(out_datagrams() - before == 1);  // one GSO message
    DatagramBatch small(8, 2048);
    const auto groups = receive_groups(receiver, 21, small);
    for (const auto& g : groups) CHECK_THAT(g.size() <= 8);  // no GRO: one datagram per slot
    return expect_datagrams(groups, sent, range(0, 21), v4_at(sender));
  });
}

TEST(UdpOffload, RunsGroupByEndpointAndLengthAndArriveInOrder) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_any(0);
    UdpSocket r1 = UdpSocket::bind_any(0);
    UdpSocket r2 = UdpSocket::bind_any(0);
    const Endpoint a = v4_at(r1);
    const Endpoint b = v4_at(r2);
    const auto sent = repeat(3, 500, a) + repeat(2, 500, b) + repeat(2, 300, a) +
                      std::vector<Outgoing>{{1000, a}, {1000, a}, {800, a}, {800, a}, {600, b}, {700, b}};
    DatagramBatch batch(sent.size(), 2048);
    fill(batch, sent);
    const long before = out_datagrams();
    CHECK_OK(expect_sent(sender.send(batch), sent.size()));
    CHECK_THAT(out_datagrams() - before == 7);
    const auto at_r1 = receive_messages(r1, 9);
    CHECK_OK(expect_sizes(at_r1, {{500, 500, 500}, {300, 300}, {1000, 1000, 800}, {800}}));
    CHECK_OK(expect_datagrams(at_r1, sent, {0, 1, 2, 5, 6, 7, 8, 9, 10}, v4_at(sender)));
    const auto at_r2 = receive_messages(r2, 4);
    CHECK_OK(expect_sizes(at_r2, {{500, 500}, {600}, {700}}));
    return expect_datagrams(at_r2, sent, {3, 4, 11, 12}, v4_at(sender));
  });
}

TEST(UdpOffload, GroReceiverSplitsTrainsAndKeepsEachSource) {
  on_fresh_loopback([] {
    UdpSocket one = UdpSocket::bind_any(0);
    UdpSocket two = UdpSocket::bind_any(0);
    UdpSocket receiver = UdpSocket::bind_any(0);
    const auto sent = repeat(30, 1000, v4_at(receiver)) + repeat(1, 10, v4_at(receiver));
    DatagramBatch batch(31, 2048);
    fill(batch, sent);
    CHECK_OK(expect_sent(one.send(batch), 31));
    fill(batch, sent);
    CHECK_OK(expect_sent(two.send(batch), 31));

    DatagramBatch big(4, DatagramBatch::kGroSlotSize);
    CHECK_THAT(receiver.receive(big));
    CHECK_THAT(big.count() == 62);  // both trains in one call, far beyond the 4 slots
    CHECK_THAT(big.dropped() == 0);
    const Group all = [&] {
      Group g;
      for (std::size_t i = 0; i < big.count(); ++i) g.push_back({{big.datagram(i).begin(), big.datagram(i).end()}, big.endpoint(i)});
      return g;
    }();
    CHECK_OK(expect_datagrams({Group(all.begin(), all.begin() + 31)}, sent, range(0, 31), v4_at(one)));
    CHECK_OK(expect_datagrams({Group(all.begin() + 31, all.end())}, sent, range(0, 31), v4_at(two)));
    // The views point into the slots, where an in-place decryption writes.
    CHECK_THAT(big.datagram(1).data() == big.datagram(0).data() + 1000);
    CHECK_THAT(big.datagram(31).data() == big.slot(1).data());
    return std::string();
  });
}

TEST(UdpOffload, RunsStopAtSixtyFourSegments) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_any(0);
    UdpSocket receiver = UdpSocket::bind_any(0);
    const auto sent = repeat(150, 100, v4_at(receiver));
    DatagramBatch batch(150, 2048);
    fill(batch, sent);
    const long before = out_datagrams();
    CHECK_OK(expect_sent(sender.send(batch), 150));
    CHECK_THAT(out_datagrams() - before == 3);
    const auto groups = receive_messages(receiver, 150);
    CHECK_THAT(groups.size() == 3 && groups[0].size() == 64 && groups[1].size() == 64 && groups[2].size() == 22);
    return expect_datagrams(groups, sent, range(0, 150), v4_at(sender));
  });
}

// 40 x 1637 bytes (65480) fit one IPv4 train (at most 65493 bytes of payload arrive
// whole), 39 one IPv6 train (65473).
constexpr std::size_t kSize = 1637;
constexpr std::size_t kCount = 41;

std::string expect_train_split(UdpSocket& sender, UdpSocket& receiver, const Endpoint& to, const Endpoint& from,
                               const std::vector<std::vector<std::size_t>>& groups) {
  const auto sent = repeat(kCount, kSize, to);
  DatagramBatch batch(kCount, 2048);
  fill(batch, sent);
  CHECK_OK(expect_sent(sender.send(batch), kCount));
  CHECK_THAT(sender.gso_enabled());
  const auto received = receive_messages(receiver, kCount);
  CHECK_OK(expect_sizes(received, groups));
  return expect_datagrams(received, sent, range(0, kCount), from);
}

const std::vector<std::vector<std::size_t>> kSplitForIpv4{std::vector<std::size_t>(40, kSize), {kSize}};
const std::vector<std::vector<std::size_t>> kSplitForIpv6{std::vector<std::size_t>(39, kSize), {kSize, kSize}};

TEST(UdpOffload, RunsStopAtTheIpv4PacketLimit) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_to(Endpoint::v4(kLoopbackV4, 0));
    UdpSocket receiver = UdpSocket::bind_to(Endpoint::v4(kLoopbackV4, 0));
    return expect_train_split(sender, receiver, v4_at(receiver), v4_at(sender), kSplitForIpv4);
  });
}

TEST(UdpOffload, DualStackSocketSendsIpv4MappedWithinTheIpv4Limit) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_any(0);
    UdpSocket receiver = UdpSocket::bind_any(0);
    CHECK_THAT(sender.dual_stack());
    return expect_train_split(sender, receiver, v4_at(receiver), v4_at(sender), kSplitForIpv4);
  });
}

TEST(UdpOffload, Ipv6RunsStayWithinWhatADeviceTakesWhole) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_to(Endpoint::v6(kLoopbackV6, 0));
    UdpSocket receiver = UdpSocket::bind_to(Endpoint::v6(kLoopbackV6, 0));
    CHECK_OK(expect_train_split(sender, receiver, v6_at(receiver), v6_at(sender), kSplitForIpv6));
    UdpSocket dual = UdpSocket::bind_any(0);
    UdpSocket dual_receiver = UdpSocket::bind_any(0);
    return expect_train_split(dual, dual_receiver, v6_at(dual_receiver), v6_at(dual), kSplitForIpv6);
  });
}

TEST(UdpOffload, OffloadOffSendsAndReceivesOneDatagramPerMessage) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_any(0, kPlain);
    UdpSocket receiver = UdpSocket::bind_any(0, kPlain);
    const auto sent = repeat(10, 1000, v4_at(receiver));
    DatagramBatch batch(10, 2048);
    fill(batch, sent);
    const long before = out_datagrams();
    CHECK_OK(expect_sent(sender.send(batch), 10));
    CHECK_THAT(out_datagrams() - before == 10);
    const auto groups = receive_messages(receiver, 10);
    CHECK_THAT(groups.size() == 10);
    return expect_datagrams(groups, sent, range(0, 10), v4_at(sender));
  });
}

// SO_NO_CHECK (no UDP checksum) is one way this kernel refuses GSO (EINVAL); a device
// without checksum offload no longer is: recent kernels (6.18 here) checksum in software.
TEST(UdpOffload, RefusedGsoTurnsItOffAndLosesNothing) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_any(0);
    UdpSocket receiver = UdpSocket::bind_any(0);
    const int one = 1;
    CHECK_THAT(::setsockopt(sender.fd(), SOL_SOCKET, SO_NO_CHECK, &one, sizeof one) == 0);
    const auto sent = repeat(2, 300, v4_at(receiver)) + repeat(20, 1000, v4_at(receiver)) + repeat(3, 500, v4_at(receiver));
    DatagramBatch batch(sent.size(), 2048);
    fill(batch, sent);
    CHECK_THAT(sender.gso_enabled());
    const long before = out_datagrams();
    CHECK_OK(expect_sent(sender.send(batch), sent.size()));
    CHECK_THAT(!sender.gso_enabled());
    CHECK_THAT(out_datagrams() - before == static_cast<long>(sent.size()));
    CHECK_OK(expect_datagrams(receive_messages(receiver, sent.size()), sent, range(0, sent.size()), v4_at(sender)));
    // And from then on without trying.
    fill(batch, sent);
    CHECK_OK(expect_sent(sender.send(batch), sent.size()));
    return expect_datagrams(receive_messages(receiver, sent.size()), sent, range(0, sent.size()), v4_at(sender));
  });
}

// Port 0 draws EINVAL too, but so do the single datagrams: that is the address, not GSO.
TEST(UdpOffload, RunToABadAddressFailsAloneAndKeepsGso) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_any(0);
    UdpSocket receiver = UdpSocket::bind_any(0);
    const auto sent = repeat(3, 500, Endpoint::v4(kLoopbackV4, 0)) + repeat(5, 500, v4_at(receiver));
    DatagramBatch batch(sent.size(), 2048);
    fill(batch, sent);
    CHECK_OK(expect_sent(sender.send(batch), 5, 3));
    CHECK_THAT(sender.gso_enabled());
    const auto groups = receive_messages(receiver, 5);
    CHECK_OK(expect_sizes(groups, {{500, 500, 500, 500, 500}}));
    return expect_datagrams(groups, sent, range(3, 8), v4_at(sender));
  });
}

// Segments above the path MTU make the kernel refuse that message (EMSGSIZE), where
// single datagrams would be fragmented: those go one by one and GSO stays on.
TEST(UdpOffload, RunAboveThePathMtuGoesFragmentedAndKeepsGso) {
  on_fresh_loopback(
      [] {
        UdpSocket sender = UdpSocket::bind_any(0);
        UdpSocket receiver = UdpSocket::bind_any(0);
        const auto sent = repeat(6, 1600, v4_at(receiver)) + repeat(4, 1000, v4_at(receiver));
        DatagramBatch batch(sent.size(), 2048);
        fill(batch, sent);
        const long before = out_datagrams();
        CHECK_OK(expect_sent(sender.send(batch), sent.size()));
        CHECK_THAT(sender.gso_enabled());
        // The first run is 6 x 1600 and the first 1000 (a shorter last segment): 7 single
        // messages, then one train of 3.
        CHECK_THAT(out_datagrams() - before == 8);
        return expect_datagrams(receive_messages(receiver, sent.size()), sent, range(0, sent.size()), v4_at(sender));
      },
      1500);
}

TEST(UdpOffload, SlotTooSmallForTheTrainDropsAndCountsTheRest) {
  on_fresh_loopback([] {
    UdpSocket sender = UdpSocket::bind_any(0);
    UdpSocket receiver = UdpSocket::bind_any(0);
    const auto sent = repeat(10, 1000, v4_at(receiver));
    DatagramBatch batch(10, 3000);
    fill(batch, sent);
    CHECK_OK(expect_sent(sender.send(batch), 10));
    DatagramBatch small(4, 2500);
    CHECK_THAT(receiver.receive(small));
    CHECK_THAT(small.count() == 2 && small.dropped() == 8);
    CHECK_OK(expect_datagrams({{{{small.datagram(0).begin(), small.datagram(0).end()}, small.endpoint(0)},
                                {{small.datagram(1).begin(), small.datagram(1).end()}, small.endpoint(1)}}},
                              sent, {0, 1}, v4_at(sender)));
    // Without GRO a datagram larger than its slot is dropped too, not presented cut short.
    UdpSocket plain = UdpSocket::bind_any(0, kPlain);
    CHECK_THAT(sender.send_one(pattern(0, 2600), v4_at(plain)));
    pollfd pfd{plain.fd(), POLLIN, 0};
    CHECK_THAT(::poll(&pfd, 1, 1000) == 1);
    CHECK_THAT(plain.receive(small));
    CHECK_THAT(small.count() == 0 && small.dropped() == 1);
    return std::string();
  });
}

// Another sender may put up to 128 segments in one message (this kernel's limit): what
// does not fit the views is dropped and counted, never written past them.
TEST(UdpOffload, TrainBeyondTheViewsIsCountedAsDropped) {
  on_fresh_loopback([] {
    UdpSocket receiver = UdpSocket::bind_any(0);
    base::Fd raw(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const int segment = 10;
    CHECK_THAT(::setsockopt(raw.get(), SOL_UDP, UDP_SEGMENT, &segment, sizeof segment) == 0);
    sockaddr_storage to{};
    const socklen_t to_length = sockaddr_from_endpoint(v4_at(receiver), false, to);
    const std::vector<std::uint8_t> train(100 * segment, 7);
    const ssize_t sent = ::sendto(raw.get(), train.data(), train.size(), 0, reinterpret_cast<sockaddr*>(&to), to_length);
    if (sent < 0 && errno == EINVAL) return std::string();  // a kernel that takes only 64
    CHECK_THAT(sent == static_cast<ssize_t>(train.size()));
    DatagramBatch batch(1, DatagramBatch::kGroSlotSize);
    pollfd pfd{receiver.fd(), POLLIN, 0};
    CHECK_THAT(::poll(&pfd, 1, 1000) == 1);
    CHECK_THAT(receiver.receive(batch));
    CHECK_THAT(batch.count() == 64 && batch.dropped() == 36);
    CHECK_THAT(batch.datagram(63).size() == static_cast<std::size_t>(segment));
    return std::string();
  });
}

// The kernel reports twice what was asked (its bookkeeping share); root gets past
// net.core.rmem_max with the FORCE variant.
TEST(UdpSocketBuffers, ReceiveQueueHoldsTensOfMillisecondsAtLineRate) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to exceed net.core.rmem_max";
  const UdpSocket socket = UdpSocket::bind_any(0);
  int bytes = 0;
  socklen_t length = sizeof bytes;
  ASSERT_EQ(::getsockopt(socket.fd(), SOL_SOCKET, SO_RCVBUF, &bytes, &length), 0);
  EXPECT_EQ(bytes, 2 * 16 * 1024 * 1024);
  ASSERT_EQ(::getsockopt(socket.fd(), SOL_SOCKET, SO_SNDBUF, &bytes, &length), 0);
  EXPECT_EQ(bytes, 2 * 4 * 1024 * 1024);
}

}  // namespace
}  // namespace squtun::net
