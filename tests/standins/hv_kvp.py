#!/usr/bin/env python3
"""A stand-in for the Hyper-V KVP device /dev/vmbus/hv_kvp, for tests.

The real device is a character device that the hv_utils driver backs: a client writes a
registration message, then reads one fixed-size SET message per key-value pair the host
pushes and answers each with a status in the message's first four bytes. This stand-in plays
the driver's side on a pseudo-terminal in raw mode (a character device a test can create
without root). Where a pty differs from the device: it is a byte stream, so a read may return
part of a message (the engine reassembles them), and a non-blocking read on it returns at once,
where the device's read waits for the next message (the engine reads once per poll wake-up,
which suits both).

    hv_kvp.py POOL:KEY=VALUE ... [enumerate]

"enumerate" asks the client to list pool 3's items (as the host does for the guest's own
items); a client with none answers "no more items" (HV_S_CONT).

Prints the device path (the pty's slave) on the first line, waits for the registration,
answers it as the driver does, sends each pair, and checks each answer. Then it prints
"answered N" followed by any problems, and holds the pty until its stdin closes.
"""

import os
import pty
import struct
import sys
import tty

MSG = 4 + 7426  # sizeof(struct hv_kvp_msg)
OP_SET = 1
OP_REGISTER = 100
OP_ENUMERATE = 3
REG_SZ = 1
HV_S_CONT = 0x80070103


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def read_msg(fd):
    buf = b""
    while len(buf) < MSG:
        chunk = os.read(fd, MSG - len(buf))
        if not chunk:
            raise EOFError("the client closed the device")
        buf += chunk
    return buf


def set_msg(pool, key, value):
    k, v = key.encode(), value.encode()
    body = struct.pack("=III", REG_SZ, len(k) + 1, len(v) + 1)
    body += k.ljust(512, b"\0") + v.ljust(2048, b"\0")
    return (bytes([OP_SET, pool, 0, 0]) + body).ljust(MSG, b"\0")


def main():
    master, slave = pty.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    print(os.ttyname(slave), flush=True)
    problems = []
    reg = read_msg(master)
    if reg[0] != OP_REGISTER:
        problems.append(f"registration op {reg[0]}, not {OP_REGISTER}")
    # The driver answers a registration with its own, carrying its version.
    write_all(master, (bytes([OP_REGISTER, 0, 0, 0]) + b"3.1").ljust(MSG, b"\0"))
    answered = 0
    for arg in sys.argv[1:]:
        if arg == "enumerate":
            write_all(master, bytes([OP_ENUMERATE, 3, 0, 0]).ljust(MSG, b"\0"))
            key, expected = "enumerate", HV_S_CONT
        else:
            pool, _, pair = arg.partition(":")
            key, _, value = pair.partition("=")
            write_all(master, set_msg(int(pool), key, value))
            expected = 0
        answer = read_msg(master)
        status = struct.unpack("=I", answer[:4])[0]
        if status != expected:
            problems.append(f"{key}: status {status:#x}")
        else:
            answered += 1
    print(f"answered {answered}", *problems, flush=True)
    sys.stdin.read()
    os.close(slave)
    os.close(master)


if __name__ == "__main__":
    main()
