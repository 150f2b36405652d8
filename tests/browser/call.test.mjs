#!/usr/bin/env node
// End-to-end test of gst/web/index.html in real headless Chromium against a WHIP callee.
//
//   cd tests/browser && npm ci
//   node call.test.mjs --callee-cmd 'gst-launch-1.0 -e voicecapturebin source="audiotestsrc is-live=true freq=880" !
//        voicecall listen=127.0.0.1:{port} ice-addresses=127.0.0.1 ! voiceplaybackbin sink="wavenc ! filesink location={out}"'
//
// Placeholders in --callee-cmd: {port} {out} (WAV the callee records) {html} (path of gst/web/index.html).
// The command is run as `sh -c "exec CMD"` in its own process group and stopped with SIGINT to its PID.
// Every option can also be given as an environment variable (shown in brackets).
//
//   --callee-cmd CMD      [VOICECALL_CALLEE_CMD] required
//   --port N              [VOICECALL_PORT] default: a free port
//   --out-wav PATH        [VOICECALL_OUT_WAV] WAV recorded by the callee, checked after it stops
//                         ({mode} is replaced; default OUTDIR/callee-{mode}.wav; "none" = no check)
//   --remote-hz HZ        [VOICECALL_REMOTE_HZ] tone the callee sends (default 880)
//   --tone-hz HZ          [VOICECALL_TONE_HZ] tone Chromium's fake microphone sends (default 660)
//   --tolerance F         [VOICECALL_TOLERANCE] relative frequency tolerance (default 0.02)
//   --tone-freq-cmd CMD   [VOICECALL_TONE_FREQ_CMD] analyser printing a WAV's dominant Hz
//                         ({file} placeholder, else the path is appended); default: built-in DFT
//   --screenshot PATH     [VOICECALL_SCREENSHOT] mid-call screenshot (default OUTDIR/call.png)
//   --out-dir DIR         [VOICECALL_OUT_DIR] logs, tone WAV, profiles (default: new dir in /tmp)
//   --mode LIST           [VOICECALL_MODE] comma list of the modes below (default call,remote-hangup,errors)
//   --page-url URL        [VOICECALL_PAGE_URL] default http://127.0.0.1:{port}/ (add ?token=... here)
//   --call-seconds S      [VOICECALL_CALL_SECONDS] how long the call lasts before hanging up (default 4)
//   --timeout S           [VOICECALL_TIMEOUT] limit for each wait (default 20)
//   --peer-timeout-ms MS  [VOICECALL_PEER_TIMEOUT_MS] the callee's voicecall peer-timeout (default 5000)
//   --chromium PATH       [CHROMIUM] default /usr/bin/chromium
//   --analyse FILE.wav    only print the built-in analyser's dominant frequency of FILE.wav
//
// Modes: call           Call, check tones both ways, stats, screenshot, Hang up (DELETE), stop callee, check WAV.
//        remote-hangup  Call, then SIGINT the callee: within 2 s the page must say "The other side hung up" and
//                       close its peer connection; prints what the page saw and when (the callee's answer to
//                       the held GET on the session, DTLS/ICE/connection states, remote track mute/ended).
//        page-closed    Call, then close the page without Hang up: the callee must end the session within
//                       --peer-timeout-ms + 1 s (its log must show voicecall-session-state ended: run gst-launch -m).
//        page-crash     The same, but the page's renderer crashes (chrome://crash): no goodbye at all, so the
//                       callee must end the session with reason "timeout" within --peer-timeout-ms + 1 s.
//        dtmf           Call, then RTCDTMFSender.insertDTMF("1234#") on the page: the callee (gst-launch -m) must post
//                       voicecall-dtmf messages for 1, 2, 3, 4, # in that order, each lasting about 100 ms.
//        refused        Needs a callee whose application refuses calls (refusing_callee.py): the page must show
//                       the 403 "The callee refused the call" error, and the callee must have seen the call.
//        errors         The page must say in words: network failure (?url= to a closed port), microphone denied.
//        busy           While one page is in a call, a second page must show the 503 "busy" error.
//        unauthorized   Needs a callee started with a token and --page-url with ?token=GOOD: without the
//                       token the page must show the 401 error, with it the call mode runs.
// Prints "N passed, N failed" at the end; exits 1 on any failure.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values: cli } = parseArgs({
  options: Object.fromEntries(['callee-cmd', 'port', 'out-wav', 'remote-hz', 'tone-hz', 'tolerance', 'tone-freq-cmd',
    'screenshot', 'out-dir', 'mode', 'page-url', 'call-seconds', 'timeout', 'chromium', 'analyse', 'peer-timeout-ms'].map((k) => [k, { type: 'string' }])),
});
const opt = (name, env, def) => cli[name] ?? process.env[env] ?? def;

const calleeCmd = opt('callee-cmd', 'VOICECALL_CALLEE_CMD');
const outDir = opt('out-dir', 'VOICECALL_OUT_DIR') || fs.mkdtempSync(path.join(os.tmpdir(), 'voicecall-browser-'));
const remoteHz = Number(opt('remote-hz', 'VOICECALL_REMOTE_HZ', 880));
const toneHz = Number(opt('tone-hz', 'VOICECALL_TONE_HZ', 660));
const tolerance = Number(opt('tolerance', 'VOICECALL_TOLERANCE', 0.02));
const toneFreqCmd = opt('tone-freq-cmd', 'VOICECALL_TONE_FREQ_CMD');
const outWavOpt = opt('out-wav', 'VOICECALL_OUT_WAV', path.join(outDir, 'callee-{mode}.wav'));
const screenshot = opt('screenshot', 'VOICECALL_SCREENSHOT', path.join(outDir, 'call.png'));
const modes = opt('mode', 'VOICECALL_MODE', 'call,remote-hangup,errors').split(',').map((m) => m.trim()).filter(Boolean);
const pageUrlOpt = opt('page-url', 'VOICECALL_PAGE_URL', 'http://127.0.0.1:{port}/');
const callSeconds = Number(opt('call-seconds', 'VOICECALL_CALL_SECONDS', 4));
const timeoutMs = 1000 * Number(opt('timeout', 'VOICECALL_TIMEOUT', 20));
const chromiumPath = opt('chromium', 'CHROMIUM', '/usr/bin/chromium');
const peerTimeoutMs = Number(opt('peer-timeout-ms', 'VOICECALL_PEER_TIMEOUT_MS', 5000));
const HANGUP_LIMIT_MS = 2000;  // the page must notice the callee's hang-up within this
const htmlPath = path.resolve(HERE, '../../gst/web/index.html');

class TestFailure extends Error {}
const fail = (msg) => { throw new TestFailure(msg); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log('[browser-test]', ...a);
const near = (hz, want) => hz != null && Math.abs(hz - want) <= tolerance * want;
const fmtHz = (hz) => (hz == null ? 'nothing (silence)' : `${hz.toFixed(1)} Hz`);

if (cli.analyse) {  // helper: node call.test.mjs --analyse FILE.wav
  const r = dominantHzOfWav(cli.analyse);
  console.log(`${r.hz.toFixed(2)} Hz (${r.seconds.toFixed(2)} s, RMS ${r.rmsDb.toFixed(1)} dBFS)`);
  process.exit(0);
}
if (!calleeCmd) {
  console.error('call.test.mjs: give the callee command with --callee-cmd or VOICECALL_CALLEE_CMD (see the header).');
  process.exit(2);
}
for (const m of modes) if (!['call', 'remote-hangup', 'dtmf', 'refused', 'page-closed', 'page-crash', 'busy', 'unauthorized', 'errors'].includes(m)) { console.error(`unknown mode ${m}`); process.exit(2); }

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error(`call.test.mjs: playwright-core missing: run "npm ci" in ${HERE} (${e.message})`);
  process.exit(2);
}

// ---------- WAV: writing the microphone tone, reading the callee's recording ----------

function writeToneWav(file, hz, seconds = 2, rate = 48000) {
  const n = rate * seconds, buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + 2 * n, 4); buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22); buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(2 * rate, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(2 * n, 40);
  // Chromium loops the file: a whole number of periods in it keeps the loop seamless (660 Hz * 2 s).
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + 2 * i);
  fs.writeFileSync(file, buf);
}

function readWav(file) {
  const b = fs.readFileSync(file);
  if (b.length < 12 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') fail(`${file} is not a WAV file`);
  let fmt = null, off = 12;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    let size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      fmt = { tag: b.readUInt16LE(off + 8), channels: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
      if (fmt.tag === 0xfffe) fmt.tag = b.readUInt16LE(off + 32);  // WAVE_FORMAT_EXTENSIBLE: sub-format GUID
    } else if (id === 'data') {
      if (!fmt) fail(`${file}: data before fmt chunk`);
      if (size === 0 || off + 8 + size > b.length) size = b.length - off - 8;  // header never finalized
      const width = fmt.bits / 8, frames = Math.floor(size / (width * fmt.channels)), x = new Float64Array(frames);
      const read = {
        '1/8': (p) => (b.readUInt8(p) - 128) / 128, '1/16': (p) => b.readInt16LE(p) / 32768,
        '1/24': (p) => b.readIntLE(p, 3) / 8388608, '1/32': (p) => b.readInt32LE(p) / 2147483648,
        '3/32': (p) => b.readFloatLE(p), '3/64': (p) => b.readDoubleLE(p),
      }[`${fmt.tag}/${fmt.bits}`] || fail(`${file}: unsupported WAV format tag ${fmt.tag}, ${fmt.bits} bits`);
      for (let i = 0; i < frames; i++) {
        let s = 0;
        for (let c = 0; c < fmt.channels; c++) s += read(off + 8 + (i * fmt.channels + c) * width);
        x[i] = s / fmt.channels;
      }
      return { rate: fmt.rate, samples: x };
    }
    off += 8 + size + (size & 1);
  }
  fail(`${file}: no data chunk`);
}

function fft(re, im) {  // in-place radix-2
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len, wr = Math.cos(ang), wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      for (let k = 0, cr = 1, ci = 0; k < len / 2; k++) {
        const a = i + k, b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr; im[b] = im[a] - ti; re[a] += tr; im[a] += ti;
        [cr, ci] = [cr * wr - ci * wi, cr * wi + ci * wr];
      }
    }
  }
}

// Dominant frequency of a WAV: averaged Hann-windowed power spectra (Welch), peak bin, parabolic interpolation.
function dominantHzOfWav(file) {
  const { rate, samples } = readWav(file);
  const N = 16384, power = new Float64Array(N / 2);
  let segments = 0, sumSq = 0;
  for (const s of samples) sumSq += s * s;
  const rmsDb = 10 * Math.log10(sumSq / Math.max(1, samples.length) || 1e-12);
  for (let start = 0; start + N <= samples.length; start += N / 2, segments++) {
    const re = new Float64Array(N), im = new Float64Array(N);
    for (let i = 0; i < N; i++) re[i] = samples[start + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (N - 1)));
    fft(re, im);
    for (let k = 0; k < N / 2; k++) power[k] += re[k] * re[k] + im[k] * im[k];
  }
  if (!segments) fail(`${file}: too short for analysis (${samples.length} samples)`);
  let k = Math.ceil((20 * N) / rate);
  for (let i = k; i < N / 2 - 1; i++) if (power[i] > power[k]) k = i;
  const [a, b, c] = [power[k - 1], power[k], power[k + 1]].map((p) => Math.log(p + 1e-30));
  const shift = a - 2 * b + c ? (0.5 * (a - c)) / (a - 2 * b + c) : 0;
  return { hz: ((k + shift) * rate) / N, rmsDb, seconds: samples.length / rate };
}

function wavFrequency(file) {
  if (!fs.existsSync(file)) fail(`the callee did not write ${file}`);
  const own = dominantHzOfWav(file);
  log(`${file}: ${own.seconds.toFixed(1)} s, RMS ${own.rmsDb.toFixed(1)} dBFS, built-in DFT says ${fmtHz(own.hz)}`);
  if (own.rmsDb < -70) fail(`${file} is silent (RMS ${own.rmsDb.toFixed(1)} dBFS): no audio from the browser reached the callee`);
  if (!toneFreqCmd) return own.hz;
  const q = `'${file.replace(/'/g, "'\\''")}'`;
  const cmd = toneFreqCmd.includes('{file}') ? toneFreqCmd.replaceAll('{file}', q) : `${toneFreqCmd} ${q}`;
  let out;
  try {
    out = execFileSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    fail(`tone-freq command failed (${cmd}): ${e.stderr || e.message}`);
  }
  const m = out.match(/[-+]?\d+(\.\d+)?/) || fail(`tone-freq command printed no number: ${JSON.stringify(out)}`);
  log(`${cmd} says ${m[0]} Hz`);
  return Number(m[0]);
}

// ---------- the callee process ----------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const running = new Set();  // callees to stop if this script is interrupted
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { running.forEach((c) => c.kill()); console.log(`interrupted by ${sig}`); process.exit(130); });
}

class Callee {
  constructor(cmd, logFile) {
    this.cmd = cmd;
    this.logFile = logFile;
    const fd = fs.openSync(logFile, 'w');
    this.proc = spawn('sh', ['-c', `exec ${cmd}`], { stdio: ['ignore', fd, fd], detached: true });
    fs.closeSync(fd);
    running.add(this);
    this.exit = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      this.exited = { code, signal };
      running.delete(this);
      resolve(this.exited);
    }));
    log(`callee pid ${this.proc.pid}: ${cmd}`);
  }

  text() {
    try { return fs.readFileSync(this.logFile, 'utf8'); } catch { return ''; }
  }

  // Waits until the callee's log (from byte `from` on) says a session ended; returns
  // { at: Date.now() when seen, reason }. gst-launch -m: voicecall-session-state ... ended (or
  // voicecall-session-ended); the CLI: "call ID with PEER: ended...: REASON".
  async waitSessionEnded(from, limitMs) {
    const end = Date.now() + limitMs;
    const re = /voicecall-session-state.*state=\(string\)ended.*|voicecall-session-ended.*|call \S+ with .*: ended.*/;
    while (Date.now() < end) {
      const m = this.text().slice(from).match(re);
      if (m) {
        const at = Date.now();
        const r = m[0].match(/reason=\(string\)("(?:[^"\\]|\\.)*"|[^,;]*)/);
        const reason = r ? r[1].replace(/^"|"$/g, '').replace(/\\(.)/g, '$1')
          : (m[0].match(/: ended(?: before it connected)?: (.*?)(?: after [0-9.]+ s)?$/) || [])[1]?.split(' (')[0];
        return { at, reason };
      }
      if (this.exited) break;
      await sleep(20);
    }
    const quiet = /voicecall-stats|voicecall-adaptation|state-changed|rtp-source-sdes/;  // gst-launch -m noise
    fail(`the callee did not end the session within ${limitMs} ms:\n` +
      this.text().split('\n').filter((l) => !quiet.test(l)).slice(-25).join('\n'));
  }

  tail(lines = 25) {
    try { return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'); } catch { return ''; }
  }

  async waitListening(port) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.exited) fail(`callee exited early (${JSON.stringify(this.exited)}):\n${this.tail()}`);
      try {
        await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
        return;  // any HTTP answer: the server is up
      } catch { await sleep(100); }
    }
    fail(`callee did not answer HTTP on 127.0.0.1:${port} within ${timeoutMs / 1000} s:\n${this.tail()}`);
  }

  // SIGINT (gst-launch -e then sends EOS so wavenc finalizes the file); returns exit status.
  async interrupt(graceMs = 15000) {
    if (this.exited) return this.exited;
    process.kill(this.proc.pid, 'SIGINT');
    const res = await Promise.race([this.exit, sleep(graceMs).then(() => null)]);
    if (!res) { this.kill(); fail(`callee did not exit within ${graceMs / 1000} s of SIGINT:\n${this.tail()}`); }
    return res;
  }

  kill() {  // last resort, our own process group only
    if (this.exited) return;
    try { process.kill(-this.proc.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

// ---------- the browser ----------

const toneWav = path.join(outDir, `mic-${toneHz}hz.wav`);

async function openBrowser(name, { denyMic = false } = {}) {
  const profile = fs.mkdtempSync(path.join(outDir, `profile-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      denyMic ? '--deny-permission-prompts' : '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${toneWav}`, '--allow-loopback-in-peer-connection'],
  });
  context.profile = profile;
  return context;
}

async function closeBrowser(context) {
  if (!context) return;
  await context.close().catch(() => {});
  fs.rmSync(context.profile, { recursive: true, force: true });
}

async function openPage(context, url, tag) {
  const page = await context.newPage();
  page.whip = [];
  page.on('console', (m) => { if (m.text().startsWith('[voicecall]')) log(`${tag} ${m.text()}`); });
  page.on('pageerror', (e) => { page.pageError = e; log(`${tag} PAGE ERROR ${e.message}`); });
  const answered = new Set();
  page.on('response', (r) => {
    answered.add(r.request());
    const method = r.request().method();
    if (method !== 'GET') { page.whip.push({ method, url: r.url(), status: r.status() }); log(`${tag} ${method} ${r.url()} -> ${r.status()}`); }
  });
  page.on('requestfailed', (r) => answered.has(r) || log(`${tag} ${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`));
  const res = await page.goto(url);
  if (!res || !res.ok()) fail(`page ${url} not served (HTTP ${res && res.status()})`);
  await page.waitForFunction(() => window.voicecall && window.voicecall.state === 'idle', null, { timeout: timeoutMs });
  return page;
}

const vc = (page) => page.evaluate(() => {
  const v = window.voicecall;
  return { state: v.state, lastError: v.lastError, timings: v.timings, stats: v.stats, inputLevel: v.inputLevel,
    outputLevel: v.outputLevel, inputDb: v.inputDb, outputDb: v.outputDb, stateText: document.getElementById('state').textContent,
    endedBy: v.endedBy, closedAt: v.closedAt, events: v.events,
    errorText: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent };
});

async function waitState(page, states, what) {
  try {
    await page.waitForFunction((s) => s.includes(window.voicecall.state), states, { timeout: timeoutMs, polling: 20 });
  } catch {
    const v = await vc(page);
    fail(`${what}: page still "${v.stateText}" (${v.state}) after ${timeoutMs / 1000} s; error: ${v.errorText || 'none'}`);
  }
  return vc(page);
}

// Click Call on a fresh page and expect a given error kind shown in words.
async function expectError(context, url, kind, tag) {
  const page = await openPage(context, url, tag);
  await page.click('#call');
  const v = await waitState(page, ['connected', 'failed'], `${tag}: waiting for the "${kind}" error`);
  if (v.lastError?.kind !== kind || !v.errorText) fail(`${tag}: expected a "${kind}" error on the page, it shows "${v.stateText}" / "${v.errorText}"`);
  log(`${tag}: page says "${v.errorText}"`);
  await page.close();
}

// Click Call, wait for connected and received audio, check both tones. Returns the timings.
async function connect(page) {
  await page.click('#call');
  const v = await waitState(page, ['connected', 'failed', 'ended'], 'waiting for the call to connect');
  if (v.state !== 'connected') fail(`call did not connect: page shows "${v.stateText}" / "${v.errorText}"`);
  try {
    await page.waitForFunction(() => window.voicecall.timings.audio !== undefined, null, { timeout: timeoutMs });
  } catch {
    await sleep(1100);  // one more stats round for the message
    const { stats: st, outputDb } = await vc(page);
    fail(`connected, but no audio received from the callee: received level ${outputDb.toFixed(0)} dBFS (needs > -50), ` +
      `${st.packetsReceived ?? 0} RTP packets received, ${st.recvKbps?.toFixed(1) ?? 0} kbit/s, codec ${st.codec ?? 'none'}`);
  }
  const { timings } = await vc(page);
  log(`click -> offer sent ${timings.offer} ms, click -> microphone open ${timings.mic} ms, click -> connected ${timings.connected} ms, click -> first received audio ${timings.audio} ms`);

  const sample = async (fn) => {
    const hz = [];
    for (let i = 0; i < 7; i++) { hz.push(await page.evaluate(fn)); await sleep(150); }
    const ok = hz.filter((h) => h != null).sort((a, b) => a - b);
    return ok.length ? ok[Math.floor(ok.length / 2)] : null;
  };
  await sleep(500);  // let the FFT window fill with the call's audio
  const heard = await sample(() => window.voicecall.remoteDominantHz());
  const sent = await sample(() => window.voicecall.localDominantHz());
  log(`page hears ${fmtHz(heard)} (callee tone ${remoteHz} Hz); fake microphone sends ${fmtHz(sent)} (${toneHz} Hz)`);
  if (!near(sent, toneHz)) fail(`Chromium's fake microphone gives ${fmtHz(sent)}, not ${toneHz} Hz: test setup problem`);
  if (!near(heard, remoteHz)) fail(`the page hears ${fmtHz(heard)}, expected the callee's ${remoteHz} Hz ±${tolerance * 100} %`);
  return { ...timings, heardHz: heard };
}

async function checkStats(page) {
  await page.waitForFunction(() => window.voicecall.stats.recvKbps !== undefined, null, { timeout: timeoutMs });
  const { stats, inputLevel, outputLevel } = await vc(page);
  const f = (x, d = 1) => (x === undefined ? '-' : Number(x).toFixed(d));
  log(`stats: rtt ${f(stats.rttMs)} ms, lost ${stats.packetsLost} (${f(100 * stats.fractionLost)} %), jitter ${f(stats.jitterMs)} ms, ` +
    `send ${f(stats.sendKbps)} kbit/s, recv ${f(stats.recvKbps)} kbit/s, ${stats.codec}; levels in ${f(inputLevel, 2)} out ${f(outputLevel, 2)}`);
  if (!(stats.packetsReceived > 0 && stats.recvKbps > 0)) fail('stats show nothing received');
  if (!(stats.sendKbps > 0)) fail('stats show nothing sent');
  if (!(inputLevel > 0 && outputLevel > 0)) fail(`level meters idle (in ${inputLevel}, out ${outputLevel})`);
  return stats;
}

// ---------- scenarios ----------

async function scenario(mode) {
  const port = Number(opt('port', 'VOICECALL_PORT', 0)) || await freePort();
  const outWav = outWavOpt === 'none' ? null : path.resolve(outWavOpt.replaceAll('{mode}', mode));
  if (outWav) fs.rmSync(outWav, { force: true });
  const cmd = calleeCmd.replaceAll('{port}', port).replaceAll('{out}', outWav || '/dev/null').replaceAll('{html}', htmlPath);
  const pageUrl = pageUrlOpt.replaceAll('{port}', port).replaceAll('{html}', htmlPath);
  const callee = new Callee(cmd, path.join(outDir, `callee-${mode}.log`));
  let context;
  const result = { mode };
  try {
    const [, ctx] = await Promise.all([callee.waitListening(port), openBrowser(mode)]);
    context = ctx;
    if (mode === 'errors') {
      const u = new URL(pageUrl);
      u.searchParams.set('url', `http://127.0.0.1:${await freePort()}/call`);
      await expectError(context, u.href, 'network', 'errors/network');
      await closeBrowser(context);
      context = await openBrowser(mode, { denyMic: true });
      await expectError(context, pageUrl, 'mic-permission', 'errors/mic-denied');
      await closeBrowser(context); context = null;
      const ex = await callee.interrupt();
      if (ex.code !== 0) fail(`callee exited with ${JSON.stringify(ex)} after SIGINT:\n${callee.tail()}`);
      return result;
    }
    if (mode === 'refused') {
      await expectError(context, pageUrl, 'refused', 'refused');
      if (!/REFUSED 127\.0\.0\.1:\d+ Mozilla/.test(callee.text())) fail(`the callee's application did not see the call:\n${callee.tail()}`);
      await closeBrowser(context); context = null;
      const ex = await callee.interrupt();
      if (ex.code !== 0) fail(`callee exited with ${JSON.stringify(ex)} after SIGINT:\n${callee.tail()}`);
      result.refused = true;
      return result;
    }
    if (mode === 'unauthorized') {
      const u = new URL(pageUrl);
      if (!u.searchParams.has('token')) fail('mode unauthorized needs --page-url with ?token=<the callee\'s token>');
      u.searchParams.delete('token');
      await expectError(context, u.href, 'unauthorized', 'unauthorized/no-token');
      u.searchParams.set('token', 'wrong-token');
      await expectError(context, u.href, 'unauthorized', 'unauthorized/wrong-token');
    }
    const page = await openPage(context, pageUrl, mode);
    const clickedAt = Date.now();
    Object.assign(result, await connect(page));
    await checkStats(page);

    if (mode === 'busy') {
      const second = await openPage(context, pageUrl, `${mode}#2`);
      await second.click('#call');
      const v = await waitState(second, ['connected', 'failed'], 'second caller');
      if (v.lastError?.kind !== 'busy') fail(`second caller should get "busy", page shows "${v.stateText}" / "${v.errorText}"`);
      log(`second caller sees: "${v.errorText}"`);
      const first = await vc(page);
      if (first.state !== 'connected') fail(`the first call did not survive the second caller (${first.stateText})`);
    }

    if (mode === 'dtmf') {
      const from = callee.text().length;
      const t0 = Date.now();
      if (!await page.evaluate(() => window.voicecall.sendDtmf('1234#', 100, 70))) {
        fail('Chromium cannot send DTMF on this call (RTCDTMFSender.canInsertDTMF is false: telephone-event not negotiated)');
      }
      const want = ['1', '2', '3', '4', '#'];
      let got = [];
      while (Date.now() - t0 < 5000) {
        got = [...callee.text().slice(from).matchAll(/voicecall-dtmf.*?digit=\(string\)"?([^",;]+)"?.*?duration-ms=\(uint\)(\d+)/g)]
          .map((m) => ({ digit: m[1].replace(/\\(.)/g, '$1'), ms: Number(m[2]) }));
        if (got.length >= want.length) break;
        await sleep(50);
      }
      result.dtmf = got.map((d) => `${d.digit} (${d.ms} ms)`).join(', ');
      result.dtmfMs = Date.now() - t0;
      log(`callee got DTMF: ${result.dtmf || 'nothing'}`);
      if (got.map((d) => d.digit).join('') !== want.join('')) fail(`the callee posted DTMF "${got.map((d) => d.digit).join('')}", expected "1234#"`);
      const off = got.find((d) => d.ms < 60 || d.ms > 140);
      if (off) fail(`digit ${off.digit} lasted ${off.ms} ms, Chromium sent 100 ms`);
    }

    if (mode === 'remote-hangup') {
      const pageT0 = await page.evaluate(() => performance.now());
      const t0 = Date.now();
      process.kill(callee.proc.pid, 'SIGINT');
      log('sent SIGINT to the callee during the call');
      const v = await waitState(page, ['ended', 'failed', 'hungup'], 'after the callee hung up');
      result.endedMs = Date.now() - t0;
      await sleep(300);  // let late events arrive, for the record
      const seen = (await vc(page)).events.filter((e) => e.t >= pageT0).map((e) => `${e.what} +${Math.round(e.t - pageT0)} ms`);
      result.chromiumSaw = seen.join(', ') || 'nothing';
      log(`page showed "${v.stateText}" ${result.endedMs} ms after SIGINT; the page saw: ${result.chromiumSaw}`);
      if (v.state !== 'ended' || v.endedBy !== 'remote-hangup' || !/The other side hung up/.test(v.stateText)) {
        fail(`after the callee hung up the page should say "The other side hung up", it shows "${v.stateText}" / "${v.errorText}" ` +
          `after ${result.endedMs} ms (the page saw: ${result.chromiumSaw})`);
      }
      if (result.endedMs > HANGUP_LIMIT_MS) fail(`the page noticed the hang-up after ${result.endedMs} ms, more than ${HANGUP_LIMIT_MS} ms`);
      if (v.closedAt === undefined) fail('the page did not close its peer connection after the hang-up');
    } else if (mode === 'page-closed' || mode === 'page-crash') {
      const from = callee.text().length;
      const t0 = Date.now();
      if (mode === 'page-closed') {
        await page.close();  // no Hang up click
      } else {
        await page.goto('chrome://crash').catch((e) => log(`renderer crashed: ${e.message.split('\n')[0]}`));
      }
      const limit = peerTimeoutMs + 1000;
      const { at, reason } = await callee.waitSessionEnded(from, limit + 5000);
      result.calleeEndedMs = at - t0;
      result.calleeReason = reason;
      log(`callee ended the session (${reason}) ${result.calleeEndedMs} ms after the page was ${mode === 'page-closed' ? 'closed' : 'crashed'}`);
      if (result.calleeEndedMs > limit) fail(`the callee ended the session after ${result.calleeEndedMs} ms, more than peer-timeout + 1 s (${limit} ms)`);
      if (mode === 'page-crash' && reason !== 'timeout') fail(`after the page crashed the callee's session ended with reason "${reason}", expected "timeout"`);
    } else {
      await sleep(Math.max(0, callSeconds * 1000 - (Date.now() - clickedAt)));  // let the call last a while
      if (mode === 'call' && screenshot) {
        fs.mkdirSync(path.dirname(path.resolve(screenshot)), { recursive: true });
        await page.screenshot({ path: screenshot });
        log(`screenshot ${screenshot}`);
      }
      const v0 = await vc(page);
      if (v0.state !== 'connected') fail(`call dropped before hang-up: "${v0.stateText}" / "${v0.errorText}"`);
      await page.click('#hangup');
      const v = await waitState(page, ['hungup'], 'after clicking Hang up');
      if (v.lastError) fail(`page shows an error after hang-up: ${v.errorText}`);
      const deadline = Date.now() + 5000;
      while (!page.whip.some((r) => r.method === 'DELETE') && Date.now() < deadline) await sleep(50);
      const del = page.whip.find((r) => r.method === 'DELETE');
      if (!del) fail('Hang up sent no DELETE to the WHIP resource');
      if (del.status < 200 || del.status >= 300) fail(`DELETE ${del.url} answered ${del.status}`);
    }
    const post = page.whip.find((r) => r.method === 'POST');
    const patches = page.whip.filter((r) => r.method === 'PATCH').map((r) => r.status);
    log(`WHIP: POST ${post?.status}, PATCH ${patches.join(' ') || 'none'}`);
    // 2xx, or 405/501 (no trickle support); 409/503 only as a transient the page retried past.
    const final = [200, 204, 405, 501];
    if (patches.some((s) => !final.includes(s) && s !== 409 && s !== 503) || (patches.length && !final.includes(patches.at(-1)))) {
      fail(`PATCH (trickle ICE) answered ${patches.join(', ')}`);
    }
    if (page.pageError) fail(`page script error: ${page.pageError.message}`);

    await closeBrowser(context); context = null;
    const ex = await callee.interrupt();
    log(`callee exited ${JSON.stringify(ex)}`);
    if (ex.code !== 0) fail(`callee exited with ${JSON.stringify(ex)} after SIGINT:\n${callee.tail()}`);
    if (outWav) {
      result.calleeHz = wavFrequency(outWav);
      if (!near(result.calleeHz, toneHz)) fail(`the callee recorded ${fmtHz(result.calleeHz)}, expected Chromium's ${toneHz} Hz ±${tolerance * 100} %`);
    }
    return result;
  } catch (e) {
    e.calleeLog = callee.tail();
    throw e;
  } finally {
    await closeBrowser(context);
    if (!callee.exited) { try { await callee.interrupt(5000); } catch { callee.kill(); } }
  }
}

// What GLib's default log handler prints for g_critical / g_warning, in any domain.
const GLIB_COMPLAINT = /(CRITICAL|WARNING) \*\*: /;
function checkGlibComplaints(logFile) {
  let text = '';
  try { text = fs.readFileSync(logFile, 'utf8'); } catch { return; }
  const bad = text.split('\n').find((l) => GLIB_COMPLAINT.test(l));
  if (bad) fail(`the callee printed a GLib warning: ${bad.trim()} (log: ${logFile})`);
}

fs.mkdirSync(outDir, { recursive: true });
writeToneWav(toneWav, toneHz);
log(`output in ${outDir}; chromium ${chromiumPath}; modes ${modes.join(', ')}`);
let passed = 0, failed = 0;
for (const mode of modes) {
  const t0 = Date.now();
  try {
    const r = await scenario(mode);
    checkGlibComplaints(path.join(outDir, `callee-${mode}.log`));
    passed++;
    const facts = [
      r.connected !== undefined && `click->offer ${r.offer} ms, click->connected ${r.connected} ms, click->audio ${r.audio} ms, page heard ${fmtHz(r.heardHz)}`,
      r.calleeHz !== undefined && `callee recorded ${fmtHz(r.calleeHz)}`,
      r.endedMs !== undefined && `"The other side hung up" shown ${r.endedMs} ms after SIGINT (the page saw: ${r.chromiumSaw})`,
      r.calleeEndedMs !== undefined && `callee ended the session (${r.calleeReason}) ${r.calleeEndedMs} ms after the page went`,
      mode === 'errors' && 'network and microphone errors shown in words',
      r.dtmf !== undefined && `callee posted voicecall-dtmf ${r.dtmf}`,
      r.refused && 'the page showed the callee\'s 403 refusal in words',
    ].filter(Boolean);
    console.log(`PASS ${mode}: ${facts.join(', ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${mode}: ${e instanceof TestFailure ? e.message : e.stack}`);
    if (e.calleeLog && !e.message.includes(e.calleeLog)) console.log(`--- callee log (last lines) ---\n${e.calleeLog}\n---`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
