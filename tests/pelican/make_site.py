"""A small Pelican site for the plugin's tests: two lesson articles (one in a
nested folder, one with a dialogue), a page with a block and one without,
and tags the plugin must leave alone. Usage: make_site.py DIR WORDBANK_BIN [NAME=VALUE...]
(extra pelicanconf.py settings, values as Python literals)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ARTICLES = {
    "lessons/deep/animals.md": """Title: Animals
Date: 2024-01-01
Category: lessons
Slug: animals

Some *intro* text with <phrasebank>keep me</phrasebank>.

<wordbank>
- 猫: cat (animal)
- 犬: dog (animal)
</wordbank>

<dialogue_practice>
untouched practice
</dialogue_practice>

<dialogue>
田中: こんにちは
Smith: こんばんは
</dialogue>

Closing paragraph, see [the town]({filename}/town.md).
""",
    "town.md": """Title: Town
Date: 2024-01-02
Category: town
Slug: town

<wordbank>
- 駅: station (train)
- 猫: cat (animal)
</wordbank>
""",
}
PAGES = {"pages/about.md": "Title: About\n\nNo cards here, only <phrasebank>a tag</phrasebank>.\n",
         "pages/words.md": "Title: Words\n\n<wordbank>\n- 猫: cat (animal)\n</wordbank>\n"}


def write_site(d, wb, extra):
    for name, text in list(ARTICLES.items()) + list(PAGES.items()):
        p = os.path.join(d, "content", name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.exists(p):
            continue  # kept as it is (and its mtime, for Pelican's cache)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
    conf = {
        "PATH": "'content'",
        "SITEURL": "''",
        "RELATIVE_URLS": "True",
        "TIMEZONE": "'UTC'",
        "THEME": "'simple'",
        "ARTICLE_URL": "'{category}/{slug}/'",
        "ARTICLE_SAVE_AS": "'{category}/{slug}/index.html'",
        "FEED_ALL_ATOM": "None",
        "CATEGORY_FEED_ATOM": "None",
        "SUMMARY_MAX_LENGTH": "1000",
        "PLUGIN_PATHS": repr([os.path.join(ROOT, "integrations", "pelican")]),
        "PLUGINS": "['wordbank_flashcards']",
        "WORDBANK_COMMAND": repr(wb),
        "WORDBANK_DB": "'data/bank/wb.db'",
        "WORDBANK_ARGS": "['--progress', 'never']",
    }
    for kv in extra:
        k, v = kv.split("=", 1)
        conf[k] = v
    with open(os.path.join(d, "pelicanconf.py"), "w", encoding="utf-8") as f:
        for k, v in conf.items():
            f.write(f"{k} = {v}\n")


if __name__ == "__main__":
    write_site(sys.argv[1], sys.argv[2], sys.argv[3:])
