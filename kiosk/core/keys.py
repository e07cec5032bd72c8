"""Ticket and coordinator keys, and sealed text (promise 8), with libsodium through PyNaCl.

One scrypt run per code or passphrase, as before; its output (never stored) is split with
libsodium's KDF construction (BLAKE2b keyed with it, personalised per use) into:
- ``check``: stored, compared on unlock (the old claims stored the scrypt output itself,
  which would now give away the key: ``upgrade`` turns them into checks);
- a ticket's X25519 key pair (the public half stored as ``pub``), or for a coordinator the
  key that wraps the coordinators' private key (``wrapped`` in their record).

Sealed text is ``1.<box>.<key>.<key>...`` in URL-safe base64: the JSON of the text in a
SecretBox under a random key, and that key in a SealedBox for each reader's public key. Any
one reader's private key opens it; the server, holding public keys only, can seal but not open.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets

from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from . import codes

VERSION = "1"
SEALED_MARK = "sealed"  # a setting: 1 once everything a kiosk holds is sealed (web/sealing.py)
# A sealed text's greatest length: the longest payload (a survey's free texts, 8 x 500
# characters, 4 bytes each at worst) in base64, with room for its keys.
MAX_SEALED = 24_000
SEALED_PATTERN = r"^1(\.[A-Za-z0-9_-]+={0,2}){2,8}$"
KEY_PATTERN = r"^[A-Za-z0-9_-]{43}=$"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def _derive(ikm: bytes, purpose: bytes) -> bytes:
    return blake2b(b"", key=ikm, person=purpose, digest_size=32, encoder=RawEncoder)


def _params(n: int) -> dict:
    return {"alg": "scrypt", "n": n, "r": 8, "p": 1, "salt": secrets.token_bytes(16).hex()}


# -- tickets -------------------------------------------------------------------------------------


def _ticket_key(ikm: bytes) -> PrivateKey:
    return PrivateKey(_derive(ikm, b"kiosk-ticket-key"))


def _with_check(ikm: bytes, params: dict) -> dict:
    found = {k: v for k, v in params.items() if k not in ("hash", "check", "pub", "sign")}
    return {**found, "check": _derive(ikm, b"kiosk-check").hex()}


def new_ticket(secret: str, n: int) -> dict:
    """A ticket's claim: the check of its code and its public key."""
    params = _params(n)
    return ticket_from(codes.scrypt_with(secret, params), params)


def ticket_from(ikm: bytes, params: dict) -> dict:
    private = _ticket_key(ikm)
    return {**_with_check(ikm, params), "pub": _b64(bytes(private.public_key)), "sign": ticket_verify_key(private)}


def ticket_signer(private: PrivateKey) -> SigningKey:
    """The ticket's signing key, from its private key: what its holder asks for at another kiosk
    of the network is signed with it, and the post's home checks it against ``sign``."""
    return SigningKey(_derive(bytes(private), b"kiosk-tkt-sign"))


def ticket_verify_key(private: PrivateKey) -> str:
    return _b64(bytes(ticket_signer(private).verify_key))


def _matches(ikm: bytes, stored: dict) -> bool:
    if "check" in stored and stored["check"]:
        return hmac.compare_digest(_derive(ikm, b"kiosk-check").hex(), stored["check"])
    return hmac.compare_digest(ikm.hex(), stored.get("hash") or "")  # not yet upgraded


def open_ticket(secret: str, stored: dict) -> PrivateKey | None:
    """The ticket's private key if ``secret`` is its code, else None (one scrypt either way)."""
    ikm = codes.scrypt_with(secret, stored)
    return _ticket_key(ikm) if _matches(ikm, stored) else None


def upgrade_ticket(stored: dict) -> dict:
    """An old claim (the scrypt output itself) as a check and a public key: the output
    leaves the files, and the key it gives is the one the code gives."""
    if not stored.get("hash"):
        return stored
    return ticket_from(bytes.fromhex(stored["hash"]), stored)


def public_of(claim: dict | None) -> str | None:
    return (claim or {}).get("pub") or None


# -- coordinators ----------------------------------------------------------------------------------


def _wrap_key(ikm: bytes) -> SecretBox:
    return SecretBox(_derive(ikm, b"kiosk-coord-wrap"))


def new_team_key() -> PrivateKey:
    return PrivateKey.generate()


def team_public(private: PrivateKey) -> str:
    return _b64(bytes(private.public_key))


def wrap_for(passphrase: str, team: PrivateKey, n: int) -> tuple[dict, str]:
    """A coordinator's stored hash (a check) and the team key wrapped for their passphrase."""
    params = _params(n)
    ikm = codes.scrypt_with(passphrase, params)
    return _with_check(ikm, params), _b64(_wrap_key(ikm).encrypt(bytes(team)))


def rewrap_legacy(stored: dict, team: PrivateKey) -> tuple[dict, str]:
    """An old coordinator hash (the scrypt output) as a check, and the team key wrapped with it."""
    ikm = bytes.fromhex(stored["hash"])
    return _with_check(ikm, stored), _b64(_wrap_key(ikm).encrypt(bytes(team)))


def check_only(stored: dict) -> dict:
    return _with_check(bytes.fromhex(stored["hash"]), stored)


def open_team(passphrase: str, stored: dict, wrapped: str | None) -> tuple[bool, PrivateKey | None]:
    """(passphrase right?, the team's private key if it could be unwrapped)."""
    ikm = codes.scrypt_with(passphrase, stored)
    if not _matches(ikm, stored):
        return False, None
    if not wrapped:
        return True, None
    try:
        return True, PrivateKey(_wrap_key(ikm).decrypt(_unb64(wrapped)))
    except (CryptoError, ValueError):
        return True, None


# -- sealed text -------------------------------------------------------------------------------------


def seal(payload: dict, *publics: str | None) -> str:
    """``payload`` (JSON-able) sealed so that the private key of any of ``publics`` opens it."""
    readers = [p for p in dict.fromkeys(publics) if p]
    if not readers:
        raise ValueError("sealing needs a reader")
    key = random_bytes(SecretBox.KEY_SIZE)
    body = SecretBox(key).encrypt(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    wraps = [_b64(SealedBox(PublicKey(_unb64(p))).encrypt(key)) for p in readers]
    return ".".join([VERSION, _b64(body), *wraps])


def unseal(sealed: str | None, private: PrivateKey | None) -> dict | None:
    """What ``sealed`` holds if ``private`` is one of its readers' keys; else None."""
    if not sealed or private is None:
        return None
    parts = sealed.split(".")
    if len(parts) < 3 or parts[0] != VERSION:
        return None
    opener = SealedBox(private)
    for wrap in parts[2:]:
        try:
            key = opener.decrypt(_unb64(wrap))
        except (CryptoError, ValueError):
            continue
        try:
            found = json.loads(SecretBox(key).decrypt(_unb64(parts[1])).decode("utf-8"))
        except (CryptoError, ValueError):
            return None
        return found if isinstance(found, dict) else None
    return None
