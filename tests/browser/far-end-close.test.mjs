#!/usr/bin/env node
// What does Chromium report when the far end of a call hangs up with RTCP BYE + DTLS
// close_notify? The far end is a real aiortc server (tests/peers/aiortc_peer.py, JSON /offer):
// when it stops it sends both. A receive-only RTCPeerConnection in headless Chromium connects
// to it, the aiortc server gets SIGINT, and every state Chromium reports after that is
// printed with its time: the RTCDtlsTransport state, the ICE transport state, the
// connection state, the remote track's mute / ended.
//
// The test fails unless Chromium reports the DTLS transport "closed" within 1 s: that is
// what gst/web/index.html relies on to say "The other side hung up".
//
//   node far-end-close.test.mjs [--chromium /usr/bin/chromium] [--python /usr/bin/python3]
// Prints "N passed, N failed"; exits 1 on failure.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values: cli } = parseArgs({ options: { chromium: { type: 'string' }, python: { type: 'string' } } });
const chromiumPath = cli.chromium ?? process.env.CHROMIUM ?? '/usr/bin/chromium';
const python = cli.python ?? '/usr/bin/python3';
const peer = path.resolve(HERE, '../peers/aiortc_peer.py');
const LIMIT_MS = 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log('[far-end-close]', ...a);

const { chromium } = await import('playwright-core');
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'voicecall-far-end-'));

// The aiortc server, on a port it picks; its LISTENING line says which.
const server = spawn(python, [peer, 'server', '--listen', '127.0.0.1:0', '--freq', '880'], { stdio: ['ignore', 'pipe', 'inherit'] });
let serverOut = '';
server.stdout.on('data', (d) => { serverOut += d; });
const serverExit = new Promise((r) => server.on('exit', r));
let context;
let ok = false;
try {
  let port;
  for (let i = 0; i < 200 && !port; i++) {
    port = (serverOut.match(/LISTENING 127\.0\.0\.1:(\d+)/) || [])[1];
    await sleep(50);
  }
  if (!port) throw new Error(`the aiortc server did not start:\n${serverOut}`);

  context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(outDir, 'profile-')), {
    executablePath: chromiumPath, headless: true,
    // With the (fake) microphone permission Chromium gathers every address, loopback included,
    // with no mDNS names; without it, only the default route's address.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--allow-loopback-in-peer-connection',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
  });
  const page = await context.newPage();
  // An empty page from 127.0.0.1: a secure context, so it may ask for the microphone.
  const blank = http.createServer((q, r) => r.end('<!doctype html><title>far end</title>'));
  await new Promise((r) => blank.listen(0, '127.0.0.1', r));
  await page.goto(`http://127.0.0.1:${blank.address().port}/`);
  blank.close();
  const offer = await page.evaluate(async () => {
    (await navigator.mediaDevices.getUserMedia({ audio: true })).getTracks().forEach((t) => t.stop());
    const events = window.events = [];
    const ev = (what) => events.push({ t: performance.now(), what });
    const pc = window.pc = new RTCPeerConnection({ iceServers: [] });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.onconnectionstatechange = () => ev(`connectionState ${pc.connectionState}`);
    pc.oniceconnectionstatechange = () => ev(`iceConnectionState ${pc.iceConnectionState}`);
    pc.ontrack = (e) => ['mute', 'unmute', 'ended'].forEach((w) => e.track.addEventListener(w, () => ev(`remote track ${w}`)));
    await pc.setLocalDescription();
    await new Promise((r) => { if (pc.iceGatheringState === 'complete') r(); else pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); });
    return pc.localDescription.sdp;
  });
  const res = await fetch(`http://127.0.0.1:${port}/offer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sdp: offer, type: 'offer' }) });
  if (process.env.FAR_END_DEBUG) log(offer.split('\n').filter((l) => /candidate/.test(l)).join(' | '));
  if (!res.ok) throw new Error(`aiortc answered ${res.status}: ${await res.text()}`);
  const answer = await res.json();
  await page.evaluate(async (sdp) => {
    await window.pc.setRemoteDescription({ type: 'answer', sdp });
    const dtls = window.pc.getTransceivers()[0].receiver.transport;
    dtls.onstatechange = () => window.events.push({ t: performance.now(), what: `dtls ${dtls.state}` });
    dtls.iceTransport.onstatechange = () => window.events.push({ t: performance.now(), what: `ice transport ${dtls.iceTransport.state}` });
  }, answer.sdp);
  await page.waitForFunction(() => window.pc.connectionState === 'connected', null, { timeout: 15000 });
  await sleep(1500);  // audio flowing
  const t0 = await page.evaluate(() => performance.now());
  server.kill('SIGINT');  // aiortc closes its connections: RTCP BYE, then DTLS close_notify
  await sleep(3000);
  const seen = (await page.evaluate(() => window.events)).filter((e) => e.t >= t0);
  const text = seen.map((e) => `${e.what} +${Math.round(e.t - t0)} ms`).join(', ') || 'nothing';
  log(`after aiortc hung up (BYE + close_notify), Chromium reported: ${text}`);
  const closed = seen.find((e) => e.what === 'dtls closed');
  if (!closed) console.log(`FAIL far-end-close: Chromium did not report the DTLS transport "closed" within 3 s (${text})`);
  else if (closed.t - t0 > LIMIT_MS) console.log(`FAIL far-end-close: DTLS "closed" after ${Math.round(closed.t - t0)} ms, more than ${LIMIT_MS} ms`);
  else { ok = true; console.log(`PASS far-end-close: DTLS "closed" ${Math.round(closed.t - t0)} ms after the far end hung up (${text})`); }
} catch (e) {
  console.log(`FAIL far-end-close: ${e.message}`);
} finally {
  await context?.close().catch(() => {});
  if (server.exitCode === null) server.kill('SIGINT');
  await Promise.race([serverExit, sleep(5000)]);
  if (server.exitCode === null) server.kill('SIGKILL');
  fs.rmSync(outDir, { recursive: true, force: true });
}
console.log(`${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
process.exit(ok ? 0 : 1);
