#!/usr/bin/env node
// Real Chromium opens the call page of an HTTPS callee by a name that is not localhost and
// makes a call; both directions are checked by frequency.
//
//   node browser-https.test.mjs --cli build/pipelines/gst-voicecall [--out-dir DIR] [--chromium PATH]
//
// The callee is `gst-voicecall serve --tls-cert --tls-key` with a certificate for voice.test
// signed by the test's own CA (make-certs.sh). Chromium resolves voice.test to 127.0.0.1
// (--host-resolver-rules) and trusts that certificate's key for this profile only
// (--ignore-certificate-errors-spki-list), so https://voice.test:PORT/ is a secure context and
// gets the (fake) microphone, as a page on another machine would. The fake microphone plays
// 660 Hz, the callee sends 880 Hz: the page must hear 880 Hz, the callee's WAV must hold 660 Hz.
// Uses playwright-core from tests/browser (npm ci there) and Debian's chromium.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from '../browser/node_modules/playwright-core/index.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values: cli } = parseArgs({ options: { cli: { type: 'string' }, 'out-dir': { type: 'string' }, chromium: { type: 'string' } } });
if (!cli.cli) { console.error('give --cli PATH/gst-voicecall'); process.exit(2); }
const outDir = cli['out-dir'] || fs.mkdtempSync(path.join(os.tmpdir(), 'voicecall-https-'));
const TONE = 660, REMOTE = 880, HOST = 'voice.test', TIMEOUT = 20000;
const log = (...a) => console.log('[https-test]', ...a);
const near = (hz, want) => hz != null && Math.abs(hz - want) <= 0.02 * want;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The certificates, and the SHA-256 of the server key's SubjectPublicKeyInfo (base64) for Chromium.
execFileSync(path.join(HERE, 'make-certs.sh'), [outDir, HOST]);
const spki = execFileSync('sh', ['-c', `openssl x509 -in "${outDir}/server.pem" -pubkey -noout | ` +
  'openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64'], { encoding: 'utf8' }).trim();

// Chromium's fake microphone: 10 s of 660 Hz, 48 kHz mono 16-bit (it loops the file).
function writeToneWav(file, hz, seconds = 10, rate = 48000) {
  const n = seconds * rate, buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + 2 * n, 4); buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22); buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(2 * rate, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34); buf.write('data', 36); buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(0.3 * 32767 * Math.sin(2 * Math.PI * hz * i / rate)), 44 + 2 * i);
  fs.writeFileSync(file, buf);
}
const micWav = path.join(outDir, `mic-${TONE}hz.wav`);
writeToneWav(micWav, TONE);

const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const tcpOpen = (port) => new Promise((resolve) => { const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); }); c.on('error', () => resolve(false)); });
const hzOfWav = (file) => {
  const out = execFileSync(cli.cli, ['analyze', file], { encoding: 'utf8' });
  const m = out.match(/dominant frequency ([0-9.]+) Hz/);
  return m ? Number(m[1]) : null;
};

let callee, context, failure = null;
const calleeLog = path.join(outDir, 'callee.log'), calleeWav = path.join(outDir, 'callee.wav');
try {
  const port = await freePort();
  const fd = fs.openSync(calleeLog, 'w');
  callee = spawn(cli.cli, ['serve', '--quiet', '--listen', `127.0.0.1:${port}`, '--tls-cert', `${outDir}/server.pem`,
    '--tls-key', `${outDir}/server.key`, '--source', `tone:${REMOTE}`, '--sink', `wav:${calleeWav}`, '--ice-address', '127.0.0.1'],
  { stdio: ['ignore', fd, fd] });
  const exited = new Promise((resolve) => callee.on('exit', (code, signal) => resolve({ code, signal })));
  for (let t = Date.now(); !(await tcpOpen(port)); await sleep(100)) if (Date.now() - t > TIMEOUT) throw new Error('the callee does not listen');

  context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(outDir, 'profile-')), {
    executablePath: cli.chromium || '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${spki}`, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}`, '--allow-loopback-in-peer-connection'],
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.text().startsWith('[voicecall]')) log(m.text()); });
  const url = `https://${HOST}:${port}/`;
  const res = await page.goto(url);
  if (!res || !res.ok()) throw new Error(`${url} not served (HTTP ${res && res.status()})`);
  const secure = await page.evaluate(() => ({ secure: window.isSecureContext, protocol: location.protocol }));
  log(`${url}: ${secure.protocol} secure context ${secure.secure}`);
  if (!secure.secure || secure.protocol !== 'https:') throw new Error('the page is not a secure https: context');
  await page.waitForFunction(() => window.voicecall && window.voicecall.state === 'idle', null, { timeout: TIMEOUT });

  await page.click('#call');
  await page.waitForFunction(() => ['connected', 'failed', 'ended'].includes(window.voicecall.state), null, { timeout: TIMEOUT });
  const state = await page.evaluate(() => ({ state: window.voicecall.state, error: window.voicecall.lastError }));
  if (state.state !== 'connected') throw new Error(`the call did not connect: ${JSON.stringify(state)}`);
  await page.waitForFunction(() => window.voicecall.timings.audio !== undefined, null, { timeout: TIMEOUT });
  await sleep(1500);  // let the analysers fill with the call's audio
  const median = async (fn) => {
    const hz = [];
    for (let i = 0; i < 7; i++) { hz.push(await page.evaluate(fn)); await sleep(150); }
    const ok = hz.filter((h) => h != null).sort((a, b) => a - b);
    return ok.length ? ok[Math.floor(ok.length / 2)] : null;
  };
  const heard = await median(() => window.voicecall.remoteDominantHz());
  const sent = await median(() => window.voicecall.localDominantHz());
  const timings = await page.evaluate(() => window.voicecall.timings);
  log(`connected ${timings.connected} ms, first audio ${timings.audio} ms after the click; page sends ${sent} Hz, hears ${heard} Hz`);
  if (!near(sent, TONE)) throw new Error(`the fake microphone gives ${sent} Hz, not ${TONE} Hz: test setup problem`);
  if (!near(heard, REMOTE)) throw new Error(`the page hears ${heard} Hz, expected the callee's ${REMOTE} Hz`);
  await page.click('#hangup');
  await page.waitForFunction(() => window.voicecall.state === 'hungup', null, { timeout: TIMEOUT });
  await context.close(); context = null;

  callee.kill('SIGINT');
  const ex = await Promise.race([exited, sleep(15000).then(() => null)]);
  if (!ex || ex.code !== 0) throw new Error(`the callee did not stop cleanly after SIGINT: ${JSON.stringify(ex)}`);
  callee = null;
  const calleeHeard = hzOfWav(calleeWav);
  log(`the callee heard ${calleeHeard} Hz (expected ${TONE} Hz)`);
  if (!near(calleeHeard, TONE)) throw new Error(`the callee heard ${calleeHeard} Hz, expected the page's ${TONE} Hz`);
  const bad = fs.readFileSync(calleeLog, 'utf8').split('\n').filter((l) => /CRITICAL|WARNING/.test(l) && !/gupnp-context/.test(l));  // gupnp: libnice's UPnP
  if (bad.length) throw new Error(`GLib criticals/warnings in the callee:\n${bad.join('\n')}`);
} catch (e) {
  failure = e;
} finally {
  if (context) await context.close().catch(() => {});
  if (callee) callee.kill('SIGKILL');
}
if (failure) {
  console.log(`FAIL: ${failure.message}\n--- callee log:\n${fs.existsSync(calleeLog) ? fs.readFileSync(calleeLog, 'utf8') : ''}`);
  process.exit(1);
}
fs.rmSync(outDir, { recursive: true, force: true });
console.log('OK: Chromium called the HTTPS callee at voice.test; both directions by frequency');
