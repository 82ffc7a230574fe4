"""A labelled corpus of German customer comments for the local classifier (tests, benchmark, demo).

Questions, bug reports, wishes, complaints, praise — and spam (SEO, casino, crypto, link drops,
pharma) — about the demo company Sternwelle, an internet and phone provider (Glasfaser, DSL,
Mobilfunk, the Sternwelle-App …). Written for this project: sentence templates with varied slots,
combined with seeded randomness, so the same seed gives the same corpus.

Limits, said plainly: template text is far more regular than what real readers write (every class
has its own stock phrases, there are no sarcastic praises or questions hidden in complaints unless
`hard=True` adds some), so figures measured on it are an upper bound for real comments. `hard`
mixes sentences of other classes into a comment, adds typos, spam that reads like a normal comment
and a share of wrong labels (as tired moderators make them); it is closer, still not real.
"""
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

SPAM = "spam"
TOPICS = ("question", "bug", "wish", "complaint", "praise")


@dataclass(frozen=True)
class Sample:
    text: str
    label: str  # a topic (TOPICS) or "spam"

    @property
    def spam(self) -> bool:
        return self.label == SPAM

    @property
    def topic(self) -> str | None:
        return None if self.spam else self.label


SLOTS = {
    "product": ["Glasfaser 300", "Glasfaser 500", "Glasfaser 1000", "DSL 16", "DSL 50", "DSL 100", "Mobil Unbegrenzt",
                "Mobil 15 GB", "Mobil 40 GB", "Kabel 250", "Festnetz Komfort", "Business 500",
                "Mobil Start", "Sternwelle TV"],
    "device": ["Router", "Sternwelle-Router", "Mesh-Repeater", "Glasfasermodem", "Receiver", "Festnetztelefon",
               "WLAN-Stick", "Smartphone", "Tablet", "Laptop", "Fernseher"],
    "app": ["die Sternwelle-App", "das Kundenportal", "die Statusseite", "die Rechnungsübersicht",
            "die Verfügbarkeitsprüfung"],
    "in_app": ["in der Sternwelle-App", "im Kundenportal", "auf der Statusseite", "in der Rechnungsübersicht"],
    "place": ["Bremen", "Kassel", "Kempten", "Stendal", "Leipzig-Grünau", "Köln-Ehrenfeld", "Rostock", "Freiburg",
              "Prenzlau", "Hildesheim", "Cottbus", "Passau", "Lüneburg"],
    "time": ["seit gestern", "seit drei Tagen", "seit letzter Woche", "jeden Abend", "seit dem Update",
             "seit dem Umzug", "heute Morgen", "immer gegen 20 Uhr", "seit Montag", "seit zwei Wochen"],
    "amount": ["12,99", "19,99", "34,99", "39,95", "44,99", "7,50", "59,90"],
    "feature": ["IPv6", "ein Gäste-WLAN", "eine feste IP-Adresse", "eine Kindersicherung", "Dual-SIM",
                "WLAN-Anrufe", "einen Dunkelmodus in der App", "eine Ausfall-Benachrichtigung per SMS",
                "Rechnungen als CSV", "monatlich kündbare Tarife", "einen Tarif nur mit Daten",
                "Portfreigaben im Portal", "ein Mesh-Set zur Miete"],
    "people": ["der Techniker", "die Dame an der Hotline", "der Kollege im Chat", "Ihr Support",
               "das Team vor Ort", "der Herr im Shop"],
    "name": ["Frau Berger", "Herr Aydın", "Jana", "Tom aus dem Support", "das Social-Media-Team"],
    "greeting": ["Hallo", "Hallo zusammen", "Guten Tag", "Moin", "Hi", "Liebes Sternwelle-Team", "Servus", ""],
    "closing": ["Danke im Voraus!", "Viele Grüße", "Gruß aus dem Norden", "LG", "Danke!", "Beste Grüße", "", ""],
    "mbit": ["8", "15", "30", "50", "120", "250"],
    "days": ["drei", "fünf", "zehn", "vierzehn"],
}

TEMPLATES = {
    "question": [
        "Wann kommt {product} nach {place}?",
        "Kann ich {product} auch ohne Festnetz buchen?",
        "Wie lange dauert der Wechsel von DSL auf {product} ungefähr?",
        "Funktioniert mein alter {device} auch mit {product}, oder brauche ich einen neuen?",
        "Gibt es {feature} auch bei {product}?",
        "Wo finde ich {in_app} meine Vertragslaufzeit?",
        "Was passiert mit meiner Rufnummer, wenn ich zu {product} wechsle?",
        "Muss ich beim Umzug nach {place} einen neuen Vertrag abschließen?",
        "Ist der Preis von {amount} Euro dauerhaft oder nur im ersten Jahr?",
        "Wie kann ich die eSIM auf ein neues {device} übertragen?",
        "Kommt der Techniker für den Hausanschluss auch am Samstag?",
        "Wer ist für die Leitung im Haus zuständig, der Vermieter oder Sie?",
        "Kann man den Tarif mitten in der Laufzeit auf {product} ändern?",
        "Weiß jemand, ob {feature} schon freigeschaltet werden kann?",
        "Welche Daten speichern Sie {in_app} eigentlich über mich?",
    ],
    "bug": [
        "Mein {device} verliert {time} ständig die Verbindung.",
        "{app} stürzt beim Öffnen der Rechnung ab.",
        "Seit dem letzten Firmware-Update startet der {device} alle paar Stunden neu.",
        "Statt der gebuchten Geschwindigkeit kommen {time} nur {mbit} Mbit/s an.",
        "Beim Login {in_app} erscheint nur eine weiße Seite mit Fehler 500.",
        "Das WLAN bricht {time} zusammen, sobald mehr als zwei Geräte verbunden sind.",
        "Telefonieren über den {device} geht nicht, es kommt nur ein Besetztzeichen.",
        "Die Statusseite zeigt alles grün, aber in {place} geht {time} gar nichts.",
        "Die Push-Nachrichten der App kommen doppelt und mit falschem Datum.",
        "Die Rechnung im Portal lässt sich nicht herunterladen, der Button reagiert nicht.",
        "Nach dem Update ist die Portfreigabe am {device} einfach verschwunden.",
        "Das Modem blinkt rot und die Glasfaser-LED bleibt aus.",
        "Der Fernseher ruckelt bei Sternwelle TV {time}, andere Streams laufen normal.",
        "Der Speedtest {in_app} bricht immer bei 99 Prozent ab.",
    ],
    "wish": [
        "Es wäre toll, wenn es {feature} gäbe.",
        "Bitte bietet {feature} auch für Bestandskunden an.",
        "Ich wünsche mir, dass man {in_app} die Verbrauchsdaten pro Tag sieht.",
        "Schön wäre {feature} bei {product}.",
        "Könntet ihr in Zukunft {feature} einführen?",
        "Ein Vorschlag: Kündigungen und Tarifwechsel direkt {in_app} erledigen können.",
        "Mein Wunsch für nächstes Jahr: {feature} und etwas weniger Papierpost.",
        "Es fehlt eine Möglichkeit, Techniker-Termine online zu verschieben, das wäre super.",
        "Ich fände es gut, wenn die Statusseite auch geplante Wartungen für {place} anzeigt.",
        "Wie wäre es mit {feature}? Viele hier würden das sofort nutzen.",
        "Gern hätte ich {feature}, gern auch gegen einen kleinen Aufpreis.",
        "Bitte denkt über einen Seniorentarif mit einfacherem {device} nach.",
    ],
    "complaint": [
        "Ich warte jetzt {days} Wochen auf den Techniker, das ist eine Frechheit.",
        "Schon wieder wurden mir {amount} Euro zu viel abgebucht.",
        "Die Hotline ist eine Zumutung, ich hänge seit einer Stunde in der Warteschleife.",
        "Drei Termine, dreimal niemand gekommen. So geht man nicht mit Kunden um.",
        "Die Preiserhöhung für {product} ist unverschämt, ich überlege zu kündigen.",
        "Ich bin enttäuscht: Versprochen war Glasfaser bis Ende des Jahres, passiert ist nichts.",
        "Mein Widerspruch gegen die Rechnung wird seit {days} Wochen ignoriert.",
        "Der Vertrag wurde ohne meine Zustimmung verlängert, das akzeptiere ich nicht.",
        "{people} hat mich einfach abgewimmelt, sehr unfreundlich.",
        "Für {amount} Euro im Monat erwarte ich ein Netz, das abends nicht ständig ausfällt.",
        "Seit Monaten immer dieselben Ausreden, ich bin es leid.",
        "Die Baustelle vor unserem Haus in {place} liegt seit Wochen brach, keiner fühlt sich zuständig.",
        "Ich habe dreimal gekündigt und bekomme trotzdem weiter Rechnungen.",
    ],
    "praise": [
        "Großes Lob an {people}, schnell und freundlich!",
        "Seit dem Wechsel zu {product} läuft alles stabil, danke!",
        "Super, dass ihr hier offen über Störungen schreibt.",
        "{name} hat mir heute wirklich geholfen, vielen Dank.",
        "Der Anschluss in {place} war in einem Tag fertig, klasse Arbeit.",
        "Endlich ein Anbieter, der in den Kommentaren antwortet. Weiter so!",
        "{app} ist viel übersichtlicher geworden, gefällt mir sehr.",
        "Die Umstellung auf {product} hat reibungslos geklappt, Kompliment.",
        "Danke für den ehrlichen Beitrag, das schafft Vertrauen.",
        "Top Service, der neue {device} war am nächsten Tag da.",
        "Ich bin seit zehn Jahren Kunde und immer noch zufrieden.",
        "Klasse erklärt, jetzt verstehe ich meine Rechnung endlich.",
    ],
}

SPAM_SLOTS = {
    "seo": ["https://seo-rocket.example", "www.backlinks-fast.example", "https://rank-first.example/angebot"],
    "casino": ["https://lucky-spins.example", "www.casino-royal-bonus.example", "https://jackpot24.example/de"],
    "crypto": ["https://btc-profit-now.example", "www.krypto-millionaer.example", "https://coin-doubler.example"],
    "pharma": ["https://pills-discount.example", "www.apotheke-ohne-rezept.example", "https://cheap-meds.example"],
    "link": ["https://bit.example/x7Tq", "www.free-downloads.example", "https://click-here-now.example/win",
             "https://gutschein-gratis.example"],
    "percent": ["200", "500", "1000", "300"],
    "euro": ["500", "1.000", "5.000", "10.000"],
    "drug": ["Viagra", "Cialis", "Tramadol", "Diätpillen", "Potenzmittel"],
}

SPAM_TEMPLATES = [
    "Toller Artikel! Für mehr Besucher auf Ihrer Website: {seo} – Platz 1 bei Google garantiert.",
    "Wir bieten 1.000 hochwertige Backlinks für nur 49 Euro. Jetzt bestellen: {seo}",
    "SEO-Agentur sucht Partner, Gastartikel mit Dofollow-Link gegen Bezahlung: {seo}",
    "Jetzt {percent}% Willkommensbonus sichern! Freispiele ohne Einzahlung: {casino}",
    "Online Casino mit Echtgeld, Auszahlung in 5 Minuten! {casino}",
    "Ich habe gestern {euro} Euro beim Slot gewonnen, unglaublich: {casino}",
    "Bitcoin verdoppeln in 24 Stunden! Garantierter Gewinn mit unserem Bot: {crypto}",
    "Ich verdiene jetzt {euro} Euro pro Woche mit Krypto-Trading von zu Hause. So geht's: {crypto}",
    "Exklusives Krypto-Giveaway: Sende 0,1 BTC und erhalte 1 BTC zurück. {crypto}",
    "{drug} günstig kaufen ohne Rezept, diskreter Versand: {pharma}",
    "Beste {drug} Preise online, 80% Rabatt nur heute: {pharma}",
    "Abnehmen ohne Sport, 10 Kilo in 7 Tagen mit {drug}: {pharma}",
    "{link}",
    "Schau mal hier: {link} {link}",
    "Gratis iPhone gewinnen, einfach klicken: {link}",
    "Nice post. Visit my site {link} for more.",
    "Kredit ohne Schufa in 24 Stunden, sofort Geld aufs Konto: {link}",
    "Geld verdienen im Homeoffice, {euro} Euro im Monat, kein Risiko! {link}",
]
SPAM_EXTRAS = ["Jetzt klicken!", "Nur heute!", "Limited offer!!!", "100% legal.", "Best price!", "Sehr gut.",
               "Danke für die Infos.", "WhatsApp: +44 7700 900123", "Kontakt per Telegram @bestdeals",
               "💰💰💰", "🔥🔥", "Great article, thanks for sharing."]
# Hard mode: spam that reads like a reader at first, and everyday words in spam
SOFT_SPAM = [
    "Interessanter Beitrag zu {product}. Ich habe auf {link} einen Vergleich aller Anbieter gefunden.",
    "Bei mir war es ähnlich mit dem {device}, erst {casino} hat mir die Wartezeit versüßt.",
    "Danke für die Erklärung! Wer nebenbei Geld verdienen will: {crypto}",
    "Gute Frage zum {device}. Übrigens, günstige Ersatzteile gibt es hier: {link}",
]
TYPOS = {"ich": "ihc", "nicht": "nich", "das": "dass", "seit": "seid", "wirklich": "wirklig", "Techniker": "Technicker",
         "Rechnung": "Rechung", "Verbindung": "Verbindnug", "danke": "dnake", "Internet": "Inet"}


def _fill(template: str, rng: random.Random, slots: dict) -> str:
    out, rest = [], template
    while "{" in rest:  # each placeholder drawn anew, so "{link} {link}" gives two links
        before, _, after = rest.partition("{")
        name, _, rest = after.partition("}")
        out += [before, rng.choice(slots[name])]
    return "".join(out) + rest


def _sentence(template: str, rng: random.Random) -> str:
    text = _fill(template, rng, SLOTS)
    return text[:1].upper() + text[1:]


def _typos(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    return " ".join(TYPOS.get(w, w) if rng.random() < 0.5 else w for w in words)


def comment(label: str, rng: random.Random, hard: bool = False) -> str:
    """One comment of the class `label`: one to three sentences, a greeting and a sign-off now and then."""
    if label == SPAM:
        slots = {**SLOTS, **SPAM_SLOTS}
        pool = SPAM_TEMPLATES + (SOFT_SPAM * 3 if hard else [])
        parts = [_fill(rng.choice(pool), rng, slots)]
        if rng.random() < 0.5:
            parts.append(rng.choice(SPAM_EXTRAS))
        text = " ".join(parts)
        return _typos(text, rng) if hard and rng.random() < 0.2 else text
    sentences = [_sentence(t, rng) for t in rng.sample(TEMPLATES[label], rng.choice((1, 1, 2, 2, 3)))]
    if hard and rng.random() < 0.35:  # a sentence of another kind: a complaint that asks, praise with a wish
        other = rng.choice([t for t in TOPICS if t != label])
        sentences.insert(rng.randrange(len(sentences) + 1), _sentence(rng.choice(TEMPLATES[other]), rng))
    greeting, closing = rng.choice(SLOTS["greeting"]), rng.choice(SLOTS["closing"])
    text = " ".join(s for s in [f"{greeting}," if greeting else "", *sentences, closing] if s)
    if hard and rng.random() < 0.3:
        text = _typos(text, rng)
    return text


def generate(n: int, *, seed: int = 13, spam_share: float = 0.3, hard: bool = False,
             label_noise: float | None = None) -> list[Sample]:
    """`n` labelled comments; `spam_share` of them spam, the rest spread over the topics (questions
    most, praise least, as on the demo blog). `hard`: see the module's doc; it flips 5 % of the
    labels unless `label_noise` says otherwise."""
    rng = random.Random(seed)
    weights = {"question": 0.32, "bug": 0.22, "complaint": 0.2, "wish": 0.14, "praise": 0.12}
    noise = (0.05 if hard else 0.0) if label_noise is None else label_noise
    samples = []
    for _ in range(n):
        label = SPAM if rng.random() < spam_share else rng.choices(list(weights), list(weights.values()))[0]
        text = comment(label, rng, hard)
        if noise and rng.random() < noise:
            label = rng.choice([x for x in (*TOPICS, SPAM) if x != label])
        samples.append(Sample(text, label))
    return samples


def write(path: Path, n: int, *, seed: int = 13, hard: bool = False) -> int:
    """The corpus as JSON lines ({"text": …, "label": …}); returns how many."""
    samples = generate(n, seed=seed, hard=hard)
    with Path(path).open("w", encoding="utf-8") as out:
        for sample in samples:
            out.write(json.dumps(asdict(sample), ensure_ascii=False) + "\n")
    return len(samples)
