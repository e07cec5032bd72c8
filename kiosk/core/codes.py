"""Post ids, claim codes, pseudonyms and the slow hash that guards a claim code.

A ticket code reads like ``K7Q2M-acorn-bloom-civic-dwarf``: the post's short id, then four
words from the word list of the page's language (wordlists/README.md): English from the EFF
short list (1,275 words, 4 x 10.3 = 41.3 bits), Spanish (1,885 words, 43.5 bits) and Arabic
(2,029 words, 43.9 bits). Only a per-post salted scrypt hash of the words is ever stored, and
of the words as ``fold`` makes them, so that a code typed without accents, with another form
of alef or with ي for ى opens the same post; for the English and Spanish lists (plain a-z)
folding changes nothing, so codes made before these lists still open their posts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import unicodedata
from functools import lru_cache
from importlib import resources

# Crockford-like alphabet without 0/O, 1/I/L and U, so an id read aloud or copied
# by hand from a paper ticket survives.
ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 5
CODE_WORDS = 4

# scrypt cost: n=2**13, r=8 takes 8 MiB and ~25 ms here (a Pi: ~100 ms); tests may lower n.
# With 41 bits in a code that is still centuries of guessing for someone who steals the Pi,
# and at most two hashes run at once, so memory stays bounded under a rush of posts.
DEFAULT_SCRYPT_N = 2**13
# hashlib refuses scrypt above 32 MiB of memory (n = 2**15 at r = 8): n is at most 2**14.
MAX_SCRYPT_LOG2 = 14
_HASHING = threading.BoundedSemaphore(2)


WORDLISTS = {"en": "eff_short.txt", "es": "es.txt", "ar": "ar.txt"}

# Folding, the same for what the kiosk hands out and for what a visitor types: NFKC (Arabic
# presentation forms from some keyboards), lower case, no accents, tashkeel or hamza carriers
# (NFD, then marks dropped: أ إ آ -> ا, ñ -> n), ة -> ه, ى and Persian ی -> ي, Persian ک -> ك,
# no tatweel, Arabic-Indic digits (an Arabic keyboard types the post id with them) as 0-9, and
# no invisible format characters at all (direction marks and isolates copied from a
# right-to-left field, zero-width spaces, a BOM, soft hyphens): category Cf, never in a word.
_ARABIC_FOLD = str.maketrans({"ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك", "ٱ": "ا", "ـ": None,
                              **{chr(0x0660 + n): str(n) for n in range(10)},
                              **{chr(0x06F0 + n): str(n) for n in range(10)}})


def fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text or "").lower().translate(_ARABIC_FOLD)
    bare = "".join(c for c in unicodedata.normalize("NFD", folded) if unicodedata.category(c) not in ("Mn", "Cf"))
    return unicodedata.normalize("NFC", bare)


@lru_cache(maxsize=None)
def wordlist(lang: str = "en") -> tuple[str, ...]:
    """The code words for a language (English for a language without its own list)."""
    name = WORDLISTS.get(lang, WORDLISTS["en"])
    text = resources.files("kiosk.core").joinpath(f"wordlists/{name}").read_text("utf-8")
    words = tuple(w.strip() for w in text.splitlines() if w.strip())
    # A damaged list would make codes guessable: refuse to run rather than hand out weak ones.
    # Every word must stay one word once typed and folded, distinct from every other.
    folded = {fold(w) for w in words}
    if (len(set(words)) != len(words) or len(folded) != len(words) or len(words) < 1024
            or any(_SEPARATORS.search(w) or not w.isalpha() for w in folded)):
        raise RuntimeError("the code word list is damaged: reinstall the kiosk")
    return words


def new_post_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


# A kiosk's identity: ten characters of the same alphabet (49 bits, so two kiosks of a network
# never draw the same one). Kiosks from before identities existed are known by their name: "L"
# (not in the alphabet) and nine characters from its hash, the same on every kiosk.
KIOSK_ID_LENGTH = 10
KIOSK_ID_PATTERN = rf"^(?:L[{ID_ALPHABET}]{{9}}|[{ID_ALPHABET}]{{{KIOSK_ID_LENGTH}}})$"


def new_kiosk_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(KIOSK_ID_LENGTH))


def legacy_kiosk_id(name: str) -> str:
    number = int.from_bytes(hashlib.sha256((name or "").encode("utf-8")).digest()[:8], "big")
    chars = []
    for _ in range(KIOSK_ID_LENGTH - 1):
        number, rem = divmod(number, len(ID_ALPHABET))
        chars.append(ID_ALPHABET[rem])
    return "L" + "".join(chars)


def normalize_post_id(raw: str) -> str | None:
    """Upper-case and check a post id typed or scanned by a person; None if it cannot be one."""
    candidate = (raw or "").strip().upper()
    if len(candidate) == ID_LENGTH and all(c in ID_ALPHABET for c in candidate):
        return candidate
    return None


_DIGIT = {ch: i for i, ch in enumerate(ID_ALPHABET)}
_BASE = len(ID_ALPHABET)


def post_id_to_int(post_id: str) -> int:
    """The post id as a number, used as TinyDB's document id so lookups are direct."""
    # Unrolled: the archive index converts every id at start-up.
    d = _DIGIT
    a, b, c, e, f = post_id
    return (((d[a] * _BASE + d[b]) * _BASE + d[c]) * _BASE + d[e]) * _BASE + d[f] + 1  # ids start at 1


def int_to_post_id(n: int) -> str:
    n -= 1
    chars = []
    for _ in range(ID_LENGTH):
        n, rem = divmod(n, len(ID_ALPHABET))
        chars.append(ID_ALPHABET[rem])
    return "".join(reversed(chars))


def new_secret_words(lang: str = "en") -> str:
    """Four words from the list of ``lang``, as shown on the ticket (hash ``fold`` of them)."""
    words = wordlist(lang)
    return "-".join(secrets.choice(words) for _ in range(CODE_WORDS))


def make_ticket_code(post_id: str, secret: str) -> str:
    return f"{post_id}-{secret}"


# Between words: spaces, hyphens and the like, and the Arabic comma and semicolon.
_SEPARATORS = re.compile(r"[\s\-_.,:;/\u060c\u061b]+")


def split_ticket_code(raw: str) -> tuple[str, str] | None:
    """Split what a person typed into (post id, folded secret words), forgiving case, accents,
    Arabic letter forms and separators, in whichever language the words are. The id comes
    first, as printed; one typed after the words (the order a right-to-left line shows) is
    found too, which costs nothing: the id is not secret."""
    parts = [p for p in _SEPARATORS.split(fold((raw or "").strip())) if p]
    if len(parts) != 1 + CODE_WORDS:
        return None
    post_id = normalize_post_id(parts[0])
    if post_id is not None:
        return post_id, "-".join(parts[1:])
    post_id = normalize_post_id(parts[-1])
    if post_id is not None:
        return post_id, "-".join(parts[:-1])
    return None


def secret_key(secret: str) -> str:
    """What is hashed for a secret as handed out: its words folded (codes typed are folded too)."""
    return "-".join(fold(word) for word in secret.split("-"))


def hash_secret(secret: str, salt: bytes | None = None, n: int = DEFAULT_SCRYPT_N) -> dict:
    salt = salt if salt is not None else secrets.token_bytes(16)
    with _HASHING:
        digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=8, p=1, dklen=32)
    return {"alg": "scrypt", "n": n, "r": 8, "p": 1, "salt": salt.hex(), "hash": digest.hex()}


def verify_secret(secret: str, stored: dict) -> bool:
    return hmac.compare_digest(scrypt_with(secret, stored).hex(), stored["hash"])


def scrypt_with(secret: str, stored: dict) -> bytes:
    """The slow hash of ``secret`` with a stored record's salt and costs (at most two at once)."""
    with _HASHING:
        return _scrypt_stored(secret, stored)


def _scrypt_stored(secret: str, stored: dict) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"),
        salt=bytes.fromhex(stored["salt"]),
        n=int(stored["n"]),
        r=int(stored["r"]),
        p=int(stored["p"]),
        dklen=32,
    )


def burn_time(n: int = DEFAULT_SCRYPT_N) -> None:
    """Spend what a real check costs, so an unknown post id answers as slowly as a wrong code."""
    with _HASHING:
        hashlib.scrypt(b"x", salt=b"0" * 16, n=n, r=8, p=1, dklen=32)


ADJECTIVES = (
    "Quiet", "Bright", "Gentle", "Steady", "Kind", "Brave", "Calm", "Clever", "Patient",
    "Sunny", "Swift", "Warm", "Hopeful", "Merry", "Honest", "Humble", "Lively", "Nimble",
    "Cheerful", "Careful", "Friendly", "Generous", "Thoughtful", "Curious", "Golden",
    "Silver", "Evening", "Morning", "Spring", "Autumn", "Winter", "Summer",
    "Amber", "Bold", "Breezy", "Cozy", "Daring", "Eager", "Fair", "Gracious", "Hardy", "Jolly",
    "Keen", "Loyal", "Mellow", "Mindful", "Modest", "Noble", "Playful", "Plucky", "Polite",
    "Proud", "Quick", "Radiant", "Sincere", "Sprightly", "Sturdy", "Tender", "Tidy", "Trusty",
    "Upbeat", "Valiant", "Wise", "Zesty",
)
ANIMALS = (
    "Heron", "Otter", "Sparrow", "Badger", "Fox", "Robin", "Finch", "Hare", "Owl", "Wren",
    "Beaver", "Crane", "Dove", "Falcon", "Hedgehog", "Lark", "Marten", "Moose", "Pelican",
    "Puffin", "Salmon", "Swallow", "Turtle", "Walrus", "Bison", "Koala", "Lynx", "Panda",
    "Seal", "Stork", "Swan", "Yak",
    "Albatross", "Antelope", "Beetle", "Bluebird", "Buffalo", "Camel", "Cardinal", "Cricket",
    "Deer", "Dolphin", "Eagle", "Egret", "Elk", "Ferret", "Gazelle", "Gecko", "Goose",
    "Hummingbird", "Ibis", "Jay", "Kestrel", "Kingfisher", "Lemur", "Llama", "Magpie", "Mole",
    "Newt", "Osprey", "Parrot", "Quail", "Raven", "Squirrel",
)


def new_pseudonym() -> str:
    return f"{secrets.choice(ADJECTIVES)} {secrets.choice(ANIMALS)}"


def new_alias() -> dict:
    """A new pseudonym as a record stores it: ``alias``, its parts as stable keys (the English
    words in lower case, shown in each viewer's language by core/aliases.py), and
    ``pseudonym``, the English text that older kiosks, imports and exchanges read."""
    adjective, animal = secrets.choice(ADJECTIVES), secrets.choice(ANIMALS)
    return {"alias": [adjective.lower(), animal.lower()], "pseudonym": f"{adjective} {animal}"}
