/** Whether this machine lets a server listen on `host` (loopback aliases need no setup on Linux, elsewhere they may). */
import net from 'node:net';

export async function canBind(host: string): Promise<boolean> {
  const s = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, host, resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()));
  }
}
