import { test, expect, type Page } from '@playwright/test';
import {
  STRONG_PASSWORD, enableAuthenticator, enableEmailCode, freshCode, gotoReady, saveCodesIfShown, signIn, signUpVerified, uniqueEmail,
  waitForCode, waitForMail, waitHydrated, axe,
} from './helpers';

// SMS Code (seed 002) in Chromium, with every code read from what a Twilio-compatible
// provider (sms-sink.mjs, started for the suite) received: a number validated to
// E.164, the texted code, sign-in by SMS, turning it off, and a provider that fails.

const SMS_API = 'http://127.0.0.1:2590';
const security = (page: Page) => page.getByRole('heading', { name: 'Security', level: 1 });

type Text = { to: string; from: string; body: string };

/** The code in the `count`-th text to `to` that says `reason`, as the provider received it. */
async function waitForText(to: string, reason: string, count = 1): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const texts = (await (await fetch(`${SMS_API}/messages?to=${encodeURIComponent(to)}`)).json()) as Text[];
    const found = texts.filter((t) => t.body.includes(reason));
    if (found.length >= count) {
      const match = found[count - 1].body.match(/ is (\d{6})\./);
      if (!match) throw new Error(`no code in: ${found[count - 1].body}`);
      return match[1];
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${count} text(s) "${reason}" to ${to}`);
}

test('sms code: a validated number, a provider that fails, the texted code, sign in by SMS, turn off', async ({ page }) => {
  test.setTimeout(180_000);
  const email = uniqueEmail('sms');
  // A number of its own per run of the suite, so counts of texts are this test's.
  const national = `07400 123${String(Math.floor(Math.random() * 899) + 100)}`;
  const e164 = `+44${national.replace(/\s/g, '').slice(1)}`;
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(security(page)).toBeVisible();
  await waitHydrated(page);

  const block = page.getByRole('group', { name: 'SMS Code' });
  await expect(block.getByText('The weakest method')).toBeVisible();
  await expect(block.getByText('Not enabled')).toBeVisible();
  await block.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable SMS Code' });
  await expect(dialog.getByText('Step 1 of 3')).toBeVisible();
  await expect(dialog.getByLabel('Country')).toHaveValue('GB');
  await axe(page, 'Enable SMS Code, step 1');
  await dialog.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);

  // A number that cannot take texts is refused on its field.
  await dialog.getByLabel('Phone number').fill('07400 12');
  await dialog.getByRole('button', { name: 'Send Code' }).click();
  await expect(dialog.getByText('Enter a mobile number we can send a text message to')).toBeVisible();
  await expect(dialog.getByLabel('Phone number')).toHaveAttribute('aria-invalid', 'true');

  // The provider fails: a clear message, nothing turned on.
  await dialog.getByLabel('Phone number').fill('+44 7400 123999');
  await dialog.getByRole('button', { name: 'Send Code' }).click();
  await expect(dialog.getByRole('alert').filter({ hasText: 'We could not send the text message' })).toBeVisible();
  await expect(dialog.getByText('Step 1 of 3')).toBeVisible();

  // A good number (typed nationally, the country as the hint): the code is texted.
  await dialog.getByLabel('Phone number').fill(national);
  await dialog.getByRole('button', { name: 'Send Code' }).click();
  await expect(dialog.getByText('Step 2 of 3')).toBeVisible();
  await expect(dialog.getByText(/We sent a 6-digit code to \+44 •••• ••• \d{3}\. It is valid for 10 minutes\./)).toBeVisible();
  await expect(dialog.getByRole('button', { name: /^Request Code \(\d+\)$/ })).toBeDisabled();
  await axe(page, 'Enable SMS Code, step 2');
  await dialog.getByLabel('Code', { exact: true }).fill(await waitForText(e164, 'to turn on SMS codes'));
  // The account's first method: the recovery codes come with it.
  await expect(dialog.getByText('Step 3 of 3: Save your recovery codes')).toBeVisible();
  expect(await saveCodesIfShown(page, dialog)).toHaveLength(10);
  await expect(block.getByText('Enabled', { exact: true })).toBeVisible();
  await expect(block.getByText(`+44 •••• ••• ${e164.slice(-3)}`)).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'SMS codes turned on.' })).toBeVisible();

  // Sign in: the only method, so the text goes out as the page opens.
  await gotoReady(page, '/settings/security');
  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await signIn(page, email);
  await expect(page).toHaveURL(/\/signin\/verify$/);
  await waitHydrated(page);
  await expect(page.getByText(/We sent a 6-digit code to \+44 •••• ••• \d{3}/)).toBeVisible();
  await page.getByLabel('Code', { exact: true }).fill(await waitForText(e164, 'to sign in'));
  await expect(security(page)).toBeVisible();

  // Turn it off with the code texted as the dialog opens.
  await waitHydrated(page);
  await block.getByRole('button', { name: 'Disable' }).click();
  const off = page.getByRole('dialog', { name: 'Disable SMS Code' });
  await expect(off.getByText('This is your only multi-factor method.')).toBeVisible();
  await expect(off.getByText(/We sent a 6-digit code to \+44/)).toBeVisible();
  await axe(page, 'Disable SMS Code');
  await off.getByLabel('Code', { exact: true }).fill(await waitForText(e164, 'to turn off SMS codes'));
  await off.getByRole('button', { name: 'Disable' }).click();
  await expect(off).toBeHidden();
  await expect(block.getByText('Not enabled')).toBeVisible();

  // The provider got Twilio's form: To in E.164, From, Body naming the purpose.
  const texts = (await (await fetch(`${SMS_API}/messages?to=${encodeURIComponent(e164)}`)).json()) as Text[];
  expect(texts.map((t) => t.body.match(/your code (.*) is/)?.[1])).toEqual([
    'to turn on SMS codes', 'to sign in', 'to turn off SMS codes',
  ]);
  expect(texts.every((t) => t.from === '+15005550006')).toBe(true);
});

// Issue 22: what signing in still asks for is worded from the methods left, in one
// place, for the page and the notice alike (it used to look at Email Code only).
test('sms and the app: turning the app off says sign-in still asks for an SMS code', async ({ page }) => {
  test.setTimeout(120_000);
  const email = uniqueEmail('sms-app');
  const national = `07400 124${String(Math.floor(Math.random() * 899) + 100)}`;
  const e164 = `+44${national.replace(/\s/g, '').slice(1)}`;
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(security(page)).toBeVisible();
  await waitHydrated(page);
  const sms = page.getByRole('group', { name: 'SMS Code' });
  await sms.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable SMS Code' });
  await dialog.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await dialog.getByLabel('Phone number').fill(national);
  await dialog.getByRole('button', { name: 'Send Code' }).click();
  await dialog.getByLabel('Code', { exact: true }).fill(await waitForText(e164, 'to turn on SMS codes'));
  expect(await saveCodesIfShown(page, dialog)).toHaveLength(10);
  await expect(sms.getByText('Enabled', { exact: true })).toBeVisible();
  // The app added second: the codes saved with SMS stay.
  const { secret, codes } = await enableAuthenticator(page);
  expect(codes).toHaveLength(0);

  const app = page.getByRole('group', { name: 'Authenticator App Code' });
  await app.getByRole('button', { name: 'Disable' }).click();
  const off = page.getByRole('dialog', { name: 'Disable Authenticator App' });
  await expect(off.getByText('Signing in still asks for a code sent by SMS.')).toBeVisible();
  await expect(off.getByText('needs only your password')).toHaveCount(0);
  await off.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
  await off.getByRole('button', { name: 'Disable' }).click();
  await expect(app.getByText('Not enabled')).toBeVisible();
  const notice = await waitForMail(email, 'Authenticator app disabled');
  expect(notice.text).toContain('signing in still asks for a code sent by SMS');
  expect(notice.text).not.toContain('needs only your password');
});

// With Email Code on, adding SMS starts with a code emailed as the dialog opens; that
// code is bound to adding SMS (issue 22, ASVS 2.7.3) and opens this step.
test('with email codes on, adding sms starts with a code emailed for it', async ({ page }) => {
  test.setTimeout(120_000);
  const email = uniqueEmail('sms-email');
  const national = `07400 125${String(Math.floor(Math.random() * 899) + 100)}`;
  const e164 = `+44${national.replace(/\s/g, '').slice(1)}`;
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(security(page)).toBeVisible();
  await waitHydrated(page);
  await enableEmailCode(page, email);

  const sms = page.getByRole('group', { name: 'SMS Code' });
  await sms.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable SMS Code' });
  await expect(dialog.getByText('Enter the 6-digit code we send to your email address.')).toBeVisible();
  await expect(dialog.getByLabel('Password', { exact: true })).toHaveCount(0);
  await dialog.getByLabel('Code', { exact: true }).fill(await waitForCode(email, 'to confirm it is you'));
  await dialog.getByLabel('Phone number').fill(national);
  await dialog.getByRole('button', { name: 'Send Code' }).click();
  await expect(dialog.getByText('Step 2 of 2')).toBeVisible();
  await dialog.getByLabel('Code', { exact: true }).fill(await waitForText(e164, 'to turn on SMS codes'));
  await expect(dialog).toBeHidden();
  await expect(sms.getByText('Enabled', { exact: true })).toBeVisible();
});
