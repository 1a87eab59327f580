// A free TCP port for a one-machine launch's rendezvous (torchrun --standalone's choice): `insight train --nproc N`
// must not collide with another job on torchrun's fixed 29500.
import * as net from 'node:net';

/** A port free on 127.0.0.1 right now (the OS picks it). */
export async function freeLocalPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
