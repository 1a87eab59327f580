// A write stream that keeps what is written: the `out` of commands and library calls under test.
export function sink(): NodeJS.WriteStream & { text: string } {
  const stream = { text: '', isTTY: false, columns: 100, write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}
