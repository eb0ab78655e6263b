"""The GTP wire protocol on its own, with handlers that know nothing of Go."""

import io
import os
import threading
import time

import pytest

from gtp.protocol import MAX_LINE, STREAMED, GtpError, GtpProtocol, number_arg, streaming, whole_arg


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

    @streaming
    def cmd_stream_fail(self, *args, cid=""):
        self.protocol.write(f"={cid}\npart\n")
        raise GtpError("broke off")

    def cmd_lines(self):
        return "one\n\n\ntwo\n"

    def cmd_fail_lines(self):
        raise GtpError("first\n\nsecond\r\n")


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
    assert p.command_names() == ["count", "crash", "echo", "fail", "fail_lines", "kata-set-rules", "kgs-thing", "lines",
                                 "quit", "stream", "stream_fail"]
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


def test_ids_and_command_names_are_ascii_only():
    p = Echo().protocol
    assert p.handle("\u00b2 echo x") == ("? unknown command\n\n", False, "")  # a superscript two is no id
    assert p.handle("\u0663 echo x")[0] == "? unknown command\n\n"  # nor an Arabic-Indic three
    assert p.handle("12 \u00e9cho x")[0] == "?12 unknown command\n\n"
    assert p.command("\u0065cho") is not None and p.command("\u0435cho") is None  # Latin e, Cyrillic e


def test_answers_hold_no_blank_line_and_errors_are_one_line():
    p = Echo().protocol
    assert p.handle("1 lines") == ("=1 one\ntwo\n\n", True, "1")
    assert p.handle("2 fail_lines") == ("?2 first second\n\n", False, "2")
    assert p.handle("3 echo a\x85b\u2028c")[0] == "=3 a b c\n\n"  # line breaks of other kinds become spaces


def test_a_streamed_answer_that_fails_is_closed_once():
    e = Echo()
    out = io.StringIO()
    e.protocol.run(io.StringIO("1 stream_fail\n2 echo next\n"), out)
    assert out.getvalue() == "=1\npart\n\n=2 next\n\n"
    assert e.logged == ["the streamed answer 1 ends early: broke off"]


def test_bytes_in_any_encoding_and_long_lines_get_one_answer_each():
    """The engine reads bytes: a line that is not UTF-8 gets an error (with its id when it has one), a
    comment in another encoding is a comment, and a line longer than MAX_LINE is answered and skipped."""
    requests = [b"1 echo caf\xc3\xa9", b"2 echo caf\xe9", b"# caf\xe9 comment", b"\xff\xfe", b"3 \x80",
                b"4 echo " + b"x" * (MAX_LINE + 10), b"5 " + b"y" * (3 * MAX_LINE), b"6 echo end"]
    out = io.StringIO()
    Echo().protocol.run(io.BytesIO(b"\n".join(requests) + b"\n"), out)
    assert out.getvalue().split("\n\n") == [
        "=1 caf\u00e9", "?2 request is not valid UTF-8", "? request is not valid UTF-8",
        "?3 request is not valid UTF-8", f"?4 request longer than {MAX_LINE} bytes",
        f"?5 request longer than {MAX_LINE} bytes", "=6 end", ""]


def test_idle_work_that_fails_is_logged_and_the_session_goes_on():
    e = Echo()
    calls = []

    def idle():
        calls.append(1)
        raise RuntimeError("the game is over: nothing to search")

    r, w = os.pipe()
    rin, win = os.fdopen(r, "r"), os.fdopen(w, "w")
    out = io.StringIO()
    t = threading.Thread(target=e.protocol.run, args=(rin, out, idle))
    t.start()
    win.write("1 echo a\n")
    win.flush()
    time.sleep(0.3)
    win.write("2 echo b\n")
    win.close()
    t.join(10)
    assert not t.is_alive() and out.getvalue() == "=1 a\n\n=2 b\n\n"
    assert calls and e.logged[0] == "pondering stopped: RuntimeError('the game is over: nothing to search')"


def test_number_arguments_are_finite_and_in_ascii():
    assert number_arg("-7.5", "komi") == -7.5 and number_arg("1e3", "x") == 1000.0 and number_arg(".5", "x") == 0.5
    for text in ("nan", "inf", "1e999", "\u0663", "1_000", "0x10", "\uff15", "", "+", "-"):
        with pytest.raises(GtpError, match="expected a number"):
            number_arg(text, "x")
    assert whole_arg("7", "n", 0) == 7
    with pytest.raises(GtpError, match="must be a whole number >= 1"):
        whole_arg("2.5", "n", 1)
