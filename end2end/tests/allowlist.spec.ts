import { test, expect, type Browser } from '@playwright/test';
import { axe, firstLink, generateToken, gotoReady, signIn, signUpVerified, tabTo, uniqueEmail, waitForMail } from './helpers';

// Settings > IP allowlist (seed 002, "Advanced Security"). Browsers at other addresses
// are contexts presenting them through the proxy header the app trusts from 127.0.0.1.

const OFFICE = '198.51.100.7';
const HOME = '192.0.2.0/24';
const ELSEWHERE = '100.24.1.9';
const NEW_PASSWORD = 'Fresh-Harbor-Lantern-77';

async function at(browser: Browser, ip: string) {
  return browser.newContext({
    baseURL: 'http://127.0.0.1:3100',
    extraHTTPHeaders: { 'X-Forwarded-For': ip },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
}

test('an allowlist by keyboard: add, the self-lockout guard, test an address, enforced at sign-in, on sessions and tokens, off after a reset', async ({ browser }) => {
  test.setTimeout(120_000);
  const office = await at(browser, OFFICE);
  const page = await office.newPage();
  const email = uniqueEmail('allowlist');
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  const secret = await (async () => {
    await gotoReady(page, '/settings/tokens');
    return generateToken(page, 'Allowlisted', ['account:read']);
  })();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'IP allowlist' }).click();
  await expect(page.getByRole('heading', { name: 'IP allowlist', level: 1 })).toBeVisible();
  await expect(page.getByText(OFFICE)).toBeVisible();
  await axe(page, 'IP allowlist, empty');

  // Keyboard only: a range for home, then turn it on and save: this address is left
  // out, so the guard appears, naming it.
  const value = page.getByLabel('IP address or range');
  await tabTo(page, value);
  await page.keyboard.type(HOME);
  await page.keyboard.press('Tab');
  await page.keyboard.type('home');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('list', { name: 'Allowed addresses' }).getByText(HOME)).toBeVisible();
  const on = page.getByRole('switch', { name: 'Enable IP allowlist' });
  await tabTo(page, on);
  await page.keyboard.press('Space');
  await expect(on).toHaveAttribute('aria-checked', 'true');
  await tabTo(page, page.getByRole('button', { name: 'Save configuration' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert').filter({ hasText: OFFICE })).toBeVisible();
  const tick = page.getByLabel('I understand this will sign me out here');
  await expect(tick).toBeVisible();
  await axe(page, 'IP allowlist, self-lockout guard');
  // Instead of ticking: add this address too, and save.
  await value.fill(OFFICE);
  await page.getByLabel('Note').fill('office');
  await page.getByRole('button', { name: 'Add' }).click();
  // An invalid entry is named, and nothing is saved.
  await value.fill('intranet');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('button', { name: 'Save configuration' }).click();
  await expect(page.getByRole('alert').filter({ hasText: '"intranet"' })).toBeVisible();
  await page.getByRole('button', { name: 'Remove intranet' }).click();
  await page.getByRole('button', { name: 'Save configuration' }).click();
  await expect(page.getByText('IP allowlist saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByRole('switch', { name: 'Enable IP allowlist' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByRole('list', { name: 'Allowed addresses' }).getByRole('listitem')).toHaveCount(2);

  // Test an address.
  await page.getByLabel('Address to test').fill('192.0.2.44');
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await expect(page.getByText(/192\.0\.2\.44 would be let in\. 192\.0\.2\.0\/24 \(home\) lets it in\./)).toBeVisible();
  await page.getByLabel('Address to test').fill(ELSEWHERE);
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await expect(page.getByText(`${ELSEWHERE} would be refused.`, { exact: false })).toBeVisible();
  await axe(page, 'IP allowlist, on, tested');

  // Sign-in from elsewhere: the wrong password's answer; from home: in.
  const away = await at(browser, ELSEWHERE);
  const awayPage = await away.newPage();
  await signIn(awayPage, email);
  await expect(awayPage.getByRole('alert')).toContainText('Invalid email or password');
  const home = await at(browser, '192.0.2.44');
  const homePage = await home.newPage();
  await signIn(homePage, email);
  await expect(homePage.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await home.close();

  // The office session, now used from elsewhere (the same cookie): signed out with a reason.
  const moved = await at(browser, ELSEWHERE);
  await moved.addCookies(await office.cookies());
  const movedPage = await moved.newPage();
  await movedPage.goto('/settings/security');
  await expect(movedPage.getByRole('heading', { name: 'Sign in', level: 1 })).toBeVisible();
  await expect(movedPage.getByRole('alert')).toContainText("your account's IP allowlist does not include the address");
  await moved.close();

  // A token from elsewhere: 403 ip_not_allowed; from the office: 200.
  const call = async (ip: string) =>
    page.request.get('/api/v1/account', { headers: { Authorization: `Bearer ${secret}`, 'X-Forwarded-For': ip } });
  const refused = await call(ELSEWHERE);
  expect(refused.status()).toBe(403);
  expect((await refused.json()).type).toBe('urn:latchkey:problem:ip_not_allowed');
  expect((await call(OFFICE)).status()).toBe(200);

  // Locked out elsewhere: the reset link works from any address and turns the list off.
  await gotoReady(awayPage, '/forgot-password');
  await awayPage.getByLabel('Email', { exact: true }).fill(email);
  await awayPage.getByRole('button', { name: 'Send Reset Link' }).click();
  await expect(awayPage.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  await gotoReady(awayPage, firstLink(await waitForMail(email, 'Reset your password'), '/reset-password'));
  await awayPage.getByLabel('New Password', { exact: true }).fill(NEW_PASSWORD);
  await awayPage.getByLabel('Repeat New Password', { exact: true }).fill(NEW_PASSWORD);
  await awayPage.getByRole('button', { name: 'Save' }).click();
  await expect(awayPage.getByText('Your password has been changed.')).toBeVisible();
  await expect(awayPage.getByText('Your IP allowlist has been turned off')).toBeVisible();
  const notice = await waitForMail(email, 'Your password was reset');
  expect(notice.text).toContain('IP allowlist was turned off');
  await signIn(awayPage, email, NEW_PASSWORD);
  await expect(awayPage.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await away.close();
  await office.close();
});
