/**
 * Chromium for the dashboard tests, through playwright-core and Debian's own chromium (never a downloaded
 * browser). Outside CI a missing chromium skips the tests with a message; with CI=true it fails the run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type WebSocketRoute } from 'playwright-core';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Where e2e screenshots go, the agents' screen size, the users' password and a generous "soon" (never asserted). */
export const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
export const VIEWPORT = { width: 1366, height: 768 };
export const PASSWORD = 'password-123';
export const SOON = { timeout: 20_000 };

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync'];

/** The chromium binary, or null (after failing under CI=true, or warning otherwise). */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p)) ?? null;
  if (found) return found;
  const msg = 'chromium is not installed (apt-get install chromium fonts-noto-cjk)';
  if (process.env.CI === 'true') throw new Error(`CI=true but ${msg}`);
  console.warn(`skipping the dashboard tests: ${msg}`);
  return null;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

/** Builds dashboard/dist when it is missing or older than its sources (the same check `npm start` runs). */
export function ensureDashboardBuilt(): void {
  execFileSync(process.execPath, [join(ROOT, 'dashboard', 'ensure-built.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

/** Console errors and uncaught exceptions of a page, with its name. */
export function collectErrors(page: Page, name: string, into: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') into.push(`${name}: console: ${m.text()}`);
  });
  page.on('pageerror', (e) => into.push(`${name}: pageerror: ${e.message}`));
}

/**
 * A switch on the page's /api/ws connections (installed before the page loads): `hold` queues what the server
 * sends (a page that has not heard yet), `block` drops the connections and refuses new ones (a lost network).
 */
export interface WsGate {
  hold(): void;
  release(): void;
  block(): void;
  unblock(): void;
}

export async function gateWebSocket(page: Page): Promise<WsGate> {
  let holding = false;
  let blocked = false;
  let held: (() => void)[] = [];
  const live = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();
  await page.routeWebSocket(/\/api\/ws/, (ws) => {
    if (blocked) {
      void ws.close({ code: 1011, reason: 'network blocked by the test' });
      return;
    }
    const server = ws.connectToServer();
    const pair = { page: ws, server };
    live.add(pair);
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      if (holding) held.push(() => ws.send(m));
      else ws.send(m);
    });
    ws.onClose(() => {
      live.delete(pair);
      void server.close().catch(() => undefined);
    });
    server.onClose((code, reason) => {
      live.delete(pair);
      // 1005/1006 only describe a close; they may not be sent: pass those on as 1011.
      const sendable = code !== undefined && (code === 1000 || code === 1001 || code === 1011 || code >= 3000);
      void ws.close({ code: sendable ? code : 1011, reason }).catch(() => undefined);
    });
  });
  return {
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      const q = held;
      held = [];
      for (const f of q) f();
    },
    block: () => {
      blocked = true;
      for (const p of [...live]) {
        live.delete(p);
        void p.page.close({ code: 1011, reason: 'network blocked by the test' }).catch(() => undefined);
        void p.server.close().catch(() => undefined);
      }
    },
    unblock: () => void (blocked = false),
  };
}

/** A phone, for installers and responders. */
export const PHONE = { width: 390, height: 844 };

/** Logs the page in at the server's root; `ready` is what shows once in (the status bar by default). */
export async function logIn(page: Page, base: string, username: string, password: string, ready = '[data-testid=statusbar]'): Promise<void> {
  if (page.url() !== `${base}/`) await page.goto(base);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.locator(ready).waitFor(SOON);
}

/** Clicks a Leaflet map (`[data-testid=<testid>] .map`) at an offset from its centre, in pixels. */
export async function clickMap(page: Page, testid: string, dx: number, dy: number): Promise<void> {
  const box = (await page.locator(`[data-testid=${testid}] .map`).boundingBox())!;
  await page.mouse.click(box.x + box.width / 2 + dx, box.y + box.height / 2 + dy);
}

/**
 * Hostile text stayed text: no payload ran (`window.__xss`), and none became an element (an img with src x, an
 * element with an inline handler, a script in the page, or a <b> around `boldText`).
 */
export async function noMarkup(page: Page, boldText: string): Promise<{ xss: unknown; elements: number }> {
  return page.evaluate((needle) => {
    const w = globalThis as unknown as { __xss?: unknown; document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } };
    const bold = Array.from(w.document.querySelectorAll('b')).filter((e) => (e.textContent ?? '').includes(needle)).length;
    return { xss: w.__xss, elements: w.document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload], main script').length + bold };
  }, boldText);
}

/**
 * The browser windows of one test file: each user in a context of their own (zh-CN, the centre's time zone), their
 * console errors collected. `done()` after each test closes them and answers the errors no test expected.
 */
export class Windows {
  private errors: string[] = [];
  /** browser messages a test expects (a refused request logs one in the console) */
  private expected: ((e: string) => boolean)[] = [];
  private contexts: BrowserContext[] = [];

  constructor(
    private readonly browser: () => Browser,
    private readonly base: () => string,
  ) {}

  /** A new window logged in as the user; `name` labels its console errors (the username by default). */
  async open(username: string, password: string, o: { viewport?: { width: number; height: number }; ready?: string; name?: string; downloads?: boolean } = {}): Promise<Page> {
    const ctx = await this.browser().newContext({ viewport: o.viewport ?? VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: o.downloads ?? false });
    this.contexts.push(ctx);
    const page = await ctx.newPage();
    collectErrors(page, o.name ?? username, this.errors);
    await logIn(page, this.base(), username, password, o.ready);
    return page;
  }

  /** A console message this test expects (e.g. the 409 of a refused request). */
  expect(match: (e: string) => boolean): void {
    this.expected.push(match);
  }

  /** Closes every window; answers the console errors no test expected, and forgets them. */
  async done(): Promise<string[]> {
    for (const c of this.contexts.splice(0)) await c.close().catch(() => undefined);
    const unexpected = this.errors.filter((e) => !this.expected.some((x) => x(e)));
    this.errors = [];
    this.expected = [];
    return unexpected;
  }
}
