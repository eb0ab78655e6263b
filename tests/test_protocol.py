"""The GTP wire protocol on its own, with handlers that know nothing of Go."""

import io
import os
import threading
import time

from gtp.protocol import STREAMED, GtpError, GtpProtocol, streaming, whole_arg


class Echo:
    """A handler object: a few commands in each spelling the protocol maps."""

    def __init__(self) -> None:
        self.protocol = GtpProtocol(self, self.log)
        self.logged: list[str] = []

    def log(self, msg: str) -> None:
        self.logged.append(msg)

    def cmd_echo(self, *args):
        return " ".join(args)

    def cmd_count(self, n):
        return str(whole_arg(n, "count", 1))

    def cmd_fail(self):
        raise GtpError("as asked")

    def cmd_crash(self):
        raise RuntimeError("boom")

    def cmd_kgs_thing(self):
        return ""

    def cmd_kata_set_rules(self):
        return ""

    def cmd_quit(self):
        self.protocol.quit()
        return ""

    @streaming
    def cmd_stream(self, *args, cid=""):
        self.protocol.write(f"={cid}\nline {' '.join(args)}\n\n")
        return STREAMED


def test_ids_framing_and_errors():
    p = Echo().protocol
    assert p.handle("7 echo a\tb # comment") == ("=7 a b\n\n", True, "7")
    assert p.handle("echo") == ("=\n\n", True, "")
    assert p.handle("  # only a comment") == (None, True, "")
    assert p.handle("3") == ("?3 no command\n\n", False, "3")
    assert p.handle("4 nope") == ("?4 unknown command\n\n", False, "4")
    assert p.handle("5 fail") == ("?5 as asked\n\n", False, "5")
    assert p.handle("6 count 0")[0] == "?6 count must be a whole number >= 1, got '0'\n\n"
    assert p.handle("8 count")[0].startswith("?8 wrong number of arguments")
    assert p.handle("9 e\x01cho x") == ("=9 x\n\n", True, "9")  # control characters are dropped


def test_a_crashing_handler_gets_an_answer_and_a_log_line():
    e = Echo()
    assert e.protocol.handle("2 crash") == ("?2 internal error: boom\n\n", False, "2")
    assert e.logged == ["internal error in crash: RuntimeError('boom')"]


def test_command_names_in_their_gtp_spelling():
    p = Echo().protocol
    assert p.command_names() == ["count", "crash", "echo", "fail", "kata-set-rules", "kgs-thing", "quit", "stream"]
    assert p.command("kgs-thing") is not None and p.command("kata-set-rules") is not None
    assert p.command("no such") is None and p.command("") is None


def test_run_streams_stops_at_quit_and_ignores_what_follows():
    e = Echo()
    out = io.StringIO()
    e.protocol.run(io.StringIO("1 stream x y\n2 echo hi\n3 quit\n4 echo never\n"), out)
    assert out.getvalue() == "=1\nline x y\n\n=2 hi\n\n=3\n\n"


def test_idle_runs_while_no_request_waits():
    """``idle`` (pondering) runs when the queue is empty and returns once a request is pending."""
    e = Echo()
    r, w = os.pipe()
    rin, win = os.fdopen(r, "r"), os.fdopen(w, "w")
    idling = threading.Event()
    saw_request = []

    def idle():
        idling.set()
        end = time.monotonic() + 10
        while not e.protocol.pending() and time.monotonic() < end:
            time.sleep(0.01)
        saw_request.append(e.protocol.pending())

    out = io.StringIO()
    t = threading.Thread(target=e.protocol.run, args=(rin, out, idle))
    t.start()
    assert idling.wait(10)
    win.write("1 echo a\n")
    win.close()
    t.join(10)
    assert not t.is_alive() and out.getvalue() == "=1 a\n\n"
    assert saw_request and all(saw_request)
