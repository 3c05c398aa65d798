#pragma once

#include <poll.h>

#include <atomic>
#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/fd.h"
#include "base/guarded.h"
#include "crypto/secret.h"
#include "daemon/status_report.h"
#include "daemon/ordered_pipeline.h"
#include "daemon/reload.h"
#include "daemon/tun_writer.h"
#include "net/resolver_process.h"
#include "net/udp_socket.h"
#include "protocol/counters.h"
#include "protocol/peer.h"
#include "tun/mss_clamp.h"
#include "tun/tun_device.h"

namespace squtun::daemon {

// Wires the protocol to the TUN device and the UDP socket: one thread reads batches from
// the TUN device, another from the socket (and runs the timers). Each direction's batches
// go through an OrderedPipeline: workers seal or open their packets in parallel, and the
// thread holding the finishing turn sends them or writes them to the device in the order
// they were read. The Peer is shared under a mutex taken a few times per batch, never per
// packet; sealing and opening happen outside it with per-worker cipher contexts, and so
// does acting on the Peer's events.
class Tunnel {
 public:
  static constexpr std::size_t kBatchSize = 64;
  // Each slot holds one UDP datagram: a GRO train inbound, one sealed packet outbound.
  static constexpr std::size_t kSlotSize = net::DatagramBatch::kGroSlotSize;
  static_assert(kSlotSize >= protocol::kDataOverhead + protocol::kMaxInnerPacket + 1,
                "an outbound slot holds the largest inner packet, sealed, and the byte that "
                "tells the reader a packet was too large");
  // Batches per direction with workers: one being read while the other is sealed or opened
  // and sent. A receiving batch is resident in full (a GRO train may fill each of its 64 KiB
  // slots), so with workers each has half the slots: two cost what one does without. A GRO
  // slot holds up to 64 datagrams, so the batches still give 16 threads a chunk each.
  static constexpr std::size_t kPipelineSlots = 2;
  // A batch goes to the workers only from this many bytes, in packets of this size on
  // average: a smaller batch is done before a woken worker arrives, and a small packet
  // costs the kernel more than the cipher, so sharing its cipher work gains little and
  // takes CPU from the kernel. On two cores shared with the other end, handing over every
  // batch made 64-byte traffic 20-40 % slower than one thread (PERFORMANCE.md 7).
  static constexpr std::size_t kMinSharedBytes = 16384;
  static constexpr std::size_t kMinSharedAverage = 512;
  // Whether a batch of `packets` to seal or open, of `bytes` in all, is worth the workers'
  // while.
  static OrderedPipeline::Sharing sharing(std::size_t packets, std::size_t bytes);

  // `next_psk`: the --next-key key, or nullptr.
  // `threads`: threads that seal, and that open, packets: the reading thread of each
  // direction and threads - 1 workers beside it.
  Tunnel(tun::TunDevice tun, net::UdpSocket socket, const crypto::Key& psk, const crypto::Key* next_psk,
         protocol::PeerConfig config, std::size_t threads);
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;
  ~Tunnel();

  // The peer was given by host name (-p NAME): whenever handshakes to it go unanswered,
  // look the name up again in `resolver` and follow the address it has now (dynamic DNS).
  // Call before start().
  void follow_peer_name(std::string host, std::uint16_t port, net::ResolverProcess resolver);
  // Applies what a reload read (keys, timers, the peer's host) to the running tunnel.
  void reload(const LiveSettings& live);

  // Fits the MSS of TCP SYNs to the device's MTU as it is now; before start() and seccomp.
  void clamp_mss();

  void start();
  void stop();
  // Readable once the data path stopped, also on its own: the TUN device gone, or a data-path
  // thread failed.
  int stopped_fd() const { return stop_event_.get(); }

  // What `squtun show` and SIGUSR1 print (daemon/status_report.h).
  TunnelStatus status() const;

 private:
  // A batch on its way through one direction, and what the stages hand each other.
  struct OutboundSlot {
    explicit OutboundSlot(std::size_t capacity);
    net::DatagramBatch batch;
    std::optional<protocol::Peer::SendTicket> ticket;
    std::atomic<bool> seal_failed{false};
  };
  struct InboundSlot {
    explicit InboundSlot(std::size_t capacity);
    net::DatagramBatch batch;
    std::vector<std::optional<protocol::Peer::ReceiveTicket>> tickets;
    std::vector<std::size_t> inner_sizes;
  };
  // Allocated once in start(): the slots, one cipher context per worker and one for the
  // reading thread, and the pipeline that orders the batches.
  template <typename Slot>
  struct Direction {
    std::deque<Slot> slots;  // a deque: a slot holds an atomic and cannot move
    std::vector<crypto::AeadContext> aead;
    std::optional<OrderedPipeline> pipeline;
  };

  // Runs call(peer) under the Peer's lock, then, unlocked, acts on the events it recorded.
  template <typename Call>
  void with_peer(Call&& call);
  void on(const protocol::InitiationSent& event);
  void on(const protocol::HandshakeCompleted& event);
  void on(const protocol::ClockSkewRejected& event);
  void on(const protocol::PeerAddressChanged& event);
  void on(const protocol::HandshakeUnanswered& event);

  void halt();  // wakes every data path thread to end its loop
  void run_data_path(const char* direction, void (Tunnel::*loop)());
  void data_path_failed(const char* direction, std::exception_ptr error);
  void build_pipelines();
  int wait_for_input(std::span<pollfd> fds, int timeout_ms, OrderedPipeline& pipeline);

  void outbound_loop();
  // Reserves counters for the slot's packets, in the order they were read, and publishes
  // it. Without a usable session it returns why: the packets stay in the slot, to stage
  // or drop, and it is not published.
  std::optional<protocol::DropReason> publish_outbound(std::size_t slot);
  void seal_packets(std::size_t worker, std::size_t slot, std::size_t first, std::size_t end);
  void send_sealed(std::size_t slot);

  void inbound_loop();
  // Takes the Peer's verdict on each datagram, in arrival order, and publishes the slot if
  // any is data to open: a batch of handshakes or of junk costs no hand-off.
  void publish_inbound(std::size_t slot);
  void open_packets(std::size_t worker, std::size_t slot, std::size_t first, std::size_t end);
  void deliver_opened(std::size_t slot);
  void send_control_messages();
  void request_peer_lookup();
  void take_peer_lookup();

  tun::TunDevice tun_;
  net::UdpSocket socket_;
  // Read once: the seccomp filter forbids getsockname later.
  const std::uint16_t listen_port_ = socket_.local_port();
  // The socket's own flag belongs to the outbound thread; `squtun show` reads this copy.
  std::atomic<bool> udp_gso_on_{socket_.gso_enabled()};
  protocol::Counters counters_;
  // Reached only under its own lock: the data-path threads through with_peer(), which acts
  // on the Peer's events after the lock is released.
  base::Guarded<protocol::Peer> peer_;
  // No clock-skew warning before this (steady clock, ns): one line a minute at most.
  std::atomic<std::int64_t> next_skew_warning_ns_{0};
  // -p NAME: looked up again when handshakes go unanswered. The inbound thread owns these;
  // the event handler, on whichever thread, only raises the flag.
  // The peer's host and port as -p/-r give them: a reload on the main thread may change them.
  struct PeerName {
    std::string host;
    std::uint16_t port = 0;
  };
  base::Guarded<PeerName> peer_name_;
  std::optional<net::ResolverProcess> resolver_;
  std::atomic<bool> lookup_wanted_{false};
  std::string last_lookup_error_;
  std::optional<tun::MssClamp> mss_clamp_;
  base::Fd stop_event_;
  // Written when a handshake completes, so the outbound thread sends what it staged.
  base::Fd session_up_;
  std::atomic<bool> stopping_{false};
  const std::size_t workers_;  // per direction, beside its reading thread
  Direction<OutboundSlot> out_;
  Direction<InboundSlot> in_;
  std::optional<TunWriter> writer_;  // the inbound finisher's
  std::thread outbound_;
  std::thread inbound_;
};

template <typename Call>
void Tunnel::with_peer(Call&& call) {
  const protocol::PeerEvents events = peer_.with([&](protocol::Peer& peer) {
    call(peer);
    return peer.take_events();
  });
  for (const auto& event : events) std::visit([this](const auto& e) { this->on(e); }, event);
}

protocol::Now current_time();

}  // namespace squtun::daemon
