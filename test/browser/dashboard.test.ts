/**
 * The dashboard in a real Chromium against real processes (three
 * coordinators, three data nodes): it loads from every replica and shows the
 * same leader; a SIGSTOPped node turns suspect, then unhealthy, on the page
 * within the detection bound; a SIGKILLed leader is reported at once by the
 * page it served (with links to the other replicas) and replaced by the new
 * leader on a page served by a survivor. One accessibility check with
 * axe-core. A screenshot of each state goes to test-results/browser/.
 */
import axe from 'axe-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { now, useClusters, waitFor, type Cluster } from '../support/cluster-harness.js';
import { chromiumPath, launchBrowser, NO_BROWSER_NOTICE, screenshot } from '../support/browser.js';
import { startPlacedCluster } from '../support/placed-cluster.js';

const executable = chromiumPath();
if (executable === undefined) console.warn(`\n*** ${NO_BROWSER_NOTICE} ***\n`);

const clusters = useClusters();

/** Health settings of the test cluster: a lease long enough that `suspect` lasts a few page refreshes before the decision. */
const HEALTH = { probeIntervalMs: 250, probeTimeoutMs: 200, failureThreshold: 3, leaseMs: 3_000 };
const PAGE_REFRESH_MS = 1_000;
/** Failing probes, plus one page refresh, plus slack for a loaded machine. */
const SUSPECT_BOUND_MS = HEALTH.failureThreshold * (HEALTH.probeIntervalMs + HEALTH.probeTimeoutMs) + PAGE_REFRESH_MS + 8_000;
/** Then the lease runs out and a majority confirms: one lease more, plus the confirmation round and slack. */
const UNHEALTHY_BOUND_MS = SUSPECT_BOUND_MS + HEALTH.leaseMs + 8_000;

function startCluster(name: string): Promise<Cluster> {
  return startPlacedCluster(clusters.create, { name, nodes: 3, shards: 8, replicationFactor: 2, settings: { health: HEALTH } });
}

const uiUrl = (h: Cluster, id: string): string => {
  const m = h.member(id);
  return `http://${m.host}:${m.apiPort}/ui/`;
};

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent({ timeout: 1_000 })) ?? '').trim();
}

/** Polls the page (not the API) until `selector` shows `expected`; answers how long it took. */
async function waitForText(page: Page, what: string, selector: string, expected: (t: string) => boolean, timeoutMs: number): Promise<number> {
  const start = now();
  let last = '';
  await waitFor(
    what,
    async () => {
      last = await text(page, selector).catch(() => '');
      return expected(last) ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, describe: () => `the page shows ${JSON.stringify(last)}` },
  );
  return now() - start;
}

/**
 * The page's globals as the callbacks given to page.evaluate see them. This
 * file is compiled without the DOM library, which would change the types of
 * Node's own fetch for the whole program.
 */
interface PageElement {
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
  readonly outerHTML: string;
  readonly labels?: ArrayLike<{ readonly textContent: string | null }> | null;
}
declare const window: object;
declare const document: { querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement> };

/** axe-core's WCAG 2.1 A/AA rules (labels, names, contrast, structure) on the page as it is now: the violations, in words. */
async function accessibilityViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axe.source);
  return page.evaluate(async () => {
    const w = window as unknown as { axe: typeof axe };
    const r = await w.axe.run(document as never, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}× e.g. ${v.nodes[0]?.html ?? ''})`);
  });
}

async function leaderOf(h: Cluster): Promise<string> {
  return (await h.waitForLeader({ all: true })).id;
}

describe.skipIf(executable === undefined)('the dashboard in Chromium (real processes)', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser(executable!);
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function openPage(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      // Expected: a dead replica refuses connections.
      const expected = m.text().includes('net::ERR_CONNECTION_REFUSED');
      if (m.type() === 'error' && !expected) problems.push(`console: ${m.text()} (${m.location().url})`);
    });
    Object.assign(page, { problems });
    await page.goto(url);
    return page;
  }
  const problemsOf = (page: Page): string[] => (page as Page & { problems: string[] }).problems;

  test('loads from each replica, names the same leader everywhere, and passes an accessibility check', async () => {
    const h = await startCluster('ui-load');
    const leader = await leaderOf(h);
    for (const id of h.voters) {
      const page = await openPage(uiUrl(h, id));
      await waitForText(page, `the page from ${id} names the leader`, '[data-testid=leader]', (t) => t === leader, 15_000);
      expect(await text(page, '[data-testid=served-by]')).toBe(id);
      await waitForText(page, `the page from ${id} is live`, '[data-testid=live]', (t) => t === 'live', 15_000);
      // Waited for, not read once: on a loaded machine a stale `cluster.info` whose side quorum check (300 ms) runs out says red for a refresh.
      await waitForText(page, `the page from ${id} green`, '[data-testid=cluster-colour]', (t) => t === 'green', 10_000);
      for (const n of h.nodes) await waitForText(page, `${n.id} healthy on the page`, `[data-testid=node-${n.id}] [data-field=status]`, (t) => t === 'healthy', 10_000);
      // Each node's lease, as the node reports it: held, from the leader.
      for (const n of h.nodes) await waitForText(page, `${n.id}'s lease on the page`, `[data-testid=node-${n.id}] [data-field=lease]`, (t) => t.endsWith(`ms from ${leader}`), 10_000);
      // The shard map: every shard has one primary and one in-sync replica.
      for (let s = 0; s < 8; s++) {
        const cells = await page.locator(`[data-testid=shard-${s}] td[data-node]`).allTextContents();
        expect(cells.map((c) => c.trim()).filter((c) => c !== '').sort(), `shard ${s}`).toEqual(['P', 'R']);
      }
      // Events arrive over the stream: a label change made now shows up on the page.
      const marker = `ui-${id}-${Date.now()}`;
      expect((await h.request(id, 'PUT', '/nodes/n1/labels', { labels: { zone: marker } })).status).toBe(200);
      await waitForText(page, 'the label event on the page', '[data-testid=events] tbody', (t) => t.includes(marker), 10_000);
      await screenshot(page, `loaded-from-${id}`);
      expect(problemsOf(page)).toEqual([]);
      await page.close();
    }

    // Accessibility: axe-core's WCAG 2.1 A/AA rules (labels, names, contrast, structure) on the full page, and a dialog.
    const page = await openPage(uiUrl(h, leader));
    await waitForText(page, 'the page is live', '[data-testid=live]', (t) => t === 'live', 15_000);
    const audit = (): Promise<string[]> => accessibilityViolations(page);
    expect(await audit()).toEqual([]);
    // Every control says what it is, whatever axe counts as a control.
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button, input, select, a[href]')]
        .filter((el) => {
          const labelled = el.labels?.length ? Array.from(el.labels).map((l) => l.textContent).join('') : '';
          return ((el.getAttribute('aria-label') ?? '') + labelled + (el.textContent ?? '')).trim() === '';
        })
        .map((el) => el.outerHTML),
    );
    expect(unnamed).toEqual([]);
    expect(await page.locator('button, input, select').count()).toBeGreaterThan(10);
    await page.getByRole('button', { name: 'Drain n2' }).click();
    // The planner's dry run: the moves that take every copy off n2, and the counts after (n2 holding none).
    await waitForText(page, 'the confirmation with its dry run', '[data-testid=plan]', (t) => t.includes('After:'), 15_000);
    const plan = await text(page, '[data-testid=plan]');
    expect(plan).toMatch(/^\d+\. shard \d+: \w+/m);
    expect(plan).not.toMatch(/^n2: [1-9]\d* copies/m);
    await screenshot(page, 'confirm-drain');
    expect(await audit()).toEqual([]);
    await page.getByRole('button', { name: 'Cancel' }).click();

    // An action end to end: leadership handed to another replica from the page, after its confirmation.
    const next = h.voters.find((id) => id !== leader)!;
    await page.getByRole('button', { name: `Make leader: ${next}` }).click();
    await waitForText(page, 'the transfer confirmation', '[data-testid=plan]', (t) => t === 'This action moves no shard.', 10_000);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await waitForText(page, 'the transfer done', '[data-testid=action-result]', (t) => t === 'Done.', 30_000);
    await waitForText(page, `${next} named leader on the page`, '[data-testid=leader]', (t) => t === next, 15_000);
    await screenshot(page, 'leader-transferred');
    await page.getByRole('button', { name: 'Close' }).click();
    expect((await h.waitForLeader({ all: true })).id).toBe(next);
    expect(problemsOf(page)).toEqual([]);
  });

  test('a SIGSTOPped node turns suspect, then unhealthy, on the page within the detection bound', async () => {
    const h = await startCluster('ui-sigstop');
    const leader = await leaderOf(h);
    // A follower's page: it shows the leader's health monitor's view (suspect is leader-local).
    const follower = h.voters.find((id) => id !== leader)!;
    const page = await openPage(uiUrl(h, follower));
    const status = '[data-testid=node-n2] [data-field=status]';
    await waitForText(page, 'n2 healthy on the page', status, (t) => t === 'healthy', 15_000);
    await screenshot(page, 'sigstop-0-before');

    h.pause('n2');
    const stoppedAt = now();
    await waitForText(page, 'n2 suspect on the page', status, (t) => t === 'suspect', SUSPECT_BOUND_MS);
    const suspectMs = now() - stoppedAt;
    await screenshot(page, 'sigstop-1-suspect');
    await waitForText(page, 'n2 unhealthy on the page', status, (t) => t === 'unhealthy', UNHEALTHY_BOUND_MS);
    const unhealthyMs = now() - stoppedAt;
    await screenshot(page, 'sigstop-2-unhealthy');
    expect(await text(page, '[data-testid=node-n2] [data-field=lease]')).toMatch(/^no answer/);
    console.log(`dashboard: n2 SIGSTOP → suspect on the page after ${Math.round(suspectMs)} ms, unhealthy after ${Math.round(unhealthyMs)} ms (bounds ${SUSPECT_BOUND_MS}, ${UNHEALTHY_BOUND_MS} ms)`);
    expect(unhealthyMs).toBeGreaterThan(suspectMs);
    // The colour and its reasons follow, and the failover is in the event list.
    await waitForText(page, 'the cluster not green', '[data-testid=cluster-colour]', (t) => t === 'yellow' || t === 'red', 10_000);
    await waitForText(page, 'n2 among the reasons', '[data-testid=reasons]', (t) => t.includes('n2'), 10_000);
    await waitForText(page, 'the failure decision in the events', '[data-testid=events] tbody', (t) => t.includes('n2') && t.includes('unhealthy'), 10_000);
    await page.fill('[data-testid=event-filter]', 'n2');
    const filtered = await page.locator('[data-testid=events] tbody tr').allTextContents();
    expect(filtered.length).toBeGreaterThan(0);
    for (const row of filtered) expect(row).toContain('n2');
    await screenshot(page, 'sigstop-3-events-filtered');
    // The colours of a sick cluster (red and yellow badges, the shard map's out-of-sync cells) keep their contrast too.
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problemsOf(page)).toEqual([]);
  });

  test('a SIGKILLed leader: its page says so at once and links the other replicas; a survivor’s page shows the new leader', async () => {
    const h = await startCluster('ui-leader-kill');
    const old = await leaderOf(h);
    const survivor = h.voters.find((id) => id !== old)!;
    const onLeader = await openPage(uiUrl(h, old));
    const onSurvivor = await openPage(uiUrl(h, survivor));
    for (const page of [onLeader, onSurvivor]) {
      await waitForText(page, 'the page names the leader', '[data-testid=leader]', (t) => t === old, 15_000);
      await waitForText(page, 'the page is live', '[data-testid=live]', (t) => t === 'live', 15_000);
    }
    await screenshot(onSurvivor, 'leader-kill-0-before');

    await h.kill(old, 'SIGKILL');
    const killedAt = now();
    // The event stream breaks with the process: the page says so without waiting for a refresh timeout.
    await onLeader.locator('[data-testid=down-banner]').waitFor({ timeout: 5_000 });
    const bannerMs = now() - killedAt;
    const links = await onLeader.locator('[data-testid=other-replica]').evaluateAll((as) => as.map((a) => (a as unknown as { href: string }).href));
    expect(links.sort()).toEqual(h.voters.filter((id) => id !== old).map((id) => uiUrl(h, id)).sort());
    expect(await text(onLeader, '[data-testid=down-banner]')).toContain(old);
    await screenshot(onLeader, 'leader-kill-1-dead-replica-page');

    const newLeader = await waitForText(onSurvivor, 'a new leader on the survivor’s page', '[data-testid=leader]', (t) => t !== old && t !== 'none' && t !== '', 20_000).then(() =>
      text(onSurvivor, '[data-testid=leader]'),
    );
    const shownMs = now() - killedAt;
    expect(h.voters).toContain(newLeader);
    expect((await h.waitForLeader({ exclude: [old] })).id).toBe(newLeader);
    await waitForText(onSurvivor, `${old} down in the replica table`, `[data-testid=replica-${old}] [data-field=role]`, (t) => t !== 'leader', 10_000);
    await screenshot(onSurvivor, 'leader-kill-2-new-leader');
    console.log(`dashboard: leader ${old} SIGKILL → banner on its page after ${Math.round(bannerMs)} ms; new leader ${newLeader} on ${survivor}'s page after ${Math.round(shownMs)} ms`);
    expect(problemsOf(onSurvivor)).toEqual([]);
  });
});

if (executable === undefined) {
  describe('the dashboard in Chromium', () => {
    test.skip(NO_BROWSER_NOTICE, () => undefined);
  });
}
