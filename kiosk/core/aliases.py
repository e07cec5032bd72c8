"""Pseudonyms in the viewer's language.

A record stores its pseudonym's parts as stable keys (``alias: ["quiet", "heron"]``, the
English words of codes.ADJECTIVES and codes.ANIMALS in lower case) next to the English text
(``pseudonym``). A page shows the parts in its own language: the animal, then the adjective
agreeing with the animal's gender in Spanish and Arabic ("Garza Tranquila", "Zorro
Tranquilo", "الثعلب الهادئ"). A record from before ``alias`` is read from its English text;
a text that is not one of ours (an import from elsewhere) is shown as stored.
"""

from __future__ import annotations

from . import codes

# Spanish: animal -> (name, gender); adjective -> (masculine, feminine).
ES_ANIMALS = {
    "heron": ("Garza", "f"), "otter": ("Nutria", "f"), "sparrow": ("Gorrión", "m"), "badger": ("Tejón", "m"),
    "fox": ("Zorro", "m"), "robin": ("Petirrojo", "m"), "finch": ("Pinzón", "m"), "hare": ("Liebre", "f"),
    "owl": ("Búho", "m"), "wren": ("Chochín", "m"), "beaver": ("Castor", "m"), "crane": ("Grulla", "f"),
    "dove": ("Paloma", "f"), "falcon": ("Halcón", "m"), "hedgehog": ("Erizo", "m"), "lark": ("Alondra", "f"),
    "marten": ("Marta", "f"), "moose": ("Alce", "m"), "pelican": ("Pelícano", "m"), "puffin": ("Frailecillo", "m"),
    "salmon": ("Salmón", "m"), "swallow": ("Golondrina", "f"), "turtle": ("Tortuga", "f"), "walrus": ("Morsa", "f"),
    "bison": ("Bisonte", "m"), "koala": ("Koala", "m"), "lynx": ("Lince", "m"), "panda": ("Panda", "m"),
    "seal": ("Foca", "f"), "stork": ("Cigüeña", "f"), "swan": ("Cisne", "m"), "yak": ("Yak", "m"),
    "albatross": ("Albatros", "m"), "antelope": ("Antílope", "m"), "beetle": ("Escarabajo", "m"),
    "bluebird": ("Azulejo", "m"), "buffalo": ("Búfalo", "m"), "camel": ("Camello", "m"),
    "cardinal": ("Cardenal", "m"), "cricket": ("Grillo", "m"), "deer": ("Ciervo", "m"), "dolphin": ("Delfín", "m"),
    "eagle": ("Águila", "f"), "egret": ("Garceta", "f"), "elk": ("Wapití", "m"), "ferret": ("Hurón", "m"),
    "gazelle": ("Gacela", "f"), "gecko": ("Geco", "m"), "goose": ("Ganso", "m"), "hummingbird": ("Colibrí", "m"),
    "ibis": ("Ibis", "m"), "jay": ("Arrendajo", "m"), "kestrel": ("Cernícalo", "m"), "kingfisher": ("Martín Pescador", "m"),
    "lemur": ("Lémur", "m"), "llama": ("Llama", "f"), "magpie": ("Urraca", "f"), "mole": ("Topo", "m"),
    "newt": ("Tritón", "m"), "osprey": ("Águila Pescadora", "f"), "parrot": ("Loro", "m"), "quail": ("Codorniz", "f"),
    "raven": ("Cuervo", "m"), "squirrel": ("Ardilla", "f"),
}
ES_ADJECTIVES = {
    "quiet": ("Tranquilo", "Tranquila"), "bright": ("Brillante", "Brillante"), "gentle": ("Apacible", "Apacible"),
    "steady": ("Constante", "Constante"), "kind": ("Amable", "Amable"), "brave": ("Valiente", "Valiente"),
    "calm": ("Sereno", "Serena"), "clever": ("Ingenioso", "Ingeniosa"), "patient": ("Paciente", "Paciente"),
    "sunny": ("Risueño", "Risueña"), "swift": ("Veloz", "Veloz"), "warm": ("Cálido", "Cálida"),
    "hopeful": ("Esperanzado", "Esperanzada"), "merry": ("Festivo", "Festiva"), "honest": ("Honesto", "Honesta"),
    "humble": ("Humilde", "Humilde"), "lively": ("Vivaz", "Vivaz"), "nimble": ("Ágil", "Ágil"),
    "cheerful": ("Alegre", "Alegre"), "careful": ("Cuidadoso", "Cuidadosa"), "friendly": ("Simpático", "Simpática"),
    "generous": ("Generoso", "Generosa"), "thoughtful": ("Atento", "Atenta"), "curious": ("Curioso", "Curiosa"),
    "golden": ("Dorado", "Dorada"), "silver": ("Plateado", "Plateada"), "evening": ("Vespertino", "Vespertina"),
    "morning": ("Matutino", "Matutina"), "spring": ("Primaveral", "Primaveral"), "autumn": ("Otoñal", "Otoñal"),
    "winter": ("Invernal", "Invernal"), "summer": ("Veraniego", "Veraniega"), "amber": ("Ambarino", "Ambarina"),
    "bold": ("Audaz", "Audaz"), "breezy": ("Fresco", "Fresca"), "cozy": ("Acogedor", "Acogedora"),
    "daring": ("Atrevido", "Atrevida"), "eager": ("Entusiasta", "Entusiasta"), "fair": ("Justo", "Justa"),
    "gracious": ("Gentil", "Gentil"), "hardy": ("Robusto", "Robusta"), "jolly": ("Jovial", "Jovial"),
    "keen": ("Despierto", "Despierta"), "loyal": ("Leal", "Leal"), "mellow": ("Suave", "Suave"),
    "mindful": ("Consciente", "Consciente"), "modest": ("Modesto", "Modesta"), "noble": ("Noble", "Noble"),
    "playful": ("Juguetón", "Juguetona"), "plucky": ("Decidido", "Decidida"), "polite": ("Educado", "Educada"),
    "proud": ("Orgulloso", "Orgullosa"), "quick": ("Rápido", "Rápida"), "radiant": ("Radiante", "Radiante"),
    "sincere": ("Sincero", "Sincera"), "sprightly": ("Vivaracho", "Vivaracha"), "sturdy": ("Fuerte", "Fuerte"),
    "tender": ("Tierno", "Tierna"), "tidy": ("Ordenado", "Ordenada"), "trusty": ("Fiel", "Fiel"),
    "upbeat": ("Animado", "Animada"), "valiant": ("Intrépido", "Intrépida"), "wise": ("Sabio", "Sabia"),
    "zesty": ("Chispeante", "Chispeante"),
}
# Arabic: both parts definite (a name, "the quiet fox"); names that are already definite
# (مالك الحزين, أبو الحناء) take no article.
AR_ANIMALS = {
    "heron": ("مالك الحزين", "m"), "otter": ("ثعلب الماء", "m"), "sparrow": ("العصفور", "m"), "badger": ("الغرير", "m"),
    "fox": ("الثعلب", "m"), "robin": ("أبو الحناء", "m"), "finch": ("الشرشور", "m"), "hare": ("الأرنب البري", "m"),
    "owl": ("البومة", "f"), "wren": ("النمنمة", "f"), "beaver": ("القندس", "m"), "crane": ("الكركي", "m"),
    "dove": ("الحمامة", "f"), "falcon": ("الصقر", "m"), "hedgehog": ("القنفذ", "m"), "lark": ("القبرة", "f"),
    "marten": ("السمور", "m"), "moose": ("الموظ", "m"), "pelican": ("البجع", "m"), "puffin": ("البفن", "m"),
    "salmon": ("السلمون", "m"), "swallow": ("السنونو", "m"), "turtle": ("السلحفاة", "f"), "walrus": ("الفظ", "m"),
    "bison": ("البيسون", "m"), "koala": ("الكوالا", "m"), "lynx": ("الوشق", "m"), "panda": ("الباندا", "m"),
    "seal": ("الفقمة", "f"), "stork": ("اللقلق", "m"), "swan": ("التم", "m"), "yak": ("الياك", "m"),
    "albatross": ("القطرس", "m"), "antelope": ("الظبي", "m"), "beetle": ("الخنفساء", "f"),
    "bluebird": ("الطائر الأزرق", "m"), "buffalo": ("الجاموس", "m"), "camel": ("الجمل", "m"),
    "cardinal": ("الكردينال", "m"), "cricket": ("الجدجد", "m"), "deer": ("الأيل", "m"), "dolphin": ("الدلفين", "m"),
    "eagle": ("النسر", "m"), "egret": ("البلشون", "m"), "elk": ("الأيل الأحمر", "m"), "ferret": ("النمس", "m"),
    "gazelle": ("الغزال", "m"), "gecko": ("أبو بريص", "m"), "goose": ("الإوزة", "f"),
    "hummingbird": ("الطائر الطنان", "m"), "ibis": ("أبو منجل", "m"), "jay": ("القيق", "m"), "kestrel": ("العوسق", "m"),
    "kingfisher": ("الرفراف", "m"), "lemur": ("الليمور", "m"), "llama": ("اللاما", "m"), "magpie": ("العقعق", "m"),
    "mole": ("الخلد", "m"), "newt": ("السمندل", "m"), "osprey": ("النسر الصياد", "m"), "parrot": ("الببغاء", "m"),
    "quail": ("السمان", "m"), "raven": ("الغراب", "m"), "squirrel": ("السنجاب", "m"),
}
AR_ADJECTIVES = {
    "quiet": ("الهادئ", "الهادئة"), "bright": ("المشرق", "المشرقة"), "gentle": ("اللطيف", "اللطيفة"),
    "steady": ("الثابت", "الثابتة"), "kind": ("الطيب", "الطيبة"), "brave": ("الشجاع", "الشجاعة"),
    "calm": ("الرزين", "الرزينة"), "clever": ("الذكي", "الذكية"), "patient": ("الصبور", "الصبورة"),
    "sunny": ("المشمس", "المشمسة"), "swift": ("السريع", "السريعة"), "warm": ("الدافئ", "الدافئة"),
    "hopeful": ("المتفائل", "المتفائلة"), "merry": ("المرح", "المرحة"), "honest": ("الأمين", "الأمينة"),
    "humble": ("المتواضع", "المتواضعة"), "lively": ("الحيوي", "الحيوية"), "nimble": ("الرشيق", "الرشيقة"),
    "cheerful": ("البشوش", "البشوشة"), "careful": ("الحذر", "الحذرة"), "friendly": ("الودود", "الودودة"),
    "generous": ("الكريم", "الكريمة"), "thoughtful": ("المتأمل", "المتأملة"), "curious": ("الفضولي", "الفضولية"),
    "golden": ("الذهبي", "الذهبية"), "silver": ("الفضي", "الفضية"), "evening": ("المسائي", "المسائية"),
    "morning": ("الصباحي", "الصباحية"), "spring": ("الربيعي", "الربيعية"), "autumn": ("الخريفي", "الخريفية"),
    "winter": ("الشتوي", "الشتوية"), "summer": ("الصيفي", "الصيفية"), "amber": ("الكهرماني", "الكهرمانية"),
    "bold": ("الجريء", "الجريئة"), "breezy": ("المنعش", "المنعشة"), "cozy": ("الأنيس", "الأنيسة"),
    "daring": ("المقدام", "المقدامة"), "eager": ("المتحمس", "المتحمسة"), "fair": ("العادل", "العادلة"),
    "gracious": ("اللبق", "اللبقة"), "hardy": ("الصلب", "الصلبة"), "jolly": ("البهيج", "البهيجة"),
    "keen": ("النبيه", "النبيهة"), "loyal": ("الوفي", "الوفية"), "mellow": ("الوديع", "الوديعة"),
    "mindful": ("اليقظ", "اليقظة"), "modest": ("البسيط", "البسيطة"), "noble": ("النبيل", "النبيلة"),
    "playful": ("الشقي", "الشقية"), "plucky": ("الجسور", "الجسورة"), "polite": ("المهذب", "المهذبة"),
    "proud": ("الفخور", "الفخورة"), "quick": ("الخفيف", "الخفيفة"), "radiant": ("المتألق", "المتألقة"),
    "sincere": ("الصادق", "الصادقة"), "sprightly": ("النشيط", "النشيطة"), "sturdy": ("القوي", "القوية"),
    "tender": ("الحنون", "الحنونة"), "tidy": ("المرتب", "المرتبة"), "trusty": ("الموثوق", "الموثوقة"),
    "upbeat": ("المبتهج", "المبتهجة"), "valiant": ("الباسل", "الباسلة"), "wise": ("الحكيم", "الحكيمة"),
    "zesty": ("المتوقد", "المتوقدة"),
}
TABLES = {"es": (ES_ANIMALS, ES_ADJECTIVES), "ar": (AR_ANIMALS, AR_ADJECTIVES)}
_ADJECTIVE_KEYS = {word.lower() for word in codes.ADJECTIVES}
_ANIMAL_KEYS = {word.lower() for word in codes.ANIMALS}


def parts_of(item: dict) -> tuple[str, str] | None:
    """The (adjective, animal) keys of a record's pseudonym: its ``alias``, else its English
    text if that is one of ours; None for anything else."""
    alias = item.get("alias")
    if not alias:
        alias = (item.get("pseudonym") or "").lower().split(" ")
    if len(alias) == 2 and alias[0] in _ADJECTIVE_KEYS and alias[1] in _ANIMAL_KEYS:
        return alias[0], alias[1]
    return None


def alias_text(item: dict | None, lang: str) -> str:
    """A record's pseudonym as a page in ``lang`` shows it."""
    if not item:
        return ""
    parts = parts_of(item)
    if parts is None:
        return item.get("pseudonym") or ""
    adjective, animal = parts
    if lang not in TABLES:
        return f"{adjective.capitalize()} {animal.capitalize()}"
    animals, adjectives = TABLES[lang]
    name, gender = animals[animal]
    return f"{name} {adjectives[adjective][gender == 'f']}"
