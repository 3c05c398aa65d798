// The two data-path pipelines of Tunnel: TUN -> seal -> UDP and UDP -> open -> TUN.
#include <poll.h>
#include <unistd.h>

#include <array>
#include <chrono>

#include "daemon/log.h"
#include "daemon/staged_packets.h"
#include "daemon/tun_reader.h"
#include "daemon/tunnel.h"
#include "protocol/data_packet.h"

namespace squtun::daemon {

using protocol::DropReason;
using protocol::kDataHeaderSize;
using protocol::kDataOverhead;

namespace {

constexpr int kTickMilliseconds = static_cast<int>(
    std::chrono::duration_cast<std::chrono::milliseconds>(protocol::kTimerGranularity).count());

}  // namespace

Tunnel::OutboundSlot::OutboundSlot(std::size_t capacity)
    : batch(capacity, kSlotSize, net::DatagramBatch::Residency::OnFirstUse) {}

Tunnel::InboundSlot::InboundSlot(std::size_t capacity)
    : batch(capacity, kSlotSize),
      tickets(batch.max_count()),
      inner_sizes(batch.max_count()) {}

void Tunnel::build_pipelines() {
  const std::size_t slots = workers_ > 0 ? kPipelineSlots : 1;
  for (std::size_t i = 0; i < slots; ++i) {
    out_.slots.emplace_back(kBatchSize);
    in_.slots.emplace_back(kBatchSize / slots);
  }
  out_.aead.resize(workers_ + 1);  // the last for the reading thread
  in_.aead.resize(workers_ + 1);
  writer_.emplace(tun_, counters_, in_.slots.front().batch.max_count());
  out_.pipeline.emplace(
      "seal", slots, workers_,
      [this](auto w, auto s, auto first, auto end) { seal_packets(w, s, first, end); },
      [this](auto s) { send_sealed(s); },
      [this](auto error) { data_path_failed("outbound", error); });
  in_.pipeline.emplace(
      "open", slots, workers_,
      [this](auto w, auto s, auto first, auto end) { open_packets(w, s, first, end); },
      [this](auto s) { deliver_opened(s); },
      [this](auto error) { data_path_failed("inbound", error); });
}

OrderedPipeline::Sharing Tunnel::sharing(std::size_t packets, std::size_t bytes) {
  const bool worth_it = bytes >= kMinSharedBytes && bytes >= packets * kMinSharedAverage;
  return worth_it ? OrderedPipeline::Sharing::WithWorkers : OrderedPipeline::Sharing::CallerOnly;
}

// With batches in flight, the reading thread works on the pipeline's chunks whenever it has
// nothing to read, instead of leaving them to a worker that has to be woken first.
int Tunnel::wait_for_input(std::span<pollfd> fds, int timeout_ms, OrderedPipeline& pipeline) {
  if (!pipeline.idle()) {
    if (const int ready = poll(fds.data(), fds.size(), 0); ready != 0) return ready;
    pipeline.help();
  }
  return poll(fds.data(), fds.size(), timeout_ms);
}

// --- TUN -> seal -> UDP ---------------------------------------------------------------

void Tunnel::outbound_loop() {
  StagedPackets staged(counters_);
  TunReader reader(tun_, counters_);
  std::array<pollfd, 3> fds{
      {{tun_.fd(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}, {session_up_.get(), POLLIN, 0}}};
  while (!stopping_) {
    if (wait_for_input(fds, -1, *out_.pipeline) <= 0 || stopping_) continue;
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {  // deleted: POLLERR for good
      log_error("interface " + tun_.name() + " is gone (deleted?); stopping");
      return halt();
    }
    if (fds[2].revents & POLLIN) {
      std::uint64_t events = 0;
      const auto slot = out_.pipeline->acquire();
      if (!slot) continue;
      net::DatagramBatch& batch = out_.slots[*slot].batch;
      if (read(session_up_.get(), &events, sizeof events) > 0 &&
          staged.release(batch, current_time().mono) > 0) {
        if (const auto unsent = publish_outbound(*slot)) counters_.drop(*unsent, batch.count());
      }
    }
    const auto slot = (fds[0].revents & POLLIN) ? out_.pipeline->acquire() : std::nullopt;
    if (slot && reader.read_batch(out_.slots[*slot].batch) > 0) {
      net::DatagramBatch& batch = out_.slots[*slot].batch;
      for (std::size_t i = 0; mss_clamp_ && i < batch.count(); ++i)
        mss_clamp_->apply(batch.slot(i).subspan(kDataHeaderSize, batch.length(i)));
      if (const auto unsent = publish_outbound(*slot))
        staged.hold(batch, current_time().mono, *unsent);
    }
    send_control_messages();
  }
}

std::optional<DropReason> Tunnel::publish_outbound(std::size_t slot) {
  OutboundSlot& s = out_.slots[slot];
  const std::size_t n = s.batch.count();
  DropReason unsent = DropReason::NoSession;
  with_peer([&](protocol::Peer& peer) {
    s.ticket = peer.reserve_send(n, current_time());
    if (!s.ticket) unsent = peer.unsendable_reason();
  });
  if (!s.ticket) return unsent;
  s.seal_failed.store(false, std::memory_order_relaxed);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < n; ++i) bytes += s.batch.length(i);
  out_.pipeline->publish(slot, n, sharing(n, bytes));
  return std::nullopt;
}

void Tunnel::seal_packets(std::size_t worker, std::size_t slot, std::size_t first,
                          std::size_t end) {
  OutboundSlot& s = out_.slots[slot];
  for (std::size_t i = first; i < end; ++i) {
    auto datagram = s.batch.slot(i);
    const std::size_t sealed =
        protocol::seal_packet(out_.aead[worker], *s.ticket->session, s.ticket->first_counter + i,
                              datagram.subspan(kDataHeaderSize, s.batch.length(i)), datagram);
    if (sealed == 0) return s.seal_failed.store(true, std::memory_order_relaxed);
    s.batch.length(i) = sealed;
    s.batch.endpoint(i) = s.ticket->to;
  }
}

void Tunnel::send_sealed(std::size_t slot) {
  OutboundSlot& s = out_.slots[slot];
  if (s.seal_failed.load(std::memory_order_relaxed)) {
    return counters_.drop(DropReason::UdpSend, s.batch.count());  // nothing of the batch goes out
  }
  const net::SendResult result = socket_.send(s.batch);
  counters_.drop(DropReason::UdpSend, result.failed);
  counters_.add(counters_.tx_packets, result.sent);
  counters_.add(counters_.tx_bytes, result.bytes - result.sent * kDataOverhead);
  if (udp_gso_on_.load(std::memory_order_relaxed) && !socket_.gso_enabled()) {
    udp_gso_on_ = false;
    log_warning("the kernel refused a UDP GSO send; sending datagrams one by one from now on");
  }
}

// --- UDP -> open -> TUN ---------------------------------------------------------------

void Tunnel::inbound_loop() {
  auto next_tick = std::chrono::steady_clock::now();
  while (!stopping_) {
    const auto until_tick = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_tick - std::chrono::steady_clock::now());
    const int timeout = static_cast<int>(std::max<std::int64_t>(0, until_tick.count()));
    // poll ignores a negative fd: without a name to look up there is none.
    const int lookup_fd = resolver_ && !resolver_->gone() ? resolver_->fd() : -1;
    std::array<pollfd, 3> fds{
        {{socket_.fd(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}, {lookup_fd, POLLIN, 0}}};
    const int ready = wait_for_input(fds, timeout, *in_.pipeline);
    if (stopping_) break;
    const auto slot =
        ready > 0 && (fds[0].revents & POLLIN) ? in_.pipeline->acquire() : std::nullopt;
    if (slot && socket_.receive(in_.slots[*slot].batch)) publish_inbound(*slot);
    if (ready > 0 && fds[2].revents != 0) take_peer_lookup();
    if (std::chrono::steady_clock::now() >= next_tick) {
      with_peer([](protocol::Peer& peer) { peer.tick(current_time()); });
      next_tick = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTickMilliseconds);
      log_flush_suppressed();  // summaries of rate-limited warnings whose minute is over
    }
    if (lookup_wanted_.exchange(false)) request_peer_lookup();
    send_control_messages();
  }
}

void Tunnel::publish_inbound(std::size_t slot) {
  InboundSlot& s = in_.slots[slot];
  net::DatagramBatch& batch = s.batch;
  counters_.drop(DropReason::Malformed, batch.dropped());
  const protocol::Now now = current_time();
  std::size_t data_packets = 0, data_bytes = 0;
  with_peer([&](protocol::Peer& peer) {
    for (std::size_t i = 0; i < batch.count(); ++i) {
      s.tickets[i] = peer.receive(batch.datagram(i), batch.endpoint(i), now);
      if (!s.tickets[i]) continue;
      ++data_packets;
      data_bytes += batch.datagram(i).size();
    }
  });
  if (data_packets > 0)
    in_.pipeline->publish(slot, batch.count(), sharing(data_packets, data_bytes));
}

void Tunnel::open_packets(std::size_t worker, std::size_t slot, std::size_t first,
                          std::size_t end) {
  InboundSlot& s = in_.slots[slot];
  for (std::size_t i = first; i < end; ++i) {
    auto& ticket = s.tickets[i];
    if (!ticket) continue;
    auto message = s.batch.datagram(i);
    const auto inner = protocol::open_packet(in_.aead[worker], *ticket->session, message,
                                             message.subspan(kDataHeaderSize));
    if (inner) {
      s.inner_sizes[i] = *inner;
    } else {
      ticket.reset();
      counters_.drop(DropReason::BadMac);
    }
  }
}

void Tunnel::deliver_opened(std::size_t slot) {
  InboundSlot& s = in_.slots[slot];
  const std::size_t n = s.batch.count();
  const protocol::Now now = current_time();
  with_peer([&](protocol::Peer& peer) {
    for (std::size_t i = 0; i < n; ++i) {
      if (s.tickets[i] &&
          !peer.commit_data(*s.tickets[i], s.batch.endpoint(i), s.inner_sizes[i], now))
        s.tickets[i].reset();
    }
  });
  for (std::size_t i = 0; i < n; ++i) {
    if (s.tickets[i] && s.inner_sizes[i] > 0) {
      const auto packet = s.batch.datagram(i).subspan(kDataHeaderSize, s.inner_sizes[i]);
      if (mss_clamp_) mss_clamp_->apply(packet);
      writer_->add(packet);
    }
  }
  writer_->flush();
}

}  // namespace squtun::daemon
