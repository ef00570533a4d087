import { test, expect } from '@playwright/test';
import {
  STRONG_PASSWORD, firstLink, gotoReady, mailsFor, signIn, signUp, uniqueEmail, waitForMail, waitHydrated,
} from './helpers';

test('sign up, receive the verification email over SMTP, verify, sign out and back in', async ({ page }) => {
  const email = uniqueEmail('verify');
  await signUp(page, email);

  const mail = await waitForMail(email, 'Verify your email address');
  expect(mail.html).toContain('Verify email address');
  const link = firstLink(mail, '/verify-email');

  // Signed in before verifying: the banner says so on the settings page.
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  const banner = page.getByRole('region', { name: 'Email verification' });
  await expect(banner).toBeVisible();
  await expect(banner.getByRole('button', { name: 'Resend Verification Email' })).toBeVisible();
  await expect(page.getByText('Not verified', { exact: true })).toBeVisible();
  // No second factor can be added to an address nobody has proved is theirs.
  const totp = page.getByRole('group', { name: 'Authenticator App Code' });
  await expect(totp.getByText('Verify your email address before you turn this on')).toBeVisible();
  await expect(totp.getByRole('button', { name: 'Enable' })).toHaveCount(0);

  // Follow the link from the email.
  await page.goto(link);
  await waitHydrated(page);
  await expect(page.getByText('Your email address is verified')).toBeVisible();
  await page.getByRole('link', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Email verification' })).toHaveCount(0);
  await expect(page.getByText('Verified', { exact: true })).toBeVisible();
  await expect(
    page.getByRole('group', { name: 'Authenticator App Code' }).getByRole('button', { name: 'Enable' }),
  ).toBeVisible();

  // The link works once: a second use tells the address is already verified.
  await page.goto(link);
  await expect(page.getByText('already verified')).toBeVisible();

  // Sign out ends the session: the settings page sends us to sign-in.
  await gotoReady(page, '/settings/security');
  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.goto('/settings/security');
  await expect(page).toHaveURL(/\/signin\?next=/);

  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
});

test('resend verification email sends a new link', async ({ page }) => {
  const email = uniqueEmail('resend');
  await signUp(page, email);
  await waitForMail(email, 'Verify your email address');
  await signIn(page, email);
  // The new page, not the sign-in page it replaces, must be the one that is hydrated.
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  const banner = page.getByRole('region', { name: 'Email verification' });
  await waitHydrated(page);
  await banner.getByRole('button', { name: 'Resend Verification Email' }).click();
  await expect(banner.getByRole('status')).toContainText('We sent a new verification email');
  await expect.poll(async () => (await mailsFor(email)).filter((m) => m.subject.includes('Verify')).length).toBe(2);
  // Rate limited: a second press at once is refused with a clear message.
  await banner.getByRole('button', { name: 'Resend Verification Email' }).click();
  await expect(banner.getByRole('status')).toContainText('Too many attempts');
});

test('a wrong password gets the generic error, the right one lands on Security with a safe cookie', async ({ page, context }) => {
  const email = uniqueEmail('signin');
  await signUp(page, email);

  await signIn(page, email, 'Not-The-Password-1!');
  await expect(page.getByRole('alert')).toHaveText('Invalid email or password');

  // An account that does not exist gets exactly the same answer.
  await signIn(page, uniqueEmail('nobody'), 'Not-The-Password-1!');
  await expect(page.getByRole('alert')).toHaveText('Invalid email or password');

  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await expect(page).toHaveURL(/\/settings\/security$/);

  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'latchkey_session');
  expect(session, 'session cookie').toBeTruthy();
  expect(session!.httpOnly).toBe(true);
  expect(session!.sameSite).toBe('Lax');
  expect(session!.path).toBe('/');
  // Never readable from page scripts.
  expect(await page.evaluate(() => document.cookie)).not.toContain('latchkey_session');
});

test('a signed-out visit to settings leads to sign-in and back', async ({ page }) => {
  const email = uniqueEmail('back');
  await signUp(page, email);
  await page.goto('/settings/security');
  await expect(page).toHaveURL(/\/signin\?next=%2Fsettings%2Fsecurity$/);
  await waitHydrated(page);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page).toHaveURL(/\/settings\/security$/);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
});

test('sign-up answers the same for an existing email and tells its owner', async ({ page }) => {
  const email = uniqueEmail('dup');
  await signUp(page, email);
  await waitForMail(email, 'Verify your email address');
  await signUp(page, email, 'Another-Strong-Pass-7?');
  const notice = await waitForMail(email, 'Someone tried to sign up');
  expect(notice.text).toContain('already has one');
  // The original password still works: nothing was changed.
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
});

test('the live checklist ticks each rule as the password meets it', async ({ page }) => {
  await gotoReady(page, '/signup');
  const list = page.getByRole('list', { name: 'Password requirements' });
  const item = (name: string) => list.getByRole('listitem').filter({ hasText: name });
  await expect(item('At least 12 characters')).toContainText('not met yet');
  const field = page.getByLabel('Password', { exact: true });
  await field.fill('abc');
  await expect(item('A lowercase letter')).toContainText('(met)');
  await expect(item('An uppercase letter')).toContainText('not met yet');
  await field.fill('Abcdefghijk1');
  await expect(item('An uppercase letter')).toContainText('(met)');
  await expect(item('A number')).toContainText('(met)');
  await expect(item('At least 12 characters')).toContainText('(met)');
  await expect(item('A special character')).toContainText('not met yet');
  await field.fill('Abcdefghijk1!');
  await expect(item('A special character')).toContainText('(met)');
  // Composed, but easy to guess: the server's strength estimate keeps the last rule open.
  await field.fill('Password123!');
  await expect(item('Hard to guess')).toContainText('not met yet');
  await field.fill('Granite-Kettle-42!');
  await expect(item('Hard to guess')).toContainText('(met)');
  await expect(item('Not a commonly used password')).toContainText('(met)');
  // Show/hide toggle.
  await expect(field).toHaveAttribute('type', 'password');
  await page.getByRole('button', { name: 'Show password' }).click();
  await expect(field).toHaveAttribute('type', 'text');
});

test('bad input gets a clear message next to its field', async ({ page }) => {
  await gotoReady(page, '/signup');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.getByText('Enter your email address.')).toBeVisible();

  const email = page.getByLabel('Email', { exact: true });
  const password = page.getByLabel('Password', { exact: true });
  const repeat = page.getByLabel('Repeat Password', { exact: true });

  await email.fill("robert'); DROP TABLE users;--@example");
  await password.fill(STRONG_PASSWORD);
  await repeat.fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.getByText('Enter a valid email address')).toBeVisible();
  await expect(email).toHaveAttribute('aria-invalid', 'true');
  // The focus goes to the first field in error.
  await expect(email).toBeFocused();

  await email.fill(uniqueEmail('bad'));
  await password.fill('password');
  await repeat.fill('password');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.getByText('Use at least 12 characters.')).toBeVisible();
  await expect(password).toBeFocused();

  await password.fill('A1!a'.repeat(2560)); // 10 KB
  await repeat.fill('A1!a'.repeat(2560));
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.getByText('far too long')).toBeVisible();
  await expect(password).toBeFocused();

  await password.fill('Ünïcødé 🔑 Pass 9');
  await repeat.fill('Ünïcødé 🔑 Pass 8');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.getByText('The passwords do not match.')).toBeVisible();
  await expect(repeat).toBeFocused();

  await email.fill('<script>alert(1)</script>@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.getByText('Enter a valid email address')).toBeVisible();
  await expect(email).toBeFocused();

  // Emoji and other Unicode in a password are fine.
  const ok = uniqueEmail('unicode');
  await email.fill(ok);
  await repeat.fill('Ünïcødé 🔑 Pass 9');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  await signIn(page, ok, 'Ünïcødé 🔑 Pass 9');
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
});

test('the API refuses cross-site and malformed requests with a 4xx', async ({ request }) => {
  const cross = await request.post('/api/sign_in', {
    headers: { 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/x-www-form-urlencoded' },
    data: 'email=a%40example.com&password=x',
  });
  expect(cross.status()).toBe(403);
  const malformed = await request.post('/api/sign_up', {
    headers: { Origin: 'http://127.0.0.1:3100', 'Content-Type': 'application/x-www-form-urlencoded' },
    data: 'email=only',
  });
  expect(malformed.status()).toBe(400);
});
