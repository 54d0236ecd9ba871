#!/usr/bin/env python3
"""Start-up: libwordbank loads libcurl, libav* (libavutil, libswscale, and
what they bring), libyuv and libmecab (and libstdc++ with them) on first use,
not when it is loaded (docs/architecture.md, "Start-up"); so too libcrypto,
the codecs (LAME, libopusenc, libpng, libjpeg, libwebp), libzip and cmark.
The dynamic loader's own log (LD_DEBUG=files) of each wordbank run is read:
--version and list map none of them; render (of a page whose entries are all
in the bank, with and without --cache-only) maps libcrypto alone of them;
build (its Markdown to HTML) maps cmark; propagate against the loopback fake
maps libcurl, for its clips LAME, for its pictures libpng, libjpeg,
libswscale and libyuv, for its Japanese libmecab; export --format apkg maps
libzip. A library that cannot
be loaded (a file that is no library, found first through LD_LIBRARY_PATH)
stops the command that needs it with the loader's reason, exit 3. Every
run's exit status and output are checked. Prints TAP."""
import glob
import json
import os
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.join(os.environ["WB_SOURCE_ROOT"], "tests", "harness"))
import wbtest as T  # noqa: E402
from wbtest import WB, Fake, check, scan  # noqa: E402

# (libstdc++ itself is not among them: a sanitizer build's libubsan needs it.)
HEAVY = ("libcurl.so", "libswscale.so", "libavutil.so", "libavcodec.so", "libavformat.so", "libyuv.so",
         "libmecab.so")
# Loaded on first use too, by the commands that make or pack media, or
# render Markdown (libbz2 comes with libzip, libopus with libopusenc).
LAZY = ("libcrypto.so", "libmp3lame.so", "libopusenc.so", "libopus.so", "libpng16.so", "libjpeg.so",
        "libwebp.so", "libzip.so", "libbz2.so", "libcmark.so")


def run(tmp, name, args, env_extra=None):
    """wordbank args with the loader's log in tmp/ld.<name>.<pid>: the result
    and the set of shared objects the process loaded."""
    for f in glob.glob(f"{tmp}/ld.{name}.*"):
        os.remove(f)
    e = T.env(tmp, LD_DEBUG="files", LD_DEBUG_OUTPUT=f"{tmp}/ld.{name}", **(env_extra or {}))
    r = subprocess.run([WB, "--db", tmp + "/wb.db", "--progress", "never"] + args, env=e,
                       capture_output=True, text=True, cwd=tmp, timeout=120)
    scan(args, r.stderr)
    loaded = set()
    for f in glob.glob(f"{tmp}/ld.{name}.*"):
        for line in open(f, errors="replace"):
            # "  1234:	file=libcurl.so.4 [0];  needed by ..." / "dynamically loaded by ..."
            if "file=" in line and ("needed by" in line or "dynamically loaded" in line):
                loaded.add(line.split("file=", 1)[1].split()[0].rsplit("/", 1)[-1])
    return r, loaded


def heavy(loaded):
    return sorted(x for x in loaded if x.startswith(HEAVY))


def lazy(loaded):
    return sorted(x for x in loaded if x.startswith(LAZY))


def has(loaded, *stems):
    return all(any(x.startswith(s) for x in loaded) for s in stems)


def test_lazy(tmp):
    r, loaded = run(tmp, "version", ["--version"])
    check("--version exits 0 and prints the version",
          r.returncode == 0 and r.stdout.startswith("wordbank "), r.stderr)
    check("the loader's log is read (libwordbank and libsqlite3 in it)",
          any(x.startswith("libwordbank.so") for x in loaded) and
          any(x.startswith("libsqlite3.so") for x in loaded), str(sorted(loaded)))
    check("--version loads none of libcurl, libav*, libyuv, libmecab", not heavy(loaded), str(heavy(loaded)))
    check("--version loads none of libcrypto, the codecs, libzip, cmark", not lazy(loaded),
          str(lazy(loaded)))

    fake = Fake({"seed": 1})
    try:
        open(tmp + "/lesson.md", "w").write("# Animals\n\n<wordbank>\n- 猫: cat\n- 犬: dog\n"
                                            "</wordbank>\n")
        r, loaded = run(tmp, "propagate", ["propagate", "lesson.md"],
                        {"GEMINI_BASE_URL": fake.url})
        check("propagate against the fake exits 0", r.returncode == 0, r.stderr)
        check("propagate sent its requests", sum(T.Fake.requests_per_model(fake).values()) >= 6,
              str(T.Fake.requests_per_model(fake)))
        check("propagate loads libcurl", any(x.startswith("libcurl.so") for x in loaded),
              str(sorted(loaded)))
        check("propagate loads libswscale and libyuv for its pictures",
              any(x.startswith("libswscale.so") for x in loaded) and
              any(x.startswith("libyuv.so") for x in loaded), str(sorted(loaded)))
        check("propagate loads libmecab for its Japanese",
              any(x.startswith("libmecab.so") for x in loaded), str(sorted(loaded)))
        check("propagate loads LAME for its clips, libpng and libjpeg for its pictures, libcrypto",
              has(loaded, "libmp3lame.so", "libpng16.so", "libjpeg.so", "libcrypto.so"),
              str(sorted(loaded)))
        media = sorted(os.listdir(tmp + "/media")) if os.path.isdir(tmp + "/media") else []
        check("... and the clips and pictures are in the media folder",
              any(x.endswith(".mp3") for x in media) and any(x.endswith(".jpg") for x in media),
              str(media))
        before = sum(T.Fake.requests_per_model(fake).values())

        r, loaded = run(tmp, "list", ["list", "--json"])
        try:
            words = sorted(e["word"] for e in json.loads(r.stdout))
        except ValueError:
            words = None
        check("list exits 0 and lists the two entries",
              r.returncode == 0 and words == ["犬", "猫"], r.stderr + r.stdout[:300])
        check("list loads none of libcurl, libav*, libyuv, libmecab", not heavy(loaded), str(heavy(loaded)))
        check("list loads none of libcrypto, the codecs, libzip, cmark", not lazy(loaded),
              str(lazy(loaded)))

        r, loaded = run(tmp, "apkg", ["export", "--format", "apkg", "-o", "deck.apkg"])
        deck = open(tmp + "/deck.apkg", "rb").read() if os.path.exists(tmp + "/deck.apkg") else b""
        check("export --format apkg exits 0 and writes a zip with the collection",
              r.returncode == 0 and deck[:4] == b"PK\x03\x04" and b"collection.anki2" in deck,
              r.stderr)
        try:
            with zipfile.ZipFile(tmp + "/deck.apkg") as z:
                names = sorted(z.namelist())
        except (OSError, zipfile.BadZipFile) as ex:
            names = [str(ex)]
        check("... the deck holds the collection, the media map and the media files",
              "collection.anki2" in names and "media" in names and "0" in names and "1" in names,
              str(names))
        check("export --format apkg loads libzip (and no codec, no libcurl)",
              has(loaded, "libzip.so") and not heavy(loaded) and
              not any(x.startswith(("libmp3lame.so", "libpng16.so")) for x in loaded),
              str(sorted(loaded)))

        for name, extra in (("render-cached", ["--cache-only"]), ("render", [])):
            os.makedirs(f"{tmp}/{name}", exist_ok=True)
            out = f"{tmp}/{name}/lesson.html"
            r, loaded = run(tmp, name, extra + ["render", "lesson.md", "-o", out],
                            {"GEMINI_BASE_URL": fake.url})
            page = open(out).read() if os.path.exists(out) else ""
            check(f"{' '.join(extra + ['render'])} exits 0 and writes the page with both cards",
                  r.returncode == 0 and "猫" in page and "犬" in page, r.stderr)
            check(f"{' '.join(extra + ['render'])} of a page whose entries are all in the bank "
                  "loads none of libcurl, libav*, libyuv, libmecab", not heavy(loaded), str(heavy(loaded)))
            check(f"{' '.join(extra + ['render'])} (blocks only, the text copied) loads no codec, "
                  "libzip nor cmark", lazy(loaded) == sorted(
                      x for x in loaded if x.startswith("libcrypto.so")), str(lazy(loaded)))
        os.makedirs(tmp + "/site-src", exist_ok=True)
        open(tmp + "/site-src/lesson.md", "w").write(open(tmp + "/lesson.md").read())
        r, loaded = run(tmp, "build", ["build", "site-src", "-o", "site"],
                        {"GEMINI_BASE_URL": fake.url})
        page = open(tmp + "/site/lesson.html").read() if os.path.exists(tmp + "/site/lesson.html") else ""
        check("build exits 0 and writes the page, its Markdown converted (<h1>) and both cards",
              r.returncode == 0 and "<h1>Animals</h1>" in page and "猫" in page and "犬" in page,
              r.stderr + page[:300])
        check("build (Markdown pages) loads cmark, and no codec nor libzip",
              has(loaded, "libcmark.so") and
              lazy(loaded) == sorted(x for x in loaded if x.startswith(("libcmark.so", "libcrypto.so"))),
              str(lazy(loaded)))
        check("the renders sent no request",
              sum(T.Fake.requests_per_model(fake).values()) == before,
              str(T.Fake.requests_per_model(fake)))
    finally:
        fake.stop()


def test_curl_missing(tmp):
    """A libcurl that cannot be loaded (a file that is no library, found
    first through LD_LIBRARY_PATH) stops a run at once with the loader's
    reason, once, exit 3; commands that send nothing do not notice."""
    os.makedirs(tmp + "/badlib")
    open(tmp + "/badlib/libcurl.so.4", "w").write("not a library\n")
    open(tmp + "/w.txt", "w").write("- 猫: cat\n- 犬: dog\n- 鳥: bird\n")
    bad = {"LD_LIBRARY_PATH": tmp + "/badlib", "GEMINI_BASE_URL": "http://127.0.0.1:9"}
    r, loaded = run(tmp, "nocurl", ["propagate", "w.txt"], bad)
    check("without libcurl, propagate exits 3 (the environment)", r.returncode == 3,
          f"rc {r.returncode}: {r.stderr}")
    check("... naming the library and the loader's reason, once",
          r.stderr.count("cannot load libcurl.so.4: " + tmp + "/badlib/libcurl.so.4") == 1,
          r.stderr)
    r, loaded = run(tmp, "nocurl-list", ["list"], bad)
    check("without libcurl, list still works", r.returncode == 0, r.stderr)


def bad_lib(tmp, soname):
    """A directory for LD_LIBRARY_PATH whose soname is a file that is no library."""
    d = f"{tmp}/bad-{soname}"
    os.makedirs(d, exist_ok=True)
    open(f"{d}/{soname}", "w").write("not a library\n")
    return d


def test_codecs_missing(tmp):
    """LAME, libzip, cmark or libcrypto that cannot be loaded: the command that
    needs it stops with the library, the loader's reason and the stage, once,
    exit 3 (the environment, as for libcurl), and what it could not make is
    left for the next run; --version and list do not notice."""
    open(tmp + "/w.txt", "w").write("- 猫: cat\n- 犬: dog\n")
    open(tmp + "/page.md", "w").write("# Animals\n\n<wordbank>\n- 猫: cat\n</wordbank>\n")
    fake = Fake({"seed": 2})
    try:
        d = bad_lib(tmp, "libmp3lame.so.0")
        bad = {"LD_LIBRARY_PATH": d, "GEMINI_BASE_URL": fake.url}
        r, loaded = run(tmp, "nolame", ["propagate", "w.txt"], bad)
        check("without LAME, propagate exits 3 (the environment)", r.returncode == 3,
              f"rc {r.returncode}: {r.stderr}")
        check("... naming the stage, the library and the loader's reason, once",
              r.stderr.count("audio: MP3 needs LAME: cannot load libmp3lame.so.0: "
                             f"{d}/libmp3lame.so.0") == 1, r.stderr)
        r, loaded = run(tmp, "nolame-list", ["list", "--json"], bad)
        try:
            rows = json.loads(r.stdout)
        except ValueError:
            rows = []
        audio = [e.get("stages", {}).get("audio", {}) for e in rows]
        check("without LAME, list works: the clips are left missing (not failed) for the next run",
              r.returncode == 0 and len(rows) == 2 and
              all(a.get("state") == "missing" and a.get("error") is None for a in audio),
              r.stderr + r.stdout[:400])
        r, loaded = run(tmp, "lame-back", ["propagate", "w.txt"], {"GEMINI_BASE_URL": fake.url})
        media = sorted(os.listdir(tmp + "/media")) if os.path.isdir(tmp + "/media") else []
        check("with LAME back, the next propagate makes the clips", r.returncode == 0 and
              any(x.endswith(".mp3") for x in media) and has(loaded, "libmp3lame.so"),
              r.stderr + str(media))

        d = bad_lib(tmp, "libjpeg.so.62")
        open(tmp + "/w2.txt", "w").write("- 鳥: bird\n")
        r, loaded = run(tmp, "nojpeg", ["propagate", "w2.txt", "--no-audio"],
                        {"LD_LIBRARY_PATH": d, "GEMINI_BASE_URL": fake.url})
        check("without libjpeg, propagate exits 3 naming the stage, the library and the reason, once",
              r.returncode == 3 and r.stderr.count("image: pictures need libpng, libjpeg and libwebp: "
                                                   f"cannot load libjpeg.so.62: {d}/libjpeg.so.62") == 1,
              f"rc {r.returncode}: {r.stderr}")

        d = bad_lib(tmp, "libzip.so.4")
        r, loaded = run(tmp, "nozip", ["export", "--format", "apkg", "-o", "d.apkg"],
                        {"LD_LIBRARY_PATH": d})
        check("without libzip, export --format apkg exits 3 with the loader's reason, no deck",
              r.returncode == 3 and f"cannot load libzip.so.4: {d}/libzip.so.4" in r.stderr and
              not os.path.exists(tmp + "/d.apkg"), f"rc {r.returncode}: {r.stderr}")

        d = bad_lib(tmp, "libcmark.so.0.30.2")
        os.makedirs(tmp + "/src", exist_ok=True)
        open(tmp + "/src/page.md", "w").write(open(tmp + "/page.md").read())
        r, loaded = run(tmp, "nocmark", ["build", "src", "-o", "site"], {"LD_LIBRARY_PATH": d})
        check("without cmark, build of Markdown pages exits 3 with the loader's reason",
              r.returncode == 3 and f"cannot load libcmark.so.0.30.2: {d}/libcmark.so.0.30.2"
              in r.stderr, f"rc {r.returncode}: {r.stderr}")

        d = bad_lib(tmp, "libcrypto.so.3")
        r, loaded = run(tmp, "nocrypto-version", ["--version"], {"LD_LIBRARY_PATH": d})
        check("without libcrypto, --version works", r.returncode == 0 and
              r.stdout.startswith("wordbank "), r.stderr)
        r, loaded = run(tmp, "nocrypto-list", ["list"], {"LD_LIBRARY_PATH": d})
        check("without libcrypto, list works", r.returncode == 0 and "猫" in r.stdout, r.stderr)
        r, loaded = run(tmp, "nocrypto", ["render", "page.md", "-o", "page.html"],
                        {"LD_LIBRARY_PATH": d})
        check("without libcrypto, render exits 3 with the loader's reason",
              r.returncode == 3 and f"cannot load libcrypto.so.3: {d}/libcrypto.so.3" in r.stderr,
              f"rc {r.returncode}: {r.stderr}")
    finally:
        fake.stop()


def main():
    T.run_tests([test_lazy, test_curl_missing, test_codecs_missing], "wb-lazy-", "WB_LAZY_ONLY")
    T.check_sanitizers()
    T.finish()


if __name__ == "__main__":
    main()
