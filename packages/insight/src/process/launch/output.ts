// A worker's output relayed line by line: other ranks' lines prefixed with their rank (`[rank 1] ...`), rank 0's
// as they are (its progress lines are the run's output, as with one process); the last line kept, to say why a
// worker failed.
export interface LineRelay {
  /** The last non-empty line seen, without its prefix. */
  lastLine(): string | null;
  /** Resolves once the stream has ended and its last line is written. */
  readonly ended: Promise<void>;
}

/** Copies `stream` to `to`, each line prefixed with `prefix`. */
export function relayLines(stream: NodeJS.ReadableStream, to: NodeJS.WritableStream, prefix: string): LineRelay {
  let pending = '';
  let last: string | null = null;
  const write = (line: string) => {
    const shown = line.split('\r').pop() ?? ''; // what a terminal shows of a redrawn line
    if (shown.trim() !== '') last = shown;
    to.write(`${prefix}${line}\n`);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    // A progress bar redraws its line with \r: that stays one line of the relayed output.
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) write(line);
  });
  const ended = new Promise<void>((resolve) => {
    const finish = () => {
      if (pending !== '') write(pending);
      pending = '';
      resolve();
    };
    stream.on('end', finish);
    stream.on('close', finish);
  });
  return { lastLine: () => last, ended };
}
