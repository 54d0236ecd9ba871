/* wordbank lesson pages: card flipping (click, Enter, Space), pronunciation
   playback, the quiz and the preview's search. Plain script (no modules) so
   it works from file:// as well as from a server; data is only ever put in
   the page with textContent, never as markup. */
(function () {
  'use strict';
  if (window.wordbankLoaded) return;
  window.wordbankLoaded = true;

  /* NFKC (full-/half-width), katakana -> hiragana, trimmed, lower case. */
  function fold(s) {
    return String(s == null ? '' : s).normalize('NFKC')
      .replace(/[\u30a1-\u30f6\u30fd\u30fe]/g, function (c) {
        return String.fromCharCode(c.charCodeAt(0) - 0x60);
      })
      .replace(/\s+/g, ' ').trim().toLowerCase();
  }
  window.wordbankFold = fold;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  /* ---- cards ---- */
  function turn(flip) {
    var card = flip.closest('.wb-card');
    if (!card) return;
    if (!flip.dataset.wbFront) flip.dataset.wbFront = flip.getAttribute('aria-label') || '';
    var on = !card.classList.contains('wb-flipped');
    card.classList.toggle('wb-flipped', on);
    flip.setAttribute('aria-pressed', on ? 'true' : 'false');
    var back = card.querySelector('.wb-back');
    var label = on && back ? back.textContent.replace(/\s+/g, ' ').trim() + ' \u2014 press to turn back'
                           : flip.dataset.wbFront;
    flip.setAttribute('aria-label', label);
  }

  function play(button) {
    var card = button.closest('.wb-card');
    var audio = card && card.querySelector('audio');
    if (!audio) return;
    button.classList.remove('wb-play-error');
    if (!audio.dataset.wbBound) {
      audio.dataset.wbBound = '1';
      audio.addEventListener('playing', function () { button.classList.add('wb-playing'); });
      audio.addEventListener('ended', function () { button.classList.remove('wb-playing'); });
      audio.addEventListener('pause', function () { button.classList.remove('wb-playing'); });
      audio.addEventListener('error', function () {
        button.classList.remove('wb-playing');
        button.classList.add('wb-play-error');
        button.title = 'The recording could not be played';
      });
    }
    try { audio.currentTime = 0; } catch (e) { /* not seekable yet */ }
    var p = audio.play();
    if (p && p.catch) p.catch(function () { button.classList.add('wb-play-error'); });
  }

  document.addEventListener('click', function (ev) {
    var t = ev.target;
    if (!t || !t.closest) return;
    var b = t.closest('.wb-play');
    if (b) { ev.preventDefault(); play(b); return; }
    var f = t.closest('.wb-flip');
    if (f) turn(f);
  });
  document.addEventListener('keydown', function (ev) {
    var t = ev.target;
    if (!t || !t.classList || !t.classList.contains('wb-flip')) return;
    if (ev.key === 'Enter' || ev.key === ' ' || ev.key === 'Spacebar') {
      ev.preventDefault();
      if (!ev.repeat) turn(t);
    }
  });

  /* ---- quiz ---- */
  function Quiz(section, items) {
    this.items = items;
    this.section = section;
    var panel = el('div', 'wb-quiz-panel');
    var top = el('div', 'wb-quiz-top');
    top.appendChild(el('h3', 'wb-quiz-title', 'Quiz'));
    this.progress = top.appendChild(el('span', 'wb-quiz-progress'));
    panel.appendChild(top);
    var bar = panel.appendChild(el('div', 'wb-quiz-bar'));
    this.bar = bar.appendChild(el('span'));
    panel.appendChild(el('p', 'wb-quiz-prompt', 'Type the word (kanji or kana) for'));
    this.q = panel.appendChild(el('p', 'wb-quiz-q'));
    this.hint = panel.appendChild(el('p', 'wb-quiz-hint'));
    this.form = panel.appendChild(el('form', 'wb-quiz-form'));
    this.input = this.form.appendChild(el('input', 'wb-quiz-input'));
    this.input.type = 'text';
    this.input.lang = 'ja';
    this.input.autocomplete = 'off';
    this.input.spellcheck = false;
    this.input.setAttribute('autocapitalize', 'off');
    this.input.setAttribute('aria-label', 'Your answer');
    this.check = this.form.appendChild(el('button', 'wb-btn wb-quiz-check', 'Check'));
    this.check.type = 'submit';
    this.feedback = panel.appendChild(el('p', 'wb-quiz-feedback'));
    this.feedback.setAttribute('role', 'status');
    this.feedback.setAttribute('aria-live', 'polite');
    this.next = panel.appendChild(el('button', 'wb-btn wb-quiz-next', 'Next'));
    this.next.type = 'button';
    this.panel = section.appendChild(panel);
    this.result = section.appendChild(el('div', 'wb-quiz-result'));
    this.score = this.result.appendChild(el('p', 'wb-quiz-score'));
    this.score.setAttribute('role', 'status');
    var again = this.result.appendChild(el('button', 'wb-btn wb-quiz-again', 'Try again'));
    again.type = 'button';
    var self = this;
    this.form.addEventListener('submit', function (ev) { ev.preventDefault(); self.answer(); });
    this.next.addEventListener('click', function () { self.show(self.i + 1); });
    again.addEventListener('click', function () { self.start(); self.input.focus(); });
    this.start();
  }
  Quiz.prototype.start = function () {
    this.right = 0;
    this.result.hidden = true;
    this.panel.hidden = false;
    this.show(0);
  };
  Quiz.prototype.show = function (i) {
    this.i = i;
    var n = this.items.length;
    if (i >= n) {
      this.panel.hidden = true;
      this.result.hidden = false;
      this.score.textContent = 'Score: ' + this.right + ' / ' + n;
      this.section.dataset.wbScore = String(this.right);
      return;
    }
    var it = this.items[i];
    this.progress.textContent = (i + 1) + ' / ' + n;
    this.bar.style.width = Math.round(100 * i / n) + '%';
    this.q.textContent = it.q;
    this.hint.textContent = it.hint ? '(' + it.hint + ')' : '';
    this.hint.hidden = !it.hint;
    this.input.value = '';
    this.input.disabled = false;
    this.check.disabled = false;
    this.feedback.textContent = '';
    this.feedback.className = 'wb-quiz-feedback';
    this.next.hidden = true;
    this.section.dataset.wbItem = it.id;
  };
  Quiz.prototype.answer = function () {
    var it = this.items[this.i];
    if (!it || this.input.disabled) return;
    var given = fold(this.input.value);
    if (!given) { this.feedback.textContent = 'Type an answer first.'; return; }
    var ok = (it.answers || []).some(function (a) { return fold(a) === given; });
    if (ok) this.right++;
    this.feedback.className = 'wb-quiz-feedback ' + (ok ? 'wb-good' : 'wb-bad');
    this.feedback.textContent = ok ? 'Correct! ' + it.answers.join(' \u00b7 ')
                                   : 'Not quite \u2014 the answer is ' + it.answers.join(' \u00b7 ');
    this.input.disabled = true;
    this.check.disabled = true;
    this.bar.style.width = Math.round(100 * (this.i + 1) / this.items.length) + '%';
    this.next.textContent = this.i + 1 < this.items.length ? 'Next' : 'See the score';
    this.next.hidden = false;
    this.next.focus();
  };

  function initQuizzes() {
    var all = document.querySelectorAll('.wb-quiz:not([data-wb-ready])');
    for (var k = 0; k < all.length; k++) {
      var s = all[k];
      s.dataset.wbReady = '1';
      var data = s.querySelector('script.wb-quiz-data');
      var items = [];
      try { items = JSON.parse(data ? data.textContent : '{}').items || []; } catch (e) { items = []; }
      if (items.length) new Quiz(s, items);
    }
  }

  /* ---- preview search ---- */
  function initSearch() {
    var input = document.querySelector('.wb-search-input');
    if (!input) return;
    var cards = Array.prototype.slice.call(document.querySelectorAll('.wb-card'));
    var keys = cards.map(function (c) { return fold(c.getAttribute('data-wb-search')); });
    var count = document.querySelector('.wb-count');
    var empty = document.querySelector('.wb-empty');
    function filter() {
      var q = fold(input.value), shown = 0;
      cards.forEach(function (c, i) {
        var hit = !q || keys[i].indexOf(q) >= 0;
        c.hidden = !hit;
        if (hit) shown++;
      });
      if (count) count.textContent = q ? shown + ' of ' + cards.length + ' cards' : cards.length + ' cards';
      if (empty) empty.hidden = shown > 0;
    }
    input.addEventListener('input', filter);
    filter();
  }

  function init() { initQuizzes(); initSearch(); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
