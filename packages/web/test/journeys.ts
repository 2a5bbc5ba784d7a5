/**
 * Journeys of issue 14 in Chromium, desktop (1280×800) and phone (375×812), against the devnet with
 * its demo agents: accessibility (axe-core), titles and focus; an idle tab's traffic; a purchase
 * from an operator that does not serve; a purchase beyond the balance and a top-up; a second key;
 * the activation code opened on a second browser profile; the explorer's search and future heights.
 * Each prints how long it took (the timings of the closing note).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RoamClient } from '@roamchain/sdk';
import { Keystore } from '@roamchain/sdk/keystore';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { axeSerious, DESKTOP, type Harness, overflowsX, PHONE } from './harness.js';
import { TOPUP_JOURNEYS } from './journeys-topup.js';

const demoSecret = (kind: 'sign' | 'enc', name: string) =>
  createHash('sha256').update(`roamchain-devnet/${kind}/${name}`).digest('hex');

function timed(name: string) {
  const t0 = Date.now();
  return () => console.log(`journey "${name}": ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** ROAMCHAIN_WEB_TRACE=1 prints each step. */
const step = (what: string) => {
  if (process.env.ROAMCHAIN_WEB_TRACE) console.log(`  ${new Date().toISOString().slice(11, 23)} ${what}`);
};

async function loadDisclosures(h: Harness, page: Page, name: string): Promise<void> {
  const file = join(h.dataDir, `wallet/${name}.disclosures.json`);
  if (!existsSync(file)) return;
  await page.getByLabel('Load a disclosures file', { exact: true }).setInputFiles(file);
  await page.getByText('Disclosed claims').waitFor();
}

/** Contrast ratio of the focus outline of the focused element against the page background. */
async function focusRingContrast(page: Page): Promise<number> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const rgb = (c: string) => (c.match(/\d+(\.\d+)?/g) ?? ['0', '0', '0']).slice(0, 3).map(Number);
    const lum = (c: number[]) => {
      const [r, g, b] = c.map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    let bg = 'rgb(255, 255, 255)';
    for (let p = el.parentElement; p; p = p.parentElement) {
      const c = getComputedStyle(p).backgroundColor;
      if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') {
        bg = c;
        break;
      }
    }
    const a = lum(rgb(getComputedStyle(el).outlineColor));
    const b = lum(rgb(bg));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}

export interface Journey {
  name: string;
  timeoutMs: number;
  run(h: Harness): Promise<void>;
}

const a11y: Journey = {
  name: 'each main page: no serious axe violations, one <h1>, its own title, no clipped columns on a phone, a visible focus ring',
  timeoutMs: 120_000,
  async run(h) {
    const done = timed('a11y');
    for (const size of [DESKTOP, PHONE]) {
      const titles = new Set<string>();
      for (const [path, ready] of [
        ['#/explorer', 'Chain status'],
        ['#/wallet', 'Devnet demo subscriber'],
        ['#/console', 'Operator'],
      ] as const) {
        const page = await h.open(path, size);
        await page.getByRole('heading', { name: ready }).first().waitFor();
        await page.waitForTimeout(300);
        expect(await axeSerious(page), `${path} at ${size.width}px`).toEqual([]);
        expect(await page.locator('h1').count()).toBe(1);
        titles.add(await page.title());
        expect(await overflowsX(page), `${path} scrolls sideways at ${size.width}px`).toBe(false);
        // The block counter is not a live region (it changes twice a second).
        expect(await page.locator('.top [aria-live]').count()).toBe(0);
        await page.keyboard.press('Tab');
        await page.keyboard.press('Tab');
        expect(await focusRingContrast(page)).toBeGreaterThanOrEqual(3);
        await page.close();
      }
      expect(titles.size).toBe(3);
    }
    // The wallet opened (demo) and the console opened as an operator, on a phone.
    const wallet = await h.open('#/wallet', PHONE);
    await wallet.getByRole('button', { name: 'Use demo subscriber alice' }).click();
    await wallet.getByTestId('balance-sdr').waitFor();
    await wallet.getByRole('button', { name: 'Show offers' }).click();
    await wallet.getByTestId('offer').first().waitFor({ timeout: 15_000 });
    expect(await axeSerious(wallet)).toEqual([]);
    expect(await overflowsX(wallet)).toBe(false);
    await wallet.close();
    done();
  },
};

const idle: Journey = {
  name: 'an idle explorer tab keeps one WebSocket and does not poll',
  timeoutMs: 60_000,
  async run(h) {
    const done = timed('idle tab');
    const page = await h.browser.newPage({ viewport: DESKTOP });
    let sockets = 0;
    let requests = 0;
    page.on('websocket', () => {
      sockets++;
    });
    await page.goto(`${h.url}/#/explorer`);
    await page.getByRole('heading', { name: 'Latest blocks' }).waitFor();
    await page.getByTestId('height').waitFor();
    await page.waitForTimeout(1500);
    page.on('request', (r) => {
      if (!r.url().startsWith('data:')) requests++;
    });
    const h0 = Number(await page.getByTestId('height').textContent());
    await page.waitForTimeout(5000);
    const h1 = Number(await page.getByTestId('height').textContent());
    expect(h1).toBeGreaterThan(h0); // still live (over the WebSocket)
    expect(sockets).toBe(1);
    // Before: ~6 requests a second (status and block lists refetched on every block).
    expect(requests).toBeLessThanOrEqual(3);
    console.log(
      `idle explorer tab: ${sockets} WebSocket, ${requests} HTTP requests in 5 s, ${h1 - h0} blocks`,
    );
    await page.close();
    done();
  },
};

const notServing: Journey = {
  name: 'phone: a purchase from an operator that does not serve is labelled, moves to the contract with focus, and comes back whole',
  timeoutMs: 90_000,
  async run(h) {
    const done = timed('operator that does not serve');
    const client = new RoamClient(h.url);
    const wallet = await h.open('#/wallet', PHONE);
    await wallet.getByLabel('Subscriber', { exact: true }).selectOption('deniz');
    await wallet.getByRole('button', { name: 'Use demo subscriber deniz' }).click();
    await wallet.getByTestId('balance-sdr').waitFor();
    await loadDisclosures(h, wallet, 'deniz');
    // Destinations come from the chain, searchable by name in any case.
    await wallet.getByLabel('Find a destination', { exact: true }).fill('germ');
    await expect.poll(() => wallet.getByLabel('Destination', { exact: true }).inputValue()).toBe('DE');
    await wallet.getByRole('button', { name: 'Show offers' }).click();
    const card = wallet.getByTestId('offer').filter({ hasText: 'telco-de2' }).first();
    await card.waitFor({ timeout: 15_000 });
    // telco-de2 runs no agent on the devnet: the card says so.
    await expect.poll(() => card.getByTestId('service-warning').textContent()).toContain('no running agent');
    // The total includes the home operator's fee, and no unrated operator shows 3.5 stars.
    expect(await card.getByTestId('offer-total').textContent()).toMatch(/SDR/);
    expect(await card.textContent()).not.toContain('3.50');
    await card.getByRole('button', { name: /^Buy / }).click();
    await wallet.getByTestId('checkout').waitFor();
    const confirm = Date.now();
    await wallet.getByRole('button', { name: 'Confirm purchase' }).click();
    const state = wallet.getByTestId('wallet-contract-state');
    await state.waitFor({ timeout: 20_000 });
    console.log(`purchase confirmed → contract shown: ${Date.now() - confirm} ms`);
    // Focus moved to the new contract, which is in view on the phone.
    await expect.poll(() => wallet.evaluate(() => document.activeElement?.id)).toBe('my-contract-h');
    const box = await wallet.locator('#my-contract-h').boundingBox();
    expect(box && box.y >= -5 && box.y < PHONE.height, `heading at ${JSON.stringify(box)}`).toBe(true);
    expect(await state.textContent()).toBe('waiting for the visited operator');
    expect(await wallet.getByRole('list', { name: 'Progress' }).textContent()).toContain('ordered');
    await wallet.getByText(/has until .* UTC/).waitFor();
    await h.shot(wallet, 'wallet-not-serving-375');
    const id = (await wallet.locator('#my-contract a.mono').first().getAttribute('title')) ?? '';
    // Closing before anything is charged returns the whole deposit, and says so first.
    expect(await wallet.getByTestId('close-explained').textContent()).toContain('returns');
    await wallet.getByRole('button', { name: 'Close and get the change back' }).click();
    await wallet.getByTestId('change').waitFor({ timeout: 20_000 });
    const c = (await client.contract(id)).contract;
    expect(c.paidPayer).toBe(c.deposit);
    await wallet.getByText('Contract closed.').waitFor();
    await wallet.close();
    done();
  },
};

const shortAndTopUp: Journey = {
  name: 'desktop: Buy is disabled with the reason when the balance is short; a devnet top-up adds SDR',
  timeoutMs: 60_000,
  async run(h) {
    const done = timed('short balance and top-up');
    const client = new RoamClient(h.url);
    const wallet = await h.open('#/wallet', DESKTOP);
    await wallet.getByLabel('Subscriber', { exact: true }).selectOption('emma');
    await wallet.getByRole('button', { name: 'Use demo subscriber emma' }).click();
    await wallet.getByTestId('balance-sdr').waitFor();
    await wallet.getByLabel('Destination', { exact: true }).selectOption('DE');
    await wallet.getByLabel('Data (GB)', { exact: true }).fill('5000');
    await wallet.getByRole('button', { name: 'Show offers' }).click();
    const short = wallet
      .getByTestId('offer')
      .filter({ has: wallet.getByTestId('short') })
      .first();
    await short.waitFor({ timeout: 15_000 });
    const buy = short.getByRole('button', { name: /^Buy / });
    expect(await buy.isDisabled()).toBe(true);
    const why = (await short.getByTestId('short').textContent()) ?? '';
    expect(why).toMatch(/You need [\d.]+ SDR; your balance is [\d.]+ SDR/);
    expect(why).not.toMatch(/base units/);
    // The top-up path.
    const before = BigInt((await client.account('emma')).balances.SDR);
    await short.getByRole('button', { name: 'Add SDR' }).click();
    await expect.poll(() => wallet.evaluate(() => document.activeElement?.id)).toBe('add-sdr-h');
    expect(wallet.url()).toContain('#/wallet');
    await wallet.getByRole('button', { name: /Devnet: get .* from the gateway/ }).click();
    await wallet.getByText(/SDR added to emma/).waitFor({ timeout: 20_000 });
    expect(BigInt((await client.account('emma')).balances.SDR) - before).toBe(50_000_000n);
    await expect
      .poll(async () => wallet.getByTestId('balance-sdr').textContent())
      .toContain(`${(Number(before + 50_000_000n) / 1e6).toFixed(2)}`);
    await wallet.close();
    done();
  },
};

const secondKey: Journey = {
  name: 'desktop: a second key sits beside the first; the same name is never replaced without confirmation; a new key is guided',
  timeoutMs: 60_000,
  async run(h) {
    const done = timed('second key');
    const page = await h.open('#/wallet', DESKTOP);
    const create = async (name: string, pass: string) => {
      await page.getByLabel('Account name', { exact: true }).fill(name);
      await page.getByLabel('Passphrase (at least 8 characters)', { exact: true }).fill(pass);
      await page.getByRole('button', { name: 'Create key' }).click();
    };
    await create('trav-one', 'first passphrase');
    // A new key is not a dead end: it says how to become a subscriber.
    await page.getByTestId('no-account').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('no-account').textContent()).toContain('home operator');
    expect(await page.locator('.error').count()).toBe(0);
    await page.getByRole('button', { name: 'Lock' }).click();
    await create('trav-two', 'second passphrase');
    await page.getByTestId('no-account').waitFor();
    await page.getByRole('button', { name: 'Lock' }).click();
    const keys = page.getByLabel('Key', { exact: true });
    expect(await keys.locator('option').allTextContents()).toEqual(['trav-one', 'trav-two']);
    // Same name again: asked, refused, nothing replaced.
    page.once('dialog', (d) => void d.dismiss());
    await create('trav-one', 'third passphrase');
    await page.getByText('kept the stored key “trav-one”').waitFor();
    await keys.selectOption('trav-one');
    await page.getByLabel('Passphrase', { exact: true }).fill('first passphrase');
    await page.getByRole('button', { name: 'Unlock trav-one' }).click();
    await page.getByRole('heading', { name: 'Wallet of trav-one' }).waitFor({ timeout: 15_000 });
    await page.close();
    done();
  },
};

const secondProfile: Journey = {
  name: 'desktop: a closed contract shows no install card; the encrypted backup restores the key on a second browser profile',
  timeoutMs: 120_000,
  async run(h) {
    const done = timed('second profile');
    const client = new RoamClient(h.url);
    const one = await h.open('#/wallet', DESKTOP);
    // chen's devnet keys, imported into an encrypted vault (not the demo mode).
    await one.getByLabel('Account name', { exact: true }).fill('chen');
    await one.getByLabel('Passphrase (at least 8 characters)', { exact: true }).fill('chen passphrase');
    await one.getByText('Import existing secrets instead of generating new ones').click();
    await one.getByLabel('Ed25519 signing secret (hex)').fill(demoSecret('sign', 'chen'));
    await one.getByLabel('X25519 encryption secret (hex)').fill(demoSecret('enc', 'chen'));
    await one.getByRole('button', { name: 'Import and encrypt' }).click();
    await one.getByTestId('balance-sdr').waitFor({ timeout: 15_000 });
    await loadDisclosures(h, one, 'chen');
    await one.getByLabel('Destination', { exact: true }).selectOption('TR');
    await one.getByRole('button', { name: 'Show offers' }).click();
    await one
      .getByRole('button', { name: 'Buy Türkiye 5 GB / 7 days from telco-tr' })
      .click({ timeout: 15_000 });
    await one.getByRole('button', { name: 'Confirm purchase' }).click();
    await one.getByTestId('wallet-contract-state').waitFor({ timeout: 20_000 });
    const id = (await one.locator('#my-contract a.mono').first().getAttribute('title')) ?? '';
    const t0 = Date.now();
    await one.getByTestId('qr').waitFor({ timeout: 45_000 });
    console.log(`purchase → QR shown (agent provisioning): ${Date.now() - t0} ms`);
    const code = (await one.getByTestId('activation').textContent()) ?? '';
    expect(code).toContain('SM-DP+ address');
    await one.getByRole('button', { name: 'Copy activation code' }).waitFor();
    // Closed (by the traveller, or by the devnet's usage simulator using up the package): no
    // install card any more.
    const close = one.getByRole('button', { name: 'Close and get the change back' });
    if (await close.isVisible()) await close.click().catch(() => {});
    await expect
      .poll(async () => (await client.contract(id)).contract.status, { timeout: 30_000 })
      .toBe('closed');
    await one.getByTestId('change').waitFor({ timeout: 20_000 });
    expect(await one.getByTestId('activation').count()).toBe(0);
    // Export the encrypted backup (Lock, then the stored key's Export): no secret in clear.
    await one.getByRole('button', { name: 'Lock' }).click();
    const [download] = await Promise.all([
      one.waitForEvent('download'),
      one.getByRole('button', { name: 'Export encrypted backup' }).click(),
    ]);
    const backupFile = await download.path();
    expect(readFileSync(backupFile, 'utf8')).not.toContain(demoSecret('sign', 'chen'));
    // A second profile (its own storage) restores it. Opening an open contract's activation code
    // there, sealed to the subscriber's key, is the onboarding journey's (journeys-onboard.ts): here
    // the devnet's simulator may close the package before a loaded machine gets that far.
    const ctx = await h.browser.newContext({ viewport: DESKTOP });
    const two = await h.open('#/wallet', DESKTOP, ctx);
    await two.getByLabel('Backup file', { exact: true }).setInputFiles(backupFile);
    await two.getByLabel('Its passphrase', { exact: true }).fill('chen passphrase');
    await two.getByRole('button', { name: 'Restore backup' }).click();
    await two.getByTestId('balance-sdr').waitFor({ timeout: 15_000 });
    await ctx.close();
    await one.close();
    done();
  },
};

const explorer: Journey = {
  name: 'explorer: a future height is "not yet produced"; search is case-insensitive and knows prefixes',
  timeoutMs: 60_000,
  async run(h) {
    const done = timed('explorer');
    for (const size of [DESKTOP, PHONE]) {
      step(`explorer at ${size.width}`);
      const page = await h.open('#/explorer/block/99999999', size);
      await page.getByTestId('not-yet').waitFor({ timeout: 15_000 });
      step('not yet');
      expect(await page.locator('.error').count()).toBe(0);
      expect(await page.title()).toContain('Block #99999999');
      await page.getByLabel('Search', { exact: true }).fill('TELCO-DE2');
      await page.getByRole('button', { name: 'Find' }).click();
      await page.getByRole('heading', { name: 'Account telco-de2' }).waitFor();
      step('case-insensitive');
      await page.getByLabel('Search', { exact: true }).fill('telco-f');
      await page.getByRole('button', { name: 'Find' }).click();
      const results = page.getByRole('list', { name: 'Search results' });
      await results.getByRole('link', { name: 'account telco-fr', exact: true }).waitFor();
      step('prefix results');
      await results.getByRole('link', { name: 'account telco-fr2', exact: true }).click();
      await page.getByRole('heading', { name: 'Account telco-fr2' }).waitFor();
      step('prefix hit opened');
      // A paginated list of offers.
      await page.getByRole('link', { name: 'All offers' }).click();
      const offers = page.getByRole('region', { name: 'Offers' });
      await expect.poll(() => offers.getByRole('row').count()).toBeGreaterThan(2);
      expect(await page.title()).toContain('Offers');
      step('offers list');
      expect(await overflowsX(page)).toBe(false);
      await page.close();
    }
    done();
  },
};

const operatorConsole: Journey = {
  name: "console: sign-in with the operator's keystore file; messages where the action was; withdrawn offers listed; issued contracts; one statement format",
  timeoutMs: 90_000,
  async run(h) {
    const done = timed('console');
    // A keystore file as the CLI writes it, holding telco-fr's key (cheap scrypt for the test).
    const file = join(h.dataDir, 'telco-fr.keystore.json');
    const ks = await Keystore.create(file, 'operator passphrase', { scrypt: { N: 2 ** 14 } });
    ks.add('telco-fr', {
      signingSecret: Buffer.from(demoSecret('sign', 'telco-fr'), 'hex'),
      encryptionSecret: Buffer.from(demoSecret('enc', 'telco-fr'), 'hex'),
    });
    ks.save();
    ks.close();
    for (const size of [PHONE, DESKTOP]) {
      const page = await h.open('#/console', size);
      await page.getByLabel('Keystore file', { exact: true }).setInputFiles(file);
      await page.getByLabel('Keystore passphrase', { exact: true }).fill('wrong passphrase');
      await page.getByRole('button', { name: 'Sign in with keystore' }).click();
      await page.getByText('wrong keystore passphrase').waitFor();
      await page.getByLabel('Keystore passphrase', { exact: true }).fill('operator passphrase');
      await page.getByRole('button', { name: 'Sign in with keystore' }).click();
      await page.getByRole('heading', { name: 'Operator telco-fr' }).waitFor();
      const opPanel = page.getByRole('region', { name: 'Operator telco-fr' });
      expect(await opPanel.getByText('Public demo keys').count()).toBe(0);
      await expect
        .poll(() => page.getByTestId('agent-health').textContent(), { timeout: 15_000 })
        .toMatch(/running|listed|reach/);
      // Publish: the success message is in the publish form.
      const title = `France 1 GB ${size.width}`;
      await page.getByLabel('Title', { exact: true }).fill(title);
      await page.getByLabel('Country (ISO code)', { exact: true }).fill('FR');
      await page.getByLabel('Data (GB)', { exact: true }).fill('1');
      await page.getByLabel('Price (SDR)', { exact: true }).fill('2.00');
      await page.getByRole('button', { name: 'Publish offer' }).click();
      const publish = page.getByRole('region', { name: 'Publish an offer' });
      await publish.getByText(`Published “${title}”.`).waitFor();
      // Withdraw: the message is in "My offers"; the offer stays listed as withdrawn on request.
      const mine = page.getByRole('region', { name: 'My offers' });
      await mine.getByRole('button', { name: `Withdraw ${title}` }).click();
      await mine.getByText(`Withdrew “${title}”.`).waitFor();
      await mine.getByLabel('Show withdrawn offers too').check();
      const row = mine.getByRole('row').filter({ hasText: title });
      await expect.poll(() => row.textContent()).toContain('withdrawn');
      await row.getByRole('button', { name: `Duplicate ${title}` }).click();
      expect(await page.getByLabel('Title', { exact: true }).inputValue()).toBe(`${title} (copy)`);
      // The home operator sees the contracts it issued (alice's, earlier in this suite).
      const issued = page.getByRole('region', { name: 'Contracts you issued (home operator)' });
      await expect.poll(() => issued.getByRole('row').count(), { timeout: 15_000 }).toBeGreaterThan(1);
      await issued.getByLabel(/Search by id start/).fill('alice');
      expect(await issued.getByRole('row').count()).toBeGreaterThan(1);
      expect(await overflowsX(page), `console scrolls sideways at ${size.width}px`).toBe(false);
      if (size === DESKTOP) {
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: 'Download CSV' }).click(),
        ]);
        const csv = readFileSync(await download.path(), 'utf8');
        expect(csv.split('\n')[0]).toBe(
          'contract,role,counterparty,closedAt,charged,toAssignee,toIssuer,toPayer,badService,reason',
        );
        expect(await axeSerious(page)).toEqual([]);
        await h.shot(page, 'console-keystore', 'console');
      }
      await page.close();
    }
    done();
  },
};

export const ALL: Journey[] = [
  a11y,
  idle,
  explorer,
  notServing,
  shortAndTopUp,
  secondKey,
  secondProfile,
  operatorConsole,
  ...TOPUP_JOURNEYS,
];
