import { expect, type Locator, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';

const MAIL_API = 'http://127.0.0.1:2580';

export const STRONG_PASSWORD = 'Granite-Kettle-42!';

export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

export type Mail = { to: string[]; subject: string; text: string; html: string };

/** Waits until the real SMTP server has received a message for `to` whose subject contains `subject`. */
export async function waitForMail(to: string, subject: string, timeoutMs = 15_000): Promise<Mail> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${MAIL_API}/messages?to=${encodeURIComponent(to)}`);
    const list = (await res.json()) as Mail[];
    const found = list.find((m) => m.subject.includes(subject));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail "${subject}" for ${to} within ${timeoutMs} ms`);
}

export async function mailsFor(to: string): Promise<Mail[]> {
  const res = await fetch(`${MAIL_API}/messages?to=${encodeURIComponent(to)}`);
  return (await res.json()) as Mail[];
}

export function firstLink(mail: Mail, pathPart: string): string {
  const match = mail.text.match(new RegExp(`https?://\\S*${pathPart}\\S*`));
  if (!match) throw new Error(`no ${pathPart} link in: ${mail.text}`);
  return match[0];
}

/** The page is interactive once the WebAssembly has hydrated it. */
export async function gotoReady(page: Page, path: string) {
  await page.goto(path);
  await waitHydrated(page);
}

export async function waitHydrated(page: Page) {
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');
}

export async function signUp(page: Page, email: string, password = STRONG_PASSWORD) {
  await gotoReady(page, '/signup');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
}

/** Signs up and follows the verification link from the real mail, as an owner does. */
export async function signUpVerified(page: Page, email: string, password = STRONG_PASSWORD) {
  await signUp(page, email, password);
  const link = firstLink(await waitForMail(email, 'Verify your email address'), '/verify-email');
  await page.goto(link);
  await expect(page.getByText('Your email address is verified')).toBeVisible();
}

export async function signIn(page: Page, email: string, password = STRONG_PASSWORD) {
  await gotoReady(page, '/signin');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();
}

/** Records what would tell a person (or us) that the page is broken. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Chromium also logs each 4xx as a console error; the API's are expected (see below).
    const from = m.location().url ? new URL(m.location().url).pathname : '';
    if (m.type() === 'error' && !from.startsWith('/api/')) problems.push(`console error: ${m.text()} (${from})`);
  });
  page.on('requestfailed', (r) => {
    // Going on to the next page cancels the last one's chunk preloads still in flight
    // (net::ERR_ABORTED); a file that is missing or broken shows as a status below.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    // Server functions answer 4xx on purpose (a used link, a wrong password); files and pages must not.
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/api/')) {
      problems.push(`${r.status()} for ${r.url()}`);
    }
  });
  return problems;
}

/** Collects Content-Security-Policy violations in every document the page loads. */
export async function watchCsp(page: Page) {
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      w.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp: string[] }).__csp ?? []);
}

/**
 * A code from the real oathtool that the account has not taken yet. The server takes
 * each time step of an account once and accepts the step either side of its own (a
 * phone's clock a little off): a secret's first code is the current step's, the next
 * one the following step's (as a phone a few seconds ahead shows it), and only a third
 * within one step waits for the step to turn. Secrets are independent: every new
 * secret (a new account, or the app set up again) starts afresh.
 */
const lastStep = new Map<string, number>();
export async function freshCode(secret: string): Promise<string> {
  for (;;) {
    const seconds = Date.now() / 1000;
    const current = Math.floor(seconds / 30);
    const last = lastStep.get(secret) ?? -1;
    const step = last < current ? current : last === current ? current + 1 : undefined;
    if (step !== undefined) {
      lastStep.set(secret, step);
      return execFileSync('oathtool', ['--totp', '-b', secret, '-N', `@${step * 30}`]).toString().trim();
    }
    await new Promise((r) => setTimeout(r, ((current + 1) * 30 - seconds) * 1000 + 250));
  }
}

/** Presses Tab (or Shift+Tab) until `target` has the focus; fails after 40 presses. */
export async function tabTo(page: Page, target: Locator, backwards = false) {
  for (let i = 0; i < 40; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
  }
  await expect(target).toBeFocused();
}

/**
 * Turns on the authenticator app for the signed-in account on the Security page
 * (password, scanned secret, a real oathtool code, saved recovery codes); gives the
 * secret and the ten recovery codes (none when another method brought them before).
 */
export async function enableAuthenticator(page: Page): Promise<{ secret: string; codes: string[] }> {
  const block = page.getByRole('group', { name: 'Authenticator App Code' });
  await block.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable Authenticator App' });
  await dialog.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  const secret = (await dialog.getByLabel('Secret key').innerText()).replace(/\s/g, '');
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await dialog.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
  // The account's first method brings the recovery codes; a later one keeps them.
  const codes = await saveCodesIfShown(page, dialog);
  await expect(block.getByText('Enabled', { exact: true })).toBeVisible();
  return { secret, codes };
}

/** The code in the `count`-th mail to `to` whose subject contains `reason`, as the real SMTP server received it. */
export async function waitForCode(to: string, reason: string, count = 1, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = (await mailsFor(to)).filter((m) => m.subject.includes(reason));
    if (found.length >= count) {
      const match = found[count - 1].text.match(/: (\d{6})\n/);
      if (!match) throw new Error(`no code in: ${found[count - 1].text}`);
      return match[1];
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${count} mail(s) "${reason}" for ${to} within ${timeoutMs} ms`);
}

/**
 * Turns on Email Code for the signed-in account on the Security page (the password,
 * then the code from the real mail).
 */
export async function enableEmailCode(page: Page, email: string): Promise<string[]> {
  const block = page.getByRole('group', { name: 'Email Code' });
  await block.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable Email Code' });
  await dialog.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await expect(dialog.getByText(`We sent a 6-digit code to ${email}`)).toBeVisible();
  await dialog.getByLabel('Code', { exact: true }).fill(await waitForCode(email, 'to turn on email codes'));
  const codes = await saveCodesIfShown(page, dialog);
  await expect(block.getByText('Enabled', { exact: true })).toBeVisible();
  return codes;
}

/**
 * Turning on an account's first method ends with its ten recovery codes: reads them,
 * ticks "I have saved these codes" and presses Done. Gives them (none when the dialog
 * closed on its own: the account already had codes).
 */
export async function saveCodesIfShown(page: Page, dialog: Locator): Promise<string[]> {
  const list = dialog.getByRole('list', { name: 'Recovery codes' });
  await expect.poll(async () => (await list.count()) > 0 || !(await dialog.isVisible()), { timeout: 15_000 }).toBe(true);
  if (!(await dialog.isVisible())) return [];
  await expect(list.getByRole('listitem')).toHaveCount(10);
  const codes = (await list.getByRole('listitem').allInnerTexts()).map((t) => t.trim());
  await dialog.getByLabel('I have saved these codes').check();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
  return codes;
}

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

/** axe-core (WCAG 2.2 A and AA) finds nothing wrong with the page as it is now. */
export async function axe(page: Page, state: string) {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  const found = results.violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(found, `axe on "${state}"`).toEqual([]);
}

/** What the clipboard holds (the context needs the clipboard permissions). */
export async function readClipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

/**
 * On Settings > API tokens: generates a token with `scopes` and gives its secret, read
 * through the dialog's "Copy" (the context needs the clipboard permissions).
 */
export async function generateToken(page: Page, name: string, scopes: string[], expiration?: string): Promise<string> {
  await page.getByRole('button', { name: 'Generate Token' }).click();
  const dialog = page.getByRole('dialog', { name: 'Generate Token' });
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  if (expiration) await dialog.getByLabel('Expiration', { exact: true }).selectOption({ label: expiration });
  for (const s of scopes) await dialog.getByRole('checkbox', { name: new RegExp(`^${s}`) }).check();
  await dialog.getByRole('button', { name: 'Generate Token' }).click();
  await expect(dialog.getByText('It will not be shown again')).toBeVisible();
  await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
  await expect(dialog.getByText('Token copied.')).toBeVisible();
  const secret = await readClipboard(page);
  expect(secret).toMatch(/^lk_pat_[0-9A-Za-z]{46}$/);
  await expect(dialog.getByLabel('Your new token')).toHaveValue(secret);
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
  return secret;
}
