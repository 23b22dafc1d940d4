/** Whether the ports a cluster file asks for are free, checked before anything starts. */
import net from 'node:net';

function canListen(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

export interface PortNeed {
  readonly what: string;
  readonly host: string;
  readonly port: number;
}

/** One line per port that cannot be bound, e.g. `127.0.0.1:7001 (c1 apiPort): address in use`. */
export async function busyPorts(needs: readonly PortNeed[]): Promise<string[]> {
  const results = await Promise.all(needs.map(async (n) => ({ n, err: await canListen(n.host, n.port) })));
  return results
    .filter((r) => r.err !== undefined)
    .map(({ n, err }) => `${n.host}:${n.port} (${n.what}): ${err?.code === 'EADDRINUSE' ? 'address in use' : (err?.code ?? err?.message)}`);
}
