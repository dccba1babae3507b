"""Run a Scrapy command with every network socket forbidden, counting the attempts.

Usage: python -m tests.support.nosocket COUNT_FILE scrapy-args...
Any attempt to connect or resolve a name is written to COUNT_FILE and refused.
"""
import socket
import sys

count_file = sys.argv[1]
attempts = []


def _refuse(kind):
    def refuse(*args, **kwargs):
        attempts.append(f"{kind} {args[1:2] or args[:1]}")
        with open(count_file, "a") as fh:
            fh.write(f"{kind} {args!r}\n")
        raise OSError(f"network forbidden in replay test: {kind}")
    return refuse


_orig_connect = socket.socket.connect
_orig_connect_ex = socket.socket.connect_ex


def guarded_connect(self, address, *a):
    if self.family == socket.AF_UNIX:
        return _orig_connect(self, address, *a)
    return _refuse("connect")(self, address)


def guarded_connect_ex(self, address, *a):
    if self.family == socket.AF_UNIX:
        return _orig_connect_ex(self, address, *a)
    return _refuse("connect_ex")(self, address)


socket.socket.connect = guarded_connect
socket.socket.connect_ex = guarded_connect_ex
socket.getaddrinfo = _refuse("getaddrinfo")
socket.gethostbyname = _refuse("gethostbyname")
socket.create_connection = _refuse("create_connection")
open(count_file, "w").close()

from scrapy.cmdline import execute  # noqa: E402

execute(["scrapy"] + sys.argv[2:])
