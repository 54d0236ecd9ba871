#!/usr/bin/env python3
"""The Pelican plugin (integrations/pelican/wordbank_flashcards) building a
small site with Debian's pelican against the loopback Gemini fake: the cards
of every article, media and CSS/JS inside the output folder and linked
relative to nested pages (or under SITEURL), ONE wordbank call and one
generation for the whole site, GENERATE_CONTENT = False (and no key) sending
zero requests while still finding pictures and the dialogue clip, Pelican's
content cache, and every other tag and text as Pelican alone makes them.
Prints TAP."""
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.environ["WB_SOURCE_ROOT"]
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, os.path.join(ROOT, "tests", "pelican"))
import make_site  # noqa: E402
import wbtest as T  # noqa: E402
from wbtest import WB, Fake, check  # noqa: E402

PELICAN = shutil.which("pelican", path="/usr/bin:" + os.environ.get("PATH", ""))


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v and ("media/" in v or "wordbank-assets/" in v):
                self.urls.append(v)


def links(path):
    p = Links()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p.urls


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def wait_for(cond):
    """Polls a condition of a build that runs by itself (--autoreload)."""
    return T.wait_for(cond, timeout=90, every=0.5)


def pelican(site, out, env):
    return subprocess.run([PELICAN, "content", "-s", "pelicanconf.py", "-o", out], cwd=site,
                          env=env, capture_output=True, text=True, timeout=240)


def main():
    if not PELICAN:
        print("1..0 # SKIP Debian's pelican is not installed (scripts/deps.sh --test)")
        return
    tmp = tempfile.mkdtemp(prefix="wb-pelican-")
    fake = Fake()
    try:
        run_all(tmp, fake)
    finally:
        fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    T.finish(30)


def run_all(tmp, fake):
    site = os.path.join(tmp, "site")
    calls = os.path.join(tmp, "calls.log")
    wrapper = os.path.join(tmp, "wordbank-counted")
    with open(wrapper, "w") as f:  # counts the plugin's calls of the command
        f.write(f'#!/bin/sh\necho "$*" >> {calls}\nexec {WB} "$@"\n')
    os.chmod(wrapper, 0o755)
    make_site.write_site(site, wrapper, [])
    env = T.env(tmp, GEMINI_BASE_URL=fake.url)

    # 1. The site with the plugin, generating against the fake.
    r = pelican(site, "output", env)
    out = os.path.join(site, "output")
    check("pelican builds the site with the plugin", r.returncode == 0, r.stdout + r.stderr)
    n_calls = len(read(calls).splitlines()) if os.path.exists(calls) else 0
    check("one wordbank call for the whole site", n_calls == 1, read(calls) if n_calls else "none")
    req = fake.requests_per_model()
    text = req.get("gemini-3.8-flash", 0)
    tts = req.get("gemini-3.8-flash-tts", 0)
    img = req.get("gemini-3.1-flash-image", 0)
    # Three distinct entries (猫 is in both articles) and one dialogue.
    check("one generation: each entry's stages asked once, the shared word once",
          (text, img, tts) == (3, 3, 4), str(req))
    check("--db creates its folder", os.path.exists(os.path.join(site, "data/bank/wb.db")))

    animals = os.path.join(out, "lessons/animals/index.html")
    town = os.path.join(out, "town/town/index.html")
    pages = {"animals": animals, "town": town}
    for name, p in pages.items():
        ok = os.path.exists(p)
        body = read(p) if ok else ""
        check(f"the {name} article has its two cards with pictures and audio",
              body.count('class="wb-card"') == 2 and body.count('class="wb-pic"') == 2 and
              body.count('class="wb-audio"') == 2, body[:2000])
    words = os.path.join(out, "pages/words.html")
    w = read(words) if os.path.exists(words) else ""
    check("a page (not an article) gets its card too", w.count('class="wb-card"') == 1 and
          'src="../media/' in w, w[:1500])
    a = read(animals) if os.path.exists(animals) else ""
    check("the dialogue has its clip", 'class="wb-dialogue-audio"' in a and "media/dialogue-" in a)
    bad = []
    for p in [animals, town, words, os.path.join(out, "index.html")]:
        for u in links(p):
            target = os.path.normpath(os.path.join(os.path.dirname(p), u))
            if u.startswith(("/", "http:", "https:", "file:")) or \
                    not target.startswith(out + "/") or not os.path.isfile(target):
                bad.append(f"{os.path.relpath(p, out)}: {u}")
    check("every media and asset link is relative and resolves inside the output", not bad,
          "\n".join(bad))
    check("the nested article links two folders up", "../../media/" in a and
          "../../wordbank-assets/wordbank.css" in a)
    check("the CSS and JS are files in the output, linked not inlined",
          os.path.isfile(os.path.join(out, "wordbank-assets/wordbank.js")) and "<style>" not in a)
    media = os.listdir(os.path.join(out, "media")) if os.path.isdir(os.path.join(out, "media")) else []
    linked = {os.path.basename(u) for p in pages.values() for u in links(p) if "media/" in u}
    check("the output's media folder holds exactly the files the pages link, pictures and clips",
          media and set(media) == linked and any(m.endswith(".jpg") for m in media) and
          any(m.startswith("dialogue-") for m in media), f"{sorted(media)} vs {sorted(linked)}")
    leaks = [p for p in pages.values() if tmp in read(p)]
    check("no filesystem path in any page", not leaks, str(leaks))

    # 2. The same site without the plugin: every other tag and text is the same.
    plain = os.path.join(tmp, "plain")
    make_site.write_site(plain, wrapper, ["PLUGINS=[]"])
    r = pelican(plain, "output", env)
    pa = read(os.path.join(plain, "output/lessons/animals/index.html"))
    kept = [re.search(r"<p>Some .*?</p>", pa, re.S), re.search(r"<p><dialogue_practice>.*?</p>", pa, re.S),
            re.search(r"<p>Closing paragraph, see <a href=\"../../town/town/\">the town</a>.</p>", pa)]
    check("other tags, text and Pelican's {filename} links stay as Pelican alone makes them",
          r.returncode == 0 and all(k and k.group(0) in a for k in kept),
          "\n".join(k.group(0) if k else "?" for k in kept))
    check("a page without blocks is byte for byte the same",
          read(os.path.join(plain, "output/pages/about.html")) ==
          read(os.path.join(out, "pages/about.html")))

    # 3. GENERATE_CONTENT = False and no key: zero requests; what the word
    # bank holds still shows, the dialogue clip Gemini made included.
    before = fake.requests_per_model()
    make_site.write_site(site, wrapper, ["GENERATE_CONTENT=False"])
    nokey = dict(env, GEMINI_API_KEY="", GEMINI_BASE_URL="http://127.0.0.1:9")
    r = pelican(site, "output-nogen", nokey)
    after = fake.requests_per_model()
    ng = os.path.join(site, "output-nogen/lessons/animals/index.html")
    b = read(ng) if os.path.exists(ng) else ""
    check("GENERATE_CONTENT = False: the build works", r.returncode == 0, r.stdout + r.stderr)
    check("GENERATE_CONTENT = False sends zero requests", after == before, f"{before} -> {after}")
    check("GENERATE_CONTENT = False without a key: pictures and the Gemini dialogue clip",
          b.count('class="wb-pic"') == 2 and "media/dialogue-" in b and
          os.path.isdir(os.path.join(site, "output-nogen/media")), b[:1500])
    check("the call was --cache-only", "--cache-only" in read(calls).splitlines()[-1])

    # 4. Pelican's content cache, the output folder deleted on each build: a
    # lesson's cards follow the word bank, so a lesson cached while the bank
    # was empty shows the pictures once they exist.
    cache = [f"CACHE_PATH={repr(os.path.join(tmp, 'pcache'))}", "CACHE_CONTENT=True",
             "LOAD_CONTENT_CACHE=True", "DELETE_OUTPUT_DIRECTORY=True",
             f"WORDBANK_DB={repr(os.path.join(tmp, 'fresh/wb.db'))}"]
    make_site.write_site(site, wrapper, cache + ["GENERATE_CONTENT=False"])
    r0 = pelican(site, "output-cached", nokey)
    c = os.path.join(site, "output-cached/lessons/animals/index.html")
    c0 = read(c) if os.path.exists(c) else ""
    make_site.write_site(site, wrapper, cache)
    r1 = pelican(site, "output-cached", env)
    c1 = read(c) if os.path.exists(c) else ""
    mid = fake.requests_per_model()
    r2 = pelican(site, "output-cached", env)
    c2 = read(c) if os.path.exists(c) else ""
    check("with the content cache, cards follow the word bank (no pictures, then pictures)",
          r0.returncode == r1.returncode == 0 and c0.count('class="wb-card"') == 2 and
          'class="wb-pic"' not in c0 and c1.count('class="wb-pic"') == 2, r1.stderr[-2000:])
    check("a second cached build, output deleted, still has cards and media",
          r2.returncode == 0 and c2.count('class="wb-pic"') == 2 and links(c) and
          all(os.path.isfile(os.path.normpath(os.path.join(os.path.dirname(c), u))) for u in links(c)),
          r2.stderr[-2000:])
    check("the cached build sent no request", fake.requests_per_model() == mid, f"{mid} -> {fake.requests_per_model()}")

    # 5. --autoreload: an edited lesson is built again, with its new card.
    auto = os.path.join(tmp, "auto")
    make_site.write_site(auto, wrapper, [])
    open(calls, "w").close()
    p = subprocess.Popen([PELICAN, "--autoreload", "content", "-s", "pelicanconf.py", "-o", "output"],
                         cwd=auto, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    page = os.path.join(auto, "output/town/town/index.html")
    try:
        first = wait_for(lambda: os.path.exists(page) and read(page).count('class="wb-card"') == 2)
        src = os.path.join(auto, "content/town.md")
        with open(src, "a", encoding="utf-8") as f:
            f.write("\n<wordbank>\n- 鳥: bird (animal)\n</wordbank>\n")
        second = wait_for(lambda: os.path.exists(page) and read(page).count('class="wb-card"') == 3)
    finally:
        p.terminate()
        p.wait(20)
    check("--autoreload: an edited lesson gets its new card, one call per build",
          first and second and len(read(calls).splitlines()) == 2, read(calls))

    # 6. RELATIVE_URLS off: links under SITEURL.
    make_site.write_site(site, wrapper, ["RELATIVE_URLS=False",
                                         "SITEURL='https://example.org/course'"])
    r = pelican(site, "output-abs", env)
    ab = os.path.join(site, "output-abs/lessons/animals/index.html")
    us = links(ab) if os.path.exists(ab) else []
    check("RELATIVE_URLS off: media and assets under SITEURL",
          r.returncode == 0 and us and
          all(u.startswith("https://example.org/course/media/") or
              u.startswith("https://example.org/course/wordbank-assets/") for u in us) and
          all(os.path.isfile(os.path.join(site, "output-abs", u[len("https://example.org/course/"):]))
              for u in us), str(us))


if __name__ == "__main__":
    main()
