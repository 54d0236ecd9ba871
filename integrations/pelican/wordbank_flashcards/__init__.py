"""wordbank_flashcards: <wordbank> and <dialogue> blocks in a Pelican site
become wordbank's flashcards, quizzes and dialogue players.

Thin glue around the `wordbank` command (all the work is done there, in C):
once per build, before Pelican reads the articles, ONE `wordbank render
--manifest` call generates what the lessons of every article and page miss
(entries and dialogue clips, in one run) and renders each lesson file with its
blocks replaced by HTML; the Markdown reader then reads that rendering instead
of the source, so every other tag and all the text stay as written. The media
and the CSS/JS files the command wrote are copied into the output folder once
the site is written, and linked relative to each page (or under SITEURL when
RELATIVE_URLS is off). See docs/pelican.md.

    PLUGIN_PATHS = ["<path to wordbank>/integrations/pelican"]
    PLUGINS = ["wordbank_flashcards"]
"""
import logging
import os
import shutil
import subprocess
import tempfile

from pelican import signals
from pelican.contents import Content
from pelican.readers import MarkdownReader

log = logging.getLogger(__name__)

# The pages' way to the site root while relative URLs are on: a placeholder
# the command puts in front of every link, replaced in each written file.
ROOT_MARK = "wordbank-site-root-4f1d2c/"
BLOCK_TAGS = ("<wordbank>", "<dialogue>")


class _Build:
    """The state of one build (Pelican's --autoreload runs many)."""

    def __init__(self):
        self.staging = None   # the command's site folder: fragments, media, assets
        self.fragments = {}   # realpath of a lesson -> its rendering
        self.output = None


_build = _Build()


def _command(settings):
    """The wordbank command line from the settings (they win over the
    environment, as flags do in the command)."""
    cmd = [settings.get("WORDBANK_COMMAND") or "wordbank"]
    if settings.get("WORDBANK_DB"):
        cmd += ["--db", str(settings["WORDBANK_DB"])]
    if settings.get("WORDBANK_MEDIA"):
        cmd += ["--media", str(settings["WORDBANK_MEDIA"])]
    if settings.get("PROPAGATE_BATCH_SIZE"):
        cmd += ["--jobs", str(int(settings["PROPAGATE_BATCH_SIZE"]))]
    if not settings.get("GENERATE_CONTENT", True):
        cmd.append("--cache-only")
    cmd += [str(a) for a in settings.get("WORDBANK_ARGS") or []]
    return cmd


def _lessons(generator):
    """Every Markdown file of the articles and pages that holds a block."""
    s = generator.settings
    exts = tuple("." + e for e in MarkdownReader.file_extensions)
    found = []
    for paths, excludes in ((s["ARTICLE_PATHS"], s["ARTICLE_EXCLUDES"]),
                            (s["PAGE_PATHS"], s["PAGE_EXCLUDES"])):
        for f in generator.get_files(paths, exclude=excludes):
            path = os.path.realpath(os.path.join(generator.path, f))
            if path in found or not path.endswith(exts):
                continue
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            if any(t in text for t in BLOCK_TAGS):
                found.append(path)
    return found


def _render_all(generator):
    """article_generator_init: the one wordbank call of this build."""
    global _build
    _cleanup()
    _build = _Build()
    settings = generator.settings
    _build.output = generator.output_path
    lessons = _lessons(generator)
    if not lessons:
        return
    _build.staging = tempfile.mkdtemp(prefix="wordbank-pelican-")
    manifest = os.path.join(_build.staging, "manifest.tsv")
    with open(manifest, "w", encoding="utf-8") as fh:
        for i, path in enumerate(lessons):
            if "\t" in path or "\n" in path:
                log.error("wordbank: %s: a tab or newline in the path; left as it is", path)
                continue
            fh.write(f"{path}\t{_build.staging}/pages/{i}.md\n")
    if settings.get("RELATIVE_URLS"):
        base = ROOT_MARK
    else:
        base = (settings.get("SITEURL") or "").rstrip("/") + "/"
    cmd = _command(settings) + ["render", "--manifest", manifest, "-o", _build.staging,
                                "--base-url", base]
    log.info("wordbank: %s lesson file(s): %s", len(lessons), " ".join(cmd))
    try:
        rc = subprocess.run(cmd, stdin=subprocess.DEVNULL).returncode
    except OSError as e:
        log.error("wordbank: cannot run %s: %s (set WORDBANK_COMMAND)", cmd[0], e)
        return
    if rc not in (0, 1):
        log.error("wordbank: %s exited with %s; the blocks are left as written", cmd[0], rc)
        return
    if rc == 1:
        log.warning("wordbank: some entries failed (listed above); their cards show what there is")
    for i, path in enumerate(lessons):
        frag = os.path.join(_build.staging, "pages", f"{i}.md")
        if os.path.exists(frag):
            _build.fragments[path] = frag


def _fragment(path):
    return _build.fragments.get(os.path.realpath(path)) if path else None


class WordbankMarkdownReader(MarkdownReader):
    """Pelican's Markdown reader, reading a lesson's rendering instead of it."""

    def read(self, source_path):
        frag = _fragment(source_path)
        content, metadata = super().read(frag or source_path)
        self._source_path = source_path
        return content, metadata


def _no_cache_for_lessons(obj):
    """A lesson's cards follow the word bank, not only its file: lessons are
    read again each build; everything else stays in Pelican's cache."""
    cached = obj.get_cached_data

    def get_cached_data(filename, default=None):
        if _fragment(os.path.join(getattr(obj, "path", ""), filename)) or _fragment(filename):
            return default
        return cached(filename, default)

    obj.get_cached_data = get_cached_data


def _readers_init(readers):
    for ext, cls in list(readers.reader_classes.items()):
        if cls is MarkdownReader:
            readers.reader_classes[ext] = WordbankMarkdownReader
    _no_cache_for_lessons(readers)


def _generator_init(generator):
    _render_all(generator)
    _no_cache_for_lessons(generator)


def _relative_links():
    """With RELATIVE_URLS, Pelican hands each written file its own way to the
    site root (the same article on its page, in the index, in a category):
    the placeholder becomes that way, as Pelican's own {filename} links do."""
    update = Content._update_content
    if getattr(update, "wordbank", False):
        return

    def _update_content(self, content, siteurl):
        content = update(self, content, siteurl)
        if content and ROOT_MARK in content:
            content = content.replace(ROOT_MARK, siteurl.rstrip("/") + "/" if siteurl else "")
        return content

    _update_content.wordbank = True
    Content._update_content = _update_content


def _finalized(pelican):
    """The media and CSS/JS the command wrote, into the output folder."""
    if _build.staging:
        for sub in ("media", "wordbank-assets"):
            src = os.path.join(_build.staging, sub)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(pelican.output_path, sub), dirs_exist_ok=True)
    _cleanup()


def _cleanup():
    if _build.staging:
        shutil.rmtree(_build.staging, ignore_errors=True)
        _build.staging = None


def register():
    signals.readers_init.connect(_readers_init)
    signals.article_generator_init.connect(_generator_init)
    signals.page_generator_init.connect(_no_cache_for_lessons)
    _relative_links()
    signals.finalized.connect(_finalized)
