import { test, expect } from '@playwright/test';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateToken, gotoReady, signIn, signUpVerified, uniqueEmail } from './helpers';

// schemathesis (installed by scripts/setup.sh) against the live description of the
// REST API, with a token that holds every permission, made through the page: no 5xx,
// and every answer (status, content type, headers, body) as the description says.

const ST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../target/schemathesis/bin/st');

function run(file: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

test('schemathesis finds no server error and no answer outside the description', async ({ page, baseURL }) => {
  test.setTimeout(420_000);
  const email = uniqueEmail('fuzz');
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await gotoReady(page, '/settings/tokens');
  const token = await generateToken(page, 'schemathesis', [
    'account:read', 'sessions:read', 'sessions:write', 'security_log:read', 'tokens:read',
  ]);
  const { code, out } = await run(ST, [
    'run', `${baseURL}/api/v1/openapi.json`,
    '--checks', 'all',
    '-H', `Authorization: Bearer ${token}`,
    '--max-examples', '25',
    '--workers', '1',
    '--seed', '1',
    '--generation-database', 'none',
    '--phases', 'examples,coverage,fuzzing',
    '--max-time', '150',
    '--request-timeout', '10',
  ]);
  expect(code, out).toBe(0);
});
