// A real SMTP server for the end-to-end tests: it accepts every message on
// SMTP_PORT, parses it, and lists what it received as JSON on HTTP_PORT.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import http from 'node:http';

const SMTP_PORT = Number(process.env.SMTP_PORT || 2525);
const HTTP_PORT = Number(process.env.HTTP_PORT || 2580);
const messages = [];

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        messages.push({
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          from: session.envelope.mailFrom && session.envelope.mailFrom.address,
          subject: mail.subject || '',
          text: mail.text || '',
          html: typeof mail.html === 'string' ? mail.html : '',
          receivedAt: new Date().toISOString(),
        });
        callback();
      })
      .catch((err) => callback(err));
  },
});
smtp.listen(SMTP_PORT, '127.0.0.1');

http
  .createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${HTTP_PORT}`);
    if (url.pathname === '/health') {
      res.end('ok');
      return;
    }
    if (url.pathname === '/messages') {
      const to = (url.searchParams.get('to') || '').toLowerCase();
      const list = to ? messages.filter((m) => m.to.includes(to)) : messages;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(list));
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  })
  .listen(HTTP_PORT, '127.0.0.1');

console.log(`mail sink: SMTP on ${SMTP_PORT}, messages on http://127.0.0.1:${HTTP_PORT}/messages`);
