# ruff: noqa: RUF001 - Cyrillic and Arabic letters are the point of these name lists
"""Plausible people, companies, phones, web traffic and sales talk for demo data.

Small hand-made lists instead of Faker (a test-only dependency whose output changes
between versions): the demo must look the same on every machine for a given seed.
Names come from four cultures the product is sold in (English, Russian, Spanish,
Arabic), each with a Latin spelling for email addresses. Phones are valid mobile or
geographic numbers in E.164, unique per index, so a million contacts never share one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (native, latin) pairs; male first names, female first names, family names.
NAMES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "en": {
        "male": [
            ("James", "james"),
            ("John", "john"),
            ("Robert", "robert"),
            ("Michael", "michael"),
            ("William", "william"),
            ("David", "david"),
            ("Richard", "richard"),
            ("Thomas", "thomas"),
            ("Daniel", "daniel"),
            ("Matthew", "matthew"),
            ("Andrew", "andrew"),
            ("Joshua", "joshua"),
            ("Oliver", "oliver"),
            ("Harry", "harry"),
            ("George", "george"),
            ("Ethan", "ethan"),
            ("Samuel", "samuel"),
            ("Benjamin", "benjamin"),
            ("Henry", "henry"),
            ("Jack", "jack"),
        ],
        "female": [
            ("Mary", "mary"),
            ("Patricia", "patricia"),
            ("Jennifer", "jennifer"),
            ("Linda", "linda"),
            ("Elizabeth", "elizabeth"),
            ("Susan", "susan"),
            ("Jessica", "jessica"),
            ("Sarah", "sarah"),
            ("Karen", "karen"),
            ("Emily", "emily"),
            ("Olivia", "olivia"),
            ("Amelia", "amelia"),
            ("Charlotte", "charlotte"),
            ("Sophie", "sophie"),
            ("Grace", "grace"),
            ("Hannah", "hannah"),
            ("Chloe", "chloe"),
            ("Lucy", "lucy"),
            ("Megan", "megan"),
            ("Rachel", "rachel"),
        ],
        "last": [
            ("Smith", "smith"),
            ("Johnson", "johnson"),
            ("Williams", "williams"),
            ("Brown", "brown"),
            ("Jones", "jones"),
            ("Miller", "miller"),
            ("Davis", "davis"),
            ("Wilson", "wilson"),
            ("Taylor", "taylor"),
            ("Anderson", "anderson"),
            ("Thomas", "thomas"),
            ("Moore", "moore"),
            ("Martin", "martin"),
            ("Thompson", "thompson"),
            ("White", "white"),
            ("Clark", "clark"),
            ("Lewis", "lewis"),
            ("Walker", "walker"),
            ("Hall", "hall"),
            ("Young", "young"),
            ("King", "king"),
            ("Wright", "wright"),
            ("Scott", "scott"),
            ("Green", "green"),
            ("Baker", "baker"),
            ("Adams", "adams"),
            ("Nelson", "nelson"),
            ("Hill", "hill"),
            ("Campbell", "campbell"),
            ("Mitchell", "mitchell"),
            ("Roberts", "roberts"),
            ("Carter", "carter"),
        ],
    },
    "ru": {
        "male": [
            ("Александр", "alexander"),
            ("Дмитрий", "dmitry"),
            ("Максим", "maxim"),
            ("Сергей", "sergey"),
            ("Андрей", "andrey"),
            ("Алексей", "alexey"),
            ("Иван", "ivan"),
            ("Михаил", "mikhail"),
            ("Николай", "nikolay"),
            ("Егор", "egor"),
            ("Павел", "pavel"),
            ("Роман", "roman"),
            ("Владимир", "vladimir"),
            ("Артём", "artem"),
            ("Олег", "oleg"),
            ("Кирилл", "kirill"),
        ],
        "female": [
            ("Анна", "anna"),
            ("Мария", "maria"),
            ("Елена", "elena"),
            ("Ольга", "olga"),
            ("Наталья", "natalya"),
            ("Татьяна", "tatyana"),
            ("Ирина", "irina"),
            ("Екатерина", "ekaterina"),
            ("Светлана", "svetlana"),
            ("Юлия", "yulia"),
            ("Дарья", "darya"),
            ("Ксения", "ksenia"),
            ("Полина", "polina"),
            ("Виктория", "viktoria"),
            ("Алина", "alina"),
            ("Вера", "vera"),
        ],
        # Male forms; female forms are made by `_russian_female` (Иванов → Иванова).
        "last": [
            ("Иванов", "ivanov"),
            ("Смирнов", "smirnov"),
            ("Кузнецов", "kuznetsov"),
            ("Попов", "popov"),
            ("Васильев", "vasiliev"),
            ("Петров", "petrov"),
            ("Соколов", "sokolov"),
            ("Михайлов", "mikhailov"),
            ("Новиков", "novikov"),
            ("Фёдоров", "fedorov"),
            ("Морозов", "morozov"),
            ("Волков", "volkov"),
            ("Алексеев", "alekseev"),
            ("Лебедев", "lebedev"),
            ("Семёнов", "semenov"),
            ("Егоров", "egorov"),
            ("Павлов", "pavlov"),
            ("Козлов", "kozlov"),
            ("Степанов", "stepanov"),
            ("Николаев", "nikolaev"),
            ("Орлов", "orlov"),
            ("Андреев", "andreev"),
            ("Макаров", "makarov"),
            ("Никитин", "nikitin"),
            ("Захаров", "zakharov"),
            ("Зайцев", "zaitsev"),
            ("Соловьёв", "soloviev"),
            ("Борисов", "borisov"),
            ("Белоусов", "belousov"),
            ("Ковалевский", "kovalevsky"),
            ("Вишневский", "vishnevsky"),
            ("Голубев", "golubev"),
        ],
    },
    "es": {
        "male": [
            ("Carlos", "carlos"),
            ("José", "jose"),
            ("Antonio", "antonio"),
            ("Manuel", "manuel"),
            ("Francisco", "francisco"),
            ("Javier", "javier"),
            ("Miguel", "miguel"),
            ("Alejandro", "alejandro"),
            ("Pablo", "pablo"),
            ("Diego", "diego"),
            ("Sergio", "sergio"),
            ("Jorge", "jorge"),
            ("Luis", "luis"),
            ("Fernando", "fernando"),
            ("Raúl", "raul"),
            ("Andrés", "andres"),
        ],
        "female": [
            ("María", "maria"),
            ("Carmen", "carmen"),
            ("Ana", "ana"),
            ("Lucía", "lucia"),
            ("Laura", "laura"),
            ("Marta", "marta"),
            ("Sofía", "sofia"),
            ("Elena", "elena"),
            ("Isabel", "isabel"),
            ("Paula", "paula"),
            ("Cristina", "cristina"),
            ("Sara", "sara"),
            ("Valentina", "valentina"),
            ("Camila", "camila"),
            ("Gabriela", "gabriela"),
            ("Daniela", "daniela"),
        ],
        "last": [
            ("García", "garcia"),
            ("Fernández", "fernandez"),
            ("González", "gonzalez"),
            ("Rodríguez", "rodriguez"),
            ("López", "lopez"),
            ("Martínez", "martinez"),
            ("Sánchez", "sanchez"),
            ("Pérez", "perez"),
            ("Gómez", "gomez"),
            ("Martín", "martin"),
            ("Jiménez", "jimenez"),
            ("Ruiz", "ruiz"),
            ("Hernández", "hernandez"),
            ("Díaz", "diaz"),
            ("Moreno", "moreno"),
            ("Álvarez", "alvarez"),
            ("Romero", "romero"),
            ("Navarro", "navarro"),
            ("Torres", "torres"),
            ("Domínguez", "dominguez"),
            ("Vázquez", "vazquez"),
            ("Ramos", "ramos"),
            ("Gil", "gil"),
            ("Serrano", "serrano"),
            ("Molina", "molina"),
            ("Ortega", "ortega"),
            ("Castro", "castro"),
            ("Rubio", "rubio"),
        ],
    },
    "ar": {
        "male": [
            ("محمد", "mohammed"),
            ("أحمد", "ahmed"),
            ("علي", "ali"),
            ("عمر", "omar"),
            ("خالد", "khaled"),
            ("يوسف", "youssef"),
            ("حسن", "hassan"),
            ("إبراهيم", "ibrahim"),
            ("سعيد", "saeed"),
            ("طارق", "tariq"),
            ("كريم", "karim"),
            ("فيصل", "faisal"),
            ("ماجد", "majed"),
            ("سامي", "sami"),
            ("زياد", "ziad"),
            ("رامي", "rami"),
        ],
        "female": [
            ("فاطمة", "fatima"),
            ("عائشة", "aisha"),
            ("مريم", "maryam"),
            ("ليلى", "layla"),
            ("نور", "nour"),
            ("سارة", "sara"),
            ("هدى", "huda"),
            ("رنا", "rana"),
            ("ياسمين", "yasmin"),
            ("سلمى", "salma"),
            ("دينا", "dina"),
            ("ريم", "reem"),
            ("لينا", "lina"),
            ("منى", "mona"),
            ("هالة", "hala"),
            ("جميلة", "jamila"),
        ],
        "last": [
            ("الحسيني", "alhusseini"),
            ("المنصوري", "almansouri"),
            ("الشامسي", "alshamsi"),
            ("حداد", "haddad"),
            ("خوري", "khoury"),
            ("النعيمي", "alnuaimi"),
            ("الكعبي", "alkaabi"),
            ("عبد الله", "abdullah"),
            ("سليمان", "suleiman"),
            ("نصر", "nasr"),
            ("الهاشمي", "alhashimi"),
            ("الزعبي", "alzoubi"),
            ("عيسى", "issa"),
            ("صالح", "saleh"),
            ("يوسف", "youssef"),
            ("العلي", "alali"),
            ("القاسمي", "alqasimi"),
            ("البلوشي", "albalushi"),
            ("فارس", "fares"),
            ("عطية", "attia"),
        ],
    },
}
# How often each culture appears: an international client base with a Russian-speaking core.
CULTURE_WEIGHTS = (("en", 35), ("ru", 30), ("es", 20), ("ar", 15))
CULTURE_COUNTRY = {"en": "US", "ru": "RU", "es": "ES", "ar": "AE"}
CULTURE_CITIES = {
    "en": ["New York", "Boston", "Chicago", "San Francisco", "Seattle", "Austin", "Denver", "Miami"],
    "ru": ["Москва", "Санкт-Петербург", "Казань", "Екатеринбург", "Новосибирск", "Нижний Новгород"],
    "es": ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Málaga", "Zaragoza"],
    "ar": ["Dubai", "Abu Dhabi", "Sharjah", "Ajman", "Al Ain"],
}

US_AREA_CODES = ("212", "415", "646", "312", "617", "206", "305", "512", "303", "404", "213", "702")
# Multipliers coprime with the number ranges below, so index → number is one-to-one.
_SPREAD = 104_729
# Shifts index 0 away from round numbers like +1 212 200-0000.
_SHIFT = 7_654_321


def _russian_female(last: tuple[str, str]) -> tuple[str, str]:
    native, latin = last
    if native.endswith("ский"):
        return native[:-2] + "ая", latin[:-1] + "aya"
    if native.endswith(("ов", "ев", "ёв", "ин")):
        return native + "а", latin + "a"
    return last


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    culture: str
    # Latin spelling for email addresses.
    first_latin: str
    last_latin: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Culture:
    """Picks cultures by weight with one random number."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        for code, weight in CULTURE_WEIGHTS:
            self.codes.extend([code] * weight)

    def pick(self, rng: random.Random) -> str:
        return self.codes[int(rng.random() * len(self.codes))]


CULTURES = Culture()


def person(rng: random.Random, culture: str | None = None) -> Person:
    culture = culture or CULTURES.pick(rng)
    names = NAMES[culture]
    female = rng.random() < 0.5
    first = rng.choice(names["female" if female else "male"])
    last = rng.choice(names["last"])
    if female and culture == "ru":
        last = _russian_female(last)
    return Person(first[0], last[0], culture, first[1], last[1])


def phone(index: int, culture: str) -> str:
    """A valid E.164 number of the culture's country, distinct for every index < 5,000,000."""
    spread = index * _SPREAD + _SHIFT
    if culture == "ru":
        return f"+79{spread % 1_000_000_000:09d}"
    if culture == "es":
        return f"+346{spread % 100_000_000:08d}"
    if culture == "ar":
        prefix = "024568"[index % 6]
        return f"+9715{prefix}{(index // 6 * _SPREAD + _SHIFT) % 10_000_000:07d}"
    area = US_AREA_CODES[index % len(US_AREA_CODES)]
    rest = (index // len(US_AREA_CODES) * _SPREAD + _SHIFT) % 8_000_000
    return f"+1{area}{200 + rest // 10_000:03d}{rest % 10_000:04d}"


# --- companies ---------------------------------------------------------------------------

COMPANY_WORDS = {
    "en": (
        [
            "Northwind",
            "Bluebird",
            "Summit",
            "Riverside",
            "Evergreen",
            "Keystone",
            "Brightline",
            "Harbor",
            "Pinnacle",
            "Redwood",
            "Silverline",
            "Oakridge",
            "Crestview",
            "Ironbridge",
            "Lakeshore",
            "Granite",
        ],
        [
            "Logistics",
            "Dental",
            "Analytics",
            "Builders",
            "Consulting",
            "Foods",
            "Legal",
            "Media",
            "Energy",
            "Clinics",
            "Realty",
            "Software",
            "Design",
            "Motors",
            "Travel",
            "Print",
        ],
        ["Inc.", "LLC", "Ltd", "Group", "Co."],
    ),
    "ru": (
        [
            "Вектор",
            "Альфа",
            "Гранит",
            "Север",
            "Меридиан",
            "Орион",
            "Пульс",
            "Сфера",
            "Квант",
            "Восток",
            "Радуга",
            "Атлант",
            "Феникс",
            "Эталон",
            "Импульс",
            "Спектр",
        ],
        ["Логистик", "Строй", "Медиа", "Трейд", "Софт", "Консалт", "Мед", "Пром", "Сервис", "Групп"],
        ["ООО", "АО", "ИП"],
    ),
    "es": (
        [
            "Solano",
            "Iberia",
            "Mediterránea",
            "Aurora",
            "Altamira",
            "Costa",
            "Sierra",
            "Valle",
            "Horizonte",
            "Atlántica",
            "Castilla",
            "Levante",
            "Girasol",
            "Miramar",
        ],
        [
            "Logística",
            "Construcciones",
            "Consultores",
            "Alimentación",
            "Diseño",
            "Clínicas",
            "Inmobiliaria",
            "Tecnología",
            "Viajes",
            "Energía",
        ],
        ["S.L.", "S.A.", "Grupo"],
    ),
    "ar": (
        [
            "Al Noor",
            "Al Safa",
            "Emirates",
            "Gulf",
            "Desert Rose",
            "Falcon",
            "Oasis",
            "Al Baraka",
            "Crescent",
            "Pearl",
            "Al Majid",
            "Sahara",
        ],
        [
            "Trading",
            "Contracting",
            "Real Estate",
            "Logistics",
            "Hospitality",
            "Technologies",
            "Medical",
            "Investments",
            "Foodstuff",
            "Engineering",
        ],
        ["LLC", "FZE", "FZ-LLC", "Group"],
    ),
}
INDUSTRIES = [
    "Logistics",
    "Healthcare",
    "Construction",
    "Retail",
    "Software",
    "Consulting",
    "Real estate",
    "Manufacturing",
    "Hospitality",
    "Education",
    "Legal services",
    "Marketing",
]
DOMAIN_ENDINGS = {"en": ".com", "ru": ".ru", "es": ".es", "ar": ".ae"}
_TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "sch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "á": "a",
        "é": "e",
        "í": "i",
        "ó": "o",
        "ú": "u",
        "ñ": "n",
    }
)


@dataclass(frozen=True)
class CompanyName:
    name: str
    domain: str
    culture: str


def company(rng: random.Random, index: int, *, unique: bool = True) -> CompanyName:
    """A company name and web domain; `unique` numbers the domain so none repeats."""
    culture = CULTURES.pick(rng)
    first, second, forms = COMPANY_WORDS[culture]
    word, kind, form = rng.choice(first), rng.choice(second), rng.choice(forms)
    if culture == "ru":
        name = f"{form} «{word}{kind}»" if form != "ИП" else f"ИП «{word}»"
        slug = f"{word}{kind}".lower().translate(_TRANSLIT)
    else:
        name = f"{word} {kind} {form}"
        slug = f"{word}{kind}".lower().translate(_TRANSLIT).replace(" ", "").replace("-", "")
    number = str(index) if unique else ""
    return CompanyName(name=name, domain=f"{slug}{number}{DOMAIN_ENDINGS[culture]}", culture=culture)


JOB_TITLES = [
    "CEO",
    "Founder",
    "Sales Director",
    "Head of Marketing",
    "Procurement Manager",
    "Office Manager",
    "CFO",
    "Operations Manager",
    "IT Director",
    "Commercial Director",
    "Project Manager",
    "Owner",
]

# --- web traffic (seed 001: which engines, campaigns and keywords bring paying clients) ------


@dataclass(frozen=True)
class Traffic:
    channel: str
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    search_engine: str = ""
    source_url: str = ""
    referrer: str = ""

    def as_fields(self) -> dict[str, str]:
        return {
            "channel": self.channel,
            "utm_source": self.utm_source,
            "utm_medium": self.utm_medium,
            "utm_campaign": self.utm_campaign,
            "utm_term": self.utm_term,
            "utm_content": self.utm_content,
            "search_engine": self.search_engine,
            "source_url": self.source_url,
            "referrer": self.referrer,
        }


KEYWORDS = {
    "google": [
        "crm consulting",
        "business consultant",
        "crm implementation services",
        "sales process audit",
        "consultoría crm",
        "crm for service business",
        "generalist business consultant",
    ],
    "yandex": [
        "бизнес консультант",
        "внедрение crm",
        "консультирование по crm",
        "услуги бизнес-консультанта",
        "бизнес консультант дженералист",
        "настройка воронки продаж",
    ],
}
LANDING_PAGES = [
    "https://www.example-services.com/",
    "https://www.example-services.com/crm-consulting",
    "https://www.example-services.com/audit",
    "https://www.example-services.com/pricing",
]
# (weight, kind): where leads come from.
TRAFFIC_MIX = [
    (30, "google"),
    (22, "yandex"),
    (14, "newsletter"),
    (12, "referral"),
    (8, "organic"),
    (6, "social"),
    (5, "event"),
    (3, "phone"),
]
_TRAFFIC_KINDS = [kind for weight, kind in TRAFFIC_MIX for _ in range(weight)]


def traffic(rng: random.Random) -> Traffic:
    kind = _TRAFFIC_KINDS[int(rng.random() * len(_TRAFFIC_KINDS))]
    landing = rng.choice(LANDING_PAGES)
    if kind in ("google", "yandex"):
        term = rng.choice(KEYWORDS[kind])
        campaign = rng.choice(["brand", "consulting-2026", "crm-services", "retargeting"])
        referrer = "https://www.google.com/" if kind == "google" else "https://yandex.ru/"
        return Traffic(
            channel="web_form",
            utm_source=kind,
            utm_medium="cpc",
            utm_campaign=campaign,
            utm_term=term,
            utm_content=rng.choice(["ad-a", "ad-b", "ad-c"]),
            search_engine=kind,
            source_url=f"{landing}?utm_source={kind}&utm_medium=cpc&utm_campaign={campaign}",
            referrer=referrer,
        )
    if kind == "newsletter":
        issue = rng.choice(["march-digest", "case-study", "webinar-invite", "spring-offer"])
        return Traffic(
            channel="web_form",
            utm_source="newsletter",
            utm_medium="email",
            utm_campaign=issue,
            source_url=f"{landing}?utm_source=newsletter&utm_medium=email&utm_campaign={issue}",
        )
    if kind == "referral":
        site = rng.choice(["partner-agency.com", "clutch.co", "vc.ru", "habr.com"])
        return Traffic(channel="referral", utm_source=site, utm_medium="referral", referrer=f"https://{site}/")
    if kind == "organic":
        engine = rng.choice(["google", "yandex", "bing"])
        referrer = {
            "google": "https://www.google.com/",
            "yandex": "https://yandex.ru/",
            "bing": "https://www.bing.com/",
        }
        return Traffic(channel="web_form", search_engine=engine, source_url=landing, referrer=referrer[engine])
    if kind == "social":
        network = rng.choice(["facebook", "linkedin", "vk"])
        return Traffic(
            channel="web_form",
            utm_source=network,
            utm_medium="social",
            utm_campaign="always-on",
            source_url=f"{landing}?utm_source={network}&utm_medium=social",
        )
    if kind == "event":
        return Traffic(channel="event", utm_campaign=rng.choice(["expo-2026", "crm-meetup", "webinar"]))
    return Traffic(channel="phone")


# --- sales talk -------------------------------------------------------------------------

SERVICES = [
    "CRM implementation",
    "Sales process audit",
    "Business process consulting",
    "Website redesign",
    "SEO campaign",
    "Sales team training",
    "Telephony integration",
    "Marketing strategy",
    "Lead generation setup",
    "Support retainer",
]
LOST_REASONS = [
    "Too expensive",
    "Chose a competitor",
    "No budget this year",
    "Project postponed",
    "No response after proposal",
    "Did it in-house",
]
DISQUALIFY_REASONS = ["Spam", "Wrong contact details", "Not our service", "Student project"]
LEAD_MESSAGES = [
    "Please call me back about CRM setup.",
    "We need help with our sales process.",
    "How much does an audit cost?",
    "Interested in a consultation next week.",
    "Нужна консультация по внедрению CRM.",
    "Перезвоните, пожалуйста, после 15:00.",
    "Necesitamos una propuesta para nuestro equipo de ventas.",
    "نرغب في استشارة حول نظام إدارة العملاء",
    "",
]
CALL_SUBJECTS = ["Discovery call", "Follow-up call", "Clarifying requirements", "Call about the proposal"]
CALL_OUTCOMES = ["Interested", "No answer", "Asked for a proposal", "Call back later", "Agreed to meet"]
EMAIL_SUBJECTS = ["Proposal", "Re: pricing", "Meeting notes", "Contract draft", "Questions about the scope"]
MEETING_SUBJECTS = ["On-site meeting", "Video call with the team", "Proposal presentation", "Kick-off meeting"]
NOTES = [
    "Prefers messengers to email.",
    "Decision maker is the CFO.",
    "Budget approved for next quarter.",
    "Compared us with two other agencies.",
    "Wants the work done before the season starts.",
    "Asked for references from the same industry.",
]
TASK_TITLES = [
    "Call {name}",
    "Send the proposal to {name}",
    "Prepare the contract for {name}",
    "Follow up with {name}",
    "Book a meeting with {name}",
    "Collect feedback from {name}",
]
PRODUCTS = [
    ("CONS-HOUR", "Consulting hour", "hour", "120.00", "20.00"),
    ("AUDIT-SALES", "Sales process audit", "service", "2400.00", "20.00"),
    ("CRM-SETUP", "CRM implementation package", "service", "5800.00", "20.00"),
    ("CRM-SEAT", "CRM licence (per user, monthly)", "month", "35.00", "20.00"),
    ("TRAIN-DAY", "Sales team training day", "day", "1500.00", "20.00"),
    ("TEL-INT", "Telephony integration", "service", "900.00", "20.00"),
    ("SUPPORT-M", "Support retainer (monthly)", "month", "450.00", "20.00"),
    ("SEO-MONTH", "SEO campaign (monthly)", "month", "1200.00", "0.00"),
]
