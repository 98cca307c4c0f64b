"""Country names as exports write them ("United States", "Россия", "España") → ISO codes.

Contact exports (vCards from phones, Outlook, Google) carry country names, while the CRM
stores the two-letter code. The names of the countries our customers most often have
in their address books, in our four languages; anything else must be given as a code.
"""

from __future__ import annotations

import re

_NAMES = {
    "US": "united states|united states of america|usa|u.s.a.|u.s.|america|estados unidos|сша|"
    "соединенные штаты|الولايات المتحدة",
    "GB": "united kingdom|uk|great britain|england|scotland|wales|reino unido|великобритания|англия|المملكة المتحدة",
    "RU": "russia|russian federation|россия|российская федерация|рф|rusia|روسيا",
    "UA": "ukraine|украина|україна|ucrania|أوكرانيا",
    "BY": "belarus|беларусь|белоруссия|bielorrusia",
    "KZ": "kazakhstan|казахстан|kazajistán|kazajstán",
    "UZ": "uzbekistan|узбекистан|uzbekistán",
    "ES": "spain|españa|espana|испания|إسبانيا",
    "MX": "mexico|méxico|мексика|المكسيك",
    "AR": "argentina|аргентина|الأرجنتين",
    "CO": "colombia|колумбия",
    "CL": "chile|чили",
    "PE": "peru|perú|перу",
    "BR": "brazil|brasil|бразилия|البرازيل",
    "DE": "germany|deutschland|alemania|германия|ألمانيا",
    "FR": "france|francia|франция|فرنسا",
    "IT": "italy|italia|италия|إيطاليا",
    "PT": "portugal|португалия|البرتغال",
    "NL": "netherlands|the netherlands|holland|países bajos|нидерланды|هولندا",
    "BE": "belgium|bélgica|бельгия",
    "CH": "switzerland|suiza|швейцария|سويسرا",
    "AT": "austria|австрия",
    "PL": "poland|polonia|польша|بولندا",
    "CZ": "czech republic|czechia|chequia|чехия",
    "SE": "sweden|suecia|швеция",
    "NO": "norway|noruega|норвегия",
    "FI": "finland|finlandia|финляндия",
    "DK": "denmark|dinamarca|дания",
    "IE": "ireland|irlanda|ирландия",
    "TR": "turkey|türkiye|turquía|турция|تركيا",
    "IL": "israel|израиль",
    "AE": "united arab emirates|uae|emirates|emiratos árabes unidos|оаэ|объединенные арабские эмираты|"
    "الإمارات|الإمارات العربية المتحدة",
    "SA": "saudi arabia|arabia saudita|саудовская аравия|السعودية|المملكة العربية السعودية",
    "QA": "qatar|катар|قطر",
    "KW": "kuwait|кувейт|الكويت",
    "BH": "bahrain|бахрейн|البحرين",
    "OM": "oman|оман|عمان",
    "EG": "egypt|egipto|египет|مصر",
    "MA": "morocco|marruecos|марокко|المغرب",
    "JO": "jordan|jordania|иордания|الأردن",
    "LB": "lebanon|líbano|ливан|لبنان",
    "IN": "india|индия|الهند",
    "CN": "china|китай|الصين",
    "JP": "japan|japón|япония|اليابان",
    "KR": "south korea|korea|corea del sur|южная корея|كوريا الجنوبية",
    "CA": "canada|canadá|канада|كندا",
    "AU": "australia|австралия|أستراليا",
    "GE": "georgia|грузия",
    "AM": "armenia|армения",
    "AZ": "azerbaijan|азербайджан",
}
_BY_NAME = {name: code for code, names in _NAMES.items() for name in names.split("|")}


def country_code(text: str) -> str | None:
    """The ISO 3166 code for a code or a known name; None when it is neither."""
    value = " ".join((text or "").split())
    if len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    return _BY_NAME.get(re.sub(r"\s+", " ", value.casefold()))
