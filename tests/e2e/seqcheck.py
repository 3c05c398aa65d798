#!/usr/bin/env python3
"""seqcheck.py — a sequence-numbered UDP stream, sent one end, checked for order the other.

Used by test_threads.sh.

  seqcheck.py recv --bind ADDR --port P --count N --out RESULT.json --ready FILE [--deadline S] [--idle S]
  seqcheck.py send --to ADDR --port P --count N [--burst B] [--gap-ms MS] [--gso SEGSIZE]

Datagram k (0 <= k < N) carries k as 8 big-endian bytes, then filler up to a size that
varies with k (8 to 1360 bytes), so the packets of a burst differ in size and in cipher
work.  The sender sends bursts of B datagrams back to back, then pauses MS milliseconds:
a burst reaches the tunnel as one batch, whose packets the tunnel's workers seal in
parallel.  With --gso every other burst goes out as ONE sendmsg with UDP_SEGMENT (segments
of SEGSIZE bytes), which a tunnel with offloads reads as one super-packet.

The receiver stops once datagram N-1 and all before it arrived, or --idle seconds after the
last one (or --deadline seconds in all), and writes JSON: count, received, missing,
duplicates, out_of_order (datagrams whose number is below one received before them),
first_out_of_order ([previous, this] or null).  Exit 0 in every case (the test judges the
numbers); 2 on a usage or socket error.
"""
import argparse
import json
import socket
import struct
import sys
import time

UDP_SEGMENT = 103  # linux/udp.h


def size_of(k):
    return 8 + (k * 389) % 1353


FILLER = bytes(range(256)) * 7  # sliced, not built per datagram: the sender must be cheap


def datagram(k, size):
    return struct.pack(">Q", k) + FILLER[k & 0xFF : (k & 0xFF) + size - 8]


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def receive(args):
    sock = socket.socket(family(args.bind), socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE (root): never the bottleneck
    sock.bind((args.bind, args.port))
    with open(args.ready, "w") as f:
        f.write("ready\n")
    seen = bytearray(args.count)
    received = duplicates = out_of_order = 0
    highest = -1
    first_ooo = None
    start = last = time.monotonic()
    sock.settimeout(0.2)
    while received < args.count:
        now = time.monotonic()
        if now - start > args.deadline or (received and now - last > args.idle):
            break
        try:
            data = sock.recv(65535)
        except socket.timeout:
            continue
        last = time.monotonic()
        if len(data) < 8:
            continue
        k = struct.unpack(">Q", data[:8])[0]
        if k >= args.count:
            continue
        if seen[k]:
            duplicates += 1
            continue
        seen[k] = 1
        received += 1
        if k < highest:
            out_of_order += 1
            if first_ooo is None:
                first_ooo = [highest, k]
        highest = max(highest, k)
    result = {
        "count": args.count,
        "received": received,
        "missing": args.count - received,
        "duplicates": duplicates,
        "out_of_order": out_of_order,
        "first_out_of_order": first_ooo,
    }
    with open(args.out, "w") as f:
        json.dump(result, f)


def send(args):
    sock = socket.socket(family(args.to), socket.SOCK_DGRAM)
    sock.connect((args.to, args.port))
    k = burst = 0
    while k < args.count:
        n = min(args.burst, args.count - k)
        if args.gso and burst % 2 == 1:
            payload = b"".join(datagram(j, args.gso) for j in range(k, k + n))
            sock.setsockopt(socket.SOL_UDP, UDP_SEGMENT, args.gso)
            sock.send(payload)
            sock.setsockopt(socket.SOL_UDP, UDP_SEGMENT, 0)
        else:
            for j in range(k, k + n):
                sock.send(datagram(j, size_of(j)))
        k += n
        burst += 1
        time.sleep(args.gap_ms / 1000)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--bind", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--ready", required=True)
    r.add_argument("--deadline", type=float, default=60)
    r.add_argument("--idle", type=float, default=3)
    s = sub.add_parser("send")
    s.add_argument("--to", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--burst", type=int, default=32)
    s.add_argument("--gap-ms", type=float, default=2)
    s.add_argument("--gso", type=int, default=0)
    args = p.parse_args()
    if args.count <= 0 or (args.mode == "send" and (args.burst <= 0 or not 0 <= args.gso <= 1400)):
        print("seqcheck.py: --count and --burst must be positive, --gso 0 to 1400", file=sys.stderr)
        return 2
    try:
        receive(args) if args.mode == "recv" else send(args)
    except OSError as e:
        print(f"seqcheck.py {args.mode}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
