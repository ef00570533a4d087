import { test, expect, request as apiRequest, type Browser, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import {
  STRONG_PASSWORD, axe, enableAuthenticator, freshCode, gotoReady, signIn, signUpVerified, uniqueEmail, waitHydrated,
} from './helpers';

// Settings > Sessions and Settings > Security log (seeds 001 and 002) in Chromium:
// several browsers of one account, each its own context (its own cookies), seeing and
// ending each other; the log of what the earlier features did, in words; both exports
// downloaded and compared with the page; filters carried by the URL.

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

// A user agent carrying markup, quotes and a spreadsheet formula's characters.
const HOSTILE = 'Mozilla/5.0 <img src=x onerror="window.__pwned=1"> "quoted", =1+1';

async function browserOf(browser: Browser, userAgent?: string, timezoneId?: string): Promise<Page> {
  const context = await browser.newContext({ ...(userAgent ? { userAgent } : {}), ...(timezoneId ? { timezoneId } : {}) });
  return context.newPage();
}

/** A time zone whose date differs from UTC's now (UTC-12 in the UTC morning, UTC+14 after). */
const zoneOffUtcDate = () => (new Date().getUTCHours() < 12 ? 'Etc/GMT+12' : 'Etc/GMT-14');

const settingsHeading = (page: Page) => page.getByRole('heading', { name: 'Security', level: 1 });

async function signedIn(page: Page, email: string) {
  await signIn(page, email);
  await expect(settingsHeading(page)).toBeVisible();
  await waitHydrated(page);
}

async function openSessions(page: Page) {
  await gotoReady(page, '/settings/sessions');
  await expect(page.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
  return page.getByRole('list').filter({ has: page.getByRole('heading', { level: 3 }) }).getByRole('listitem');
}

test('two browsers: this device is marked, the other is revoked and sent to sign-in at its next step', async ({ browser }) => {
  const email = uniqueEmail('sessions-two');
  const laptop = await browserOf(browser);
  const phone = await browserOf(browser, IPHONE);
  await signUpVerified(laptop, email);
  await signedIn(laptop, email);
  await signedIn(phone, email);

  // The navigation leads there, beside Security.
  await laptop.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Sessions' }).click();
  await expect(laptop.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
  const sessions = await openSessions(laptop);
  await expect(sessions).toHaveCount(2);
  const mine = sessions.filter({ hasText: 'This device' });
  await expect(mine).toHaveCount(1);
  await expect(mine).toContainText('Active now');
  await expect(mine.getByRole('button', { name: 'Revoke' })).toHaveCount(0);
  const theirs = sessions.filter({ hasNotText: 'This device' });
  await expect(theirs).toContainText('Safari');
  await expect(theirs).toContainText('Phone');
  await expect(theirs).toContainText('Local network');
  await expect(theirs).toContainText('127.0.0.1');
  await expect(theirs.getByText(/just now|minutes? ago/)).toBeVisible();
  await axe(laptop, 'sessions, two browsers');

  // The phone, still showing the list, will act after it has been revoked.
  const phoneSessions = await openSessions(phone);
  await expect(phoneSessions).toHaveCount(2);

  // The exact time is read with the words, and shows on focus, by keyboard.
  const ago = theirs.locator('time').last();
  await expect(ago).toContainText(/(just now|ago) \(.*\d{1,2}:\d{2}.*\)$/);
  const exact = ago.locator('span');
  const hidden = (await exact.boundingBox())!.width;
  await ago.focus();
  expect((await exact.boundingBox())!.width).toBeGreaterThan(hidden + 40);
  // Escape hides it again without moving the focus (WCAG 1.4.13).
  await laptop.keyboard.press('Escape');
  await expect(ago).toBeFocused();
  expect((await exact.boundingBox())!.width).toBeLessThanOrEqual(hidden);

  // Revoke asks first; Escape keeps the session.
  await theirs.getByRole('button', { name: 'Revoke' }).click();
  const dialog = laptop.getByRole('dialog', { name: 'Revoke Session' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Safari');
  await axe(laptop, 'revoke session dialog');
  await laptop.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(sessions).toHaveCount(2);
  await theirs.getByRole('button', { name: 'Revoke' }).click();
  await dialog.getByRole('button', { name: 'Revoke' }).click();
  await expect(dialog).toBeHidden();
  await expect(laptop.getByRole('status').filter({ hasText: 'Session revoked' })).toBeVisible();
  await expect(sessions).toHaveCount(1);
  await expect(laptop.getByText('No other active sessions')).toBeVisible();
  // The Revoke button that opened the dialog is gone: the focus is on the list's heading.
  await expect(laptop.getByRole('heading', { name: 'Active Sessions' })).toBeFocused();

  // The phone's next step, a server call from the page it still shows, sends it to
  // sign-in (and back here after it); it could not revoke the laptop.
  const stale = phoneSessions.filter({ hasNotText: 'This device' });
  await stale.getByRole('button', { name: 'Revoke' }).click();
  await phone.getByRole('dialog', { name: 'Revoke Session' }).getByRole('button', { name: 'Revoke' }).click();
  await expect(phone).toHaveURL(/\/signin\?next=%2Fsettings%2Fsessions$/);
  await laptop.reload();
  await expect(sessions.filter({ hasText: 'This device' })).toHaveCount(1);

  // Signing in again brings it back where it was.
  await waitHydrated(phone);
  await phone.getByLabel('Email', { exact: true }).fill(email);
  await phone.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await phone.getByRole('button', { name: 'Sign In' }).click();
  await expect(phone).toHaveURL(/\/settings\/sessions$/);
  await expect(phone.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
});

test('"Sign out all other sessions" with three browsers keeps only this one', async ({ browser }) => {
  const email = uniqueEmail('sessions-three');
  const [a, b, c] = [await browserOf(browser), await browserOf(browser, IPHONE), await browserOf(browser)];
  await signUpVerified(a, email);
  for (const page of [a, b, c]) await signedIn(page, email);

  const sessions = await openSessions(a);
  await expect(sessions).toHaveCount(3);
  await a.getByRole('button', { name: 'Sign out all other sessions' }).click();
  const dialog = a.getByRole('dialog', { name: 'Sign Out Other Sessions' });
  await expect(dialog).toBeVisible();
  await axe(a, 'sign out other sessions dialog');
  // By keyboard: Tab to the confirming button and press Enter.
  const confirm = dialog.getByRole('button', { name: 'Sign Out Other Sessions' });
  for (let i = 0; i < 6 && !(await confirm.evaluate((el) => el === document.activeElement)); i++) {
    await a.keyboard.press('Tab');
  }
  await expect(confirm).toBeFocused();
  await a.keyboard.press('Enter');
  await expect(a.getByRole('status').filter({ hasText: 'Signed out of 2 other sessions.' })).toBeVisible();
  await expect(sessions).toHaveCount(1);
  await expect(a.getByRole('button', { name: 'Sign out all other sessions' })).toHaveCount(0);

  for (const page of [b, c]) {
    await page.reload();
    await expect(page).toHaveURL(/\/signin\?next=/);
  }
  await a.reload();
  await expect(a.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
});

/** The Event column of the log table, top to bottom. */
async function eventsOnPage(page: Page): Promise<string[]> {
  const rows = page.getByRole('table').getByRole('row');
  const n = await rows.count();
  const events: string[] = [];
  for (let i = 1; i < n; i++) events.push((await rows.nth(i).getByRole('cell').nth(1).innerText()).trim());
  return events;
}

/** RFC 4180 rows (quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; }
    else if (ch === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else if (ch !== '\r') cell += ch;
  }
  return rows;
}

async function download(page: Page, name: string): Promise<{ file: string; text: string }> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name }).click(),
  ]);
  return { file: file.suggestedFilename(), text: readFileSync((await file.path())!, 'utf8') };
}

test('the security log tells what happened in words, exports it, and keeps its filter in the URL', async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const email = uniqueEmail('log');
  // The browser's days are not UTC's: the date filters must use the browser's.
  const page = await browserOf(browser, undefined, zoneOffUtcDate());
  const other = await browserOf(browser, HOSTILE);
  await signUpVerified(page, email);
  // A wrong password, then the right one.
  await signIn(page, email, 'Not-The-Password-1');
  await expect(page.getByRole('alert')).toContainText('Invalid email or password');
  await signedIn(page, email);
  // The password changed (and back, keeping the helpers' password).
  for (const [from, to] of [[STRONG_PASSWORD, 'Basalt-Lantern-77?'], ['Basalt-Lantern-77?', STRONG_PASSWORD]]) {
    await page.getByRole('button', { name: 'Change Password' }).click();
    const change = page.getByRole('dialog', { name: 'Change Password' });
    await change.getByLabel('Current Password', { exact: true }).fill(from);
    await change.getByLabel('New Password', { exact: true }).fill(to);
    await change.getByLabel('Repeat New Password', { exact: true }).fill(to);
    await change.getByRole('button', { name: 'Save' }).click();
    await expect(change).toBeHidden();
  }
  // The authenticator on and off.
  const { secret } = await enableAuthenticator(page);
  const block = page.getByRole('group', { name: 'Authenticator App Code' });
  await block.getByRole('button', { name: 'Disable' }).click();
  const off = page.getByRole('dialog', { name: 'Disable Authenticator App' });
  await off.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
  await off.getByRole('button', { name: 'Disable' }).click();
  await expect(block.getByRole('button', { name: 'Enable' })).toBeVisible();
  // Another browser signs in and is revoked.
  await signedIn(other, email);
  const sessions = await openSessions(page);
  await sessions.filter({ hasNotText: 'This device' }).getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('dialog', { name: 'Revoke Session' }).getByRole('button', { name: 'Revoke' }).click();
  await expect(sessions).toHaveCount(1);
  // The hostile user agent stayed text: no element came of it.
  await expect(page.getByRole('main').locator('img')).toHaveCount(0);

  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Security log' }).click();
  await expect(page.getByRole('heading', { name: 'Security log', level: 1 })).toBeVisible();
  await waitHydrated(page);
  const table = page.getByRole('table');
  const row = (event: string) => table.getByRole('row').filter({ has: page.getByRole('cell', { name: event, exact: true }) });
  await expect(row('Session revoked')).toHaveCount(1);
  for (const [event, count, outcome] of [
    ['Wrong password', 1, 'Refused'],
    ['Signed in', 2, 'Success'],
    ['Password changed', 2, 'Success'],
    ['Authenticator app turned on', 1, 'Success'],
    ['Authenticator app turned off', 1, 'Success'],
    ['Account created', 1, 'Success'],
    ['Email address verified', 1, 'Success'],
  ] as const) {
    await expect(row(event), event).toHaveCount(count);
    await expect(row(event).first()).toContainText(outcome);
  }
  // Newest first: the revocation is the top row; each row has its address and place.
  expect((await eventsOnPage(page))[0]).toBe('Session revoked');
  await expect(row('Session revoked')).toContainText('127.0.0.1');
  await expect(row('Session revoked')).toContainText('Local network');
  await axe(page, 'security log');
  await expect(page.getByRole('main').locator('img')).toHaveCount(0);

  // Both exports hold the page's rows, in its order, named after the account and day.
  const shown = await eventsOnPage(page);
  const day = new Date().toISOString().slice(0, 10);
  const account = email.replace(/[^A-Za-z0-9.-]/g, '_');
  const csv = await download(page, 'Download CSV');
  expect(csv.file).toBe(`security-log-${account}-${day}.csv`);
  const rows = parseCsv(csv.text);
  expect(rows[0].slice(0, 4)).toEqual(['Time (UTC)', 'Event', 'Outcome', 'IP address']);
  expect(rows.slice(1).map((r) => r[1])).toEqual(shown);
  expect(rows.find((r) => r[1] === 'Wrong password')![2]).toBe('refused');
  // The hostile user agent is one cell, whole, as it was sent (its sign-in, and the
  // new sign-in notice it caused).
  expect(rows.filter((r) => r[6] === HOSTILE).map((r) => r[1]).sort()).toEqual([
    'New sign-in notice sent: new device, new browser',
    'Signed in',
  ]);
  const jsonl = await download(page, 'Download JSON Lines');
  expect(jsonl.file).toBe(`security-log-${account}-${day}.jsonl`);
  const lines = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => l.event)).toEqual(shown);
  expect(lines[0]).toMatchObject({ event: 'Session revoked', outcome: 'success', ip: '127.0.0.1' });
  expect(lines.filter((l) => l.user_agent === HOSTILE).map((l) => l.event).sort()).toEqual([
    'New sign-in notice sent: new device, new browser',
    'Signed in',
  ]);

  // A category filter goes into the URL, survives a reload, and narrows the export.
  await page.getByLabel('Category').selectOption({ label: 'Password' });
  await page.getByRole('button', { name: 'Apply Filters' }).click();
  await expect(page).toHaveURL(/category=password/);
  await expect(row('Password changed')).toHaveCount(2);
  await expect(row('Signed in')).toHaveCount(0);
  await page.reload();
  await waitHydrated(page);
  await expect(page.getByLabel('Category')).toHaveValue('password');
  expect(await eventsOnPage(page)).toEqual(['Password changed', 'Password changed']);
  const narrowed = await download(page, 'Download JSON Lines');
  expect(narrowed.text.trim().split('\n').map((l) => JSON.parse(l).event)).toEqual(['Password changed', 'Password changed']);

  // Dates are the browser's days (its zone's date is not UTC's here): a range to
  // yesterday shows nothing; one to today, or from today, shows today's events.
  const [today, yesterday] = await page.evaluate(() => {
    const ymd = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    return [ymd(new Date()), ymd(new Date(Date.now() - 86_400_000))];
  });
  expect(today).not.toBe(new Date().toISOString().slice(0, 10));
  await gotoReady(page, `/settings/security-log?to=${yesterday}`);
  await expect(page.getByText('No events match these filters.')).toBeVisible();
  await gotoReady(page, `/settings/security-log?to=${today}`);
  await expect(page.getByLabel('To')).toHaveValue(today);
  await expect(row('Session revoked')).toHaveCount(1);
  await gotoReady(page, `/settings/security-log?from=${today}`);
  await expect(page.getByLabel('From')).toHaveValue(today);
  await expect(row('Session revoked')).toHaveCount(1);
  await expect(row('Account created')).toHaveCount(1);
  // The export carries the date range as the page reads it.
  await gotoReady(page, `/settings/security-log?from=${yesterday}&to=${yesterday}`);
  await expect(page.getByText('No events match these filters.')).toBeVisible();
  expect((await download(page, 'Download JSON Lines')).text).toBe('');
  await gotoReady(page, `/settings/security-log?category=password&from=${today}&to=${today}`);
  await expect(row('Password changed')).toHaveCount(2);
  const ranged = await download(page, 'Download CSV');
  expect(parseCsv(ranged.text).slice(1).map((r) => r[1])).toEqual(await eventsOnPage(page));

  // Past 50 events, "Load more" brings the next page, without repeating a row.
  const api = await apiRequest.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL! } });
  for (let i = 0; i < 26; i++) {
    const signedInByApi = await api.post('/api/sign_in', { form: { email, password: STRONG_PASSWORD } });
    expect(signedInByApi.status()).toBe(200);
    expect((await api.post('/api/sign_out', { form: {} })).status()).toBe(200);
  }
  await api.dispose();
  await gotoReady(page, '/settings/security-log');
  await expect(table.getByRole('row')).toHaveCount(51);
  await page.getByRole('button', { name: 'Load more' }).click();
  await expect(row('Account created')).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Load more' })).toHaveCount(0);
  // The button is gone: the focus is on what it brought, in words.
  const status = page.getByRole('status').filter({ hasText: /more events? shown\. That is all of them\./ });
  await expect(status).toBeFocused();
  const all = await eventsOnPage(page);
  // 26 sign-ins and sign-outs, and the new sign-in notice of the API client's first
  // sign-in (a new device; it keeps its device cookie after that).
  const notices = all.slice(0, all.length - shown.length).filter((e) => e.startsWith('New sign-in notice')).length;
  expect(notices).toBeGreaterThanOrEqual(1);
  expect(all.length).toBe(shown.length + 52 + notices);
  expect(all.slice(52 + notices)).toEqual(shown);
});

// Issue 22: the one recent-proof rule. This instance remembers a proof of identity for
// 5 seconds only (LATCHKEY_SESSION_REAUTH_SECONDS in playwright.config.ts).
test.describe('with proofs of identity that last 5 seconds', () => {
  test.use({ baseURL: 'http://127.0.0.1:3101' });

  test('revoking a session long after signing in asks for the password in the dialog', async ({ browser }) => {
    const email = uniqueEmail('sessions-proof');
    const laptop = await browserOf(browser);
    const phone = await browserOf(browser, IPHONE);
    await signUpVerified(laptop, email);
    await signedIn(laptop, email);
    await signedIn(phone, email);
    const sessions = await openSessions(laptop);
    await expect(sessions).toHaveCount(2);
    await laptop.waitForTimeout(6_000);

    await sessions.filter({ hasNotText: 'This device' }).getByRole('button', { name: 'Revoke' }).click();
    const dialog = laptop.getByRole('dialog', { name: 'Revoke Session' });
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    // The proof is old: the dialog says why and asks for the password, focused.
    await expect(dialog.getByRole('alert')).toContainText('enter your password to confirm it is you');
    const password = dialog.getByLabel('Password', { exact: true });
    await expect(password).toBeFocused();
    await axe(laptop, 'revoke dialog asking for the password');
    await password.fill('Not-The-Password-1!');
    await laptop.keyboard.press('Enter');
    await expect(dialog.getByText('The password is not correct.')).toBeVisible();
    await password.fill(STRONG_PASSWORD);
    await laptop.keyboard.press('Enter');
    await expect(laptop.getByText('Session revoked. That browser is signed out.')).toBeVisible();
    await expect(sessions).toHaveCount(1);
  });
});
