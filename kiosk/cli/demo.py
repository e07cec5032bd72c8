"""Sample posts for ``kiosk demo``: a living board for a newcomer, in every category, in English,
Spanish and Arabic (a newcomer reading Arabic saw only English and Spanish posts)."""

from __future__ import annotations

import datetime as dt
import random

from flask import Flask

from ..board import posts

# (kind, category, lang, title, details, area, when)
SAMPLES = [
    ("request", "food", "en", "Groceries for a family of four this week", "Lost hours at work. Rice, beans, vegetables, anything helps.", "Near the library", "this-week"),
    ("offer", "food", "en", "Fresh bread every Saturday", "I bake too much. Six loaves to share, pick up at the center.", "Community center", "flexible"),
    ("offer", "food", "es", "Sopa casera para dos personas", "Hago sopa de lentejas los viernes y sobra. Puedo traerla al centro.", "Centro comunitario", "this-week"),
    ("request", "food", "en", "Baby formula, any brand", "Until the next paycheck on the 15th.", "", "today"),
    ("offer", "food", "ar", "خبز عربي طازج كل جمعة", "أخبز أكثر مما نحتاج. عشرة أرغفة للمشاركة في المركز.", "المركز المجتمعي", "flexible"),
    ("request", "childcare", "en", "Someone to watch my 6-year-old on Tuesday afternoon", "3pm to 6pm while I go to a job interview.", "Oak Street block", "this-week"),
    ("offer", "childcare", "en", "Homework help for kids, weekday evenings", "Retired teacher. Math and reading, at the center only.", "Community center", "flexible"),
    ("request", "childcare", "es", "Cuidado de niños el sábado por la mañana", "Tengo dos niños de 4 y 7 años. Tengo turno de 8 a 12.", "Cerca de la escuela", "flexible"),
    ("offer", "childcare", "en", "Playgroup on Friday mornings", "Toddlers welcome, parents stay. Toys provided.", "Community center, room 2", "flexible"),
    ("request", "transportation", "en", "Ride to the clinic on Thursday", "Appointment at 10am, can't walk far.", "Elm Court", "this-week"),
    ("offer", "transportation", "en", "Driving to the big supermarket every Sunday", "Three free seats and a big trunk.", "From the church parking lot", "flexible"),
    ("request", "transportation", "ar", "مساعدة في نقل كنبة", "أحتاج إلى سيارة كبيرة لمدة ساعة واحدة.", "الحي الشرقي", "flexible"),
    ("offer", "transportation", "es", "Llevo a personas al hospital", "Tengo coche los lunes y miércoles por la tarde.", "Barrio norte", "flexible"),
    ("request", "translation", "en", "Spanish to English help with a school form", "One page, about my son's enrolment.", "", "today"),
    ("offer", "translation", "en", "I speak Arabic, French and English", "Happy to help with letters or phone calls at the center.", "Community center", "flexible"),
    ("request", "translation", "es", "Ayuda para leer una carta del casero", "Está en inglés y no entiendo todo.", "", "this-week"),
    ("offer", "translation", "ar", "أترجم من العربية إلى الإنجليزية", "رسائل المدرسة والمواعيد الطبية، في المركز فقط.", "", "flexible"),
    ("request", "home-repairs", "en", "Leaking kitchen tap", "Drips all night. I have the tools but not the skill.", "Maple block", "this-week"),
    ("offer", "home-repairs", "en", "Handyman afternoons", "Shelves, doors that stick, small plumbing. Bring me the problem.", "", "flexible"),
    ("request", "home-repairs", "en", "Window won't close before winter", "Old wooden frame, swollen.", "Behind the bakery", "this-week"),
    ("offer", "home-repairs", "es", "Arreglo bicicletas gratis", "Pinchazos, frenos, cadenas. Los sábados en el centro.", "Centro comunitario", "flexible"),
    ("request", "companionship", "en", "Someone to chat with over tea", "I'm 82 and live alone. Afternoons are long.", "Near the post office", "flexible"),
    ("offer", "companionship", "en", "Walking buddy in the mornings", "I walk the river path at 8am and would love company.", "River path", "flexible"),
    ("request", "companionship", "es", "Compañía para ir al parque", "Uso silla de ruedas, me gustaría salir los domingos.", "", "flexible"),
    ("offer", "companionship", "en", "Board games night", "Bring a friend, or come meet some.", "Community center", "flexible"),
    ("request", "tools-and-items", "en", "Borrow a ladder for a day", "To clean the gutters.", "", "this-week"),
    ("offer", "tools-and-items", "en", "Winter coats, children's sizes", "Five coats, sizes 4 to 10, clean.", "", "flexible"),
    ("request", "tools-and-items", "en", "A crib or a travel cot", "Baby due next month.", "", "flexible"),
    ("offer", "tools-and-items", "en", "Lending my power drill", "With a box of bits. Return within a week please.", "", "flexible"),
    ("offer", "tools-and-items", "es", "Regalo una mesa y cuatro sillas", "Están en buen estado, hay que recogerlas.", "Calle del mercado", "flexible"),
    ("request", "other", "en", "Help writing a CV", "I have a job fair next week.", "", "this-week"),
    ("offer", "other", "en", "Haircuts for free on Mondays", "I'm a barber, happy to cut at the center.", "Community center", "flexible"),
    ("request", "other", "ar", "مساعدة في ملء استمارة السكن", "الاستمارة بالإنجليزية ولا أفهم كل الأسئلة.", "", "flexible"),
    ("offer", "other", "es", "Clases de costura", "Enseño a coser y a arreglar ropa, los jueves.", "Centro comunitario", "flexible"),
    ("request", "food", "en", "Halal meat for a family dinner", "Celebrating my daughter's graduation, short on money.", "", "flexible"),
    ("offer", "food", "en", "Surplus vegetables from the community garden", "Kale, zucchini, tomatoes. Every Wednesday.", "Community garden", "flexible"),
    ("request", "transportation", "en", "Lift to the food share on Saturday", "Two bags to carry back.", "East side", "this-week"),
    ("offer", "home-repairs", "en", "Painting help", "I have brushes and rollers and a free weekend.", "", "flexible"),
    ("request", "childcare", "en", "After-school pickup on Wednesdays", "Two kids, school ends at 3pm.", "School gate", "flexible"),
    ("offer", "translation", "es", "Ayudo con trámites en inglés", "Formularios, citas médicas, cartas.", "", "flexible"),
]


# Rides for /rides: title -> (days from now, time, from, to)
RIDES = {
    "Ride to the clinic on Thursday": (3, "09:30", "Elm Court", "Health clinic"),
    "Driving to the big supermarket every Sunday": (5, "10:00", "Church parking lot", "Supermarket"),
    "Llevo a personas al hospital": (1, "15:00", "Barrio norte", "Hospital"),
    "Lift to the food share on Saturday": (4, "09:45", "East side", "Community center"),
}


def add_sample_posts(app: Flask, count: int = 40, seed: int = 7) -> list[dict]:
    """Add ``count`` sample posts, spread over the last two weeks (needs an app context)."""
    store = app.extensions["kiosk"].store
    rnd = random.Random(seed)
    now = app.extensions["kiosk"].clock.now()
    made = []
    for i in range(count):
        kind, category, lang, title, details, area, when = SAMPLES[i % len(SAMPLES)]
        created = now - dt.timedelta(minutes=rnd.randint(5, 14 * 24 * 60))
        values = {"category": category, "title": title, "details": details, "area": area, "when": when}
        if title in RIDES:
            days, clock, start, end = RIDES[title]
            values["ride"] = {"date": (now.date() + dt.timedelta(days=days)).isoformat(), "time": clock,
                              "from": start, "to": end}
        post, _code = posts.create_post(
            store, kind, values, lang=lang, source=app.config["NAME"], scrypt_n=1024, now=created
        )
        made.append(post)
    return made


def add_demo_coordinator(app: Flask) -> str:
    """A coordinator for the throwaway demo, with a fresh random passphrase (never a default)."""
    from ..core import codes
    from ..web import gate

    passphrase = "-".join(codes.new_secret_words().split("-") + [codes.new_secret_words().split("-")[0]])
    gate.add(
        app.extensions["kiosk"].store, "Demo", passphrase, by="demo",
        now=app.extensions["kiosk"].clock.now(), scrypt_n=1024,
    )
    return passphrase
