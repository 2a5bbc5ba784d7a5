/**
 * Onboarding journeys of issue 14 (items 4 and 8) in Chromium against the devnet with its demo agents:
 * a traveller with a fresh key signs up with a home operator (simulated KYC, labelled), is ready to
 * buy, buys; a second browser profile that restores a backup made before the purchase (so it holds no
 * ephemeral secret of the Request) opens the same activation code with the wallet key alone.
 * Each prints how long it took.
 */
import { readFileSync } from 'node:fs';
import { RoamClient } from '@roamchain/sdk';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { axeSerious, DESKTOP, overflowsX, PHONE } from './harness.js';
import type { Journey } from './journeys.js';

function timed(name: string) {
  const t0 = Date.now();
  return () => console.log(`journey "${name}": ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function createKey(page: Page, name: string, pass: string): Promise<void> {
  await page.getByLabel('Account name', { exact: true }).fill(name);
  await page.getByLabel('Passphrase (at least 8 characters)', { exact: true }).fill(pass);
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('no-account').waitFor({ timeout: 15_000 });
}

async function fillClaims(page: Page, birthdate: string): Promise<void> {
  await page.getByLabel('Given name', { exact: true }).fill('Grace');
  await page.getByLabel('Family name', { exact: true }).fill('Hopper');
  await page.getByLabel('Date of birth (YYYY-MM-DD)', { exact: true }).fill(birthdate);
  await page.getByLabel('Nationality (ISO code, e.g. DE)', { exact: true }).fill('US');
}

const signupAndSecondProfile: Journey = {
  name: 'desktop: a new key signs up with a home operator (simulated KYC, labelled), buys, and a second profile opens the activation code with the wallet key alone',
  timeoutMs: 180_000,
  async run(h) {
    const done = timed('sign-up and second profile');
    const client = new RoamClient(h.url);
    const name = 'grace-hopper';
    const pass = 'grace passphrase';
    const one = await h.open('#/wallet', DESKTOP);
    await createKey(one, name, pass);
    const form = one.getByTestId('signup');
    await form.waitFor({ timeout: 20_000 });
    // Only operators whose agents offer sign-up are listed (telco-de2 runs no agent on the devnet).
    const ops = await one.getByLabel('Home operator', { exact: true }).locator('option').allTextContents();
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.join()).not.toContain('telco-de2');
    await one.getByLabel('Home operator', { exact: true }).selectOption('telco-tr');
    expect(await one.getByTestId('kyc-simulated').textContent()).toContain('Simulated KYC');
    expect(await axeSerious(one)).toEqual([]);
    // The KYC refuses a minor: a typed error where the action was, nothing created.
    await fillClaims(one, '2020-01-01');
    await one.getByRole('button', { name: 'Sign up with telco-tr' }).click();
    await form.getByRole('alert').getByText('SIGNUP_KYC_REFUSED').waitFor();
    await expect(client.account(name)).rejects.toMatchObject({ code: 'ACCOUNT_UNKNOWN' });
    await fillClaims(one, '1906-12-09');
    const t0 = Date.now();
    await one.getByRole('button', { name: 'Sign up with telco-tr' }).click();
    const welcome = one.getByTestId('signed-up');
    await welcome.waitFor({ timeout: 30_000 });
    console.log(`sign-up → subscriber shown: ${Date.now() - t0} ms`);
    expect(await welcome.textContent()).toContain('SIMULATED KYC');
    const acct = await client.account(name);
    expect(acct.homeOperator).toBe('telco-tr');
    expect((await client.identity(name)).operator).toBe('telco-tr');
    // Ready to buy: balance, shop, and the disclosures kept for visited operators.
    await one.getByTestId('balance-sdr').waitFor();
    await one.getByText('Disclosed claims').waitFor();
    await h.shot(one, 'wallet-signed-up', 'wallet-signup');
    // The encrypted backup, exported now: it holds no secret of any purchase.
    await one.getByRole('button', { name: 'Lock' }).click();
    const [download] = await Promise.all([
      one.waitForEvent('download'),
      one.getByRole('button', { name: 'Export encrypted backup' }).click(),
    ]);
    const backupFile = await download.path();
    expect(readFileSync(backupFile, 'utf8')).toContain('"ct"');
    await one.getByLabel('Passphrase', { exact: true }).fill(pass);
    await one.getByRole('button', { name: `Unlock ${name}` }).click();
    await one.getByTestId('balance-sdr').waitFor({ timeout: 15_000 });
    // Profile B: its own storage, the backup from before the purchase (no ephemeral secret). Opened
    // before the purchase: the devnet's usage simulator uses a package up within seconds of its
    // provisioning, and a closed contract shows no install card.
    const ctx = await h.browser.newContext({ viewport: DESKTOP });
    const two = await h.open('#/wallet', DESKTOP, ctx);
    await two.getByLabel('Backup file', { exact: true }).setInputFiles(backupFile);
    await two.getByLabel('Its passphrase', { exact: true }).fill(pass);
    await two.getByRole('button', { name: 'Restore backup' }).click();
    await two.getByTestId('balance-sdr').waitFor({ timeout: 15_000 });
    await one.getByRole('button', { name: /^Devnet: get / }).click();
    await expect
      .poll(async () => BigInt((await client.account(name)).balances.SDR), { timeout: 20_000 })
      .toBeGreaterThan(0n);
    await one.getByLabel('Destination', { exact: true }).selectOption('TR');
    await one.getByRole('button', { name: 'Show offers' }).click();
    await one
      .getByRole('button', { name: 'Buy Türkiye 5 GB / 7 days from telco-tr' })
      .click({ timeout: 15_000 });
    await one.getByRole('button', { name: 'Confirm purchase' }).click();
    await one.getByTestId('wallet-contract-state').waitFor({ timeout: 20_000 });
    // B sees the new contract (live) and opens it while A waits for the eSIM.
    const t1 = Date.now();
    await two
      .getByRole('button', { name: /^telco-tr · / })
      .first()
      .click({ timeout: 20_000 });
    await Promise.all([
      one.getByTestId('qr').waitFor({ timeout: 60_000 }),
      two.getByTestId('qr').waitFor({ timeout: 60_000 }),
    ]);
    console.log(`new subscriber's purchase → QR shown in both profiles: ${Date.now() - t1} ms`);
    const code = (await one.getByTestId('activation').textContent()) ?? '';
    expect(code).toContain('LPA:1$');
    expect(await two.getByTestId('activation').textContent()).toBe(code);
    await ctx.close();
    await one.close();
    done();
  },
};

const signupPhone: Journey = {
  name: 'phone: a taken name is said so; the sign-up form fits without sideways scrolling, is labelled as a simulation, and signs up',
  timeoutMs: 90_000,
  async run(h) {
    const done = timed('sign-up on a phone');
    const page = await h.open('#/wallet', PHONE);
    // A fresh key under a name another key holds on chain: said so, and nothing to buy with it.
    await page.getByLabel('Account name', { exact: true }).fill('alice');
    await page.getByLabel('Passphrase (at least 8 characters)', { exact: true }).fill('phone passphrase');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByTestId('foreign-account').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('heading', { name: 'Buy a roaming package' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Lock' }).click();
    await createKey(page, 'phone-traveller', 'phone passphrase');
    await page.getByTestId('signup').waitFor({ timeout: 20_000 });
    await page.getByTestId('kyc-simulated').waitFor();
    expect(await overflowsX(page), 'sign-up scrolls sideways on a phone').toBe(false);
    await page.getByLabel('Home operator', { exact: true }).selectOption('telco-fr');
    await fillClaims(page, '1950-05-05');
    await page.getByRole('button', { name: 'Sign up with telco-fr' }).click();
    await page.getByTestId('signed-up').waitFor({ timeout: 30_000 });
    await page.getByTestId('balance-sdr').waitFor();
    expect(await overflowsX(page)).toBe(false);
    expect(await axeSerious(page)).toEqual([]);
    await page.close();
    done();
  },
};

export const ONBOARD: Journey[] = [signupAndSecondProfile, signupPhone];
