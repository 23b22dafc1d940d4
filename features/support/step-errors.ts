/**
 * What every feature file does when a step fails: say which, then print
 * what each process of the scenario's cluster said last (the harness keeps
 * its log lines), so a failure on CI can be read without rerunning it.
 */
import { getVitestCucumberConfiguration, setVitestCucumberConfiguration } from '@amiceli/vitest-cucumber';

export function printDiagnosticsOnStepError(cluster: () => { diagnostics(): string } | undefined): void {
  setVitestCucumberConfiguration({
    ...getVitestCucumberConfiguration(),
    onStepError: ({ error }) => {
      console.error(`step failed: ${error.message}`);
      const c = cluster();
      if (c) console.error(c.diagnostics());
    },
  });
}
