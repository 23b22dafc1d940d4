/**
 * Which member opened each recovery session (with TLS): the pages of a
 * shard's copy go only to the certificate that began it. Bounded: the
 * oldest sessions are forgotten first, and a forgotten one is refused —
 * the replica begins again — rather than served to anyone.
 */
export const MAX_REMEMBERED_RECOVERIES = 4_096;

export class RecoveryOpeners {
  private readonly openers = new Map<string, string>();

  constructor(private readonly max = MAX_REMEMBERED_RECOVERIES) {}

  opened(recoveryId: string, memberId: string): void {
    this.openers.delete(recoveryId);
    this.openers.set(recoveryId, memberId);
    if (this.openers.size > this.max) this.openers.delete(this.openers.keys().next().value!);
  }

  openerOf(recoveryId: string): string | undefined {
    return this.openers.get(recoveryId);
  }
}
