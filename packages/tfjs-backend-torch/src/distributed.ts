// A process group over libtorch's c10d Gloo (what PyTorch DDP runs on CPUs): a TCPStore rendezvous hosted by rank 0
// and collectives on native tensors. Every collective returns new tensors (its inputs are copied, never written), runs
// on Gloo's threads and settles its promise on the JS thread; all ranks must issue collectives in the same order.
import * as dgram from 'node:dgram';
import * as net from 'node:net';

import * as tf from '@tensorflow/tfjs-core';

import { ScalarType } from './aten';
import type { GroupHandle, Handle, NativeGroupOptions, TorchBinding } from './binding';
import { requireBinding } from './binding';
import type { TorchBackend } from './backend';

export type ReduceOp = 'sum' | 'avg' | 'max' | 'min';

export interface ProcessGroupOptions {
  /** Where rank 0 hosts the rendezvous store (torchrun's MASTER_ADDR / MASTER_PORT). */
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  /** Rendezvous and collective timeout in ms (default 300,000). */
  timeoutMs?: number;
  /** Network interface Gloo binds to (default: $GLOO_SOCKET_IFNAME; else loopback for a loopback master, else this host's name). */
  ifname?: string;
}

export const DEFAULT_TIMEOUT_MS = 300_000;
const LOOPBACK = /^(127\.|localhost$|::1$)/;

/** Checks one integer option; the message says the rule, what was given and the fix. */
function checkInteger(name: string, value: number, min: number, max: number, fix: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}. Received: ${name}=${value}. ${fix}`);
  }
}

/**
 * The address of this machine that packets to the master leave from (a connected UDP socket sends nothing): Gloo
 * binds there, so peers reach it. Without it Gloo takes the address of this machine's host name, which Debian maps
 * to 127.0.1.1. Undefined when the route cannot be found (Gloo's default then applies, and the rendezvous says why).
 */
async function localAddressToward(masterAddr: string, masterPort: number): Promise<string | undefined> {
  const socket = dgram.createSocket(net.isIPv6(masterAddr) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(masterPort, masterAddr, () => resolve());
    });
    return socket.address().address;
  } catch {
    return undefined;
  } finally {
    socket.close();
  }
}

export class ProcessGroup {
  private closed = false;

  private constructor(private readonly native: TorchBinding, private readonly group: GroupHandle,
    readonly rank: number, readonly worldSize: number) {}

  /** Joins the group; resolves when every rank has joined (rank 0 hosts the store). */
  static async init(options: ProcessGroupOptions): Promise<ProcessGroup> {
    const native = requireBinding();
    if (!native.distAvailable) await native.distInit({} as NativeGroupOptions);  // throws: built without Gloo, and how to fix
    const { masterAddr, masterPort, rank, worldSize } = options;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    checkInteger('worldSize', worldSize, 1, 65536, 'Set WORLD_SIZE to the number of processes in the group.');
    checkInteger('rank', rank, 0, worldSize - 1, 'Ranks count from 0 to WORLD_SIZE - 1.');
    checkInteger('masterPort', masterPort, 1, 65535, 'Set MASTER_PORT to a free TCP port on the master (29500 by default).');
    checkInteger('timeoutMs', timeoutMs, 1, 2 ** 31 - 1, 'Give the timeout in milliseconds.');
    if (typeof masterAddr !== 'string' || masterAddr === '') {
      throw new TypeError(`masterAddr must name the host of rank 0. Received: masterAddr=${JSON.stringify(masterAddr)}. Set MASTER_ADDR.`);
    }
    const ifname = options.ifname ?? (process.env.GLOO_SOCKET_IFNAME || undefined);
    const hostname = ifname !== undefined ? undefined : LOOPBACK.test(masterAddr) ? '127.0.0.1' : await localAddressToward(masterAddr, masterPort);
    const group = await native.distInit({ host: masterAddr, port: masterPort, rank, worldSize, timeoutMs, ifname, hostname });
    return new ProcessGroup(native, group, rank, worldSize);
  }

  /** Joins the group torchrun's environment describes: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE (+ GLOO_SOCKET_IFNAME). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, timeoutMs?: number): Promise<ProcessGroup> {
    const missing = ['MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE'].filter((k) => !env[k]);
    if (missing.length > 0) {
      throw new Error(`A process group needs torchrun's variables MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE. ` +
        `Received: ${missing.map((k) => `${k} unset`).join(', ')}. Start the processes with insight launch, or set them.`);
    }
    const integer = (name: string) => {
      const text = env[name]!;
      if (!/^\d+$/.test(text)) {
        throw new RangeError(`${name} must be a whole number written in digits. Received: ${name}=${JSON.stringify(text)}. Set it as torchrun does, e.g. ${name}=0.`);
      }
      return Number(text);
    };
    return ProcessGroup.init({
      masterAddr: env.MASTER_ADDR!, masterPort: integer('MASTER_PORT'), rank: integer('RANK'),
      worldSize: integer('WORLD_SIZE'), timeoutMs, ifname: env.GLOO_SOCKET_IFNAME || undefined,
    });
  }

  /** Each tensor reduced over every rank (op 'avg': the sum divided by the world size). */
  async allreduce(tensors: tf.Tensor[], op: ReduceOp = 'sum'): Promise<tf.Tensor[]> {
    return this.wrapAll(await this.run(() => this.native.distAllreduce(this.group, tensors.map((t) => this.handleOf(t)), op)));
  }

  /** Rank `root`'s values of each tensor, on every rank. */
  async broadcast(tensors: tf.Tensor[], root: number): Promise<tf.Tensor[]> {
    checkInteger('root', root, 0, this.worldSize - 1, 'Name a rank of this group.');
    return this.wrapAll(await this.run(() => this.native.distBroadcast(this.group, tensors.map((t) => this.handleOf(t)), root)));
  }

  /** Every rank's tensor (same shape and dtype everywhere), in rank order. */
  async allgather(tensor: tf.Tensor): Promise<tf.Tensor[]> {
    return this.wrapAll(await this.run(() => this.native.distAllgather(this.group, this.handleOf(tensor))));
  }

  async barrier(): Promise<void> {
    await this.run(() => this.native.distBarrier(this.group));
  }

  /** Sends a copy of `tensor` to rank `dst`; the matching recv names this rank and the same tag. */
  async send(tensor: tf.Tensor, dst: number, tag = 0): Promise<void> {
    this.checkPeer('dst', dst);
    await this.run(() => this.native.distSend(this.group, this.handleOf(tensor), dst, tag));
  }

  /**
   * Receives a tensor of this shape and dtype from rank `src`. Its byte size must equal what that rank sends with the
   * same tag: Gloo ends the process on a mismatch (as in PyTorch), so agree on shapes first (e.g. send the shape).
   */
  async recv(shape: number[], dtype: 'float32' | 'int32', src: number, tag = 0): Promise<tf.Tensor> {
    this.checkPeer('src', src);
    const h = await this.run(() => this.native.distRecv(this.group, shape, ScalarType[dtype], src, tag));
    return this.wrap(h);
  }

  /** Leaves the group (idempotent); later collectives throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.distClose(this.group);
  }

  private checkPeer(name: string, rank: number): void {
    checkInteger(name, rank, 0, this.worldSize - 1, 'Name a rank of this group.');
    if (rank === this.rank) throw new RangeError(`${name} must be another rank. Received: ${name}=${rank} (this rank). Name a peer.`);
  }

  /** Starts native work; a synchronous throw (closed group, bad argument) becomes a rejection. */
  private async run<T>(start: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`This process group (rank ${this.rank} of ${this.worldSize}) is closed. Create a new one with ProcessGroup.init().`);
    return start();
  }

  private torch(): TorchBackend {
    const backend = tf.backend() as TorchBackend;
    if (tf.getBackend() !== 'torch') {
      throw new Error(`Collectives run on the torch backend. Received: backend=${tf.getBackend()}. Call tf.setBackend('torch') first.`);
    }
    return backend;
  }

  private handleOf(t: tf.Tensor): Handle {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new TypeError(`Collectives take float32 or int32 tensors. Received: dtype=${t.dtype}. Cast it first.`);
    }
    return this.torch().handle({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
  }

  private wrap(h: Handle): tf.Tensor {
    return tf.engine().makeTensorFromTensorInfo(this.torch().makeOutput(h));
  }

  private wrapAll(hs: Handle[]): tf.Tensor[] {
    return hs.map((h) => this.wrap(h));
  }
}
