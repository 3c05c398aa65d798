#!/usr/bin/env python3
"""udpcheck.py — UDP datagrams of planned sizes and contents, sent one end, checked the other.

Used by test_offload.sh.  Both ends derive the same payloads from the same plan, so the
receiver can tell every datagram that arrived intact from one that did not:

  udpcheck.py recv --bind ADDR --port P PLAN --out RESULT.json --ready FILE [--deadline S] [--idle S]
  udpcheck.py send --to ADDR --port P PLAN [--gap-ms MS]

PLAN: --seed TEXT --sizes 1,100,1392 [--repeat N] [--gso SEGSIZE:COUNT]
  Payload k of size s is the first s bytes of SHAKE-256(seed/k).  --gso adds COUNT segments
  of SEGSIZE bytes sent with ONE sendmsg and UDP_SEGMENT (UDP GSO), which the receiver must
  get as COUNT separate datagrams.  Datagrams may arrive in any order.

The receiver stops once every planned datagram arrived, or --idle seconds after the last one
(or --deadline seconds in all), and writes JSON: planned, intact, unexpected (arrived but
matching no planned payload still owed: corrupted, truncated or duplicated), missing_sizes.
Exit 0 in every case (the test judges the numbers); 2 on a usage or socket error.
"""
import argparse
import collections
import hashlib
import json
import os
import socket
import sys
import time

UDP_SEGMENT = 103  # linux/udp.h


def payload(seed, k, size):
    return hashlib.shake_256(f"{seed}/{k}".encode()).digest(size) if size else b""


def plan(args):
    """[(payload, is_gso_segment)] in sending order; the GSO segments come last, as a group."""
    sizes = [int(s) for s in args.sizes.split(",") if s]
    out = []
    k = 0
    for _ in range(args.repeat):
        for size in sizes:
            out.append((payload(args.seed, k, size), False))
            k += 1
    if args.gso:
        seg, count = (int(x) for x in args.gso.split(":"))
        for _ in range(count):
            out.append((payload(args.seed, k, seg), True))
            k += 1
    return out


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def recv(args):
    expected = collections.Counter(p for p, _ in plan(args))
    planned = sum(expected.values())
    sock = socket.socket(family_of(args.bind), socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((args.bind, args.port))
    with open(args.ready, "w") as f:
        f.write("ready\n")
    intact = unexpected = 0
    start = time.monotonic()
    last = None
    while intact < planned:
        now = time.monotonic()
        left = args.deadline - (now - start)
        if last is not None:
            left = min(left, args.idle - (now - last))
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        last = time.monotonic()
        if expected[data] > 0:
            expected[data] -= 1
            intact += 1
        else:
            unexpected += 1
    missing = sorted(len(p) for p, n in expected.items() for _ in range(n))
    result = {"planned": planned, "intact": intact, "unexpected": unexpected,
              "missing_sizes": missing[:50], "seconds": round(time.monotonic() - start, 3)}
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(args.out + ".tmp", args.out)
    return 0


def send(args):
    dest = (args.to, args.port)
    sock = socket.socket(family_of(args.to), socket.SOCK_DGRAM)
    items = plan(args)
    plain = [p for p, gso in items if not gso]
    segments = [p for p, gso in items if gso]
    for p in plain:
        sock.sendto(p, dest)
        if args.gap_ms:
            time.sleep(args.gap_ms / 1000)
    if segments:
        seg = len(segments[0])
        sock.setsockopt(socket.SOL_UDP, UDP_SEGMENT, seg)
        sent = sock.sendto(b"".join(segments), dest)
        if sent != seg * len(segments):
            print(f"udpcheck: GSO send wrote {sent} of {seg * len(segments)} bytes", file=sys.stderr)
            return 1
    print(f"sent {len(plain)} datagrams + {len(segments)} GSO segments to {args.to}:{args.port}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("recv", "send"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--seed", required=True)
        p.add_argument("--sizes", required=True)
        p.add_argument("--repeat", type=int, default=1)
        p.add_argument("--gso", default="")
        if name == "recv":
            p.add_argument("--bind", required=True)
            p.add_argument("--out", required=True)
            p.add_argument("--ready", required=True)
            p.add_argument("--deadline", type=float, default=20.0)
            p.add_argument("--idle", type=float, default=3.0)
        else:
            p.add_argument("--to", required=True)
            p.add_argument("--gap-ms", type=float, default=0.0)
    args = ap.parse_args()
    try:
        return recv(args) if args.cmd == "recv" else send(args)
    except OSError as e:
        print(f"udpcheck {args.cmd}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
