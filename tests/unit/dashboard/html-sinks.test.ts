/**
 * Issue 15 (stored XSS → session takeover): the dashboard shows text typed by people (elder names, notes, geofence
 * names, command reasons…) and must never hand any of it to the browser as HTML. Preact's JSX text is safe; these are
 * the APIs that are not. They are forbidden outright in dashboard/src; the few allowed uses are listed below, each
 * with why it is safe, and each must still be there (a stale allowance fails too). Comments are ignored.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DASHBOARD = join(ROOT, 'dashboard');
const SRC = join(DASHBOARD, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|tsx|js|jsx|mjs)$/.test(n) ? [p] : [];
  });
}

/** The code without comments (block comments, and // comments not inside a URL such as 'http://'). */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .split('\n')
    .map((line) => line.replace(/(^|[^:'"`\\])\/\/.*$/, '$1'))
    .join('\n');
}

interface Rule {
  name: string;
  re: RegExp;
}

/** Each of these puts a string into the page as HTML or script, or navigates to a URL that could be javascript:. */
const FORBIDDEN: Rule[] = [
  { name: 'innerHTML', re: /\binnerHTML\b/ },
  { name: 'outerHTML', re: /\bouterHTML\b/ },
  { name: 'insertAdjacentHTML', re: /\binsertAdjacentHTML\b/ },
  { name: 'dangerouslySetInnerHTML', re: /\bdangerouslySetInnerHTML\b/ },
  { name: 'document.write', re: /\bdocument\s*\.\s*write(ln)?\b/ },
  { name: 'createContextualFragment', re: /\bcreateContextualFragment\b/ },
  { name: 'DOMParser / parseFromString', re: /\bDOMParser\b|\bparseFromString\b/ },
  { name: 'setHTMLUnsafe / parseHTMLUnsafe', re: /\b(set|parse)HTMLUnsafe\b/ },
  { name: 'srcdoc', re: /\bsrcdoc\b/i },
  { name: 'eval', re: /\beval\s*\(/ },
  { name: 'new Function', re: /\bnew\s+Function\s*\(/ },
  { name: 'setTimeout/setInterval with a string', re: /\bset(Timeout|Interval)\s*\(\s*['"`]/ },
  { name: 'document.cookie', re: /\bdocument\s*\.\s*cookie\b/ },
  // JSX attributes that take a URL: a javascript: URL in data would run on click.
  { name: 'href/src/action from data', re: /(?<![\w-])(href|src|action|formAction|xlinkHref|xlink:href|poster)\s*=\s*\{/ },
  { name: 'javascript: URL', re: /javascript\s*:/i },
  { name: '<iframe>/<object>/<embed>', re: /<(iframe|object|embed)\b/i },
  { name: 'navigation to a computed URL', re: /\blocation\s*\.\s*(href\s*=|assign\s*\(|replace\s*\()|\bwindow\s*\.\s*open\s*\(/ },
  // Leaflet: these take HTML strings.
  { name: 'Leaflet bindPopup / popups', re: /\bbindPopup\b|\bsetPopupContent\b|\bL\s*\.\s*popup\s*\(/ },
  { name: 'Leaflet setContent / setTooltipContent / L.tooltip', re: /\bsetContent\s*\(|\bsetTooltipContent\b|\bL\s*\.\s*tooltip\s*\(/ },
  { name: 'Leaflet attribution (set as innerHTML)', re: /\battribution\s*:|\baddAttribution\b|\bcontrol\s*\.\s*attribution\b|\battributionControl\s*:(?!\s*false)/ },
  // bindTooltip and divIcon({html}) are fine with a DOM element; only our text() helper or a bare element may go in.
  { name: 'Leaflet bindTooltip with a string', re: /\bbindTooltip\s*\((?!\s*(?:text\(|document\.createElement\())/ },
  { name: 'Leaflet divIcon html with a string', re: /\bhtml\s*:(?!\s*(?:text\(|document\.createElement\())/ },
];

/**
 * Allowed uses, per file: the rule they would break, the exact text, and why it is safe. Each must occur exactly as
 * often as `count` says (so a new use next to an allowed one is not waved through).
 */
const ALLOWED: { file: string; rule: string; text: RegExp; count: number; why: string }[] = [
  // None at present. Leaflet's bindTooltip and divIcon are allowed by the rules themselves only with text(…) or
  // document.createElement(…), i.e. a DOM element (Leaflet appends an element, it sets innerHTML only for strings).
  // Add an entry here, with its reason, only for a use that is safe and cannot be written another way.
  {
    file: 'dashboard/src/components/RecordingPlayer.tsx',
    rule: 'href/src/action from data',
    text: /<audio\b[^>]*\bsrc=\{recordingUrl\(of\)\}/,
    count: 1,
    why: 'a call recording is played by <audio src>; recordingUrl() always returns a same-origin path, /api/calls/<encodeURIComponent(id)>/recording or /api/callbacks/<integer>/recording, never a URL from data',
  },
  {
    file: 'dashboard/src/components/ImportExport.tsx',
    rule: 'href/src/action from data',
    text: /\bhref=\{(templateUrl|exportUrl)\('(xlsx|csv)'(, x)?\)\}/,
    count: 4,
    why: "the import's template and export downloads: templateUrl()/exportUrl() build same-origin /api paths from the constants 'xlsx'/'csv' and a kind from the fixed KINDS list, never a URL from data",
  },
  {
    file: 'dashboard/src/components/reports/Reports.tsx',
    rule: 'href/src/action from data',
    text: /\bhref=\{exportUrl\(state, '(xlsx|csv)'\)\}/,
    count: 2,
    why: "the report downloads: exportUrl() in reports.ts builds /api/reports/<one of the fixed REPORTS>/export? with the query in URLSearchParams (the area typed in is encoded), always a same-origin path, never a URL from data",
  },
  {
    file: 'dashboard/src/responder/Responder.tsx',
    rule: 'href/src/action from data',
    text: /href=\{`tel:\$\{view\.elder\.phone\.replace\(\/\[\^0-9\+\]\/g, ''\)\}`\}/,
    count: 1,
    why: "the responder's page calls the elder: a tel: link of the phone number's digits and + only (everything else removed), never a URL from data",
  },
  {
    file: 'dashboard/src/components/elders/ElderPhoto.tsx',
    rule: 'href/src/action from data',
    text: /<img src=\{blobUrl\}/,
    count: 1,
    why: "the elder's photo: blobUrl is always a blob: object URL made by URL.createObjectURL from the image fetched from /api/elders/<id>/photo (photoUrl() in elders-admin.ts), never a URL from data",
  },
];

describe('dashboard HTML sinks (issue 15)', () => {
  const files = sources(SRC);

  it('finds the dashboard sources', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('uses no API that turns a string into HTML, script or a navigation', () => {
    const found: string[] = [];
    for (const f of files) {
      const rel = relative(ROOT, f);
      const lines = code(readFileSync(f, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        for (const r of FORBIDDEN) {
          if (!r.re.test(line)) continue;
          const allowed = ALLOWED.some((a) => a.rule === r.name && rel === a.file && a.text.test(line));
          if (!allowed) found.push(`${rel}:${i + 1}: ${r.name}: ${line.trim()}`);
        }
      });
    }
    expect(found).toEqual([]);
  });

  it('every allowance is still needed, exactly as often as listed', () => {
    for (const a of ALLOWED) {
      const n = code(readFileSync(join(ROOT, a.file), 'utf8'))
        .split('\n')
        .filter((l) => a.text.test(l)).length;
      expect(n, `${a.file}: ${a.why}`).toBe(a.count);
    }
  });

  it("Leaflet labels are DOM elements whose text is set with textContent (ElderMap's text())", () => {
    const map = readFileSync(join(SRC, 'components', 'ElderMap.tsx'), 'utf8');
    const helper = /function text\(s: string\): HTMLElement \{([\s\S]*?)\n\}/.exec(map)?.[1] ?? '';
    expect(helper).toContain('document.createElement(');
    expect(helper).toContain('.textContent = s');
    // the map shows the tile credit itself, as text
    expect(map).toContain('attributionControl: false');
  });

  it('the rules catch what they are meant to (self-check)', () => {
    const bad = [
      'el.innerHTML = name;',
      "layer.bindTooltip(f.name).addTo(g);",
      "layer.bindTooltip(`<b>${f.name}</b>`);",
      "L.divIcon({ className: 'x', html: `<span>${label}</span>` });",
      "L.tileLayer(url, { attribution: cfg.attribution });",
      '<a href={contact.url}>x</a>',
      '<img src={photo} />',
      "marker.bindPopup('<b>hi</b>');",
      "tip.setContent(name);",
      'document.write(x);',
      "setTimeout('alert(1)', 10);",
    ];
    for (const b of bad) expect(FORBIDDEN.some((r) => r.re.test(code(b))), b).toBe(true);
    const good = [
      "layer.bindTooltip(text(f.name || t('map.geofence')), FENCE_TIP).addTo(g);",
      "L.divIcon({ className: 'map-last', html: document.createElement('span') });",
      '<span title={credit}>{credit}</span>',
      '<li data-action={en.action} data-src={x}>',
      "const url = 'http://tile.example/{z}/{x}/{y}.png'; // not a comment start",
    ];
    for (const g of good) expect(FORBIDDEN.filter((r) => r.re.test(code(g))).map((r) => r.name), g).toEqual([]);
  });

  it('keeps no session token in web storage, and reads no cookie', () => {
    const writes: string[] = [];
    for (const f of files) {
      for (const m of code(readFileSync(f, 'utf8')).matchAll(/\b(localStorage|sessionStorage)\s*\.\s*setItem\s*\(\s*([^,]+),/g)) writes.push(`${m[1]}:${m[2]!.trim()}`);
    }
    // the locale, the last extension, and "this browser had a session" (a flag, never the token)
    expect([...new Set(writes)].sort()).toEqual(['localStorage:HINT_KEY', "localStorage:'anxin.extension'", "localStorage:'anxin.locale'", "sessionStorage:'anxin.activation'"].sort());
    const api = readFileSync(join(SRC, 'api.ts'), 'utf8');
    expect(api).toMatch(/HINT_KEY = 'anxin\.hasSession'/);
    expect(api).toMatch(/setItem\(HINT_KEY, '1'\)/);
    // the WebSocket URL carries no token
    expect(code(api)).not.toMatch(/[?&]token=/);
  });

  it('index.html has no inline script or event handler (the CSP allows neither)', () => {
    const html = readFileSync(join(DASHBOARD, 'index.html'), 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      expect(m[1]).toMatch(/\bsrc=/);
      expect(m[2]!.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
  });
});
