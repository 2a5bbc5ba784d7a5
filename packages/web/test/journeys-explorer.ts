/**
 * Explorer journeys (issue 14 item 6, issue 13 item 8) in Chromium, desktop (1280×800) and phone
 * (375×812), against the devnet with its demo agents: every list (transactions, contracts, offers,
 * accounts, validators, Super Nodes, governance, fees, SDR rate) renders with one <h1>, its own
 * title, no serious axe violation and no sideways scroll, and pages forward; an account's history;
 * copy buttons, raw JSON and raw values on hover; the tx/s chart; and an operator who votes from the
 * console, whose vote the explorer then shows. Each prints how long it took.
 */
import { createHash } from 'node:crypto';
import { listTransactions, RoamClient, signerFromSecret } from '@roamchain/sdk';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { axeSerious, DESKTOP, overflowsX, PHONE } from './harness.js';
import type { Journey } from './journeys.js';

const demoSecret = (name: string) => createHash('sha256').update(`roamchain-devnet/sign/${name}`).digest();

function timed(name: string) {
  const t0 = Date.now();
  return () => console.log(`journey "${name}": ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const LISTS = [
  ['txs', 'Transactions'],
  ['contracts', 'Contracts'],
  ['offers', 'Offers'],
  ['accounts', 'Accounts'],
  ['validators', 'Validators'],
  ['supernodes', 'Super Nodes'],
  ['governance', 'Proposals'],
  ['fees', 'Fee distribution per block'],
  ['prices', 'SDR rate'],
] as const;

async function checkPage(page: Page, what: string, width: number): Promise<void> {
  await page.waitForTimeout(200);
  expect(await axeSerious(page), `${what} at ${width}px`).toEqual([]);
  expect(await page.locator('h1').count(), `${what}: one <h1>`).toBe(1);
  expect(await overflowsX(page), `${what} scrolls sideways at ${width}px`).toBe(false);
}

const lists: Journey = {
  name: 'explorer lists on desktop and phone: each renders accessibly, pages forward; an account history; copy, raw JSON and raw values on hover; the tx/s chart',
  timeoutMs: 240_000,
  async run(h) {
    const done = timed('explorer lists');
    const client = new RoamClient(h.url);
    // Enough transactions for a second page: telco-us pays telco-th 1 base unit a few times.
    const have = (await listTransactions(client, { limit: 21 })).items.length;
    const payer = signerFromSecret('telco-us', demoSecret('telco-us'));
    for (let i = have; i < 21; i++)
      await client.transfer({ from: 'telco-us', to: 'telco-th', token: 'UMT', amount: 1n }, payer, {
        wait: false,
      });
    await expect
      .poll(async () => (await listTransactions(client, { limit: 21 })).items.length, { timeout: 60_000 })
      .toBe(21);
    for (const size of [DESKTOP, PHONE]) {
      const titles = new Set<string>();
      const page = await h.open('#/explorer', size);
      for (const [route, heading] of LISTS) {
        const t0 = Date.now();
        await page.goto(`${h.url}/#/explorer/${route}`);
        await page.getByRole('heading', { name: heading, exact: true }).waitFor();
        await page
          .locator('table tbody tr, p.muted:text-matches("^No ")')
          .first()
          .waitFor({ timeout: 15_000 });
        console.log(`  ${route} at ${size.width}px: first rows in ${Date.now() - t0} ms`);
        titles.add(await page.title());
        await checkPage(page, route, size.width);
      }
      expect(titles.size).toBe(LISTS.length);
      // Page forward through the transactions: page 2 holds other rows, and back again.
      await page.goto(`${h.url}/#/explorer/txs`);
      const rows = page.locator('table tbody tr');
      await rows.first().waitFor();
      const first = await rows.first().locator('a.mono').getAttribute('title');
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.getByText('Page 2', { exact: true }).waitFor();
      await expect.poll(async () => rows.first().locator('a.mono').getAttribute('title')).not.toBe(first);
      await page.getByRole('button', { name: 'Newest' }).click();
      await page.getByText('Page 1', { exact: true }).waitFor();
      // Live: a new transaction comes to the top of the first page without a reload.
      const sent = await client.transfer(
        { from: 'telco-us', to: 'telco-th', token: 'UMT', amount: 2n },
        payer,
        {
          wait: false,
        },
      );
      // Other writers (price feeds, the demo agents) may land in the same block or after it, so
      // the sent transaction is looked for among the first page's rows, not only the top one.
      await expect
        .poll(
          async () => rows.locator('a.mono').evaluateAll((els) => els.map((e) => e.getAttribute('title'))),
          { timeout: 20_000 },
        )
        .toContain(sent.txId);
      // The accounts list pages forward by name.
      await page.goto(`${h.url}/#/explorer/accounts`);
      await rows.first().waitFor();
      const names1 = await rows.locator('td:first-child').allTextContents();
      const next = page.getByRole('button', { name: 'Next page' });
      if (await next.isEnabled()) {
        await next.click();
        await page.getByText('Page 2', { exact: true }).waitFor();
        await expect
          .poll(async () => (await rows.locator('td:first-child').allTextContents())[0])
          .not.toBe(names1[0]);
        const names2 = await rows.locator('td:first-child').allTextContents();
        expect(names2[0]! > names1.at(-1)!).toBe(true);
      }
      await page.close();
    }

    // An account's history, from its page; times and amounts with their raw values on hover.
    const ctx = await h.browser.newContext({ viewport: DESKTOP });
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.url });
    const page = await h.open('#/explorer/account/alice', DESKTOP, ctx);
    await page.getByRole('heading', { name: 'Account alice' }).waitFor();
    const history = page.getByRole('region', { name: 'Transaction history' });
    await history.locator('tbody tr').first().waitFor({ timeout: 15_000 });
    const expected = (
      await client.get<{ items: { txId: string }[] }>('/v1/accounts/alice/transactions', { limit: 1 })
    ).items[0]!.txId;
    expect(await history.locator('tbody tr a.mono').first().getAttribute('title')).toBe(expected);
    expect(await history.locator('td [title$="base units"]').first().getAttribute('title')).toMatch(
      /^\d+ UMT base units$/,
    );
    expect(await page.locator('[title$="SDR base units"]').first().textContent()).toMatch(
      /^\d+\.\d{2,} SDR$/,
    );
    await checkPage(page, 'account page', DESKTOP.width);
    // A block: copy its id, see its raw JSON, its time's raw value on hover.
    await history.locator('tbody tr a[href*="/block/"]').first().click();
    await page.getByRole('heading', { name: /^Block #\d+$/ }).waitFor();
    await page.getByRole('button', { name: 'Copy block id' }).click();
    await page.getByText('Copied').first().waitFor();
    const blockId = await page.evaluate(() => navigator.clipboard.readText());
    expect(blockId).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.locator('[title$="(unix ms)"]').first().getAttribute('title')).toMatch(
      /^\d{13} \(unix ms\)$/,
    );
    await page.getByText('Raw JSON', { exact: true }).click();
    expect(await page.locator('details.raw pre').textContent()).toContain(blockId);
    await page.getByTestId('block-fees').waitFor();
    await checkPage(page, 'block page', DESKTOP.width);
    // The chart of tx/s and block time, from the blocks the page has over its WebSocket.
    await page.goto(`${h.url}/#/explorer`);
    await page.getByTestId('chart').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('chart').getAttribute('aria-label')).toMatch(/tx\/s/);
    await ctx.close();
    done();
  },
};

const vote: Journey = {
  name: 'phone: an operator votes on an open proposal from the console; the explorer shows the vote (desktop)',
  timeoutMs: 120_000,
  async run(h) {
    const done = timed('vote from the console');
    const client = new RoamClient(h.url);
    // telco-de proposes a harmless change (a parameter to the value it has).
    const gov = await client.governance();
    const skips = BigInt(String(gov.params.govMaxSkips));
    const st = await client.status();
    const made = await client.propose(
      {
        proposer: 'telco-de',
        action: { kind: 'param', param: 'govMaxSkips', value: skips },
        deadline: BigInt(st.time) + 3_600_000n,
        note: 'explorer journey',
      },
      signerFromSecret('telco-de', demoSecret('telco-de')),
    );
    const id = made.proposalId;
    const seq = (await client.proposal(id)).seq;

    const con = await h.open('#/console', PHONE);
    await con.getByLabel('Operator', { exact: true }).selectOption('telco-fr');
    await con.getByRole('button', { name: 'Open console as telco-fr' }).click();
    await con.getByRole('heading', { name: 'Governance: open proposals' }).waitFor();
    const yes = con.getByRole('button', { name: `Vote yes on proposal #${seq}` });
    await yes.waitFor({ timeout: 15_000 });
    await yes.scrollIntoViewIfNeeded();
    expect(await axeSerious(con)).toEqual([]);
    expect(await overflowsX(con)).toBe(false);
    const t0 = Date.now();
    await yes.click();
    await con.getByText(`You voted yes on proposal #${seq}`).first().waitFor({ timeout: 20_000 });
    console.log(`vote signed in the console → confirmed: ${Date.now() - t0} ms`);
    await h.shot(con, 'console-governance-375');
    const p = await client.proposal(id);
    expect(p.votes?.find((v) => v.voter === 'telco-fr')).toMatchObject({ approve: true });
    expect(p.yes).toBe(2);

    const ex = await h.open(`#/explorer/proposal/${id}`, DESKTOP);
    await ex.getByRole('heading', { name: `Proposal #${seq}` }).waitFor();
    const votes = ex.getByTestId('vote');
    await expect.poll(() => votes.count()).toBe(2);
    await votes.filter({ hasText: 'telco-fr' }).filter({ hasText: 'yes' }).waitFor();
    expect(await ex.getByTestId('proposal-action').textContent()).toBe(`set govMaxSkips to ${skips}`);
    expect(await ex.getByTestId('proposal-status').textContent()).toContain('2 yes');
    await checkPage(ex, 'proposal page', DESKTOP.width);
    await h.shot(ex, 'explorer-proposal');
    // The governance list links to it.
    await ex.goto(`${h.url}/#/explorer/governance`);
    await ex
      .getByRole('link', { name: new RegExp(`^${id.slice(0, 10)}`) })
      .first()
      .waitFor();
    await con.close();
    await ex.close();
    done();
  },
};

export const ALL: Journey[] = [lists, vote];
