import { defineConfig } from '@playwright/test';

// The app under test is the release build (what operators deploy), on its own port,
// in production mode, with mail going through a real SMTP server (mail-sink.mjs) and
// a fresh database under .run/.
export const APP_PORT = 3100;
export const SMTP_PORT = 2525;
export const MAIL_API_PORT = 2580;
// A Twilio-compatible SMS provider (sms-sink.mjs).
export const SMS_PORT = 2590;
// A second instance whose reset links expire after 5 seconds, for the expiry test.
export const SHORT_LINK_PORT = 3101;
// Another instance on the same database as APP_PORT, as behind a load balancer.
export const OTHER_INSTANCE_PORT = 3102;
// An instance whose clock the tests move (libfaketime reads the offset, e.g. "+8d",
// from .run/faketime), for a token that expires.
export const MOVED_CLOCK_PORT = 3103;
// An instance at a domain name (http://localhost is a secure context): WebAuthn takes
// no IP address as a relying party, so passkeys are tested here.
export const PASSKEY_PORT = 3104;
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

// The database: SQLite files under .run/ by default; with LATCHKEY_E2E_POSTGRES set
// (scripts/test.sh sets it to its throwaway PostgreSQL cluster), databases there. The
// test script creates `e2e` empty (APP_PORT and OTHER_INSTANCE_PORT share it).
const postgres = process.env.LATCHKEY_E2E_POSTGRES;
const databaseUrl = (db: string) =>
  postgres ? `${postgres.replace(/\/[^/]*$/, '')}/${db.replace('-', '_')}` : `sqlite://end2end/.run/${db}.db`;

// The browser cannot tell the databases apart, and the Rust tests run every server
// function and flow on both. So the whole suite runs on SQLite; on PostgreSQL the
// browser runs what PostgreSQL changes for it (two instances on one database) and one
// pass over every page, signed out and signed in.
export const POSTGRES_SPECS = ['instances.spec.ts', 'smoke.spec.ts'];

const appEnv = (port: number, db: string) => ({
  LATCHKEY_SERVER_MODE: 'production',
  LATCHKEY_SERVER_LISTEN: `127.0.0.1:${port}`,
  LATCHKEY_SERVER_PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  LATCHKEY_SERVER_SECRET: 'e2e0'.repeat(16),
  LATCHKEY_SERVER_DATA_DIR: 'end2end/.run',
  LATCHKEY_DATABASE_URL: databaseUrl(db),
  LATCHKEY_MAIL_TRANSPORT: 'smtp',
  LATCHKEY_MAIL_SMTP_HOST: '127.0.0.1',
  LATCHKEY_MAIL_SMTP_PORT: String(SMTP_PORT),
  LATCHKEY_MAIL_SMTP_TLS: 'none',
  LATCHKEY_SMS_PROVIDER_URL: `http://127.0.0.1:${SMS_PORT}`,
  LATCHKEY_SMS_ACCOUNT_SID: 'ACe2e',
  LATCHKEY_SMS_AUTH_TOKEN: 'e2e-token',
  LATCHKEY_SMS_FROM: '+15005550006',
  // Every test signs up its own accounts from 127.0.0.1.
  LATCHKEY_ACCOUNTS_SIGN_UPS_PER_ADDRESS: '1000',
  // schemathesis (api-fuzz.spec.ts) sends thousands of requests with one token; the
  // per-token limit itself is tested in Rust, with 100 parallel requests.
  LATCHKEY_TOKENS_RATE_PER_MINUTE: '1000000',
  // Other browsers present other client addresses (notifications.spec.ts) through the
  // proxy header, which the app takes from 127.0.0.1 only.
  LATCHKEY_SERVER_TRUSTED_PROXIES: '127.0.0.1',
  RUST_LOG: 'warn',
});

export default defineConfig({
  testDir: './tests',
  testMatch: postgres ? POSTGRES_SPECS : '**/*.spec.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: process.env.E2E_RESULTS || '.run/results.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${APP_PORT}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: [
    {
      command: 'node mail-sink.mjs',
      url: `http://127.0.0.1:${MAIL_API_PORT}/health`,
      env: { SMTP_PORT: String(SMTP_PORT), HTTP_PORT: String(MAIL_API_PORT) },
      reuseExistingServer: false,
      stdout: 'pipe',
    },
    {
      command: 'node sms-sink.mjs',
      url: `http://127.0.0.1:${SMS_PORT}/health`,
      env: { HTTP_PORT: String(SMS_PORT), SMS_SID: 'ACe2e', SMS_TOKEN: 'e2e-token' },
      reuseExistingServer: false,
      stdout: 'pipe',
    },
    {
      command: './target/release/latchkey',
      cwd: '..',
      url: `http://127.0.0.1:${APP_PORT}/signin`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: appEnv(APP_PORT, 'e2e'),
    },
    {
      command: './target/release/latchkey',
      cwd: '..',
      url: `http://127.0.0.1:${OTHER_INSTANCE_PORT}/signin`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: appEnv(OTHER_INSTANCE_PORT, 'e2e'),
    },
    // Only the full suite (on SQLite) has tests for this one.
    ...(postgres
      ? []
      : [
          {
            command: './target/release/latchkey',
            cwd: '..',
            url: `http://127.0.0.1:${SHORT_LINK_PORT}/signin`,
            timeout: 60_000,
            reuseExistingServer: false,
            stdout: 'pipe' as const,
            env: {
              ...appEnv(SHORT_LINK_PORT, 'e2e-short'),
              LATCHKEY_ACCOUNTS_RESET_LINK_SECONDS: '5',
              // A proof of identity (a code check, the password, signing in) counts
              // for 5 seconds only here.
              LATCHKEY_SESSION_REAUTH_SECONDS: '5',
            },
          },
          {
            command: './target/release/latchkey',
            cwd: '..',
            // Ready once it accepts connections (its host guard answers only to
            // "localhost", which Node may resolve to ::1 first).
            port: PASSKEY_PORT,
            timeout: 60_000,
            reuseExistingServer: false,
            stdout: 'pipe' as const,
            env: {
              ...appEnv(PASSKEY_PORT, 'e2e-passkeys'),
              LATCHKEY_SERVER_PUBLIC_BASE_URL: `http://localhost:${PASSKEY_PORT}`,
              // A proof of identity counts for 30 seconds here: "Add a passkey" asks the
              // password once it is older (passkeys.spec.ts).
              LATCHKEY_SESSION_REAUTH_SECONDS: '30',
            },
          },
          {
            // Starts on the real time; libfaketime reads the file again every second.
            command: 'echo +0d > end2end/.run/faketime && exec ./target/release/latchkey',
            cwd: '..',
            url: `http://127.0.0.1:${MOVED_CLOCK_PORT}/signin`,
            timeout: 60_000,
            reuseExistingServer: false,
            stdout: 'pipe' as const,
            env: {
              ...appEnv(MOVED_CLOCK_PORT, 'e2e-clock'),
              LD_PRELOAD: LIBFAKETIME,
              FAKETIME_TIMESTAMP_FILE: 'end2end/.run/faketime',
              FAKETIME_CACHE_DURATION: '1',
              // Only the wall clock moves: timers and timeouts keep real time.
              FAKETIME_DONT_FAKE_MONOTONIC: '1',
            },
          },
        ]),
  ],
});
