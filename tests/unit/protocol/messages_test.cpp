#include "protocol/messages.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace squtun::protocol {
namespace {

using Bytes = std::vector<std::uint8_t>;

Random patterned_random(std::uint8_t seed) {
  Random r{};
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(seed + 3 * i);
  return r;
}

crypto::Mac patterned_mac(std::uint8_t seed) {
  crypto::Mac m{};
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::uint8_t>(seed ^ (7 * i));
  return m;
}

Initiation sample_initiation() {
  return Initiation{0x04030201, patterned_random(0x10), 0x1122334455667788ULL, patterned_mac(0xa0)};
}

Response sample_response() {
  return Response{0x0d0c0b0a, 0x14131211, patterned_random(0x40), patterned_mac(0x5a)};
}

template <std::size_t N>
Bytes to_bytes(const std::array<std::uint8_t, N>& a) {
  return Bytes(a.begin(), a.end());
}

// A minimal well-formed data message: header and an empty (tag-only) body.
// (Sized once and then overwritten: growing a 16-byte vector with resize() makes GCC 12 at
// -O3 report a false -Warray-bounds inside the reallocation.)
Bytes sample_data(std::size_t body = kTagSize) {
  const DataHeaderBytes header = encode(DataHeader{0x44332211, 0x0807060504030201ULL});
  Bytes b(kDataHeaderSize + body, 0xee);
  std::copy(header.begin(), header.end(), b.begin());
  return b;
}

// --- Layout -----------------------------------------------------------------------------

TEST(MessagesTest, SizesMatchTheWireFormat) {
  EXPECT_EQ(kInitiationSize, 4u + 4u + kRandomSize + 8u + crypto::kMacSize);
  EXPECT_EQ(kResponseSize, 4u + 4u + 4u + kRandomSize + crypto::kMacSize);
  EXPECT_EQ(kDataHeaderSize, 16u);
  EXPECT_EQ(kDataOverhead, 32u);
  EXPECT_EQ(kInitiationMacOffset, 48u);
  EXPECT_EQ(kResponseMacOffset, 44u);
}

TEST(MessagesTest, InitiationByteOffsets) {
  const Initiation m = sample_initiation();
  const InitiationBytes b = encode(m);
  EXPECT_EQ(b[0], 1);  // type
  EXPECT_EQ(b[1], 0);  // reserved
  EXPECT_EQ(b[2], 0);
  EXPECT_EQ(b[3], 0);
  // Sender index, little-endian at 4.
  EXPECT_EQ(b[4], 0x01);
  EXPECT_EQ(b[5], 0x02);
  EXPECT_EQ(b[6], 0x03);
  EXPECT_EQ(b[7], 0x04);
  // Random at 8..39.
  for (std::size_t i = 0; i < kRandomSize; ++i) EXPECT_EQ(b[8 + i], m.random[i]) << i;
  // Timestamp, big-endian at 40..47.
  const std::uint8_t ts[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(b[40 + i], ts[i]) << i;
  // MAC at 48..63.
  for (std::size_t i = 0; i < crypto::kMacSize; ++i) EXPECT_EQ(b[48 + i], m.mac[i]) << i;
}

TEST(MessagesTest, ResponseByteOffsets) {
  const Response m = sample_response();
  const ResponseBytes b = encode(m);
  EXPECT_EQ(b[0], 2);
  EXPECT_EQ(b[1], 0);
  EXPECT_EQ(b[2], 0);
  EXPECT_EQ(b[3], 0);
  const std::uint8_t sender[4] = {0x0a, 0x0b, 0x0c, 0x0d};
  const std::uint8_t receiver[4] = {0x11, 0x12, 0x13, 0x14};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(b[4 + i], sender[i]) << i;
    EXPECT_EQ(b[8 + i], receiver[i]) << i;
  }
  for (std::size_t i = 0; i < kRandomSize; ++i) EXPECT_EQ(b[12 + i], m.random[i]) << i;
  for (std::size_t i = 0; i < crypto::kMacSize; ++i) EXPECT_EQ(b[44 + i], m.mac[i]) << i;
}

TEST(MessagesTest, DataHeaderByteOffsets) {
  const DataHeaderBytes b = encode(DataHeader{0x44332211, 0x0807060504030201ULL});
  const std::uint8_t expected[16] = {3,    0,    0,    0,    0x11, 0x22, 0x33, 0x44,
                                     0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  for (std::size_t i = 0; i < 16; ++i) EXPECT_EQ(b[i], expected[i]) << i;
}

TEST(MessagesTest, TimestampIsBigEndianSoBytesCompareLikeNumbers) {
  Initiation a = sample_initiation();
  Initiation b = sample_initiation();
  a.timestamp_ns = 0x00000000000000ffULL;
  b.timestamp_ns = 0x0000000000000100ULL;
  const InitiationBytes ea = encode(a);
  const InitiationBytes eb = encode(b);
  EXPECT_TRUE(std::lexicographical_compare(ea.begin() + 40, ea.begin() + 48, eb.begin() + 40,
                                           eb.begin() + 48));
  EXPECT_EQ(ea[47], 0xff);
  EXPECT_EQ(eb[46], 0x01);
  EXPECT_EQ(eb[47], 0x00);
}

// --- Round trips --------------------------------------------------------------------------

TEST(MessagesTest, InitiationRoundTrip) {
  const Initiation m = sample_initiation();
  const InitiationBytes b = encode(m);
  EXPECT_EQ(classify(b), MessageType::Initiation);
  const auto d = decode_initiation(b);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->sender_index, m.sender_index);
  EXPECT_EQ(d->random, m.random);
  EXPECT_EQ(d->timestamp_ns, m.timestamp_ns);
  EXPECT_EQ(d->mac, m.mac);
}

TEST(MessagesTest, InitiationRoundTripExtremes) {
  for (std::uint64_t ts : {0ULL, 1ULL, ~0ULL, 0x8000000000000000ULL}) {
    for (std::uint32_t idx : {0u, 1u, 0xffffffffu}) {
      Initiation m = sample_initiation();
      m.timestamp_ns = ts;
      m.sender_index = idx;
      const auto d = decode_initiation(encode(m));
      ASSERT_TRUE(d);
      EXPECT_EQ(d->timestamp_ns, ts);
      EXPECT_EQ(d->sender_index, idx);
    }
  }
}

TEST(MessagesTest, ResponseRoundTrip) {
  const Response m = sample_response();
  const ResponseBytes b = encode(m);
  EXPECT_EQ(classify(b), MessageType::Response);
  const auto d = decode_response(b);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->sender_index, m.sender_index);
  EXPECT_EQ(d->receiver_index, m.receiver_index);
  EXPECT_EQ(d->random, m.random);
  EXPECT_EQ(d->mac, m.mac);
}

TEST(MessagesTest, DataHeaderRoundTrip) {
  for (std::uint64_t counter : {0ULL, 1ULL, 0x0807060504030201ULL, ~0ULL}) {
    Bytes b = to_bytes(encode(DataHeader{0xfeedbeef, counter}));
    b.resize(kDataOverhead + 100, 0x55);
    EXPECT_EQ(classify(b), MessageType::Data);
    const auto d = decode_data_header(b);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->receiver_index, 0xfeedbeefu);
    EXPECT_EQ(d->counter, counter);
  }
}

// --- Malformed input ------------------------------------------------------------------------

TEST(MessagesTest, TruncatedInitiationRejectedAtEverySize) {
  const Bytes full = to_bytes(encode(sample_initiation()));
  for (std::size_t n = 0; n < kInitiationSize; ++n) {
    const std::span<const std::uint8_t> part(full.data(), n);
    EXPECT_FALSE(decode_initiation(part)) << n;
    // A 32..63 byte prefix of an initiation is not data either (wrong type).
    EXPECT_FALSE(classify(part)) << n;
  }
}

TEST(MessagesTest, TruncatedResponseRejectedAtEverySize) {
  const Bytes full = to_bytes(encode(sample_response()));
  for (std::size_t n = 0; n < kResponseSize; ++n) {
    const std::span<const std::uint8_t> part(full.data(), n);
    EXPECT_FALSE(decode_response(part)) << n;
    EXPECT_FALSE(classify(part)) << n;
  }
}

TEST(MessagesTest, DataNeedsHeaderAndTag) {
  const Bytes full = sample_data();
  ASSERT_EQ(full.size(), kDataOverhead);
  for (std::size_t n = 0; n < kDataOverhead; ++n) {
    const std::span<const std::uint8_t> part(full.data(), n);
    EXPECT_FALSE(decode_data_header(part)) << n;
    EXPECT_FALSE(classify(part)) << n;
  }
  EXPECT_EQ(classify(full), MessageType::Data);
  EXPECT_TRUE(decode_data_header(full));
  EXPECT_EQ(classify(sample_data(kTagSize + 1)), MessageType::Data);
  EXPECT_EQ(classify(sample_data(kMaxInnerPacket + kTagSize)), MessageType::Data);
}

TEST(MessagesTest, OversizedHandshakesRejected) {
  Bytes init = to_bytes(encode(sample_initiation()));
  init.push_back(0);
  ASSERT_EQ(init.size(), 65u);
  EXPECT_FALSE(classify(init));
  EXPECT_FALSE(decode_initiation(init));

  Bytes resp = to_bytes(encode(sample_response()));
  resp.push_back(0);
  ASSERT_EQ(resp.size(), 61u);
  EXPECT_FALSE(classify(resp));
  EXPECT_FALSE(decode_response(resp));
}

TEST(MessagesTest, HandshakeSizesDoNotCrossOver) {
  // A response-sized message with the initiation type is neither, and vice versa.
  Bytes resp = to_bytes(encode(sample_response()));
  resp[0] = 1;
  EXPECT_FALSE(classify(resp));
  EXPECT_FALSE(decode_initiation(resp));
  Bytes init = to_bytes(encode(sample_initiation()));
  init[0] = 2;
  EXPECT_FALSE(classify(init));
  EXPECT_FALSE(decode_response(init));
  // Decoders refuse the other kinds even when well-formed.
  EXPECT_FALSE(decode_response(to_bytes(encode(sample_initiation()))));
  EXPECT_FALSE(decode_initiation(to_bytes(encode(sample_response()))));
  EXPECT_FALSE(decode_data_header(to_bytes(encode(sample_initiation()))));
  EXPECT_FALSE(decode_initiation(sample_data(kInitiationSize - kDataHeaderSize)));
}

TEST(MessagesTest, WrongTypeByteRejected) {
  for (int type = 0; type < 256; ++type) {
    if (type >= 1 && type <= 3) continue;
    for (Bytes b : {to_bytes(encode(sample_initiation())), to_bytes(encode(sample_response())),
                    sample_data(100)}) {
      b[0] = static_cast<std::uint8_t>(type);
      EXPECT_FALSE(classify(b)) << type;
      EXPECT_FALSE(decode_initiation(b));
      EXPECT_FALSE(decode_response(b));
      EXPECT_FALSE(decode_data_header(b));
    }
  }
}

TEST(MessagesTest, NonzeroReservedBytesRejected) {
  for (std::size_t pos = 1; pos <= 3; ++pos) {
    for (std::uint8_t v : {std::uint8_t{1}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
      Bytes i = to_bytes(encode(sample_initiation()));
      Bytes r = to_bytes(encode(sample_response()));
      Bytes d = sample_data();
      i[pos] = r[pos] = d[pos] = v;
      EXPECT_FALSE(classify(i)) << pos;
      EXPECT_FALSE(classify(r)) << pos;
      EXPECT_FALSE(classify(d)) << pos;
      EXPECT_FALSE(decode_initiation(i));
      EXPECT_FALSE(decode_response(r));
      EXPECT_FALSE(decode_data_header(d));
    }
  }
}

TEST(MessagesTest, CorruptedBytesChangeDecodedFields) {
  const Initiation m = sample_initiation();
  for (std::size_t pos = 4; pos < kInitiationSize; ++pos) {
    Bytes b = to_bytes(encode(m));
    b[pos] ^= 0x01;
    const auto d = decode_initiation(b);
    ASSERT_TRUE(d) << pos;  // only the header bytes are structural
    const bool changed = d->sender_index != m.sender_index || d->random != m.random ||
                         d->timestamp_ns != m.timestamp_ns || d->mac != m.mac;
    EXPECT_TRUE(changed) << pos;
    // And exactly the field that owns the byte changed.
    EXPECT_EQ(d->sender_index != m.sender_index, pos < 8) << pos;
    EXPECT_EQ(d->random != m.random, pos >= 8 && pos < 40) << pos;
    EXPECT_EQ(d->timestamp_ns != m.timestamp_ns, pos >= 40 && pos < 48) << pos;
    EXPECT_EQ(d->mac != m.mac, pos >= 48) << pos;
  }
  const Response r = sample_response();
  for (std::size_t pos = 4; pos < kResponseSize; ++pos) {
    Bytes b = to_bytes(encode(r));
    b[pos] ^= 0x80;
    const auto d = decode_response(b);
    ASSERT_TRUE(d) << pos;
    EXPECT_EQ(d->sender_index != r.sender_index, pos < 8) << pos;
    EXPECT_EQ(d->receiver_index != r.receiver_index, pos >= 8 && pos < 12) << pos;
    EXPECT_EQ(d->random != r.random, pos >= 12 && pos < 44) << pos;
    EXPECT_EQ(d->mac != r.mac, pos >= 44) << pos;
  }
  for (std::size_t pos = 4; pos < kDataHeaderSize; ++pos) {
    Bytes b = sample_data();
    b[pos] ^= 0x10;
    const auto d = decode_data_header(b);
    ASSERT_TRUE(d) << pos;
    EXPECT_EQ(d->receiver_index != 0x44332211u, pos < 8) << pos;
    EXPECT_EQ(d->counter != 0x0807060504030201ULL, pos >= 8) << pos;
  }
}

TEST(MessagesTest, IndicesAreLittleEndianTimestampBigEndian) {
  Bytes b = to_bytes(encode(sample_initiation()));
  std::fill(b.begin() + 4, b.begin() + 8, 0);
  b[4] = 1;
  std::fill(b.begin() + 40, b.begin() + 48, 0);
  b[40] = 1;
  const auto d = decode_initiation(b);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->sender_index, 1u);
  EXPECT_EQ(d->timestamp_ns, 1ULL << 56);

  Bytes data = sample_data();
  std::fill(data.begin() + 4, data.begin() + 16, 0);
  data[7] = 1;   // most significant byte of the index
  data[8] = 1;   // least significant byte of the counter
  const auto h = decode_data_header(data);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->receiver_index, 1u << 24);
  EXPECT_EQ(h->counter, 1u);
}

TEST(MessagesTest, ShortReservedOnlyInputs) {
  for (std::size_t n = 0; n < 4; ++n) {
    const Bytes b(n, 0);
    EXPECT_FALSE(classify(b)) << n;
  }
  EXPECT_FALSE(classify(Bytes{1, 0, 0, 0}));
  EXPECT_FALSE(classify(Bytes{3, 0, 0, 0}));
}

}  // namespace
}  // namespace squtun::protocol
