#!/usr/bin/env python3
"""tests/e2e/attack.py — packet tools for squtun's attack and fault tests (Python stdlib only).

Run inside a test's network namespace (ip netns exec NS python3 attack.py ...), as root.

  sniff IFACE OUT [--ready FILE] [--src IP] [--sport P] [--dst IP] [--dport P] [--payload]
      Capture IPv4 UDP on IFACE (AF_PACKET, both directions) until SIGTERM/SIGINT; write one
      JSON object per datagram to OUT (time, direction, addresses, ports, length, and the
      payload in hex with --payload).  Filters are AND-ed.  Non-first IP fragments matching
      --src/--dst are counted apart.  At exit a final {"summary": ...} line gives the totals
      and the kernel's capture drops.  --ready FILE is created once the socket is bound.

  replay CAPTURE --from IP:PORT --to IP:PORT [--src IP] [--sport P] [--types 1,2,3] [--count-out FILE]
      Send again, from IP:PORT (a raw socket: any local IP, any source port, also one a
      daemon has bound), the payloads of the captured datagrams that match --src/--sport, in
      order.  Prints how many of each message type it sent.

  cycle RECORDS --to IP:PORT --from IP:PORT [--from ...] --rate N --seconds S [--count-out FILE]
      Send the 64-byte records of RECORDS (a file of recorded initiations, back to back)
      round-robin, again and again, at N datagrams a second for S seconds (or until
      SIGTERM/SIGINT); each full pass over the records is a cycle.  Successive datagrams go
      out from the --from sources in turn, shifted by one each cycle so that every record is
      sent from every source (raw sockets: also a port a daemon has bound, i.e. the peer's
      own address, spoofed).  Prints a JSON summary: sent, cycles, seconds.

  junk --to IP:PORT --from IP:PORT [--from ...] (--all-sizes | --count N) [--seed S]
       [--pace-pid PID] [--live-index HEX --live-counter N] [--extra-handshakes N]
      Unauthentic datagrams: random bytes, and plausible squtun headers (types 1/2/3, zero
      reserved bytes) with random rest, so wrong MACs; --all-sizes sends every size 0..65507
      once in random order; --live-index adds data messages naming that live session index
      with counters just ahead of --live-counter (each costs the receiver one AEAD open);
      --extra-handshakes N adds N well-sized initiations (64 bytes) and N responses (60).
      Sources rotate over the --from list (PORT 0 = a random port each time).  --pace-pid:
      keep at most a bounded number of datagrams in flight to the namespace of PID, judged
      from its UDP counters (/proc/PID/net/snmp), so that the receiver's socket buffer does
      not overflow and every datagram reaches the daemon.  Prints a JSON summary.

  echo IP:PORT OUT
      An ordinary UDP socket bound to IP:PORT that sends every datagram straight back to its
      source (a live reflector standing in for a stopped peer), until SIGTERM/SIGINT; writes a
      JSON summary (datagrams echoed, by message type) to OUT.

  stream FILE HOST:PORT --rate BYTES_PER_SECOND
      Connect over TCP (retrying for 10 s) and send FILE at about the given rate, then close
      the sending side and wait for the receiver to close; exit 0 only if all of it went out.
      A transfer that lasts long enough to be in flight while a test breaks the tunnel.

  clock FILE OFFSET_FILE
      A wall clock for libfaketime's FAKETIME="%" FAKETIME_FOLLOW_FILE=FILE mode: every 2 ms
      set FILE's modification time to the real time plus the offset (seconds, e.g. -600)
      written in OFFSET_FILE, until SIGTERM/SIGINT.  Rewriting OFFSET_FILE steps the clock
      of the process that follows FILE, at once.  (libfaketime's FAKETIME_TIMESTAMP_FILE
      cannot be used with squtun: its seccomp filter refuses the open() that re-reads the
      file, and libfaketime then falls back to the real time; the file's mtime is read with
      stat(), which the filter allows.)

  udpstats PID
      Print the UDP and IP reassembly counters of PID's network namespace as JSON.

  unseen-initiations CAPTURE --initiator IP --responder IP
      How many initiations INITIATOR sent (in CAPTURE) are newer than every initiation
      RESPONDER saw: one that reached it once it was up (it had sent something), which it
      answered or, as the loser of a simultaneous-initiation tie-break, remembered.  Those
      newer ones RESPONDER has never seen, nor anything later, so that a replay of them is
      fresh to it (docs/PROTOCOL.md 5.3).  Prints the count and the newest seen timestamp.
"""

import argparse
import json
import os
import random
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
IP_MTU_DISCOVER = 10
IP_PMTUDISC_DONT = 0
MAX_UDP_PAYLOAD = 65507


def host_port(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


# ---------------------------------------------------------------------------------------------
# sniff

SO_ATTACH_FILTER = 26


def attach_src_filter(sock, src):
    """Classic BPF in the kernel: only IPv4 frames from SRC reach the socket, so a flood of
    other traffic on the link can neither be missed nor make the capture drop frames."""
    import ctypes
    addr = struct.unpack("!I", socket.inet_aton(src))[0]
    prog = [
        (0x28, 0, 0, 12),          # ldh [12]          ethertype
        (0x15, 0, 3, 0x0800),      # jeq #IPv4 ? next : drop
        (0x20, 0, 0, 26),          # ld  [26]          IPv4 source address
        (0x15, 0, 1, addr),        # jeq #src ? accept : drop
        (0x06, 0, 0, 0x40000),     # accept: ret #262144
        (0x06, 0, 0, 0),           # drop:   ret #0
    ]
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw)
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    attach_src_filter.keep = buf      # the kernel copies it, but keep it alive until then


def cmd_sniff(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    if a.src:
        attach_src_filter(s, a.src)
    s.bind((a.iface, 0))
    s.settimeout(0.1)
    out = open(a.out, "w", buffering=1)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
    kept = fragments = seen = 0
    while not stop:
        try:
            frame, addr = s.recvfrom(70000)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        seen += 1
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17:
            continue
        src = socket.inet_ntoa(ip[12:16])
        dst = socket.inet_ntoa(ip[16:20])
        if a.src and src != a.src:
            continue
        if a.dst and dst != a.dst:
            continue
        frag = struct.unpack("!H", ip[6:8])[0]
        if frag & 0x1FFF:
            fragments += 1
            continue
        total = struct.unpack("!H", ip[2:4])[0]
        udp = ip[ihl:total]
        if len(udp) < 8:
            continue
        sport, dport, ulen = struct.unpack("!HHH", udp[:6])
        if a.sport and sport != a.sport:
            continue
        if a.dport and dport != a.dport:
            continue
        payload = udp[8:]
        rec = {
            "t": time.time(),
            "dir": "out" if addr[2] == PACKET_OUTGOING else "in",
            "src": src, "sport": sport, "dst": dst, "dport": dport,
            "len": ulen - 8,
            "type": payload[0] if payload else -1,
            "fragmented": bool(frag & 0x2000),
        }
        if a.payload:
            rec["hex"] = payload.hex()
        out.write(json.dumps(rec) + "\n")
        kept += 1
    try:
        st = s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        packets, drops = struct.unpack("II", st)
    except OSError:
        packets, drops = -1, -1
    out.write(json.dumps({"summary": {"kept": kept, "frames": seen, "fragments": fragments,
                                      "kernel_drops": drops}}) + "\n")
    out.close()


# ---------------------------------------------------------------------------------------------
# raw UDP sender: any local source address, any source port

class RawUdp:
    def __init__(self, src_ip):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        # A raw UDP socket also receives a copy of every UDP datagram; we never read them.
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        self.s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
        self.s.bind((src_ip, 0))

    def send(self, sport, dst, dport, payload):
        # UDP checksum 0: "none" in IPv4, accepted by the receiver.
        header = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
        self.s.sendmsg([header, payload], [], 0, (dst, 0))


def read_records(path):
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if "summary" not in rec:
                yield rec


def cmd_replay(a):
    fhost, fport = host_port(getattr(a, "from"))
    thost, tport = host_port(a.to)
    types = {int(t) for t in a.types.split(",")} if a.types else None
    sender = RawUdp(fhost)
    sent = {}
    for rec in read_records(a.capture):
        if a.src and rec["src"] != a.src:
            continue
        if a.sport and rec["sport"] != a.sport:
            continue
        if "hex" not in rec or rec.get("fragmented"):
            continue
        payload = bytes.fromhex(rec["hex"])
        kind = payload[0] if payload else -1
        if types is not None and kind not in types:
            continue
        sender.send(fport, thost, tport, payload)
        sent[kind] = sent.get(kind, 0) + 1
    summary = {"sent": sum(sent.values()), "by_type": {str(k): v for k, v in sorted(sent.items())}}
    print(json.dumps(summary))
    if a.count_out:
        with open(a.count_out, "w") as f:
            json.dump(summary, f)


def cmd_cycle(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    data = open(a.records, "rb").read()
    records = [data[i:i + 64] for i in range(0, len(data) - 63, 64)]
    if not records:
        sys.exit("no 64-byte records in " + a.records)
    thost, tport = host_port(a.to)
    sources = [host_port(f) for f in getattr(a, "from")]
    senders = {h: RawUdp(h) for h, _ in sources}
    t0 = time.monotonic()
    sent = 0
    while not stop and time.monotonic() - t0 < a.seconds:
        # each cycle shifts the sources by one, so every record goes out from every source
        host, port = sources[(sent + sent // len(records)) % len(sources)]
        senders[host].send(port, thost, tport, records[sent % len(records)])
        sent += 1
        ahead = sent / a.rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    secs = time.monotonic() - t0
    summary = {"records": len(records), "sent": sent, "cycles": round(sent / len(records), 2),
               "seconds": round(secs, 3), "per_second": round(sent / secs) if secs > 0 else None}
    print(json.dumps(summary))
    if a.count_out:
        with open(a.count_out, "w") as f:
            json.dump(summary, f)


# ---------------------------------------------------------------------------------------------
# junk

def udp_stats(pid):
    """UDP and IP reassembly counters of the network namespace of process PID."""
    rows = {}
    with open(f"/proc/{pid}/net/snmp") as f:
        lines = f.read().splitlines()
    for i in range(0, len(lines) - 1, 2):
        names = lines[i].split()
        values = lines[i + 1].split()
        if names[0] in ("Ip:", "Udp:"):
            rows.update({f"{names[0][:-1]}{n}": int(v) for n, v in zip(names[1:], values[1:])})
    return {
        "in_datagrams": rows.get("UdpInDatagrams", 0),
        "in_errors": rows.get("UdpInErrors", 0),
        "rcvbuf_errors": rows.get("UdpRcvbufErrors", 0),
        "no_ports": rows.get("UdpNoPorts", 0),
        "reasm_fails": rows.get("IpReasmFails", 0),
        "reasm_oks": rows.get("IpReasmOKs", 0),
    }


def cmd_udpstats(a):
    print(json.dumps(udp_stats(a.pid)))


def make_junk(rng, size, kind, pool, live_index, live_counter):
    """One unauthentic datagram of SIZE bytes; KIND picks the header."""
    off = rng.randrange(0, len(pool) - size) if size else 0
    body = bytearray(pool[off:off + size])
    if size >= 4 and kind in (1, 2, 3):
        body[0] = kind
        body[1:4] = b"\0\0\0"
    if size >= 16 and kind == 4 and live_index is not None:
        # a data message for the live session, counter a little ahead: passes the replay
        # pre-check, costs one AEAD open, fails the tag
        body[0:4] = b"\x03\0\0\0"
        body[4:8] = struct.pack("<I", live_index)
        body[8:16] = struct.pack("<Q", live_counter + 1 + rng.randrange(0, 4000))
    elif kind == 4 and size >= 4:
        body[0:4] = b"\x03\0\0\0"
    return bytes(body)


def cmd_junk(a):
    thost, tport = host_port(a.to)
    rng = random.Random(a.seed)
    sources = []
    senders = {}
    for text in getattr(a, "from"):
        host, port = host_port(text)
        if host not in senders:
            senders[host] = RawUdp(host)
        sources.append((host, port))
    live_index = int(a.live_index, 16) if a.live_index else None
    # sizes: every size once in random order, or N sizes drawn uniformly
    if a.all_sizes:
        sizes = list(range(MAX_UDP_PAYLOAD + 1))
        rng.shuffle(sizes)
    else:
        sizes = [rng.randrange(0, MAX_UDP_PAYLOAD + 1) for _ in range(a.count)]
    plan = [(s, i % 5) for i, s in enumerate(sizes)]
    for _ in range(a.extra_handshakes):
        plan.append((64, 1))
        plan.append((60, 2))
        plan.append((32, 4))
    rng.shuffle(plan)
    pool = os.urandom(MAX_UDP_PAYLOAD + 65536)

    max_in_flight = 48          # datagrams
    max_bytes_in_flight = 1 << 20
    base = udp_stats(a.pace_pid) if a.pace_pid else None
    in_flight = []              # sizes of datagrams not yet known to be taken by the receiver
    processed_seen = 0
    stalls = 0
    t0 = time.monotonic()
    by_kind = [0] * 5
    sent_bytes = 0
    for n, (size, kind) in enumerate(plan):
        if base is not None:
            # wait until the receiver's namespace has taken (delivered or dropped) enough
            while len(in_flight) >= max_in_flight or sum(in_flight) + size > max_bytes_in_flight:
                st = udp_stats(a.pace_pid)
                processed = (st["in_datagrams"] - base["in_datagrams"]) + (st["in_errors"] - base["in_errors"])
                done = processed - processed_seen
                if done > 0:
                    processed_seen += done
                    del in_flight[:done]
                    continue
                stalls += 1
                if stalls % 2000 == 0:
                    # a datagram lost before the socket (e.g. a fragment): do not wait forever
                    in_flight.pop(0)
                time.sleep(0.0002)
        host, port = sources[n % len(sources)]
        sport = port or rng.randrange(1024, 65536)
        payload = make_junk(rng, size, kind, pool, live_index, a.live_counter)
        senders[host].send(sport, thost, tport, payload)
        by_kind[kind] += 1
        sent_bytes += size
        if base is not None:
            in_flight.append(size + 200)
    secs = time.monotonic() - t0
    summary = {"sent": len(plan), "bytes": sent_bytes, "seconds": round(secs, 3),
               "per_second": round(len(plan) / secs) if secs > 0 else None,
               "by_kind": {"random": by_kind[0], "type1": by_kind[1], "type2": by_kind[2],
                           "type3": by_kind[3], "type3_live": by_kind[4]},
               "min_size": min(s for s, _ in plan), "max_size": max(s for s, _ in plan),
               "distinct_sizes": len({s for s, _ in plan})}
    print(json.dumps(summary))


def cmd_echo(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    host, port = host_port(a.bind)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.settimeout(0.1)
    by_type = {}
    while not stop:
        try:
            data, src = s.recvfrom(70000)
        except (socket.timeout, InterruptedError):
            continue
        s.sendto(data, src)
        kind = str(data[0]) if data else "empty"
        by_type[kind] = by_type.get(kind, 0) + 1
    with open(a.out, "w") as f:
        json.dump({"echoed": sum(by_type.values()), "by_type": by_type}, f)


def cmd_stream(a):
    host, port = host_port(a.to)
    deadline = time.monotonic() + 10
    while True:
        try:
            s = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    s.settimeout(None)
    chunk = 16384
    t0 = time.monotonic()
    sent = 0
    with open(a.file, "rb") as f:
        while True:
            data = f.read(chunk)
            if not data:
                break
            s.sendall(data)
            sent += len(data)
            ahead = sent / a.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
    print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - t0, 3)}))


def cmd_clock(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    offset_ns, seen = 0, None
    while not stop:
        try:
            st = os.stat(a.offset_file)
            if seen != (st.st_mtime_ns, st.st_size):
                with open(a.offset_file) as f:
                    offset_ns = int(float(f.read().strip() or 0) * 1e9)
                seen = (st.st_mtime_ns, st.st_size)
        except (OSError, ValueError):
            pass
        t = time.time_ns() + offset_ns
        os.utime(a.file, ns=(t, t))
        time.sleep(0.002)


def cmd_unseen(a):
    inits = []          # (timestamp, sender_index) of INITIATOR's initiations, in order
    answered = set()    # receiver_index of RESPONDER's responses
    newest_seen = 0     # newest timestamp of an initiation that reached RESPONDER while up
    responder_up = False
    for rec in read_records(a.capture):
        if rec["src"] == a.responder:
            responder_up = True
        if "hex" not in rec:
            continue
        p = bytes.fromhex(rec["hex"])
        if rec["src"] == a.initiator and len(p) == 64 and p[0] == 1:
            ts = struct.unpack(">Q", p[40:48])[0]
            inits.append((ts, struct.unpack("<I", p[4:8])[0]))
            if responder_up:
                newest_seen = max(newest_seen, ts)
        elif rec["src"] == a.responder and len(p) == 60 and p[0] == 2:
            answered.add(struct.unpack("<I", p[8:12])[0])
    newest = max([newest_seen] + [ts for ts, idx in inits if idx in answered])
    unseen = sum(1 for ts, _ in inits if ts > newest)
    print(json.dumps({"initiations": len(inits), "answered": sum(1 for _, i in inits if i in answered),
                      "unseen": unseen, "newest_seen_ts": newest}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("sniff")
    s.add_argument("iface")
    s.add_argument("out")
    s.add_argument("--ready")
    s.add_argument("--src")
    s.add_argument("--dst")
    s.add_argument("--sport", type=int)
    s.add_argument("--dport", type=int)
    s.add_argument("--payload", action="store_true")
    s.set_defaults(func=cmd_sniff)

    r = sub.add_parser("replay")
    r.add_argument("capture")
    r.add_argument("--from", required=True)
    r.add_argument("--to", required=True)
    r.add_argument("--src")
    r.add_argument("--sport", type=int)
    r.add_argument("--types")
    r.add_argument("--count-out")
    r.set_defaults(func=cmd_replay)

    y = sub.add_parser("cycle")
    y.add_argument("records")
    y.add_argument("--to", required=True)
    y.add_argument("--from", action="append", required=True)
    y.add_argument("--rate", type=float, required=True)
    y.add_argument("--seconds", type=float, required=True)
    y.add_argument("--count-out")
    y.set_defaults(func=cmd_cycle)

    j = sub.add_parser("junk")
    j.add_argument("--to", required=True)
    j.add_argument("--from", action="append", required=True)
    j.add_argument("--all-sizes", action="store_true")
    j.add_argument("--count", type=int, default=0)
    j.add_argument("--seed", type=int, default=1)
    j.add_argument("--pace-pid", type=int)
    j.add_argument("--live-index")
    j.add_argument("--live-counter", type=int, default=0)
    j.add_argument("--extra-handshakes", type=int, default=0)
    j.set_defaults(func=cmd_junk)

    u = sub.add_parser("udpstats")
    u.add_argument("pid", type=int)
    u.set_defaults(func=cmd_udpstats)

    t = sub.add_parser("stream")
    t.add_argument("file")
    t.add_argument("to")
    t.add_argument("--rate", type=float, required=True)
    t.set_defaults(func=cmd_stream)

    c = sub.add_parser("clock")
    c.add_argument("file")
    c.add_argument("offset_file")
    c.set_defaults(func=cmd_clock)

    e = sub.add_parser("echo")
    e.add_argument("bind")
    e.add_argument("out")
    e.set_defaults(func=cmd_echo)

    w = sub.add_parser("unseen-initiations")
    w.add_argument("capture")
    w.add_argument("--initiator", required=True)
    w.add_argument("--responder", required=True)
    w.set_defaults(func=cmd_unseen)

    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
