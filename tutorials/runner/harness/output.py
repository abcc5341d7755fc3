"""
``sys.stdout`` and ``sys.stderr`` of the learner's code: what they receive goes
to the channel, in order, until the output limit.
"""

import io
import threading


class Sink:
    """
    Counts what stdout and stderr receive and forwards it to the channel.

    Both streams share one limit and one order, which is what a reader of the
    expected output sees in a terminal.
    """

    def __init__(self, channel, limit: int, on_overflow):
        self.channel = channel
        self.limit = limit
        self.used = 0
        self.on_overflow = on_overflow
        self.lock = threading.Lock()

    def write(self, stream: str, text: str) -> None:
        if not text:
            return
        data = text.encode("utf-8", "replace")
        with self.lock:
            room = self.limit - self.used
            if len(data) > room:
                kept = data[: max(room, 0)].decode("utf-8", "ignore")
                if kept:
                    self.channel.send({"t": "out", "s": stream, "d": kept})
                self.used = self.limit
                self.on_overflow()
                return
            self.used += len(data)
            self.channel.send({"t": "out", "s": stream, "d": text})


class BinaryOutput(io.RawIOBase):
    """``sys.stdout.buffer``: bytes are decoded and sent like text."""

    def __init__(self, text_stream):
        self.text_stream = text_stream

    def writable(self):
        return True

    def write(self, b):
        self.text_stream.write(bytes(b).decode("utf-8", "replace"))
        return len(b)


class Output(io.TextIOBase):
    """A text stream (stdout or stderr) whose writes go to the shared ``Sink``."""

    def __init__(self, name: str, sink: Sink, fd: int):
        self.name = name
        self.sink = sink
        self.fd = fd
        self.buffer = BinaryOutput(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "strict"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self.fd

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self.sink.write(self.name, s)
        return len(s)

    def flush(self):
        pass
