#include "tun/vnet_header.h"

#include <cstring>

namespace squtun::tun {
namespace {

// The layout of struct virtio_net_hdr.
struct RawHeader {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len;
  std::uint16_t gso_size;
  std::uint16_t csum_start;
  std::uint16_t csum_offset;
};
static_assert(sizeof(RawHeader) == kVnetHeaderSize);

}  // namespace

std::optional<VnetHeader> parse_vnet_header(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kVnetHeaderSize) return std::nullopt;
  RawHeader raw;
  std::memcpy(&raw, bytes.data(), kVnetHeaderSize);
  return VnetHeader{raw.flags, raw.gso_type, raw.hdr_len, raw.gso_size, raw.csum_start, raw.csum_offset};
}

void write_vnet_header(const VnetHeader& header, std::span<std::uint8_t, kVnetHeaderSize> out) {
  RawHeader raw{};
  raw.flags = header.flags;
  raw.gso_type = header.gso_type;
  raw.hdr_len = header.hdr_len;
  raw.gso_size = header.gso_size;
  raw.csum_start = header.csum_start;
  raw.csum_offset = header.csum_offset;
  std::memcpy(out.data(), &raw, kVnetHeaderSize);
}

}  // namespace squtun::tun
