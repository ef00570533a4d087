import { test, expect, type Page, type APIRequestContext } from '@playwright/test';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { axe, generateToken as generate, gotoReady, readClipboard, signIn, signUpVerified, tabTo, uniqueEmail, waitForMail } from './helpers';

// Settings > API tokens (seed 002): generate, copy once, call the API with it, see it
// used, regenerate, revoke. The API is called from Playwright's own request context,
// which shares no cookie with the browser (a cookie would not open the API anyway).

const tokensHeading = (page: Page) => page.getByRole('heading', { name: 'API tokens', level: 1 });

async function call(request: APIRequestContext, path: string, token: string) {
  return request.get(path, { headers: { Authorization: `Bearer ${token}` } });
}

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

test('generate a token, use it, see it used, regenerate it, revoke it', async ({ page, request }) => {
  const email = uniqueEmail('tokens');
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  // The Security page's next steps lead here (seeds 000/001: "API Keys").
  await page.getByRole('link', { name: 'API Keys' }).click();
  await expect(tokensHeading(page)).toBeVisible();
  await expect(page.getByText('You have no tokens.')).toBeVisible();
  await axe(page, 'API tokens, none yet');

  const secret = await generate(page, 'Backup script', ['account:read', 'tokens:read']);
  await waitForMail(email, 'A new API token was created');
  const row = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Backup script' }) });
  await expect(row.getByText('account:read, tokens:read')).toBeVisible();
  await expect(row.getByText('Never used')).toBeVisible();
  await axe(page, 'API tokens, one token');

  const account = await call(request, '/api/v1/account', secret);
  expect(account.status()).toBe(200);
  expect((await account.json()).email).toBe(email);
  // Not given: 403, naming the permission.
  const sessions = await call(request, '/api/v1/sessions', secret);
  expect(sessions.status()).toBe(403);
  expect(sessions.headers()['content-type']).toBe('application/problem+json');
  expect(sessions.headers()['www-authenticate']).toContain('scope="sessions:read"');

  // "Last used" changes on the page.
  await page.reload();
  await expect(row.getByText('Never used')).toHaveCount(0);
  await expect(row.getByText('127.0.0.1')).toBeVisible();

  // Regenerate: the old secret is dead at once, the new one works.
  await row.getByRole('button', { name: 'Regenerate' }).click();
  const regen = page.getByRole('dialog', { name: 'Regenerate Token' });
  await regen.getByRole('button', { name: 'Regenerate' }).click();
  await expect(regen.getByText('It will not be shown again')).toBeVisible();
  await regen.getByRole('button', { name: 'Copy', exact: true }).click();
  await expect(regen.getByText('Token copied.')).toBeVisible();
  const renewed = await readClipboard(page);
  expect(renewed).not.toBe(secret);
  await regen.getByRole('button', { name: 'Done' }).click();
  expect((await call(request, '/api/v1/account', secret)).status()).toBe(401);
  expect((await call(request, '/api/v1/account', renewed)).status()).toBe(200);

  // Revoke: a confirming dialog, then the next call fails.
  await row.getByRole('button', { name: 'Revoke' }).click();
  const revoke = page.getByRole('dialog', { name: 'Revoke Token' });
  await expect(revoke.getByText('Backup script')).toBeVisible();
  await axe(page, 'Revoke Token dialog');
  await revoke.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText('Token revoked. It no longer works.')).toBeVisible();
  await expect(page.getByText('You have no tokens.')).toBeVisible();
  const after = await call(request, '/api/v1/account', renewed);
  expect(after.status()).toBe(401);
  expect(after.headers()['www-authenticate']).toContain('error="invalid_token"');

  // The security log has it all.
  await page.goto('/settings/security-log?category=tokens');
  await expect(page.getByText('API token created: Backup script')).toBeVisible();
  await expect(page.getByText('API token regenerated: Backup script')).toBeVisible();
  await expect(page.getByText('API token revoked: Backup script')).toBeVisible();
  await expect(page.getByText('Revoked API token refused').first()).toBeVisible();
});

test('the Generate Token dialog by keyboard alone, with its errors', async ({ page }) => {
  const email = uniqueEmail('tokens-kbd');
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await gotoReady(page, '/settings/tokens');
  await expect(tokensHeading(page)).toBeVisible();
  const open = page.getByRole('button', { name: 'Generate Token' });
  await tabTo(page, open);
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Generate Token' });
  await expect(dialog.getByLabel('Name', { exact: true })).toBeFocused();
  await axe(page, 'Generate Token dialog');
  // Sent empty: each problem is said beside its field.
  await tabTo(page, dialog.getByRole('button', { name: 'Generate Token' }));
  await page.keyboard.press('Enter');
  await expect(dialog.getByText('Give the token a name.')).toBeVisible();
  await expect(dialog.getByText('Choose at least one permission.')).toBeVisible();
  await axe(page, 'Generate Token dialog with errors');
  // Escape closes it, and the focus goes back to the opener.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(open).toBeFocused();

  await page.keyboard.press('Enter');
  await expect(dialog.getByLabel('Name', { exact: true })).toBeFocused();
  await page.keyboard.type('Deploy key');
  await tabTo(page, dialog.getByLabel('Expiration'));
  await page.keyboard.press('ArrowDown'); // 60 days
  await tabTo(page, dialog.getByRole('checkbox', { name: /^sessions:read/ }));
  await page.keyboard.press('Space');
  await tabTo(page, dialog.getByRole('button', { name: 'Generate Token' }));
  await page.keyboard.press('Enter');
  await expect(dialog.getByText('It will not be shown again')).toBeVisible();
  await expect(dialog.getByLabel('Your new token')).toBeFocused();
  await axe(page, 'Generate Token dialog showing the token');
  await tabTo(page, dialog.getByRole('button', { name: 'Done' }));
  await page.keyboard.press('Enter');
  const row = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Deploy key' }) });
  await expect(row.getByText('sessions:read')).toBeVisible();
});

test.describe('on a server whose clock the test moves', () => {
  // The MOVED_CLOCK_PORT server of playwright.config.ts: libfaketime reads the clock's
  // offset from this file (again every second).
  test.use({ baseURL: 'http://127.0.0.1:3103' });
  const clock = fileURLToPath(new URL('../.run/faketime', import.meta.url));
  test.afterEach(() => fs.writeFileSync(clock, '+0d\n'));

  test('a token past its expiry gets 401, is logged and shows as Expired', async ({ page, request }) => {
    const email = uniqueEmail('tokens-expiry');
    await signUpVerified(page, email);
    await signIn(page, email);
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    await gotoReady(page, '/settings/tokens');
    const secret = await generate(page, 'Weekly job', ['account:read'], '7 days');
    expect((await call(request, '/api/v1/account', secret)).status()).toBe(200);

    // Eight days later (the session is long gone: sign in again).
    fs.writeFileSync(clock, '+8d\n');
    await expect.poll(async () => (await call(request, '/api/v1/account', secret)).status(), { timeout: 10_000 }).toBe(401);
    const refused = await call(request, '/api/v1/account', secret);
    expect(refused.headers()['www-authenticate']).toContain('error="invalid_token"');
    expect(refused.headers()['content-type']).toBe('application/problem+json');
    await signIn(page, email);
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    await gotoReady(page, '/settings/tokens');
    const row = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Weekly job' }) });
    await expect(row.getByText('Expired', { exact: true })).toBeVisible();
    await page.goto('/settings/security-log?category=tokens');
    await expect(page.getByText('Expired API token refused')).toHaveCount(1);
  });
});
