#include "offload_packets.h"

namespace squtun::tun::testing {

Spec v6_spec(bool udp) {
  Spec s;
  s.v6 = true;
  s.udp = udp;
  s.src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  s.dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  return s;
}

Bytes payload_bytes(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 8));
  return b;
}

std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] * 256 + b[at + 1]);
}
std::uint32_t get32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{get16(b, at)} << 16) | get16(b, at + 2);
}
void put16(std::span<std::uint8_t> b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v & 0xff);
}

std::uint16_t ref_checksum(std::span<const std::uint8_t> data, std::uint64_t sum) {
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const std::uint16_t hi = data[i];
    const std::uint16_t lo = i + 1 < data.size() ? data[i + 1] : 0;
    sum += hi * 256u + lo;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::size_t ip_header_length(std::span<const std::uint8_t> p) {
  return (p[0] >> 4) == 6 ? 40 : (p[0] & 15) * 4u;
}
std::size_t l4_offset(std::span<const std::uint8_t> p) { return ip_header_length(p); }
static bool is_udp(std::span<const std::uint8_t> p) { return p[(p[0] >> 4) == 6 ? 6 : 9] == 17; }
std::size_t payload_offset(std::span<const std::uint8_t> p) {
  const std::size_t l4 = l4_offset(p);
  return l4 + (is_udp(p) ? 8 : (p[l4 + 12] >> 4) * 4u);
}
std::uint8_t tcp_flags(std::span<const std::uint8_t> p) { return p[l4_offset(p) + 13]; }
std::uint32_t tcp_seq(std::span<const std::uint8_t> p) { return get32(p, l4_offset(p) + 4); }

std::uint64_t ref_pseudo_sum(std::span<const std::uint8_t> p, std::size_t l4_length) {
  const bool v6 = (p[0] >> 4) == 6;
  Bytes pseudo;
  const std::size_t addr_at = v6 ? 8 : 12, addr_len = v6 ? 32 : 8;
  pseudo.insert(pseudo.end(), p.begin() + addr_at, p.begin() + addr_at + addr_len);
  pseudo.push_back(0);
  pseudo.push_back(is_udp(p) ? 17 : 6);
  pseudo.push_back(static_cast<std::uint8_t>(l4_length >> 8));
  pseudo.push_back(static_cast<std::uint8_t>(l4_length));
  return static_cast<std::uint16_t>(~ref_checksum(pseudo));
}

static void put_ip(Bytes& b, const Spec& s, std::size_t total) {
  if (s.v6) {
    b[0] = static_cast<std::uint8_t>(0x60 | (s.tos >> 4));
    b[1] = static_cast<std::uint8_t>((s.tos << 4) | ((s.flow_label >> 16) & 15));
    put16(b, 2, static_cast<std::uint16_t>(s.flow_label));
    put16(b, 4, static_cast<std::uint16_t>(total - 40));
    b[6] = s.udp ? 17 : 6;
    b[7] = s.ttl;
    std::copy(s.src.begin(), s.src.end(), b.begin() + 8);
    std::copy(s.dst.begin(), s.dst.end(), b.begin() + 24);
    return;
  }
  const std::size_t ihl = 20 + s.ip_options.size();
  b[0] = static_cast<std::uint8_t>(0x40 | (ihl / 4));
  b[1] = s.tos;
  put16(b, 2, static_cast<std::uint16_t>(total));
  put16(b, 4, s.id);
  put16(b, 6, static_cast<std::uint16_t>((s.df ? 0x4000 : 0) | (s.reserved_flag ? 0x8000 : 0)));
  b[8] = s.ttl;
  b[9] = s.udp ? 17 : 6;
  std::copy(s.src.begin(), s.src.begin() + 4, b.begin() + 12);
  std::copy(s.dst.begin(), s.dst.begin() + 4, b.begin() + 16);
  std::copy(s.ip_options.begin(), s.ip_options.end(), b.begin() + 20);
  put16(b, 10, ref_checksum(std::span(b).first(ihl)));
}

Bytes build(const Spec& s, std::span<const std::uint8_t> payload, bool partial) {
  const std::size_t ihl = s.v6 ? 40 : 20 + s.ip_options.size();
  const std::size_t l4h = s.udp ? 8 : 20 + s.tcp_options.size();
  Bytes b(ihl + l4h + payload.size());
  put_ip(b, s, b.size());
  const std::size_t l4 = ihl;
  put16(b, l4, s.sport);
  put16(b, l4 + 2, s.dport);
  std::size_t check_at = l4 + 6;
  if (s.udp) {
    put16(b, l4 + 4,
          s.udp_length_override ? s.udp_length_override : static_cast<std::uint16_t>(b.size() - l4));
  } else {
    put16(b, l4 + 4, static_cast<std::uint16_t>(s.seq >> 16));
    put16(b, l4 + 6, static_cast<std::uint16_t>(s.seq));
    put16(b, l4 + 8, static_cast<std::uint16_t>(s.ack >> 16));
    put16(b, l4 + 10, static_cast<std::uint16_t>(s.ack));
    b[l4 + 12] = static_cast<std::uint8_t>((l4h / 4) << 4);
    b[l4 + 13] = s.flags;
    put16(b, l4 + 14, s.window);
    put16(b, l4 + 18, s.urgent);
    std::copy(s.tcp_options.begin(), s.tcp_options.end(), b.begin() + l4 + 20);
    check_at = l4 + 16;
  }
  std::copy(payload.begin(), payload.end(), b.begin() + l4 + l4h);
  const std::uint64_t pseudo = ref_pseudo_sum(b, b.size() - l4);
  std::uint16_t check =
      partial ? static_cast<std::uint16_t>(pseudo) : ref_checksum(std::span(b).subspan(l4), pseudo);
  if (!partial && s.udp && check == 0) check = 0xffff;
  put16(b, check_at, check);
  return b;
}

bool lengths_ok(std::span<const std::uint8_t> p) {
  if (p.size() < 20) return false;
  const bool v6 = (p[0] >> 4) == 6;
  const std::size_t ip_len = v6 ? get16(p, 4) + 40u : get16(p, 2);
  if (ip_len != p.size()) return false;
  if (is_udp(p) && get16(p, l4_offset(p) + 4) != p.size() - l4_offset(p)) return false;
  return payload_offset(p) <= p.size();
}

bool ip_checksum_ok(std::span<const std::uint8_t> p) {
  return (p[0] >> 4) == 6 || ref_checksum(p.first(ip_header_length(p))) == 0;
}

bool l4_checksum_ok(std::span<const std::uint8_t> p) {
  const std::size_t l4 = l4_offset(p);
  if (is_udp(p) && get16(p, l4 + 6) == 0) return false;  // we always want one
  return ref_checksum(p.subspan(l4), ref_pseudo_sum(p, p.size() - l4)) == 0;
}

}  // namespace squtun::tun::testing
