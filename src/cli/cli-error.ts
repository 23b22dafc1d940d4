/** A command's failure with its exit code: 2 for bad usage (as run.ts), 1 for a cluster that did not do it. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

export const usage = (message: string): CliError => new CliError(message, 2);
