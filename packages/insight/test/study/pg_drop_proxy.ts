// A TCP proxy between a PostgreSQL client and the test server that can lose the server's answer to one chosen
// message: armed with a predicate on the client's messages (type and SQL text), it passes the first matching message
// on to the server, withholds everything the server answers until that answer's ReadyForQuery ('Z': the server has
// finished it — a COMMIT committed, an autocommit statement committed), then cuts both sides. The client sees its
// connection drop with the work done and unacknowledged, deterministically: a lost COMMIT acknowledgement.
//
// Wire format (PostgreSQL protocol 3): after the untyped startup packet (and an SSLRequest, answered by one byte,
// before it), every message is a type byte, an int32 length counting itself, then the body. A simple query 'Q' holds
// its SQL text; an extended query's Parse 'P' holds the statement name, then the SQL text. A client sends its next
// query only after the previous answer's ReadyForQuery, so when it sends one the server's stream is at a message
// boundary: the withheld answer is parsed from there.
import * as net from 'node:net';

export type MessageMatch = (type: string, sql: string) => boolean;

export interface DropProxy {
  port: number;
  /** Connections cut after a withheld answer so far. */
  readonly drops: number;
  /** Arms the proxy for the next client message `match` accepts (on any connection); `drops` counts the cut. */
  dropAnswerTo(match: MessageMatch): void;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** The SQL text of a 'Q' or 'P' message body, else ''. */
function sqlOf(type: string, body: Buffer): string {
  if (type === 'Q') return body.toString('utf8', 0, body.indexOf(0));
  if (type === 'P') {
    const nameEnd = body.indexOf(0);
    return body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1));
  }
  return '';
}

/** Starts a proxy on a free loopback port to the server on `serverPort`. */
export async function startDropProxy(serverPort: number): Promise<DropProxy> {
  let armed: MessageMatch | null = null;
  let drops = 0;
  const sockets = new Set<net.Socket>();

  const proxy = net.createServer((client) => {
    const server = net.connect(serverPort, '127.0.0.1');
    sockets.add(client).add(server);
    const cut = () => {
      client.destroy();
      server.destroy();
    };
    client.on('close', () => server.destroy()).on('error', cut);
    server.on('close', () => client.destroy()).on('error', cut);

    let startup = true; // the next client message is untyped (startup, SSLRequest or GSSENCRequest)
    let fromClient = Buffer.alloc(0);
    let withholding = false; // set once a matched message went to the server
    let fromServer = Buffer.alloc(0);

    client.on('data', (chunk: Buffer) => {
      fromClient = Buffer.concat([fromClient, chunk]);
      for (;;) { // whole messages only; a partial one waits for its next chunk
        if (startup) {
          if (fromClient.length < 8) break;
          const length = fromClient.readInt32BE(0);
          if (fromClient.length < length) break;
          const code = fromClient.readInt32BE(4);
          startup = code === SSL_REQUEST || code === GSSENC_REQUEST; // refused by the test server: the startup follows
          fromClient = fromClient.subarray(length);
          continue;
        }
        if (fromClient.length < 5) break;
        const length = fromClient.readInt32BE(1);
        if (fromClient.length < 1 + length) break;
        const type = String.fromCharCode(fromClient[0]);
        if (armed !== null && !withholding && armed(type, sqlOf(type, fromClient.subarray(5, 1 + length)))) {
          withholding = true;
          armed = null;
        }
        fromClient = fromClient.subarray(1 + length);
      }
      server.write(chunk);
    });

    server.on('data', (chunk: Buffer) => {
      if (!withholding) {
        client.write(chunk);
        return;
      }
      fromServer = Buffer.concat([fromServer, chunk]);
      while (fromServer.length >= 5) {
        const type = String.fromCharCode(fromServer[0]);
        const length = fromServer.readInt32BE(1);
        if (fromServer.length < 1 + length) break;
        fromServer = fromServer.subarray(1 + length);
        if (type === 'Z') {
          drops += 1;
          cut();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    get drops() {
      return drops;
    },
    dropAnswerTo: (match) => {
      armed = match;
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      proxy.close(() => resolve());
    }),
  };
}
