/*
 * Public forms, progressive enhancement only: everything works without this script.
 * - embeds on cached CMS pages fetch their per-visitor CSRF token and start time, then show the form;
 * - questions with a condition show and hide as earlier answers change;
 * - a postal code fills the address from the site's own KEN_ALL data;
 * - a date shows its Japanese era (和暦).
 */
(function () {
  'use strict';

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  // Embeds: the cached page carries no token; ask for one, then reveal the form.
  each(document.querySelectorAll('[data-forms-embed]'), function (box) {
    var body = box.querySelector('[data-forms-body]');
    var form = body && body.querySelector('form');
    var fallback = box.querySelector('[data-forms-fallback]');
    var status = box.querySelector('[data-forms-status]');
    fetch(box.getAttribute('data-forms-embed'), { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.state === 'open' && form) {
          form.querySelector('input[name="_csrf"]').value = data.csrf;
          form.querySelector('input[name="_ts"]').value = data.ts;
          body.hidden = false;
          if (fallback) fallback.hidden = true;
        } else if (status) {
          status.textContent = data.message || '';
          if (fallback) fallback.hidden = true;
        }
      })
      .catch(function () { /* the link to the form's own page stays */ });
  });

  function valuesOf(form, name) {
    var out = [];
    each(form.elements, function (el) {
      if (el.name !== name || el.disabled) return;
      if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) return;
      if (el.value.trim() !== '') out.push(el.value.trim());
    });
    return out;
  }

  function matches(cond, values) {
    if (cond.op === 'filled') return values.length > 0;
    if (cond.op === 'equals') return cond.multi ? values.indexOf(cond.value) >= 0 : values[0] === cond.value;
    return values.some(function (v) { return v === cond.value || (cond.text && v.indexOf(cond.value) >= 0); });
  }

  function applyConditions(form) {
    // In order, so a question hidden by its own condition hides those that depend on it.
    each(form.querySelectorAll('[data-show-if]'), function (wrap) {
      var cond = JSON.parse(wrap.getAttribute('data-show-if'));
      var dep = form.querySelector('[data-question="' + cond.name + '"]');
      var show = (!dep || !dep.hidden) && matches(cond, valuesOf(form, cond.name));
      wrap.hidden = !show;
      each(wrap.querySelectorAll('input, select, textarea'), function (el) { el.disabled = !show; });
    });
  }

  each(document.querySelectorAll('form[data-forms-public]'), function (form) {
    form.classList.add('forms-js');
    applyConditions(form);
    form.addEventListener('change', function () { applyConditions(form); });
    form.addEventListener('input', function () { applyConditions(form); });
  });

  function halfWidth(s) {
    return s.replace(/[\uff01-\uff5e]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xfee0); });
  }

  each(document.querySelectorAll('[data-postal-for]'), function (input) {
    var target = document.getElementById(input.getAttribute('data-postal-for'));
    var live = document.getElementById(input.getAttribute('data-postal-status'));
    var last = '';
    input.addEventListener('input', function () {
      var code = halfWidth(input.value).replace(/[^0-9]/g, '');
      if (code.length !== 7 || code === last || !target) return;
      last = code;
      fetch('/forms/_postal/' + code, { headers: { accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || !data.found) return;
          var address = data.prefecture + data.city + data.town;
          if (target.value.trim() === '' || target.getAttribute('data-filled') === target.value) {
            target.value = address;
            target.setAttribute('data-filled', address);
            if (live) live.textContent = '郵便番号から住所を入力しました: ' + address + '。番地・建物名を続けて入力してください。';
          }
        })
        .catch(function () { /* completed on the confirmation step instead */ });
    });
  });

  var ERAS = [['令和', '2019-05-01'], ['平成', '1989-01-08'], ['昭和', '1926-12-25'], ['大正', '1912-07-30'], ['明治', '1868-01-25']];
  function wareki(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
    if (!m) return '';
    for (var i = 0; i < ERAS.length; i++) {
      if (iso >= ERAS[i][1]) {
        var y = Number(m[1]) - Number(ERAS[i][1].slice(0, 4)) + 1;
        return ERAS[i][0] + (y === 1 ? '元' : y) + '年' + Number(m[2]) + '月' + Number(m[3]) + '日';
      }
    }
    return '';
  }
  each(document.querySelectorAll('[data-wareki]'), function (input) {
    var out = document.getElementById(input.getAttribute('data-wareki'));
    var show = function () { if (out) out.textContent = input.value ? '和暦: ' + wareki(input.value) : ''; };
    input.addEventListener('change', show);
    input.addEventListener('input', show);
    show();
  });
})();
