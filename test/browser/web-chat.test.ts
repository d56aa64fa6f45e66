/**
 * The web chat in a real browser: `sealwire chat-server --tcp --web 0` as a child process,
 * headless Chromium (playwright-core) on its page, and a terminal member (`sealwire chat`, line
 * mode) in the same room. Sign-up, public messages and @mentions both ways, /msg both ways, /who,
 * join/leave, peer text never parsed as HTML, reconnection after the connection is cut, history
 * after a reload, and a record altered in flight by a proxy: the page shows the session as broken
 * and never the altered text. A screenshot goes to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { runCli, startCli, tempDir, type Background } from '../helpers/cli.js';
import { ChatProcess } from '../chat/helpers.js';
import { chromiumPresent, launchChromium, SKIP_REASON } from './chromium.js';
import { WsProxy } from './ws-proxy.js';
import { encodeMessage } from '../../src/chat/protocol.js';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

describe.skipIf(!chromiumPresent)('web chat in Chromium', { timeout: 120_000 }, () => {
  const t = tempDir('sealwire-web-');
  const home = t.path('home');
  const env = { HOME: home, SEALWIRE_HOME: '' };
  let server: Background;
  let tcpPort = 0;
  let webUrl = '';
  let fingerprint = '';
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let proxy: WsProxy;
  let proxyUrl = '';
  const clients: ChatProcess[] = [];

  const member = (user: string, signup = true): ChatProcess => {
    const p = new ChatProcess([`127.0.0.1:${tcpPort}`, '--tcp', '--server-key', t.path('server.pub'), '--user', user, ...(signup ? ['--signup'] : [])], {
      ...env,
      SEALWIRE_PASSWORD: `${user}-password-123`,
    });
    clients.push(p);
    return p;
  };
  const lineWith = (page: Page, text: string | RegExp) => page.locator('#messages li', { hasText: text });
  const say = async (page: Page, text: string): Promise<void> => {
    await page.fill('#line', text);
    await page.press('#line', 'Enter');
  };
  const signIn = async (page: Page, user: string, signup: boolean): Promise<void> => {
    await page.locator('#status', { hasText: 'secure session' }).waitFor({ timeout: 20_000 });
    await page.fill('#user', user);
    await page.fill('#password', `${user}-password-123`);
    await page.click(signup ? '#signup-button' : '#signin-button');
    await page.locator('#status', { hasText: `signed in as ${user}` }).waitFor({ timeout: 20_000 });
  };

  beforeAll(async () => {
    await runCli(['keygen', '--out', t.path('server')]);
    fingerprint = (await runCli(['fingerprint', t.path('server.pub')])).stdout.toString().trim();
    server = await startCli(['chat-server', '--tcp', '--key', t.path('server'), '--db', t.path('chat.db'), '--port', '0', '--web', '0'], { env });
    tcpPort = Number(/:(\d+)$/.exec(server.firstLine)![1]);
    for (let i = 0; i < 200 && !/\n/.test(server.stdout().slice(server.stdout().indexOf('\n') + 1)); i++) await new Promise((r) => setTimeout(r, 25));
    const second = server.stdout().split('\n')[1]!;
    expect(second).toMatch(/^web on http:\/\/127\.0\.0\.1:\d+\/$/);
    webUrl = second.slice('web on '.length);
    proxy = new WsProxy(new URL(webUrl));
    proxyUrl = await proxy.listen();
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    for (const c of clients) c.kill();
    await browser?.close();
    await proxy?.close();
    await server?.stop();
    t.cleanup();
  });

  it('prints the web line after the listening line, and serves the page with a strict policy', async () => {
    expect(server.stdout().split('\n').slice(0, 2)).toEqual([server.firstLine, `web on ${webUrl}`]);
    const res = await fetch(webUrl);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('<meta name="sealwire-server-key" content="sealwire-x25519 ');
    expect((await fetch(new URL('/nope', webUrl))).status).toBe(404);
  });

  it('shares one room with a terminal member: sign-up, public, @mentions, /msg, /who, join/leave, text never as HTML', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(webUrl);
    await signIn(page, 'wendy', true);
    expect(await page.textContent('#fingerprint')).toBe(fingerprint);
    await expect.poll(() => page.textContent('#verified')).toContain('verified');

    const bob = member('bob');
    await bob.waitFor(/^! signed up and signed in as bob$/);
    await lineWith(page, '* bob joined').waitFor();

    await say(page, 'hello from the browser @bob');
    expect(await bob.waitFor(/^wendy: /)).toBe('wendy: hello from the browser @bob');

    bob.write('hi @wendy, from the terminal');
    await lineWith(page, 'bob: hi @wendy, from the terminal').waitFor();
    expect(await lineWith(page, 'bob: hi @wendy').getAttribute('class')).toContain('mention');

    await say(page, '/msg bob just for you');
    expect(await bob.waitFor(/^\[private\]/)).toBe('[private] wendy: just for you');
    bob.write('/msg wendy psst, private');
    await lineWith(page, '[private] bob: psst, private').waitFor();

    await say(page, '/who');
    await page.locator('#messages li', { hasText: /^\* online: (wendy, bob|bob, wendy)$/ }).waitFor();

    const xss = '<img src=x onerror="document.title=\'pwned\'"> & <b>bold</b>';
    bob.write(xss);
    await lineWith(page, `bob: ${xss}`).waitFor();
    expect(await page.locator('#messages img, #messages b').count()).toBe(0);
    expect(await page.title()).toBe('sealwire chat');

    await page.screenshot({ path: new URL('web-chat.png', ARTIFACTS).pathname, fullPage: true });

    await bob.end();
    await lineWith(page, '* bob left').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('reconnects and signs in again after the connection is cut', async () => {
    const page = await browser.context.newPage();
    await page.goto(proxyUrl);
    await signIn(page, 'rita', true);
    const carol = member('carol');
    await lineWith(page, '* carol joined').waitFor();
    proxy.dropAll();
    await page.locator('#status', { hasText: 'reconnecting' }).waitFor();
    await page.locator('#status', { hasText: 'signed in as rita' }).waitFor({ timeout: 30_000 });
    await say(page, 'back again');
    expect(await carol.waitFor(/^rita: back/)).toBe('rita: back again');
    carol.kill();
    await page.close();
  });

  it('shows the session as broken, never the altered text, when a record is altered in flight', async () => {
    const page = await browser.context.newPage();
    await page.goto(proxyUrl);
    await signIn(page, 'tess', true);
    const dave = member('dave');
    await lineWith(page, '* dave joined').waitFor();
    dave.write('warm up');
    await lineWith(page, 'dave: warm up').waitFor();

    // Flip the bit that would turn "pay 100" into "pay 900" if records were only encrypted:
    // the record is frame header (5) ‖ MAC (16) ‖ XSalsa20 ciphertext of chat frame (5) ‖ JSON.
    const json = encodeMessage({ t: 'said', from: 'dave', text: 'pay 100 to tess' }).toString();
    proxy.flipNext({ length: 5 + 16 + 5 + json.length, offset: 5 + 16 + 5 + json.indexOf('100'), mask: 0x31 ^ 0x39 });
    dave.write('pay 100 to tess');
    await page.locator('#status.broken', { hasText: 'session broken' }).waitFor();
    expect(proxy.flipped).toBe(1);
    expect(await page.textContent('#status')).toContain('BAD_RECORD');
    const shown = await page.textContent('#messages');
    expect(shown).not.toContain('pay 900');
    expect(shown).not.toContain('pay 100');
    await expect.poll(() => page.locator('#reconnect').isVisible()).toBe(true);
    await page.screenshot({ path: new URL('web-chat-broken.png', ARTIFACTS).pathname, fullPage: true });
    dave.kill();
    await page.close();
  });

  // The server keeps the room's history by default (--history 200): a reload signs in again and
  // the page shows the latest messages as history before live traffic.
  it('shows the room history after a reload', async () => {
    const page = await browser.context.newPage();
    await page.goto(webUrl);
    await signIn(page, 'hank', true);
    await say(page, 'a line for the history');
    const erin = member('erin');
    await erin.waitFor(/^! signed up/);
    erin.write('erin was here');
    await lineWith(page, 'erin: erin was here').waitFor();
    await page.reload();
    await signIn(page, 'hank', false);
    await page.locator('#messages li.history', { hasText: 'erin: erin was here' }).waitFor();
    erin.kill();
    await page.close();
  });
});

if (!chromiumPresent) {
  describe('web chat in Chromium', () => {
    it.skip(SKIP_REASON, () => {});
  });
}
