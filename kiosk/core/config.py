"""Settings: defaults, overridden by ``KIOSK_*`` environment variables, then by the factory's
argument. Each one is checked at start-up so a typo stops the server with a clear message
instead of misbehaving later."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from . import codes

DEFAULTS = {
    # Where the data files live (KIOSK_DATA_DIR). The CLI's --data wins over it.
    "DATA_DIR": "data",
    # What printed QR codes point at; must be the address phones use, never localhost.
    "PUBLIC_URL": "http://aid.lan",
    "NAME": "Mutual Aid Kiosk",
    # Open posts leave the board after this many days.
    "EXPIRE_DAYS": 30,
    # Closed posts lose their text this many days after closing; counts stay.
    "RETAIN_DAYS": 30,
    # Ticket and loan codes checked (right ones are not counted): per client in a minute and in
    # an hour, and by everybody together in an hour. Nothing is locked: a guesser waits, the
    # owner of a code does not (README: "Guessing" has the arithmetic behind these numbers).
    "GUESS_PER_MINUTE": 5,
    "GUESS_PER_HOUR": 20,
    "GUESS_OVERALL_PER_HOUR": 300,
    # The center's time zone (for gatherings' times and dates shown); empty: the system's.
    "TIMEZONE": "",
    # Extra folders where USB sticks appear (os.pathsep-separated), besides /media and /run/media.
    "USB_ROOTS": "",
    # Coordinator mode locks itself after this many idle minutes.
    "COORDINATOR_IDLE_MINUTES": 5,
    # Replies per post, messages per ticket and reports per post, each per hour.
    "REPLY_LIMIT_PER_HOUR": 10,
    "MESSAGE_LIMIT_PER_HOUR": 30,
    "REPORT_LIMIT_PER_HOUR": 5,
    # Anonymous writes per browser session and overall, per hour (web/budget.py): the limits
    # times this number; 0 turns them off (benchmarks and load tests only).
    "WRITE_BUDGET_SCALE": 1,
    # Readers' pages served from memory until the next write (web/pagecache.py); off only to
    # measure what a page costs without it.
    "PAGE_CACHE": True,
    # scrypt work factor for claim codes (a power of two).
    "SCRYPT_N": codes.DEFAULT_SCRYPT_N,
    # How long /mine stays unlocked without use (the touchscreen's idle reset locks it sooner).
    "MINE_IDLE_SECONDS": 300,
    # Offered languages, first is the default; each needs a catalog in kiosk/translations.
    "LANGUAGES": ["en", "es", "ar"],
    # Kiosk mode for the touchscreen: on-screen keyboard and idle reset, applied only to
    # requests from the machine itself (the launcher's Chromium on localhost).
    "TOUCHSCREEN": False,
    "IDLE_SECONDS": 90,
    "IDLE_GRACE_SECONDS": 20,
    # The center's Wi-Fi, for the join QR code on the flyer.
    "WIFI_SSID": "",
    "WIFI_PASSWORD": "",
    # A CUPS queue for printing tickets directly with lp; empty: the browser's print dialog.
    "PRINTER": "",
    # Several kiosks, one board (kiosk/network/, README "Several kiosks: one board"). NETWORK: whether
    # `kiosk serve` runs the network loop (configure Syncthing, apply the other kiosks' records)
    # every NETWORK_EVERY_SECONDS; it costs one refused connection a pass where no Syncthing runs.
    "NETWORK": True,
    "NETWORK_EVERY_SECONDS": 10,
    # This machine's Syncthing: its GUI/REST address (loopback only: the API key travels in it) and
    # its API key, or the Syncthing home whose config.xml holds the key.
    "SYNCTHING_URL": "http://127.0.0.1:8384",
    "SYNCTHING_APIKEY": "",
    "SYNCTHING_HOME": "",
    # Where Syncthing listens for other kiosks (comma-separated): every interface by default, since
    # only paired kiosks' certificates are accepted; name one link's address to keep it to that.
    "SYNC_LISTEN": "tcp://0.0.0.0:22000",
    # Find other kiosks on the same LAN by broadcast (never beyond it: global discovery stays off).
    "SYNC_LOCAL_DISCOVERY": True,
}

# Settings taken from the environment as plain text (Flask would read "1234" as a number).
TEXT_SETTINGS = ("PUBLIC_URL", "NAME", "WIFI_SSID", "WIFI_PASSWORD", "PRINTER", "DATA_DIR", "USB_ROOTS", "TIMEZONE",
                 "SYNCTHING_URL", "SYNCTHING_APIKEY", "SYNCTHING_HOME", "SYNC_LISTEN")

# The longest each text setting may be: the same limits as the coordinators' settings screen and
# a backup's check, so a kiosk never writes what its own start-up would refuse.
LENGTHS = {"NAME": 60, "PUBLIC_URL": 200, "WIFI_SSID": 32, "WIFI_PASSWORD": 63}

KNOWN_LANGUAGES = {"en": "English", "es": "Español", "ar": "العربية"}

# Flask's own settings that follow DESIGN.md's security section.
FLASK_SETTINGS = {
    "MAX_CONTENT_LENGTH": 64 * 1024,  # a form is a few KB; nothing bigger is ever needed
    "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Strict",
    "SESSION_COOKIE_SECURE": False,  # plain HTTP on the center's Wi-Fi; see README
    "SESSION_COOKIE_NAME": "kiosk",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; idle reset ends both
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    "TEMPLATES_AUTO_RELOAD": False,
}


def is_loopback_host(host: str) -> bool:
    """A name that means this machine itself: a phone that scans it reaches nothing."""
    host = host.lower().strip("[]")
    return host in ("localhost", "::1", "0.0.0.0") or host.startswith("127.")


class ConfigError(ValueError):
    pass


# Where deploy/install.sh puts the settings (systemd's EnvironmentFile for the service).
SETTINGS_FILE = "/etc/mutual-aid-kiosk/kiosk.env"


def load_env(target, environ) -> None:
    """Copy ``KIOSK_*`` values from an environment (or a settings file's pairs) into target.

    Like Flask's ``from_prefixed_env``, values are read as JSON where they parse (numbers,
    true/false, lists), except the text settings, which stay text ("1234" is a Wi-Fi password)."""
    for name in sorted(environ):
        if not name.startswith("KIOSK_") or name == "KIOSK_":
            continue
        key, raw = name[len("KIOSK_"):], environ[name]
        if key in TEXT_SETTINGS:
            target[key] = raw
            continue
        try:
            target[key] = json.loads(raw)
        except ValueError:
            target[key] = raw


def read_env_file(path) -> dict[str, str]:
    """The ``KEY=value`` pairs of a systemd EnvironmentFile, read the way systemd reads them:
    comments and blank lines skipped, double quotes with backslash escapes, single quotes as is."""
    pairs: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            if len(value) >= 2 and value[0] == value[-1] == '"':
                # Inside double quotes systemd takes a backslash as an escape only before
                # " \\ ` and $; before anything else it stays.
                value = re.sub(r'\\([\\"`$])', r"\1", value[1:-1])
            elif len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            pairs[key] = value
    return pairs


def check(config) -> None:
    """Raise ConfigError naming the setting and what a good value looks like."""
    url = urlsplit(str(config["PUBLIC_URL"]))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(
            f"KIOSK_PUBLIC_URL must look like http://aid.lan, got {config['PUBLIC_URL']!r}"
        )
    if is_loopback_host(url.hostname) and not config.get("TESTING"):
        # Allowed (a laptop demo), but printed codes would not work on phones.
        config["PUBLIC_URL_IS_LOCAL"] = True
    _check_numbers(config)
    n = config["SCRYPT_N"]
    if n & (n - 1) or n > 2**codes.MAX_SCRYPT_LOG2:
        raise ConfigError(f"KIOSK_SCRYPT_N must be a power of two up to {2**codes.MAX_SCRYPT_LOG2}, got {n}")
    config["PUBLIC_URL"] = str(config["PUBLIC_URL"]).rstrip("/")
    languages = config["LANGUAGES"]
    if isinstance(languages, str):  # KIOSK_LANGUAGES=en,es
        languages = [part.strip() for part in languages.split(",") if part.strip()]
    unknown = [lang for lang in languages if lang not in KNOWN_LANGUAGES]
    if not languages or unknown:
        raise ConfigError(
            f"KIOSK_LANGUAGES must list languages from {', '.join(KNOWN_LANGUAGES)}, got {config['LANGUAGES']!r}"
        )
    config["LANGUAGES"] = list(dict.fromkeys(languages))
    config["TOUCHSCREEN"] = _flag(config["TOUCHSCREEN"], "TOUCHSCREEN")
    config["PAGE_CACHE"] = _flag(config["PAGE_CACHE"], "PAGE_CACHE")
    check_network(config)
    for key in ("WIFI_SSID", "WIFI_PASSWORD", "PRINTER", "NAME", "USB_ROOTS"):
        config[key] = "" if config[key] is None else str(config[key])
    for key, most in LENGTHS.items():
        if len(config[key]) > most:
            raise ConfigError(f"KIOSK_{key} can be at most {most} characters")
    zone = str(config.get("TIMEZONE") or "") or _system_timezone()
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(zone)
    except (ValueError, KeyError, OSError):
        raise ConfigError(f"KIOSK_TIMEZONE must be a zone like America/Chicago, got {zone!r}") from None
    config["BABEL_DEFAULT_TIMEZONE"] = zone
    if config["PRINTER"] and not all(c.isalnum() or c in "-_." for c in config["PRINTER"]):
        raise ConfigError(f"KIOSK_PRINTER must be a CUPS queue name, got {config['PRINTER']!r}")


def _system_timezone() -> str:
    """The machine's zone (Raspberry Pi OS keeps it in /etc/timezone), else UTC."""
    import os
    from pathlib import Path

    if os.environ.get("TZ", "").strip(":"):
        return os.environ["TZ"].strip(":")
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def _check_numbers(config) -> None:
    for key, low in (
        ("EXPIRE_DAYS", 1),
        ("RETAIN_DAYS", 0),
        ("GUESS_PER_MINUTE", 1),
        ("GUESS_PER_HOUR", 1),
        ("GUESS_OVERALL_PER_HOUR", 1),
        ("MINE_IDLE_SECONDS", 30),
        ("SCRYPT_N", 2),
        ("IDLE_SECONDS", 10),
        ("REPLY_LIMIT_PER_HOUR", 1),
        ("COORDINATOR_IDLE_MINUTES", 1),
        ("MESSAGE_LIMIT_PER_HOUR", 1),
        ("REPORT_LIMIT_PER_HOUR", 1),
        ("IDLE_GRACE_SECONDS", 5),
        ("NETWORK_EVERY_SECONDS", 1),
    ):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"KIOSK_{key} must be a whole number of at least {low}, got {value!r}")
    _check_guessing(config)
    scale = config["WRITE_BUDGET_SCALE"]
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 1000:
        raise ConfigError(f"KIOSK_WRITE_BUDGET_SCALE must be a number from 0 to 1000, got {scale!r}")


# Guessing one code must take longer than this on average at the highest rate allowed (promise 9).
MIN_GUESSING_YEARS = 1000
HOURS_A_YEAR = 365.25 * 24


def guessing_years(overall_per_hour: int, touchscreen_per_hour: int) -> float:
    """Average years to guess one code at the highest rate allowed: everybody's budget plus the
    touchscreen's own (which the overall count leaves out: its burst limit, all hour long), half
    of all codes tried."""
    codes_possible = min(len(codes.wordlist(lang)) for lang in codes.WORDLISTS) ** codes.CODE_WORDS  # the weakest list
    return codes_possible / 2 / (overall_per_hour + touchscreen_per_hour) / HOURS_A_YEAR


def _check_guessing(config) -> None:
    minute, hour, overall = config["GUESS_PER_MINUTE"], config["GUESS_PER_HOUR"], config["GUESS_OVERALL_PER_HOUR"]
    if not minute <= hour < overall:
        # One client alone must never use up everybody's budget.
        raise ConfigError("KIOSK_GUESS_PER_MINUTE must be at most KIOSK_GUESS_PER_HOUR, and that less than "
                          f"KIOSK_GUESS_OVERALL_PER_HOUR; got {minute}, {hour} and {overall}")
    if guessing_years(overall, minute * 60) < MIN_GUESSING_YEARS:
        raise ConfigError(f"KIOSK_GUESS_OVERALL_PER_HOUR={overall} would let a ticket code be guessed in less than "
                          f"{MIN_GUESSING_YEARS} years")


SYNC_ADDRESS = re.compile(r"^(?:tcp|quic)[46]?://(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):[0-9]{1,5}$")


def check_network(config) -> None:
    config["NETWORK"] = _flag(config["NETWORK"], "NETWORK")
    config["SYNC_LOCAL_DISCOVERY"] = _flag(config["SYNC_LOCAL_DISCOVERY"], "SYNC_LOCAL_DISCOVERY")
    for key in ("SYNCTHING_URL", "SYNCTHING_APIKEY", "SYNCTHING_HOME", "SYNC_LISTEN"):
        config[key] = "" if config[key] is None else str(config[key]).strip()
    url = urlsplit(config["SYNCTHING_URL"])
    if url.scheme not in ("http", "https") or not url.hostname or not is_loopback_host(url.hostname) \
            or url.hostname == "0.0.0.0" or url.path.strip("/"):
        # Its API key travels in every request: never over the network.
        raise ConfigError("KIOSK_SYNCTHING_URL must be this machine's Syncthing, like http://127.0.0.1:8384, "
                          f"got {config['SYNCTHING_URL']!r}")
    config["SYNCTHING_URL"] = config["SYNCTHING_URL"].rstrip("/")
    listen = [part.strip() for part in config["SYNC_LISTEN"].split(",") if part.strip()]
    if not listen or not all(SYNC_ADDRESS.match(part) for part in listen):
        raise ConfigError("KIOSK_SYNC_LISTEN must be addresses like tcp://0.0.0.0:22000 or "
                          f"tcp://10.8.0.1:22000, separated by commas; got {config['SYNC_LISTEN']!r}")
    config["SYNC_LISTEN"] = ",".join(listen)


def _flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"KIOSK_{name} must be 1 or 0, got {value!r}")
