"""The channel: line-delimited JSON messages from the harness to its parent."""

import json
import os
import threading

CHANNEL_FD = 3


class Channel:
    """Line-delimited JSON messages to the parent, safe to use from any thread."""

    def __init__(self, fd: int):
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, message: dict) -> None:
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        with self.lock:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
