import { test, expect, type Page } from '@playwright/test';
import http from 'node:http';
import { cspViolations, gotoReady, signIn, signUp, uniqueEmail, watchCsp, watchProblems } from './helpers';

// What the release build ships: it hydrates (an optimiser that breaks the wasm fails
// here first), its files come precompressed and cached by content hash, and the first
// load stays small.

type Raw = { status: number; headers: http.IncomingHttpHeaders; bytes: number; body: Buffer };

/** A GET with exactly these headers and no decompression: the bytes on the wire. */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<Raw> {
  const base = test.info().project.use.baseURL!;
  return new Promise((resolve, reject) => {
    http
      .get(new URL(path, base), { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: body.length, body });
        });
      })
      .on('error', reject);
  });
}

/** The site files the sign-up page names: stylesheet, script, bundle, chunk loader and
 * preloaded chunks (the sign-in page's code is all in the bundle). */
async function siteFiles(): Promise<string[]> {
  const html = (await rawGet('/signup')).body.toString('utf8');
  return [...new Set(html.match(/\/pkg\/[^"']+\.(?:wasm|js|css)/g) ?? [])].sort();
}

// Issue 28 measured 191,712 bytes (HTML included) in 5 files; the guard is that plus 2%.
const FIRST_LOAD_BUDGET = Math.round(191_712 * 1.02);

const MAIN = /^\/pkg\/latchkey\.[A-Za-z0-9_-]{22}\.(css|js|wasm)$/;

test('every page of the release build hydrates, with no console error and no failed request', async ({ page }) => {
  const problems = watchProblems(page);
  await watchCsp(page);
  for (const path of ['/signin', '/signup', '/forgot-password', '/reset-password', '/verify-email']) {
    await gotoReady(page, path);
    // Every page runs under a strict policy (scripts by nonce, no inline style) and
    // nothing in it is refused.
    const res = await rawGet(path);
    expect(String(res.headers['content-security-policy'])).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
    problems.push(...(await cspViolations(page)).map((v) => `CSP on ${path}: ${v}`));
  }
  // The strength meter changes with typing, by class only.
  await gotoReady(page, '/signup');
  await page.getByLabel('Password', { exact: true }).fill('Granite-Kettle-42!');
  await expect(page.getByText(/Strength: /)).toBeVisible();
  problems.push(...(await cspViolations(page)).map((v) => `CSP on /signup: ${v}`));
  const email = uniqueEmail('release');
  await signUp(page, email);
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await gotoReady(page, '/settings/security');
  // Hydrated means working: the Change Password dialog opens and Escape closes it.
  await page.getByRole('button', { name: 'Change Password' }).click();
  await expect(page.getByRole('dialog', { name: 'Change Password' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  problems.push(...(await cspViolations(page)).map((v) => `CSP on /settings/security: ${v}`));
  // Sessions and Security log (one chunk), loaded and reached through the navigation.
  await gotoReady(page, '/settings/sessions');
  await expect(page.getByRole('heading', { name: 'Active Sessions' })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Settings' });
  await nav.getByRole('link', { name: 'Security log' }).click();
  await expect(page.getByRole('table').getByRole('cell', { name: 'Signed in', exact: true })).toBeVisible();
  await nav.getByRole('link', { name: 'Sessions' }).click();
  await expect(page.getByText('No other active sessions')).toBeVisible();
  problems.push(...(await cspViolations(page)).map((v) => `CSP on the activity pages: ${v}`));
  expect(problems).toEqual([]);
});

test("every page preloads its own code chunks (sign-in: none), the same on every load, and each is served", async ({ page, browser }) => {
  // The chunks a page needs download beside the main module, not after it. (leptos's
  // own preloads came and went between loads of the same page.)
  const email = uniqueEmail('preload');
  await signUp(page, email);
  await signIn(page, email);
  const paths = [
    '/signin', '/signin/verify', '/signup', '/verify-email', '/forgot-password', '/reset-password',
    '/settings/security', '/settings/sessions', '/settings/security-log', '/settings/tokens',
    '/settings/notifications', '/settings/ip-allowlist', '/settings/profile', '/not-me',
    '/email-change', '/undo-email-change',
  ];
  const served = new Set<string>();
  const chunksOf: Record<string, string> = {};
  for (const path of paths) {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      // Settings pages as the signed-in browser, the others as a visitor.
      const html = path.startsWith('/settings/')
        ? await (await page.request.get(path)).text()
        : (await rawGet(path)).body.toString('utf8');
      const preloads = [...html.matchAll(/<link rel="(?:preload|modulepreload)" href="([^"]+)"/g)].map((m) => m[1]);
      seen.add(JSON.stringify(preloads));
    }
    expect([...seen], `${path}: the same preloads on every load`).toHaveLength(1);
    const preloads: string[] = JSON.parse([...seen][0]);
    expect(preloads.filter((p) => MAIN.test(p)).length, path).toBe(2);
    // The main script imports the chunk loader: every page preloads it.
    expect(preloads.some((p) => /\/pkg\/__wasm_split\.[A-Za-z0-9_-]{22}\.js$/.test(p)), `${path}: the chunk loader`).toBe(true);
    if (path === '/signin') {
      // The front door's code is in the main module: no chunk to preload.
      expect(preloads, path).toHaveLength(3);
    } else {
      expect(preloads.some((p) => /\/pkg\/split___\w+_route_view_\d+\./.test(p)), `${path}: its own chunk`).toBe(true);
    }
    // A settings page's own chunk and its layout's.
    chunksOf[path] = preloads.filter((p) => p.includes('/split___')).sort().join();
    for (const p of preloads) served.add(p);
    // The page's own chunk, not another page's: a fresh browser (signed in for the
    // settings pages) asks for no chunk of a page's code beyond those it preloaded.
    const fresh = await browser.newContext();
    if (path.startsWith('/settings/')) await fresh.addCookies(await page.context().cookies());
    const tab = await fresh.newPage();
    const asked = new Set<string>();
    tab.on('request', (r) => {
      const p = new URL(r.url()).pathname;
      if (p.startsWith('/pkg/split___')) asked.add(p);
    });
    await gotoReady(tab, path);
    expect([...asked].sort().join(), `${path}: the chunk it loads is the one it preloads`).toBe(chunksOf[path]);
    await fresh.close();
  }
  // Sessions, Security log, API tokens, Notifications, IP allowlist and Profile share
  // one chunk; "This wasn't me", "Choose a new password" and the email change's link
  // pages another; the other
  // pages each have their own.
  expect(chunksOf['/settings/sessions']).toBe(chunksOf['/settings/security-log']);
  expect(chunksOf['/settings/tokens']).toBe(chunksOf['/settings/security-log']);
  expect(chunksOf['/settings/notifications']).toBe(chunksOf['/settings/security-log']);
  expect(chunksOf['/settings/ip-allowlist']).toBe(chunksOf['/settings/security-log']);
  expect(chunksOf['/settings/profile']).toBe(chunksOf['/settings/security-log']);
  expect(chunksOf['/not-me']).toBe(chunksOf['/reset-password']);
  expect(chunksOf['/email-change']).toBe(chunksOf['/reset-password']);
  expect(chunksOf['/undo-email-change']).toBe(chunksOf['/reset-password']);
  expect(new Set(Object.values(chunksOf)).size).toBe(paths.length - 8);
  for (const file of served) expect((await rawGet(file)).status, file).toBe(200);
});

test('the favicon is served, and the pages point to it', async ({ page }) => {
  for (const [path, type] of [['/favicon.ico', 'image/x-icon'], ['/favicon.svg', 'image/svg+xml']]) {
    const res = await rawGet(path);
    expect(res.status, path).toBe(200);
    expect(res.headers['content-type']).toBe(type);
  }
  await gotoReady(page, '/signin');
  await expect(page.locator('link[rel="icon"]')).toHaveCount(2);
});

test('site files come precompressed, named by content hash, cached for a year and revalidated by ETag', async () => {
  const files = await siteFiles();
  const main = files.filter((f) => MAIN.test(f));
  expect(main.map((f) => f.replace(/\.[A-Za-z0-9_-]{22}\./, '.HASH.')).sort()).toEqual([
    '/pkg/latchkey.HASH.css', '/pkg/latchkey.HASH.js', '/pkg/latchkey.HASH.wasm',
  ]);
  // The rest are the sign-up page's code chunks (cargo leptos --split), preloaded.
  expect(files.length).toBeGreaterThan(3);
  for (const file of files) {
    expect(file).toMatch(/\.[A-Za-z0-9_-]{22}\.(css|js|wasm)$/);
    const plain = await rawGet(file);
    expect(plain.status, file).toBe(200);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
  }
  for (const file of main) {
    const plain = await rawGet(file);
    for (const [accept, coding] of [['gzip, deflate, br, zstd', 'br'], ['gzip', 'gzip']]) {
      const res = await rawGet(file, { 'accept-encoding': accept });
      expect(res.status, `${file} with ${accept}`).toBe(200);
      expect(res.headers['content-encoding']).toBe(coding);
      expect(res.headers['vary']).toMatch(/accept-encoding/i);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.bytes).toBeLessThan(plain.bytes);
      const etag = res.headers['etag']!;
      expect(etag).toMatch(/^"[0-9a-f]{32}-/);
      expect(etag).not.toBe(plain.headers['etag']);
      const again = await rawGet(file, { 'accept-encoding': accept, 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(again.bytes).toBe(0);
    }
  }
  const wasm = main.find((f) => f.endsWith('.wasm'))!;
  expect((await rawGet(wasm)).headers['content-type']).toBe('application/wasm');
});

test('pages and server answers are compressed on the fly and never cached', async () => {
  const page = await rawGet('/signin', { 'accept-encoding': 'gzip, deflate, br, zstd' });
  expect(page.status).toBe(200);
  expect(page.headers['content-encoding']).toBe('gzip');
  expect(page.headers['cache-control']).toBe('no-store');
  const plain = await rawGet('/signin');
  expect(plain.headers['content-encoding']).toBeUndefined();
  expect(plain.bytes).toBeGreaterThan(page.bytes);
});

test('first load of the sign-in page with brotli, and time to hydration', async ({ browser }) => {
  // What a first-time visitor's browser downloads until the page works: the page
  // itself, then from /pkg/ the stylesheet, scripts, bundle and the page's chunks, as
  // encoded on the wire.
  const context = await browser.newContext();
  const page = await context.newPage();
  const fetched: { url: string; response: Promise<number> }[] = [];
  page.on('requestfinished', (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith('/pkg/') && request.resourceType() !== 'document') return;
    fetched.push({
      url: url.pathname,
      response: request.sizes().then((s) => s.responseBodySize),
    });
  });
  await page.goto('/signin');
  const mark = await page.waitForFunction(() => {
    const m = performance.getEntriesByName('latchkey:hydrated')[0];
    return m ? m.startTime : null;
  });
  const ms = Math.round((await mark.jsonValue()) as number);
  let total = 0;
  for (const f of fetched) {
    const bytes = await f.response;
    console.log(`first load: ${f.url} ${bytes} bytes`);
    total += bytes;
  }
  console.log(`first load with brotli: ${total} bytes in ${fetched.length} files (goal: at most ${200 * 1024})`);
  test.info().annotations.push({ type: 'first-load-bytes', description: String(total) });
  expect(fetched.some((f) => /latchkey\.[^/]+\.wasm$/.test(f.url))).toBe(true);
  // Issue 7's goal is 200 KiB; bench/run.sh reports against it. This budget makes any
  // growth fail here.
  // It was 252 KiB until issue 10's focus handling and "Too many attempts" countdown,
  // which the sign-in page needs, added 8.6 KB; then 256 KiB until issue 11's second
  // step (the method choice, email and SMS codes sent with their countdown) measured
  // 264,368 bytes; then 262 KiB until issue 12's Sessions and Security log pages
  // measured 272,473 (wasm-split keeps some of every chunk's code and all static data
  // in the main module; the two pages share one chunk, which saved 5 KB of it); then
  // 268 KiB until issue 23's plain forms (a ServerAction reads a plain form's error
  // back from the URL, the fields keep what was typed before hydration) measured
  // 278,631; then 273 KiB until the second step's plain "Request Code" (its two
  // senders are ServerActions that read a refusal back from the URL) and issue 24's
  // API tokens page (its code is in the Sessions chunk; wasm-split keeps its static
  // data in the main module) measured 280,508; then 275 KiB until issue 25's three
  // pages (Notifications, IP allowlist, "This wasn't me": their texts in the main
  // module, +3,056 B of it, and 8 more small shared chunks the sign-in page loads)
  // measured 286,635; then 283 KiB until issue 26's Profile page, the email change's
  // two link pages and the recovery-codes step of every method (their texts are static
  // data, which wasm-split keeps in the main module) measured 290,463 in 36 files;
  // then 285 KiB until issue 27's passkeys ("Sign in with a passkey", the address
  // field's autofill, the bridge to navigator.credentials and its two server
  // functions: +4.7 KB in the sign-in chunk, the rest in chunks shared with the second
  // step and the Security page) measured 308,051 in 36 files; then 307 KiB until the
  // passkey review's mends (the ceremony id in a cookie, no challenge type on the
  // client) measured 283,061: wasm-split moved 34.6 KB out of the main module (186,512
  // B), while the sign-in chunk is 11,594 (6,177 before passkeys). Issue 28 brought it
  // to 191,712 in 5 files, now counting the page's HTML: the sign-in page's code in the
  // main module (one wasm file, not 33), the settings layout a lazy route of its own,
  // immediate-abort panics, no Debug formatting, and cargo-leptos with a splitter that
  // no longer puts all static data in the main module (the "wasm-split keeps all static
  // data in the main module" above was its fallback for a segment a few bytes long).
  // The goal, 200 KiB, is met: the guard is today's size plus 2%.
  expect(total).toBeLessThanOrEqual(FIRST_LOAD_BUDGET);

  // A benchmark figure, not a pass/fail timing: printed for the record.
  console.log(`hydrated ${ms} ms after navigation start (cold cache, localhost)`);
  test.info().annotations.push({ type: 'hydration-ms', description: String(ms) });
  expect(ms).toBeGreaterThan(0);
  await context.close();
});
