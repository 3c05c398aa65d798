#include "protocol/counters.h"

namespace squtun::protocol {

std::string_view drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::Malformed: return "malformed";
    case DropReason::WrongSource: return "wrong_source";
    case DropReason::BadMac: return "bad_mac";
    case DropReason::Replay: return "replay";
    case DropReason::Reflected: return "reflected";
    case DropReason::ClockSkew: return "clock_skew";
    case DropReason::UnknownSession: return "unknown_session";
    case DropReason::Expired: return "expired";
    case DropReason::RateLimited: return "rate_limited";
    case DropReason::NoSession: return "no_session";
    case DropReason::NoPeer: return "no_peer";
    case DropReason::TooBig: return "too_big";
    case DropReason::TunWrite: return "tun_write";
    case DropReason::TunRead: return "tun_read";
    case DropReason::UdpSend: return "udp_send";
    case DropReason::kCount: break;
  }
  return "unknown";
}

}  // namespace squtun::protocol
