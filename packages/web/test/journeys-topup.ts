/**
 * Journeys of issue 14 items 2 and 5 in Chromium, desktop and phone, against the devnet with its
 * demo agents: a top-up of an open contract from the wallet (countersigned by the home operator's
 * agent); an offer edited, paused and resumed in the console, the wallet refusing it while paused
 * (a card shown before the pause) and hiding it from the offers. axe-core on each page.
 */
import { formatAmount, RoamClient } from '@roamchain/sdk';
import { expect } from 'vitest';
import { axeSerious, DESKTOP, type Harness, overflowsX, PHONE } from './harness.js';

/** Same shape as journeys.ts's Journey (that module lists these; no import back, no cycle). */
interface Journey {
  name: string;
  timeoutMs: number;
  run(h: Harness): Promise<void>;
}

/** The wallet's way of writing an amount: at least two decimals, no trailing zeros beyond. */
function sdrText(v: bigint): string {
  const [w, f = ''] = formatAmount(v).split('.');
  return `${w}.${f.replace(/0+$/, '').padEnd(2, '0')} SDR`;
}

function timed(name: string) {
  const t0 = Date.now();
  return () => console.log(`journey "${name}": ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const topUp: Journey = {
  name: 'desktop and phone: a top-up of an open contract from the wallet, with its summary and the new balance',
  timeoutMs: 150_000,
  async run(h) {
    const done = timed('top-up from the wallet');
    const client = new RoamClient(h.url);
    for (const size of [DESKTOP, PHONE]) {
      const wallet = await h.open('#/wallet', size);
      await wallet.getByLabel('Subscriber', { exact: true }).selectOption('emma');
      await wallet.getByRole('button', { name: 'Use demo subscriber emma' }).click();
      await wallet.getByTestId('balance-sdr').waitFor();
      // From telco-de2, which runs no agent on the devnet: the contract stays open (a serving
      // operator's simulated usage would use the package up in seconds and close it). The top-up is
      // countersigned by emma's home operator, telco-us, whose agent runs.
      await wallet.getByLabel('Destination', { exact: true }).selectOption('DE');
      await wallet.getByLabel('Data (GB)', { exact: true }).fill('5');
      await wallet.getByRole('button', { name: 'Show offers' }).click();
      await wallet
        .getByRole('button', { name: 'Buy Germany 5 GB / 7 days budget from telco-de2' })
        .click({ timeout: 15_000 });
      await wallet.getByRole('button', { name: 'Confirm purchase' }).click();
      await wallet.getByTestId('wallet-contract-state').waitFor({ timeout: 20_000 });
      const id = (await wallet.locator('#my-contract a.mono').first().getAttribute('title')) ?? '';
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const before = (await client.contract(id)).contract;
      const balance = BigInt((await client.account('emma')).balances.SDR);
      const box = wallet.getByTestId('topup');
      await box.getByLabel('Amount (SDR)', { exact: true }).fill('0.001');
      await expect.poll(() => box.getByTestId('topup-why').textContent()).toMatch(/least you can add/);
      expect(await box.getByRole('button', { name: 'Top up' }).isDisabled()).toBe(true);
      // No paid extra data on this offer: the least top-up is one more package (7.20 + 1 % fee).
      await box.getByLabel('Amount (SDR)', { exact: true }).fill('7');
      await expect
        .poll(() => box.getByTestId('topup-why').textContent())
        .toMatch(/least you can add is 7.272 SDR/);
      await box.getByLabel('Amount (SDR)', { exact: true }).fill('8');
      await expect
        .poll(() => box.getByTestId('topup-balance-after').textContent())
        .toBe(sdrText(balance - 8_000_000n));
      if (size === DESKTOP) expect(await axeSerious(wallet)).toEqual([]);
      expect(await overflowsX(wallet), `wallet scrolls sideways at ${size.width}px`).toBe(false);
      const t0 = Date.now();
      await box.getByRole('button', { name: 'Top up' }).click();
      await box.getByText(/^Topped up 8.00 SDR/).waitFor({ timeout: 30_000 });
      console.log(`top-up at ${size.width}px: countersigned and included in ${Date.now() - t0} ms`);
      const after = (await client.contract(id)).contract;
      expect(BigInt(after.deposit) - BigInt(before.deposit)).toBe(8_000_000n);
      expect(BigInt((await client.account('emma')).balances.SDR)).toBe(balance - 8_000_000n);
      const d = await client.contract(id);
      expect(d.transactions.map((t) => t.type)).toContain('contract_topup');
      await expect
        .poll(() => wallet.getByTestId('funds-left').textContent())
        .toBe(sdrText(BigInt(after.deposit)));
      if (size === PHONE) await h.shot(wallet, 'wallet-topup-375');
      // Closing returns the whole deposit, the top-up included (nothing was charged).
      await wallet.getByRole('button', { name: 'Close and get the change back' }).click();
      await wallet.getByTestId('change').waitFor({ timeout: 20_000 });
      expect((await client.contract(id)).contract.paidPayer).toBe(after.deposit);
      expect(BigInt((await client.account('emma')).balances.SDR)).toBe(balance + BigInt(before.deposit));
      await wallet.close();
    }
    done();
  },
};

const pauseOffer: Journey = {
  name: 'console: an offer edited, paused (the wallet refuses and hides it) and resumed, on desktop and phone',
  timeoutMs: 150_000,
  async run(h) {
    const done = timed('edit, pause and resume an offer');
    const client = new RoamClient(h.url);
    for (const size of [DESKTOP, PHONE]) {
      const title = `Thailand 10 GB pause ${size.width}`;
      const ops = await h.open('#/console', size);
      await ops.getByLabel('Operator', { exact: true }).selectOption('telco-th');
      await ops.getByRole('button', { name: 'Open console as telco-th' }).click();
      await ops.getByLabel('Title', { exact: true }).fill(title);
      await ops.getByLabel('Country (ISO code)', { exact: true }).fill('TH');
      await ops.getByLabel('Data (GB)', { exact: true }).fill('10');
      await ops.getByLabel('Price (SDR)', { exact: true }).fill('3.00');
      await ops.getByLabel('Extra data (SDR per MB)', { exact: true }).fill('0.001');
      await ops.getByRole('button', { name: 'Publish offer' }).click();
      const mine = ops.getByRole('region', { name: 'My offers' });
      const row = mine.getByRole('row').filter({ hasText: title });
      await row.waitFor({ timeout: 15_000 });
      expect(await row.textContent()).toMatch(/extra 0.001 SDR\/MB.*capacity 1000.*on sale/);

      // The traveller sees it…
      const wallet = await h.open('#/wallet', size);
      await wallet.getByLabel('Subscriber', { exact: true }).selectOption('bob');
      await wallet.getByRole('button', { name: 'Use demo subscriber bob' }).click();
      await wallet.getByTestId('balance-sdr').waitFor();
      await wallet.getByLabel('Destination', { exact: true }).selectOption('TH');
      await wallet.getByLabel('Data (GB)', { exact: true }).fill('1');
      await wallet.getByRole('button', { name: 'Show offers' }).click();
      const buy = wallet.getByRole('button', { name: `Buy ${title} from telco-th` });
      await buy.waitFor({ timeout: 15_000 });

      // …the operator pauses it: the message is where the action was, the row says so.
      await mine.getByRole('button', { name: `Pause ${title}` }).click();
      await mine.getByText(`Paused “${title}”`).waitFor();
      await expect.poll(() => row.getByTestId('offer-status').textContent()).toContain('paused');
      const offerId = (await client.offers({ operator: 'telco-th', status: 'paused' })).items.find(
        (o) => o.terms.title === title,
      )?.id;
      expect(offerId).toBeDefined();

      // The card shown before the pause: buying it is refused by the chain (OFFER_PAUSED)…
      await buy.click();
      await wallet.getByRole('button', { name: 'Confirm purchase' }).click();
      await wallet
        .getByText(/paused/i)
        .first()
        .waitFor({ timeout: 20_000 });
      expect((await client.offer(offerId!)).openContracts).toBe(0);
      // …and the offers asked again no longer list it.
      await wallet.getByRole('button', { name: 'Cancel' }).click();
      await wallet.getByRole('button', { name: 'Show offers' }).click();
      // (The list shown before is replaced when the answer comes: wait for it, not for any card.)
      await expect
        .poll(() => wallet.getByRole('button', { name: `Buy ${title} from telco-th` }).count(), {
          timeout: 15_000,
        })
        .toBe(0);
      await wallet.getByTestId('offer').first().waitFor({ timeout: 15_000 });

      // Edit while paused (it stays paused), then resume: on sale again with the new price.
      await mine.getByRole('button', { name: `Edit ${title}` }).click();
      await expect.poll(() => ops.evaluate(() => document.activeElement?.id)).toBe('pub-title');
      expect(await ops.getByLabel('Extra data (SDR per MB)', { exact: true }).inputValue()).toBe('0.001');
      await ops.getByLabel('Price (SDR)', { exact: true }).fill('2.50');
      await ops.getByRole('button', { name: 'Save changes' }).click();
      await ops.getByText(`Saved “${title}”`).waitFor();
      await expect.poll(async () => (await client.offer(offerId!)).terms.price).toBe('2500000');
      expect((await client.offer(offerId!)).status).toBe('paused');
      await mine.getByRole('button', { name: `Resume ${title}` }).click();
      await mine.getByText(`Resumed “${title}”`).waitFor();
      await wallet.getByRole('button', { name: 'Show offers' }).click();
      await wallet.getByRole('button', { name: `Buy ${title} from telco-th` }).waitFor({ timeout: 15_000 });
      if (size === DESKTOP) expect(await axeSerious(ops)).toEqual([]);
      expect(await overflowsX(ops), `console scrolls sideways at ${size.width}px`).toBe(false);
      if (size === DESKTOP) await h.shot(ops, 'console-offers-pause');
      await wallet.close();
      await ops.close();
    }
    done();
  },
};

export const TOPUP_JOURNEYS: Journey[] = [topUp, pauseOffer];
