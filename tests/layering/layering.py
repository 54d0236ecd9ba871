#!/usr/bin/env python3
"""The layering check: every #include in src/ and include/ against what each
module declares it uses. Prints TAP; every violation is named FILE:LINE.

What a module may use is declared in ONE place, the dependency list meson
builds it with: the `dependencies : [...]` of the static_library (library,
executable) in src/<module>/meson.build. `store_dep` there means the module
may include store's headers; `jansson` (a variable holding
dependency('jansson'), or a list of such) means it may include jansson's.
Meson cannot enforce it by itself: every module is compiled with -Isrc
-Iinclude, and an outside library's headers sit in /usr/include for all.

The rules:
  1. a module includes internal headers (src/<m>/*.h) of its own folder and
     of the modules it declares only; headers named *internal.h or *_int.h
     are private to their folder even then;
  2. a public header (include/wordbank/) belongs to a module (PUBLIC_OWNER
     below); a module or public header includes public headers of its own
     module, of core, and of the modules it declares;
  3. a public header includes only public and standard headers;
  4. the CLI (src/cli) includes only include/wordbank/, its own headers and
     standard headers;
  5. an outside library's headers (OUTSIDE below) are included only by the
     module that declares the library, also when they arrive through another
     header; each library is declared by one module (jansson by three, by
     design: docs/architecture.md);
  6. an angle include is either a standard C/POSIX header or an outside
     library's (a new library is added to OUTSIDE); a quoted include
     resolves to a file of the tree;
  7. a library loaded on first use (dlopen by soname, core/dl.h: a string
     "libNAME.so..." or a known soname's stem in the code) counts as that
     library's use: only its home module loads it, and the module declares
     it (for its headers: partial_dependency); a soname the check does not
     know (SONAMES below) is named.

Usage: layering.py [ROOT]   (default: WB_SOURCE_ROOT or the checkout)"""
import os
import re
import sys

MODULES = ["core", "store", "providers", "media", "text", "offline", "engine", "content", "export",
           "pipeline", "lib", "cli"]

# Outside libraries: the name meson finds them by (dependency('x') or
# cc.find_library('x')) -> the headers (prefixes) that are theirs.
OUTSIDE = {
    "libcrypto": ["openssl/"],
    "sqlite3": ["sqlite3.h", "sqlite3ext.h"],
    "jansson": ["jansson.h", "jansson_config.h"],
    "libuv": ["uv.h", "uv/"],
    "libcurl": ["curl/"],
    "lame": ["lame/", "lame.h"],
    "libavcodec": ["libavcodec/"],
    "libavformat": ["libavformat/"],
    "libavutil": ["libavutil/"],
    "libswscale": ["libswscale/"],
    "yuv": ["libyuv/", "libyuv.h"],
    "libswresample": ["libswresample/"],
    "libopusenc": ["opus/", "opusenc.h"],
    "libpng": ["png.h", "pngconf.h", "libpng16/"],
    "libjpeg": ["jpeglib.h", "jerror.h", "jconfig.h", "jmorecfg.h", "turbojpeg.h"],
    "libwebp": ["webp/"],
    "mecab": ["mecab.h"],
    "espeak-ng": ["espeak-ng/", "espeak/"],
    "iconv": ["iconv.h"],
    "libzip": ["zip.h", "zipconf.h"],
    "libcmark": ["cmark.h", "cmark_export.h", "cmark_version.h"],
    "dl": ["dlfcn.h"],
    "m": ["math.h"],
    "threads": ["pthread.h"],
}
# Libraries loaded on first use by soname (rule 7): the library -> the
# soname's stem as the code spells it ("libcurl.so.4", or "libavutil" with
# the major version from the headers appended).
SONAMES = {
    "libcurl": "libcurl",
    "espeak-ng": "libespeak-ng",
    "libavcodec": "libavcodec",
    "libavformat": "libavformat",
    "libavutil": "libavutil",
    "libswscale": "libswscale",
    "yuv": "libyuv",
    "mecab": "libmecab",
    "libcrypto": "libcrypto",
    "libzip": "libzip",
    "libcmark": "libcmark",
    "lame": "libmp3lame",
    "libopusenc": "libopusenc",
    "libpng": "libpng16",
    "libjpeg": "libjpeg",
    "libwebp": "libwebp",
}
# A string literal naming a shared library: its stem and ".so..." if any.
SONAME_LITERAL = re.compile(r'"(lib[A-Za-z0-9_+-]+)(\.so[0-9.]*)?"')

# Declared by more than one module on purpose. Everything else has one home.
SHARED = {
    # Three different JSON formats (provider wire format, export, quiz data):
    # wrapping a JSON library in a JSON library would add nothing.
    "jansson": {"providers", "export", "content"},
    # libc/libm/pthread parts, not outside libraries in the one-home sense.
    "dl": None, "m": None, "threads": None,
}
# Standard C and POSIX headers, and glibc's own (malloc.h): anyone may include them.
STANDARD = set("""assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h
locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h
stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h
aio.h arpa/inet.h cpio.h dirent.h dlfcn.h fcntl.h fnmatch.h ftw.h getopt.h glob.h grp.h iconv.h
langinfo.h libgen.h monetary.h mqueue.h netdb.h net/if.h netinet/in.h netinet/tcp.h nl_types.h
poll.h pthread.h pwd.h regex.h sched.h search.h semaphore.h spawn.h strings.h syslog.h tar.h
termios.h ulimit.h unistd.h utime.h utmpx.h wordexp.h endian.h err.h malloc.h""".split())
STANDARD_DIRS = ("sys/",)

# Owner of each public header: a module using it uses that module.
PUBLIC_OWNER = {
    "api.h": "core", "buf.h": "core", "config.h": "core", "entry.h": "core", "error.h": "core",
    "file.h": "core", "log.h": "core",
    "dialogue.h": "core",  # types only: the dialogue record content and providers share
    "store.h": "store", "media.h": "media", "text.h": "text", "offline.h": "offline",
    "content.h": "content", "export.h": "export", "pipeline.h": "pipeline", "batch.h": "pipeline",
    "bank.h": "lib", "version.h": "lib", "wordbank.h": "lib",
}

# Uses that break the rules and are allowed for now, each with its reason:
# (module, included header) -> why. Kept empty unless a fix has to wait.
ALLOWED = {
    # The offline provider's row in the one provider registry names the
    # offline module's provider and model names (three macros, no code):
    # the module itself runs in the pipeline, which declares offline_dep.
    ("providers", "wordbank/offline.h"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def strip_comments(text):
    """meson.build without # comments (no '#' inside the strings we read)."""
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def bracketed(text, start):
    """The text between the bracket at start and its partner."""
    pairs = {"[": "]", "(": ")"}
    stack = []
    for i in range(start, len(text)):
        c = text[i]
        if c in pairs:
            stack.append(pairs[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return text[start + 1:i]
    return None


def split_top(text):
    """Comma-separated items of a meson list, nested brackets kept whole."""
    items, depth, cur = [], 0, ""
    for c in text:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        items.append(cur.strip())
    return items


def resolve_dep(item, assigns, seen=()):
    """A dependency item of a meson list -> ('module', m) / ('lib', name) items."""
    item = item.strip()
    m = re.fullmatch(r"(\w+)_dep", item)
    if m and m.group(1) in MODULES or item == "wordbank_dep":
        return [("module", "public" if item == "wordbank_dep" else m.group(1))]
    m = re.match(r"(?:dependency|cc\.find_library)\(\s*'([^']+)'", item)
    if m:
        return [("lib", m.group(1))]
    m = re.match(r"(\w+)\.partial_dependency\(", item)
    if m:
        item = m.group(1)
    if re.fullmatch(r"\w+", item):
        if item in assigns and item not in seen:
            return resolve_dep(assigns[item], assigns, seen + (item,))
        return [("lib", item)]  # found elsewhere (threads): its own name
    if item.startswith("["):
        out = []
        for x in split_top(bracketed(item, 0) or ""):
            out += resolve_dep(x, assigns, seen)
        return out
    return [("unknown", item)]


def declared(root, mod, problems):
    """What src/<mod>/meson.build builds the module with: (modules, libraries)."""
    path = os.path.join(root, "src", mod, "meson.build")
    try:
        text = strip_comments(open(path, encoding="utf-8").read())
    except OSError as e:
        problems.append(f"src/{mod}/meson.build: {e.strerror}")
        return set(), set()
    assigns = {}
    for m in re.finditer(r"^(\w+)\s*=\s*", text, re.M):
        rest = text[m.end():]
        if rest[:1] == "[":
            assigns[m.group(1)] = "[" + (bracketed(rest, 0) or "") + "]"
        else:
            line = rest.split("\n", 1)[0]
            p = line.find("(")
            if p >= 0:
                line = line[:p] + "(" + (bracketed(rest, p) or "") + ")"
            assigns[m.group(1)] = line.strip()
    m = re.search(r"\b(static_library|library|executable)\s*\(", text)
    args = bracketed(text, m.end() - 1) if m else None
    d = re.search(r"\bdependencies\s*:\s*", args or "")
    if not d:
        problems.append(f"src/{mod}/meson.build: no `dependencies : [...]` in its "
                        f"static_library/library/executable call (the check reads it there)")
        return set(), set()
    rest = args[d.end():]
    items = resolve_dep(rest if rest.startswith("[") else rest.split(",")[0], assigns)
    mods, libs = set(), set()
    for kind, name in items:
        if kind == "module":
            mods.add(name)
        elif kind == "lib":
            libs.add(name)
        else:
            problems.append(f"src/{mod}/meson.build: cannot read the dependency `{name}`")
    return mods, libs


def outside_lib(header):
    for lib, pats in OUTSIDE.items():
        for p in pats:
            if header == p or (p.endswith("/") and header.startswith(p)):
                return lib
    return None


def standard(header):
    return header in STANDARD or header.startswith(STANDARD_DIRS)


def collect(root):
    files = []
    for top in ("src", "include"):
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith((".c", ".h", ".h.in")):
                    files.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(files)


def owner(rel):
    """The module a file belongs to."""
    parts = rel.split(os.sep)
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[0] == "include":
        name = parts[-1].removesuffix(".in")
        return PUBLIC_OWNER.get(name)
    return None


def resolve(root, rel, name):
    """A quoted include -> the file it names, relative to root (or None)."""
    here = os.path.dirname(rel)
    for cand in (os.path.join(here, name), os.path.join("src", name), os.path.join("include", name),
                 os.path.join("include", name) + ".in"):
        if os.path.isfile(os.path.join(root, cand)):
            return os.path.normpath(cand)
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "WB_SOURCE_ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
    checks = {k: [] for k in ("meson", "home", "declared", "private", "public", "cli", "outside",
                              "unknown", "dlopen", "prefix")}
    decl = {}
    for mod in MODULES:
        decl[mod] = declared(root, mod, checks["meson"])
        for lib in decl[mod][1]:
            if lib not in OUTSIDE and not standard(lib):
                checks["meson"].append(f"src/{mod}/meson.build: the library `{lib}` is not in "
                                       f"tests/layering/layering.py's OUTSIDE table")
    homes = {}
    for mod in MODULES:
        for lib in decl[mod][1]:
            homes.setdefault(lib, set()).add(mod)
    for lib, mods in sorted(homes.items()):
        if lib in SHARED:
            if SHARED[lib] is not None and not mods <= SHARED[lib]:
                checks["home"].append(f"{lib} is declared by {', '.join(sorted(mods))}; "
                                      f"its homes are {', '.join(sorted(SHARED[lib]))}")
        elif len(mods) > 1:
            checks["home"].append(f"{lib} is declared by {len(mods)} modules "
                                  f"({', '.join(sorted(mods))}): one home only")

    def allowed_modules(mod):
        if mod == "cli":
            return set()
        return {mod, "core"} | decl.get(mod, (set(), set()))[0]

    files = collect(root)
    includes = {}
    for rel in files:
        lst = []
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m:
                    lst.append((no, m.group(1), m.group(2)))
        includes[rel] = lst

    def reached_outside(rel, seen):
        """Outside headers a file brings in through quoted includes: [(lib, header, via)]."""
        out = []
        for _, kind, name in includes.get(rel, []):
            if kind == "<":
                lib = outside_lib(name)
                if lib and not (lib in SHARED and SHARED[lib] is None):
                    out.append((lib, name, rel))
            else:
                tgt = resolve(root, rel, name)
                if tgt and tgt not in seen:
                    seen.add(tgt)
                    out += reached_outside(tgt, seen)
        return out

    for rel in files:
        mod = owner(rel)
        public = rel.startswith("include" + os.sep)
        if mod is None:
            checks["public" if public else "declared"].append(
                f"{rel}: belongs to no module (add it to PUBLIC_OWNER or MODULES)")
            continue
        own_libs = decl.get(mod, (set(), set()))[1]
        for no, kind, name in includes[rel]:
            close = ">" if kind == "<" else '"'
            where = f"{rel}:{no}: #include {kind}{name}{close}"
            if kind == "<":
                lib = outside_lib(name)
                if lib and SHARED.get(lib, 1) is None:
                    continue  # libc parts (pthread.h, math.h, dlfcn.h)
                if lib:
                    if public or mod == "cli":
                        checks["public" if public else "cli"].append(
                            f"{where}: an outside library ({lib}) in "
                            f"{'a public header' if public else 'the CLI'}")
                    elif lib not in own_libs and (mod, name) not in ALLOWED:
                        checks["outside"].append(f"{where}: {lib} is not declared in "
                                                 f"src/{mod}/meson.build")
                elif not standard(name):
                    checks["unknown"].append(f"{where}: neither a standard header nor an outside "
                                             f"library known to the check (OUTSIDE)")
                continue
            tgt = resolve(root, rel, name)
            if tgt is None:
                checks["unknown"].append(f"{where}: resolves to no file of the tree")
                continue
            tmod = owner(tgt)
            tpublic = tgt.startswith("include" + os.sep)
            if public and not tpublic:
                checks["public"].append(f"{where}: a public header includes an internal one")
                continue
            if mod == "cli" and not public:
                if not tpublic and tmod != "cli":
                    checks["cli"].append(f"{where}: the CLI uses only include/wordbank/")
                continue
            if (mod, name) in ALLOWED:
                continue
            if tmod != mod:
                base = os.path.basename(tgt)
                if not tpublic and re.search(r"(internal|_int)\.h$", base):
                    checks["private"].append(f"{where}: {base} is private to src/{tmod}")
                elif tmod not in allowed_modules(mod):
                    what = (f"include/wordbank/{base.removesuffix('.in')} belongs to {tmod}"
                            if tpublic else f"a header of {tmod}")
                    rule = (f"the public headers of {mod} may use only {mod}, core and what "
                            f"src/{mod}/meson.build declares" if public else
                            f"src/{mod}/meson.build does not declare {tmod}_dep")
                    checks["declared"].append(f"{where}: {what}, and {rule}")
                if not tpublic and mod != "lib":
                    for lib, hdr, via in reached_outside(tgt, {tgt}):
                        if lib not in own_libs and (mod, hdr) not in ALLOWED:
                            checks["outside"].append(f"{where}: brings <{hdr}> ({lib}, through "
                                                     f"{via}) into {mod}")

    # Rule 7: a library loaded by soname is loaded by its home module only.
    by_stem = {stem: lib for lib, stem in SONAMES.items()}
    for rel in files:
        mod = owner(rel)
        if not rel.startswith("src" + os.sep) or mod is None:
            continue
        own_libs = decl.get(mod, (set(), set()))[1]
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                code = line.split("//", 1)[0]
                if code.lstrip().startswith(("*", "/*")):
                    continue  # a comment line
                for m in SONAME_LITERAL.finditer(code):
                    stem, so = m.group(1), m.group(2)
                    lib = by_stem.get(stem)
                    where = f"{rel}:{no}: {m.group(0)}"
                    if lib is None:
                        if so:
                            checks["dlopen"].append(f"{where}: a shared library the check does "
                                                    f"not know (SONAMES)")
                    elif lib not in own_libs:
                        checks["dlopen"].append(f"{where}: loads {lib}, which is not declared in "
                                                f"src/{mod}/meson.build")

    # Only the public API says wb_: an internal function or type (declared
    # in no installed header) carries its module's prefix instead.
    public_text = ""
    for dp, _, fns in os.walk(os.path.join(root, "include")):
        for fn in fns:
            if fn.endswith((".h", ".h.in")):
                with open(os.path.join(dp, fn), encoding="utf-8") as f:
                    public_text += f.read()
    public_names = set(re.findall(r"\b(wb_[a-z0-9_]+)\b", public_text))
    fn_def = re.compile(r"^(?!static)[A-Za-z][^;=(]*?\b(wb_[a-z0-9_]+)\s*\(")
    td_def = re.compile(r"^\s*typedef\b[^;]*?\(?\*?\s*\b(wb_[a-z0-9_]+)\)?\s*[(;]")
    ty_def = re.compile(r"^\s*(?:typedef\s+)?(?:struct|enum|union)\s+(wb_[a-z0-9_]+)\s*\{")
    for dp, _, fns in sorted(os.walk(os.path.join(root, "src"))):
        for fn in sorted(fns):
            if not fn.endswith((".c", ".h")):
                continue
            path = os.path.join(dp, fn)
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    m = fn_def.match(line) or ty_def.match(line) or td_def.match(line)
                    if m and m.group(1) not in public_names:
                        checks["prefix"].append(f"{os.path.relpath(path, root)}:{n}: {m.group(1)} "
                                                f"is declared in no installed header: an internal "
                                                f"name takes its module's prefix, not wb_")

    titles = {
        "meson": "every module's meson.build declares what it uses, in names the check knows",
        "home": "each outside library is declared by one module (jansson by three, by design)",
        "declared": "each module includes headers of the modules it declares only",
        "private": "no module includes another module's private (*internal.h, *_int.h) header",
        "public": "public headers include only public and standard headers",
        "cli": "the CLI includes only include/wordbank/ (and its own and standard headers)",
        "outside": "outside libraries' headers only in their home module (also through headers)",
        "unknown": "every include is a standard header, an outside library's or a file of the tree",
        "dlopen": "a library loaded by soname is loaded by its home module only",
        "prefix": "only the public API is named wb_ (internal functions and types take their "
                  "module's prefix)",
    }
    print(f"1..{len(titles)}")
    failed = 0
    for i, (key, title) in enumerate(titles.items(), 1):
        bad = checks[key]
        print(f"{'not ok' if bad else 'ok'} {i} - {title}" +
              (f" ({len(files)} files)" if key == "unknown" else ""))
        for line in bad:
            print(f"# {line}")
        failed += bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
