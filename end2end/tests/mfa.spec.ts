import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  STRONG_PASSWORD, cspViolations, freshCode, gotoReady, signIn, signUpVerified, uniqueEmail, waitForMail, watchCsp,
} from './helpers';

const work = mkdtempSync(join(tmpdir(), 'latchkey-mfa-'));

/** Decodes a QR code from a PNG with the real zbarimg. */
function decodeQr(png: Buffer): string {
  const file = join(work, `qr-${Date.now()}.png`);
  writeFileSync(file, png);
  return execFileSync('zbarimg', ['--raw', '-q', file]).toString().trim();
}

async function signOut(page: Page) {
  await gotoReady(page, '/settings/security');
  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
}

async function passwordStep(page: Page, email: string) {
  await signIn(page, email);
  await expect(page).toHaveURL(/\/signin\/verify$/);
  await expect(page.getByText('Enter the 6-digit code from your authenticator app')).toBeVisible();
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');
}

async function recoveryStep(page: Page, code: string) {
  await page.getByRole('button', { name: 'Use a recovery code' }).click();
  await page.getByLabel('Recovery code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
}

const security = (page: Page) => page.getByRole('heading', { name: 'Security', level: 1 });

test('authenticator app: enable with a scanned QR code, sign in with codes, recovery codes, disable', async ({ page }) => {
  test.setTimeout(240_000);
  const email = uniqueEmail('mfa');
  await watchCsp(page);
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(security(page)).toBeVisible();
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');

  // Enable: four steps in one dialog.
  const block = page.getByRole('group', { name: 'Authenticator App Code' });
  await expect(block.getByText('Not enabled')).toBeVisible();
  await block.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable Authenticator App' });
  await expect(dialog.getByText('Step 1 of 4')).toBeVisible();
  await dialog.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Continue' }).click();

  await expect(dialog.getByText('Step 2 of 4')).toBeVisible();
  const uri = decodeQr(await dialog.getByRole('img', { name: 'QR code' }).screenshot());
  expect(uri).toMatch(/^otpauth:\/\/totp\/Latchkey:/);
  const parsed = new URL(uri);
  const secret = parsed.searchParams.get('secret')!;
  expect(parsed.searchParams.get('issuer')).toBe('Latchkey');
  expect(decodeURIComponent(parsed.pathname)).toContain(email);
  expect((await dialog.getByLabel('Secret key').innerText()).replace(/\s/g, '')).toBe(secret);
  await dialog.getByRole('button', { name: 'Continue' }).click();

  await expect(dialog.getByText('Step 3 of 4')).toBeVisible();
  await dialog.getByLabel('Code', { exact: true }).fill(await freshCode(secret)); // submits itself at the sixth digit
  await expect(dialog.getByText('Step 4 of 4')).toBeVisible();

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    dialog.getByRole('link', { name: 'Download as Text File' }).click(),
  ]);
  const text = readFileSync(await download.path()).toString();
  const codes = text.match(/^[a-z02-9]{4}(?:-[a-z02-9]{4}){3}$/gm) ?? [];
  expect(codes).toHaveLength(10);
  expect(text).toContain(email);
  expect(text).toMatch(/Generated: \d+ \w+ \d{4}/);
  const done = dialog.getByRole('button', { name: 'Done' });
  await expect(done).toBeDisabled();
  await dialog.getByLabel('I have saved these codes').check();
  await done.click();
  await expect(block.getByText('Enabled', { exact: true })).toBeVisible();
  // The QR code (inline SVG), the code field and the download all work under the CSP.
  expect(await cspViolations(page)).toEqual([]);
  await waitForMail(email, 'Authenticator app enabled');

  // Sign in with a code from the app.
  await signOut(page);
  await passwordStep(page, email);
  await page.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
  await expect(security(page)).toBeVisible();

  // Sign in with a recovery code; the same code fails the second time.
  await signOut(page);
  await passwordStep(page, email);
  await recoveryStep(page, codes[0]);
  await expect(security(page)).toBeVisible();
  await signOut(page);
  await passwordStep(page, email);
  await recoveryStep(page, codes[0]);
  await expect(page.getByText('Invalid code')).toBeVisible();
  await page.getByRole('button', { name: 'Use your authenticator app instead' }).click();
  await page.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
  await expect(security(page)).toBeVisible();

  // View the codes (needs a fresh code): the used one is marked; regenerate.
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');
  await page.getByRole('button', { name: 'View Recovery Codes' }).click();
  const view = page.getByRole('dialog', { name: 'Recovery Codes' });
  await view.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
  const list = view.getByRole('list', { name: 'Recovery codes' });
  await expect(list.getByRole('listitem')).toHaveCount(10);
  await expect(list.getByRole('listitem').filter({ hasText: codes[0] })).toContainText('(used)');
  // Regenerating asks first, and saying no keeps the codes.
  await view.getByRole('button', { name: 'Regenerate' }).click();
  await expect(view.getByText('Your 10 current recovery codes stop working')).toBeVisible();
  await view.getByRole('button', { name: 'Keep Current Codes' }).click();
  await expect(list.getByRole('listitem').filter({ hasText: codes[0] })).toContainText('(used)');
  await view.getByRole('button', { name: 'Regenerate' }).click();
  await view.getByRole('button', { name: 'Regenerate Codes' }).click();
  await expect(list.getByRole('listitem').filter({ hasText: '(used)' })).toHaveCount(0);
  const fresh = (await list.getByRole('listitem').allInnerTexts()).map((t) => t.trim());
  expect(fresh).toHaveLength(10);
  expect(fresh).not.toContain(codes[1]);
  await waitForMail(email, 'New recovery codes');
  await view.getByRole('button', { name: 'Close' }).click();

  // The old codes fail now; a new one works.
  await signOut(page);
  await passwordStep(page, email);
  await recoveryStep(page, codes[1]);
  await expect(page.getByText('Invalid code')).toBeVisible();
  await page.getByLabel('Recovery code', { exact: true }).fill(fresh[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(security(page)).toBeVisible();

  // Disable with a code: sign-in asks for the password only.
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');
  await block.getByRole('button', { name: 'Disable' }).click();
  const off = page.getByRole('dialog', { name: 'Disable Authenticator App' });
  await expect(off.getByText('signing in needs only your password')).toBeVisible();
  await off.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
  await off.getByRole('button', { name: 'Disable' }).click();
  await expect(block.getByText('Not enabled')).toBeVisible();
  await waitForMail(email, 'Authenticator app disabled');
  await signOut(page);
  await signIn(page, email);
  await expect(security(page)).toBeVisible();
});

test('a wrong code gets only "Invalid code" and abandoning set-up enables nothing', async ({ page }) => {
  const email = uniqueEmail('mfa-wrong');
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(security(page)).toBeVisible();
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');
  const block = page.getByRole('group', { name: 'Authenticator App Code' });
  await block.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable Authenticator App' });
  await dialog.getByLabel('Password', { exact: true }).fill('Wrong-Password-123!');
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await expect(dialog.getByText('The password is not correct.')).toBeVisible();
  await dialog.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await dialog.getByLabel('Code', { exact: true }).fill('000000');
  await expect(dialog.getByText('Invalid code')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(block.getByText('Not enabled')).toBeVisible();
  await signOut(page);
  await signIn(page, email);
  await expect(security(page)).toBeVisible();
});
