import { test, expect, type Page } from '@playwright/test';
import { gotoReady, signIn, signUpVerified, uniqueEmail, waitHydrated, watchProblems } from './helpers';

// Every page opened once, signed out and then signed in, each hydrated and showing
// what it shows from the database, with no console error and no failed request. On
// SQLite the rest of the suite covers these pages in depth; scripts/test.sh runs this
// file (with instances.spec.ts) again on PostgreSQL, where every server function and
// flow is already covered by the Rust tests (playwright.config.ts, POSTGRES_SPECS).

const heading = (page: Page, name: string) => page.getByRole('heading', { name, level: 1 });

test('every page opens once signed out and once signed in', async ({ page }) => {
  const problems = watchProblems(page);
  const signedOut: [string, string][] = [
    ['/signin', 'Sign in'],
    ['/signup', 'Create account'],
    ['/forgot-password', 'Forgot password'],
    ['/reset-password', 'Choose a new password'],
    ['/verify-email', 'Verify email'],
    ['/signin/verify', 'Two-step sign-in'],
  ];
  for (const [path, name] of signedOut) {
    await gotoReady(page, path);
    await expect(heading(page, name), path).toBeVisible();
  }
  // The last of them, without a pending sign-in, says so instead of waiting forever.
  await expect(page.getByRole('alert')).toHaveText('This sign-in has expired. Enter your email and password again.');
  // The start and the settings lead a visitor to sign-in, keeping where they were going.
  await page.goto('/');
  await expect(page).toHaveURL(/\/signin$/);
  await page.goto('/settings/sessions');
  await expect(page).toHaveURL(/\/signin\?next=%2Fsettings%2Fsessions$/);
  await expect(heading(page, 'Sign in')).toBeVisible();

  const email = uniqueEmail('smoke');
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(heading(page, 'Security')).toBeVisible();
  await expect(page.getByText(email).first()).toBeVisible();

  await gotoReady(page, '/settings/security');
  await expect(heading(page, 'Security')).toBeVisible();
  await expect(page.getByRole('group', { name: 'Authenticator App Code' }).getByRole('button', { name: 'Enable' })).toBeVisible();
  await gotoReady(page, '/settings/sessions');
  await expect(heading(page, 'Sessions')).toBeVisible();
  await expect(page.getByText('This device')).toBeVisible();
  await gotoReady(page, '/settings/security-log');
  await expect(heading(page, 'Security log')).toBeVisible();
  await expect(page.getByRole('table').getByRole('cell', { name: 'Signed in', exact: true })).toBeVisible();
  await gotoReady(page, '/settings/tokens');
  await expect(heading(page, 'API tokens')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Generate Token' })).toBeVisible();
  await gotoReady(page, '/settings/notifications');
  await expect(heading(page, 'Notifications')).toBeVisible();
  await expect(page.getByRole('switch', { name: 'New location' })).toHaveAttribute('aria-checked', 'true');
  await gotoReady(page, '/settings/ip-allowlist');
  await expect(heading(page, 'IP allowlist')).toBeVisible();
  await expect(page.getByRole('switch', { name: 'Enable IP allowlist' })).toHaveAttribute('aria-checked', 'false');
  await gotoReady(page, '/settings/profile');
  await expect(heading(page, 'Profile')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Change Email' })).toBeVisible();
  // Signed in, the start and the sign-in page lead to the settings.
  for (const path of ['/', '/signin', '/settings']) {
    await page.goto(path);
    await expect(page, path).toHaveURL(/\/settings\/security$/);
  }
  await waitHydrated(page);
  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(heading(page, 'Sign in')).toBeVisible();
  await page.goto('/settings/security');
  await expect(page).toHaveURL(/\/signin\?next=/);
  expect(problems).toEqual([]);
});

test('an unknown address answers 404 with a page that leads back', async ({ page }) => {
  const res = await page.goto('/no-such-page');
  expect(res?.status()).toBe(404);
  await waitHydrated(page);
  await expect(heading(page, 'Page not found')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Go to Security settings' })).toBeVisible();
});
