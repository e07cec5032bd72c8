"""Direct printing of a ticket to a CUPS queue with ``lp``, for kiosks with a receipt printer.

Plain text is what every CUPS queue accepts, receipt printers included; the ticket's words and
the post's address are what matter on paper (a phone can type them in)."""

from __future__ import annotations

import shutil
import subprocess
import textwrap


class PrintError(RuntimeError):
    pass


def ticket_text(*, kiosk_name: str, heading: str, lines: list[tuple[str, str]], footer: str, width: int = 32) -> str:
    """A receipt-width (32 columns fits 58 mm paper) text ticket."""
    out = [kiosk_name.center(width).rstrip(), heading.center(width).rstrip(), "-" * width]
    for label, value in lines:
        out.append(label)
        # A ticket code breaks only at its hyphens, never inside a word (30 columns hold one).
        parts = textwrap.wrap(value, width - 2, break_on_hyphens=True, break_long_words=False)
        out.extend("  " + part for part in parts or [""])
    out.append("-" * width)
    out.extend(textwrap.wrap(footer, width))
    return "\n".join(out) + "\n\n\n"


def send(printer: str, text: str, title: str = "ticket", timeout: float = 20) -> None:
    lp = shutil.which("lp")
    if lp is None:
        raise PrintError("lp is not installed (apt-get install cups-client)")
    try:
        result = subprocess.run(
            [lp, "-d", printer, "-t", title, "-o", "document-format=text/plain", "-"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise PrintError("the printer did not answer in time") from exc
    if result.returncode != 0:
        raise PrintError(result.stderr.decode("utf-8", "replace").strip() or f"lp exited with {result.returncode}")
