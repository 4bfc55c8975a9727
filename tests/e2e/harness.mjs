// Shared plumbing for the end-to-end tests: the real `webconf` binary on ephemeral ports, real
// headless browsers with fake camera and microphone, a page-side WebRTC stats helper, and a
// polling `waitFor`.
//
// Invariants the tests rely on:
// - every server gets its own temp dir and its own free UDP media port range, so test files may
//   run in parallel;
// - every process started here is killed in the test's `after()` hook, and at the latest when
//   node exits;
// - a failed assertion carries its context: `diagnostics()` prints the server's output tail and
//   each page's console, which `step()` appends to any error.
//
// Environment: WEBCONF_BIN (default target/debug/webconf), CHROMIUM_BIN (default
// /usr/bin/chromium), FIREFOX_BIN (default /usr/bin/firefox-esr), SMTP_PYTHON (the Python that
// has Debian's python3-aiosmtpd; default /usr/bin/python3), WEBCONF_E2E_VERBOSE=1 to echo
// server output and browser consoles as they come.

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { mediaStats } from './lib/stats.mjs';
import puppeteer from 'puppeteer-core';

export { sleep };
export * from './lib/poll.mjs';
export * from './lib/stats.mjs';
export * from './lib/signaling.mjs';
import { waitFor, safeJson } from './lib/poll.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VERBOSE = process.env.WEBCONF_E2E_VERBOSE === '1';

/** Everything started by this process, killed on exit even if an `after()` hook never ran. */
const children = new Set();
const tempDirs = new Set();
process.on('exit', () => {
  for (const child of children) signalTree(child.pid, 'SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

/** What is printed when a step fails: a server and any number of labelled pages. */
export class Diagnostics {
  constructor() {
    /** @type {Array<{label: string, tail: (n: number) => string}>} */
    this.sources = [];
  }

  add(label, tail, snapshot) {
    this.sources.push({ label, tail, snapshot });
  }

  addServer(server) {
    this.add('server output', (n) => {
      const exited = server.exited ? `(THE SERVER EXITED: ${safeJson(server.exited)})\n` : '';
      return exited + server.tail(n);
    });
  }

  addPage(label, page) {
    this.add(`${label} console`, (n) => pageLogTail(page, n), async () => {
      if (page.isClosed()) return '(the page is closed)';
      const state = await pageState(page);
      const stats = await mediaStats(page).catch((e) => String(e));
      return `hooks: ${safeJson(state)}\ninbound media: ${safeJson(stats)}`;
    });
  }

  /** The tails of every source, and each page's hooks and media counters as they are now. */
  async render() {
    const parts = [];
    for (const { label, tail, snapshot } of this.sources) {
      let now = '';
      if (snapshot) {
        now = await Promise.race([
          snapshot().catch((e) => `(could not read the page: ${e.message || e})`),
          sleep(3000).then(() => '(the page did not answer within 3 s)'),
        ]);
        now += '\n';
      }
      parts.push(`----- ${label} (last lines) -----\n${now}${tail(40) || '(nothing)'}`);
    }
    return parts.join('\n');
  }
}

/**
 * Adds `context` to what the test runner prints for `err`: the stack (which V8 may already
 * have rendered with the old message, as assert's errors do) and the message.
 */
export function appendContext(err, context) {
  if (!(err instanceof Error)) return;
  const stack = err.stack || `${err.name}: ${err.message}`;
  err.stack = `${stack}\n${context}`;
  // node:test's TAP reporter prints the message (its `error:` field) and only the frames of
  // the stack: the message carries the context too.
  err.message = `${err.message}\n${context}`;
}

/**
 * A step runner for scenarios that are not split into subtests: `step(name, fn)` runs `fn` and
 * returns its value; a failure is renamed after the step and carries the diagnostics.
 * @param {Diagnostics} diagnostics
 */
export function stepRunner(diagnostics) {
  return async (name, fn) => {
    try {
      return await fn();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      err.message = `${name}: ${err.message}`;
      appendContext(err, await diagnostics.render());
      throw err;
    }
  };
}

/**
 * Runs one stateful step of a scenario as a node:test subtest. Once a step fails, the later
 * steps of the same scenario are skipped (they depend on its state), and the failure message
 * gets the diagnostics appended.
 */
export function stepper(t, diagnostics) {
  let broken = null;
  return async function step(name, fn) {
    await t.test(name, async (st) => {
      if (broken) {
        st.skip(`an earlier step failed: ${broken}`);
        return;
      }
      try {
        await fn(st);
      } catch (e) {
        broken = name;
        const err = e instanceof Error ? e : new Error(String(e));
        appendContext(err, await diagnostics.render());
        throw err;
      }
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Server

export function webconfBin() {
  const bin = process.env.WEBCONF_BIN || 'target/debug/webconf';
  return path.resolve(REPO_ROOT, bin);
}

let nextPortBase = 20000 + 11 * Math.floor(Math.random() * 800);

function udpPortFree(port) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind({ port, address: '0.0.0.0', exclusive: true }, () => sock.close(() => resolve(true)));
  });
}

/**
 * Finds `count` consecutive free UDP ports in 20000..29999 (below Linux's ephemeral range, where
 * the browsers' own sockets land). Each call returns a different range, and ranges are probed
 * with a bind, so parallel test files rarely collide.
 */
export async function allocateMediaPorts(count = 11) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = nextPortBase;
    nextPortBase += count;
    if (nextPortBase + count > 30000) nextPortBase = 20000 + (nextPortBase % 11);
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await udpPortFree(p);
    if (free) return { min: base, max: base + count - 1 };
  }
  throw new Error('could not find a free UDP port range for the media server');
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/**
 * Starts the real binary with a fresh config and data dir, and resolves once it logged its
 * `listening on` line. `tls` is "self-signed" or "off"; `listen` is `http.listen` (port 0:
 * the port is read from the log line, which says `[::]` for a dual-stack listener);
 * `mediaAddresses` is `media.addresses`; `extraToml` is appended to the config (its tables
 * must not repeat `[http]` or `[media]`); `mediaPorts` ({min, max}) reuses a range (a restart on
 * the same ports), otherwise a free one is found.
 *
 * The returned `url`/`origin` is https://127.0.0.1:PORT; `urlFor('[::1]')` gives the same
 * server reached over IPv6 loopback (only when `listen` is dual-stack or IPv6).
 */
export async function startServer({
  tls = 'self-signed',
  listen = '127.0.0.1:0',
  mediaAddresses = ['127.0.0.1'],
  extraToml = '',
  mediaPorts = null,
  timeoutMs = 30000,
} = {}) {
  const bin = webconfBin();
  if (!fs.existsSync(bin)) {
    throw new Error(
      `webconf binary not found at ${bin}: run \`cargo build -p webconf-server\` or set WEBCONF_BIN`,
    );
  }
  const dir = makeTempDir('webconf-e2e-');
  const ports = mediaPorts ?? (await allocateMediaPorts(11));
  const configPath = path.join(dir, 'webconf.toml');
  const config = [
    `data_dir = ${JSON.stringify(path.join(dir, 'data'))}`,
    '',
    '[http]',
    `listen = ${JSON.stringify(listen)}`,
    `tls = ${JSON.stringify(tls)}`,
    '',
    '[media]',
    `port_min = ${ports.min}`,
    `port_max = ${ports.max}`,
    `addresses = ${JSON.stringify(mediaAddresses)}`,
    '',
    extraToml,
  ].join('\n');
  fs.writeFileSync(configPath, config);

  const lines = [];
  // The config file is the whole truth: WEBCONF_* variables would override it.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('WEBCONF_')),
  );
  env.NO_COLOR = '1';
  if (!env.RUST_LOG) env.RUST_LOG = 'info';
  const child = spawn(bin, ['serve', '--config', configPath], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);

  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      children.delete(child);
      resolve(exited);
    });
  });

  let onListening;
  const listening = new Promise((resolve) => {
    onListening = resolve;
  });
  const collect = (stream, name) => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop();
      for (const raw of parts) {
        const line = raw.replace(ANSI, '');
        lines.push(`[${name}] ${line}`);
        if (lines.length > 5000) lines.splice(0, 1000);
        if (VERBOSE) process.stderr.write(`[webconf ${name}] ${line}\n`);
        const m = /listening on (https?):\/\/([^\s/]+?):(\d+)/.exec(line);
        if (m) onListening({ scheme: m[1], host: m[2], port: Number(m[3]) });
      }
    });
  };
  collect(child.stdout, 'out');
  collect(child.stderr, 'err');

  const tail = (n = 40) => lines.slice(-n).join('\n');
  let timer;
  const outcome = await Promise.race([
    listening,
    exitPromise.then((e) => ({ exitedEarly: e })),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome.exitedEarly || outcome.timedOut) {
    child.kill('SIGKILL');
    const why = outcome.timedOut
      ? `did not log "listening on" within ${timeoutMs} ms`
      : `exited early (${safeJson(outcome.exitedEarly)})`;
    throw new Error(
      `webconf ${why}\n----- config -----\n${config}\n----- output -----\n${tail(200)}`,
    );
  }

  const { scheme, port } = outcome;
  const origin = `${scheme}://127.0.0.1:${port}`;
  return {
    url: origin,
    origin,
    port,
    scheme,
    wsUrl: `${scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`,
    /** The origin of this server reached at `host` ("127.0.0.1", "[::1]"). */
    urlFor(host) {
      return `${scheme}://${host}:${port}`;
    },
    /** The signaling WebSocket URL at `host`. */
    wsUrlFor(host) {
      return `${scheme === 'https' ? 'wss' : 'ws'}://${host}:${port}/ws`;
    },
    mediaPorts: ports,
    dir,
    process: child,
    tail,
    /** Whether the process is still running (a crash is a failure worth reporting). */
    get exited() {
      return exited;
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(t);
      }
      removeTempDir(dir);
    },
  };
}

/** A plain HTTP(S) GET that accepts the self-signed certificate; resolves {status, headers, body}. */
export function httpGet(server, rawPath, { headers = {} } = {}) {
  return httpRequest(server, 'GET', rawPath, { headers });
}

/**
 * An HTTP(S) request to `server` at `host` (default 127.0.0.1; "::1" for IPv6 loopback) that
 * accepts the self-signed certificate. A `json` body is sent with `Content-Type:
 * application/json` unless `headers` says otherwise. Resolves {status, headers, body, json}
 * (`json` is undefined when the body is not JSON).
 */
export function httpRequest(server, method, rawPath, { headers = {}, json, host = '127.0.0.1' } = {}) {
  const mod = server.scheme === 'https' ? https : http;
  const payload = json === undefined ? undefined : JSON.stringify(json);
  const allHeaders = { ...headers };
  if (payload !== undefined && !Object.keys(allHeaders).some((k) => k.toLowerCase() === 'content-type')) {
    allHeaders['Content-Type'] = 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        host: host.replace(/^\[|\]$/g, ''),
        port: server.port,
        method,
        path: rawPath,
        headers: allHeaders,
        rejectUnauthorized: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          if (body.length < 1_000_000) body += c;
        });
        res.on('end', () => {
          let parsed;
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, body, json: parsed });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${rawPath} timed out`)));
    req.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------
// SMTP

/** A free TCP port on 127.0.0.1 (bound then released: another process could take it first). */
export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function smtpPython() {
  if (process.env.SMTP_PYTHON) return process.env.SMTP_PYTHON;
  // Debian's python3-aiosmtpd is installed for Debian's Python; a python3 first on PATH (pyenv,
  // a virtualenv) may not see it.
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port and sends a 220 banner. */
function smtpReady(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('data', (chunk) => {
      data += chunk;
      if (/^220[ -]/m.test(data)) {
        sock.write('QUIT\r\n');
        done(true);
      }
    });
    sock.on('error', () => done(false));
  });
}

/**
 * Decodes a MIME message enough to read its text: headers, transfer encodings (base64,
 * quoted-printable) and multipart bodies. Returns {headers: {lowercase name: value}, text}.
 */
export function parseMail(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const rest = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const type = headers['content-type'] || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type);
  if (/^multipart\//i.test(type) && boundary) {
    const parts = rest.split(`--${boundary[1]}`).slice(1);
    const texts = [];
    for (const part of parts) {
      if (part.startsWith('--')) break;
      texts.push(parseMail(part.replace(/^\r?\n/, '')).text);
    }
    return { headers, text: texts.join('\n') };
  }
  const encoding = (headers['content-transfer-encoding'] || '').toLowerCase();
  let text = rest;
  if (encoding === 'base64') {
    text = Buffer.from(rest.replace(/\s+/g, ''), 'base64').toString('utf8');
  } else if (encoding === 'quoted-printable') {
    const bytes = Buffer.from(
      rest.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    );
    text = bytes.toString('utf8');
  }
  return { headers, text };
}

/** The one-time code of a mail: the first run of exactly 6 digits in its decoded text. */
export function extractCode(text) {
  const m = /(?<!\d)\d{6}(?!\d)/.exec(text);
  return m ? m[0] : null;
}

/**
 * Starts a real SMTP server (Debian's python3-aiosmtpd, `Mailbox` handler) on a free port of
 * 127.0.0.1; every mail it accepts lands in a maildir. Returns {host, port, maildir, tail,
 * mails(), nextMail(), stop()}.
 */
export async function startSmtp({ timeoutMs = 15000 } = {}) {
  const dir = makeTempDir('webconf-e2e-smtp-');
  const maildir = path.join(dir, 'Maildir');
  const python = smtpPython();
  const lines = [];
  let port;
  let child;
  let exited = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freeTcpPort();
    exited = null;
    child = spawn(
      python,
      ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(child);
    const proc = child;
    proc.once('exit', (code, signal) => {
      if (proc === child) exited = { code, signal };
      children.delete(proc);
    });
    proc.once('error', (e) => {
      if (proc === child) exited = { error: String(e) };
    });
    for (const [stream, name] of [[proc.stdout, 'out'], [proc.stderr, 'err']]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        for (const line of chunk.split('\n')) {
          if (!line) continue;
          lines.push(`[${name}] ${line}`);
          if (lines.length > 2000) lines.splice(0, 500);
          if (VERBOSE) process.stderr.write(`[smtp ${name}] ${line}\n`);
        }
      });
    }
    const start = Date.now();
    while (!exited && Date.now() - start < timeoutMs && !(await smtpReady(port))) await sleep(100);
    if (!exited && (await smtpReady(port))) break;
    if (!exited) signalTree(proc.pid, 'SIGKILL');
    if (attempt === 4 || !/address already in use/i.test(lines.join('\n'))) {
      throw new Error(
        `the SMTP server (${python} -m aiosmtpd) did not start on 127.0.0.1:${port} ` +
          `(${safeJson(exited) || 'no banner'}): is Debian's python3-aiosmtpd installed? ` +
          `(apt-get install python3-aiosmtpd; SMTP_PYTHON picks the interpreter)\n${lines.slice(-20).join('\n')}`,
      );
    }
  }
  const seen = new Set();
  /** Every mail in the maildir, oldest first, as {file, raw, headers, text}. */
  const mails = () => {
    const out = [];
    for (const sub of ['new', 'cur']) {
      const d = path.join(maildir, sub);
      if (!fs.existsSync(d)) continue;
      for (const file of fs.readdirSync(d)) {
        const full = path.join(d, file);
        const raw = fs.readFileSync(full, 'utf8');
        out.push({ file, mtime: fs.statSync(full).mtimeMs, raw, ...parseMail(raw) });
      }
    }
    return out.sort((a, b) => a.mtime - b.mtime || a.file.localeCompare(b.file));
  };
  return {
    host: '127.0.0.1',
    port,
    maildir,
    tail: (n = 40) => lines.slice(-n).join('\n'),
    get exited() {
      return exited;
    },
    mails,
    /**
     * Waits for a mail not returned before (to `to`, if given: matched against its To and
     * X-RcptTo headers) and returns it with its `code` (see `extractCode`).
     */
    async nextMail({ to, timeoutMs: wait = 15000 } = {}) {
      const mail = await waitFor(
        () => mails().find((m) => {
          if (seen.has(m.file)) return false;
          if (!to) return true;
          const rcpt = `${m.headers.to || ''} ${m.headers['x-rcptto'] || ''}`.toLowerCase();
          return rcpt.includes(to.toLowerCase());
        }),
        wait,
        { message: () => `a new mail${to ? ` to ${to}` : ''} in ${maildir} (mails so far: ${mails().length})` },
      );
      seen.add(mail.file);
      return { ...mail, code: extractCode(mail.text) };
    },
    async stop() {
      if (!exited && child) {
        signalTree(child.pid, 'SIGTERM');
        await waitFor(() => exited, 5000).catch(() => signalTree(child.pid, 'SIGKILL'));
      }
      removeTempDir(dir);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Browsers

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--ignore-certificate-errors',
  '--autoplay-policy=no-user-gesture-required',
  // Chromium leaves loopback interfaces out of ICE gathering by default; the server announces
  // 127.0.0.1, and a CI sandbox may have no other interface.
  '--allow-loopback-in-peer-connection',
];

export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // Firefox leaves loopback out of ICE gathering by default (see the Chromium flag above).
  'media.peerconnection.ice.loopback': true,
  // With `permission.disabled` alone no camera permission is ever recorded, and a page without
  // one gathers only the default route's addresses (never loopback): let the fake permission
  // prompt grant one, as a person clicking "Allow" would.
  'media.navigator.permission.fake': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'network.captive-portal-service.enabled': false,
  'app.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

/** The pids of `rootPid` and all its descendants (Linux /proc). */
function processTree(rootPid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  const pids = [];
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift();
    pids.push(pid);
    queue.push(...(children.get(pid) || []));
  }
  return pids;
}

function signalTree(rootPid, signal) {
  for (const pid of processTree(rootPid)) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function withBrowserCleanup(browser, dir, label) {
  const proc = browser.process();
  if (proc) children.add(proc);
  browser.label = label;
  browser.userDataDir = dir;
  let gone = false;
  const close = browser.close.bind(browser);
  browser.close = async () => {
    if (!gone) {
      try {
        await Promise.race([close(), sleep(10000)]);
      } catch {
        // the browser may already be gone
      }
    }
    if (proc && proc.exitCode === null && proc.signalCode === null) signalTree(proc.pid, 'SIGKILL');
    if (proc) children.delete(proc);
    removeTempDir(dir);
  };
  /** Ends every process of the browser at once, as a crash or a power cut would. */
  browser.kill = () => {
    gone = true;
    if (proc) signalTree(proc.pid, 'SIGKILL');
  };
  /**
   * Stops (SIGSTOP) every process of the browser: its sockets stay open but nothing answers,
   * not even WebSocket pings, as with a laptop whose lid was closed or a network that dropped.
   */
  browser.freeze = () => {
    gone = true;
    if (proc) signalTree(proc.pid, 'SIGSTOP');
  };
  return browser;
}

/**
 * How `launchChromium(label, { blockUdp: true })` keeps WebRTC off UDP, as a firewall that drops
 * the media ports would: the browser's WebRTC IP handling policy `disable_non_proxied_udp`
 * (the switch behind the enterprise policy WebRtcIPHandling). Chromium then gathers no UDP
 * candidate at all, only TCP ones, so against our UDP-only ICE-lite server ICE never connects;
 * no root, no firewall rule, and the page's code is the production one. Checked with Chromium
 * 156: `--force-webrtc-ip-handling-policy=…` is ignored (UDP still connects), this one works.
 * A TCP fallback will change what "blocked" must mean: change it here, for every test.
 */
export const BLOCK_UDP_ARGS = ['--webrtc-ip-handling-policy=disable_non_proxied_udp'];

/**
 * Headless Debian Chromium with fake camera and microphone and a fresh profile. `extraArgs` are
 * added after `CHROMIUM_ARGS` (a switch given twice takes its last value, e.g.
 * `--use-fake-device-for-media-stream=device-count=2`); `withoutArgs` removes some of them
 * (e.g. `--use-fake-ui-for-media-stream`, so that permissions are really checked); `blockUdp`
 * makes the media path blocked (`BLOCK_UDP_ARGS`). `executablePath` replaces the browser (e.g. a
 * wrapper starting it in a network namespace, tests/e2e/lib/netns.mjs) and `pipe` talks to it
 * over a pipe instead of its DevTools WebSocket (which a namespace's browser cannot offer).
 */
export async function launchChromium(
  label = 'chromium',
  { extraArgs = [], withoutArgs = [], blockUdp = false, executablePath = null, pipe = false } = {},
) {
  const dir = makeTempDir('webconf-e2e-chromium-');
  const browser = await puppeteer.launch({
    executablePath: executablePath || process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    pipe,
    headless: true,
    userDataDir: dir,
    acceptInsecureCerts: true,
    args: [
      ...CHROMIUM_ARGS.filter((a) => !withoutArgs.includes(a)),
      ...(blockUdp ? BLOCK_UDP_ARGS : []),
      ...extraArgs,
    ],
    protocolTimeout: 60000,
  });
  return withBrowserCleanup(browser, dir, label);
}

/** Headless Debian Firefox ESR over WebDriver BiDi with fake media and a fresh profile. */
export async function launchFirefox(label = 'firefox') {
  const dir = makeTempDir('webconf-e2e-firefox-');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: process.env.FIREFOX_BIN || '/usr/bin/firefox-esr',
    headless: true,
    userDataDir: dir,
    acceptInsecureCerts: true,
    extraPrefsFirefox: FIREFOX_PREFS,
    protocolTimeout: 60000,
  });
  return withBrowserCleanup(browser, dir, label);
}

/** Opens a page in a fresh browser context (own cookies and storage) and records its console. */
export async function newPage(browser, label) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.label = label;
  page.logs = [];
  const log = (line) => {
    page.logs.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (page.logs.length > 2000) page.logs.splice(0, 500);
    if (VERBOSE) process.stderr.write(`[${label}] ${line}\n`);
  };
  page.on('console', (msg) => log(`console.${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => log(`pageerror: ${err && (err.stack || err.message || err)}`));
  page.on('requestfailed', (req) =>
    log(`requestfailed: ${req.url()} ${req.failure() ? req.failure().errorText : ''}`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) log(`http ${res.status()}: ${res.url()}`);
  });
  return page;
}

export function pageLogTail(page, n = 40) {
  return (page.logs || []).slice(-n).join('\n');
}

// ---------------------------------------------------------------------------------------------
// webconf pages

/** A room name that follows the naming rule (>= 10 letters or digits, >= 3 digits). */
export function randomRoom(prefix = 'e2e') {
  const digits = String(Math.floor(Math.random() * 1e9)).padStart(9, '0');
  return `${prefix.replace(/[^a-z0-9]/gi, '')}room${digits}`;
}

/** What the page exposes through its test hooks, in one round trip. */
export function pageState(page) {
  return page.evaluate(() => {
    const w = /** @type {any} */ (window).webconf;
    const tiles = [...document.querySelectorAll('#tiles .tile')].map((el) => ({
      id: el.getAttribute('data-participant-id'),
      local: el.getAttribute('data-local') === 'true',
      role: el.getAttribute('data-role'),
      text: (el.textContent || '').replace(/\s+/g, ' ').trim(),
    }));
    return {
      state: document.body ? document.body.dataset.state : undefined,
      endReason: document.body ? document.body.dataset.endReason : undefined,
      participantId: w ? w.participantId : undefined,
      role: w ? w.role : undefined,
      participants: w && w.participants ? JSON.parse(JSON.stringify(w.participants)) : undefined,
      pcState: w && w.pc ? w.pc.connectionState : undefined,
      iceState: w && w.pc ? w.pc.iceConnectionState : undefined,
      tiles,
    };
  });
}

/**
 * Opens `/<room>?name=...&autojoin=1` in a new context of `browser` and waits for the page to
 * be in the room with a participant id. Returns {page, id, name, label}. `beforeLoad`, if given,
 * is a function evaluated in the page before its scripts (`evaluateOnNewDocument`).
 */
export async function joinRoom(
  browser,
  server,
  room,
  name,
  { label = name, diagnostics, timeoutMs = 20000, host = '127.0.0.1', query = '', beforeLoad } = {},
) {
  const page = await newPage(browser, label);
  if (diagnostics) diagnostics.addPage(label, page);
  // A test's instrumentation, run in the page before its own scripts.
  if (beforeLoad) await page.evaluateOnNewDocument(beforeLoad);
  const url = `${server.urlFor ? server.urlFor(host) : server.url}/${room}?name=${encodeURIComponent(name)}&autojoin=1${query}`;
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  const st = await waitFor(
    async () => {
      const s = await pageState(page);
      if (s.state === 'error') throw new Error(`page state is "error": ${safeJson(s)}`);
      return s.state === 'in-room' && s.participantId ? s : null;
    },
    timeoutMs,
    { message: `${label} to reach state "in-room" with window.webconf.participantId at ${url}` },
  );
  return { page, id: st.participantId, name, label };
}

/**
 * Opens `url` in a new context of `browser` (own cookies) and waits until
 * `document.body.dataset.state` is one of `states`. Returns {page, state, label}.
 */
export async function openPage(browser, url, states, { label, diagnostics, timeoutMs = 20000 } = {}) {
  const page = await newPage(browser, label);
  if (diagnostics) diagnostics.addPage(label, page);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  const state = await waitForState(page, states, timeoutMs, label);
  return { page, state, label };
}

/**
 * Waits until the page's `body[data-state]` is one of `states` (a string or an array) and
 * returns it. A page that reaches "error" when that is not expected fails at once.
 */
export async function waitForState(page, states, timeoutMs = 10000, label = page.label) {
  const want = Array.isArray(states) ? states : [states];
  let last;
  await waitFor(
    async () => {
      last = await pageState(page);
      if (last.state === 'error' && !want.includes('error')) {
        const text = await page.evaluate(() => document.getElementById('error-text')?.textContent ?? '');
        throw Object.assign(new Error(`page state is "error" (${text}): ${safeJson(last)}`), { fatal: true });
      }
      return want.includes(last.state);
    },
    timeoutMs,
    { message: () => `${label} to reach state ${want.map((s) => `"${s}"`).join(' or ')} (now ${safeJson(last && last.state)})` },
  );
  return last.state;
}

/**
 * Waits until `member`'s page lists exactly `others` (array of {id, name}) in
 * `window.webconf.participants`, shows its own tile marked `data-local="true"`, and one tile per
 * other participant whose text contains that participant's name.
 */
export async function expectRoster(member, others, { timeoutMs = 5000 } = {}) {
  const want = [...others].map((o) => o.id).sort();
  await waitFor(
    async () => {
      const s = await pageState(member.page);
      const listed = Object.keys(s.participants || {}).sort();
      if (safeJson(listed) !== safeJson(want)) return false;
      for (const o of others) {
        if (!s.participants[o.id] || s.participants[o.id].name !== o.name) return false;
        const tile = s.tiles.find((tl) => tl.id === o.id);
        if (!tile || tile.local || !tile.text.includes(o.name)) return false;
      }
      const own = s.tiles.filter((tl) => tl.local);
      if (own.length !== 1 || own[0].id !== member.id) return false;
      return s.tiles.length === others.length + 1;
    },
    timeoutMs,
    {
      message: () =>
        `${member.label} (${member.id}) to list exactly ${safeJson(others)} with one tile each plus its own local tile`,
    },
  ).catch(async (e) => {
    e.message += `\npage state: ${safeJson(await pageState(member.page).catch((x) => String(x)))}`;
    throw e;
  });
}

