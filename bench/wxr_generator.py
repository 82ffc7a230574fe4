"""Synthetic exports of a German customer-service blog: WordPress (WXR) and Disqus XML, streamed.

    .venv/bin/python -m bench.wxr_generator OUT.xml --posts 2000 --comments 50000 [--seed 1] [--disqus]

The blog is a telecom/internet provider's (Router, Glasfaser, Rechnung, Tarif, Störung …), the
text written fresh from word lists, with umlauts and ß. The WXR file is shaped as WordPress 6.4
exports it (Tools → Export): channel head, authors, categories (nested two levels), tags, terms
(a nav menu), then items ordered by ID: posts with their attachments, pages, nav menu items. Post
content mixes the classic editor (blank-line paragraphs, no <p>), block markup and shortcodes.
What an importer has to cope with is in there on purpose: drafts with an empty GMT date and
pubDate, trashed posts (`slug__trashed`), forward references (`_thumbnail_id` to a later item),
replies written before their parent (their comment ID is lower too: IDs follow the file), `]]>`
inside CDATA (split as WordPress does), `&#038;` in the channel title, spam and trash comments,
pingbacks and trackbacks.

write_disqus() writes the Disqus export of the same blog: with the same seed and `posts` its
threads are the published posts of write_wxr() (same IDs, slugs, dates, permalinks; some links
with http, no trailing slash or a utm query, some threads without identifier), with comments of
their own. Both return Counts, what was written, for tests to compare with what an importer kept.

Streaming: the plan of the posts (a few hundred bytes each) and the comments of one item are all
that is held; everything else goes to `out` element by element. Deterministic for a seed
(random.Random(seed), and no clock). Standard library only.
"""
import argparse
import json
import os
import random
import re
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

GENERATOR = "https://wordpress.org/?v=6.4.2"
EXPORTED = int(datetime(2024, 3, 15, 9, 12, tzinfo=UTC).timestamp())  # the export's "now"
FIRST_POST = int(datetime(2012, 3, 1, 8, 0, tzinfo=UTC).timestamp())
MAX_DEPTH = 6  # WordPress' default thread_comments_depth is 5; the setting allows up to 10
DAY = 86400


@dataclass
class Counts:
    """What was written. Comment figures leave out pingbacks and trackbacks (counted apart).

    WXR: posts/pages are items of post_type post/page (any status), drafts the post items not
    `publish`; comments_by_status keys approved/pending/spam/trash (WordPress 1/0/spam/trash);
    max_depth 1 for top-level comments. Disqus: posts are the threads, authors the staff accounts
    that own threads, categories 1, comments_by_status keys approved/spam/deleted.
    """
    posts: int = 0
    pages: int = 0
    drafts: int = 0
    comments_by_status: dict[str, int] = field(default_factory=dict)
    pingbacks: int = 0
    authors: int = 0
    categories: int = 0
    tags: int = 0
    attachments: int = 0
    max_depth: int = 0
    comments_before_parent: int = 0  # replies written before their parent in the item (or thread)
    nav_menu_items: int = 0


# --- time ----------------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DST: dict[int, tuple[int, int]] = {}


def _last_sunday_1utc(year: int, month: int) -> int:
    last = datetime(year, month, 31, 1, tzinfo=UTC)
    return int(last.timestamp()) - ((last.weekday() + 1) % 7) * DAY


def berlin_offset(ts: int) -> int:
    """Seconds Europe/Berlin is ahead of UTC at `ts` (EU rule: summer time from the last Sunday
    of March to the last Sunday of October, 01:00 UTC both), without needing tzdata."""
    year = time.gmtime(ts).tm_year
    span = _DST.get(year)
    if span is None:
        span = _DST[year] = (_last_sunday_1utc(year, 3), _last_sunday_1utc(year, 10))
    return 7200 if span[0] <= ts < span[1] else 3600


def _sql(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def _local(ts: int) -> str:
    return _sql(ts + berlin_offset(ts))


def _rfc822(ts: int) -> str:
    t = time.gmtime(ts)
    return "%s, %02d %s %04d %02d:%02d:%02d +0000" % (
        _DAYS[t.tm_wday], t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec)


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# --- text helpers --------------------------------------------------------------------------

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def slugify(text: str) -> str:
    """sanitize_title() with the de_DE locale: ä → ae, ß → ss, punctuation dropped, spaces → -."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9 _-]", "", text.lower())
    return re.sub(r"-{2,}", "-", re.sub(r"\s+", "-", text.strip())).strip("-")


def cdata(text: str) -> str:
    """wxr_cdata(): `]]>` inside is split over two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(text: str) -> str:
    return esc(text).replace('"', "&quot;")


def php_serialize(value) -> str:
    """PHP's serialize() for what postmeta holds (string lengths in bytes, as PHP counts)."""
    if isinstance(value, bool):
        return "b:%d;" % value
    if isinstance(value, int):
        return "i:%d;" % value
    if isinstance(value, float):
        return "d:%r;" % value
    if isinstance(value, str):
        return 's:%d:"%s";' % (len(value.encode()), value)
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return "a:%d:{%s}" % (len(value), "".join(php_serialize(k) + php_serialize(v) for k, v in items))
    raise TypeError(type(value))


# --- word lists ----------------------------------------------------------------------------

W = {
    "geraet": ["Router", "WLAN-Router", "Kabelmodem", "Repeater", "Receiver", "Mobilfunk-Router",
               "Speedport", "Glasfaser-Modem", "Powerline-Adapter", "Mesh-Router"],
    "box": ["Fritz!Box 7590", "Fritz!Box 7530", "Speedport Smart 4", "Fritz!Box 5590 Fiber",
            "Glasfaser-Modem", "Mesh-System", "WLAN-Repeater", "Kabelrouter"],
    "symptom": ["ständig die Verbindung verliert", "nur noch orange blinkt", "keinen Sync mehr bekommt",
                "sich jede Nacht neu startet", "das WLAN nicht mehr anzeigt", "extrem heiß wird",
                "nach dem Update hängt", "die Telefonie nicht mehr registriert"],
    "problem": ["ständige Verbindungsabbrüche", "kein Internet", "sehr langsames WLAN",
                "eine Störung im Festnetz", "Aussetzer beim Telefonieren", "eine doppelte Abbuchung",
                "eine viel zu hohe Rechnung", "Ärger mit der Einrichtung", "keinen Sync mehr",
                "nur 16 statt 100 Mbit/s", "Paketverlust am Abend", "eine rote Info-LED",
                "keinen Empfang im Keller", "Probleme mit dem Glasfaser-Anschluss"],
    "seit": ["gestern Abend", "drei Tagen", "letzter Woche", "dem Umzug", "dem Tarifwechsel",
             "Anfang des Monats", "dem letzten Firmware-Update", "Montag früh", "über zwei Wochen",
             "dem Gewitter am Wochenende"],
    "ort": ["Berlin-Köpenick", "München-Pasing", "Köln-Ehrenfeld", "Düsseldorf", "Nürnberg", "Lübeck",
            "Görlitz", "Würzburg", "Gießen", "Saarbrücken", "Mülheim an der Ruhr", "Fürth", "Straßlach",
            "Weißenfels", "Großröhrsdorf", "Bad Dürkheim", "Lörrach", "Bad Tölz", "Höxter", "Jüterbog"],
    "monat": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
              "Oktober", "November", "Dezember"],
    "posten": ["die Grundgebühr", "die Gutschrift für die Störung", "den Routerpreis", "die Anschlussgebühr",
               "die Roaming-Kosten", "die Drittanbieter-Abrechnung", "die anteilige Monatsgebühr",
               "die Versandkosten", "den Kombi-Vorteil"],
    "tarif": ["Glasfaser 500", "Glasfaser 1000", "DSL 100", "DSL 250", "Kabel 400", "Mobil M", "Mobil L",
              "Mega XL", "Zuhause Start", "Komfort Plus"],
    "menue": ["Meine Verträge", "Rechnungen", "Tarif & Optionen", "Persönliche Daten", "Störung melden",
              "Umzug melden", "Kündigung"],
    "stoerer": ["dicke Stahlbetonwände", "die Fußbodenheizung", "Nachbarnetze auf demselben Kanal",
                "ein Aquarium neben dem Router", "der Router im Schrank", "alte Babyphones", "Mikrowellen"],
    "kabel": ["DSL-Kabel", "Glasfaser-Patchkabel", "Netzteil", "LAN-Kabel", "TAE-Kabel", "Koaxialkabel"],
    "led": ["Power-LED", "DSL-LED", "Online-LED", "WLAN-LED", "Fiber-LED"],
    "grund": ["ein Ausgleich für den angebrochenen Monat", "die Gutschrift aus Ihrer Störungsmeldung",
              "der Wechsel des Abrechnungszeitraums", "eine Preisanpassung laut AGB"],
    "aerger": ["die Hotline nach 40 Minuten einfach aufgelegt hat", "der Techniker nicht gekommen ist",
               "mir niemand sagen kann, wann es weitergeht", "ich schon zum dritten Mal anrufe",
               "die Gutschrift immer noch fehlt", "ich im Homeoffice auf das Netz angewiesen bin"],
    "frage": ["ob der Router nach dem Tarifwechsel getauscht werden muss",
              "wann der Glasfaser-Ausbau in ihrer Straße beginnt",
              "warum die erste Rechnung höher ausfällt", "ob man die Rufnummer beim Umzug behält",
              "wie lange eine Störung im Schnitt dauert", "ob eigene Router erlaubt sind"],
    "name": ["Klaus", "Jürgen", "Sabine", "Björn", "Ayşe", "Günther", "Monika", "Özlem", "Jörg", "Tanja",
             "Mehmet", "Ute", "Sören", "Hannelore", "Lukas", "Mia", "Zoë", "Dragan", "Anja", "René"],
    "nachname": ["Müller", "Schäfer", "Weiß", "Groß", "Öztürk", "Krüger", "Schmidt", "Hoffmann", "Köhler",
                 "Nowak", "Jäger", "Bäcker", "Fuß", "Löwe", "Yılmaz", "Meißner", "Brandt", "Kühn"],
    "kanal": ["Kanal", "Funkkanal", "5-GHz-Kanal", "Kanal 36"],
    "ware": ["Potenzmittel", "Uhren", "Kredite", "Followers", "SEO-Backlinks"],
    "feiertag": ["Ostern", "Pfingsten", "Weihnachten", "den Jahreswechsel", "den Tag der Deutschen Einheit"],
}

POST_SENTENCES = [
    "Wenn Ihr {geraet} {symptom}, hilft oft schon ein Neustart: Stecker ziehen, {n} Sekunden warten, wieder "
    "einstecken.",
    "Im Kundencenter finden Sie unter „{menue}“ alle Angaben zu Ihrem Vertrag.",
    "Der Glasfaser-Ausbau in {ort} geht voran: Bis {monat} sollen weitere {n}00 Haushalte angeschlossen sein.",
    "Auf der Rechnung sehen Sie {posten} getrennt aufgeführt – das ist kein Fehler, sondern {grund}.",
    "Unsere Techniker haben die Störung in {ort} gegen {n} Uhr behoben; manche Anschlüsse brauchen danach "
    "ein paar Minuten, bis sie wieder synchronisieren.",
    "Prüfen Sie bitte zuerst, ob das {kabel} richtig steckt und die {led} dauerhaft leuchtet.",
    "Beim Wechsel in den Tarif {tarif} bleibt Ihre Rufnummer selbstverständlich erhalten.",
    "Viele von Ihnen haben uns gefragt, {frage}.",
    "Das größte Problem im WLAN sind übrigens selten die Geräte selbst, sondern {stoerer}.",
    "Wichtig: Geben Sie Ihr Kundenkennwort niemals am Telefon weiter – wir fragen es nicht ab.",
    "Eine Übersicht aller Störungen finden Sie jederzeit auf unserer Störungsseite.",
    "Der Umzugsservice sorgt dafür, dass Ihr Anschluss am neuen Wohnort pünktlich läuft.",
    "Sollte sich danach nichts ändern, schreiben Sie uns gern mit Kundennummer und einer kurzen Beschreibung.",
    "Für Gespräche ins Ausland gelten weiterhin die Preise aus der Preisliste, Stand {monat}.",
    "Das Modell {box} unterstützt alle Glasfaser- und DSL-Tarife, die wir derzeit anbieten.",
    "Ab {monat} stellen wir die letzten ISDN-Anschlüsse in {ort} auf IP-Telefonie um.",
    "Gemessen wird die Geschwindigkeit am besten per LAN-Kabel, nicht über das WLAN.",
    "Ein Techniker-Termin lässt sich bis 24 Stunden vorher kostenlos verschieben.",
    "Größere Straßenbauarbeiten in {ort} können leider auch Leitungen beschädigen.",
    "Die Preise gelten für Neukundinnen und Neukunden ebenso wie für Bestandskunden – versprochen.",
]

COMMENT_SENTENCES = [
    "Seit {seit} habe ich {problem}.",
    "Seit {seit} merke ich, dass mein {geraet} {symptom}, und {n} Neustarts haben nichts gebracht.",
    "Die Hotline hat mich {n} Mal vertröstet, ein Techniker-Termin ist erst im {monat} frei.",
    "Bei uns in {ort} gibt es seit {seit} {problem}.",
    "Danke für die Anleitung, bei mir hat es mit dem Neustart geklappt!",
    "Warum steht auf meiner Rechnung plötzlich {posten}?",
    "Gilt das auch für den Tarif {tarif}?",
    "Ich bin echt genervt, weil {aerger}.",
    "Endlich Glasfaser! Heute gemessen: {n}50 Mbit/s runter, {n}0 Mbit/s hoch.",
    "Kann man den Router eigentlich auch selbst tauschen?",
    "Hat noch jemand in {ort} das gleiche Problem?",
    "Der Ping liegt abends bei über {n}0 ms, tagsüber ist alles gut.",
    "Super erklärt, das hätte ich mir schon vor dem Umzug gewünscht.",
    "Kundennummer habe ich euch per Direktnachricht geschickt.",
    "Telefon & Internet sind bei uns seit {seit} komplett weg.",
    "Im Ereignisprotokoll ({box}) steht nur „PPPoE-Fehler“.",
    "Wieso dauert das bei euch immer so lange?",
    "Ehrlich gesagt: Vor dem Wechsel lief alles besser.",
    "Vielen Dank, das war genau die Info, die ich gesucht habe 🙂",
    "Gibt es dafür auch eine Gutschrift?",
]

REPLY_SENTENCES = [
    "@{name} bei mir genauso.", "Das kann ich bestätigen, hier in {ort} dasselbe.",
    "Hast du mal den {kanal} im WLAN gewechselt?", "Bei mir hat ein Firmware-Update geholfen.",
    "Ruf am besten vormittags an, da ist die Warteschlange kürzer.", "Gleiches Problem, Tarif {tarif}.",
    "Das liegt meistens an der Leitung, nicht am {geraet}.", "Danke, probiere ich heute Abend aus!",
]

STAFF_SENTENCES = [
    "das tut uns leid!", "wir schauen uns das gern genauer an.",
    "schreiben Sie uns bitte Ihre Kundennummer per Direktnachricht, dann prüfen wir die Leitung.",
    "laut unserem System ist die Störung in {ort} seit {n} Uhr behoben.",
    "den Techniker-Termin können wir Ihnen auch früher anbieten.",
    "die Gutschrift ist veranlasst und erscheint auf der nächsten Rechnung.",
    "ein Gerätetausch ({box}) ist in Ihrem Tarif kostenlos.",
]

SPAM = [
    "Sehr informativer Beitrag! Schauen Sie sich auch {link} an.",
    "Günstige {ware} ohne Rezept: {link}",
    "Ich verdiene jetzt 5.000 € im Monat von zu Hause. Mehr Infos: {link}",
    "Great post! Check out my website {link}",
    "Bester Anbieter für {ware} 2023 → {link}",
]

TITLES = [
    "{geraet} neu starten: So geht's richtig", "Glasfaser in {ort}: Was Sie jetzt wissen müssen",
    "Störung in {ort} behoben", "Ihre Rechnung verstehen: {posten} erklärt",
    "Neue Tarife ab {monat}: Mehr Tempo fürs gleiche Geld", "Umzug? So nehmen Sie Ihren Anschluss mit",
    "WLAN zu langsam? {n} Tipps für schnelleres Surfen", "Fragen & Antworten zum Tarifwechsel",
    "Warum Ihr {geraet} blinkt – und was das bedeutet", "5G in {ort}: Ausbau abgeschlossen",
    "Kündigung, Widerruf, Laufzeit: Ein Überblick", "Phishing-Mails im Umlauf: So erkennen Sie Fälschungen",
    "„Kein Sync“ – was tun?", "Hotline-Zeiten über {feiertag}", "Techniker-Termin verpasst? So geht es weiter",
    "Mesh-WLAN für große Wohnungen: Unser Test mit {box}", "Größere Störung im Mobilfunknetz – ein Rückblick",
    "Straßenbau in {ort}: Leitungen beschädigt", "Tarif {tarif}: Alle Details", "Modell {box} im Überblick",
]

HEADINGS = ["Was ist passiert?", "So gehen Sie vor", "Häufige Fragen", "Was kostet das?", "Schritt für Schritt",
            "Gut zu wissen", "Wie geht es weiter?", "Die wichtigsten Änderungen", "Tipps für Ihr WLAN"]

CATEGORIES = [  # name, slug, parent slug, description (parents first, as WordPress writes them)
    ("Allgemein", "allgemein", "", ""),
    ("Technik", "technik", "", "Anleitungen rund um Router, WLAN und Anschluss"),
    ("Rechnung & Tarife", "rechnung-tarife", "", ""),
    ("Störungen", "stoerungen", "", "Aktuelle Störungsmeldungen und Hintergründe"),
    ("Mobilfunk", "mobilfunk", "", ""),
    ("Umzug & Kündigung", "umzug-kuendigung", "", ""),
    ("In eigener Sache", "in-eigener-sache", "", ""),
    ("Router & WLAN", "router-wlan", "technik", ""),
    ("Glasfaser", "glasfaser", "technik", "Ausbau, Anschluss, Hausbegehung"),
    ("Rechnung", "rechnung", "rechnung-tarife", ""),
    ("Tarifwechsel", "tarifwechsel", "rechnung-tarife", ""),
    ("5G", "5g", "mobilfunk", ""),
    ("Fritz!Box", "fritzbox", "router-wlan", ""),
    ("Mesh & Repeater", "mesh-repeater", "router-wlan", ""),
    ("Ausbau vor Ort", "ausbau-vor-ort", "glasfaser", "Wo wir gerade bauen"),
]

TAGS = ["Störung", "Glasfaser", "WLAN", "Rechnung", "Tarifwechsel", "Kündigung", "Umzug", "5G", "DSL", "VDSL",
        "Vectoring", "Mesh", "Fritz!Box", "Speedport", "Hotline", "Techniker", "Gutschrift", "Phishing",
        "Sicherheit", "Firmware", "IPv6", "Festnetz", "Roaming", "eSIM", "Mobilfunk", "Kabel", "TV", "Streaming",
        "Homeoffice", "Ausbau", "Baustelle", "Preise", "Vertrag", "Widerruf", "Datenschutz", "Barrierefreiheit",
        "Smart Home", "Telefonie", "Ereignisprotokoll", "Geschwindigkeit", "Ping", "Gewitter", "Überspannung"]

AUTHORS = [  # id, login, first, last (display name "first last"; ids with gaps, as real sites have)
    (1, "admin", "Redaktion", ""),
    (2, "jana.berger", "Jana", "Berger"),
    (3, "tobias.krueger", "Tobias", "Krüger"),
    (5, "ayse.yilmaz", "Ayşe", "Yılmaz"),
    (8, "joerg.weiss", "Jörg", "Weiß"),
]

PAGES = ["Impressum", "Datenschutzerklärung", "Hilfe", "Kontakt", "Über uns", "Häufige Fragen zur Rechnung",
         "Störungsmeldung", "Barrierefreiheit", "Netiquette", "Tarife im Überblick"]


class _Pick(dict):
    """format_map() filler: every {slot} is a fresh pick from W ({n}: a small number)."""

    def __init__(self, rng: random.Random):
        super().__init__()
        self.rng = rng

    def __missing__(self, key):
        return self.rng.randint(2, 9) if key == "n" else self.rng.choice(W[key])


# --- the plan: what exists, independent of what is written ---------------------------------

@dataclass(slots=True)
class _Attachment:
    id: int
    parent: int
    gmt: int
    file: str  # 2019/05/bild-12.jpg
    width: int
    height: int
    alt: str


@dataclass(slots=True)
class _Item:
    id: int
    type: str
    title: str
    slug: str
    status: str
    author: int  # index into AUTHORS
    gmt: int
    modified: int
    link: str
    guid: str
    categories: list = field(default_factory=list)  # (domain, slug, name)
    attachments: list = field(default_factory=list)
    thumbnail: int = 0
    comment_status: str = "open"
    ping_status: str = "open"
    password: str = ""
    sticky: bool = False
    parent: int = 0
    menu_order: int = 0
    video: bool = False
    old_slug: str = ""
    meta: list = field(default_factory=list)  # extra (key, value)


class _Blog:
    """The posts (with attachments) of a seed: shared by write_wxr() and write_disqus()."""

    def __init__(self, seed: int, posts: int, site: str):
        root = random.Random(seed)
        self.seeds = [root.getrandbits(64) for _ in range(8)]
        self.site = site.rstrip("/")
        rng = random.Random(self.seeds[0])
        self.rng_content = random.Random(self.seeds[1])
        self.terms = self._terms(rng)
        self.posts = self._posts(rng, posts)
        self.next_id = (self.posts[-1].attachments[-1].id if self.posts and self.posts[-1].attachments
                        else self.posts[-1].id if self.posts else 0) + 1

    def _terms(self, rng):
        term_id, terms = 1, {}
        for name, slug, parent, description in CATEGORIES:
            terms[("category", slug)] = (term_id, name, parent, description)
            term_id += rng.randint(1, 3)
        for name in TAGS:
            terms[("post_tag", slugify(name))] = (term_id, name, "", "")
            term_id += rng.randint(1, 2)
        self.menu_term = term_id
        return terms

    def permalink(self, ts: int, slug: str) -> str:
        return "%s/%s/%s/" % (self.site, time.strftime("%Y/%m/%d", time.gmtime(ts + berlin_offset(ts))), slug)

    def _statuses(self, rng, n):
        statuses = ["publish"] * n
        if n < 3:
            return statuses
        shares = {"future": 0.005, "draft": 0.03, "pending": 0.01, "private": 0.015, "trash": 0.02}
        wanted = {s: (max(1, round(n * f)) if n >= 10 else int(rng.random() < n * f * 3)) for s, f in shares.items()}
        wanted["future"] = min(wanted["future"], 1 if n < 50 else n // 50)
        for i in range(n - wanted["future"], n):
            statuses[i] = "future"
        free = list(range(1, n - wanted["future"]))
        rng.shuffle(free)
        for status in ("draft", "pending", "private", "trash"):
            for _ in range(wanted[status]):
                if free:
                    statuses[free.pop()] = status
        return statuses

    def _posts(self, rng, n):
        site = self.site
        leaves = [slug for _, slug, parent, _ in CATEGORIES if parent]
        tops = [slug for _, slug, parent, _ in CATEGORIES if not parent]
        tags = list(TAGS)
        statuses = self._statuses(rng, n)
        last = EXPORTED - 10 * DAY
        times = sorted(rng.randint(FIRST_POST, last) for _ in range(n))
        slugs: set[str] = set()
        items, item_id, attachments = [], 1, []
        pick = _Pick(rng)
        for i in range(n):
            status = statuses[i]
            gmt = EXPORTED + rng.randint(DAY, 40 * DAY) if status == "future" else times[i]
            if status in ("draft", "pending"):  # drafts are saved recently, whatever their ID
                gmt = max(gmt, rng.randint(last - 400 * DAY, last))
            title = "Willkommen im Kundenservice-Blog!" if i == 0 else rng.choice(TITLES).format_map(pick)
            slug = base = slugify(title)
            k = 2
            while slug in slugs:
                slug, k = "%s-%d" % (base, k), k + 1
            slugs.add(slug)
            written_slug = slug
            if status in ("draft", "pending") and rng.random() < 0.6:
                written_slug = ""  # never published: WordPress has not made a slug yet
            elif status == "trash":
                written_slug = slug + "__trashed"
            if status in ("draft", "pending", "future"):
                link = "%s/?p=%d" % (site, item_id)
            else:
                link = self.permalink(gmt, written_slug)
            author = (i % len(AUTHORS)) if i < len(AUTHORS) else rng.choice((0, 1, 1, 2, 2, 3, 4))
            modified = gmt + (rng.randint(60, 300 * DAY) if rng.random() < 0.3 else rng.randint(0, 3600))
            modified = max(gmt, min(modified, EXPORTED - 60)) if status != "future" else gmt
            item = _Item(id=item_id, type="post", title=title, slug=written_slug, status=status, author=author,
                         gmt=gmt, modified=modified, link=link, guid="%s/?p=%d" % (site, item_id))
            cats = rng.sample(leaves, rng.choice((1, 1, 1, 2))) if rng.random() < 0.75 else [rng.choice(tops)]
            if i == 0:
                cats = ["allgemein"]
            item.categories = [("category", s, self.terms[("category", s)][1]) for s in cats]
            for name in rng.sample(tags, rng.choice((0, 0, 1, 2, 3, 3, 4, 6))):
                item.categories.append(("post_tag", slugify(name), name))
            item.comment_status = "closed" if rng.random() < 0.08 else "open"
            item.ping_status = "closed" if rng.random() < 0.3 else "open"
            item.password = "kunden2019" if status == "publish" and rng.random() < 0.01 else ""
            item.sticky = status == "publish" and rng.random() < 0.004
            item.video = rng.random() < 0.08
            if status == "publish" and rng.random() < 0.03:
                item.old_slug = slug + "-alt"
            if status == "trash":
                item.meta = [("_wp_trash_meta_status", "publish"), ("_wp_trash_meta_time", str(modified)),
                             ("_wp_desired_post_slug", slug)]
            item_id += 1
            for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3))):
                ts = gmt + rng.randint(-3600, -60) if status != "future" else gmt - DAY
                folder = time.strftime("%Y/%m", time.gmtime(ts + berlin_offset(ts)))
                ext = "png" if rng.random() < 0.2 else "jpg"
                width, height = rng.choice(((1200, 800), (1920, 1080), (800, 600), (1024, 768)))
                alt = rng.choice(("", "Router mit blinkender LED", "Glasfaser-Hausanschluss", "Beispielrechnung",
                                  "Screenshot des Kundencenters", "Techniker bei der Arbeit", "Störungskarte"))
                att = _Attachment(item_id, item.id, ts, "%s/bild-%d.%s" % (folder, item_id, ext), width, height, alt)
                item.attachments.append(att)
                attachments.append(att)
                item_id += 1
            if item.attachments and rng.random() < 0.7:
                item.thumbnail = item.attachments[0].id
            elif attachments and rng.random() < 0.1:
                item.thumbnail = rng.choice(attachments[-20:]).id  # an older image reused
            items.append(item)
            item_id += rng.choice((0, 0, 1, 1, 2, 4))  # revisions and auto-drafts are not exported
        published = [p for p in items[1:] if p.status == "publish"]
        if len(published) >= 4:  # small files have them too
            if not any(p.password for p in published):
                rng.choice(published).password = "kunden2019"
            if not any(p.sticky for p in published):
                rng.choice(published).sticky = True
        return items

    def url(self, att: _Attachment, size: str = "") -> str:
        file = att.file
        if size:
            stem, ext = file.rsplit(".", 1)
            file = "%s-%s.%s" % (stem, size, ext)
        return "%s/wp-content/uploads/%s" % (self.site, file)

    def commentable(self) -> list[_Item]:
        return [p for p in self.posts if p.status == "publish"]

    def allocate(self, rng: random.Random, total: int) -> dict[int, int]:
        """`total` comments over the published posts: heavy-tailed, a few posts with none."""
        targets = self.commentable()
        if total and not targets:
            raise ValueError("comments need at least one published post")
        weights = [rng.lognormvariate(0, 1.2) for _ in targets]
        if len(targets) >= 5:  # about 5% without any
            for k in rng.sample(range(len(targets)), max(1, round(len(targets) * 0.05))):
                weights[k] = 0.0
        scale = total / (sum(weights) or 1)
        shares = [w * scale for w in weights]
        counts = [int(s) for s in shares]
        rest = total - sum(counts)
        for k in sorted(range(len(targets)), key=lambda k: counts[k] - shares[k])[:rest]:
            counts[k] += 1
        return {p.id: c for p, c in zip(targets, counts, strict=True)}


# --- comment threads -----------------------------------------------------------------------

@dataclass(slots=True)
class _Comment:
    ts: int
    status: str  # approved pending spam trash (WXR) / approved spam deleted (Disqus)
    parent: int = -1  # index in the thread's creation order
    depth: int = 1
    staff: bool = False
    kind: str = "comment"  # or pingback, trackback
    id: int = 0
    up: "_Comment | None" = None  # the parent
    name: str = ""  # the author's, once known


def _thread(rng: random.Random, n: int, start: int, statuses, staff: bool) -> tuple[list[_Comment], int]:
    """n comments after `start`, threaded up to MAX_DEPTH; the order they are written in, with
    about 10% of the replies moved before their parent, and how many ended up so."""
    span = max(n * 2, EXPORTED - 3600 - start)
    # most comments in the first days, some over the first year, a few years later
    offsets = sorted(min(span, int(rng.expovariate(1 / (2 * DAY)))) if (r := rng.random()) < 0.75
                     else rng.randint(0, min(span, 365 * DAY)) if r < 0.95 else rng.randint(0, span)
                     for _ in range(n))
    comments, open_, prev = [], [], start
    names, weights = statuses
    for off in offsets:
        ts = prev = max(start + 60 + off, prev + 1)
        status = rng.choices(names, weights)[0]
        c = _Comment(ts, status)
        if open_ and rng.random() < (0.08 if status == "spam" else 0.5):
            # mostly the conversation goes on under the latest comment, else under one of the last 30
            p = open_[-1] if rng.random() < 0.55 else open_[rng.randrange(max(0, len(open_) - 30), len(open_))]
            c.parent, c.depth = p, comments[p].depth + 1
            if staff and not comments[p].staff and rng.random() < 0.15:
                c.staff, c.status = True, "approved"
        if c.status == "approved" and c.depth < MAX_DEPTH:
            open_.append(len(comments))
        comments.append(c)
    order = list(range(n))
    for i, c in enumerate(comments):
        if c.parent >= 0 and rng.random() < 0.1:
            at, parent_at = order.index(i), order.index(c.parent)
            if at > parent_at:
                order.pop(at)
                order.insert(rng.randint(max(0, parent_at - 3), parent_at), i)
    where = {k: pos for pos, k in enumerate(order)}
    early = sum(1 for i, c in enumerate(comments) if c.parent >= 0 and where[i] < where[c.parent])
    for c in comments:
        if c.parent >= 0:
            c.up = comments[c.parent]
    return [comments[k] for k in order], early


def _reader(rng: random.Random, regulars: list) -> tuple[str, str, str]:
    """name, email, url of a commenter: a regular now and then, else someone new."""
    if regulars and rng.random() < 0.3:
        return rng.choice(regulars)
    first, last = rng.choice(W["name"]), rng.choice(W["nachname"])
    style = rng.random()
    if style < 0.4:
        name = "%s %s" % (first, last)
    elif style < 0.6:
        name = "%s %s." % (first, last[0])
    elif style < 0.75:
        name = first
    elif style < 0.85:
        name = "%s%d" % (slugify(first), rng.randint(60, 99))
    elif style < 0.9:
        name = "Familie %s" % last
    else:
        name = rng.choice(("Anonym", "Gast", "Kunde seit 2005", "genervter Kunde", "R. Ü."))
    email = "%s.%s%s@%s" % (slugify(first), slugify(last), rng.choice(("", "", str(rng.randint(1, 99)))),
                            rng.choice(("example.com", "example.net", "example.org", "mail.example")))
    if rng.random() < 0.05:
        email = email.capitalize()
    if rng.random() < 0.01:
        email = ""
    url = "" if rng.random() < 0.9 else rng.choice(("https://www.example.net/~%s" % slugify(first),
                                                     "http://blog-von-%s.example/" % slugify(last)))
    return name, email, url


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return "2001:db8:%x:%x::%x" % (rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16))
    return "%d.%d.%d.%d" % (rng.randint(2, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))


def _comment_text(rng: random.Random, pick: _Pick, c: _Comment, signer: str, html: bool) -> str:
    """Plain text with line breaks, the odd link, <em>, <strong> (WXR, stored as typed) or Disqus
    HTML (<p>, <br>, <b>, <i>, escaped text)."""
    if c.status == "spam" and not c.staff:
        link = rng.choice(("https://casino.example.net/bonus", "http://billig.example.com/?r=%d" % rng.randint(1, 999)))
        link = '<a href="%s" rel="nofollow">%s</a>' % (link, rng.choice(("hier", "Bonus", link)))
        paragraphs = [[rng.choice(SPAM).replace("{ware}", rng.choice(W["ware"])).replace("{link}", link)]]
        return _join(paragraphs, html, raw=True)
    if c.staff:
        name = c.up.name if c.up else ""
        name = name if name.startswith("Familie") else name.split(" ")[0]
        said = " ".join(_upper_first(rng.choice(STAFF_SENTENCES).format_map(pick)) for _ in range(rng.randint(1, 3)))
        return _join([["Hallo %s," % (name or "zusammen")], [said], ["Viele Grüße", signer]], html)
    pool = REPLY_SENTENCES if c.parent >= 0 and rng.random() < 0.6 else COMMENT_SENTENCES
    paragraphs = []
    for _ in range(1 if rng.random() < 0.6 else rng.randint(2, 3)):
        para = [" ".join(s.format_map(pick) for s in rng.sample(pool, rng.randint(1, 3)))]
        if rng.random() < 0.15:
            para.append(rng.choice(COMMENT_SENTENCES).format_map(pick))  # a single line break
        paragraphs.append(para)
    if rng.random() < 0.1:
        paragraphs.insert(0, ["Hallo zusammen,"])
    if rng.random() < 0.08:
        paragraphs.append(["Gruß", c.name.split(" ")[0] or "K."])
    decorated = rng.random()
    if decorated < 0.04:
        paragraphs.append(["Hier die Messung: <a href=\"https://speedtest.example.net/result/%d\">Ergebnis</a>"
                           % rng.randint(10**6, 10**7)])
    elif decorated < 0.08:
        paragraphs[-1][-1] += " <em>Wirklich</em> <strong>jeden</strong> Abend!"
    elif decorated < 0.083:
        paragraphs[-1][-1] += " Im Log steht: if (werte[[0]]>5) neu verbinden"  # ]]> inside CDATA
    return _join(paragraphs, html, raw=False)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


_TAGS_DSQ = (("<em>", "<i>"), ("</em>", "</i>"), ("<strong>", "<b>"), ("</strong>", "</b>"))


def _join(paragraphs: list[list[str]], html: bool, raw: bool = False) -> str:
    if not html:
        return "\n\n".join("\n".join(p) for p in paragraphs)
    out = []
    for p in paragraphs:
        text = "<br>".join(p)
        if not raw:  # Disqus stores HTML: text escaped, the few tags kept, renamed
            text = text.replace("&", "&amp;").replace("werte[[0]]>5", "werte[[0]]&gt;5")
            for a, b in _TAGS_DSQ:
                text = text.replace(a, b)
            text = text.replace('">Ergebnis</a>', '" rel="nofollow noopener" target="_blank">Ergebnis</a>')
        out.append("<p>%s</p>" % text)
    return "".join(out)


# --- WXR -----------------------------------------------------------------------------------

_HEADER = """<!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->
<!-- It contains information about your site's posts, pages, comments, categories, and other content. -->
<!-- You may use this file to transfer that content from one site to another. -->
<!-- This file is not intended to serve as a complete backup of your site. -->

<!-- To import this information into a WordPress site follow these steps: -->
<!-- 1. Log in to that site as an administrator. -->
<!-- 2. Go to Tools: Import in the WordPress admin panel. -->
<!-- 3. Install the "WordPress" importer from the list. -->
<!-- 4. Activate & Run Importer. -->
<!-- 5. Upload this file using the form provided on that page. -->
<!-- 6. You will first be asked to map the authors in this export file to users -->
<!--    on the site. For each author, you may choose to map to an -->
<!--    existing user on the site or to create a new user. -->
<!-- 7. WordPress will then import each of the posts, pages, comments, categories, etc. -->
<!--    contained in this file into your site. -->

"""

WXR_STATUSES = (("approved", "pending", "spam", "trash"), (85, 6, 7, 2))
WP_APPROVED = {"approved": "1", "pending": "0", "spam": "spam", "trash": "trash"}


def namespaces(version: str = "1.2") -> dict[str, str]:
    return {"excerpt": "http://wordpress.org/export/%s/excerpt/" % version,
            "content": "http://purl.org/rss/1.0/modules/content/",
            "wfw": "http://wellformedweb.org/CommentAPI/",
            "dc": "http://purl.org/dc/elements/1.1/",
            "wp": "http://wordpress.org/export/%s/" % version}


class _Content:
    """Post bodies in the three styles an old WordPress site has: classic editor, blocks, shortcodes."""

    def __init__(self, blog: _Blog):
        self.blog, self.rng = blog, blog.rng_content
        self.pick = _Pick(self.rng)
        self.seen: list[_Item] = []  # earlier published posts, for internal links
        self.images: list[_Attachment] = []
        self.embedded = False

    def sentence(self) -> str:
        return self.rng.choice(POST_SENTENCES).format_map(self.pick)

    def inline(self) -> str:
        rng = self.rng
        text = " ".join(s.format_map(self.pick) for s in rng.sample(POST_SENTENCES, rng.randint(2, 4)))
        r = rng.random()
        if r < 0.15:
            text += " <strong>%s</strong>" % self.sentence()
        elif r < 0.25:
            text += " <em>Tipp:</em> %s" % self.sentence()
        elif r < 0.4 and self.seen:
            other = rng.choice(self.seen[-50:])
            href = other.link if rng.random() < 0.8 else other.guid  # old-style ?p= links too
            text += ' Mehr dazu in <a href="%s">%s</a>.' % (href, esc_attr(other.title))
        elif r < 0.45:
            text += ' Details bei der <a href="https://www.bundesnetzagentur.de/" target="_blank" ' \
                    'rel="noopener">Bundesnetzagentur</a>.'
        elif r < 0.47:
            text += " Beispiel aus dem Log: <code>dsl[[sync]]>stabil</code>"  # ]]> inside CDATA
        return text

    def table(self, block: bool) -> str:
        rows = "".join("<tr><td>%s</td><td>%d Mbit/s</td><td>%d,99 €</td></tr>"
                       % (esc(t), self.rng.choice((100, 250, 500, 1000)), self.rng.randint(19, 69))
                       for t in self.rng.sample(W["tarif"], 3))
        table = "<table><thead><tr><th>Tarif</th><th>Download</th><th>Preis</th></tr></thead><tbody>%s</tbody>" \
                "</table>" % rows
        if block:
            return '<!-- wp:table -->\n<figure class="wp-block-table">%s</figure>\n<!-- /wp:table -->' % table
        return table

    def list_html(self, nested: bool) -> tuple[str, list[str]]:
        items = [self.rng.choice(W["problem"]).capitalize() for _ in range(self.rng.randint(2, 5))]
        if nested:
            sub = "<ul>\n<li>%s</li>\n<li>%s</li>\n</ul>" % (self.rng.choice(W["box"]), self.rng.choice(W["box"]))
            items[0] = items[0] + "\n" + sub
        return "<ul>\n%s\n</ul>" % "\n".join("<li>%s</li>" % i for i in items), items

    def media(self, post: _Item) -> list[_Attachment]:
        return post.attachments or (self.images[-3:] if self.rng.random() < 0.3 else [])

    def classic(self, post: _Item) -> str:
        rng, parts = self.rng, []
        images = self.media(post)
        for k in range(rng.randint(2, 7)):
            para = self.inline()
            if rng.random() < 0.2:
                para += "\n" + self.sentence()  # a single line break: wpautop makes it <br />
            parts.append(para)
            if k == 0 and rng.random() < 0.4:
                parts.append("<!--more-->")
            if rng.random() < 0.2:
                parts.append("<h%d>%s</h%d>" % ((h := rng.choice((2, 3))), rng.choice(HEADINGS), h))
            if rng.random() < 0.1:
                parts.append(self.list_html(nested=rng.random() < 0.3)[0])
        if images:
            att = images[0]
            parts.insert(1, '[caption id="attachment_%d" align="alignnone" width="300"]<img class="size-medium '
                         'wp-image-%d" src="%s" alt="%s" width="300" height="200" /> Bildunterschrift: %s[/caption]'
                         % (att.id, att.id, self.blog.url(att, "300x200"), esc_attr(att.alt), esc(att.alt or "Foto")))
            if len(images) > 1:
                parts.append('[gallery ids="%s"]' % ",".join(str(a.id) for a in images))
        if post.video or rng.random() < 0.05 or not self.embedded:  # the first classic post has one
            self.embedded = True
            parts.insert(len(parts) // 2, "[embed]https://www.youtube.com/watch?v=%s[/embed]" % self.video_id())
        if rng.random() < 0.05:
            parts.append(self.table(block=False))
        if rng.random() < 0.05:
            parts.append("https://www.youtube.com/watch?v=%s" % self.video_id())  # a bare URL: oEmbed
        return "\n\n".join(parts)

    def video_id(self) -> str:
        return "".join(self.rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789_-")
                       for _ in range(11))

    def blocks(self, post: _Item) -> str:
        rng, parts = self.rng, []
        images = self.media(post)
        for k in range(rng.randint(2, 7)):
            parts.append("<!-- wp:paragraph -->\n<p>%s</p>\n<!-- /wp:paragraph -->" % self.inline())
            if k == 0 and images:
                att = images[0]
                if rng.random() < 0.5:
                    parts.append('<!-- wp:image {"id":%d} -->\n<figure class="wp-block-image"><img src="%s" alt="%s"/>'
                                 '</figure>\n<!-- /wp:image -->' % (att.id, self.blog.url(att), esc_attr(att.alt)))
                else:
                    parts.append('<!-- wp:image {"id":%d,"sizeSlug":"large","linkDestination":"none"} -->\n'
                                 '<figure class="wp-block-image size-large"><img src="%s" alt="%s" '
                                 'class="wp-image-%d"/><figcaption class="wp-element-caption">%s</figcaption>'
                                 '</figure>\n<!-- /wp:image -->'
                                 % (att.id, self.blog.url(att, "1024x683"), esc_attr(att.alt), att.id,
                                    esc(att.alt or "Foto")))
            if rng.random() < 0.3:
                level = rng.choice((2, 2, 3))
                attrs = "" if level == 2 else ' {"level":3}'
                parts.append('<!-- wp:heading%s -->\n<h%d class="wp-block-heading">%s</h%d>\n<!-- /wp:heading -->'
                             % (attrs, level, rng.choice(HEADINGS), level))
            if rng.random() < 0.15:
                _, items = self.list_html(nested=False)
                ordered = rng.random() < 0.3
                tag = "ol" if ordered else "ul"
                inner = "\n\n".join("<!-- wp:list-item -->\n<li>%s</li>\n<!-- /wp:list-item -->" % i for i in items)
                parts.append('<!-- wp:list%s -->\n<%s>%s</%s>\n<!-- /wp:list -->'
                             % (' {"ordered":true}' if ordered else "", tag, inner, tag))
        if len(images) > 1:
            parts.append('<!-- wp:shortcode -->\n[gallery ids="%s"]\n<!-- /wp:shortcode -->'
                         % ",".join(str(a.id) for a in images))
        if post.video:
            url = "https://www.youtube.com/watch?v=%s" % self.video_id()
            parts.append('<!-- wp:embed {"url":"%s","type":"video","providerNameSlug":"youtube","responsive":true,'
                         '"className":"wp-embed-aspect-16-9 wp-has-aspect-ratio"} -->\n<figure class="wp-block-embed '
                         'is-type-video is-provider-youtube wp-block-embed-youtube wp-embed-aspect-16-9 '
                         'wp-has-aspect-ratio"><div class="wp-block-embed__wrapper">\n%s\n</div></figure>\n'
                         '<!-- /wp:embed -->' % (url, url))
        if rng.random() < 0.05:
            parts.append(self.table(block=True))
        if rng.random() < 0.1:
            parts.append('<!-- wp:quote -->\n<blockquote class="wp-block-quote"><!-- wp:paragraph -->\n<p>%s</p>\n'
                         '<!-- /wp:paragraph --></blockquote>\n<!-- /wp:quote -->' % self.sentence())
        return "\n\n".join(parts)

    def body(self, post: _Item) -> tuple[str, str]:
        """content and excerpt. Older posts are classic, newer mostly blocks (Gutenberg: Dec 2018)."""
        gutenberg = post.gmt > 1544400000
        text = self.blocks(post) if gutenberg and self.rng.random() < 0.8 else self.classic(post)
        excerpt = self.sentence() if self.rng.random() < 0.2 else ""
        if post.status == "publish":
            self.seen.append(post)
        self.images.extend(post.attachments)
        del self.seen[:-200], self.images[:-50]
        return text, excerpt


def _meta(key: str, value: str, tag: str = "postmeta", indent: str = "\t\t") -> str:
    return "%s<wp:%s>\n%s\t<wp:meta_key>%s</wp:meta_key>\n%s\t<wp:meta_value>%s</wp:meta_value>\n%s</wp:%s>\n" % (
        indent, tag, indent, cdata(key), indent, cdata(value), indent, tag)


def _item_head(out, blog: _Blog, item: _Item, content: str, excerpt: str, gmt_zero: bool):
    login = AUTHORS[item.author][1]
    pub = "" if gmt_zero else _rfc822(item.gmt)
    out.write(
        "\n\t<item>\n"
        "\t\t<title>%s</title>\n\t\t<link>%s</link>\n\t\t<pubDate>%s</pubDate>\n"
        "\t\t<dc:creator>%s</dc:creator>\n\t\t<guid isPermaLink=\"false\">%s</guid>\n"
        "\t\t<description></description>\n\t\t<content:encoded>%s</content:encoded>\n"
        "\t\t<excerpt:encoded>%s</excerpt:encoded>\n"
        % (cdata(item.title), esc(item.link), pub, cdata(login), esc(item.guid), cdata(content), cdata(excerpt)))
    out.write(
        "\t\t<wp:post_id>%d</wp:post_id>\n\t\t<wp:post_date>%s</wp:post_date>\n"
        "\t\t<wp:post_date_gmt>%s</wp:post_date_gmt>\n\t\t<wp:post_modified>%s</wp:post_modified>\n"
        "\t\t<wp:post_modified_gmt>%s</wp:post_modified_gmt>\n\t\t<wp:comment_status>%s</wp:comment_status>\n"
        "\t\t<wp:ping_status>%s</wp:ping_status>\n\t\t<wp:post_name>%s</wp:post_name>\n"
        "\t\t<wp:status>%s</wp:status>\n\t\t<wp:post_parent>%d</wp:post_parent>\n"
        "\t\t<wp:menu_order>%d</wp:menu_order>\n\t\t<wp:post_type>%s</wp:post_type>\n"
        "\t\t<wp:post_password>%s</wp:post_password>\n\t\t<wp:is_sticky>%d</wp:is_sticky>\n"
        % (item.id, cdata(_local(item.gmt)), cdata("0000-00-00 00:00:00" if gmt_zero else _sql(item.gmt)),
           cdata(_local(item.modified)), cdata(_sql(item.modified)), cdata(item.comment_status),
           cdata(item.ping_status), cdata(item.slug), cdata(item.status), item.parent, item.menu_order,
           cdata(item.type), cdata(item.password), item.sticky))


def _wxr_comment(out, c: _Comment, parent_id: int, who: tuple, text: str, user_id: int, rng: random.Random):
    name, email, url, ip = who
    ctype = c.kind if c.kind != "comment" else ("comment" if c.ts > 1597000000 else "")  # 'comment' since 5.5
    out.write(
        "\t\t<wp:comment>\n\t\t\t<wp:comment_id>%d</wp:comment_id>\n\t\t\t<wp:comment_author>%s</wp:comment_author>\n"
        "\t\t\t<wp:comment_author_email>%s</wp:comment_author_email>\n"
        "\t\t\t<wp:comment_author_url>%s</wp:comment_author_url>\n"
        "\t\t\t<wp:comment_author_IP>%s</wp:comment_author_IP>\n\t\t\t<wp:comment_date>%s</wp:comment_date>\n"
        "\t\t\t<wp:comment_date_gmt>%s</wp:comment_date_gmt>\n\t\t\t<wp:comment_content>%s</wp:comment_content>\n"
        "\t\t\t<wp:comment_approved>%s</wp:comment_approved>\n\t\t\t<wp:comment_type>%s</wp:comment_type>\n"
        "\t\t\t<wp:comment_parent>%d</wp:comment_parent>\n\t\t\t<wp:comment_user_id>%d</wp:comment_user_id>\n"
        % (c.id, cdata(name), cdata(email), esc(url), cdata(ip), cdata(_local(c.ts)), cdata(_sql(c.ts)), cdata(text),
           cdata(WP_APPROVED[c.status]), cdata(ctype), parent_id, user_id))
    meta = []
    if c.status == "trash":
        meta = [("_wp_trash_meta_status", rng.choice(("1", "0"))), ("_wp_trash_meta_time", str(c.ts + DAY))]
    elif c.kind == "comment" and c.ts > 1400000000 and rng.random() < 0.3:
        spam = c.status == "spam"
        meta = [("akismet_result", "true" if spam else "false"),
                ("akismet_history", php_serialize({"time": c.ts + 0.5, "event": "check-spam" if spam else "check-ham",
                                                   "user": "", "reason": ""}))]
    for key, value in meta:
        out.write(_meta(key, value, "commentmeta", "\t\t\t"))
    out.write("\t\t</wp:comment>\n")


def write_wxr(out, *, posts: int = 20, comments: int = 200, seed: int = 1, site: str = "https://alt.example.de",
              version: str = "1.2", pages: int = 2, with_pingbacks: bool = True) -> Counts:
    """Write a WordPress export (WXR `version`) to the text file `out`; return what it holds."""
    blog = _Blog(seed, posts, site)
    site = blog.site
    ns = namespaces(version)
    rng_alloc, rng_comments = random.Random(blog.seeds[2]), random.Random(blog.seeds[3])
    rng_pages, rng_pings = random.Random(blog.seeds[4]), random.Random(blog.seeds[5])
    allocation = blog.allocate(rng_alloc, comments)
    pick = _Pick(rng_comments)
    regulars = [_reader(rng_comments, []) for _ in range(60)]
    counts = Counts(comments_by_status=dict.fromkeys(WXR_STATUSES[0], 0), categories=len(CATEGORIES), tags=len(TAGS))
    page_items = _pages(blog, rng_pages, pages)
    menu = _menu(blog, page_items)

    out.write('<?xml version="1.0" encoding="UTF-8" ?>\n')
    out.write(_HEADER)
    out.write('<!-- generator="WordPress/6.4.2" created="%s" -->\n' % _sql(EXPORTED)[:16])
    out.write('<rss version="2.0"\n\txmlns:excerpt="%s"\n\txmlns:content="%s"\n\txmlns:wfw="%s"\n\txmlns:dc="%s"\n'
              '\txmlns:wp="%s"\n>\n\n<channel>\n' % (ns["excerpt"], ns["content"], ns["wfw"], ns["dc"], ns["wp"]))
    out.write("\t<title>Kundenservice-Blog &#8211; Hilfe, Tipps &#038; Störungen</title>\n\t<link>%s</link>\n"
              "\t<description>Neuigkeiten rund um Ihren Anschluss</description>\n\t<pubDate>%s</pubDate>\n"
              "\t<language>de-DE</language>\n\t<wp:wxr_version>%s</wp:wxr_version>\n"
              "\t<wp:base_site_url>%s</wp:base_site_url>\n\t<wp:base_blog_url>%s</wp:base_blog_url>\n\n"
              % (site, _rfc822(EXPORTED), esc(version), site, site))
    used = {p.author for p in blog.posts} | {0}
    for k, (author_id, login, first, last) in enumerate(AUTHORS):
        if k not in used:
            continue
        counts.authors += 1
        out.write("\t<wp:author><wp:author_id>%d</wp:author_id><wp:author_login>%s</wp:author_login>"
                  "<wp:author_email>%s</wp:author_email><wp:author_display_name>%s</wp:author_display_name>"
                  "<wp:author_first_name>%s</wp:author_first_name><wp:author_last_name>%s</wp:author_last_name>"
                  "</wp:author>\n" % (author_id, cdata(login), cdata(_author_email(login)),
                                      cdata(_display(k)), cdata(first), cdata(last)))
    out.write("\n")
    for (taxonomy, slug), (term_id, name, parent, description) in blog.terms.items():
        if taxonomy == "category":
            out.write("\t<wp:category>\n\t\t<wp:term_id>%d</wp:term_id>\n\t\t<wp:category_nicename>%s"
                      "</wp:category_nicename>\n\t\t<wp:category_parent>%s</wp:category_parent>\n"
                      "\t\t<wp:cat_name>%s</wp:cat_name>\n%s\t</wp:category>\n"
                      % (term_id, cdata(slug), cdata(parent), cdata(name),
                         "\t\t<wp:category_description>%s</wp:category_description>\n" % cdata(description)
                         if description else ""))
    for (taxonomy, slug), (term_id, name, _, _) in blog.terms.items():
        if taxonomy == "post_tag":
            out.write("\t<wp:tag>\n\t\t<wp:term_id>%d</wp:term_id>\n\t\t<wp:tag_slug>%s</wp:tag_slug>\n"
                      "\t\t<wp:tag_name>%s</wp:tag_name>\n\t</wp:tag>\n" % (term_id, cdata(slug), cdata(name)))
    # the main menu exists even without entries
    out.write("\t<wp:term><wp:term_id>%d</wp:term_id><wp:term_taxonomy>nav_menu</wp:term_taxonomy>"
              "<wp:term_slug>%s</wp:term_slug><wp:term_name>%s</wp:term_name>\n</wp:term>\n"
              % (blog.menu_term, cdata("hauptmenue"), cdata("Hauptmenü")))
    out.write("\n\t<generator>%s</generator>\n" % GENERATOR)

    content = _Content(blog)
    comment_id = 0
    first_commentable = next((p.id for p in blog.posts if allocation.get(p.id)), None)
    for post in blog.posts:
        text, excerpt = content.body(post)
        _item_head(out, blog, post, text, excerpt, gmt_zero=post.status in ("draft", "pending"))
        counts.posts += 1
        counts.drafts += post.status != "publish"
        for domain, slug, name in post.categories:
            out.write('\t\t<category domain="%s" nicename="%s">%s</category>\n' % (domain, esc_attr(slug), cdata(name)))
        if post.video:
            out.write('\t\t<category domain="post_format" nicename="post-format-video">%s</category>\n'
                      % cdata("Video"))
        meta = [("_edit_last", str(AUTHORS[post.author][0]))]
        if post.thumbnail:
            meta.append(("_thumbnail_id", str(post.thumbnail)))
        if post.old_slug:
            meta.append(("_wp_old_slug", post.old_slug))
        if post.id % 7 == 0:
            meta.append(("_yoast_wpseo_metadesc", post.title + " – alle Infos im Kundenservice-Blog."))
        for key, value in meta + post.meta:
            out.write(_meta(key, value))
        n = allocation.get(post.id, 0)
        thread, early = _thread(rng_comments, n, post.gmt, WXR_STATUSES, staff=True) if n else ([], 0)
        if with_pingbacks and post.status == "publish" and (rng_pings.random() < 0.05 or post.id == first_commentable):
            for _ in range(rng_pings.randint(1, 3)):
                ts = post.gmt + rng_pings.randint(3600, 30 * DAY)
                ping = _Comment(min(ts, EXPORTED - 60), "approved" if rng_pings.random() < 0.9 else "spam",
                                kind="pingback" if rng_pings.random() < 0.8 else "trackback")
                thread.insert(rng_pings.randint(0, len(thread)), ping)
        counts.comments_before_parent += early
        for c in thread:
            comment_id += 1
            c.id = comment_id
        author_id, login, first, _ = AUTHORS[post.author]
        whos = []
        for c in thread:  # who wrote what first: a staff reply written before its parent greets it by name
            if c.kind != "comment":
                whos.append(None)
            elif c.staff:
                whos.append((_display(post.author), _author_email(login), site, "10.%d.%d.%d" % (
                    rng_comments.randint(0, 255), rng_comments.randint(0, 255), rng_comments.randint(1, 254))))
            else:
                whos.append((*_reader(rng_comments, regulars), _ip(rng_comments)))
            if whos[-1]:
                c.name = whos[-1][0]
        for c, who in zip(thread, whos, strict=True):
            if c.kind != "comment":
                counts.pingbacks += 1
                _write_ping(out, blog, c, rng_pings)
                continue
            text = _comment_text(rng_comments, pick, c, first or "Ihr Kundenservice-Team", html=False)
            _wxr_comment(out, c, c.up.id if c.up else 0, who, text, author_id if c.staff else 0, rng_comments)
            counts.comments_by_status[c.status] += 1
            counts.max_depth = max(counts.max_depth, c.depth)
        out.write("\t</item>\n")
        for att in post.attachments:
            _write_attachment(out, blog, post, att)
            counts.attachments += 1
    for page in page_items:
        text, excerpt = content.body(page)
        _item_head(out, blog, page, text, "", gmt_zero=False)
        out.write(_meta("_edit_last", "1") + _meta("_wp_page_template", "default") + "\t</item>\n")
        counts.pages += 1
    for entry, meta in menu:
        _item_head(out, blog, entry, "", "", gmt_zero=False)
        out.write('\t\t<category domain="nav_menu" nicename="hauptmenue">%s</category>\n' % cdata("Hauptmenü"))
        for key, value in meta:
            out.write(_meta(key, value))
        out.write("\t</item>\n")
        counts.nav_menu_items += 1
    out.write("</channel>\n</rss>\n")
    return counts


def _display(k: int) -> str:
    _, _, first, last = AUTHORS[k]
    return ("%s %s" % (first, last)).strip()


def _author_email(login: str) -> str:
    return "%s@alt.example.de" % login


def _write_ping(out, blog: _Blog, c: _Comment, rng: random.Random):
    if rng.random() < 0.3 and blog.posts:  # a self-pingback from another post of the blog
        other = rng.choice(blog.posts)
        who = (other.title, "", other.link, "127.0.0.1")
    else:
        host = rng.choice(("technik-forum.example", "blog.example.org", "news.example.net", "nachbarschaft.example"))
        path = "%d/%s" % (rng.randint(2012, 2023), slugify(rng.choice(TITLES).format_map(_Pick(rng))))
        who = (rng.choice(("Technik-Forum", "Nachbarschaftsblog", "IT-News » Archiv", "Hannos Blog")),
               "", "https://%s/%s/" % (host, path), _ip(rng))
    text = "[&#8230;] %s [&#8230;]" % rng.choice(("Wie hier beschrieben, hilft ein Neustart meistens.",
                                                    "Siehe auch die Meldung zur Störung.",
                                                    "Der Kundenservice erklärt das ausführlich."))
    _wxr_comment(out, c, 0, who, text, 0, rng)


def _write_attachment(out, blog: _Blog, post: _Item, att: _Attachment):
    slug = "bild-%d" % att.id
    pretty = post.link.endswith("/") and "?" not in post.link  # else ?attachment_id=, as for drafts
    link = "%s%s/" % (post.link, slug) if pretty else "%s/?attachment_id=%d" % (blog.site, att.id)
    item = _Item(id=att.id, type="attachment", title=slug, slug=slug, status="inherit", author=post.author,
                 gmt=att.gmt, modified=att.gmt, link=link, guid=blog.url(att), parent=post.id,
                 comment_status="open", ping_status="closed")
    _item_head(out, blog, item, "", att.alt, gmt_zero=False)
    out.write("\t\t<wp:attachment_url>%s</wp:attachment_url>\n" % cdata(blog.url(att)))
    sizes = {"medium": {"file": "bild-%d-300x200.%s" % (att.id, att.file.rsplit(".", 1)[1]), "width": 300,
                        "height": 200, "mime-type": "image/jpeg"}}
    meta = [("_wp_attached_file", att.file),
            ("_wp_attachment_metadata", php_serialize({"width": att.width, "height": att.height, "file": att.file,
                                                       "filesize": att.width * att.height // 7, "sizes": sizes,
                                                       "image_meta": {"aperture": "0", "credit": "", "camera": "",
                                                                      "caption": "", "copyright": "",
                                                                      "title": "", "orientation": "0"}}))]
    if att.alt:
        meta.append(("_wp_attachment_image_alt", att.alt))
    for key, value in meta:
        out.write(_meta(key, value))
    out.write("\t</item>\n")


def _pages(blog: _Blog, rng: random.Random, n: int) -> list[_Item]:
    """Pages after the posts (their IDs too: write_disqus() must not depend on `pages`); from the
    third on some nested under „Hilfe“ and one level deeper."""
    pages, next_id, paths = [], blog.next_id, {}
    for k in range(n):
        title = PAGES[k] if k < len(PAGES) else "Hilfe: %s (%d)" % (rng.choice(W["problem"]).capitalize(), k)
        slug = slugify(title)
        parent = 0
        if k >= 3 and pages:
            candidates = [p for p in pages[2:] if paths[p.id].count("/") < 2]
            if candidates and rng.random() < 0.6:
                parent = rng.choice(candidates).id
        path = (paths[parent] + "/" if parent else "") + slug
        gmt = rng.randint(FIRST_POST, EXPORTED - 30 * DAY)
        page = _Item(id=next_id, type="page", title=title, slug=slug, status="publish", author=0, gmt=gmt,
                     modified=min(gmt + rng.randint(0, 200 * DAY), EXPORTED - 60), link="%s/%s/" % (blog.site, path),
                     guid="%s/?page_id=%d" % (blog.site, next_id), comment_status="closed", ping_status="closed",
                     parent=parent, menu_order=k)
        paths[page.id] = path
        pages.append(page)
        next_id += 1 + rng.choice((0, 1, 3))
    blog.next_id = next_id
    return pages


def _menu(blog: _Blog, pages: list[_Item]) -> list[tuple[_Item, list]]:
    """The main menu: one entry per top-level page and a custom link (nav_menu_item posts)."""
    if not pages:
        return []
    entries, next_id = [], blog.next_id
    targets = [p for p in pages if not p.parent][:6]
    for order, page in enumerate([*targets, None], start=1):
        ts = EXPORTED - 20 * DAY + order
        item = _Item(id=next_id, type="nav_menu_item", title="" if page else "Störungsauskunft", slug=str(next_id),
                     status="publish", author=0, gmt=ts, modified=ts, link="%s/?p=%d" % (blog.site, next_id),
                     guid="%s/?p=%d" % (blog.site, next_id), comment_status="closed", ping_status="closed",
                     menu_order=order)
        kind = ("post_type", str(page.id), "page", "") if page else ("custom", str(next_id), "custom",
                                                                      "https://status.example.de/")
        meta = [("_menu_item_type", kind[0]), ("_menu_item_menu_item_parent", "0"), ("_menu_item_object_id", kind[1]),
                ("_menu_item_object", kind[2]), ("_menu_item_target", ""),
                ("_menu_item_classes", php_serialize([""])), ("_menu_item_xfn", ""), ("_menu_item_url", kind[3])]
        entries.append((item, meta))
        next_id += 1
    return entries


# --- Disqus --------------------------------------------------------------------------------

DSQ_STATUSES = (("approved", "spam", "deleted"), (88, 7, 5))
_DSQ_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _dsq_id(value: str) -> str:
    return "<id>%s</id>" % esc(value) if value else "<id />"


def write_disqus(out, *, posts: int = 20, comments: int = 200, seed: int = 1, site: str = "https://alt.example.de",
                 forum: str = "altblog") -> Counts:
    """Write the Disqus export of the blog write_wxr() writes for the same seed, posts and site."""
    blog = _Blog(seed, posts, site)
    rng = random.Random(blog.seeds[6])
    pick = _Pick(rng)
    allocation = blog.allocate(random.Random(blog.seeds[7]), comments)
    regulars = [_reader(rng, []) for _ in range(60)]
    counts = Counts(comments_by_status=dict.fromkeys(DSQ_STATUSES[0], 0), categories=1)
    category = 3000000 + rng.randint(0, 999999)
    out.write('<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
              'xmlns:dsq="http://disqus.com/disqus-internals" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
              'xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd '
              'http://disqus.com/api/schemas/1.0/disqus-internals.xsd">\n')
    out.write('  <category dsq:id="%d">\n    <forum>%s</forum>\n    <title>General</title>\n'
              '    <isDefault>true</isDefault>\n  </category>\n' % (category, esc(forum)))
    threads, thread_id, owners = [], 1200000000 + rng.randint(0, 10**6), set()
    # Disqus makes a thread when a page with the embed is first loaded: not for every post
    chosen = [p for p in blog.commentable() if allocation.get(p.id) or rng.random() < 0.5]
    forced = dict(zip(rng.sample(range(len(chosen)), 3), (0.05, 0.15, 0.25), strict=True)) if len(chosen) >= 4 else {}
    for k, post in enumerate(chosen):
        thread_id += rng.randint(1, 5000)
        threads.append((thread_id, post))
        link = post.link
        r = forced.get(k, rng.random())  # links as readers arrived: http, no trailing slash, a query
        if r < 0.1:
            link = link.replace("https://", "http://", 1)
        elif r < 0.2:
            link = link.rstrip("/")
        elif r < 0.27:
            link += "?utm_source=x"
        elif r < 0.3:
            link += "?utm_source=newsletter&utm_medium=email"
        identifier = "" if rng.random() < 0.08 else "%d %s" % (post.id, post.guid)
        created = post.gmt + rng.randint(60, 540)  # its comments start 10 minutes after the post
        if rng.random() < 0.8:
            _, login, _, _ = AUTHORS[post.author]
            owners.add(post.author)
            author = ("      <name>%s</name>\n      <email>%s</email>\n      <isAnonymous>false</isAnonymous>\n"
                      "      <username>%s</username>\n" % (esc(_display(post.author)), _author_email(login),
                                                          login.replace(".", "_")))
        else:
            name, email, _ = _reader(rng, regulars)
            author = "      <name>%s</name>\n      <email>%s</email>\n      <isAnonymous>true</isAnonymous>\n" % (
                esc(name), esc(email))
        message = "    <message />\n" if rng.random() < 0.7 else "    <message>%s</message>\n" % cdata(
            "<p>%s</p>" % esc(post.title))
        out.write('  <thread dsq:id="%d">\n    %s\n    <forum>%s</forum>\n    <category dsq:id="%d" />\n'
                  "    <link>%s</link>\n    <title>%s</title>\n%s    <createdAt>%s</createdAt>\n"
                  "    <author>\n%s    </author>\n    <ipAddress>%s</ipAddress>\n    <isClosed>%s</isClosed>\n"
                  "    <isDeleted>false</isDeleted>\n  </thread>\n"
                  % (thread_id, _dsq_id(identifier), esc(forum), category, esc(link), esc(post.title), message,
                     _iso(created), author, _ip(rng), "true" if post.comment_status == "closed" else "false"))
    counts.posts = len(threads)
    counts.authors = len(owners)
    post_id = 4000000000 + rng.randint(0, 10**6)
    for tid, post in threads:
        n = allocation.get(post.id, 0)
        if not n:
            continue
        thread, early = _thread(rng, n, post.gmt + 600, DSQ_STATUSES, staff=True)
        counts.comments_before_parent += early
        for c in thread:
            post_id += rng.randint(1, 40)
            c.id = post_id
        _, login, first, _ = AUTHORS[post.author]
        whos = []
        for c in thread:
            if c.staff:
                who = (_display(post.author), _author_email(login), login.replace(".", "_"), False)
            else:
                name, email, _ = _reader(rng, regulars)
                if rng.random() < 0.4:
                    who = (name, email, "", True)  # a guest: no username
                elif rng.random() < 0.7:
                    who = (name, email, (slugify(name).replace("-", "") or "gast") + str(rng.randint(1, 999)), False)
                else:
                    who = (name, email, "disqus_" + "".join(rng.choice(_DSQ_CHARS) for _ in range(10)), False)
            c.name = who[0]
            whos.append(who)
        for c, (name, email, username, anonymous) in zip(thread, whos, strict=True):
            text = _comment_text(rng, pick, c, first or "Ihr Kundenservice-Team", html=True)
            wp_id = "wp_id=%d" % rng.randint(1, 90000) if rng.random() < 0.1 else ""
            out.write('  <post dsq:id="%d">\n    %s\n    <message>%s</message>\n'
                      "    <createdAt>%s</createdAt>\n    <isDeleted>%s</isDeleted>\n    <isSpam>%s</isSpam>\n"
                      "    <author>\n      <email>%s</email>\n      <name>%s</name>\n"
                      "      <isAnonymous>%s</isAnonymous>\n%s    </author>\n    <ipAddress>%s</ipAddress>\n"
                      '    <thread dsq:id="%d" />\n%s  </post>\n'
                      % (c.id, _dsq_id(wp_id), cdata(text), _iso(c.ts), str(c.status == "deleted").lower(),
                         str(c.status == "spam").lower(), esc(email), esc(name), str(anonymous).lower(),
                         "      <username>%s</username>\n" % esc(username) if username else "", _ip(rng), tid,
                         '    <parent dsq:id="%d" />\n' % c.up.id if c.up else ""))
            counts.comments_by_status[c.status] += 1
            counts.max_depth = max(counts.max_depth, c.depth)
    out.write("</disqus>\n")
    return counts


# --- CLI -----------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="file to write ('-' for stdout)")
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--comments", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--site", default="https://alt.example.de")
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--wxr-version", default="1.2")
    parser.add_argument("--no-pingbacks", action="store_true")
    parser.add_argument("--disqus", action="store_true", help="a Disqus export instead of WXR")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
    try:
        if args.disqus:
            counts = write_disqus(out, posts=args.posts, comments=args.comments, seed=args.seed, site=args.site)
        else:
            counts = write_wxr(out, posts=args.posts, comments=args.comments, seed=args.seed, site=args.site,
                               version=args.wxr_version, pages=args.pages, with_pingbacks=not args.no_pingbacks)
    finally:
        if out is not sys.stdout:
            out.close()
    seconds = time.perf_counter() - started
    print(json.dumps(asdict(counts), indent=2), file=sys.stdout if args.out != "-" else sys.stderr)
    size = "" if args.out == "-" else ", %.1f MB" % (os.path.getsize(args.out) / 1e6)
    print("written in %.2f s%s" % (seconds, size), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
