import { test, expect, type Page } from '@playwright/test';
import {
  STRONG_PASSWORD, enableAuthenticator, enableEmailCode, firstLink, freshCode, gotoReady, mailsFor, signIn,
  signUpVerified, uniqueEmail, waitForCode, waitForMail,
} from './helpers';

// A person whose browser runs no script (or has not run it yet): the signed-out forms
// are real forms, and each ends on a page that says what happened. Nothing typed ever
// shows in the address bar.
function urlHoldsNothingTyped(page: Page, ...typed: string[]) {
  const url = decodeURIComponent(page.url());
  for (const t of typed) expect(url).not.toContain(t);
}

test.describe('with JavaScript off', () => {
  test.use({ javaScriptEnabled: false });

  test('sign up, verify by pasting the link, sign in', async ({ page }) => {
    const email = uniqueEmail('noscript-up');
    await page.goto('/signup');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Repeat Password', { exact: true }).fill('Granite-Kettle-43!');
    await page.getByRole('button', { name: 'Create Account' }).click();
    await expect(page.getByText('The passwords do not match.')).toBeVisible();
    urlHoldsNothingTyped(page, email, STRONG_PASSWORD);

    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Repeat Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create Account' }).click();
    await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    urlHoldsNothingTyped(page, email, STRONG_PASSWORD);
    const mail = await waitForMail(email, 'Verify your email address');
    expect(await mailsFor(email)).toHaveLength(1);

    // The link's token is in its fragment, which only script can read: the page asks
    // for the link itself.
    const link = firstLink(mail, '/verify-email');
    await page.goto(link);
    await expect(page.getByText('Checking your link')).toHaveCount(0);
    await page.getByLabel('Link from the email').fill(link);
    await page.getByRole('button', { name: 'Verify Email' }).click();
    await expect(page.getByText('Your email address is verified')).toBeVisible();
    await expect(page).toHaveURL(/\/verify-email\?verified$/);

    // And the new account signs in.
    await page.goto('/signin');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign In' }).click();
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    await expect(page.getByText('Verified', { exact: true })).toBeVisible();
  });

  test('sign in wrong, then right, then forgot password', async ({ page, browser }) => {
    const email = uniqueEmail('noscript-in');
    // The account is made the usual way, in a browser that runs script.
    const scripted = await browser.newContext({ javaScriptEnabled: true });
    await signUpVerified(await scripted.newPage(), email);
    await scripted.close();

    await page.goto('/signin?next=%2Fsettings%2Fsessions');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill('Wrong-Password-1!');
    await page.getByRole('button', { name: 'Sign In' }).click();
    await expect(page.getByRole('alert')).toContainText('Invalid email or password');
    await expect(page.getByText(/^\{/)).toHaveCount(0);
    urlHoldsNothingTyped(page, email, 'Wrong-Password-1!');

    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign In' }).click();
    await expect(page).toHaveURL(/\/settings\/sessions$/);
    await expect(page.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();

    const other = await browser.newContext({ javaScriptEnabled: false });
    const signedOut = await other.newPage();
    await signedOut.goto('/forgot-password');
    await signedOut.getByLabel('Email', { exact: true }).fill(email);
    await signedOut.getByRole('button', { name: 'Send Reset Link' }).click();
    await expect(signedOut.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    await expect(signedOut.getByText('If an account exists for the address you entered')).toBeVisible();
    urlHoldsNothingTyped(signedOut, email);
    const link = firstLink(await waitForMail(email, 'Reset your password'), '/reset-password');
    await signedOut.goto(link);
    await signedOut.getByLabel('Link from the email').fill(link);
    await signedOut.getByLabel('New Password', { exact: true }).fill('Basalt-Harbour-77?');
    await signedOut.getByLabel('Repeat New Password', { exact: true }).fill('Basalt-Harbour-77?');
    await signedOut.getByRole('button', { name: 'Save' }).click();
    await expect(signedOut.getByText('Your password has been changed.')).toBeVisible();
    urlHoldsNothingTyped(signedOut, 'Basalt-Harbour-77?', link);
    await other.close();
  });
});

test.describe('with JavaScript off, the second step', () => {
  test.use({ javaScriptEnabled: false });

  test('takes an authenticator code, or a recovery code', async ({ page, browser }) => {
    const email = uniqueEmail('noscript-2fa');
    const scripted = await browser.newContext({ javaScriptEnabled: true });
    const setUp = await scripted.newPage();
    await signUpVerified(setUp, email);
    await signIn(setUp, email);
    await expect(setUp.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    const { secret, codes } = await enableAuthenticator(setUp);
    await scripted.close();

    const signInWith = async () => {
      await page.goto('/signin');
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
      await page.getByRole('button', { name: 'Sign In' }).click();
      await expect(page).toHaveURL(/\/signin\/verify$/);
    };
    await signInWith();
    await page.getByLabel('Code', { exact: true }).fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByText('Invalid code')).toBeVisible();
    urlHoldsNothingTyped(page, '000000');
    await page.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();

    // Signed out, again, with a recovery code this time.
    await page.context().clearCookies();
    await signInWith();
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(codes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    urlHoldsNothingTyped(page, codes[0]);
  });
});

test.describe('with JavaScript off, the second step by email', () => {
  test.use({ javaScriptEnabled: false });

  test('chooses the method, sends the code on "Request Code", and takes it', async ({ page, browser }) => {
    test.setTimeout(180_000);
    const email = uniqueEmail('noscript-mail');
    const scripted = await browser.newContext({ javaScriptEnabled: true });
    const setUp = await scripted.newPage();
    await signUpVerified(setUp, email);
    await signIn(setUp, email);
    await expect(setUp.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    const { secret } = await enableAuthenticator(setUp);
    // Email Code next: with the app on, step 1 is a code from the app.
    const block = setUp.getByRole('group', { name: 'Email Code' });
    await block.getByRole('button', { name: 'Enable' }).click();
    const dialog = setUp.getByRole('dialog', { name: 'Enable Email Code' });
    // The sixth digit sends it.
    await dialog.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
    await expect(dialog.getByText(`We sent a 6-digit code to ${email}`)).toBeVisible();
    await dialog.getByLabel('Code', { exact: true }).fill(await waitForCode(email, 'to turn on email codes'));
    await expect(block.getByText('Enabled', { exact: true })).toBeVisible();
    await scripted.close();

    await page.goto('/signin');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign In' }).click();
    await expect(page).toHaveURL(/\/signin\/verify$/);
    // The authenticator comes first; the choice is a form of its own.
    await expect(page.getByRole('radio', { name: 'Authenticator app' })).toBeChecked();
    await page.getByRole('radio', { name: 'Email code' }).check();
    await page.getByRole('button', { name: 'Use This Method' }).click();
    await expect(page).toHaveURL(/\/signin\/verify\?method=email$/);
    await expect(page.getByRole('radio', { name: 'Email code' })).toBeChecked();
    // Opening the page sent nothing: the code goes out when asked for.
    await expect(page.getByText('Press “Request Code” to get your code.')).toBeVisible();
    expect((await mailsFor(email)).filter((m) => m.subject.includes('to sign in'))).toHaveLength(0);
    await page.getByRole('button', { name: /^Request Code/ }).click();
    await expect(page.getByText(/We sent a 6-digit code to /)).toBeVisible();
    const code = await waitForCode(email, 'to sign in');
    await page.getByLabel('Code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    urlHoldsNothingTyped(page, code);
  });
});

// A press right after the page arrives, before its script has run (or while it runs):
// the form still does what it says, exactly once.
test.describe('pressed before the page has hydrated', () => {
  test('sign up and forgot password each send one mail', async ({ page }) => {
    const email = uniqueEmail('early-up');
    await page.goto('/signup', { waitUntil: 'commit' });
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Repeat Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create Account' }).click();
    await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    await waitForMail(email, 'Verify your email address');

    await page.goto('/forgot-password', { waitUntil: 'commit' });
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Send Reset Link' }).click();
    await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    urlHoldsNothingTyped(page, email);
    await waitForMail(email, 'Reset your password');
    // Let any second submission land before counting.
    await page.waitForTimeout(1000);
    const mails = await mailsFor(email);
    expect(mails.filter((m) => m.subject.includes('Verify your email address'))).toHaveLength(1);
    expect(mails.filter((m) => m.subject.includes('Reset your password'))).toHaveLength(1);
  });

  test('a new password from the reset link is saved once', async ({ page }) => {
    const email = uniqueEmail('early-reset');
    await signUpVerified(page, email);
    await page.context().clearCookies();
    await page.goto('/forgot-password', { waitUntil: 'commit' });
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Send Reset Link' }).click();
    const link = firstLink(await waitForMail(email, 'Reset your password'), '/reset-password');
    // The form needs the script to read the link's fragment: it is pressed the moment
    // it is there.
    await page.goto(link, { waitUntil: 'commit' });
    await page.getByLabel('New Password', { exact: true }).fill('Basalt-Harbour-77?');
    await page.getByLabel('Repeat New Password', { exact: true }).fill('Basalt-Harbour-77?');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByText('Your password has been changed.')).toBeVisible();
    await waitForMail(email, 'Your password was reset');
    await page.waitForTimeout(1000);
    expect((await mailsFor(email)).filter((m) => m.subject.includes('Your password was reset'))).toHaveLength(1);
    await signIn(page, email, 'Basalt-Harbour-77?');
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  });

  test('sign in makes one session', async ({ page, browser }) => {
    const email = uniqueEmail('early-in');
    await signUpVerified(page, email);
    const fresh = await browser.newContext();
    const early = await fresh.newPage();
    await early.goto('/signin', { waitUntil: 'commit' });
    await early.getByLabel('Email', { exact: true }).fill(email);
    await early.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await early.getByRole('button', { name: 'Sign In' }).click();
    await expect(early.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    await early.goto('/settings/sessions');
    // Signing up and verifying made none: this press made exactly one.
    const sessions = early
      .getByRole('list')
      .filter({ has: early.getByRole('heading', { level: 3 }) })
      .getByRole('listitem');
    await expect(sessions).toHaveCount(1);
    await fresh.close();
  });
});

test.describe('pressed before the second step has hydrated', () => {
  test('"Request Code" sends one mail and "Verify" makes one session', async ({ page, browser }) => {
    const email = uniqueEmail('early-2nd');
    await signUpVerified(page, email);
    await signIn(page, email);
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    await enableEmailCode(page, email);

    const fresh = await browser.newContext();
    const early = await fresh.newPage();
    await early.goto('/signin', { waitUntil: 'commit' });
    await early.getByLabel('Email', { exact: true }).fill(email);
    await early.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await early.getByRole('button', { name: 'Sign In' }).click();
    // The second step arrives as a page; pressed at once, before (or while) its script
    // runs, which would otherwise send the first code by itself.
    // (Forced: once the script has sent that code, the button counts down, and a
    // person's press then does nothing; Playwright would wait for it to unlock.)
    await early.waitForURL(/\/signin\/verify/, { waitUntil: 'commit' });
    await early.getByRole('button', { name: /^Request Code/ }).click({ force: true });
    await expect(early.getByText(/We sent a (6-digit code to|code a moment ago)/)).toBeVisible();
    const code = await waitForCode(email, 'to sign in');
    // Let any second send land before counting.
    await early.waitForTimeout(1000);
    expect((await mailsFor(email)).filter((m) => m.subject.includes('to sign in'))).toHaveLength(1);

    // Opened again and answered at once.
    await early.reload({ waitUntil: 'commit' });
    // Typed and sent with Enter, key by key (once the script runs, the sixth digit
    // sends it by itself and the Enter sends nothing more).
    await early.getByLabel('Code', { exact: true }).pressSequentially(`${code}\n`);
    await expect(early.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    expect((await mailsFor(email)).filter((m) => m.subject.includes('to sign in'))).toHaveLength(1);
    await early.goto('/settings/sessions');
    // The first browser's session, and this press's one.
    const sessions = early
      .getByRole('list')
      .filter({ has: early.getByRole('heading', { level: 3 }) })
      .getByRole('listitem');
    await expect(sessions).toHaveCount(2);
    await fresh.close();
  });
});

test('a press while the strength check is on its way is not swallowed (an address already used)', async ({ page }) => {
  const email = uniqueEmail('taken');
  await signUpVerified(page, email);
  await gotoReady(page, '/signup');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await page.getByLabel('Repeat Password', { exact: true }).fill(STRONG_PASSWORD);
  // At once, before the 300 ms pause that asks the server about the password is over.
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  await expect(page.getByText(email)).toBeVisible();
});

test('the settings pages show their content before the script runs, their buttons disabled until it does', async ({ browser }) => {
  const email = uniqueEmail('settings-early');
  const scripted = await browser.newContext();
  const page = await scripted.newPage();
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  const cookies = await scripted.cookies();

  // The same session in a browser that runs no script: everything is there to read,
  // and nothing that needs script can be pressed.
  const plain = await browser.newContext({ javaScriptEnabled: false });
  await plain.addCookies(cookies);
  const noScript = await plain.newPage();
  await noScript.goto('/settings/sessions');
  await expect(noScript.getByRole('heading', { name: 'Active Sessions' })).toBeVisible();
  await expect(noScript.getByText('This device')).toBeVisible();
  await noScript.goto('/settings/security');
  await expect(noScript.getByRole('button', { name: 'Change Password' })).toBeDisabled();
  const totp = noScript.getByRole('group', { name: 'Authenticator App Code' });
  await expect(totp.getByRole('button', { name: 'Enable' })).toBeDisabled();
  await plain.close();

  // With script, once it has run, they work.
  await page.goto('/settings/security');
  await expect(
    page.getByRole('group', { name: 'Authenticator App Code' }).getByRole('button', { name: 'Enable' }),
  ).toBeEnabled();
  await scripted.close();
});
