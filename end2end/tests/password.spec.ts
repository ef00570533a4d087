import { test, expect, type Page } from '@playwright/test';
import { STRONG_PASSWORD, firstLink, gotoReady, mailsFor, signIn, signUp, uniqueEmail, waitForMail } from './helpers';

const NEW_PASSWORD = 'Copper-Lantern-77?';

async function openChangeDialog(page: Page) {
  await gotoReady(page, '/settings/security');
  await page.getByRole('button', { name: 'Change Password' }).click();
  const dialog = page.getByRole('dialog', { name: 'Change Password' });
  await expect(dialog).toBeVisible();
  return dialog;
}

test('changing the password signs the other device out, keeps this one, and emails the owner', async ({ browser }) => {
  const email = uniqueEmail('change');
  const here = await browser.newContext();
  const there = await browser.newContext();
  const page = await here.newPage();
  const other = await there.newPage();
  await signUp(page, email);
  await signIn(page, email);
  await signIn(other, email);
  await expect(other.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();

  await expect(page.getByText('Never changed')).toBeVisible();
  const dialog = await openChangeDialog(page);
  // Focus moves into the dialog, to its first field.
  await expect(dialog.getByLabel('Current Password', { exact: true })).toBeFocused();
  await dialog.getByLabel('Current Password', { exact: true }).fill(STRONG_PASSWORD);
  await dialog.getByLabel('New Password', { exact: true }).fill(NEW_PASSWORD);
  await expect(dialog.getByRole('list', { name: 'Password requirements' }).getByRole('listitem').filter({ hasText: 'A number' })).toContainText('(met)');
  await expect(dialog.getByText(/Strength: (Good|Strong)/)).toBeVisible();
  await dialog.getByLabel('Repeat New Password', { exact: true }).fill(NEW_PASSWORD);
  await dialog.getByRole('button', { name: 'Save' }).click();

  await expect(page.getByRole('dialog', { name: 'Change Password' })).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'Password changed' })).toBeVisible();
  await expect(page.getByText(/Last changed on \d+ \w+ \d{4}/)).toBeVisible();

  // This browser stays signed in (under a new session id) ...
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  // ... the other one is signed out on its next request.
  await other.reload();
  await expect(other).toHaveURL(/\/signin\?next=/);

  const notice = await waitForMail(email, 'Your password was changed');
  expect(notice.text).toContain('127.0.0.1');
  expect(notice.text).toContain('If this was not you');

  await signIn(other, email, STRONG_PASSWORD);
  await expect(other.getByRole('alert')).toHaveText('Invalid email or password');
  await signIn(other, email, NEW_PASSWORD);
  await expect(other.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await here.close();
  await there.close();
});

test('the change dialog shows its errors and closes with Escape', async ({ page }) => {
  const email = uniqueEmail('dialog');
  await signUp(page, email);
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  let dialog = await openChangeDialog(page);
  await dialog.getByLabel('Current Password', { exact: true }).fill('Wrong-Current-Pass-1!');
  await dialog.getByLabel('New Password', { exact: true }).fill(NEW_PASSWORD);
  await dialog.getByLabel('Repeat New Password', { exact: true }).fill(NEW_PASSWORD);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByText('The current password is not correct.')).toBeVisible();
  // The focus moves to the first field in error before anything else is typed.
  await expect(dialog.getByLabel('Current Password', { exact: true })).toBeFocused();

  await dialog.getByLabel('Current Password', { exact: true }).fill(STRONG_PASSWORD);
  await dialog.getByLabel('Repeat New Password', { exact: true }).fill('Something-Else-123!');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByText('The two new passwords do not match.')).toBeVisible();
  await expect(dialog.getByLabel('Repeat New Password', { exact: true })).toBeFocused();

  await dialog.getByLabel('New Password', { exact: true }).fill(STRONG_PASSWORD);
  await dialog.getByLabel('Repeat New Password', { exact: true }).fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByText('differs from the current one')).toBeVisible();
  await expect(dialog.getByLabel('New Password', { exact: true })).toBeFocused();

  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Change Password' })).toBeHidden();
  // Focus returns to the button that opened it; the fields start empty next time.
  await expect(page.getByRole('button', { name: 'Change Password' })).toBeFocused();
  dialog = await openChangeDialog(page);
  await expect(dialog.getByLabel('Current Password', { exact: true })).toHaveValue('');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('dialog', { name: 'Change Password' })).toBeHidden();
  // Nothing changed.
  await expect(page.getByText('Never changed')).toBeVisible();
});

test('forgot password: email, reset link, sign in; the link works only once', async ({ page, browser }) => {
  const email = uniqueEmail('forgot');
  await signUp(page, email);
  // Signed in elsewhere: the reset ends that session too.
  const there = await browser.newContext();
  const other = await there.newPage();
  await signIn(other, email);
  await expect(other.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();

  await gotoReady(page, '/signin');
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await expect(page.getByRole('heading', { name: 'Forgot password' })).toBeVisible();
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Send Reset Link' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();

  const mail = await waitForMail(email, 'Reset your password');
  const link = firstLink(mail, '/reset-password');
  await gotoReady(page, link);
  await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
  await page.getByLabel('New Password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Repeat New Password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Your password has been changed.')).toBeVisible();
  await waitForMail(email, 'Your password was reset');

  // Not signed in by the reset; every session ended.
  await page.goto('/settings/security');
  await expect(page).toHaveURL(/\/signin/);
  await other.reload();
  await expect(other).toHaveURL(/\/signin/);
  await there.close();

  await signIn(page, email, NEW_PASSWORD);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  // The link cannot be used twice.
  await gotoReady(page, link);
  await expect(page.getByRole('alert')).toContainText('already been used');
  await expect(page.getByRole('link', { name: 'Request a new link' })).toBeVisible();
});

test('the forgot form answers the same for an unknown email and sends nothing', async ({ page }) => {
  const unknown = uniqueEmail('ghost');
  await gotoReady(page, '/forgot-password');
  await page.getByLabel('Email', { exact: true }).fill(unknown);
  await page.getByRole('button', { name: 'Send Reset Link' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText(`If an account exists for ${unknown}`);
  await page.waitForTimeout(1500);
  expect(await mailsFor(unknown)).toHaveLength(0);
});

test.describe('with reset links that expire after 5 seconds', () => {
  test.use({ baseURL: 'http://127.0.0.1:3101' });

  test('an expired link is refused with a way to ask for a new one', async ({ page }) => {
    const email = uniqueEmail('expired');
    await signUp(page, email);
    await gotoReady(page, '/forgot-password');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Send Reset Link' }).click();
    const link = firstLink(await waitForMail(email, 'Reset your password'), '/reset-password');
    await page.waitForTimeout(6000);
    await gotoReady(page, link);
    await expect(page.getByRole('alert')).toContainText('expired');
    await page.getByRole('link', { name: 'Request a new link' }).click();
    await expect(page.getByRole('heading', { name: 'Forgot password' })).toBeVisible();
    // The old password still works.
    await signIn(page, email, STRONG_PASSWORD);
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  });
});
