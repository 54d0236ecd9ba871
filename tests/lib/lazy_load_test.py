#!/usr/bin/env python3
"""Start-up: libwordbank loads libcurl, libav* (libavutil, libswscale, and
what they bring), libyuv and libmecab (and libstdc++ with them) on first use,
not when it is loaded (docs/architecture.md, "Start-up"). The dynamic
loader's own log (LD_DEBUG=files) of each wordbank run is read: --version,
list and render (of a page whose entries are all in the bank, with and
without --cache-only) map none of them; propagate against the loopback fake
maps libcurl, for its pictures libswscale and libyuv, for its Japanese
libmecab. Every run's exit status and output are checked. Prints TAP."""
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["WB_SOURCE_ROOT"], "tests", "harness"))
import wbtest as T  # noqa: E402
from wbtest import WB, Fake, check, scan  # noqa: E402

# (libstdc++ itself is not among them: a sanitizer build's libubsan needs it.)
HEAVY = ("libcurl.so", "libswscale.so", "libavutil.so", "libavcodec.so", "libavformat.so", "libyuv.so",
         "libmecab.so")


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


def test_lazy(tmp):
    r, loaded = run(tmp, "version", ["--version"])
    check("--version exits 0 and prints the version",
          r.returncode == 0 and r.stdout.startswith("wordbank "), r.stderr)
    check("the loader's log is read (libwordbank and libsqlite3 in it)",
          any(x.startswith("libwordbank.so") for x in loaded) and
          any(x.startswith("libsqlite3.so") for x in loaded), str(sorted(loaded)))
    check("--version loads none of libcurl, libav*, libyuv, libmecab", not heavy(loaded), str(heavy(loaded)))

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
        before = sum(T.Fake.requests_per_model(fake).values())

        r, loaded = run(tmp, "list", ["list", "--json"])
        try:
            words = sorted(e["word"] for e in json.loads(r.stdout))
        except ValueError:
            words = None
        check("list exits 0 and lists the two entries",
              r.returncode == 0 and words == ["犬", "猫"], r.stderr + r.stdout[:300])
        check("list loads none of libcurl, libav*, libyuv, libmecab", not heavy(loaded), str(heavy(loaded)))

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


def main():
    T.run_tests([test_lazy, test_curl_missing], "wb-lazy-", "WB_LAZY_ONLY")
    T.check_sanitizers()
    T.finish()


if __name__ == "__main__":
    main()
