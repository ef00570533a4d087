import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';
import {
  STRONG_PASSWORD, firstLink, gotoReady, signIn, signUp, uniqueEmail, waitForCode, waitForMail, waitHydrated,
} from './helpers';

// axe-core on every page and every dialog state, in both colour schemes, on a phone
// and a desktop width: no WCAG 2.2 A/AA violation, no sideways scrolling on a phone,
// and a screenshot of each state at 375 px kept with the test results.

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

async function check(page: Page, state: string) {
  // Let transitions and toasts settle so that axe sees what a person sees.
  await page.waitForTimeout(250);
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(found, `axe on "${state}"`).toEqual([]);
  // axe really looked: even the plainest page passes several of its checks.
  expect(results.passes.length, `axe checks run on "${state}"`).toBeGreaterThan(5);
  const width = page.viewportSize()!.width;
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `sideways scrolling on "${state}" at ${width} px`).toBeLessThanOrEqual(0);
  if (width <= 375) {
    const name = state.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    await page.screenshot({ path: test.info().outputPath(`${name}.png`), fullPage: true });
  }
}

const TOTP = (secret: string) => execFileSync('oathtool', ['--totp', '-b', secret]).toString().trim();

for (const colorScheme of ['light', 'dark'] as const) {
  for (const width of [375, 1280]) {
    test.describe(`${colorScheme}, ${width} px`, () => {
      test.use({ colorScheme, viewport: { width, height: 900 } });

      test('every page and dialog passes axe-core', async ({ page }) => {
        test.setTimeout(120_000);
        for (const path of ['/signin', '/signup', '/forgot-password', '/reset-password', '/verify-email', '/nowhere']) {
          await gotoReady(page, path);
          await check(page, `page ${path}`);
        }

        const email = uniqueEmail(`a11y-${colorScheme}-${width}`);
        await signUp(page, email);
        await check(page, 'sign-up done');
        await signIn(page, email);
        const security = page.getByRole('heading', { name: 'Security', level: 1 });
        await expect(security).toBeVisible();
        await waitHydrated(page);
        await check(page, 'security, address not verified');
        await page.goto(firstLink(await waitForMail(email, 'Verify your email address'), '/verify-email'));
        await expect(page.getByText('Your email address is verified')).toBeVisible();
        await check(page, 'email verified');
        await gotoReady(page, '/settings/security');
        await check(page, 'security');
        await gotoReady(page, '/settings/sessions');
        await check(page, 'sessions, this device only');
        await gotoReady(page, '/settings/security-log');
        await expect(page.getByRole('table')).toBeVisible();
        await check(page, 'security log');
        await gotoReady(page, '/settings/security-log?category=tokens');
        await expect(page.getByText('No events match these filters.')).toBeVisible();
        await check(page, 'security log, filtered to nothing');
        await gotoReady(page, '/settings/tokens');
        await expect(page.getByText('You have no tokens.')).toBeVisible();
        await check(page, 'API tokens');
        await gotoReady(page, '/settings/notifications');
        await expect(page.getByRole('switch', { name: 'New device' })).toBeVisible();
        await check(page, 'notifications');
        await gotoReady(page, '/settings/ip-allowlist');
        await expect(page.getByRole('switch', { name: 'Enable IP allowlist' })).toBeVisible();
        await check(page, 'IP allowlist');
        await gotoReady(page, '/settings/profile');
        await expect(page.getByRole('button', { name: 'Change Email' })).toBeVisible();
        await check(page, 'profile');
        await gotoReady(page, '/settings/security');

        // Change Password, empty and with its errors.
        await page.getByRole('button', { name: 'Change Password' }).click();
        const change = page.getByRole('dialog', { name: 'Change Password' });
        await expect(change).toBeVisible();
        await check(page, 'change password dialog');
        await change.getByRole('button', { name: 'Save' }).click();
        await expect(change.getByText('Enter your current password.')).toBeVisible();
        await check(page, 'change password errors');
        await page.keyboard.press('Escape');
        await expect(change).toBeHidden();

        // Enabling Email Code: the password, then the code with its countdown.
        const emailBlock = page.getByRole('group', { name: 'Email Code' });
        await emailBlock.getByRole('button', { name: 'Enable' }).click();
        const enableEmail = page.getByRole('dialog', { name: 'Enable Email Code' });
        await expect(enableEmail.getByText('Step 1 of 3')).toBeVisible();
        await check(page, 'enable email code step 1');
        await enableEmail.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
        await enableEmail.getByRole('button', { name: 'Continue' }).click();
        await expect(enableEmail.getByText('Step 2 of 3')).toBeVisible();
        await expect(enableEmail.getByRole('button', { name: /^Request Code \(\d+\)$/ })).toBeDisabled();
        await check(page, 'enable email code step 2, counting down');
        await enableEmail.getByLabel('Code', { exact: true }).fill(await waitForCode(email, 'to turn on email codes'));
        await expect(enableEmail.getByText('Step 3 of 3')).toBeVisible();
        await check(page, 'enable email code step 3, the recovery codes');
        await enableEmail.getByLabel('I have saved these codes').check();
        await enableEmail.getByRole('button', { name: 'Done' }).click();
        await expect(emailBlock.getByText('Enabled', { exact: true })).toBeVisible();
        await check(page, 'security, email code on');

        // Enabling the authenticator, step by step (step 1 takes an email code now).
        const block = page.getByRole('group', { name: 'Authenticator App Code' });
        await block.getByRole('button', { name: 'Enable' }).click();
        const enable = page.getByRole('dialog', { name: 'Enable Authenticator App' });
        await expect(enable.getByText('Step 1 of 4')).toBeVisible();
        await expect(enable.getByText(/We sent a 6-digit code to/)).toBeVisible();
        await check(page, 'enable step 1');
        await enable.getByLabel('Code', { exact: true }).fill(await waitForCode(email, 'to confirm it is you'));
        await expect(enable.getByText('Step 2 of 4')).toBeVisible();
        await check(page, 'enable step 2');
        const secret = (await enable.getByText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/).textContent())!.replace(/ /g, '');
        await enable.getByRole('button', { name: 'Continue' }).click();
        await expect(enable.getByText('Step 3 of 4')).toBeVisible();
        await check(page, 'enable step 3');
        await enable.getByLabel('Code', { exact: true }).fill(TOTP(secret));
        // The codes came with Email Code: no fourth step.
        await expect(enable).toBeHidden();
        await expect(block.getByText('Enabled', { exact: true })).toBeVisible();
        await check(page, 'security, authenticator on');

        await page.getByRole('button', { name: 'View Recovery Codes' }).click();
        const view = page.getByRole('dialog', { name: 'Recovery Codes' });
        await expect(view.getByLabel('Code', { exact: true })).toBeVisible();
        await check(page, 'view recovery codes, asking for a code');
        await page.keyboard.press('Escape');
        await block.getByRole('button', { name: 'Disable' }).click();
        const disable = page.getByRole('dialog', { name: 'Disable Authenticator App' });
        await expect(disable.getByLabel('Code', { exact: true })).toBeVisible();
        await check(page, 'disable authenticator');
        await disable.getByRole('button', { name: 'Cancel' }).click();
        await emailBlock.getByRole('button', { name: 'Disable' }).click();
        const disableEmail = page.getByRole('dialog', { name: 'Disable Email Code' });
        await expect(disableEmail.getByText(/We sent a 6-digit code to/)).toBeVisible();
        await check(page, 'disable email code');
        await disableEmail.getByRole('button', { name: 'Cancel' }).click();

        // The second step of sign-in, both ways.
        await page.getByRole('button', { name: 'Sign Out' }).click();
        await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
        await signIn(page, email);
        await expect(page).toHaveURL(/\/signin\/verify$/);
        await waitHydrated(page);
        await check(page, 'sign-in second step, choosing the method');
        await page.getByRole('radio', { name: 'Email code' }).check();
        await expect(page.getByText(/We sent a 6-digit code to/)).toBeVisible();
        await check(page, 'sign-in second step by email');
        await page.getByRole('button', { name: 'Use a recovery code' }).click();
        await expect(page.getByLabel('Recovery code', { exact: true })).toBeVisible();
        await check(page, 'sign-in with a recovery code');
      });
    });
  }
}
