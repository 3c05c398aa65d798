#include "net/udp_socket.h"

#include <poll.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace squtun::net {
namespace {

using base::Endpoint;

const std::array<std::uint8_t, 4> kLoopbackV4{127, 0, 0, 1};
const std::array<std::uint8_t, 16> kLoopbackV6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

struct Datagram {
  std::vector<std::uint8_t> data;
  Endpoint from;
};

// Datagram i has its own length and fill byte, so a reordered, truncated or merged
// datagram shows up as a mismatch.
std::vector<std::uint8_t> payload(std::size_t i) {
  return std::vector<std::uint8_t>(100 + 37 * i, static_cast<std::uint8_t>(i + 1));
}

void fill_batch(DatagramBatch& batch, std::size_t count, const Endpoint& to) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::vector<std::uint8_t> data = payload(i);
    std::copy(data.begin(), data.end(), batch.slot(i).begin());
    batch.length(i) = data.size();
    batch.endpoint(i) = to;
  }
  batch.set_count(count);
}

std::vector<Datagram> receive_up_to(UdpSocket& socket, std::size_t expected) {
  DatagramBatch batch(4, 2048);  // smaller than the burst, so several receive calls run
  std::vector<Datagram> received;
  while (received.size() < expected) {
    pollfd pfd{socket.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 2000) <= 0) break;
    while (socket.receive(batch)) {
      for (std::size_t i = 0; i < batch.count(); ++i) {
        const auto data = batch.datagram(i);
        received.push_back({{data.begin(), data.end()}, batch.endpoint(i)});
      }
    }
  }
  return received;
}

void expect_burst_arrives(const Endpoint& receiver_at, const Endpoint& sender_seen_as,
                          UdpSocket& sender, UdpSocket& receiver) {
  constexpr std::size_t kCount = 10;
  DatagramBatch batch(kCount, 1500);
  fill_batch(batch, kCount, receiver_at);

  const SendResult result = sender.send(batch);
  EXPECT_EQ(result.sent, kCount);
  EXPECT_EQ(result.failed, 0u);

  const std::vector<Datagram> received = receive_up_to(receiver, kCount);
  ASSERT_EQ(received.size(), kCount);
  for (std::size_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(received[i].data, payload(i)) << "datagram " << i;
    EXPECT_EQ(received[i].from, sender_seen_as) << received[i].from.to_string();
  }
}

TEST(DatagramBatchLayout, SlotsAreFixedSizeAndContiguous) {
  DatagramBatch batch(8, 1500);
  EXPECT_EQ(batch.capacity(), 8u);
  EXPECT_EQ(batch.slot_size(), 1500u);
  EXPECT_EQ(batch.count(), 0u);
  EXPECT_EQ(batch.slot(0).size(), 1500u);
  EXPECT_EQ(batch.slot(7).size(), 1500u);
  EXPECT_EQ(batch.slot(1).data(), batch.slot(0).data() + 1500);
  batch.length(3) = 42;
  EXPECT_EQ(batch.datagram(3).size(), 42u);
  EXPECT_EQ(batch.datagram(3).data(), batch.slot(3).data());
}

TEST(UdpSocketLoopback, EphemeralPortIsReported) {
  const UdpSocket socket = UdpSocket::bind_any(0);
  EXPECT_NE(socket.local_port(), 0);
}

TEST(UdpSocketLoopback, ReceiveOnEmptySocketReturnsFalse) {
  UdpSocket socket = UdpSocket::bind_any(0);
  DatagramBatch batch(4, 1500);
  EXPECT_FALSE(socket.receive(batch));
  EXPECT_EQ(batch.count(), 0u);
}

TEST(UdpSocketLoopback, BatchOverIpv4) {
  UdpSocket sender = UdpSocket::bind_any(0);
  UdpSocket receiver = UdpSocket::bind_any(0);
  expect_burst_arrives(Endpoint::v4(kLoopbackV4, receiver.local_port()),
                       Endpoint::v4(kLoopbackV4, sender.local_port()), sender, receiver);
}

TEST(UdpSocketLoopback, BatchOverIpv6) {
  UdpSocket sender = UdpSocket::bind_any(0);
  UdpSocket receiver = UdpSocket::bind_any(0);
  if (!sender.dual_stack()) GTEST_SKIP() << "no IPv6 on this host";
  expect_burst_arrives(Endpoint::v6(kLoopbackV6, receiver.local_port()),
                       Endpoint::v6(kLoopbackV6, sender.local_port()), sender, receiver);
}

TEST(UdpSocketLoopback, OversizedDatagramFailsAloneAndTheRestArrive) {
  UdpSocket sender = UdpSocket::bind_any(0);
  UdpSocket receiver = UdpSocket::bind_any(0);
  const Endpoint to = Endpoint::v4(kLoopbackV4, receiver.local_port());
  DatagramBatch batch(3, 70000);
  fill_batch(batch, 3, to);
  batch.length(1) = 65600;  // more than an IPv4 datagram can carry

  const SendResult result = sender.send(batch);
  EXPECT_EQ(result.sent, 2u);
  EXPECT_EQ(result.failed, 1u);
  EXPECT_EQ(result.bytes, payload(0).size() + payload(2).size());  // of those sent alone

  const std::vector<Datagram> received = receive_up_to(receiver, 2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].data, payload(0));
  EXPECT_EQ(received[1].data, payload(2));
}

TEST(UdpSocketLoopback, SendOneArrives) {
  UdpSocket sender = UdpSocket::bind_any(0);
  UdpSocket receiver = UdpSocket::bind_any(0);
  const std::vector<std::uint8_t> data = payload(4);
  ASSERT_TRUE(sender.send_one(data, Endpoint::v4(kLoopbackV4, receiver.local_port())));
  const std::vector<Datagram> received = receive_up_to(receiver, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].data, data);
  EXPECT_EQ(received[0].from, Endpoint::v4(kLoopbackV4, sender.local_port()));
}

TEST(UdpSocketLoopback, PortInUseThrowsNamingThePort) {
  const UdpSocket first = UdpSocket::bind_any(0);
  const std::string port = std::to_string(first.local_port());
  try {
    UdpSocket::bind_any(first.local_port());
    FAIL() << "second bind on port " << port << " succeeded";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("port " + port), std::string::npos) << message;
    EXPECT_NE(message.find("in use"), std::string::npos) << message;
  }
}

TEST(UdpSocketBound, Ipv4AddressOnly) {
  UdpSocket receiver = UdpSocket::bind_to(Endpoint::v4(kLoopbackV4, 0));
  EXPECT_FALSE(receiver.dual_stack());
  EXPECT_NE(receiver.local_port(), 0);
  UdpSocket sender = UdpSocket::bind_to(Endpoint::v4(kLoopbackV4, 0));
  expect_burst_arrives(Endpoint::v4(kLoopbackV4, receiver.local_port()),
                       Endpoint::v4(kLoopbackV4, sender.local_port()), sender, receiver);
  // Nothing reaches it over IPv6, and it cannot send there.
  EXPECT_FALSE(sender.send_one(payload(1), Endpoint::v6(kLoopbackV6, receiver.local_port())));
}

TEST(UdpSocketBound, Ipv6AddressOnly) {
  if (!UdpSocket::bind_any(0).dual_stack()) GTEST_SKIP() << "no IPv6 on this host";
  UdpSocket receiver = UdpSocket::bind_to(Endpoint::v6(kLoopbackV6, 0));
  UdpSocket sender = UdpSocket::bind_to(Endpoint::v6(kLoopbackV6, 0));
  EXPECT_FALSE(receiver.dual_stack());
  expect_burst_arrives(Endpoint::v6(kLoopbackV6, receiver.local_port()),
                       Endpoint::v6(kLoopbackV6, sender.local_port()), sender, receiver);
  // A dual-stack socket's IPv4 datagram does not reach an IPv6-only one.
  UdpSocket v4_sender = UdpSocket::bind_to(Endpoint::v4(kLoopbackV4, 0));
  EXPECT_FALSE(v4_sender.send_one(payload(1), Endpoint::v6(kLoopbackV6, receiver.local_port())));
  EXPECT_FALSE(sender.send_one(payload(1), Endpoint::v4(kLoopbackV4, v4_sender.local_port())));
}

TEST(UdpSocketBound, ForeignAddressThrowsNamingAddressAndPort) {
  // 192.0.2.0/24 (TEST-NET-1, for documentation) is on no interface of a test host.
  try {
    UdpSocket::bind_to(Endpoint::v4({192, 0, 2, 254}, 7777));
    FAIL() << "bound to an address the host does not have";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("192.0.2.254"), std::string::npos) << message;
    EXPECT_NE(message.find("port 7777"), std::string::npos) << message;
    EXPECT_NE(message.find("-b"), std::string::npos) << message;
  }
}

TEST(UdpSocketBound, PortInUseOnThatAddress) {
  const UdpSocket first = UdpSocket::bind_to(Endpoint::v4(kLoopbackV4, 0));
  EXPECT_THROW(UdpSocket::bind_to(Endpoint::v4(kLoopbackV4, first.local_port())), std::runtime_error);
}

}  // namespace
}  // namespace squtun::net
