"""What the teacher's terminal says before a classroom server starts
(``explainer.classroom.network``): on loopback the one local URL and how to open the room's
network; on every address (``HOST=0.0.0.0``) one URL per non-loopback address, each with a
QR code of it; a bad host or port is one sentence naming the argument."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import qrcode

from explainer.classroom.network import (
    announcement,
    check_host,
    check_port,
    machine_addresses,
    qr_text,
    student_urls,
)

ADDRESSES = ["192.168.1.20", "10.0.0.7"]
APP = "voila/render/scale_explorer.ipynb"


def test_one_url_per_address_on_every_address():
    assert student_urls("0.0.0.0", 8866, APP, ADDRESSES) == [
        f"http://192.168.1.20:8866/{APP}", f"http://10.0.0.7:8866/{APP}"]
    assert student_urls("127.0.0.1", 8866, APP, ADDRESSES) == []  # nobody else can reach it
    assert student_urls("192.168.1.20", 8000) == ["http://192.168.1.20:8000/"]
    assert student_urls("::", 80, "", ["fd00::5"]) == ["http://[fd00::5]:80/"]


def test_machine_addresses_are_reachable_ones():
    found = machine_addresses(socket.AF_INET)
    assert all(not a.startswith(("127.", "169.254.")) for a in found)
    assert len(found) == len(set(found))


def _modules(text: str) -> list[list[bool]]:
    """The QR modules back from the block characters (full block = light, two rows a line)."""
    light = {"█": (True, True), "▀": (True, False), "▄": (False, True), "\xa0": (False, False)}
    grid = []
    for line in text.splitlines():
        top, bottom = zip(*(light[c] for c in line), strict=True)
        grid += [[not x for x in top], [not x for x in bottom]]
    return grid


def test_qr_code_holds_the_url():
    link = f"http://192.168.1.20:8866/{APP}"
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(link)
    code.make(fit=True)
    dark = code.get_matrix()  # True = dark, with the border
    drawn = _modules(qr_text(link))
    assert drawn[:len(dark)] == dark  # the last line may carry a blank half row
    coloured = qr_text(link, colours=True)
    assert coloured.startswith("\x1b[") and "\x1b[0m" in coloured  # white on black, any theme


def test_announcement_on_loopback_and_on_the_room():
    local = announcement("127.0.0.1", 8866, APP, "the apps", ADDRESSES)
    assert f"http://127.0.0.1:8866/{APP}" in local and "this machine only" in local
    assert "HOST=0.0.0.0" in local and "█" not in local
    room = announcement("0.0.0.0", 8866, APP, "the apps", ADDRESSES, qr=True)
    for address in ADDRESSES:
        assert f"  http://{address}:8866/{APP}" in room
    assert room.count("▀▀▀▀") >= 2  # a QR code under each URL
    nobody = announcement("0.0.0.0", 8866, APP, "the apps", addresses=[])
    assert "students cannot reach it" in nobody


@pytest.mark.parametrize("host, message", [
    ("localhost", "host: got 'localhost'; expected an IP address"),
    ("0.0.0.0; rm -rf /", "host: got '0.0.0.0; rm -rf /'"),
    ("", "host: got ''"),
])
def test_bad_hosts_are_one_sentence(host, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        check_host(host)


def test_bad_ports_and_types():
    with pytest.raises(ValueError, match="port: got 0; expected a whole number from 1 to 65535"):
        check_port(0)
    with pytest.raises(ValueError, match="port: got 70000"):
        check_port("70000")
    with pytest.raises(TypeError, match="port: got float"):
        check_port(80.0)
    with pytest.raises(TypeError, match="host: got int"):
        check_host(127)
    assert check_port(" 8000 ") == 8000 and check_host(" ::1 ") == "::1"


def test_cli_prints_or_refuses_in_one_line():
    ok = subprocess.run([sys.executable, "-m", "explainer.classroom.network", "--host",
                         "127.0.0.1", "--port", "8123", "--path", APP],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and f"http://127.0.0.1:8123/{APP}" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "explainer.classroom.network", "--host",
                          "nowhere"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "host: got 'nowhere'" in bad.stderr
