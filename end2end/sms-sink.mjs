// A Twilio-compatible SMS provider for the end-to-end tests: it takes
// POST /2010-04-01/Accounts/{sid}/Messages.json (form fields To, From, Body; HTTP basic
// auth with SID:TOKEN) on HTTP_PORT and lists what it received as JSON at /messages.
// A number ending in 999 gets a 500, as a provider that is down would answer.
import http from 'node:http';

const HTTP_PORT = Number(process.env.HTTP_PORT || 2590);
const SID = process.env.SMS_SID || 'ACe2e';
const TOKEN = process.env.SMS_TOKEN || 'e2e-token';
const messages = [];

http
  .createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${HTTP_PORT}`);
    if (url.pathname === '/health') {
      res.end('ok');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/messages') {
      const to = url.searchParams.get('to') || '';
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(to ? messages.filter((m) => m.to === to) : messages));
      return;
    }
    if (req.method === 'POST' && url.pathname === `/2010-04-01/Accounts/${SID}/Messages.json`) {
      const expected = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.statusCode = 401;
        res.end('{"message":"Authenticate"}');
        return;
      }
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const to = form.get('To') || '';
        messages.push({ to, from: form.get('From'), body: form.get('Body') || '', receivedAt: new Date().toISOString() });
        res.setHeader('content-type', 'application/json');
        if (to.endsWith('999')) {
          res.statusCode = 500;
          res.end('{"message":"provider down"}');
        } else {
          res.statusCode = 201;
          res.end(JSON.stringify({ sid: `SM${messages.length}`, status: 'queued' }));
        }
      });
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  })
  .listen(HTTP_PORT, '127.0.0.1');

console.log(`sms sink: Twilio-compatible API on http://127.0.0.1:${HTTP_PORT}`);
