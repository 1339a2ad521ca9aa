#!/usr/bin/env python3
"""A static file server for the engine benchmark: HTTP/1.1 with keep-alive, bodies sent with
sendfile(2), one thread per connection.

`python3 -m http.server` copies every body through Python in 64 KiB pieces and closes the
connection after each response (HTTP/1.0); on a small machine it, not the client, sets the
pace, and both clients would measure the same server. This one costs little per byte, so the
figures say something about the clients.

    bench/serve.py --bind 127.0.0.1 --port PORT --directory DIR
"""

import argparse
import functools
import http.server
import io
import os


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def copyfile(self, source, outputfile):
        try:
            fd = source.fileno()
        except (AttributeError, io.UnsupportedOperation):
            return super().copyfile(source, outputfile)  # a directory listing
        outputfile.flush()
        self.connection.sendfile(source, 0, os.fstat(fd).st_size)

    def log_message(self, format, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--directory", required=True)
    args = ap.parse_args()
    handler = functools.partial(Handler, directory=args.directory)
    server = http.server.ThreadingHTTPServer((args.bind, args.port), handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
