/**
 * The operator files of deploy/ against a real cluster: every metric that
 * the Prometheus alerts and the Grafana dashboard use is served by the
 * processes that the rules scrape (three coordinators and three data
 * nodes, real processes, their `GET /metrics`), and the rules pass
 * `promtool check rules` where promtool is installed (Debian's `prometheus`
 * package; skipped with a notice otherwise).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT, useClusters, waitFor } from '../support/cluster-harness.js';

const clusters = useClusters();
const ALERTS = path.join(REPO_ROOT, 'deploy/prometheus/alerts.yml');
const GRAFANA = path.join(REPO_ROOT, 'deploy/grafana/torua.json');

/** Names of our metric families in a PromQL expression (Prometheus' own, like `up`, are not ours to check). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:torua|nodejs|process)_[a-z0-9_]+)\b/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''));
}

/** The `expr:` of every rule, and the job each one selects (`job="…"`), from the rule file's text. */
function alertExprs(): { alert: string; expr: string }[] {
  const text = fs.readFileSync(ALERTS, 'utf8');
  const rules = [...text.matchAll(/- alert: (\S+)\n\s+expr: (.+)\n/g)].map((m) => ({ alert: m[1]!, expr: m[2]! }));
  // Every rule has its expression on the line after its name: a rule written otherwise would escape this test.
  expect(rules.length).toBe([...text.matchAll(/- alert: /g)].length);
  return rules;
}

function grafanaExprs(): string[] {
  const dash = JSON.parse(fs.readFileSync(GRAFANA, 'utf8')) as { panels: { type: string; title: string; targets?: { expr: string }[] }[] };
  const panels = dash.panels.filter((p) => p.type !== 'row');
  for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
  return panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

/** `# TYPE name kind` lines: the families a scrape declares (a family is declared before its first sample). */
function families(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
}

const promtool = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('deploy/: alerts and dashboard over a real cluster’s metrics', () => {
  test('every metric the alerts and the Grafana dashboard use is served by the jobs they scrape', async () => {
    const h = await clusters.create({ name: 'ops-assets', nodes: 3 });
    await h.startVoters();
    await h.waitForLeader({ all: true });
    await Promise.all(h.nodes.map((n) => h.start(n.id)));
    const coordinatorFamilies = new Set<string>();
    for (const id of h.voters) {
      const scrape = await waitFor(`${id}'s /metrics`, async () => {
        const a = await h.get(id, '/metrics');
        return a.status === 200 && typeof a.body === 'string' ? a.body : undefined;
      });
      for (const f of families(scrape)) coordinatorFamilies.add(f);
    }
    const nodeFamilies = new Set<string>();
    for (const n of h.nodes) {
      const res = await fetch(`http://${n.host}:${n.port}/metrics`);
      expect(res.status).toBe(200);
      for (const f of families(await res.text())) nodeFamilies.add(f);
    }

    const missing: string[] = [];
    const alerts = alertExprs();
    expect(alerts.map((a) => a.alert)).toEqual(expect.arrayContaining(['ToruaNoLeader', 'ToruaLeaderFlapping', 'ToruaNodesUnhealthy', 'ToruaShardsUnderReplicated', 'ToruaStormGuard']));
    for (const { alert, expr } of alerts) {
      const scraped = expr.includes('job="torua-node"') ? nodeFamilies : coordinatorFamilies;
      for (const name of metricNames(expr)) if (!scraped.has(name)) missing.push(`alert ${alert}: ${name}`);
    }
    const exprs = grafanaExprs();
    expect(exprs.length).toBeGreaterThan(15);
    for (const expr of exprs) {
      const scraped = expr.includes('job="torua-coordinator"') ? coordinatorFamilies : new Set([...coordinatorFamilies, ...nodeFamilies]);
      const names = metricNames(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) if (!scraped.has(name)) missing.push(`grafana: ${name} in ${expr}`);
    }
    expect(missing).toEqual([]);
  });

  test.skipIf(!promtool)('promtool accepts the rules and the scrape configuration', () => {
    const out = execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
    const config = execFileSync('promtool', ['check', 'config', path.join(REPO_ROOT, 'deploy/prometheus/prometheus.yml')], { encoding: 'utf8' });
    expect(config).toMatch(/is valid prometheus config file/);
  });
  if (!promtool) console.warn('\n*** ops-assets: `promtool check rules` SKIPPED: promtool is not installed (Debian package `prometheus`) ***\n');
});
